package boltdb

import "errors"

// Sentinel errors, wrapped with the file's name; check them with errors.Is.
var (
	ErrLocked      = errors.New("baseline is locked by another process")
	ErrSchema      = errors.New("unsupported baseline schema")
	ErrNotBaseline = errors.New("not a flowpol baseline")
	ErrCorrupt     = errors.New("corrupt baseline")
	ErrTruncated   = errors.New("truncated baseline")
	ErrReadOnly    = errors.New("baseline opened read-only")
	ErrBadCell     = errors.New("cell no bucket can hold")
)
