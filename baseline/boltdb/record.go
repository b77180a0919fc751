package boltdb

import (
	"encoding/binary"
	"slices"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/topology"
)

// Bounds on what an edge remembers: pods per end, and nodes and process
// names.
const (
	maxPods    = 1024
	maxStrings = 16
)

// edgeRecord is an edge's value in the edges bucket. It changes only when
// new pods, nodes or processes show the edge.
type edgeRecord struct {
	key                []byte // the edge key
	edge               topology.Edge
	srcPods, dstPods   []uint64
	nodes              []string
	srcComms, dstComms []string
}

func (r *edgeRecord) encode() []byte {
	b := appendString(make([]byte, 0, 64+8*(len(r.srcPods)+len(r.dstPods))), string(r.key))
	for _, pods := range [][]uint64{r.srcPods, r.dstPods} {
		b = binary.AppendUvarint(b, uint64(len(pods)))
		for _, p := range pods {
			b = binary.AppendUvarint(b, p)
		}
	}
	for _, set := range [][]string{r.nodes, r.srcComms, r.dstComms} {
		b = binary.AppendUvarint(b, uint64(len(set)))
		for _, s := range set {
			b = appendString(b, s)
		}
	}
	return b
}

func decodeEdgeRecord(v []byte) (edgeRecord, error) {
	d := decoder{b: v}
	r := edgeRecord{key: d.bytes(d.uvarint())}
	r.srcPods, r.dstPods = d.pods(), d.pods()
	r.nodes, r.srcComms, r.dstComms = d.strings(), d.strings(), d.strings()
	if err := d.done(); err != nil {
		return r, err
	}
	var err error
	r.edge, err = decodeEdgeKey(r.key)
	return r, err
}

func (d *decoder) pods() []uint64 {
	n := d.count()
	var out []uint64
	for range n {
		out = append(out, d.uvarint())
	}
	return out
}

func (d *decoder) strings() []string {
	n := d.count()
	var out []string
	for range n {
		out = append(out, d.string())
	}
	return out
}

// merge adds a delta's pods, nodes and processes, and says whether that
// changed the record.
func (r *edgeRecord) merge(e *baseline.EdgeDelta) bool {
	n := len(r.srcPods) + len(r.dstPods) + len(r.nodes) + len(r.srcComms) + len(r.dstComms)
	r.srcPods = mergePods(r.srcPods, e.SrcPods)
	r.dstPods = mergePods(r.dstPods, e.DstPods)
	r.nodes = mergeStrings(r.nodes, e.Nodes)
	r.srcComms = mergeStrings(r.srcComms, e.SrcComms)
	r.dstComms = mergeStrings(r.dstComms, e.DstComms)
	return n != len(r.srcPods)+len(r.dstPods)+len(r.nodes)+len(r.srcComms)+len(r.dstComms)
}

// mergePods adds pods to a sorted set, up to maxPods; zero is no pod.
func mergePods(set, add []uint64) []uint64 {
	for _, p := range add {
		if i, ok := slices.BinarySearch(set, p); !ok && p != 0 && len(set) < maxPods {
			set = slices.Insert(set, i, p)
		}
	}
	return set
}

// mergeStrings adds strings to a sorted set, up to maxStrings.
func mergeStrings(set, add []string) []string {
	for _, s := range add {
		if i, ok := slices.BinarySearch(set, s); !ok && s != "" && len(set) < maxStrings {
			set = slices.Insert(set, i, s)
		}
	}
	return set
}

// seen is an edge's first moment seen over the whole file and the end of
// the last tier's block holding its last (see putSeen); unix milliseconds.
type seen struct{ first, last int64 }

func (s seen) encode() []byte {
	return binary.AppendVarint(binary.AppendVarint(make([]byte, 0, 20), s.first), s.last)
}

func decodeSeen(v []byte) (seen, error) {
	d := decoder{b: v}
	s := seen{first: d.varint(), last: d.varint()}
	return s, d.done()
}

// adds says whether merging the delta would change the record, without
// changing it.
func (r *edgeRecord) adds(e *baseline.EdgeDelta) bool {
	return addsPods(r.srcPods, e.SrcPods) || addsPods(r.dstPods, e.DstPods) ||
		addsStrings(r.nodes, e.Nodes) || addsStrings(r.srcComms, e.SrcComms) || addsStrings(r.dstComms, e.DstComms)
}

func addsPods(set, add []uint64) bool {
	if len(set) >= maxPods {
		return false
	}
	for _, p := range add {
		if _, ok := slices.BinarySearch(set, p); !ok && p != 0 {
			return true
		}
	}
	return false
}

func addsStrings(set, add []string) bool {
	if len(set) >= maxStrings {
		return false
	}
	for _, s := range add {
		if _, ok := slices.BinarySearch(set, s); !ok && s != "" {
			return true
		}
	}
	return false
}
