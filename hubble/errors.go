package hubble

import "errors"

// ErrNotFlow is wrapped by the error of a line that is no GetFlowsResponse.
var ErrNotFlow = errors.New("not a Hubble GetFlowsResponse")
