package boltdb

import (
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/internal/duration"
)

// Status describes the file: its schema, size, edges, tiers and the
// learning runs recorded, oldest first.
func (s *Store) Status(ctx context.Context) (baseline.Status, error) {
	if err := ctx.Err(); err != nil {
		return baseline.Status{}, err
	}
	out := baseline.Status{Runs: []baseline.Run{}}
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		if out.Schema, err = fileSchema(tx.Bucket(bucketMeta)); err != nil {
			return err
		}
		out.FileBytes = fileSize(s.path)
		out.Edges = tx.Bucket(bucketEdges).Stats().KeyN
		st, err := readState(tx)
		if err != nil {
			return err
		}
		if out.Tiers, err = tierStatus(tx, st); err != nil {
			return err
		}
		return tx.Bucket(bucketRuns).ForEach(func(k, v []byte) error {
			var r baseline.Run
			if err := getJSON(k, v, &r); err != nil {
				return fmt.Errorf("run: %w", err)
			}
			out.Runs = append(out.Runs, r)
			return nil
		})
	})
	if err != nil {
		return baseline.Status{}, fmt.Errorf("status of %s: %w", s.path, err)
	}
	return out, nil
}

func tierStatus(tx *bolt.Tx, st *state) ([]baseline.TierStatus, error) {
	out := make([]baseline.TierStatus, len(st.tiers))
	for i, t := range st.tiers {
		oldest, err := oldestCell(tx, st, i)
		if err != nil {
			return nil, err
		}
		out[i] = baseline.TierStatus{Bucket: duration.Format(t.Bucket), Keep: baseline.KeepString(t.Keep), Cells: int(t.cells), Oldest: oldest}
	}
	return out, nil
}

// oldestCell is the start of a tier's oldest cell; zero when it has none.
// Its oldest block is the first by key, its oldest cell the first set in
// any of that start's blocks.
func oldestCell(tx *bolt.Tx, st *state, tier int) (time.Time, error) {
	c := tx.Bucket(bucketCells).Cursor()
	k, v := c.Seek(tierPrefix(tier, baseline.NoCut))
	kt, start, _, ok := parseCellKey(k)
	if !ok || kt != tier {
		return time.Time{}, nil
	}
	n := st.cellsPerBlock(tier)
	best := n
	for ; k != nil; k, v = c.Next() {
		if kt, s, _, ok := parseCellKey(k); !ok || kt != tier || s != start {
			break
		}
		raw, err := unseal(k, v)
		if err != nil {
			return time.Time{}, err
		}
		var f, l int64
		err = scanBlock(raw, n, func(i int, _ blockCell) { best = min(best, i) }, &f, &l)
		if err != nil {
			return time.Time{}, fmt.Errorf("block %x: %w", k, err)
		}
	}
	return time.Unix(start+int64(best)*st.ret.Width(tier), 0).UTC(), nil
}
