package learn

import (
	"unsafe"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/internal/prefetch"
	"github.com/flowpol/flowpol/resolve"
)

// readAhead is how many records FromReader reads and places before it
// adds the first of them. A cluster's edges are too many for the
// processor's caches, and a record's is found at random: added as soon as
// it is read, a record waits for its edge's memory. Placed when read, the
// record's edge is asked for then (prefetch.Range), and its memory comes
// while the records before it are added, about a microsecond each.
const readAhead = 16

// edgeHot is how much of an edge a record's add reads and writes: up to
// and with its older cells (edge.cell), everything it touches but what
// few records do (the sets' overflow, the values new since the last
// Take).
const edgeHot = unsafe.Offsetof(edge{}.cells) + unsafe.Sizeof(edge{}.cells)

// ahead is a record read ahead: where it was read, its placement, and the
// edge to its first destination, when it has one.
type ahead struct {
	rec   flow.Record
	line  int
	pl    resolve.Placement
	first *edge
}

// place places a record read ahead, and looks up the edge to its first
// destination and asks for its memory. It counts nothing: the record is
// counted when added (addAhead), so that a commit before then does not
// count it as stored.
func (l *Learner) place(a *ahead) {
	a.first = nil
	if ignored(&a.rec) {
		return
	}
	l.res.Place(&a.rec, &a.pl)
	if a.pl.Unknown || a.rec.Count == 0 || len(a.pl.Dsts) == 0 {
		return
	}
	a.first = l.edge(a.pl.Src, a.pl.Dsts[0], a.rec.Proto)
	prefetch.Range(unsafe.Pointer(a.first), edgeHot)
}

// addAhead adds a record read ahead and placed, as Add would have.
func (l *Learner) addAhead(a *ahead) {
	if l.count(&a.rec) {
		l.addPlaced(&a.rec, &a.pl, a.first)
	}
}
