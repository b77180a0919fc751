package staged

import "errors"

// ErrState is a stored state that cannot be read.
var ErrState = errors.New("staged state unreadable")
