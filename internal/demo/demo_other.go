//go:build !linux

package demo

import "context"

// Run returns ErrNotSupported: the demo needs Linux network namespaces,
// cgroup2 and eBPF.
func Run(context.Context, Options) error { return ErrNotSupported }
