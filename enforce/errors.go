package enforce

import "errors"

// Sentinel errors, wrapped with context; check them with errors.Is.
var (
	// ErrNotSupported is returned where enforcement cannot run: on
	// systems other than Linux.
	ErrNotSupported = errors.New("enforcement is only supported on Linux")
	// ErrNoInterfaces is returned when there is nothing to attach to.
	ErrNoInterfaces = errors.New("no interfaces to attach to")
)
