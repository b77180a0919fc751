package client

import "errors"

// ErrUnauthorized says the aggregator refused the client's credentials
// (401). Check it with errors.Is.
var ErrUnauthorized = errors.New("unauthorized")
