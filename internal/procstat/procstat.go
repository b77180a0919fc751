// Package procstat reads this process's CPU time and peak memory from
// /proc, for the benchmarks' figures. On systems without /proc each
// function reports false.
package procstat

import (
	"bytes"
	"os"
	"strconv"
	"time"
)

// ResetPeakRSS resets the kernel's record of the process's peak resident
// set (Linux 4.0 and later); it reports false where that is not possible.
func ResetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// CPUTime returns the CPU time, user and system, the process has used, in
// ticks of 10 ms: on a shared machine the wall clock also counts other
// processes.
func CPUTime() (time.Duration, bool) {
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, false
	}
	// The fields after the command name, which is in parentheses, start
	// with the state (field 3); utime and stime are fields 14 and 15.
	f := bytes.Fields(stat[bytes.LastIndexByte(stat, ')')+1:])
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseUint(string(f[11]), 10, 64)
	stime, err2 := strconv.ParseUint(string(f[12]), 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond, err1 == nil && err2 == nil
}

// PeakRSS returns the process's peak resident set since the last reset:
// everything it has touched, mapped files' pages included.
func PeakRSS() (uint64, bool) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for _, line := range bytes.Split(data, []byte("\n")) {
		if rest, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			kb, err := strconv.ParseUint(string(bytes.TrimSuffix(bytes.TrimSpace(rest), []byte(" kB"))), 10, 64)
			return kb << 10, err == nil
		}
	}
	return 0, false
}
