package aggregator

import "github.com/flowpol/flowpol/flow"

// Sealed is what a Learner aggregated up to a moment, taken out of it so
// that it can be committed while the learner goes on adding records: the
// learner's state is double-buffered. Seal takes it out, Commit writes it,
// Committed gives the learner the result.
type Sealed struct {
	store    *Store
	b        *commitBatch
	records  uint64 // the learner's records read when it was sealed
	line     int
	merged   []mergedEdge // set by Commit
	newEdges int
}

// Seal takes out of the learner what it aggregated since the last seal,
// with each sender's last batch in delivered (see CommitDelivered), for
// Sealed.Commit; the learner starts aggregating afresh. It returns nil when
// there is nothing to commit.
//
// Seal only after the learner took the result of the Sealed before
// (Committed): the new one is merged into the edges as that one left them.
func (l *Learner) Seal(delivered map[string]uint64) *Sealed {
	if l.inBatch == 0 && len(l.pending) == 0 && l.wroteInv && len(delivered) == 0 && !l.waitingChanged {
		return nil
	}
	b := &commitBatch{pending: l.pending, ends: l.res.End, known: l.known, delivered: delivered}
	if !l.wroteInv {
		b.workloads, _ = l.res.Workloads(0)
		b.cluster = l.res.Cluster()
		l.wroteInv = true
	}
	if l.opts.KeepWaiting && l.waitingChanged {
		b.keepWaiting = true
		b.waiting = make([]flow.Record, len(l.waiting))
		for i := range l.waiting {
			b.waiting[i] = l.waiting[i].rec
		}
		l.waitingChanged = false
	}
	s := &Sealed{store: l.store, b: b, records: l.sum.Records, line: l.lastLine}
	l.pending, l.spare = l.spare, nil
	if l.pending == nil {
		l.pending = make(map[edgeKey]*pendingEdge, len(b.pending))
	}
	l.newEdges = 0
	l.inBatch = 0
	l.since = l.opts.Now()
	return s
}

// Commit writes s in one transaction. It may run on a goroutine of its own
// while the learner adds records (and only then: not while the learner
// seals, commits or takes a result). A failed commit leaves the learner no
// longer matching the file: start again from the file.
func (s *Sealed) Commit() error {
	merged, newEdges, err := s.store.commit(s.b)
	s.merged, s.newEdges = merged, newEdges
	return err
}

// Committed brings the learner up to date with s, which committed: the
// edges as the file now holds them, and the summary.
func (l *Learner) Committed(s *Sealed) {
	for _, m := range s.merged {
		if ke := l.known[m.key]; ke != nil {
			*ke = m.edge // pending edges point to it
		} else {
			l.known[m.key] = &m.edge
		}
	}
	l.sum.NewEdges += s.newEdges
	l.sum.Edges = len(l.known)
	l.sum.Stored = s.records
	l.sum.StoredLines = s.line
	l.sum.Batches++
	l.recycle(s.b.pending)
	s.b, s.merged = nil, nil
}

// newPending returns an empty pending edge, reusing a committed one's
// memory when it can.
func (l *Learner) newPending(ts int64, known *knownEdge) *pendingEdge {
	n := len(l.free)
	if n == 0 {
		return &pendingEdge{known: known, first: ts, last: ts}
	}
	pe := l.free[n-1]
	l.free = l.free[:n-1]
	*pe = pendingEdge{
		known: known, first: ts, last: ts,
		cells: pe.cells[:0], srcPods: pe.srcPods[:0], dstPods: pe.dstPods[:0],
		nodes: clearStrings(pe.nodes), srcComms: clearStrings(pe.srcComms), dstComms: clearStrings(pe.dstComms),
	}
	return pe
}

// recycle keeps a committed pending map and its edges for reuse; the file
// holds copies of what they held.
func (l *Learner) recycle(pending map[edgeKey]*pendingEdge) {
	for _, pe := range pending {
		l.free = append(l.free, pe)
	}
	clear(pending)
	if l.spare == nil {
		l.spare = pending
	}
}

func clearStrings(s []string) []string {
	clear(s)
	return s[:0]
}
