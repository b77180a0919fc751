//go:build !linux || !(386 || amd64 || arm64)

package collector

import (
	"context"

	"github.com/flowpol/flowpol/flow"
)

// Collector captures flows; on this system it cannot.
type Collector struct{}

// New returns ErrNotSupported.
func New(Options) (*Collector, error) { return nil, ErrNotSupported }

// Run returns ErrNotSupported.
func (*Collector) Run(context.Context, func(*flow.Record) error) error { return ErrNotSupported }

// Flush returns ErrNotSupported.
func (*Collector) Flush(func(*flow.Record) error) error { return ErrNotSupported }

// Stats returns ErrNotSupported.
func (*Collector) Stats() (Stats, error) { return Stats{}, ErrNotSupported }

// Attached returns nothing.
func (*Collector) Attached() []string { return nil }

// Close does nothing.
func (*Collector) Close() error { return nil }

func defaultCgroupRoot() string { return "/sys/fs/cgroup" }
