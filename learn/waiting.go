package learn

import (
	"time"

	"github.com/flowpol/flowpol/flow"
)

// queue makes a record wait for a newer cluster state, unless too many
// wait already; it says whether it did.
func (l *Learner) queue(rec *flow.Record) bool {
	if len(l.waiting) >= l.opts.MaxWaiting {
		l.run.WaitFull++
		return false
	}
	l.run.Waited++
	l.waiting = append(l.waiting, waitingRecord{rec: *rec, since: l.opts.Now()})
	l.waitingChanged = true
	return true
}

// Retry, at most once a second, places the waiting records again: those
// the resolver now places, and those that waited MaxWait, are added (the
// latter as they resolve, counted in WaitedOut). It returns how many still
// wait.
func (l *Learner) Retry(now time.Time) int {
	if len(l.waiting) == 0 || now.Sub(l.retried) < time.Second {
		return len(l.waiting)
	}
	l.retried = now
	l.retry(func(w *waitingRecord) bool { return now.Sub(w.since) >= l.opts.MaxWait })
	return len(l.waiting)
}

// Release adds every waiting record as it resolves now, those still
// Unknown counted in WaitedOut: a run's end.
func (l *Learner) Release() {
	l.retry(func(*waitingRecord) bool { return true })
}

// retry places the waiting records again, and adds those the resolver
// places or that are due.
func (l *Learner) retry(due func(*waitingRecord) bool) {
	kept := l.waiting[:0]
	for i := range l.waiting {
		w := &l.waiting[i]
		l.res.Place(&w.rec, &l.pl)
		if l.pl.Unknown && !due(w) {
			kept = append(kept, *w)
			continue
		}
		if l.pl.Unknown {
			l.run.WaitedOut++
		}
		l.add(&w.rec, &l.pl, nil)
	}
	if len(kept) != len(l.waiting) {
		l.waitingChanged = true
	}
	clear(l.waiting[len(kept):])
	l.waiting = kept
}

// Waiting returns how many records wait for a newer cluster state.
func (l *Learner) Waiting() int { return len(l.waiting) }

// Deadline returns when the longest-waiting record's MaxWait ends; the
// zero time when none waits.
func (l *Learner) Deadline() time.Time {
	if len(l.waiting) == 0 {
		return time.Time{}
	}
	return l.waiting[0].since.Add(l.opts.MaxWait)
}

// Restore takes back records a store kept waiting (see KeepWaiting) when
// the process before ended: those the resolver places now are added, the
// others wait again, from now. They are not counted as read again.
func (l *Learner) Restore(recs []flow.Record) {
	now := l.opts.Now()
	for i := range recs {
		l.res.Place(&recs[i], &l.pl)
		if l.pl.Unknown {
			l.waiting = append(l.waiting, waitingRecord{rec: recs[i], since: now})
			continue
		}
		l.add(&recs[i], &l.pl, nil)
		l.waitingChanged = true
	}
}
