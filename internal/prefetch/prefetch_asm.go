//go:build amd64 || arm64

package prefetch

import "unsafe"

// Range asks for the cache lines holding the n bytes at p to be fetched
// into every level of the cache. It returns at once, without waiting for
// them.
//
//go:noescape
func Range(p unsafe.Pointer, n uintptr)
