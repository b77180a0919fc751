//go:build !linux

package chserver

import "syscall"

// dieWithParent is nothing where the kernel cannot kill a child with its
// parent: a killed test may leave its server running.
func dieWithParent() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }
