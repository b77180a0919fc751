//go:build linux

package cli_test

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// An aggregator started in a cgroup with a memory limit, as in a
// container, gives the Go runtime 90 % of it as its soft limit
// (go_gc_gomemlimit_bytes), unless GOMEMLIMIT says otherwise; started in
// a cgroup without one, it keeps the runtime's default.
func TestMemoryLimitFromCgroup(t *testing.T) {
	const limit = 300 << 20
	limited := memoryCgroup(t, limit)
	tests := []struct {
		name   string
		cgroup string
		env    []string
		want   float64
	}{
		{name: "container limit", cgroup: limited, want: math.Floor(0.9 * limit)},
		{name: "GOMEMLIMIT wins", cgroup: limited, env: []string{"GOMEMLIMIT=100MiB"}, want: 100 << 20},
		{name: "no limit", cgroup: memoryCgroup(t, -1), want: math.MaxInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.want == math.MaxInt64 && limitedAbove(t, tt.cgroup) {
				t.Skip("this process's cgroup has a memory limit: no cgroup under it is without one")
			}
			dir := t.TempDir()
			p := newAggregatorProc(t, dir)
			p.cgroup, p.env = tt.cgroup, tt.env
			p.start(t, filepath.Join(dir, "aggregator.log"))
			if got := p.metric(t, "go_gc_gomemlimit_bytes"); got != tt.want {
				t.Errorf("go_gc_gomemlimit_bytes = %.0f, want %.0f", got, tt.want)
			}
		})
	}
}

// memoryCgroup makes a cgroup v1 memory cgroup under this process's, with
// a limit of limit bytes (none when negative), removed at the test's end.
func memoryCgroup(t *testing.T, limit int64) string {
	t.Helper()
	parent, err := ownMemoryCgroup()
	if err != nil {
		t.Skipf("no cgroup v1 memory controller: %v", err)
	}
	dir, err := os.MkdirTemp(parent, "flowpol-test-")
	if errors.Is(err, os.ErrPermission) {
		t.Skipf("cannot make a memory cgroup: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(dir) })
	if limit >= 0 {
		writeFile(t, filepath.Join(dir, "memory.limit_in_bytes"), fmt.Sprint(limit))
	}
	return dir
}

// limitedAbove reports whether a memory limit applies to the cgroup dir
// from above it (memory.stat's hierarchical_memory_limit, which the
// kernel gives as a page-rounded maximum when there is none).
func limitedAbove(t *testing.T, dir string) bool {
	t.Helper()
	stat, err := os.ReadFile(filepath.Join(dir, "memory.stat"))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(stat)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "hierarchical_memory_limit "); ok {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				t.Fatalf("%s/memory.stat: %v", dir, err)
			}
			return n < math.MaxInt64/4096*4096
		}
	}
	t.Fatalf("%s/memory.stat has no hierarchical_memory_limit", dir)
	return false
}

// ownMemoryCgroup returns the directory of this process's cgroup v1
// memory cgroup, where the controller is mounted at /sys/fs/cgroup/memory.
func ownMemoryCgroup() (string, error) {
	const mount = "/sys/fs/cgroup/memory"
	if _, err := os.Stat(filepath.Join(mount, "memory.limit_in_bytes")); err != nil {
		return "", err
	}
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// hierarchy-ID:controller-list:cgroup-path
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) == 3 && strings.Contains(","+parts[1]+",", ",memory,") {
			return filepath.Join(mount, parts[2]), nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", errors.New("/proc/self/cgroup names no memory cgroup")
}
