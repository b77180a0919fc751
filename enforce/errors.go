package enforce

import "errors"

// Sentinel errors, wrapped with context; check them with errors.Is.
var (
	// ErrNotSupported is returned where enforcement cannot run: on
	// systems other than Linux on amd64, arm64 or 386 (the targets the eBPF
	// programs are built for).
	ErrNotSupported = errors.New("enforcement is only supported on Linux (amd64, arm64, 386)")
	// ErrNoInterfaces is returned when there is nothing to attach to.
	ErrNoInterfaces = errors.New("no interfaces to attach to")
)
