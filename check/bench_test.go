package check_test

import (
	"bytes"
	"context"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/flowpol/flowpol/baseline/boltdb"
	"github.com/flowpol/flowpol/check"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/generator"
	"github.com/flowpol/flowpol/internal/synth"
	"github.com/flowpol/flowpol/learn"
	"github.com/flowpol/flowpol/resolve"
)

// BenchmarkCheck replays the synthetic baseline of the performance target
// (2,000 workloads, over 20,000 edges) against the 2,000 policies generated
// from it: the time of one check and the memory it allocates.
func BenchmarkCheck(b *testing.B) {
	c, err := synth.New(synth.Options{})
	if err != nil {
		b.Fatal(err)
	}
	s, err := boltdb.Open(filepath.Join(b.TempDir(), "f.db"), boltdb.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var buf bytes.Buffer
	if err := c.WriteFlows(&buf, 200_000); err != nil {
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
	policies := generator.Generate(w, generator.Options{}).Policies
	var res *check.Result
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
	b.ReportMetric(float64(res.Checked), "edges")
	b.ReportMetric(float64(len(policies)), "policies")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/(1<<20), "alloc-MiB/op")
}
