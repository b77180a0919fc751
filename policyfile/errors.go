package policyfile

import (
	"errors"
	"fmt"
)

var (
	// ErrNotObject is a document that is not a mapping with apiVersion
	// and kind.
	ErrNotObject = errors.New("not a Kubernetes object (a mapping with apiVersion and kind)")
	// ErrUnknownKind is a kind that is neither a NetworkPolicy nor ignored.
	ErrUnknownKind = errors.New("neither a networking.k8s.io/v1 NetworkPolicy nor a kind listed as ignored")
	// ErrAPIVersion is a NetworkPolicy of an API version other than
	// networking.k8s.io/v1.
	ErrAPIVersion = errors.New("a NetworkPolicy must be networking.k8s.io/v1")
	// ErrInvalid is a NetworkPolicy the API server would refuse.
	ErrInvalid = errors.New("invalid")
	// ErrDuplicate is a policy defined twice.
	ErrDuplicate = errors.New("defined twice")
	// ErrNestedList is a List inside a List.
	ErrNestedList = errors.New("a List inside a List")
)

// Error is a problem with one document or object, where it is.
type Error struct {
	File string
	Line int // from 1; 0 when the file could not be read at all
	// Object names the object, "NetworkPolicy shop/api", when known.
	Object string
	Err    error
}

func (e *Error) Error() string {
	s := e.File
	if e.Line > 0 {
		s += fmt.Sprintf(":%d", e.Line)
	}
	if e.Object != "" {
		s += ": " + e.Object
	}
	return s + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }
