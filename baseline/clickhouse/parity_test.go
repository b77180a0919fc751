package clickhouse

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/baseline/boltdb"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/internal/synth"
	"github.com/flowpol/flowpol/topology"
)

// For the same records, every window ClickHouse answers is the embedded
// store's, deep-equal (the whole topology.Window, so a field added to it
// and filled by one store only fails here), with tiers rolled up as
// records arrive over three days, on one server and on two shards; with
// cells of estimated counts (partly, wholly and not at all covered by
// the servers' counts) written to each tier and rolled up.
func TestWindowParity(t *testing.T) {
	srv := startServers(t, 2)
	ret, err := baseline.ParseRetention("1m:6h,1h:2d,1d")
	if err != nil {
		t.Fatal(err)
	}
	end := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	c, recs := synthFlows(t, synth.Options{Workloads: 30, End: end, Span: 72 * time.Hour, Seed: 7}, 40_000)
	clock := func() time.Time { return end }
	bolt := openBolt(t, boltdb.Options{Retention: ret, Now: clock})
	early, late := estimatedDeltas(end)
	learnEstimated(t, c, recs, bolt, early, late)
	estimated := false
	for _, tc := range []struct {
		name    string
		sharded bool
	}{{"one server", false}, {"two shards", true}} {
		t.Run(tc.name, func(t *testing.T) {
			db := "parity_single"
			if tc.sharded {
				db = "parity_sharded"
			}
			ch := openCH(t, storeURL(srv, db, tc.sharded, ""), Options{Retention: ret, Now: clock})
			learnEstimated(t, c, recs, ch, early, late)
			for _, w := range []struct{ from, to time.Time }{
				{end.Add(-3 * time.Hour), end},
				{end.Add(-5*time.Hour - 17*time.Minute), end.Add(-29 * time.Minute)},
				{end.Add(-30 * time.Hour), end.Add(-2 * time.Hour)},
				{end.Add(-80 * time.Hour), end.Add(time.Hour)},
				{end.Add(-71*time.Hour - 13*time.Minute), end.Add(-70 * time.Hour)},
				{end.Add(time.Hour), end.Add(2 * time.Hour)},
			} {
				want, err := bolt.Window(context.Background(), w.from, w.to)
				if err != nil {
					t.Fatal(err)
				}
				got, err := ch.Window(context.Background(), w.from, w.to)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("window %s to %s: %d edges, resolution %v", w.from.Format(time.RFC3339), w.to.Format(time.RFC3339), len(want.Edges), want.Resolution)
				compareWindows(t, w.from, w.to, got, want)
				for _, e := range want.Edges {
					estimated = estimated || e.Estimated > 0
				}
			}
		})
	}
	if !estimated {
		t.Error("no window has estimated counts: the test shows nothing of them")
	}
}

// learnEstimated applies early, learns the records, then applies late:
// early's cells start in the finest tier and are rolled up as the
// records' time passes, late's go to the tiers that hold their times.
func learnEstimated(t *testing.T, c *synth.Cluster, recs []flow.Record, s baseline.Store, early, late *baseline.Delta) {
	t.Helper()
	if _, err := s.Apply(context.Background(), early); err != nil {
		t.Fatal(err)
	}
	learnInto(t, c, recs, s, 3_000)
	if _, err := s.Apply(context.Background(), late); err != nil {
		t.Fatal(err)
	}
}

// estimatedDeltas are cells with estimated counts on two edges of a
// Service over two workloads: early ones three days before end, late
// ones over the last three days.
func estimatedDeltas(end time.Time) (early, late *baseline.Delta) {
	end2 := func(name string) topology.End {
		return topology.End{Kind: topology.KindWorkload, Workload: topology.WorkloadRef{Namespace: "est", Kind: "Deployment", Name: name}}
	}
	edges := []topology.Edge{
		{Src: end2("client"), Dst: end2("v1"), Port: 9080, Proto: flow.TCP},
		{Src: end2("client"), Dst: end2("v2"), Port: 9080, Proto: flow.TCP},
	}
	cells := func(from time.Time, step time.Duration, n int) [][]baseline.Cell {
		out := make([][]baseline.Cell, len(edges))
		for i := range n {
			at := from.Add(time.Duration(i) * step).Truncate(time.Minute)
			k := uint64(i % 4)
			for j := range edges {
				// Estimated in full, exact, partly covered by the server,
				// and covered by more than the client.
				c := []baseline.Cell{
					{Client: 6 + k, Estimated: 6 + k},
					{Client: 3, Server: 3},
					{Client: 8, Server: 2 + k, Estimated: 8},
					{Client: 2, Server: 5 + k, Estimated: 2},
				}[(i+j)%4]
				c.Start, c.FirstMS, c.LastMS = at.Unix(), uint32(i%60)*1000, uint32(i%60)*1000+17
				out[j] = append(out[j], c)
			}
		}
		return out
	}
	delta := func(cs [][]baseline.Cell) *baseline.Delta {
		d := &baseline.Delta{}
		for j, e := range edges {
			d.Edges = append(d.Edges, baseline.EdgeDelta{Edge: e, Cells: cs[j], Nodes: []string{"n"}})
		}
		return d
	}
	return delta(cells(end.Add(-72*time.Hour), 7*time.Minute, 200)), delta(cells(end.Add(-71*time.Hour), 37*time.Minute, 115))
}

func compareWindows(t *testing.T, from, to time.Time, got, want *topology.Window) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		if len(want.Edges) == 0 && from.Before(to.Add(-2*time.Hour)) {
			t.Errorf("window %s to %s: no edges in either store: the test shows nothing", from, to)
		}
		return
	}
	t.Errorf("window %s to %s differs: %d edges, want %d; bounds %s–%s, want %s–%s; resolution %v, want %v",
		from, to, len(got.Edges), len(want.Edges), got.From, got.To, want.From, want.To, got.Resolution, want.Resolution)
	for i := 0; i < min(len(got.Edges), len(want.Edges)); i++ {
		if !reflect.DeepEqual(got.Edges[i], want.Edges[i]) {
			t.Errorf("first differing edge:\n got %+v\nwant %+v", got.Edges[i], want.Edges[i])
			break
		}
	}
	if !reflect.DeepEqual(got.Workloads, want.Workloads) || !reflect.DeepEqual(got.Cluster, want.Cluster) {
		t.Errorf("workloads or cluster facts differ")
	}
}
