package learn

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/inventory"
	"github.com/flowpol/flowpol/resolve"
)

// TestDivideEstimated: a count through a Service over two workloads is
// divided as the servers reported it in the bucket, none of it estimated,
// and evenly where none reported, all of it estimated (Cell.Estimated).
// If it failed, the evidence would call an exact count estimated, or an
// estimate exact.
func TestDivideEstimated(t *testing.T) {
	inv, err := inventory.LoadFile("../testdata/scenarios/split/cluster.yaml")
	if err != nil {
		t.Fatal(err)
	}
	l, err := New(resolve.New(inv, resolve.Options{}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 22, 11, 0, 0, 0, time.UTC)
	client := func(at time.Time, n uint64) *flow.Record {
		return &flow.Record{Time: at, Proto: flow.TCP, Observer: flow.Client, Count: n,
			Src: netip.MustParseAddrPort("10.1.0.10:40000"), Dst: netip.MustParseAddrPort("10.96.0.50:9080")}
	}
	server := func(at time.Time, pod string, n uint64) *flow.Record {
		return &flow.Record{Time: at, Proto: flow.TCP, Observer: flow.Server, Count: n,
			Src: netip.MustParseAddrPort("10.1.0.10:40000"), Dst: netip.AddrPortFrom(netip.MustParseAddr(pod), 9080)}
	}
	later := at.Add(10 * time.Minute)
	for _, r := range []*flow.Record{client(at, 10), server(at, "10.1.0.21", 7), server(at, "10.1.0.22", 3), client(later, 6)} {
		l.Add(r)
	}
	d := l.Take()
	want := map[string][]baseline.Cell{
		"reviews-v1": {{Start: at.Unix(), Client: 7, Server: 7}, {Start: later.Unix(), Client: 3, Estimated: 3}},
		"reviews-v2": {{Start: at.Unix(), Client: 3, Server: 3}, {Start: later.Unix(), Client: 3, Estimated: 3}},
	}
	if d == nil || len(d.Edges) != len(want) {
		t.Fatalf("delta %+v, want %d edges", d, len(want))
	}
	for _, e := range d.Edges {
		cells := slices.Clone(e.Cells)
		for i := range cells {
			cells[i].FirstMS, cells[i].LastMS = 0, 0
		}
		slices.SortFunc(cells, byStart)
		if w := want[e.Edge.Dst.Workload.Name]; !slices.Equal(cells, w) {
			t.Errorf("%s: cells %+v, want %+v", e.Edge, cells, w)
		}
	}
	if l.run.SplitEstimated != 1 {
		t.Errorf("%d buckets split evenly, want 1", l.run.SplitEstimated)
	}
}

func byStart(a, b baseline.Cell) int { return int(a.Start - b.Start) }
