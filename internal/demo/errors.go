package demo

import "errors"

var (
	// ErrNotSupported is returned where the demo cannot run: not on Linux.
	ErrNotSupported = errors.New("the demo needs Linux")
	// ErrUnexpected is returned when the enforced policies did not do
	// what the demo shows: learned traffic blocked, or unobserved traffic
	// let through.
	ErrUnexpected = errors.New("enforcement did not behave as learned")
)
