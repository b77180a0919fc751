package learn

import (
	"context"
	"net/netip"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/baseline/boltdb"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/inventory"
)

func at(ts string, src, dst string, obs flow.Observer, count uint64) *flow.Record {
	t, err := time.Parse(time.RFC3339, ts)
	if err != nil {
		panic(err)
	}
	return &flow.Record{Time: t, Node: "node-a", Proto: flow.TCP, Src: netip.MustParseAddrPort(src),
		Dst: netip.MustParseAddrPort(dst), Observer: obs, Count: count}
}

func apply(t testing.TB, s baseline.Store, d *baseline.Delta) {
	t.Helper()
	if d == nil {
		t.Fatal("nothing to apply")
	}
	if _, err := s.Apply(context.Background(), d); err != nil {
		t.Fatal(err)
	}
}

// The counts of deltas taken in turn add up in the store's windows: per
// bucket the larger of the clients' and the servers' counts.
func TestWindowCounts(t *testing.T) {
	s := openStore(t)
	l := exampleLearner(t, Options{})
	const api = "10.244.1.20:8080"
	for _, batch := range [][]*flow.Record{
		{
			at("2026-11-22T10:00:10Z", "10.244.1.10:1", "10.96.10.20:80", flow.Client, 7),
			at("2026-11-22T10:00:20Z", "10.244.1.10:1", api, flow.Server, 5), // the same connections, seen by fewer servers
			at("2026-11-22T10:59:59Z", "10.244.1.10:1", api, flow.Server, 3),
		},
		{
			at("2026-11-22T10:00:30Z", "10.244.1.10:1", api, flow.Server, 4), // a later delta, same bucket
			at("2026-11-22T11:00:00Z", "10.244.1.10:1", api, flow.Client, 100),
		},
	} {
		for _, r := range batch {
			l.Add(r)
		}
		apply(t, s, l.Take())
	}
	tests := []struct {
		name        string
		from, to    string
		count       uint64
		first, last string
	}{
		{"whole hour: max(7 client, 9 server) + 3", "2026-11-22T10:00:00Z", "2026-11-22T11:00:00Z", 12, "2026-11-22T10:00:10Z", "2026-11-22T10:59:59Z"},
		// Inside the edge's life first and last are the store's to round
		// (empty: not checked).
		{"rounded out to the bucket", "2026-11-22T10:00:45Z", "2026-11-22T10:00:50Z", 9, "", ""},
		{"the last bucket only", "2026-11-22T10:59:00Z", "2026-11-22T11:00:00Z", 3, "", ""},
		{"end is exclusive", "2026-11-22T10:30:00Z", "2026-11-22T10:59:00Z", 0, "", ""},
		{"the next hour", "2026-11-22T11:00:00Z", "2026-11-22T12:00:00Z", 100, "2026-11-22T11:00:00Z", "2026-11-22T11:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, _ := time.Parse(time.RFC3339, tt.from)
			to, _ := time.Parse(time.RFC3339, tt.to)
			w, err := s.Window(context.Background(), from, to)
			if err != nil {
				t.Fatal(err)
			}
			if tt.count == 0 {
				if len(w.Edges) != 0 {
					t.Fatalf("edges %v, want none", w.Edges)
				}
				return
			}
			if len(w.Edges) != 1 {
				t.Fatalf("%d edges, want 1: %v", len(w.Edges), w.Edges)
			}
			e := w.Edges[0]
			if e.Count != tt.count || (tt.first != "" && (stampOf(e.First) != tt.first || stampOf(e.Last) != tt.last)) {
				t.Errorf("count %d, first %s, last %s; want %d, %s, %s", e.Count, stampOf(e.First), stampOf(e.Last), tt.count, tt.first, tt.last)
			}
			if e.SrcPods != 1 || e.DstPods != 1 || len(e.Nodes) != 1 {
				t.Errorf("src pods %d, dst pods %d, nodes %v; want 1, 1, [node-a]", e.SrcPods, e.DstPods, e.Nodes)
			}
		})
	}
}

func stampOf(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// A delta taken while the one before is applied loses nothing of it: the
// learner hands out each node once, and the store keeps them all.
func TestTakeWhileApplying(t *testing.T) {
	s := openStore(t)
	l := exampleLearner(t, Options{})
	add := func(node string) {
		r := at("2026-11-22T10:00:10Z", "10.244.1.10:1", "10.96.10.20:80", flow.Client, 1)
		r.Node = node
		l.Add(r)
	}
	add("node-a")
	apply(t, s, l.Take())
	add("node-b")
	second := l.Take()
	done := make(chan error, 1)
	go func() { _, err := s.Apply(context.Background(), second); done <- err }()
	add("node-c") // while the second applies
	add("node-a")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	apply(t, s, l.Take())
	w := window(t, s)
	if len(w) != 1 {
		t.Fatalf("%d edges, want 1", len(w))
	}
	if e := w[0]; e.Count != 4 || !slices.Equal(e.Nodes, []string{"node-a", "node-b", "node-c"}) {
		t.Errorf("edge counts %d connections from nodes %v, want 4 from node-a, node-b and node-c", e.Count, e.Nodes)
	}
}

// Records waiting for the cluster state survive the process: a learner on
// the same file takes them back and stores them once they are due.
func TestKeepWaiting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.db")
	s, err := boltdb.Open(path, boltdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{now: t0}
	var next []*inventory.Inventory
	l := liveLearner(t, c, &next, Options{KeepWaiting: true, MaxWait: time.Hour})
	unknown := *fromClient // no pod holds .5 yet
	unknown.Count = 3
	l.Add(&unknown)
	if l.Waiting() != 1 {
		t.Fatalf("%d records waiting, want 1", l.Waiting())
	}
	apply(t, s, l.Take())
	s.Close() // as if the process ended: the waiting record is only in the file

	if s, err = boltdb.Open(path, boltdb.Options{}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	l = liveLearner(t, c, &next, Options{KeepWaiting: true, MaxWait: time.Minute})
	recs, err := s.Waiting(context.Background())
	if err != nil || len(recs) != 1 {
		t.Fatalf("%d records kept waiting (%v), want 1", len(recs), err)
	}
	l.Restore(recs)
	c.now = c.now.Add(2 * time.Minute)
	if n := l.Retry(c.now); n != 0 {
		t.Fatalf("%d still waiting past MaxWait", n)
	}
	apply(t, s, l.Take())
	w, err := s.Window(context.Background(), t0.Add(-time.Hour), t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Edges) != 1 || w.Edges[0].Count != 3 {
		t.Errorf("edges %v after the restart, want the waiting record's 3 connections", w.Edges)
	}
	if recs, err := s.Waiting(context.Background()); err != nil || len(recs) != 0 {
		t.Errorf("%d records still kept waiting (%v), want none", len(recs), err)
	}
}
