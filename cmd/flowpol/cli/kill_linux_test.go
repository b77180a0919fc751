//go:build linux

package cli_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A learner killed between batches keeps exactly the committed batches.
func TestKillBetweenBatches(t *testing.T) {
	db := filepath.Join(t.TempDir(), "f.db")
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	cmd := startSelf(t, pr, learnArgs(db, "20000")...)
	pr.Close()
	if err := writeRecords(pw, 0, 70_000); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, cmd.Process.Pid, pw) // it has read all it was given; the last 10,000 wait for a batch
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if got := storedConnections(t, db); got != 60_000 {
		t.Fatalf("after a kill the baseline holds %d connections, want the 3 whole batches (60000)", got)
	}
}

// A learner killed at a random moment, often inside a commit, leaves a file
// that opens, holds whole batches only, and can be learned into again.
func TestKillDuringLearn(t *testing.T) {
	const batch, total = 25_000, 400_000
	flows := filepath.Join(t.TempDir(), "flows.jsonl")
	f, err := os.Create(flows)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeRecords(f, 0, total); err != nil {
		t.Fatal(err)
	}
	f.Close()
	info, err := os.Stat(flows)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var midway int
	for attempt := 0; attempt < 12 && midway < 3; attempt++ {
		db := filepath.Join(t.TempDir(), "f.db")
		in, err := os.Open(flows)
		if err != nil {
			t.Fatal(err)
		}
		cmd := startSelf(t, in, learnArgs(db, fmt.Sprint(batch))...)
		// Killed once it has read between 10% and 90% of the records.
		waitRead(t, cmd.Process.Pid, info.Size()/10+rng.Int64N(info.Size()*8/10))
		cmd.Process.Kill()
		cmd.Wait()
		in.Close()
		var got uint64
		if _, err := os.Stat(db); err == nil { // killed after it created the file
			got = storedConnections(t, db)
		}
		if got%batch != 0 {
			t.Fatalf("attempt %d: %d connections stored, not a whole number of %d-record batches", attempt, got, batch)
		}
		if got > 0 && got < total {
			midway++
		}
		mustRun(t, "learn", "--from", flows, "--inventory", repoFile("testdata", "example", "cluster.yaml"), "--db", db)
		if n := storedConnections(t, db); n != got+total {
			t.Fatalf("attempt %d: learning again gave %d connections, want %d", attempt, n, got+total)
		}
	}
	if midway == 0 {
		t.Fatalf("no kill landed in the middle of learning; the test proved nothing")
	}
}

// waitRead waits until process pid has read at least n bytes of its
// standard input, a file, or has ended.
func waitRead(t *testing.T, pid int, n int64) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/0", pid))
		if err != nil {
			return // ended
		}
		var pos int64
		if _, err := fmt.Sscanf(string(b), "pos:\t%d", &pos); err != nil {
			t.Fatalf("fdinfo of %d: %q: %v", pid, b, err)
		}
		if pos >= n {
			return
		}
		time.Sleep(time.Millisecond) // the poll interval
	}
	t.Fatalf("learn read less than %d bytes in a minute", n)
}

// waitIdle waits until process pid has taken everything written to the
// pipe w and does nothing: the pipe empty, every thread asleep and no CPU
// time spent, at two polls in a row.
func waitIdle(t *testing.T, pid int, w *os.File) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	last, quiet := int64(-1), 0
	for quiet < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still busy after a minute", pid)
		}
		time.Sleep(20 * time.Millisecond)                          // the poll interval
		queued, err := unix.IoctlGetInt(int(w.Fd()), unix.TIOCINQ) // FIONREAD: bytes in the pipe
		if err != nil {
			t.Fatal(err)
		}
		cpu, asleep := processState(t, pid)
		if queued == 0 && asleep && cpu == last {
			quiet++
		} else {
			quiet = 0
		}
		last = cpu
	}
}

// processState is the CPU time process pid has used, in clock ticks, and
// whether all its threads are asleep.
func processState(t *testing.T, pid int) (int64, bool) {
	t.Helper()
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	if err != nil || len(tasks) == 0 {
		t.Fatalf("threads of %d: %v", pid, err)
	}
	var cpu int64
	asleep := true
	for _, task := range tasks {
		b, err := os.ReadFile(task)
		if err != nil {
			return -1, false // a thread ended meanwhile
		}
		// After "pid (comm) ": state, then fields 4 to 15; utime and
		// stime are the 14th and 15th of the line.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
		asleep = asleep && f[0] == "S"
		utime, _ := strconv.ParseInt(f[11], 10, 64)
		stime, _ := strconv.ParseInt(f[12], 10, 64)
		cpu += utime + stime
	}
	return cpu, asleep
}
