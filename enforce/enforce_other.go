//go:build !linux || !(386 || amd64 || arm64)

package enforce

import (
	"context"

	"github.com/flowpol/flowpol/rules"
)

// Enforcer applies rules; on this system it cannot.
type Enforcer struct{}

// New returns ErrNotSupported.
func New(Options) (*Enforcer, error) { return nil, ErrNotSupported }

// Update returns ErrNotSupported.
func (*Enforcer) Update(*rules.Tables) error { return ErrNotSupported }

// Run returns ErrNotSupported.
func (*Enforcer) Run(context.Context, func(Verdict)) error { return ErrNotSupported }

// Stats returns ErrNotSupported.
func (*Enforcer) Stats() (Stats, error) { return Stats{}, ErrNotSupported }

// Attached returns nothing.
func (*Enforcer) Attached() []string { return nil }

// Close does nothing.
func (*Enforcer) Close() error { return nil }

// Unpin returns ErrNotSupported.
func Unpin(string) error { return ErrNotSupported }
