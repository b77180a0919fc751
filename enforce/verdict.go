package enforce

import (
	"fmt"
	"net/netip"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/flowpol/flowpol/rules"
)

// Kind is what happened to a connection.
type Kind uint8

// The kinds of verdict, as the datapath numbers them.
const (
	Allowed Kind = 0 // a new connection, allowed
	Denied  Kind = 1 // a new connection, denied: dropped, unless in audit mode
	Cut     Kind = 2 // a tracked connection a rule update no longer allows
)

func (k Kind) String() string {
	switch k {
	case Allowed:
		return "allow"
	case Denied:
		return "deny"
	case Cut:
		return "cut"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Verdict is the decision on one connection at one pod's interface.
type Verdict struct {
	Time      time.Time
	Kind      Kind
	Audit     bool // nothing was dropped
	Direction rules.Direction
	Src, Dst  netip.AddrPort
	Proto     corev1.Protocol
	// SrcPod and DstPod name the pods of the addresses, when known.
	SrcPod, DstPod string
	// Rule allowed the connection (nil when the pod is not isolated);
	// Policy isolates the pod that denied it, or is the allowing rule's.
	Rule   *rules.Rule
	Policy string
	// OwnNode says it was allowed as traffic between a pod and its own
	// node, which no rule needs to allow.
	OwnNode bool
}

// String is the verdict as a log line.
func (v Verdict) String() string {
	action := v.Kind.String()
	if v.Kind != Allowed && v.Audit {
		action = "audit " + action // would have been dropped
	}
	dir := "egress from " + orAddr(v.SrcPod, v.Src.Addr())
	if v.Direction == rules.Ingress {
		dir = "ingress to " + orAddr(v.DstPod, v.Dst.Addr())
	}
	s := fmt.Sprintf("%s %s: %s -> %s %s", action, dir, end(v.SrcPod, v.Src), end(v.DstPod, v.Dst), v.Proto)
	switch {
	case v.OwnNode:
		return s + " (a pod and its own node)"
	case v.Rule != nil:
		return s + fmt.Sprintf(" (rule %d: %s %s[%d])", v.Rule.ID, v.Rule.Policy, direction(v.Rule.Direction), v.Rule.Index)
	case v.Policy != "":
		return s + " (isolated by " + v.Policy + ", no rule allows it)"
	}
	return s + " (not isolated)"
}

func direction(d rules.Direction) string {
	if d == rules.Ingress {
		return "ingress"
	}
	return "egress"
}

func orAddr(pod string, a netip.Addr) string {
	if pod != "" {
		return pod
	}
	return a.String()
}

func end(pod string, ap netip.AddrPort) string {
	if pod == "" {
		return ap.String()
	}
	return pod + "(" + ap.String() + ")"
}
