package flow

import (
	"errors"
	"fmt"
)

// Sentinel errors, wrapped with context; check them with errors.Is.
var (
	ErrBadProto    = errors.New("unknown protocol")
	ErrBadObserver = errors.New("unknown observer")
	ErrMalformed   = errors.New("malformed flow record")
	ErrTimeRange   = errors.New("time outside the years 1678 to 2261")
)

// LineError locates a malformed record: the file, the line and, where one
// field is at fault, its name.
type LineError struct {
	File  string
	Line  int
	Field string
	Err   error
}

func (e *LineError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s:%d: field %q: %v", e.File, e.Line, e.Field, e.Err)
}

func (e *LineError) Unwrap() []error { return []error{ErrMalformed, e.Err} }
