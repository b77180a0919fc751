package generator_test

import (
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/flowpol/flowpol/baseline/boltdb"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/generator"
	"github.com/flowpol/flowpol/internal/synth"
	"github.com/flowpol/flowpol/learn"
	"github.com/flowpol/flowpol/resolve"
	"github.com/flowpol/flowpol/topology"
)

// BenchmarkGenerate is `flowpol generate --window 3h` on the baseline of
// the performance target (2,000 workloads, 20,000 workload edges, 10 million
// records); the target is at most 2 s. "generate" times reading the window
// and making the policies, with the CLI's default of skipping kube-system;
// "generate+write" also marshals them to YAML, as `-o -` does;
// "cilium+write" is the same as CiliumNetworkPolicies. Setup learns
// the baseline once, untimed.
func BenchmarkGenerate(b *testing.B) {
	c, err := synth.New(synth.Options{})
	if err != nil {
		b.Fatal(err)
	}
	store := benchBaseline(b, c, synth.BenchRecords(b))
	_, until := c.Span()
	from := until.Add(-3 * time.Hour)
	b.Run("generate", func(b *testing.B) {
		var w *topology.Window
		var res *generator.Result
		for b.Loop() {
			w, res = benchGenerate(b, store, from, until)
		}
		reportGenerate(b, w, res)
	})
	b.Run("generate+write", func(b *testing.B) {
		var w *topology.Window
		var res *generator.Result
		for b.Loop() {
			w, res = benchGenerate(b, store, from, until)
			if err := generator.WriteStream(io.Discard, res.Policies); err != nil {
				b.Fatal(err)
			}
		}
		reportGenerate(b, w, res)
	})
	b.Run("cilium+write", func(b *testing.B) {
		var w *topology.Window
		var res *generator.CiliumResult
		for b.Loop() {
			var err error
			if w, err = store.Window(context.Background(), from, until); err != nil {
				b.Fatal(err)
			}
			if res, err = generator.GenerateCilium(w, generator.Options{SkipNamespaces: []string{"kube-system"}}); err != nil {
				b.Fatal(err)
			}
			if err := generator.WriteObjects(io.Discard, generator.Objects(res.Cilium)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms")
		b.ReportMetric(float64(len(res.Cilium)), "policies")
		b.ReportMetric(float64(len(w.Edges)), "edges")
	})
}

func benchGenerate(b *testing.B, store *boltdb.Store, from, until time.Time) (*topology.Window, *generator.Result) {
	w, err := store.Window(context.Background(), from, until)
	if err != nil {
		b.Fatal(err)
	}
	return w, generator.Generate(w, generator.Options{SkipNamespaces: []string{"kube-system"}})
}

func reportGenerate(b *testing.B, w *topology.Window, res *generator.Result) {
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms")
	b.ReportMetric(float64(len(res.Policies)), "policies")
	b.ReportMetric(float64(len(w.Edges)), "edges")
}

// benchBaseline learns records of the cluster's traffic, streamed from the
// generator without a file, into a baseline and opens it read-only, as
// `flowpol generate` does.
func benchBaseline(b *testing.B, c *synth.Cluster, records int) *boltdb.Store {
	path := filepath.Join(b.TempDir(), "flowpol.db")
	store, err := boltdb.Open(path, boltdb.Options{})
	if err != nil {
		b.Fatal(err)
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(c.WriteFlows(pw, records)) }()
	l, err := learn.New(resolve.New(c.Inventory(), resolve.Options{}), learn.Options{Bucket: store.Bucket()})
	if err != nil {
		b.Fatal(err)
	}
	_, err = learn.FromReader(context.Background(), flow.NewReader(pr, "synthetic"), l, store, learn.BatchOptions{})
	pr.CloseWithError(err) // stops the writer if learning failed
	if err != nil {
		b.Fatal(err)
	}
	if err := store.Close(); err != nil {
		b.Fatal(err)
	}
	store, err = boltdb.Open(path, boltdb.Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	return store
}
