package baseline

import "errors"

// Sentinel errors, wrapped with context; check them with errors.Is.
var (
	// ErrRetention is a retention that cannot be kept.
	ErrRetention = errors.New("bad retention")
)
