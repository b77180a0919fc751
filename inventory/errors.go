package inventory

import (
	"errors"
	"fmt"
)

// Sentinel errors, wrapped with context; check them with errors.Is.
var (
	ErrNoKind      = errors.New("missing kind")
	ErrNoName      = errors.New("missing metadata.name")
	ErrNotObject   = errors.New("not an object")
	ErrNestedList  = errors.New("List inside a List")
	ErrBadIP       = errors.New("invalid IP address")
	ErrAfterDocEnd = errors.New(`content after the document end marker "..."`)
	// ErrTooLarge is an input larger than Options.MaxBytes.
	ErrTooLarge = errors.New("inventory too large")
	// ErrObjectTooLarge is an object, List item or line larger than
	// Options.MaxObjectBytes.
	ErrObjectTooLarge = errors.New("object too large")
)

// LineError locates a bad object: the file, the line its document starts on
// (for a YAML syntax error, the line the parser reports), and, when known, the
// List item and the object.
type LineError struct {
	File   string
	Line   int
	Item   string // "items[4]" for an item of a List, else ""
	Object string // "Pod shop/api-1", "Node n1" or "Pod", else ""
	Err    error
}

func (e *LineError) Error() string {
	switch {
	case e.Item != "" && e.Object != "":
		return fmt.Sprintf("%s:%d: %s (%s): %v", e.File, e.Line, e.Item, e.Object, e.Err)
	case e.Item != "" || e.Object != "":
		return fmt.Sprintf("%s:%d: %s%s: %v", e.File, e.Line, e.Item, e.Object, e.Err)
	}
	return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }

// syntaxError is a YAML parser error whose relative line number has been
// moved into the enclosing LineError.
type syntaxError struct {
	msg string
	err error
}

func (e *syntaxError) Error() string { return e.msg }

func (e *syntaxError) Unwrap() error { return e.err }
