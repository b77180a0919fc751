package learn

import (
	"unsafe"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/internal/prefetch"
	"github.com/flowpol/flowpol/resolve"
)

// readAhead is how many records AddAll and FromReader place before they
// add the first of them. A cluster's edges are too many for the
// processor's caches, and a record's is found at random: added as soon as
// it is placed, a record waits for its edge's memory. Placed ahead, the
// record's edge is asked for then (prefetch.Range), and its memory comes
// while the records before it are added, about a microsecond each.
const readAhead = 16

// edgeHot is how much of an edge a record's add reads and writes: up to
// and with its older cells (edge.cell), everything it touches but what
// few records do (the sets' overflow, the values new since the last
// Take).
const edgeHot = unsafe.Offsetof(edge{}.cells) + unsafe.Sizeof(edge{}.cells)

// ahead is a record placed ahead of its adding, and the edge to its first
// destination, when it has one.
type ahead struct {
	rec   *flow.Record
	pl    resolve.Placement
	key   edgeKey // of first, when keyed
	keyed bool
	first *edge
}

// AddAll adds recs in order, as Add adds each, only faster.
func (l *Learner) AddAll(recs []flow.Record) {
	l.prefetchIndex(recs[:min(len(recs), readAhead)])
	for len(recs) > 0 {
		l.prefetchIndex(recs[min(len(recs), readAhead):min(len(recs), 2*readAhead)])
		n := l.placeAhead(recs)
		for i := range n {
			l.addAhead(i)
		}
		recs = recs[n:]
	}
}

// placeAhead places the first readAhead of recs, or all when fewer, into
// l.ahead and asks for the slot of the edge to each one's first
// destination; then it looks each edge up and asks for its memory. It
// returns how many it placed. It counts nothing: a record is counted when
// added (addAhead), so that a commit before then does not count it as
// stored.
func (l *Learner) placeAhead(recs []flow.Record) int {
	n := min(len(recs), readAhead)
	if l.pre != nil {
		for i := range n {
			l.pre.PrefetchEnds(&recs[i])
		}
	}
	for i := range n {
		a := &l.ahead[i]
		a.rec, a.first, a.keyed = &recs[i], nil, false
		if ignored(a.rec) {
			continue
		}
		l.res.Place(a.rec, &a.pl)
		if a.pl.Unknown || a.rec.Count == 0 || len(a.pl.Dsts) == 0 {
			continue
		}
		a.key, a.keyed = l.edgeKey(a.pl.Src, a.pl.Dsts[0], a.rec.Proto), true
		l.edges.Prefetch(a.key)
	}
	for i := range n {
		if a := &l.ahead[i]; a.keyed {
			a.first = l.edgeAt(a.key)
			prefetch.Range(unsafe.Pointer(a.first), edgeHot)
		}
	}
	return n
}

// prefetchIndex asks for where recs' addresses are looked up, when the
// resolver can: a group of records ahead of their placing.
func (l *Learner) prefetchIndex(recs []flow.Record) {
	if l.pre != nil {
		for i := range recs {
			l.pre.PrefetchIndex(&recs[i])
		}
	}
}

// addAhead adds the ith record placed ahead, as Add would have.
func (l *Learner) addAhead(i int) {
	a := &l.ahead[i]
	if l.count(a.rec) {
		l.addPlaced(a.rec, &a.pl, a.first)
	}
	a.rec = nil
}
