package clickhouse

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/flowpol/flowpol/baseline"
)

// Two Kubernetes clusters with different retention in one database share
// the cells' day partitions: each keeps exactly its own tiers' days, and
// its windows count what those tiers hold, whichever writes and retains
// first. If it
// failed, the cluster that keeps less would drop the other's cells with
// the partitions (or leave its own past their cut for ever).
func TestRetentionPerCluster(t *testing.T) {
	srv := startServers(t, 2)
	ctx := context.Background()
	day0 := time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)
	now := day0.Add(5 * 24 * time.Hour)
	clusters := []struct {
		name, retention string
		keeps           []string // tier and day of its cells after retention
		count           uint64   // what a window over the five days counts
	}{
		// Minutes from Nov 20, hours from Nov 19.
		{"short", "1m:1d,1h:2d", []string{"0 2026-11-20", "1 2026-11-19"}, 2 * dayCount},
		// Minutes from Nov 19, hours from Nov 18.
		{"long", "1m:2d,1h:3d", []string{"0 2026-11-19", "0 2026-11-20", "1 2026-11-18"}, 3 * dayCount},
	}
	for _, sharded := range []bool{false, true} {
		for _, first := range []int{0, 1} {
			t.Run(fmt.Sprintf("sharded=%v/first=%s", sharded, clusters[first].name), func(t *testing.T) {
				db := fmt.Sprintf("percluster_%v_%d", sharded, first)
				stores := make([]*Store, len(clusters))
				order := []int{first, 1 - first}
				for _, i := range order {
					ret, err := baseline.ParseRetention(clusters[i].retention)
					if err != nil {
						t.Fatal(err)
					}
					u := strings.Replace(storeURL(srv, db, sharded, ""), "cluster=test", "cluster="+clusters[i].name, 1)
					stores[i] = openCH(t, u, Options{Retention: ret, Now: func() time.Time { return now }})
					for d := range 5 {
						if _, err := stores[i].Apply(ctx, hourDelta(day0.Add(time.Duration(d)*24*time.Hour+12*time.Hour), 3)); err != nil {
							t.Fatal(err)
						}
					}
				}
				for _, i := range append(order, first) {
					if _, err := stores[i].Retain(ctx, now); err != nil {
						t.Fatal(err)
					}
				}
				waitMutations(t, stores[0])
				for i, c := range clusters {
					var got []string
					q := fmt.Sprintf("SELECT DISTINCT concat(toString(tier), ' ', toString(toDate(start))) AS p FROM %s WHERE cluster = %s ORDER BY p",
						stores[i].db.table(tableCells), quoteString(c.name))
					if err := eachRowQuery(stores[i], q, func(v string) { got = append(got, v) }); err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(got, c.keeps) {
						t.Errorf("%s holds cells of %q, want %q", c.name, got, c.keeps)
					}
					if n := windowCount(t, stores[i], day0, now); n != c.count {
						t.Errorf("%s's window counts %d, want %d", c.name, n, c.count)
					}
				}
			})
		}
	}
}

// dayCount is what hourDelta(…, 3) counts: 3 edges, 60 minutes of 1 to 7.
const dayCount = 3 * (8*(1+2+3+4+5+6+7) + 1 + 2 + 3 + 4)

func windowCount(t *testing.T, s *Store, from, to time.Time) uint64 {
	t.Helper()
	w, err := s.Window(context.Background(), from, to)
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, e := range w.Edges {
		n += e.Count
	}
	return n
}

// waitMutations waits until every shard has finished its mutations of
// the store's database.
func waitMutations(t *testing.T, s *Store) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var pending uint64
		err := s.db.onShards(context.Background(), func(ctx context.Context, c shardConn) error {
			var n uint64
			q := "SELECT count() FROM system.mutations WHERE NOT is_done AND database = " + quoteString(s.db.opts.database)
			if err := c.conn.QueryRow(ctx, q).Scan(&n); err != nil {
				return err
			}
			pending += n
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if pending == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d mutations still running", pending)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
