//go:build !amd64 && !arm64

package prefetch

import "unsafe"

// Range does nothing: on this architecture the hint is not given.
func Range(p unsafe.Pointer, n uintptr) {}
