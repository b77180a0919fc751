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
	first, last int64 // bucket starts, unix seconds
}

// Window returns the edges seen in [from, to), rounded out to whole buckets,
// with each edge's evidence in it, and the workloads and cluster facts the
// generator needs. Edges last seen before from are not in it.
func (s *Store) Window(from, to time.Time) (*topology.Window, error) {
	w := &topology.Window{From: from.UTC(), To: to.UTC(), Workloads: map[topology.WorkloadRef]topology.Workload{}}
	err := s.db.View(func(tx *bolt.Tx) error {
		accs, err := s.sumCounts(tx, from, to)
		if err != nil {
			return err
		}
		if err := s.windowEdges(tx, accs, w); err != nil {
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

func (s *Store) sumCounts(tx *bolt.Tx, from, to time.Time) (map[uint64]*windowAcc, error) {
	width := int64(s.bucket / time.Second)
	start := floorDiv(from.Unix(), width) * width
	end := to.Unix()
	if to.Nanosecond() > 0 {
		end++ // a bucket starting within the last second is in the window
	}
	accs := map[uint64]*windowAcc{}
	c := tx.Bucket(bucketCounts).Cursor()
	stop := countKey(end, 0)
	for k, v := c.Seek(countKey(start, 0)); k != nil && bytes.Compare(k, stop) < 0; k, v = c.Next() {
		bucket, id := int64(binary.BigEndian.Uint64(k)), binary.BigEndian.Uint64(k[8:])
		client, server, err := decodeCounts(v)
		if err != nil {
			return nil, fmt.Errorf("counts at %x: %w", k, err)
		}
		a := accs[id]
		if a == nil {
			a = &windowAcc{first: bucket}
			accs[id] = a
		}
		a.count += max(client, server)
		a.last = bucket
	}
	return accs, nil
}

func (s *Store) windowEdges(tx *bolt.Tx, accs map[uint64]*windowAcc, w *topology.Window) error {
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
		st := s.stats(rec, a)
		st.First, st.Last = clampTime(st.First, w.From, w.To), clampTime(st.Last, w.From, w.To)
		w.Edges = append(w.Edges, st)
	}
	return nil
}

// stats is an edge's evidence in a window: the window's buckets bound the
// first and last times the whole baseline recorded.
func (s *Store) stats(rec edgeRecord, a *windowAcc) topology.EdgeStats {
	first := time.Unix(a.first, 0).UTC()
	if rec.First.After(first) {
		first = rec.First
	}
	last := time.Unix(a.last, 0).Add(s.bucket).UTC()
	if rec.Last.Before(last) && !rec.Last.Before(time.Unix(a.last, 0)) {
		last = rec.Last
	}
	return topology.EdgeStats{
		Edge: rec.Edge, Count: a.count, First: first, Last: last,
		SrcPods: len(rec.SrcPods), DstPods: len(rec.DstPods), Nodes: rec.Nodes,
	}
}

func clampTime(t, lo, hi time.Time) time.Time {
	if t.Before(lo) {
		return lo
	}
	if t.After(hi) {
		return hi
	}
	return t
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
	err := s.db.View(func(tx *bolt.Tx) error {
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
