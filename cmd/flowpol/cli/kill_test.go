package cli_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
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
