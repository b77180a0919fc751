package generator_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
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
// days, three edges of it only in some periods: api -> memcached on days
// 0-4, the report CronJob -> postgres on days 5-8 and the migrate pod ->
// postgres on days 15-25, day 39 being the file's own. It is learned into a
// baseline keeping 1m:48h,1h:30d and into one keeping every minute. Each
// 3h, 30d and 40d window holds exactly the period edges seen in it (the
// first two aged out of the retained baseline), and the engine finds its
// policies allow exactly what the window holds: each period edge allowed
// in the windows that saw it and denied in the others. The 30d window's
// policies are those of a baseline that never rolled up. If it failed,
// rolled-up or aged-out traffic would change what a long window's policies
// allow, or traffic older than a window would still be allowed by it.
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
	memcached := periodEdge{src: "10.244.1.10", dst: "10.244.1.50", port: 11211, from: 0, to: 4}
	report := periodEdge{src: "10.244.1.30", dst: "10.244.2.40", port: 5432, from: 5, to: 8}
	migrate := periodEdge{src: "10.244.1.40", dst: "10.244.2.40", port: 5432, from: 15, to: 25}
	periods := []periodEdge{memcached, report, migrate}
	flows := writeDays(t, filepath.Join(root, "flows.jsonl"), 40, periods)
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
	tests := []struct {
		name  string
		store *boltdb.Store
		span  time.Duration
		seen  []periodEdge
	}{
		{"3h", kept, 3 * time.Hour, nil},
		{"30d", kept, 30 * 24 * time.Hour, []periodEdge{migrate}},
		{"40d", kept, 40 * 24 * time.Hour, []periodEdge{migrate}},
		{"30d without retention", whole, 30 * 24 * time.Hour, []periodEdge{migrate}},
		{"40d without retention", whole, 40 * 24 * time.Hour, periods},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := crossFrom(t, inv, windowOf(t, tt.store, end.Add(-tt.span), end), opts)
			c := runCross(t, f, f.result.Policies)
			for _, pe := range periods {
				checkPeriodEdge(t, f, c, pe, slices.Contains(tt.seen, pe))
			}
			checkCrossWorkloads(t, f)
			reportCross(t, c)
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

// periodEdge is traffic from pod address src to pod address dst on a TCP
// port, written on days from to to (inclusive) only.
type periodEdge struct {
	src, dst string
	port     uint16
	from, to int
}

func (p periodEdge) matches(rec *flow.Record) bool {
	return rec.Src.Addr().String() == p.src && rec.Dst.Port() == p.port
}

// checkPeriodEdge checks that the window holds the period edge, and that
// the engine allows it from the source pod to the destination pod, exactly
// when seen says the window saw it.
func checkPeriodEdge(t *testing.T, f *crossFixture, c *crossChecker, pe periodEdge, seen bool) {
	t.Helper()
	src, dst := podByIP(t, f, pe.src), podByIP(t, f, pe.dst)
	held := slices.ContainsFunc(f.win.Edges, func(e topology.EdgeStats) bool {
		return e.Port == pe.port && e.Src.Workload == f.wlOf[src] && e.Dst.Workload == f.wlOf[dst]
	})
	if held != seen {
		t.Errorf("window holds %s -> %s on %d (days %d-%d): %v, want %v", podKey(src), podKey(dst), pe.port, pe.from, pe.to, held, seen)
	}
	got, err := c.pe.CheckIfAllowed(podKey(src), podKey(dst), "TCP", strconv.Itoa(int(pe.port)))
	if err != nil {
		t.Fatalf("engine on %s -> %s %d/TCP: %v", podKey(src), podKey(dst), pe.port, err)
	}
	if got != seen {
		t.Errorf("engine allows %s -> %s on %d/TCP (days %d-%d): %v, want %v", podKey(src), podKey(dst), pe.port, pe.from, pe.to, got, seen)
	}
}

func podByIP(t *testing.T, f *crossFixture, ip string) *corev1.Pod {
	t.Helper()
	for _, p := range f.pods {
		if p.Status.PodIP == ip {
			return p
		}
	}
	t.Fatalf("no pod at %s in the inventory", ip)
	return nil
}

// writeDays writes the records of a flow file once a day for days days,
// the last copy at the file's own times; records of a period edge are
// written on its days only.
func writeDays(t *testing.T, path string, days int, periods []periodEdge) string {
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
			if !onDay(periods, &rec, day) {
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

// onDay reports whether a record is written on a day: every day, unless
// it belongs to a period edge whose days do not include it.
func onDay(periods []periodEdge, rec *flow.Record, day int) bool {
	for _, p := range periods {
		if p.matches(rec) {
			return day >= p.from && day <= p.to
		}
	}
	return true
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
