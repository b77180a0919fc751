package wire

import (
	"time"

	"github.com/flowpol/flowpol/check"
)

// PathStaged is the staged policies' would-deny record.
const PathStaged = "/api/v1/staged"

// DeniedFlow is an observed flow a policy set would deny: one line of
// check --format json, and one flow of the staged record.
type DeniedFlow struct {
	Src       string    `json:"src"`
	Dst       string    `json:"dst"`
	Port      uint16    `json:"port"`
	Proto     string    `json:"proto"`
	Count     uint64    `json:"count"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Direction string    `json:"direction"` // ingress or egress
	Target    string    `json:"target"`    // the end whose policies deny it
	Policies  []string  `json:"policies"`
	Reason    string    `json:"reason"`
}

// FromDenial is d as JSON carries it.
func FromDenial(d check.Denial) DeniedFlow {
	return DeniedFlow{Src: d.Src.String(), Dst: d.Dst.String(), Port: d.Port, Proto: d.Proto.String(), Count: d.Count,
		FirstSeen: d.First.UTC(), LastSeen: d.Last.UTC(), Direction: Direction(d.Ingress), Target: d.Target.String(),
		Policies: d.Policies, Reason: d.Reason}
}

// Direction names a direction: ingress or egress.
func Direction(ingress bool) string {
	if ingress {
		return "ingress"
	}
	return "egress"
}

// Staged is the aggregator's record of the staged policies (GET
// /api/v1/staged).
type Staged struct {
	// Since is when the staged set last changed: the flows are those
	// committed since.
	Since time.Time `json:"since"`
	// Now is when the record was read.
	Now time.Time `json:"now"`
	// Flows are the flows the staged set would deny, as check --format
	// json gives them.
	Flows []DeniedFlow `json:"flows"`
	// Policies are the staged policies, by name.
	Policies []StagedPolicy `json:"policies"`
}

// StagedPolicy is one staged policy's record.
type StagedPolicy struct {
	Policy      string    `json:"policy"`      // NAMESPACE/NAME
	Fingerprint string    `json:"fingerprint"` // of its spec: a changed policy is staged afresh
	StagedSince time.Time `json:"staged_since"`
	// FirstWouldDeny and LastWouldDeny are when a flow it would deny was
	// first and last seen; absent when none was.
	FirstWouldDeny time.Time `json:"first_would_deny,omitzero"`
	LastWouldDeny  time.Time `json:"last_would_deny,omitzero"`
	// WouldDeny are the connections it would have denied, Flows the flows
	// it is among the policies of.
	WouldDeny uint64 `json:"would_deny"`
	Flows     int    `json:"flows"`
	// CleanSince is its last would-deny, or when it was staged if it
	// never would; CleanSeconds is how long that was before Now.
	CleanSince   time.Time `json:"clean_since"`
	CleanSeconds float64   `json:"clean_seconds"`
}
