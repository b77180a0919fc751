package collector

import "errors"

// Sentinel errors, wrapped with context; check them with errors.Is.
var (
	// ErrNotSupported is returned where live capture cannot run: on
	// systems other than Linux.
	ErrNotSupported = errors.New("live capture is only supported on Linux")
	// ErrPermission is returned when the process lacks a capability
	// capture needs; the message names it.
	ErrPermission = errors.New("missing capability")
)
