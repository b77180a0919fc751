//go:build !linux

package kubestate

import "time"

// OnThread runs f; without a per-thread CPU clock it reports false.
func OnThread(f func()) (time.Duration, bool) {
	f()
	return 0, false
}
