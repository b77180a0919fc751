package aggregator

import (
	"slices"
	"testing"

	"github.com/flowpol/flowpol/flow"
)

// A batch sealed while the one before it commits is merged into the edge
// as that commit left it: were it merged into the edge as it was when its
// records were added, the node the commit before added would be lost.
func TestSealWhileCommitting(t *testing.T) {
	s := openTemp(t, StoreOptions{})
	l := NewLearner(s, exampleResolver(t), LearnOptions{BatchRecords: 1 << 30})
	add := func(node string) {
		t.Helper()
		r := rec("2026-11-22T10:00:10Z", "10.244.1.10:1", "10.96.10.20:80", flow.Client, 1)
		r.Node = node
		if err := l.Add(r, 1); err != nil {
			t.Fatal(err)
		}
	}
	commit := func(sealed *Sealed) {
		t.Helper()
		if err := sealed.Commit(); err != nil {
			t.Fatal(err)
		}
		l.Committed(sealed)
	}
	add("node-a")
	commit(l.Seal(nil))
	add("node-b")
	second := l.Seal(map[string]uint64{"agent": 1})
	done := make(chan error, 1)
	go func() { done <- second.Commit() }()
	add("node-c") // while the second commits
	add("node-a")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	l.Committed(second)
	commit(l.Seal(map[string]uint64{"agent": 2}))
	if l.Seal(nil) != nil {
		t.Error("sealed again with nothing added")
	}

	w, err := s.Window(rec("2026-11-22T00:00:00Z", "10.0.0.1:1", "10.0.0.2:1", flow.Client, 1).Time,
		rec("2026-11-23T00:00:00Z", "10.0.0.1:1", "10.0.0.2:1", flow.Client, 1).Time)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Edges) != 1 {
		t.Fatalf("%d edges, want 1", len(w.Edges))
	}
	if e := w.Edges[0]; e.Count != 4 || !slices.Equal(e.Nodes, []string{"node-a", "node-b", "node-c"}) {
		t.Errorf("edge counts %d connections from nodes %v, want 4 from node-a, node-b and node-c", e.Count, e.Nodes)
	}
	if got, err := s.Delivered(); err != nil || got["agent"] != 2 {
		t.Errorf("delivered %v (%v), want agent: 2", got, err)
	}
}
