package resolve

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/internal/synth"
)

// BenchmarkResolve is the cost of placing both ends of a flow with the
// indexes, in a synthetic cluster of 4,000 workloads (about 10,000 pods):
// ns/op is per flow.
func BenchmarkResolve(b *testing.B) {
	c, err := synth.New(synth.Options{Workloads: 4000})
	if err != nil {
		b.Fatal(err)
	}
	r := New(c.Inventory(), Options{})
	var p Placement
	var buf bytes.Buffer
	if err := c.WriteFlows(&buf, 100_000); err != nil {
		b.Fatal(err)
	}
	var recs []flow.Record
	rd := flow.NewReader(&buf, "synthetic")
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		recs = append(recs, *rec)
	}
	b.ResetTimer()
	var n int
	for i := 0; b.Loop(); i++ {
		rec := &recs[i%len(recs)]
		r.Place(rec, &p)
		n += len(p.Dsts)
	}
	if n == 0 {
		b.Fatal("nothing resolved")
	}
	b.ReportMetric(float64(len(c.Inventory().Pods)), "pods")
}
