package image

import "errors"

// ErrNoPlatforms is returned by Build when no platform is asked for.
var ErrNoPlatforms = errors.New("no platforms to build")
