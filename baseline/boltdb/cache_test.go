package boltdb

import (
	"bytes"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/flowpol/flowpol/baseline"
)

// TestEdgeCacheMatchesFile: a store kept open, which takes edges from
// its cache, writes the same file as one reopened before every delta,
// which reads each edge from the file, for deltas that name an edge
// twice, bring new pods, move its moments seen, and age blocks out. If
// it failed, the cache would make Apply store other records, moments or
// counts than the file says.
func TestEdgeCacheMatchesFile(t *testing.T) {
	ret, err := baseline.ParseRetention("1m:2h,1h:1d")
	if err != nil {
		t.Fatal(err)
	}
	now := day0
	opts := Options{Retention: ret, Now: func() time.Time { return now }}
	dir := t.TempDir()
	cached, err := Open(filepath.Join(dir, "cached.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer cached.Close()
	reopened := filepath.Join(dir, "reopened.db")
	rng := rand.New(rand.NewPCG(1, 2))
	for step := range 200 {
		now = day0.Add(time.Duration(step) * 7 * time.Minute)
		d := randomDelta(rng, now)
		apply(t, cached, d)
		s, err := Open(reopened, opts)
		if err != nil {
			t.Fatal(err)
		}
		apply(t, s, d)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	want := dumpFile(t, reopened, nil)
	if got := dumpFile(t, "", cached); !bytes.Equal(got, want) {
		t.Errorf("the cached store's content (%d bytes) differs from the reopened one's (%d bytes)", len(got), len(want))
	}
}

// randomDelta is a delta of a few of 30 edges, each with a few cells in
// the minutes before now and a pod or two; some edges twice.
func randomDelta(rng *rand.Rand, now time.Time) *baseline.Delta {
	d := &baseline.Delta{}
	for range 1 + rng.IntN(12) {
		e := baseline.EdgeDelta{Edge: simEdge(rng.IntN(30)), SrcPods: []uint64{1 + rng.Uint64N(40)}, Nodes: []string{"node-a"}}
		if rng.IntN(4) == 0 {
			e.DstPods = []uint64{1 + rng.Uint64N(3)}
		}
		for range rng.IntN(4) {
			at := now.Add(-time.Duration(rng.IntN(20*60)) * time.Second)
			c := cell(at, rng.Uint64N(5), rng.Uint64N(5))
			c.Estimated = rng.Uint64N(2)
			e.Cells = append(e.Cells, c)
		}
		d.Edges = append(d.Edges, e)
	}
	return d
}

// dumpFile lists every bucket's keys and values of the file at path, or
// of the open store s.
func dumpFile(tb testing.TB, path string, s *Store) []byte {
	tb.Helper()
	var out bytes.Buffer
	dump := func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error {
				out.WriteString(string(name) + " " + string(k) + " " + string(v) + "\n")
				return nil
			})
		})
	}
	var err error
	if s != nil {
		err = s.view(dump)
	} else {
		var s2 *Store
		if s2, err = Open(path, Options{ReadOnly: true}); err == nil {
			err = s2.view(dump)
			s2.Close()
		}
	}
	if err != nil {
		tb.Fatal(err)
	}
	return out.Bytes()
}
