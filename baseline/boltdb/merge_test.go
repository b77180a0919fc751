package boltdb

import (
	"bytes"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestReadBlocks: the cursor walk of readBlocks finds, for blocks near
// and far apart, present and absent, before, among and after the
// bucket's keys, the value Get finds. If it failed, Apply would merge
// cells into the wrong block or take an existing block for a new one.
func TestReadBlocks(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "b.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket(bucketCells)
		if err != nil {
			return err
		}
		for id := range uint64(3000) {
			if rng.IntN(3) > 0 {
				for _, start := range []int64{-3600, 0, 3600} {
					k := appendCellKey(nil, 0, start, 100+id)
					if err := b.Put(k, append([]byte("v"), k...)); err != nil {
						return err
					}
				}
			}
		}
		for round := range 50 {
			var puts []blockPut
			for range 1 + rng.IntN(2000) {
				puts = append(puts, blockPut{tier: rng.IntN(2), start: int64(rng.IntN(4)-1) * 3600, id: rng.Uint64N(3300)})
			}
			slices.SortFunc(puts, compareBlocks)
			puts = slices.CompactFunc(puts, func(x, y blockPut) bool { return compareBlocks(x, y) == 0 })
			starts := make([]int, len(puts))
			for i := range starts {
				starts[i] = i
			}
			got := readBlocks(b, puts, starts, make([][]byte, len(starts)))
			for i, p := range puts {
				k := appendCellKey(nil, p.tier, p.start, p.id)
				if want := b.Get(k); !bytes.Equal(got[i], want) || (got[i] == nil) != (want == nil) {
					t.Fatalf("round %d: block %x: read %q, Get %q", round, k, got[i], want)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
