package clickhouse

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/baseline/boltdb"
	"github.com/flowpol/flowpol/internal/synth"
	"github.com/flowpol/flowpol/topology"
)

// For the same records, every window ClickHouse answers is the embedded
// store's, deep-equal (the whole topology.Window, so a field added to it
// and filled by one store only fails here), with tiers rolled up as
// records arrive over three days, on one server and on two shards.
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
	learnInto(t, c, recs, bolt, 3_000)
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
			learnInto(t, c, recs, ch, 3_000)
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
			}
		})
	}
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
