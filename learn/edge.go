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
	src     podSet
	dst     podSet
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

// podSet is a bounded set of the pods seen at an edge's end in the run.
// The first podsHeld are held in the set itself, the edge's memory: an
// end is mostly a workload of a few pods, compared without reading other
// memory.
type podSet struct {
	n    int // pods in the set
	held [podsHeld]uint64
	more []uint64 // past held
}

const podsHeld = 8

// add adds v unless it is zero, the set is full, or holds it, and
// reports whether it did.
func (s *podSet) add(v uint64, limit int) bool {
	if v == 0 || slices.Contains(s.held[:min(s.n, podsHeld)], v) || s.n >= limit || slices.Contains(s.more, v) {
		return false
	}
	if s.n < podsHeld {
		s.held[s.n] = v
	} else {
		s.more = append(s.more, v)
	}
	s.n++
	return true
}

// values returns the pods in the order added.
func (s *podSet) values() []uint64 {
	return append(slices.Clone(s.held[:min(s.n, podsHeld)]), s.more...)
}

// strSet is a bounded set of strings that finds those the reader interned
// (the same string for the same value) by their address, without reading
// their bytes: a node's name is as long as another's, and elsewhere in
// memory. The first strsHeld are held in the set itself: an edge mostly
// has one process at each end and two nodes, its client's and its
// server's.
type strSet struct {
	n    int
	held [strsHeld]string
	more []string
}

const strsHeld = 2

// add adds v unless it is empty, the set is full, or holds it, and
// reports whether it did. It looks for v by address first, then, when v
// is new or not interned, by its bytes.
func (s *strSet) add(v string, limit int) bool {
	if v == "" || s.hasSame(v) || s.n >= limit || s.hasEqual(v) {
		return false
	}
	if s.n < strsHeld {
		s.held[s.n] = v
	} else {
		s.more = append(s.more, v)
	}
	s.n++
	return true
}

// hasSame reports whether the set holds v itself, by address.
func (s *strSet) hasSame(v string) bool {
	return holdsAddr(s.inline(), v) || holdsAddr(s.more, v)
}

// hasEqual reports whether the set holds a string with v's bytes.
func (s *strSet) hasEqual(v string) bool {
	return slices.Contains(s.inline(), v) || slices.Contains(s.more, v)
}

// inline returns the strings held in the set itself.
func (s *strSet) inline() []string { return s.held[:min(s.n, strsHeld)] }

// holdsAddr reports whether xs holds v itself, by address.
func holdsAddr(xs []string, v string) bool {
	for _, x := range xs {
		if same(x, v) {
			return true
		}
	}
	return false
}

// values returns the strings in the order added.
func (s *strSet) values() []string {
	return append(slices.Clone(s.inline()), s.more...)
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

// take hands out into d the edge's evidence since the last take.
func (e *edge) take(d *baseline.EdgeDelta) {
	cells := e.cells
	if e.hasCur {
		cells = append(cells, e.cur)
	}
	d.Edge, d.Cells = e.edge, cells
	d.SrcPods, d.DstPods, d.Nodes = e.fresh.src, e.fresh.dst, e.fresh.nodes
	d.SrcComms, d.DstComms, d.Names = e.fresh.srcComm, e.fresh.dstComm, e.takeNames()
	e.fresh = fresh{}
	e.cells, e.hasCur = nil, false
	e.touched = false
}
