package aggregator

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/flowpol/flowpol/topology"
)

// commitBatch is what one transaction writes.
type commitBatch struct {
	pending   map[edgeKey]*pendingEdge
	ends      []topology.End
	known     map[edgeKey]knownEdge                      // edges committed before, as committed
	workloads map[topology.WorkloadRef]topology.Workload // nil: unchanged
	cluster   topology.Cluster
}

// knownEdge is an edge's id and record as the file holds them.
type knownEdge struct {
	id  uint64
	rec edgeRecord
}

// edgeRecord is an edge's value in the edges bucket. It changes only when
// new pods or nodes show the edge; its counts are in the counts bucket.
type edgeRecord struct {
	Edge     topology.Edge `json:"edge"`
	SrcPods  []uint64      `json:"src_pods,omitempty"`
	DstPods  []uint64      `json:"dst_pods,omitempty"`
	Nodes    []string      `json:"nodes,omitempty"`
	SrcComms []string      `json:"src_comms,omitempty"`
	DstComms []string      `json:"dst_comms,omitempty"`
}

type countPut struct {
	key []byte
	counts
}

// commit writes a batch in one transaction. It returns the batch's edges as
// the file now holds them, and how many were new to it.
func (s *Store) commit(b *commitBatch) (map[edgeKey]knownEdge, int, error) {
	var newEdges int
	merged := make(map[edgeKey]knownEdge, len(b.pending))
	cells := 0
	for _, pe := range b.pending {
		cells += len(pe.cells)
	}
	keys := make([]byte, 0, 16*cells) // one allocation for every key
	err := s.update(func(tx *bolt.Tx) error {
		puts := make([]countPut, 0, cells)
		for k, pe := range b.pending {
			ke, isNew, err := s.mergeEdge(tx, b, k, pe)
			if err != nil {
				return err
			}
			if isNew {
				newEdges++
			}
			merged[k] = ke
			for _, c := range pe.cells {
				keys = appendCountKey(keys, c.bucket, ke.id)
				puts = append(puts, countPut{keys[len(keys)-16:], c.counts})
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
		return nil, 0, fmt.Errorf("commit to %s: %w", s.path, err)
	}
	return merged, newEdges, nil
}

// mergeEdge adds a pending edge's pods and nodes to its record, and writes
// the record when they changed it. An edge not known from an earlier batch
// is looked up, or created with a new id.
func (s *Store) mergeEdge(tx *bolt.Tx, b *commitBatch, k edgeKey, pe *pendingEdge) (knownEdge, bool, error) {
	ke, ok := b.known[k]
	isNew := false
	if !ok {
		edge := topology.Edge{Src: b.ends[k.src], Dst: b.ends[k.dst], Port: k.port, Proto: k.proto}
		var err error
		if ke, isNew, err = loadEdge(tx, edge); err != nil {
			return ke, false, fmt.Errorf("edge %s: %w", edge, err)
		}
	}
	rec, changed := ke.rec.merge(pe)
	ke.rec = rec
	if changed || isNew {
		if err := putJSON(tx.Bucket(bucketEdges), idKey(ke.id), &ke.rec); err != nil {
			return ke, false, fmt.Errorf("edge %s: %w", rec.Edge, err)
		}
	}
	return ke, isNew, nil
}

// loadEdge reads an edge's record, or gives a new edge its id.
func loadEdge(tx *bolt.Tx, edge topology.Edge) (knownEdge, bool, error) {
	index, edges := tx.Bucket(bucketEdgeIndex), tx.Bucket(bucketEdges)
	key := []byte(edge.String())
	if v := index.Get(key); v != nil {
		ke := knownEdge{id: binary.BigEndian.Uint64(v)}
		if err := json.Unmarshal(edges.Get(idKey(ke.id)), &ke.rec); err != nil {
			return ke, false, fmt.Errorf("decode edge %d: %w", ke.id, err)
		}
		return ke, false, nil
	}
	id, err := edges.NextSequence()
	if err != nil {
		return knownEdge{}, false, err
	}
	return knownEdge{id: id, rec: edgeRecord{Edge: edge}}, true, index.Put(key, idKey(id))
}

// merge returns the record with the pending edge's pods and nodes added,
// and whether that changed it. The receiver is not modified.
func (r edgeRecord) merge(pe *pendingEdge) (edgeRecord, bool) {
	out := r
	out.SrcPods = mergePods(r.SrcPods, pe.srcPods)
	out.DstPods = mergePods(r.DstPods, pe.dstPods)
	out.Nodes = mergeStrings(r.Nodes, pe.nodes)
	out.SrcComms = mergeStrings(r.SrcComms, pe.srcComms)
	out.DstComms = mergeStrings(r.DstComms, pe.dstComms)
	changed := len(out.SrcPods) != len(r.SrcPods) || len(out.DstPods) != len(r.DstPods) || len(out.Nodes) != len(r.Nodes) ||
		len(out.SrcComms) != len(r.SrcComms) || len(out.DstComms) != len(r.DstComms)
	return out, changed
}

// mergeStrings returns set with add's strings in it, sorted, up to
// maxStrings; set is not modified.
func mergeStrings(set, add []string) []string {
	out := set
	for _, s := range add {
		if len(out) < maxStrings && !slices.Contains(out, s) {
			out = append(slices.Clip(out), s)
		}
	}
	if len(out) != len(set) {
		slices.Sort(out)
	}
	return out
}

// mergePods returns set with add's pods in it, sorted; set is not
// modified.
func mergePods(set, add []uint64) []uint64 {
	out := set
	for _, p := range add {
		if !containsSorted(set, p) {
			if len(out) == len(set) {
				out = slices.Clone(set)
			}
			out = addPod(out, p)
		}
	}
	if len(out) != len(set) {
		slices.Sort(out)
	}
	return out
}

func containsSorted(set []uint64, p uint64) bool {
	_, ok := slices.BinarySearch(set, p)
	return ok
}

// addCounts adds counts to their cells in key order, which keeps bbolt's
// pages filling from the left.
func addCounts(b *bolt.Bucket, puts []countPut) error {
	slices.SortFunc(puts, func(x, y countPut) int { return bytes.Compare(x.key, y.key) })
	b.FillPercent = 0.9
	// Values must stay valid until the transaction commits: they share one
	// arena, sized for the longest encoding so it never moves.
	arena := make([]byte, 0, 4*binary.MaxVarintLen64*len(puts))
	for _, p := range puts {
		c := p.counts
		if v := b.Get(p.key); v != nil {
			old, err := decodeCounts(v)
			if err != nil {
				return fmt.Errorf("counts at %x: %w", p.key, err)
			}
			c.add(old)
		}
		start := len(arena)
		arena = c.appendTo(arena)
		if err := b.Put(p.key, arena[start:len(arena):len(arena)]); err != nil {
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
	err := s.update(func(tx *bolt.Tx) error {
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
