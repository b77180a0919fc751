package cli_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/flowpol/flowpol/baseline/boltdb"
)

// startSelf starts this test binary as flowpol (see TestMain).
func startSelf(t testing.TB, stdin io.Reader, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "FLOWPOL_TEST_MAIN=1")
	cmd.Stdin = stdin
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// writeRecords writes n client-side records of count 1, from the example's
// frontend pod to n/perAddr external addresses, spread over minutes.
func writeRecords(w io.Writer, from, n int) error {
	bw := bufio.NewWriter(w)
	for i := from; i < from+n; i++ {
		ts := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC).Add(time.Duration(i%600) * time.Second)
		_, err := fmt.Fprintf(bw, `{"time":%q,"node":"node-a","proto":"TCP","src_ip":"10.244.1.10","src_port":40000,"dst_ip":"203.0.%d.%d","dst_port":443,"observer":"client"}`+"\n",
			ts.Format(time.RFC3339), (i/7)%200, i%250)
		if err != nil {
			return err
		}
	}
	return bw.Flush()
}

// storedConnections opens the baseline as a fresh process would and adds up
// every count in it.
func storedConnections(t testing.TB, db string) uint64 {
	t.Helper()
	s, err := boltdb.Open(db, boltdb.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer s.Close()
	w, err := s.Window(context.Background(), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatalf("read after kill: %v", err)
	}
	var n uint64
	for _, e := range w.Edges {
		n += e.Count
	}
	return n
}

func learnArgs(db, batch string) []string {
	return []string{"learn", "--from", "-", "--inventory", repoFile("testdata", "example", "cluster.yaml"), "--db", db, "--batch-records", batch}
}

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
	time.Sleep(time.Second) // it has read all it was given; the last 10,000 wait for a batch
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
	full := timeLearn(t, flows, batch)
	rng := rand.New(rand.NewPCG(1, 2))
	var midway int
	for attempt := 0; attempt < 12 && midway < 3; attempt++ {
		db := filepath.Join(t.TempDir(), "f.db")
		in, err := os.Open(flows)
		if err != nil {
			t.Fatal(err)
		}
		cmd := startSelf(t, in, learnArgs(db, fmt.Sprint(batch))...)
		time.Sleep(full/10 + time.Duration(rng.Int64N(int64(full*8/10)))) // between 10% and 90% of a whole run
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

// timeLearn times a whole learning run of flows, as the killed runs make
// it, so that kills land within one.
func timeLearn(t *testing.T, flows string, batch int) time.Duration {
	t.Helper()
	in, err := os.Open(flows)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	start := time.Now()
	cmd := startSelf(t, in, learnArgs(filepath.Join(t.TempDir(), "full.db"), fmt.Sprint(batch))...)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("a whole run: %v", err)
	}
	return time.Since(start)
}
