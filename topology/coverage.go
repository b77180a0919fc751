package topology

import (
	"fmt"
	"slices"
	"time"
)

// Coverage is how long a window saw a workload: from the first to the
// last moment of any edge it is an end of, and on how many UTC days.
type Coverage struct {
	First, Last time.Time
	Days        int
}

// Span is how long the workload was observed over: Last - First.
func (c Coverage) Span() time.Duration { return c.Last.Sub(c.First) }

// Coverage returns each workload's coverage in the window: every workload
// that is an end of some edge, whatever the edge's peer.
func (w *Window) Coverage() map[WorkloadRef]Coverage {
	type acc struct {
		first, last time.Time
		days        []int64
	}
	accs := map[WorkloadRef]*acc{}
	for i := range w.Edges {
		e := &w.Edges[i]
		for _, end := range [2]End{e.Src, e.Dst} {
			if end.Kind != KindWorkload {
				continue
			}
			a := accs[end.Workload]
			if a == nil {
				a = &acc{first: e.First, last: e.Last}
				accs[end.Workload] = a
			}
			if e.First.Before(a.first) {
				a.first = e.First
			}
			if e.Last.After(a.last) {
				a.last = e.Last
			}
			a.days = append(a.days, e.Days...)
		}
	}
	out := make(map[WorkloadRef]Coverage, len(accs))
	for ref, a := range accs {
		slices.Sort(a.days)
		out[ref] = Coverage{First: a.first, Last: a.last, Days: len(slices.Compact(a.days))}
	}
	return out
}

// NotRun are the batch workloads of the cluster with no run inside the
// window and no edge in it: their traffic, if they have any, is not in
// the window. A run is inside when it was last scheduled (or, for a Job,
// finished) at or after the window's start, or is under way.
func (w *Window) NotRun() []BatchRun {
	seen := map[WorkloadRef]bool{}
	for i := range w.Edges {
		for _, end := range [2]End{w.Edges[i].Src, w.Edges[i].Dst} {
			if end.Kind == KindWorkload {
				seen[end.Workload] = true
			}
		}
	}
	var out []BatchRun
	for _, b := range w.Cluster.Batch {
		if !b.Active && b.Last.Before(w.From) && !seen[b.Ref] {
			out = append(out, b)
		}
	}
	return out
}

// UnixDay is the UTC day of a moment, unix milliseconds: days since
// 1970-01-01, rounded down.
func UnixDay(ms int64) int64 {
	const dayMS = 86400 * 1000
	d := ms / dayMS
	if ms%dayMS < 0 {
		d--
	}
	return d
}

// String says the coverage for people: "3 days with traffic over 6d2h".
func (c Coverage) String() string {
	days := fmt.Sprintf("%d days", c.Days)
	if c.Days == 1 {
		days = "1 day"
	}
	return days + " with traffic over " + roughSpan(c.Span())
}

// roughSpan writes a span in its two largest units, rounded down: "6d2h",
// "5h12m", "12m30s", "0s".
func roughSpan(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d >= day:
		return fmt.Sprintf("%dd%dh", d/day, d%day/time.Hour)
	case d >= time.Hour:
		return fmt.Sprintf("%dh%dm", d/time.Hour, d%time.Hour/time.Minute)
	case d >= time.Minute:
		return fmt.Sprintf("%dm%ds", d/time.Minute, d%time.Minute/time.Second)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}
