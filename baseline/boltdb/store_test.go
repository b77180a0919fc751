package boltdb

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/topology"
)

var (
	t0       = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	frontend = topology.End{Kind: topology.KindWorkload, Workload: topology.WorkloadRef{Namespace: "shop", Kind: "Deployment", Name: "frontend"}}
	api      = topology.End{Kind: topology.KindWorkload, Workload: topology.WorkloadRef{Namespace: "shop", Kind: "Deployment", Name: "api"}}
	webEdge  = topology.Edge{Src: frontend, Dst: api, Port: 8080, Proto: flow.TCP}
)

// openTest opens a new store in a temporary directory, closed at the end.
func openTest(tb testing.TB, opts Options) *Store {
	tb.Helper()
	s, err := Open(filepath.Join(tb.TempDir(), "b.db"), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func cell(at time.Time, client, server uint64) baseline.Cell {
	start := at.Truncate(time.Minute)
	ms := uint32(at.Sub(start) / time.Millisecond)
	return baseline.Cell{Start: start.Unix(), Client: client, Server: server, FirstMS: ms, LastMS: ms}
}

func apply(tb testing.TB, s *Store, d *baseline.Delta) baseline.Applied {
	tb.Helper()
	out, err := s.Apply(context.Background(), d)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func window(tb testing.TB, s *Store, from, to time.Time) *topology.Window {
	tb.Helper()
	w, err := s.Window(context.Background(), from, to)
	if err != nil {
		tb.Fatal(err)
	}
	return w
}

// TestApplyWindow: a window's count per edge is, per bucket, the larger of
// the client and server counts, summed over the buckets in the window, and
// first and last seen are the exact moments. If it failed, policies would
// carry wrong evidence.
func TestApplyWindow(t *testing.T) {
	tests := []struct {
		name        string
		deltas      [][]baseline.Cell
		from, to    time.Time
		count       uint64
		first, last time.Time
	}{
		{"client and server in one bucket count once", [][]baseline.Cell{{cell(t0.Add(5*time.Second), 3, 2)}}, t0, t0.Add(time.Hour), 3, t0.Add(5 * time.Second), t0.Add(5 * time.Second)},
		{"server larger", [][]baseline.Cell{{cell(t0, 1, 4)}}, t0, t0.Add(time.Hour), 4, t0, t0},
		{"two deltas add in one bucket", [][]baseline.Cell{{cell(t0.Add(time.Second), 1, 0)}, {cell(t0.Add(30*time.Second), 2, 5)}}, t0, t0.Add(time.Hour), 5, t0.Add(time.Second), t0.Add(30 * time.Second)},
		{"buckets sum", [][]baseline.Cell{{cell(t0, 1, 1), cell(t0.Add(10*time.Minute), 2, 0)}}, t0, t0.Add(time.Hour), 3, t0, t0.Add(10 * time.Minute)},
		{"window cuts a bucket out", [][]baseline.Cell{{cell(t0, 1, 1), cell(t0.Add(10*time.Minute), 2, 0)}}, t0.Add(5 * time.Minute), t0.Add(time.Hour), 2, t0.Add(10 * time.Minute), t0.Add(10 * time.Minute)},
		{"across block edges", [][]baseline.Cell{{cell(t0.Add(-time.Minute+time.Second), 7, 7), cell(t0.Add(time.Hour+time.Second), 1, 1)}}, t0.Add(-time.Hour), t0.Add(2 * time.Hour), 8, t0.Add(-time.Minute + time.Second), t0.Add(time.Hour + time.Second)},
		{"saturates at 2^64-1", [][]baseline.Cell{{cell(t0, math.MaxUint64, 0)}, {cell(t0, 1, 0)}, {cell(t0.Add(time.Minute), 5, 0)}}, t0, t0.Add(time.Hour), math.MaxUint64, t0, t0.Add(time.Minute)},
		{"before 1970", [][]baseline.Cell{{cell(time.Date(1960, 1, 1, 0, 0, 1, 0, time.UTC), 2, 0), cell(t0, 1, 0)}}, t0.Add(-600000 * time.Hour), t0.Add(time.Hour), 3, time.Date(1960, 1, 1, 0, 0, 1, 0, time.UTC), t0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTest(t, Options{Retention: baseline.Retention{{Bucket: time.Minute}}})
			for _, cells := range tt.deltas {
				apply(t, s, &baseline.Delta{Edges: []baseline.EdgeDelta{{Edge: webEdge, Cells: cells, SrcPods: []uint64{1}, DstPods: []uint64{2}}}})
			}
			w := window(t, s, tt.from, tt.to)
			if len(w.Edges) != 1 {
				t.Fatalf("window has %d edges, want 1", len(w.Edges))
			}
			e := w.Edges[0]
			if e.Edge != webEdge || e.Count != tt.count || !e.First.Equal(tt.first) || !e.Last.Equal(tt.last) {
				t.Errorf("got %v count %d %v..%v, want %v count %d %v..%v", e.Edge, e.Count, e.First, e.Last, webEdge, tt.count, tt.first, tt.last)
			}
		})
	}
}

// TestEdgeSets: pods, nodes and processes merge as sets, and every kind of
// end survives its binary key. If it failed, edges would be split or
// garbled on disk.
func TestEdgeSets(t *testing.T) {
	ends := []topology.End{
		frontend,
		{Kind: topology.KindHost, Node: "node-a", Addr: netip.MustParseAddr("192.168.10.11")},
		{Kind: topology.KindAPIServer},
		{Kind: topology.KindExternal, Addr: netip.MustParseAddr("2001:db8::1")},
		{Kind: topology.KindUnresolved, Addr: netip.MustParseAddr("10.244.2.99"), Reason: topology.ReasonUnknownClusterAddr},
		{Kind: topology.KindUnresolved, Addr: netip.MustParseAddr("10.244.2.99"), Reason: topology.ReasonNoBackends},
	}
	s := openTest(t, Options{})
	var d1, d2 baseline.Delta
	for _, e := range ends {
		edge := topology.Edge{Src: e, Dst: api, Port: 443, Proto: flow.TCP}
		d1.Edges = append(d1.Edges, baseline.EdgeDelta{Edge: edge, Cells: []baseline.Cell{cell(t0, 1, 0)}, SrcPods: []uint64{5, 3}, Nodes: []string{"node-b"}, SrcComms: []string{"curl"}})
		d2.Edges = append(d2.Edges, baseline.EdgeDelta{Edge: edge, Cells: []baseline.Cell{cell(t0.Add(time.Minute), 1, 0)}, SrcPods: []uint64{3, 4}, DstPods: []uint64{9}, Nodes: []string{"node-a", "node-b"}})
	}
	if got := apply(t, s, &d1).NewEdges; got != len(ends) {
		t.Errorf("first delta: %d new edges, want %d", got, len(ends))
	}
	if got := apply(t, s, &d2).NewEdges; got != 0 {
		t.Errorf("second delta: %d new edges, want 0", got)
	}
	w := window(t, s, t0, t0.Add(time.Hour))
	if len(w.Edges) != len(ends) {
		t.Fatalf("window has %d edges, want %d", len(w.Edges), len(ends))
	}
	for _, e := range w.Edges {
		if e.Count != 2 || e.SrcPods != 3 || e.DstPods != 1 || len(e.Nodes) != 2 || len(e.SrcComms) != 1 {
			t.Errorf("%v: count %d, pods %d→%d, nodes %v, comms %v; want 2, 3→1, [node-a node-b], [curl]", e.Edge, e.Count, e.SrcPods, e.DstPods, e.Nodes, e.SrcComms)
		}
	}
}

// TestDeliveredWaiting: delivery marks, waiting records, workloads and
// cluster facts are stored with the counts and read back. If it failed, a
// batch sent again would count twice or records waiting would be lost.
func TestDeliveredWaiting(t *testing.T) {
	s := openTest(t, Options{})
	rec := flow.Record{Time: t0, Src: netip.MustParseAddrPort("10.0.0.1:40000"), Dst: netip.MustParseAddrPort("10.0.0.2:80"), Proto: flow.TCP, Count: 1, Observer: flow.Client}
	ref := frontend.Workload
	apply(t, s, &baseline.Delta{
		Edges:          []baseline.EdgeDelta{{Edge: webEdge, Cells: []baseline.Cell{cell(t0, 1, 0)}}},
		Delivered:      map[string]uint64{"node-a": 7, "node-b": 3},
		ReplaceWaiting: true, Waiting: []flow.Record{rec, rec},
		Workloads: map[topology.WorkloadRef]topology.Workload{ref: {Ref: ref}},
		Cluster:   &topology.Cluster{Namespaces: map[string]map[string]string{"shop": {"team": "a"}}},
	})
	apply(t, s, &baseline.Delta{Delivered: map[string]uint64{"node-a": 9}, ReplaceWaiting: true, Waiting: []flow.Record{rec}})
	ctx := context.Background()
	del, err := s.Delivered(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if del["node-a"] != 9 || del["node-b"] != 3 || len(del) != 2 {
		t.Errorf("delivered %v, want node-a 9, node-b 3", del)
	}
	wait, err := s.Waiting(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(wait) != 1 || wait[0].Src != rec.Src || !wait[0].Time.Equal(rec.Time) {
		t.Errorf("waiting %v, want the one record %v", wait, rec)
	}
	w := window(t, s, t0, t0.Add(time.Hour))
	if _, ok := w.Workloads[ref]; !ok || w.Cluster.Namespaces["shop"]["team"] != "a" {
		t.Errorf("workloads %v, cluster %v: want %v and shop's labels", w.Workloads, w.Cluster, ref)
	}
}

// TestDeltaAllOrNothing: a delta that fails to apply leaves nothing of
// itself. If it failed, a retried batch would be counted twice.
func TestDeltaAllOrNothing(t *testing.T) {
	s := openTest(t, Options{})
	apply(t, s, &baseline.Delta{Edges: []baseline.EdgeDelta{{Edge: webEdge, Cells: []baseline.Cell{cell(t0, 1, 0)}}}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Apply(ctx, &baseline.Delta{Edges: []baseline.EdgeDelta{{Edge: webEdge, Cells: []baseline.Cell{cell(t0, 1, 0)}}}, Delivered: map[string]uint64{"a": 1}}); err == nil {
		t.Fatal("apply with a cancelled context succeeded")
	}
	w := window(t, s, t0, t0.Add(time.Hour))
	del, _ := s.Delivered(context.Background())
	if w.Edges[0].Count != 1 || len(del) != 0 {
		t.Errorf("count %d, delivered %v after a failed apply; want 1 and none", w.Edges[0].Count, del)
	}
}

// TestBadCells: a delta with a cell no bucket can hold is refused whole,
// naming the edge. If it failed, one bad cell could make the file
// unreadable or land in a wrong bucket.
func TestBadCells(t *testing.T) {
	tests := []struct {
		name string
		c    baseline.Cell
	}{
		{"far future", baseline.Cell{Start: 1 << 50, Client: 1}},
		{"far past", baseline.Cell{Start: -(1 << 50), Client: 1}},
		{"first after last", baseline.Cell{Start: t0.Unix(), Client: 1, FirstMS: 9, LastMS: 3}},
		{"past the bucket", baseline.Cell{Start: t0.Unix(), Client: 1, LastMS: 60000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTest(t, Options{})
			_, err := s.Apply(context.Background(), &baseline.Delta{Edges: []baseline.EdgeDelta{
				{Edge: webEdge, Cells: []baseline.Cell{cell(t0, 1, 0), tt.c}},
			}})
			if !errors.Is(err, ErrBadCell) || !containsStr(err.Error(), webEdge.String()) {
				t.Errorf("apply: %v, want an ErrBadCell naming %v", err, webEdge)
			}
			if w := window(t, s, t0, t0.Add(time.Hour)); len(w.Edges) != 0 {
				t.Errorf("the refused delta left %d edges", len(w.Edges))
			}
		})
	}
}

// TestOpenErrors: a locked file, a newer schema and a file of something
// else are errors naming the file, after the timeout and never a hang.
func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	locked := filepath.Join(dir, "locked.db")
	s, err := Open(locked, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	newer := filepath.Join(dir, "newer.db")
	makeBolt(t, newer, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		return b.Put(keySchema, []byte(strconv.Itoa(SchemaVersion+1)))
	})
	other := filepath.Join(dir, "other.db")
	makeBolt(t, other, func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("x")); return err })
	tests := []struct {
		name string
		path string
		opts Options
		want error
		text string
	}{
		{"locked", locked, Options{Timeout: 50 * time.Millisecond}, ErrLocked, locked},
		{"newer schema", newer, Options{}, ErrSchema, "schema 4, this build reads 3"},
		{"newer schema read-only", newer, Options{ReadOnly: true}, ErrSchema, newer},
		{"not a baseline", other, Options{}, ErrNotBaseline, other},
		{"missing read-only", filepath.Join(dir, "none.db"), Options{ReadOnly: true}, nil, "none.db"},
		{"bad retention", filepath.Join(dir, "r.db"), Options{Retention: baseline.Retention{{Bucket: time.Hour}, {Bucket: time.Minute}}}, baseline.ErrRetention, "r.db"},
		{"other tier widths", locked + "x", Options{Retention: baseline.Retention{{Bucket: 2 * time.Minute}}}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(tt.path, tt.opts)
			if tt.text == "" {
				if err != nil {
					t.Fatal(err)
				}
				s.Close()
				return
			}
			if err == nil {
				s.Close()
				t.Fatalf("open succeeded, want an error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
			if !containsStr(err.Error(), tt.text) {
				t.Errorf("error %q does not say %q", err, tt.text)
			}
		})
	}
}

// TestRetentionWidths: reopening with other keeps replaces them; with
// another finest width it is an error naming the file.
func TestRetentionWidths(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	r, _ := baseline.ParseRetention("1m:24h,1h:30d")
	if s, err = Open(path, Options{Retention: r}); err != nil {
		t.Fatal(err)
	}
	st, err := s.Status(context.Background())
	s.Close()
	if err != nil || st.Tiers[0].Keep != "24h" || st.Tiers[1].Keep != "30d" {
		t.Errorf("tiers %+v (%v), want keeps 24h and 30d", st.Tiers, err)
	}
	if _, err := Open(path, Options{Retention: baseline.Retention{{Bucket: 2 * time.Minute}}}); err == nil || !containsStr(err.Error(), path) {
		t.Errorf("open with a 2m finest width: %v, want an error naming %s", err, path)
	}
}

func makeBolt(tb testing.TB, path string, fn func(*bolt.Tx) error) {
	tb.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		tb.Fatal(err)
	}
}

func containsStr(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// TestEdgeCacheAfterRetention: an edge that retention removed is new
// again when it comes back, whether retention ran inside Apply or on its
// own, and its record holds only what came after. If it failed, the store
// would trust what it remembered of a removed edge and leave counts with
// no record, or old pods on a new edge.
func TestEdgeCacheAfterRetention(t *testing.T) {
	ret, err := baseline.ParseRetention("1m:1h")
	if err != nil {
		t.Fatal(err)
	}
	for _, explicit := range []bool{false, true} {
		t.Run(fmt.Sprintf("explicit=%v", explicit), func(t *testing.T) {
			s := openTest(t, Options{Retention: ret, Now: func() time.Time { return t0.Add(48 * time.Hour) }})
			old := baseline.EdgeDelta{Edge: webEdge, Cells: []baseline.Cell{cell(t0, 1, 0)}, SrcPods: []uint64{1}}
			apply(t, s, &baseline.Delta{Edges: []baseline.EdgeDelta{old}})
			later := t0.Add(24 * time.Hour)
			other := baseline.EdgeDelta{Edge: simEdge(1), Cells: []baseline.Cell{cell(later, 1, 0)}}
			if explicit {
				if _, err := s.Retain(context.Background(), later); err != nil {
					t.Fatal(err)
				}
			}
			apply(t, s, &baseline.Delta{Edges: []baseline.EdgeDelta{other}})
			back := baseline.EdgeDelta{Edge: webEdge, Cells: []baseline.Cell{cell(later.Add(time.Minute), 1, 0)}, SrcPods: []uint64{2}}
			if got := apply(t, s, &baseline.Delta{Edges: []baseline.EdgeDelta{back}}).NewEdges; got != 1 {
				t.Errorf("the edge back after retention removed it: %d new edges, want 1", got)
			}
			w := window(t, s, later, later.Add(time.Hour))
			for _, e := range w.Edges {
				if e.Edge == webEdge && (e.SrcPods != 1 || e.Count != 1) {
					t.Errorf("returned edge: %d source pods, count %d; want 1 and 1", e.SrcPods, e.Count)
				}
			}
			if len(w.Edges) != 2 {
				t.Errorf("window has %d edges, want 2", len(w.Edges))
			}
		})
	}
}

// TestAttachments: a delta's attachments are kept across reopening, in the
// same transaction as its edges (a refused delta leaves the old value),
// replaced by name, and removed by an empty value. If it failed, the
// aggregator's would-deny counts could disagree with the baseline after a
// crash.
func TestAttachments(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if v, err := s.Attachment(ctx, "staged"); err != nil || v != nil {
		t.Fatalf("a new file's attachment: %q, %v; want none", v, err)
	}
	apply(t, s, &baseline.Delta{Edges: []baseline.EdgeDelta{{Edge: webEdge, Cells: []baseline.Cell{cell(t0, 1, 0)}}},
		Attachments: map[string][]byte{"staged": []byte("one"), "other": []byte("x")}})
	bad := &baseline.Delta{Edges: []baseline.EdgeDelta{{Edge: webEdge, Cells: []baseline.Cell{{Start: 1 << 50, Client: 1}}}},
		Attachments: map[string][]byte{"staged": []byte("two")}}
	if _, err := s.Apply(ctx, bad); err == nil {
		t.Fatal("a delta with a bad cell was applied")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(path, Options{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if v, err := s.Attachment(ctx, "staged"); err != nil || string(v) != "one" {
		t.Errorf("after a refused delta and reopening: %q, %v; want the committed value \"one\"", v, err)
	}
	apply(t, s, &baseline.Delta{Attachments: map[string][]byte{"staged": []byte("three"), "other": nil}})
	if v, _ := s.Attachment(ctx, "staged"); string(v) != "three" {
		t.Errorf("replaced value: %q, want \"three\"", v)
	}
	if v, _ := s.Attachment(ctx, "other"); v != nil {
		t.Errorf("an empty value left %q", v)
	}
}
