package aggregator

import "errors"

// Sentinel errors, wrapped with context; check them with errors.Is.
var (
	ErrLocked      = errors.New("database is locked by another process")
	ErrSchema      = errors.New("unsupported database schema")
	ErrNotBaseline = errors.New("not a flowpol baseline")
	ErrCorrupt     = errors.New("corrupt database")
)
