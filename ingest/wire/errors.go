package wire

import (
	"errors"
	"fmt"
)

// Sentinel errors, wrapped with context; check them with errors.Is.
var (
	ErrMalformed = errors.New("malformed batch")
	ErrTooLarge  = errors.New("batch too large")
	// ErrTime says a record's time is one the batch cannot carry.
	ErrTime = errors.New("time no bucket can hold")
)

// BatchError locates what is wrong in a batch: the record (counted from
// 1; 0 for the header) and the field.
type BatchError struct {
	Record int
	Field  string
	Err    error
}

func (e *BatchError) Error() string {
	if e.Record == 0 {
		return fmt.Sprintf("batch header: field %s: %v", e.Field, e.Err)
	}
	return fmt.Sprintf("batch record %d: field %s: %v", e.Record, e.Field, e.Err)
}

func (e *BatchError) Unwrap() []error { return []error{ErrMalformed, e.Err} }
