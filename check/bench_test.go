package check_test

import (
	"bytes"
	"context"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/flowpol/flowpol/baseline/boltdb"
	"github.com/flowpol/flowpol/check"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/generator"
	"github.com/flowpol/flowpol/internal/synth"
	"github.com/flowpol/flowpol/learn"
	"github.com/flowpol/flowpol/resolve"
	"github.com/flowpol/flowpol/topology"
)

// BenchmarkCheck replays a synthetic baseline against the policies
// generated from it: the time of one check and the memory it allocates.
// "workloads=2000" is the performance target's cluster (2,000 workloads,
// over 20,000 edges, 2,000 policies); "workloads=10000" is synth.HeldOut:
// 10,000 workloads with 15,000 workload edges besides DNS, API server and
// external ones, and a fifth of the client records to unknown ports.
// Setup learns each baseline once, untimed, from enough records for every
// edge to appear.
func BenchmarkCheck(b *testing.B) {
	for _, bc := range []struct {
		name    string
		opts    synth.Options
		records int
	}{
		{name: "workloads=2000", records: 200_000},
		{name: "workloads=10000", opts: synth.HeldOut(), records: 300_000},
	} {
		b.Run(bc.name, func(b *testing.B) {
			w := benchWindow(b, bc.opts, bc.records)
			benchCheck(b, w, generator.Generate(w, generator.Options{}).Policies)
		})
	}
}

// benchWindow learns records of a synthetic cluster's traffic into a
// baseline and returns its window.
func benchWindow(b *testing.B, opts synth.Options, records int) *topology.Window {
	c, err := synth.New(opts)
	if err != nil {
		b.Fatal(err)
	}
	if c.Edges() > records {
		b.Fatalf("%d records cannot cover %d edges", records, c.Edges())
	}
	s, err := boltdb.Open(filepath.Join(b.TempDir(), "f.db"), boltdb.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var buf bytes.Buffer
	if err := c.WriteFlows(&buf, records); err != nil {
		b.Fatal(err)
	}
	l, err := learn.New(resolve.New(c.Inventory(), resolve.Options{}), learn.Options{Bucket: s.Bucket()})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := learn.FromReader(context.Background(), flow.NewReader(&buf, "synthetic"), l, s, learn.BatchOptions{}); err != nil {
		b.Fatal(err)
	}
	from, to := c.Span()
	w, err := s.Window(context.Background(), from.Add(-time.Hour), to)
	if err != nil {
		b.Fatal(err)
	}
	return w
}

func benchCheck(b *testing.B, w *topology.Window, policies []networkingv1.NetworkPolicy) {
	var res *check.Result
	var err error
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for b.Loop() {
		if res, err = check.Run(w, policies, nil); err != nil {
			b.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if len(res.Denials) != 0 {
		b.Fatalf("%d observed flows denied by the policies made from them", len(res.Denials))
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms")
	b.ReportMetric(float64(res.Checked), "edges")
	b.ReportMetric(float64(len(policies)), "policies")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/(1<<20), "alloc-MiB/op")
}
