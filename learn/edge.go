package learn

import (
	"slices"

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
	cells   []baseline.Cell
	src     set[uint64]
	dst     set[uint64]
	nodes   set[string]
	srcComm set[string]
	dstComm set[string]
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

// set is a bounded set of what was seen in the run, with what was added
// since the last take apart. The first value seen is kept in the set
// itself too: most edges see one, and compare it without a cache miss.
type set[T comparable] struct {
	first T // seen[0], when seen is not empty
	seen  []T
	fresh []T
}

// add adds v unless it is the zero value, the set is full, or holds it.
func (s *set[T]) add(v T, limit int) {
	var zero T
	if v == zero || v == s.first || len(s.seen) >= limit || len(s.seen) > 1 && slices.Contains(s.seen[1:], v) {
		return
	}
	if len(s.seen) == 0 {
		s.first = v
	}
	s.seen = append(s.seen, v)
	s.fresh = append(s.fresh, v)
}

// take hands out what was added since the last take.
func (s *set[T]) take() []T {
	f := s.fresh
	s.fresh = nil
	return f
}

func (e *edge) add(start int64, ms uint32, rec *flow.Record) {
	c := e.cell(start, ms)
	if rec.Observer == flow.Server {
		c.Server = flow.AddCounts(c.Server, rec.Count)
		e.served = flow.AddCounts(e.served, rec.Count)
		e.dstComm.add(rec.Comm, maxStrings)
	} else {
		c.Client = flow.AddCounts(c.Client, rec.Count)
		e.srcComm.add(rec.Comm, maxStrings)
	}
	c.FirstMS, c.LastMS = min(c.FirstMS, ms), max(c.LastMS, ms)
	e.nodes.add(rec.Node, maxStrings)
}

func (e *edge) addPods(src, dst uint64) {
	e.src.add(src, maxPods)
	e.dst.add(dst, maxPods)
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
		SrcPods: e.src.take(), DstPods: e.dst.take(), Nodes: e.nodes.take(),
		SrcComms: e.srcComm.take(), DstComms: e.dstComm.take(), Names: e.takeNames(),
	}
	e.cells, e.hasCur = nil, false
	e.touched = false
	return d
}
