package aggregator

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/resolve"
	"github.com/flowpol/flowpol/topology"
)

// commitBatch is what one transaction writes.
type commitBatch struct {
	pending   map[edgeKey]*pendingEdge
	ends      func(resolve.EndID) topology.End
	known     map[edgeKey]*knownEdge                     // edges committed before, as committed
	workloads map[topology.WorkloadRef]topology.Workload // nil: unchanged
	cluster   topology.Cluster
	delivered map[string]uint64 // each sender's last batch in this commit
	// keepWaiting replaces the stored waiting records with waiting.
	keepWaiting bool
	waiting     []flow.Record
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

// mergedEdge is an edge a commit added or changed, as the file now holds
// it.
type mergedEdge struct {
	key  edgeKey
	edge knownEdge
}

// countPut is counts to add to an edge's cell.
type countPut struct {
	bucket int64
	id     uint64
	counts
}

// commit writes a batch in one transaction. It returns the edges it added
// or changed as the file now holds them, and how many were new to it.
func (s *Store) commit(b *commitBatch) ([]mergedEdge, int, error) {
	var newEdges int
	var merged []mergedEdge
	cells := 0
	for _, pe := range b.pending {
		cells += len(pe.cells)
	}
	err := s.update(func(tx *bolt.Tx) error {
		var err error
		if merged, newEdges, err = s.mergeEdges(tx, b); err != nil {
			return err
		}
		puts := make([]countPut, 0, cells)
		for _, pe := range b.pending {
			for _, c := range pe.cells {
				puts = append(puts, countPut{c.bucket, pe.id, c.counts})
			}
		}
		if err := addCounts(tx.Bucket(bucketCounts), puts); err != nil {
			return err
		}
		if err := putDelivered(tx, b.delivered); err != nil {
			return err
		}
		if b.keepWaiting {
			if err := putWaiting(tx, b.waiting); err != nil {
				return err
			}
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

// mergeEdges gives each pending edge its id, merges the pods and nodes
// the file's record lacks into it, and writes the records that changed. It
// returns those, and how many edges were new to the file.
func (s *Store) mergeEdges(tx *bolt.Tx, b *commitBatch) ([]mergedEdge, int, error) {
	var merged []mergedEdge
	var unknown []unknownEdge
	for k, pe := range b.pending {
		known := pe.known
		if known == nil {
			known = b.known[k]
		}
		switch {
		case known == nil:
			edge := topology.Edge{Src: b.ends(k.src), Dst: b.ends(k.dst), Port: k.port, Proto: k.proto}
			unknown = append(unknown, unknownEdge{k, pe, edge, edge.String()})
		case pe.known == known && !pe.fresh:
			pe.id = known.id // nothing to merge
		default:
			ke, err := s.mergeEdge(tx, *known, pe, false)
			if err != nil {
				return nil, 0, err
			}
			if ke != nil {
				merged = append(merged, mergedEdge{k, *ke})
			}
		}
	}
	// In the index's order: a new edge's key then goes after the last, not
	// into the middle of a node bbolt has to move.
	slices.SortFunc(unknown, func(x, y unknownEdge) int { return strings.Compare(x.index, y.index) })
	newEdges := 0
	for _, u := range unknown {
		ke, isNew, err := loadEdge(tx, u.edge, u.index)
		if err != nil {
			return nil, 0, fmt.Errorf("edge %s: %w", u.edge, err)
		}
		if isNew {
			newEdges++
		}
		m, err := s.mergeEdge(tx, ke, u.pe, isNew)
		if err != nil {
			return nil, 0, err
		}
		if m == nil {
			m = &ke
		}
		merged = append(merged, mergedEdge{u.key, *m}) // not known to the learner yet
	}
	return merged, newEdges, nil
}

// unknownEdge is a pending edge the learner does not know.
type unknownEdge struct {
	key   edgeKey
	pe    *pendingEdge
	edge  topology.Edge
	index string // its key in the index
}

// mergeEdge adds a pending edge's pods and nodes to its record, gives the
// pending edge its id, and writes the record when they changed it or
// write is set. It returns the record when it wrote it, else nil.
func (s *Store) mergeEdge(tx *bolt.Tx, ke knownEdge, pe *pendingEdge, write bool) (*knownEdge, error) {
	pe.id = ke.id
	rec, changed := ke.rec.merge(pe)
	if !changed && !write {
		return nil, nil
	}
	ke.rec = rec
	if err := putJSON(tx.Bucket(bucketEdges), idKey(ke.id), &ke.rec); err != nil {
		return nil, fmt.Errorf("edge %s: %w", rec.Edge, err)
	}
	return &ke, nil
}

// loadEdge reads an edge's record, or gives a new edge its id.
func loadEdge(tx *bolt.Tx, edge topology.Edge, indexKey string) (knownEdge, bool, error) {
	index, edges := tx.Bucket(bucketEdgeIndex), tx.Bucket(bucketEdges)
	key := []byte(indexKey)
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
	slices.SortFunc(puts, func(x, y countPut) int { // as their keys sort
		return cmp.Or(cmp.Compare(uint64(x.bucket), uint64(y.bucket)), cmp.Compare(x.id, y.id))
	})
	b.FillPercent = 0.9
	// Keys and values must stay valid until the transaction commits: they
	// share one arena, sized for the longest encodings so it never moves.
	arena := make([]byte, 0, (16+4*binary.MaxVarintLen64)*len(puts))
	cur := b.Cursor() // one for every lookup: b.Get makes one each time
	for _, p := range puts {
		start := len(arena)
		arena = appendCountKey(arena, p.bucket, p.id)
		key := arena[start:len(arena):len(arena)]
		c := p.counts
		if k, v := cur.Seek(key); v != nil && bytes.Equal(k, key) {
			old, err := decodeCounts(v)
			if err != nil {
				return fmt.Errorf("counts at %x: %w", key, err)
			}
			c.add(old)
		}
		start = len(arena)
		arena = c.appendTo(arena)
		if err := b.Put(key, arena[start:len(arena):len(arena)]); err != nil {
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
