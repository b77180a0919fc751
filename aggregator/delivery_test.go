package aggregator

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/inventory"
)

func windowTotal(t testing.TB, s *Store) uint64 {
	t.Helper()
	w, err := s.Window(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, e := range w.Edges {
		n += e.Count
	}
	return n
}

// The senders' last batches are committed with their records and read back
// after reopening; a commit that fails to record them would let a resent
// batch be counted twice.
func TestCommitDelivered(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.db")
	s, err := Open(path, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	l := NewLearner(s, exampleResolver(t), LearnOptions{BatchRecords: 1 << 30})
	if err := l.Add(rec("2026-11-22T10:00:10Z", "10.244.1.10:1", "10.96.10.20:80", flow.Client, 7), 1); err != nil {
		t.Fatal(err)
	}
	if err := l.CommitDelivered(map[string]uint64{"node-a/1": 4, "node-b/2": 9}); err != nil {
		t.Fatal(err)
	}
	if err := l.CommitDelivered(map[string]uint64{"node-a/1": 5}); err != nil { // no records, still recorded
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(path, StoreOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Delivered()
	if err != nil {
		t.Fatal(err)
	}
	if got["node-a/1"] != 5 || got["node-b/2"] != 9 || len(got) != 2 {
		t.Errorf("delivered %v, want node-a/1: 5, node-b/2: 9", got)
	}
	if n := windowTotal(t, s); n != 7 {
		t.Errorf("%d connections stored, want 7", n)
	}
}

// Records waiting for the cluster state survive the process: a learner on
// the same file takes them back and stores them once they resolve.
func TestKeepWaiting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.db")
	s, err := Open(path, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res := exampleResolver(t)
	never := func() *inventory.Inventory { return nil }
	l := NewLearner(s, res, LearnOptions{BatchRecords: 1 << 30, Refresh: never, KeepWaiting: true, MaxWait: time.Hour})
	unknown := rec("2026-11-22T10:00:10Z", "10.244.1.99:1", "10.244.1.20:8080", flow.Server, 3) // no pod holds .99 yet
	if err := l.Add(unknown, 1); err != nil {
		t.Fatal(err)
	}
	if l.Waiting() != 1 {
		t.Fatalf("%d records waiting, want 1", l.Waiting())
	}
	if err := l.Commit(); err != nil {
		t.Fatal(err)
	}
	s.Close() // as if the process ended: the waiting record is only in the file

	s, err = Open(path, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	l = NewLearner(s, res, LearnOptions{BatchRecords: 1 << 30, Refresh: never, KeepWaiting: true, MaxWait: time.Millisecond})
	n, err := l.Restore()
	if err != nil || n != 1 {
		t.Fatalf("restored %d records (%v), want 1", n, err)
	}
	time.Sleep(2 * time.Millisecond)
	if err := l.CommitAll(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := windowTotal(t, s); got != 3 {
		t.Errorf("%d connections stored after the restart, want the waiting record's 3", got)
	}
	l = NewLearner(s, res, LearnOptions{KeepWaiting: true})
	if n, err := l.Restore(); err != nil || n != 0 {
		t.Errorf("restored %d records a second time (%v), want none", n, err)
	}
}
