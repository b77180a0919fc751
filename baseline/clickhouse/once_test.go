package clickhouse

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/topology"
)

func onceDelta(sender string, seq uint64, resent bool, client uint64) *baseline.Delta {
	e := topology.Edge{
		Src: topology.End{Kind: topology.KindWorkload, Workload: topology.WorkloadRef{Namespace: "shop", Kind: "Deployment", Name: "web"}},
		Dst: topology.End{Kind: topology.KindExternal, Addr: netip.MustParseAddr("203.0.113.10")}, Port: 443, Proto: flow.TCP,
	}
	start := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC).Unix()
	return &baseline.Delta{
		Edges:     []baseline.EdgeDelta{{Edge: e, Cells: []baseline.Cell{{Start: start, Client: client, FirstMS: 10, LastMS: 20}}, Nodes: []string{"n"}}},
		Delivered: map[string]uint64{sender: seq}, Resent: resent,
	}
}

// A batch committed by two writers counts once: a delta and a resent
// delta of the same batch count as the delta alone, in whichever order
// they land; two resent deltas of one batch count as one; a resent delta
// of another batch counts; and cells whose commit never landed (a writer
// killed between the two inserts) do not count.
func TestExactlyOnce(t *testing.T) {
	srv := startServers(t, 1)
	clock := func() time.Time { return time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC) }
	tests := []struct {
		name   string
		deltas []*baseline.Delta
		want   uint64
	}{
		{"delta then resent", []*baseline.Delta{onceDelta("a", 5, false, 7), onceDelta("a", 5, true, 7)}, 7},
		{"resent then delta", []*baseline.Delta{onceDelta("a", 5, true, 7), onceDelta("a", 5, false, 7)}, 7},
		{"resent twice", []*baseline.Delta{onceDelta("a", 5, true, 7), onceDelta("a", 5, true, 7)}, 7},
		{"another batch", []*baseline.Delta{onceDelta("a", 5, false, 7), onceDelta("a", 6, true, 3)}, 10},
		{"another sender", []*baseline.Delta{onceDelta("a", 5, false, 7), onceDelta("b", 5, true, 3)}, 10},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openCH(t, storeURL(srv, "once"+string(rune('a'+i)), false, ""), Options{Now: clock})
			for _, d := range tc.deltas {
				if _, err := s.Apply(context.Background(), d); err != nil {
					t.Fatal(err)
				}
			}
			if got := total(t, s); got != tc.want {
				t.Errorf("counted %d connections, want %d", got, tc.want)
			}
		})
	}
	t.Run("commit never landed", func(t *testing.T) {
		s := openCH(t, storeURL(srv, "oncelost", false, ""), Options{Now: clock})
		d := onceDelta("a", 1, false, 4)
		st, err := s.state(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		ids := []uint64{edgeID(d.Edges[0].Edge)}
		if err := s.putEdges(context.Background(), d.Edges, ids); err != nil {
			t.Fatal(err)
		}
		cells, _ := s.cellRows(st, newCommitID(), d.Edges, ids)
		if err := s.db.insert(context.Background(), tableCells, cells); err != nil {
			t.Fatal(err)
		}
		if got := total(t, s); got != 0 {
			t.Errorf("cells of no commit counted %d", got)
		}
		if _, err := s.Apply(context.Background(), onceDelta("a", 1, true, 4)); err != nil {
			t.Fatal(err)
		}
		if got := total(t, s); got != 4 {
			t.Errorf("after the batch was sent again: %d, want 4", got)
		}
	})
}

func total(t *testing.T, s *Store) uint64 {
	t.Helper()
	return windowCount(t, s, time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC))
}
