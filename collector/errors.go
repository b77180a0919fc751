package collector

import "errors"

// Sentinel errors, wrapped with context; check them with errors.Is.
var (
	// ErrNotSupported is returned where live capture cannot run: on
	// systems other than Linux on amd64, arm64 or 386 (the targets the eBPF
	// programs are built for).
	ErrNotSupported = errors.New("live capture is only supported on Linux (amd64, arm64, 386)")
	// ErrPermission is returned when the process lacks a capability
	// capture needs; the message names it.
	ErrPermission = errors.New("missing capability")
)
