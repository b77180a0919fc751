package boltdb

import (
	"bytes"
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/flow"
)

// Retain rolls blocks older than a tier keeps into the next tier and
// deletes those past the last, as of now, in one transaction; edges with
// nothing left are removed. Tiers are cut at whole blocks. A file then
// mostly free is compacted.
func (s *Store) Retain(ctx context.Context, now time.Time) (baseline.Retained, error) {
	if err := ctx.Err(); err != nil {
		return baseline.Retained{}, err
	}
	var out baseline.Retained
	s.edges.mu.Lock()
	defer s.edges.mu.Unlock()
	s.edges.edges = nil // edges may go
	err := s.update(func(tx *bolt.Tx) error {
		st, err := readState(tx)
		if err != nil {
			return err
		}
		if out, err = retainTx(tx, st, baseline.ClampUnix(now)); err != nil {
			return err
		}
		st.retained = baseline.ClampUnix(now)
		return writeState(tx, st)
	})
	if err != nil {
		return out, fmt.Errorf("retain in %s: %w", s.path, err)
	}
	return out, s.compactIfFree(ctx)
}

// retainIfDue runs retention in Apply's transaction when a finest bucket
// width of data time passed since it last ran. Data time is the end of the
// newest cell held or applied, but never later than the clock: a replay of
// old records keeps their detail, and one record from the future cannot
// age everything out.
func (s *Store) retainIfDue(tx *bolt.Tx, st *state, d *baseline.Delta) (bool, error) {
	newest := st.newest
	for i := range d.Edges {
		for _, c := range d.Edges[i].Cells {
			newest = max(newest, c.Start+st.ret.Width(0))
		}
	}
	asOf := min(newest, baseline.ClampUnix(s.opts.Now()))
	if newest == baseline.NoCut || (st.retained != baseline.NoCut && asOf-st.retained < st.ret.Width(0)) {
		return false, nil
	}
	r, err := retainTx(tx, st, asOf)
	st.retained = asOf
	return r.RolledUp+r.Deleted > 0, err
}

// retainTx advances each tier's cut to its keep as of now, finest first:
// rolled-up blocks can then be aged out of the next tier in the same pass.
func retainTx(tx *bolt.Tx, st *state, now int64) (baseline.Retained, error) {
	var out baseline.Retained
	for i := range st.tiers {
		if st.ret[i].Keep == 0 {
			break
		}
		cut := st.ret.Cut(i, now)
		if cut <= st.cuts[i] {
			continue
		}
		cells, err := cutTier(tx, st, i, cut)
		if err != nil {
			return out, err
		}
		st.cuts[i] = cut
		if i+1 < len(st.tiers) {
			out.RolledUp += cells
			continue
		}
		out.Deleted += cells
		removed, err := removeEdges(tx, cut)
		if err != nil {
			return out, err
		}
		out.EdgesRemoved += removed
	}
	return out, nil
}

// cutTier takes a tier's blocks older than cut out of it: into the next
// tier, one cell per block (counts as windows count them: per cell the
// larger of client and server), or, past the last tier, away. It returns
// how many cells it took.
func cutTier(tx *bolt.Tx, st *state, tier int, cut int64) (int, error) {
	b := tx.Bucket(bucketCells)
	n := st.cellsPerBlock(tier)
	var keys [][]byte
	var puts []blockPut
	taken := 0
	c := b.Cursor()
	stop := tierPrefix(tier, cut)
	for k, v := c.Seek(tierPrefix(tier, baseline.NoCut)); k != nil && bytes.Compare(k, stop) < 0; k, v = c.Next() {
		_, start, id, ok := parseCellKey(k)
		if !ok {
			return 0, fmt.Errorf("%w: cell key %x", ErrCorrupt, k)
		}
		blk, err := decodeSealedBlock(k, v, n)
		if err != nil {
			return 0, err
		}
		taken += blk.cells
		keys = append(keys, bytes.Clone(k))
		if next := st.tierAfter(tier, start); next > tier {
			puts = append(puts, st.rollup(blk, tier, next, start, id))
		}
	}
	removed := map[string]int{}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
		removed[string(k[:9])]--
	}
	if err := addBlockCounts(tx, removed); err != nil {
		return 0, err
	}
	st.tiers[tier].cells -= uint64(taken)
	return taken, mergePuts(tx, st, &mergeBuf{}, puts)
}

// rollup makes a block of a tier one cell of a coarser tier: the next,
// or one further when the next no longer holds the block's time. The
// cell's estimated count is the estimated part of its count.
func (st *state) rollup(blk *block, tier, next int, start int64, id uint64) blockPut {
	var sum, est uint64
	rolled := tier > 0
	for i, set := range blk.set {
		if set {
			sum = flow.AddCounts(sum, max(blk.client[i], blk.server[i]))
			est = flow.AddCounts(est, estimatedPart(blockCell{client: blk.client[i], server: blk.server[i], est: blk.est[i]}, rolled))
		}
	}
	bstart := baseline.FloorTo(start, st.ret.BlockSpan(next))
	w := st.ret.Width(next)
	off := (start - bstart) * 1000
	return blockPut{tier: next, start: bstart, id: id, cells: []cellAt{{
		index: int((baseline.FloorTo(start, w) - bstart) / w), client: sum, server: sum, est: est, first: off + blk.first, last: off + blk.last,
	}}}
}

// tierAfter is the first tier coarser than tier that holds time t, or -1.
func (st *state) tierAfter(tier int, t int64) int {
	for i := tier + 1; i < len(st.tiers); i++ {
		if t >= st.cuts[i] {
			return i
		}
	}
	return -1
}

// removeEdges removes the edges last seen before cut (unix seconds): past
// the last tier, they have nothing left.
func removeEdges(tx *bolt.Tx, cut int64) (int, error) {
	seenB, edges, index := tx.Bucket(bucketSeen), tx.Bucket(bucketEdges), tx.Bucket(bucketEdgeIndex)
	var gone [][]byte
	err := seenB.ForEach(func(k, v []byte) error {
		raw, err := unseal(k, v)
		if err != nil {
			return err
		}
		sn, err := decodeSeen(raw)
		if err != nil {
			return err
		}
		if sn.last < cut*1000 {
			gone = append(gone, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range gone {
		if err := removeEdge(seenB, edges, index, k); err != nil {
			return 0, err
		}
	}
	for _, b := range optionalBuckets { // names and answers past the last tier
		if err := pruneTimed(tx.Bucket(b), cut); err != nil {
			return 0, fmt.Errorf("prune %s: %w", b, err)
		}
	}
	return len(gone), nil
}

func removeEdge(seenB, edges, index *bolt.Bucket, k []byte) error {
	v := edges.Get(k)
	if v != nil {
		raw, err := unseal(k, v)
		if err != nil {
			return err
		}
		rec, err := decodeEdgeRecord(raw)
		if err != nil {
			return err
		}
		if err := index.Delete(rec.key); err != nil {
			return err
		}
	}
	if err := edges.Delete(k); err != nil {
		return err
	}
	return seenB.Delete(k)
}
