package staged

import (
	"slices"
	"strings"
	"time"

	"github.com/flowpol/flowpol/check"
	"github.com/flowpol/flowpol/topology"
)

// Report is the would-deny record as of a moment.
type Report struct {
	// Since is when the staged set was last changed: the flows are those
	// seen since.
	Since time.Time
	// Now is the moment of the report.
	Now time.Time
	// Denials are the flows the set would deny, as check.Run returns
	// them: their counts, first and last seen those a window over the
	// same flows gives.
	Denials []check.Denial
	// Policies are the staged policies, by name.
	Policies []PolicyStatus
}

// PolicyStatus is one staged policy's record.
type PolicyStatus struct {
	Policy      string // NAMESPACE/NAME
	Fingerprint string // see Fingerprint
	// StagedSince is when this version of the policy was staged here.
	StagedSince time.Time
	// FirstDeny and LastDeny are when a flow it would deny was first and
	// last seen; zero when none was.
	FirstDeny, LastDeny time.Time
	// DeniedAt is when, by the clock, it was last found to deny a flow.
	DeniedAt time.Time
	// Connections are the connections it would have denied.
	Connections uint64
	// Flows are the flows in Report.Denials it would deny, in either
	// direction (a Denial names only the policies of the first).
	Flows int
}

// CleanSince is when p was last found to deny something, or when it was
// staged if it never was.
func (p PolicyStatus) CleanSince() time.Time {
	if p.DeniedAt.After(p.StagedSince) {
		return p.DeniedAt
	}
	return p.StagedSince
}

// Report returns the record now.
func (t *Tracker) Report() Report {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.st
	r := Report{Since: st.Since, Now: t.now().UTC(), Denials: make([]check.Denial, 0, len(st.Flows))}
	flows := map[string]int{}
	for _, f := range st.Flows {
		r.Denials = append(r.Denials, f.denial())
		for _, p := range f.Blamed {
			flows[p]++
		}
	}
	check.SortDenials(r.Denials)
	for name, ps := range st.Policies {
		r.Policies = append(r.Policies, PolicyStatus{Policy: name, Fingerprint: ps.Fingerprint, StagedSince: ps.Since,
			FirstDeny: ps.FirstDeny, LastDeny: ps.LastDeny, DeniedAt: ps.DeniedAt, Connections: ps.Connections, Flows: flows[name]})
	}
	slices.SortFunc(r.Policies, func(a, b PolicyStatus) int { return strings.Compare(a.Policy, b.Policy) })
	return r
}

func (f *flowState) denial() check.Denial {
	es := topology.EdgeStats{Edge: f.Edge, Count: f.count()}
	for i, c := range f.Cells {
		first, last := time.UnixMilli(c.First).UTC(), time.UnixMilli(c.Last).UTC()
		if i == 0 || first.Before(es.First) {
			es.First = first
		}
		if last.After(es.Last) {
			es.Last = last
		}
	}
	return check.Denial{EdgeStats: es, Target: f.Target, Ingress: f.Ingress, Policies: slices.Clone(f.Policies), Reason: f.Reason}
}
