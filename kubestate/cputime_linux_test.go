package kubestate

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// OnThread runs f locked to one thread and returns the CPU time that
// thread spent: on a shared machine the wall clock also counts other
// processes, and the process's CPU time the informers' and the churn's.
func OnThread(f func()) (time.Duration, bool) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var t0, t1 unix.Timespec
	if unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &t0) != nil {
		f()
		return 0, false
	}
	f()
	if unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &t1) != nil {
		return 0, false
	}
	return time.Duration(t1.Nano() - t0.Nano()), true
}
