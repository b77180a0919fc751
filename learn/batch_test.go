package learn

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/baseline/boltdb"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/inventory"
	"github.com/flowpol/flowpol/topology"
)

func openStore(t testing.TB) *boltdb.Store {
	t.Helper()
	s, err := boltdb.Open(filepath.Join(t.TempDir(), "f.db"), boltdb.Options{Retention: baseline.Retention{{Bucket: time.Minute}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func exampleLines(t testing.TB) []string {
	t.Helper()
	data, err := os.ReadFile("../testdata/example/flows.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

func learnLines(t testing.TB, s baseline.Store, lines []string, opts BatchOptions) (baseline.Run, error) {
	t.Helper()
	rd := flow.NewReader(strings.NewReader(strings.Join(lines, "\n")+"\n"), "flows.jsonl")
	return FromReader(context.Background(), rd, exampleLearner(t, Options{Bucket: s.Bucket()}), s, opts)
}

func window(t testing.TB, s baseline.Store) []topology.EdgeStats {
	t.Helper()
	w, err := s.Window(context.Background(), t0.Add(-24*time.Hour), t0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return w.Edges
}

// A malformed line stops the run: the store keeps the whole batches before
// it and nothing after, and the run says through which line.
func TestFromReaderKeepsWholeBatches(t *testing.T) {
	lines := exampleLines(t)
	bad := append(append(append([]string{}, lines[:6]...), `{"time":"2026-11-22T10:00:00Z","proto":"TCP","src_ip":"10.0.0.1","dst_ip":"10.0.0.2","dst_port":"http","observer":"client"}`), lines[6:]...)
	s := openStore(t)
	run, err := learnLines(t, s, bad, BatchOptions{BatchRecords: 4})
	if err == nil || !strings.Contains(err.Error(), "flows.jsonl:7:") {
		t.Fatalf("error %v, want one naming flows.jsonl:7", err)
	}
	if run.Batches != 1 || run.Stored != 4 || run.StoredLines != 4 || run.Records != 6 {
		t.Errorf("run %+v: want 1 batch of 4 records through line 4, 6 read", run)
	}
	want := openStore(t)
	if _, err := learnLines(t, want, lines[:4], BatchOptions{}); err != nil {
		t.Fatal(err)
	}
	got, wantEdges := window(t, s), window(t, want)
	if len(got) == 0 || len(got) != len(wantEdges) {
		t.Fatalf("%d edges stored, want the %d of the first batch", len(got), len(wantEdges))
	}
	for i := range got {
		if got[i].Edge != wantEdges[i].Edge || got[i].Count != wantEdges[i].Count {
			t.Errorf("edge %d: %s ×%d, want %s ×%d", i, got[i].Edge, got[i].Count, wantEdges[i].Edge, wantEdges[i].Count)
		}
	}
}

// A whole file learns into the store in batches, and again adds to it.
func TestFromReader(t *testing.T) {
	lines := exampleLines(t)
	s := openStore(t)
	run, err := learnLines(t, s, lines, BatchOptions{BatchRecords: 5})
	if err != nil {
		t.Fatal(err)
	}
	if run.Records != uint64(len(lines)) || run.Stored != run.Records || run.Batches != (len(lines)+4)/5 || run.NewEdges != run.Edges || run.Edges == 0 {
		t.Errorf("run %+v over %d lines in batches of 5", run, len(lines))
	}
	again, err := learnLines(t, s, lines, BatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if again.NewEdges != 0 || again.Edges != run.Edges {
		t.Errorf("second run %+v: want the same %d edges, none new", again, run.Edges)
	}
}

// At the end of a run a waiting record waits for the cluster state, not
// longer, and is stored as the state places it.
func TestFinishWaitsForTheState(t *testing.T) {
	node := corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}, Spec: corev1.NodeSpec{PodCIDR: "10.0.0.0/24"}}
	first := &inventory.Inventory{Nodes: []corev1.Node{node}, Pods: []corev1.Pod{bare("server", "10.0.0.9")}}
	asked := 0
	refresh := func() *inventory.Inventory {
		if asked++; asked == 2 { // the state learns the client between two asks
			return withClient(first)
		}
		return nil
	}
	l, err := New(newStates(first, refresh, nil), Options{MaxWait: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	s := openStore(t)
	b := NewBatcher(l, s, BatchOptions{})
	rec := *fromClient
	rec.Time = time.Now()
	if err := b.Add(context.Background(), &rec, 1); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatal("Finish waited until its context ended, not for the state")
	}
	w, err := s.Window(context.Background(), rec.Time.Add(-time.Hour), rec.Time.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Edges) != 1 || w.Edges[0].Edge.String() != "ns/Pod/client -> ns/Pod/server:80/TCP" {
		t.Fatalf("edges %v, want client -> server", w.Edges)
	}
	if run := b.Run(); run.Waited != 1 || run.WaitedOut != 0 {
		t.Errorf("run %+v: want one record that waited and resolved", run)
	}
}
