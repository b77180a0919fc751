package aggregator

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/flowpol/flowpol/topology"
)

type windowAcc struct {
	count       uint64
	first, last int64 // unix nanoseconds
}

// Window returns the edges seen in [from, to) rounded out to whole buckets
// (the window's From and To say which), with each edge's evidence in it, and
// the workloads and cluster facts the generator needs. Edges last seen
// before the window are not in it.
func (s *Store) Window(from, to time.Time) (*topology.Window, error) {
	width := int64(s.bucket / time.Second)
	start := floorDiv(from.Unix(), width) * width
	end := -floorDiv(-to.Unix(), width) * width
	if end < to.Unix() || (end == to.Unix() && to.Nanosecond() > 0) {
		end += width
	}
	w := &topology.Window{From: time.Unix(start, 0).UTC(), To: time.Unix(end, 0).UTC(), Workloads: map[topology.WorkloadRef]topology.Workload{}}
	err := s.view(func(tx *bolt.Tx) error {
		accs, err := sumCounts(tx, start, end)
		if err != nil {
			return err
		}
		if err := windowEdges(tx, accs, w); err != nil {
			return err
		}
		return readInventory(tx, w)
	})
	if err != nil {
		return nil, fmt.Errorf("read window from %s: %w", s.path, err)
	}
	slices.SortFunc(w.Edges, func(a, b topology.EdgeStats) int { return a.Edge.Compare(b.Edge) })
	return w, nil
}

// sumCounts adds up each edge's cells in the buckets from start up to end
// (unix seconds, bucket-aligned).
func sumCounts(tx *bolt.Tx, start, end int64) (map[uint64]*windowAcc, error) {
	accs := map[uint64]*windowAcc{}
	c := tx.Bucket(bucketCounts).Cursor()
	stop := countKey(end, 0)
	for k, v := c.Seek(countKey(start, 0)); k != nil && bytes.Compare(k, stop) < 0; k, v = c.Next() {
		bucket, id := int64(binary.BigEndian.Uint64(k)), binary.BigEndian.Uint64(k[8:])
		cs, err := decodeCounts(v)
		if err != nil {
			return nil, fmt.Errorf("counts at %x: %w", k, err)
		}
		base := bucket * int64(time.Second)
		first, last := base+int64(cs.firstMS)*int64(time.Millisecond), base+int64(cs.lastMS)*int64(time.Millisecond)
		a := accs[id]
		if a == nil {
			a = &windowAcc{first: first, last: last}
			accs[id] = a
		}
		a.count += max(cs.client, cs.server)
		a.first, a.last = min(a.first, first), max(a.last, last)
	}
	return accs, nil
}

func windowEdges(tx *bolt.Tx, accs map[uint64]*windowAcc, w *topology.Window) error {
	edges := tx.Bucket(bucketEdges)
	w.Edges = make([]topology.EdgeStats, 0, len(accs))
	for id, a := range accs {
		var rec edgeRecord
		v := edges.Get(idKey(id))
		if v == nil {
			return fmt.Errorf("%w: counts for edge %d, which has no record", ErrNotBaseline, id)
		}
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("decode edge %d: %w", id, err)
		}
		w.Edges = append(w.Edges, topology.EdgeStats{
			Edge: rec.Edge, Count: a.count, First: time.Unix(0, a.first).UTC(), Last: time.Unix(0, a.last).UTC(),
			SrcPods: len(rec.SrcPods), DstPods: len(rec.DstPods), Nodes: rec.Nodes,
			SrcComms: rec.SrcComms, DstComms: rec.DstComms,
		})
	}
	return nil
}

func readInventory(tx *bolt.Tx, w *topology.Window) error {
	err := tx.Bucket(bucketWorkloads).ForEach(func(k, v []byte) error {
		var wl topology.Workload
		if err := json.Unmarshal(v, &wl); err != nil {
			return fmt.Errorf("decode workload %s: %w", k, err)
		}
		w.Workloads[wl.Ref] = wl
		return nil
	})
	if err != nil {
		return err
	}
	if v := tx.Bucket(bucketMeta).Get(keyCluster); v != nil {
		if err := json.Unmarshal(v, &w.Cluster); err != nil {
			return fmt.Errorf("decode cluster facts: %w", err)
		}
	}
	return nil
}

// Runs returns the learning runs recorded in the file, oldest first.
func (s *Store) Runs() ([]Summary, error) {
	var runs []Summary
	err := s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRuns).ForEach(func(k, v []byte) error {
			var sum Summary
			if err := json.Unmarshal(v, &sum); err != nil {
				return fmt.Errorf("decode run %x: %w", k, err)
			}
			runs = append(runs, sum)
			return nil
		})
	})
	return runs, err
}
