package resolve

import (
	"testing"

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
	recs, err := c.Records(100_000)
	if err != nil {
		b.Fatal(err)
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
