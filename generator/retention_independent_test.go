package generator_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/baseline/boltdb"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/generator"
	"github.com/flowpol/flowpol/inventory"
	"github.com/flowpol/flowpol/learn"
	"github.com/flowpol/flowpol/resolve"
	"github.com/flowpol/flowpol/topology"
)

// TestIndependentEngineRetention: the example's traffic every day for 40
// days, one edge of it (api -> memcached) only in the first five, learned
// into a baseline keeping 1m:48h,1h:30d. The 3h, 30d and 40d windows give
// policies the independent engine finds allow exactly what each window
// holds; the edge seen only in the first days is aged out of the long
// windows (so denied), and the 30d window's policies are those of a
// baseline that never rolled up. If it failed, rolled-up or aged-out
// traffic would change what a long window's policies allow.
func TestIndependentEngineRetention(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", "testdata", "example"))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir()) // the engine writes a cache log in the working directory
	inv, err := inventory.LoadFile(filepath.Join(root, "cluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	end := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	flows := writeDays(t, filepath.Join(root, "flows.jsonl"), 40, 5, 11211)
	retention, err := baseline.ParseRetention("1m:48h,1h:30d")
	if err != nil {
		t.Fatal(err)
	}
	kept := learnStore(t, inv, flows, boltdb.Options{Retention: retention, Now: func() time.Time { return end }})
	if _, err := kept.Retain(t.Context(), end); err != nil {
		t.Fatal(err)
	}
	whole := learnStore(t, inv, flows, boltdb.Options{Retention: baseline.Retention{{Bucket: time.Minute}}})
	opts := generator.Options{SkipNamespaces: []string{"kube-system"}}
	memcached := func(w *topology.Window) bool {
		return slices.ContainsFunc(w.Edges, func(e topology.EdgeStats) bool { return e.Port == 11211 })
	}
	tests := []struct {
		name         string
		span         time.Duration
		hasMemcached bool
	}{
		{"3h", 3 * time.Hour, false},
		{"30d", 30 * 24 * time.Hour, false},
		{"40d", 40 * 24 * time.Hour, false},
		{"40d without retention", 40 * 24 * time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := kept
			if tt.hasMemcached {
				s = whole
			}
			f := crossFrom(t, inv, windowOf(t, s, end.Add(-tt.span), end), opts)
			if got := memcached(f.win); got != tt.hasMemcached {
				t.Errorf("window holds the api -> memcached edge: %v, want %v", got, tt.hasMemcached)
			}
			checkCrossWorkloads(t, f)
			reportCross(t, runCross(t, f, f.result.Policies))
		})
	}
	t.Run("30d rolled up = 30d never rolled up", func(t *testing.T) {
		from := end.Add(-30 * 24 * time.Hour)
		got := generator.Generate(windowOf(t, kept, from, end), opts).Policies
		want := generator.Generate(windowOf(t, whole, from, end), opts).Policies
		if len(got) != len(want) {
			t.Fatalf("%d policies, want %d", len(got), len(want))
		}
		for i := range got {
			if !equality.Semantic.DeepEqual(got[i].Spec, want[i].Spec) {
				t.Errorf("policy %s/%s differs from the one without retention:\n got %+v\nwant %+v", got[i].Namespace, got[i].Name, got[i].Spec, want[i].Spec)
			}
		}
	})
}

// writeDays writes the records of a flow file once a day for days days,
// the last copy at the file's own times; records to port onlyPort are
// written on the first onlyDays days only.
func writeDays(t *testing.T, path string, days, onlyDays int, onlyPort uint16) string {
	t.Helper()
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var recs []flow.Record
	for r := flow.NewReader(in, path); ; {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, *rec)
	}
	out := filepath.Join(t.TempDir(), "days.jsonl")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	w := flow.NewWriter(f)
	for day := range days {
		for _, rec := range recs {
			if rec.Dst.Port() == onlyPort && day >= onlyDays {
				continue
			}
			rec.Time = rec.Time.AddDate(0, 0, day-days+1)
			if err := w.Write(&rec); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

// learnStore learns a flow file into a new baseline opened with opts.
func learnStore(t testing.TB, inv *inventory.Inventory, flows string, opts boltdb.Options) *boltdb.Store {
	t.Helper()
	store, err := boltdb.Open(filepath.Join(t.TempDir(), "baseline.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := store.Close(); err != nil {
			t.Error(err)
		}
	})
	in, err := os.Open(flows)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	l, err := learn.New(resolve.New(inv, resolve.Options{}), learn.Options{Bucket: store.Bucket(), Source: flows})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := learn.FromReader(t.Context(), flow.NewReader(in, flows), l, store, learn.BatchOptions{}); err != nil {
		t.Fatalf("learn %s: %v", flows, err)
	}
	return store
}

func windowOf(t testing.TB, s *boltdb.Store, from, to time.Time) *topology.Window {
	t.Helper()
	w, err := s.Window(t.Context(), from, to)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// crossFrom is a fixture for a window already read.
func crossFrom(t *testing.T, inv *inventory.Inventory, win *topology.Window, opts generator.Options) *crossFixture {
	t.Helper()
	f := newCrossFixture(inv, win, opts)
	if len(f.result.Policies) == 0 {
		t.Fatal("no policies: nothing for the engine to judge")
	}
	return f
}
