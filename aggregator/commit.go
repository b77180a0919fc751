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

// commitBatch is what one transaction writes.
type commitBatch struct {
	pending   map[edgeKey]*pendingEdge
	ends      []topology.End
	workloads map[topology.WorkloadRef]topology.Workload // nil: unchanged
	cluster   topology.Cluster
}

// edgeRecord is an edge's value in the edges bucket.
type edgeRecord struct {
	Edge    topology.Edge `json:"edge"`
	First   time.Time     `json:"first"`
	Last    time.Time     `json:"last"`
	SrcPods []uint64      `json:"src_pods,omitempty"`
	DstPods []uint64      `json:"dst_pods,omitempty"`
	Nodes   []string      `json:"nodes,omitempty"`
}

type countPut struct {
	key []byte
	counts
}

// commit writes a batch in one transaction and returns how many of its
// edges were new to the file.
func (s *Store) commit(b *commitBatch) (int, error) {
	var newEdges int
	err := s.db.Update(func(tx *bolt.Tx) error {
		var puts []countPut
		for k, pe := range b.pending {
			edge := topology.Edge{Src: b.ends[k.src], Dst: b.ends[k.dst], Port: k.port, Proto: k.proto}
			id, isNew, err := s.mergeEdge(tx, edge, pe)
			if err != nil {
				return fmt.Errorf("edge %s: %w", edge, err)
			}
			if isNew {
				newEdges++
			}
			for _, c := range pe.cells {
				puts = append(puts, countPut{countKey(c.bucket, id), c.counts})
			}
		}
		if err := addCounts(tx.Bucket(bucketCounts), puts); err != nil {
			return err
		}
		if b.workloads != nil {
			return putInventory(tx, b.workloads, b.cluster)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("commit to %s: %w", s.path, err)
	}
	return newEdges, nil
}

// mergeEdge adds a pending edge's evidence to its record, creating the
// record and its id when the edge is new.
func (s *Store) mergeEdge(tx *bolt.Tx, edge topology.Edge, pe *pendingEdge) (uint64, bool, error) {
	index, edges := tx.Bucket(bucketEdgeIndex), tx.Bucket(bucketEdges)
	key := []byte(edge.String())
	rec := edgeRecord{Edge: edge}
	var id uint64
	isNew := true
	if v := index.Get(key); v != nil {
		id, isNew = binary.BigEndian.Uint64(v), false
		if err := json.Unmarshal(edges.Get(idKey(id)), &rec); err != nil {
			return 0, false, fmt.Errorf("decode edge %d: %w", id, err)
		}
	} else {
		var err error
		if id, err = edges.NextSequence(); err != nil {
			return 0, false, err
		}
		if err := index.Put(key, idKey(id)); err != nil {
			return 0, false, err
		}
	}
	rec.merge(pe)
	return id, isNew, putJSON(edges, idKey(id), &rec)
}

func (r *edgeRecord) merge(pe *pendingEdge) {
	first, last := time.Unix(0, pe.first).UTC(), time.Unix(0, pe.last).UTC()
	if r.First.IsZero() || first.Before(r.First) {
		r.First = first
	}
	if last.After(r.Last) {
		r.Last = last
	}
	r.SrcPods = mergePods(r.SrcPods, pe.srcPods)
	r.DstPods = mergePods(r.DstPods, pe.dstPods)
	for _, n := range pe.nodes {
		if !slices.Contains(r.Nodes, n) {
			r.Nodes = append(r.Nodes, n)
		}
	}
	slices.Sort(r.Nodes)
}

func mergePods(set, add []uint64) []uint64 {
	for _, p := range add {
		set = addPod(set, p)
	}
	slices.Sort(set)
	return set
}

// addCounts adds counts to their cells in key order, which keeps bbolt's
// pages filling from the left.
func addCounts(b *bolt.Bucket, puts []countPut) error {
	slices.SortFunc(puts, func(x, y countPut) int { return bytes.Compare(x.key, y.key) })
	b.FillPercent = 0.9
	var buf []byte
	for _, p := range puts {
		c := p.counts
		if v := b.Get(p.key); v != nil {
			old, err := decodeCounts(v)
			if err != nil {
				return fmt.Errorf("counts at %x: %w", p.key, err)
			}
			c.add(old)
		}
		buf = c.appendTo(buf[:0])
		if err := b.Put(p.key, bytes.Clone(buf)); err != nil {
			return err
		}
	}
	return nil
}

// appendTo encodes counts as four uvarints.
func (c counts) appendTo(b []byte) []byte {
	for _, v := range [...]uint64{c.client, c.server, c.firstMS, c.lastMS} {
		b = binary.AppendUvarint(b, v)
	}
	return b
}

func decodeCounts(v []byte) (counts, error) {
	var vals [4]uint64
	for i := range vals {
		x, n := binary.Uvarint(v)
		if n <= 0 {
			return counts{}, fmt.Errorf("%w: bad counts value", ErrNotBaseline)
		}
		vals[i], v = x, v[n:]
	}
	if len(v) != 0 {
		return counts{}, fmt.Errorf("%w: bad counts value", ErrNotBaseline)
	}
	return counts{client: vals[0], server: vals[1], firstMS: vals[2], lastMS: vals[3]}, nil
}

// putInventory replaces the workloads it names and the cluster facts; the
// workloads of earlier runs stay, since their edges may still be in a
// window.
func putInventory(tx *bolt.Tx, ws map[topology.WorkloadRef]topology.Workload, c topology.Cluster) error {
	b := tx.Bucket(bucketWorkloads)
	for ref, w := range ws {
		if err := putJSON(b, []byte(ref.String()), w); err != nil {
			return err
		}
	}
	return putJSON(tx.Bucket(bucketMeta), keyCluster, c)
}

// putRun records a learning run.
func (s *Store) putRun(sum Summary) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRuns)
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		return putJSON(b, idKey(seq), sum)
	})
	if err != nil {
		return fmt.Errorf("record run in %s: %w", s.path, err)
	}
	return nil
}
