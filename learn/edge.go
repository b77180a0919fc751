package learn

import (
	"slices"
	"unsafe"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/topology"
)

// maxPods bounds the distinct pods remembered per edge end, and
// maxStrings the nodes and process names: past them, more are not
// recorded.
const (
	maxPods    = 1024
	maxStrings = 16
)

// edge is an edge's evidence: its cells since the last Take, and the pods,
// nodes and processes seen in the run, of which those new since the last
// Take are handed out with it.
//
// What each record touches comes first, to share the fewest cache lines.
type edge struct {
	touched  bool // in Learner.touched
	external bool // edge.Dst is an external end
	// hasCur says cur holds the newest cell, cells the older ones;
	// latest is the latest start of them all.
	hasCur bool
	cur    baseline.Cell
	latest int64
	// served is the connections its servers reported over the run.
	served  uint64
	src     set[uint64]
	dst     set[uint64]
	nodes   strSet
	srcComm strSet
	dstComm strSet
	cells   []baseline.Cell
	fresh   fresh
	edge    topology.Edge
	backend backendKey
	// names are the DNS names behind the destination, with the moments
	// of the connections they led to; freshNames those changed since the
	// last take.
	names      map[string]*span
	freshNames []string
}

// addName notes that a connection at unix ms ms went to the destination
// through name.
func (e *edge) addName(name string, ms int64) {
	sp := e.names[name]
	switch {
	case sp == nil && len(e.names) >= maxStrings:
		return
	case sp == nil:
		if e.names == nil {
			e.names = map[string]*span{}
		}
		e.names[name] = &span{ms, ms}
	case ms >= sp.first && ms <= sp.last:
		return
	default:
		sp.widen(ms)
		if slices.Contains(e.freshNames, name) {
			return
		}
	}
	e.freshNames = append(e.freshNames, name)
}

func (e *edge) takeNames() []baseline.NameSeen {
	if len(e.freshNames) == 0 {
		return nil
	}
	out := make([]baseline.NameSeen, len(e.freshNames))
	for i, n := range e.freshNames {
		out[i] = baseline.NameSeen{Name: n, First: e.names[n].first, Last: e.names[n].last}
	}
	e.freshNames = nil
	return out
}

// set is a bounded set of what was seen in the run. The first value seen
// is kept in the set itself too: most edges see one, and compare it
// without a cache miss.
type set[T comparable] struct {
	first T // seen[0], when seen is not empty
	seen  []T
}

// add adds v unless it is the zero value, the set is full, or holds it,
// and reports whether it did.
func (s *set[T]) add(v T, limit int) bool {
	var zero T
	if v == zero || v == s.first || len(s.seen) >= limit || len(s.seen) > 1 && slices.Contains(s.seen[1:], v) {
		return false
	}
	if len(s.seen) == 0 {
		s.first = v
	}
	s.seen = append(s.seen, v)
	return true
}

// strSet is a set of strings that finds those the reader interned (the
// same string for the same value) by their address, without reading
// their bytes: a node's name is as long as another's, and elsewhere in
// memory.
type strSet struct {
	set[string]
}

// add adds v unless it is empty, the set is full, or holds it, and
// reports whether it did.
func (s *strSet) add(v string, limit int) bool {
	if v == "" || len(s.seen) >= limit || same(s.first, v) {
		return false
	}
	for _, x := range s.seen {
		if same(x, v) {
			return false
		}
	}
	return s.set.add(v, limit) // compares the bytes: v is new, or not interned
}

// same reports whether a and b are the same string in memory.
func same(a, b string) bool {
	return len(a) == len(b) && unsafe.StringData(a) == unsafe.StringData(b)
}

// fresh are the values added to an edge's sets since the last take, kept
// apart from the sets: few records add one.
type fresh struct {
	src, dst                []uint64
	nodes, srcComm, dstComm []string
}

// note appends v to *fresh if added says it is new.
func note[T any](fresh *[]T, v T, added bool) {
	if added {
		*fresh = append(*fresh, v)
	}
}

func (e *edge) add(start int64, ms uint32, rec *flow.Record) {
	c := e.cell(start, ms)
	if rec.Observer == flow.Server {
		c.Server = flow.AddCounts(c.Server, rec.Count)
		e.served = flow.AddCounts(e.served, rec.Count)
		note(&e.fresh.dstComm, rec.Comm, e.dstComm.add(rec.Comm, maxStrings))
	} else {
		c.Client = flow.AddCounts(c.Client, rec.Count)
		note(&e.fresh.srcComm, rec.Comm, e.srcComm.add(rec.Comm, maxStrings))
	}
	c.FirstMS, c.LastMS = min(c.FirstMS, ms), max(c.LastMS, ms)
	note(&e.fresh.nodes, rec.Node, e.nodes.add(rec.Node, maxStrings))
}

func (e *edge) addPods(src, dst uint64) {
	note(&e.fresh.src, src, e.src.add(src, maxPods))
	note(&e.fresh.dst, dst, e.dst.add(dst, maxPods))
}

// cell finds the bucket's cell, looking from the newest: records come
// roughly in time order, so a start past the latest is a new cell. The
// pointer is valid until the next call.
func (e *edge) cell(start int64, ms uint32) *baseline.Cell {
	if !e.hasCur {
		e.cur, e.hasCur, e.latest = baseline.Cell{Start: start, FirstMS: ms, LastMS: ms}, true, start
		return &e.cur
	}
	if e.cur.Start == start {
		return &e.cur
	}
	if start <= e.latest {
		for i := len(e.cells) - 1; i >= 0; i-- {
			if e.cells[i].Start == start {
				return &e.cells[i]
			}
		}
	}
	e.cells = append(e.cells, e.cur)
	e.cur, e.latest = baseline.Cell{Start: start, FirstMS: ms, LastMS: ms}, max(e.latest, start)
	return &e.cur
}

// take hands out the edge's evidence since the last take.
func (e *edge) take() baseline.EdgeDelta {
	cells := e.cells
	if e.hasCur {
		cells = append(cells, e.cur)
	}
	d := baseline.EdgeDelta{
		Edge: e.edge, Cells: cells,
		SrcPods: e.fresh.src, DstPods: e.fresh.dst, Nodes: e.fresh.nodes,
		SrcComms: e.fresh.srcComm, DstComms: e.fresh.dstComm, Names: e.takeNames(),
	}
	e.fresh = fresh{}
	e.cells, e.hasCur = nil, false
	e.touched = false
	return d
}
