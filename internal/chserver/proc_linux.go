package chserver

import "syscall"

// dieWithParent has the kernel kill the server when the test process
// that started it dies, so that no server outlives a killed test.
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
