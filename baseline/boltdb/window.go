package boltdb

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/topology"
)

// windowAcc is an edge's evidence in a window.
type windowAcc struct {
	count, est  uint64
	first, last int64   // unix milliseconds
	days        []int64 // UTC days of each block's first and last moment
}

// Window returns the edges seen in [from, to); see baseline.Store. Each
// tier answers the part of the window it holds, rounded out to its width;
// the window's Resolution says which.
func (s *Store) Window(ctx context.Context, from, to time.Time) (*topology.Window, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	w := &topology.Window{Workloads: map[topology.WorkloadRef]topology.Workload{}}
	err := s.view(func(tx *bolt.Tx) error {
		st, err := readState(tx)
		if err != nil {
			return err
		}
		spans := baseline.WindowSpans(st.ret, st.cuts, from, to)
		baseline.SetBounds(w, st.ret, spans, from, to)
		accs := map[uint64]*windowAcc{}
		for _, sp := range spans {
			if err := sumTier(tx, st, sp, accs); err != nil {
				return err
			}
		}
		if err := windowEdges(tx, accs, w); err != nil {
			return err
		}
		if w.Resolved, err = windowResolved(tx, w.From.UnixMilli(), w.To.UnixMilli()); err != nil {
			return fmt.Errorf("dns answers: %w", err)
		}
		return readInventory(tx, w)
	})
	if err != nil {
		return nil, fmt.Errorf("read window from %s: %w", s.path, err)
	}
	slices.SortFunc(w.Edges, func(a, b topology.EdgeStats) int { return a.Edge.Compare(b.Edge) })
	return w, nil
}

// sumTier adds up each edge's cells in a tier's part of a window.
func sumTier(tx *bolt.Tx, st *state, sp baseline.TierSpan, accs map[uint64]*windowAcc) error {
	n, width, blockSpan := st.cellsPerBlock(sp.Tier), st.ret.Width(sp.Tier), st.ret.BlockSpan(sp.Tier)
	c := tx.Bucket(bucketCells).Cursor()
	first, stop := tierPrefix(sp.Tier, baseline.FloorTo(sp.From, blockSpan)), tierPrefix(sp.Tier, sp.To)
	counted, err := blockCounts(tx, first, stop)
	if err != nil {
		return err
	}
	read := map[string]int64{}
	k, v, err := seekChecked(c, first)
	if err != nil {
		return err
	}
	var prev []byte
	for ; k != nil && bytes.Compare(k, stop) < 0; k, v = c.Next() {
		_, start, id, ok := parseCellKey(k)
		if !ok || bytes.Compare(k, prev) <= 0 {
			return fmt.Errorf("%w: cell key %x out of place", ErrCorrupt, k)
		}
		prev = k
		read[string(k[:9])]++
		raw, err := unseal(k, v)
		if err != nil {
			return err
		}
		lo := int(max(0, (sp.From-start)/width))
		hi := int(min(int64(n), (sp.To-start)/width))
		if err := addBlock(raw, n, lo, hi, sp.Tier > 0, start, width, id, accs); err != nil {
			return fmt.Errorf("block %x: %w", k, err)
		}
	}
	return checkBlockCounts(counted, read)
}

// seekChecked seeks to the first key at or after seek and checks, by
// stepping back, that no earlier leaf holds such a key: a damaged branch
// page must not make a window silently skip blocks.
func seekChecked(c *bolt.Cursor, seek []byte) ([]byte, []byte, error) {
	k, _ := c.Seek(seek)
	if k == nil {
		k, _ = c.Last()
		if k != nil && bytes.Compare(k, seek) >= 0 {
			return nil, nil, fmt.Errorf("%w: key %x not found by seeking", ErrCorrupt, k)
		}
		return nil, nil, nil
	}
	if pk, _ := c.Prev(); pk != nil && bytes.Compare(pk, seek) >= 0 {
		return nil, nil, fmt.Errorf("%w: key %x not found by seeking", ErrCorrupt, pk)
	}
	k, v := c.Seek(seek)
	return k, v, nil
}

// addBlock adds a block's cells lo up to hi to the edge's evidence. The
// first and last moments are the block's exact ones when they fall in
// those cells, else the start of the first or last cell counted.
func addBlock(raw []byte, n, lo, hi int, rolled bool, start, width int64, id uint64, accs map[uint64]*windowAcc) error {
	bs, err := sumBlock(raw, n, lo, hi, rolled)
	if err != nil || bs.firstCell < 0 {
		return err
	}
	firstCell, lastCell, first, last := bs.firstCell, bs.lastCell, bs.first, bs.last
	cellMS := width * 1000
	f, l := start*1000+int64(firstCell)*cellMS, start*1000+int64(lastCell)*cellMS
	if first/cellMS == int64(firstCell) {
		f = start*1000 + first
	}
	if last/cellMS == int64(lastCell) {
		l = start*1000 + last
	}
	a := accs[id]
	if a == nil {
		a = &windowAcc{count: bs.count, est: bs.estimated, first: f, last: l}
		accs[id] = a
	} else {
		a.count, a.est = flow.AddCounts(a.count, bs.count), flow.AddCounts(a.est, bs.estimated)
		a.first, a.last = min(a.first, f), max(a.last, l)
	}
	a.days = addDay(addDay(a.days, topology.UnixDay(f)), topology.UnixDay(l))
	return nil
}

// addDay adds a day to a set kept sorted, each day once.
func addDay(days []int64, d int64) []int64 {
	i, found := slices.BinarySearch(days, d)
	if found {
		return days
	}
	return slices.Insert(days, i, d)
}

func windowEdges(tx *bolt.Tx, accs map[uint64]*windowAcc, w *topology.Window) error {
	edges := tx.Bucket(bucketEdges)
	w.Edges = make([]topology.EdgeStats, 0, len(accs))
	from, to := w.From.UnixMilli(), w.To.UnixMilli()
	for id, a := range accs {
		rec, err := getEdge(edges, id)
		if err != nil {
			return err
		}
		names, err := windowNames(tx, id, from, to)
		if err != nil {
			return fmt.Errorf("edge %d: names: %w", id, err)
		}
		w.Edges = append(w.Edges, topology.EdgeStats{
			Edge: rec.edge, Count: a.count, Estimated: min(a.est, a.count), First: time.UnixMilli(a.first).UTC(), Last: time.UnixMilli(a.last).UTC(),
			SrcPods: len(rec.srcPods), DstPods: len(rec.dstPods), Nodes: rec.nodes,
			SrcComms: rec.srcComms, DstComms: rec.dstComms, Names: names, Days: a.days,
		})
	}
	return nil
}

func readInventory(tx *bolt.Tx, w *topology.Window) error {
	err := tx.Bucket(bucketWorkloads).ForEach(func(k, v []byte) error {
		var wl topology.Workload
		if err := getJSON(k, v, &wl); err != nil {
			return fmt.Errorf("workload: %w", err)
		}
		w.Workloads[wl.Ref] = wl
		return nil
	})
	if err != nil {
		return err
	}
	if v := tx.Bucket(bucketMeta).Get(keyCluster); v != nil {
		if err := getJSON(keyCluster, v, &w.Cluster); err != nil {
			return fmt.Errorf("cluster facts: %w", err)
		}
	}
	return nil
}

// Delivered returns each sender's last batch held.
func (s *Store) Delivered(ctx context.Context) (map[string]uint64, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := map[string]uint64{}
	err := s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDelivered).ForEach(func(k, v []byte) error {
			raw, err := unseal(k, v)
			if err != nil {
				return err
			}
			if len(raw) != 8 {
				return fmt.Errorf("%w: delivered sequence of %q", ErrCorrupt, k)
			}
			out[string(k)] = binary.BigEndian.Uint64(raw)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read delivered batches from %s: %w", s.path, err)
	}
	return out, nil
}

// Attachment returns the value stored under name, or nil.
func (s *Store) Attachment(ctx context.Context, name string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []byte
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAttachments)
		if b == nil {
			return nil
		}
		v := b.Get([]byte(name))
		if v == nil {
			return nil
		}
		raw, err := unseal([]byte(name), v)
		out = bytes.Clone(raw)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read attachment %q from %s: %w", name, s.path, err)
	}
	return out, nil
}

// Waiting returns the records stored as waiting for the cluster state.
func (s *Store) Waiting(ctx context.Context) ([]flow.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []flow.Record
	err := s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketWaiting).ForEach(func(k, v []byte) error {
			raw, err := unseal(k, v)
			if err != nil {
				return err
			}
			rec, err := flow.NewReader(bytes.NewReader(raw), s.path+" (waiting records)").Next()
			if err != nil {
				return fmt.Errorf("%w: waiting record %x: %w", ErrCorrupt, k, err)
			}
			out = append(out, *rec)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read waiting records from %s: %w", s.path, err)
	}
	return out, nil
}
