package boltdb

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/flowpol/flowpol/baseline"
)

// killEnv, set to a file's path, makes the test binary the child of
// TestKill: it applies, rolls up and compacts that file until killed.
const killEnv = "FLOWPOL_BOLTDB_KILL_CHILD"

const (
	killEdges = 200
	killHour  = killEdges * 60 * 2 // connections in each hour the child applies
)

func TestMain(m *testing.M) {
	if path := os.Getenv(killEnv); path != "" {
		if err := killChild(path); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// killChild carries on from the last hour the file holds: each hour is
// one delta with its delivery mark, then retention as of its end (which
// rolls minute cells into hourly ones), then every other hour a
// compaction.
func killChild(path string) error {
	r, _ := baseline.ParseRetention("1m:2h,1h")
	s, err := Open(path, Options{Retention: r, Timeout: 5 * time.Second})
	if err != nil {
		return err
	}
	ctx := context.Background()
	del, err := s.Delivered(ctx)
	if err != nil {
		return err
	}
	fmt.Println("ready")
	for h := del["child"] + 1; ; h++ {
		start := day0.Add(time.Duration(h) * time.Hour)
		d := killDelta(start)
		d.Delivered = map[string]uint64{"child": h}
		if _, err := s.Apply(ctx, d); err != nil {
			return err
		}
		if _, err := s.Retain(ctx, start.Add(time.Hour)); err != nil {
			return err
		}
		if h%2 == 0 {
			if err := s.Compact(ctx); err != nil {
				return err
			}
		}
	}
}

func killDelta(start time.Time) *baseline.Delta {
	d := &baseline.Delta{}
	for i := range killEdges {
		e := baseline.EdgeDelta{Edge: simEdge(i)}
		for m := range 60 {
			e.Cells = append(e.Cells, baseline.Cell{Start: start.Unix() + int64(m*60), Client: 2, Server: 1, LastMS: 500})
		}
		d.Edges = append(d.Edges, e)
	}
	return d
}

// TestKill: a process killed with SIGKILL at random moments while it
// applies, rolls up and compacts leaves a file that reopens whole, holding
// exactly the hours its delivery mark says, none counted twice or lost.
// If it failed, a crash of the aggregator could corrupt the baseline or
// skew its counts.
func TestKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills a process a dozen times")
	}
	path := filepath.Join(t.TempDir(), "b.db")
	rng := rand.New(rand.NewPCG(7, 7))
	for round := range 12 {
		killOnce(t, path, time.Duration(20+rng.IntN(400))*time.Millisecond)
		hours := checkWhole(t, path)
		t.Logf("round %d: %d hours held", round, hours)
	}
}

// killOnce starts the child, waits until it has opened the file, and
// kills it after d.
func killOnce(t *testing.T, path string, d time.Duration) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run", "^$")
	cmd.Env = append(os.Environ(), killEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child said %q, %v", line, err)
	}
	time.Sleep(d) // the random moment of the kill, not a wait for anything
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil {
		t.Fatal("the child ended by itself")
	}
}

// checkWhole opens the file and checks that its counts are exactly the
// hours its delivery mark says.
func checkWhole(t *testing.T, path string) uint64 {
	t.Helper()
	s, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	del, err := s.Delivered(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.Window(ctx, day0, day0.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	var total uint64
	for _, e := range w.Edges {
		total += e.Count
	}
	if want := del["child"] * killHour; total != want {
		t.Fatalf("%d connections after %d hours, want %d", total, del["child"], want)
	}
	return del["child"]
}
