//go:build !linux

package chserver

import (
	"errors"
	"syscall"
	"time"
)

// dieWithParent is nothing where the kernel cannot kill a child with its
// parent: a killed test may leave its server running.
func dieWithParent() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }

// cpuTime is not known where there is no /proc.
func cpuTime(int) (time.Duration, error) {
	return 0, errors.New("the CPU time of a process is read from /proc, on Linux only")
}
