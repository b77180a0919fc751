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
// divided as the servers reported it in the bucket, none of it estimated;
// where none reported in the bucket, as each workload's servers reported
// over the run, or evenly when one of them never did, all of it estimated
// (Cell.Estimated). If it failed, the evidence would call an exact count
// estimated, or an estimate exact, or an estimate would ignore what the
// servers reported.
func TestDivideEstimated(t *testing.T) {
	inv, err := inventory.LoadFile("../testdata/scenarios/split/cluster.yaml")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 22, 11, 0, 0, 0, time.UTC)
	later := at.Add(10 * time.Minute)
	client := func(at time.Time, n uint64) *flow.Record {
		return &flow.Record{Time: at, Proto: flow.TCP, Observer: flow.Client, Count: n,
			Src: netip.MustParseAddrPort("10.1.0.10:40000"), Dst: netip.MustParseAddrPort("10.96.0.50:9080")}
	}
	server := func(at time.Time, pod string, n uint64) *flow.Record {
		return &flow.Record{Time: at, Proto: flow.TCP, Observer: flow.Server, Count: n,
			Src: netip.MustParseAddrPort("10.1.0.10:40000"), Dst: netip.AddrPortFrom(netip.MustParseAddr(pod), 9080)}
	}
	for _, tc := range []struct {
		name      string
		records   []*flow.Record
		want      map[string][]baseline.Cell
		estimated uint64 // buckets
	}{{
		name:    "as reported in the bucket, then as over the run",
		records: []*flow.Record{client(at, 10), server(at, "10.1.0.21", 7), server(at, "10.1.0.22", 3), client(later, 6)},
		want: map[string][]baseline.Cell{
			"reviews-v1": {{Start: at.Unix(), Client: 7, Server: 7}, {Start: later.Unix(), Client: 4, Estimated: 4}},
			"reviews-v2": {{Start: at.Unix(), Client: 3, Server: 3}, {Start: later.Unix(), Client: 2, Estimated: 2}},
		},
		estimated: 1,
	}, {
		name:    "a server reported later in the run",
		records: []*flow.Record{client(at, 6), server(later, "10.1.0.21", 1), server(later.Add(time.Minute), "10.1.0.22", 2)},
		want: map[string][]baseline.Cell{
			"reviews-v1": {{Start: at.Unix(), Client: 2, Estimated: 2}, {Start: later.Unix(), Server: 1}},
			"reviews-v2": {{Start: at.Unix(), Client: 4, Estimated: 4}, {Start: later.Add(time.Minute).Unix(), Server: 2}},
		},
		estimated: 1,
	}, {
		name:    "evenly: one backend never reported",
		records: []*flow.Record{client(at, 6), server(later, "10.1.0.21", 5)},
		want: map[string][]baseline.Cell{
			"reviews-v1": {{Start: at.Unix(), Client: 3, Estimated: 3}, {Start: later.Unix(), Server: 5}},
			"reviews-v2": {{Start: at.Unix(), Client: 3, Estimated: 3}},
		},
		estimated: 1,
	}, {
		name:    "evenly: no server reported",
		records: []*flow.Record{client(at, 5)},
		want: map[string][]baseline.Cell{
			"reviews-v1": {{Start: at.Unix(), Client: 3, Estimated: 3}},
			"reviews-v2": {{Start: at.Unix(), Client: 2, Estimated: 2}},
		},
		estimated: 1,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := New(resolve.New(inv, resolve.Options{}), Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range tc.records {
				l.Add(r)
			}
			d := l.Take()
			if d == nil || len(d.Edges) != len(tc.want) {
				t.Fatalf("delta %+v, want %d edges", d, len(tc.want))
			}
			for _, e := range d.Edges {
				cells := slices.Clone(e.Cells)
				for i := range cells {
					cells[i].FirstMS, cells[i].LastMS = 0, 0
				}
				slices.SortFunc(cells, byStart)
				if w := tc.want[e.Edge.Dst.Workload.Name]; !slices.Equal(cells, w) {
					t.Errorf("%s: cells %+v, want %+v", e.Edge, cells, w)
				}
			}
			if l.run.SplitEstimated != tc.estimated {
				t.Errorf("%d buckets estimated, want %d", l.run.SplitEstimated, tc.estimated)
			}
		})
	}
}

func byStart(a, b baseline.Cell) int { return int(a.Start - b.Start) }
