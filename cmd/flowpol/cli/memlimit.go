package cli

import (
	"errors"
	"fmt"
	"io"
	"runtime"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// memoryLimitRatio is the share of its container's memory limit a flowpol
// process gives the Go runtime as its soft limit: the rest is for what the
// cgroup counts and the runtime does not (the baseline file's mapped
// pages, eBPF maps, socket buffers).
const memoryLimitRatio = 0.9

// LimitMemory sets the Go runtime's soft memory limit to
// memoryLimitRatio of the memory limit of the cgroup the process runs in,
// a container's limit, unless GOMEMLIMIT is set. Near its container's
// limit a process then collects garbage more often instead of growing
// past it and being killed. A process without a limit keeps the runtime's
// default; a cgroup that cannot be read is reported on warn and changes
// nothing. It sets the whole process's limit, so only a program's main
// calls it, once, before running a command.
func LimitMemory(warn io.Writer) {
	if runtime.GOOS != "linux" {
		return
	}
	_, err := memlimit.Set(memlimit.WithProvider(memlimit.FromCgroup), memlimit.WithRatio(memoryLimitRatio))
	if err != nil && !errors.Is(err, memlimit.ErrNoCgroup) {
		fmt.Fprintf(warn, "warning: memory limit not set from the cgroup: %v\n", err)
	}
}
