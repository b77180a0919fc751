package clickhouse

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/baseline/boltdb"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/internal/chserver"
	"github.com/flowpol/flowpol/internal/synth"
	"github.com/flowpol/flowpol/learn"
	"github.com/flowpol/flowpol/resolve"
)

// startServers starts n ClickHouse servers of the test's own, as shards of
// one cluster, stopped when the test ends.
func startServers(t testing.TB, n int) []*chserver.Server {
	t.Helper()
	srv, err := chserver.Start(chserver.Options{Dir: t.TempDir(), Shards: n})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chserver.Stop(srv) })
	return srv
}

// url is a store URL on srv; sharded, over all of them.
func storeURL(srv []*chserver.Server, db string, sharded bool, params string) string {
	u := "clickhouse://" + srv[0].Addr() + "/" + db + "?cluster=test"
	if sharded {
		u += "&shards=" + chserver.ClusterName
	}
	if params != "" {
		u += "&" + params
	}
	return u
}

func openCH(t testing.TB, u string, opts Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), u, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func boltOptions() boltdb.Options { return boltdb.Options{} }

func openBolt(t testing.TB, opts boltdb.Options) *boltdb.Store {
	t.Helper()
	s, err := boltdb.Open(filepath.Join(t.TempDir(), "b.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// synthFlows is a small synthetic cluster's traffic over span, as records.
func synthFlows(t testing.TB, opts synth.Options, n int) (*synth.Cluster, []flow.Record) {
	t.Helper()
	c, err := synth.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Records(n)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != n {
		t.Fatalf("read %d synthetic records, want %d", len(out), n)
	}
	return c, out
}

// learnInto learns the records into store in batches of batch records.
func learnInto(t testing.TB, c *synth.Cluster, recs []flow.Record, store baseline.Store, batch int) {
	t.Helper()
	l, err := learn.New(resolve.New(c.Inventory(), resolve.Options{}), learn.Options{Bucket: store.Bucket(), Source: "synth", Now: func() time.Time { return recs[len(recs)-1].Time }})
	if err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		l.Add(&recs[i])
		if (i+1)%batch == 0 || i == len(recs)-1 {
			if d := l.Take(); d != nil {
				if _, err := store.Apply(context.Background(), d); err != nil {
					t.Fatal(fmt.Errorf("apply through record %d: %w", i, err))
				}
			}
		}
	}
}
