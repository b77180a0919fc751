package check

import (
	"cmp"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	cnp "sigs.k8s.io/network-policy-api/apis/v1beta1"

	"github.com/flowpol/flowpol/evaluator"
	"github.com/flowpol/flowpol/generator"
	"github.com/flowpol/flowpol/overrides"
	"github.com/flowpol/flowpol/topology"
)

// Denial is an observed flow the policy set would deny.
type Denial struct {
	topology.EdgeStats
	// Target is the end whose policies deny it: the destination for
	// ingress, the source for egress.
	Target   topology.End
	Ingress  bool
	Policies []string
	Reason   string
}

// Result is what a check found.
type Result struct {
	Checked int // observed edges decided
	Denials []Denial
	// Skipped are the observed edges that could not be decided, and why.
	Skipped []string
	// Unmatched are the overrides' exclusions that matched no observed
	// edge, as generate reports them; check applies no other overrides.
	Unmatched []string
}

// Run decides every edge of the window under the policies, but those the
// overrides (which may be nil) exclude: they are listed as skipped.
func Run(w *topology.Window, policies []networkingv1.NetworkPolicy, ov *overrides.Set) (*Result, error) {
	return RunTiered(w, policies, nil, ov)
}

// RunTiered is Run with ClusterNetworkPolicies too, in their tiers around
// the NetworkPolicies (see evaluator.NewTiered).
func RunTiered(w *topology.Window, policies []networkingv1.NetworkPolicy, cluster []cnp.ClusterNetworkPolicy, ov *overrides.Set) (*Result, error) {
	dec, err := NewTieredDecider(w.Cluster.Namespaces, policies, cluster)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	hits := map[int]bool{}
	for _, e := range w.Edges {
		if ov != nil {
			if x, ok := ov.Excludes(e); ok {
				hits[x.Line] = true
				res.Skipped = append(res.Skipped, fmt.Sprintf("%s: excluded by %s:%d", e.Edge, ov.File, x.Line))
				continue
			}
		}
		d, denied, why := dec.Decide(w, e)
		if why != "" {
			res.Skipped = append(res.Skipped, fmt.Sprintf("%s: %s", e.Edge, why))
			continue
		}
		res.Checked++
		if denied {
			res.Denials = append(res.Denials, d)
		}
	}
	if ov != nil {
		res.Unmatched = generator.Unmatched(&overrides.Set{File: ov.File, Exclude: ov.Exclude}, hits, nil)
	}
	SortDenials(res.Denials)
	return res, nil
}

// SortDenials sorts denials as Run returns them: by the end whose
// policies deny them, ingress first, then by edge.
func SortDenials(ds []Denial) {
	slices.SortFunc(ds, func(a, b Denial) int {
		return cmp.Or(a.Target.Compare(b.Target), cmp.Compare(boolInt(b.Ingress), boolInt(a.Ingress)), a.Edge.Compare(b.Edge))
	})
}

// Decider decides observed edges under one policy set, as Run does. It
// is safe for concurrent use.
type Decider struct {
	eng *evaluator.Engine
}

// NewDecider builds a decider for the policies in a cluster whose
// namespaces have these labels (nil: none known).
func NewDecider(nsLabels map[string]map[string]string, policies []networkingv1.NetworkPolicy) (*Decider, error) {
	return NewTieredDecider(nsLabels, policies, nil)
}

// NewTieredDecider is NewDecider with ClusterNetworkPolicies too.
func NewTieredDecider(nsLabels map[string]map[string]string, policies []networkingv1.NetworkPolicy, cluster []cnp.ClusterNetworkPolicy) (*Decider, error) {
	if nsLabels == nil {
		nsLabels = map[string]map[string]string{}
	}
	eng, err := evaluator.NewTiered(nsLabels, policies, cluster)
	if err != nil {
		return nil, err
	}
	return &Decider{eng: eng}, nil
}

// Decide decides one edge, its ends stood in for by w's workloads and
// cluster facts (w's edges are not read): whether the policies deny it,
// with the denial, or why it cannot be decided.
func (dc *Decider) Decide(w *topology.Window, e topology.EdgeStats) (d Denial, denied bool, why string) {
	srcs, why := peers(w, e.Src, e.Src == e.Dst)
	if why != "" {
		return Denial{}, false, why
	}
	dsts, why := peers(w, e.Dst, false)
	if why != "" {
		return Denial{}, false, why
	}
	if e.Src.Kind == topology.KindOwnNode || e.Dst.Kind == topology.KindOwnNode {
		onOneNode(srcs)
		onOneNode(dsts)
	}
	d, denied = decide(dc.eng, e, srcs, dsts)
	return d, denied, ""
}

// oneNode names the node of an edge with the own node at one end: the
// pods at the other end run on it, whichever node that is.
const oneNode = "(the pod's own node)"

// onOneNode puts the stand-ins of an edge's end on its one node.
func onOneNode(ps []evaluator.Peer) {
	for i := range ps {
		if ps[i].Pod != nil {
			ps[i].Pod.Node = oneNode
		} else {
			ps[i].Node = oneNode
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// decide checks every pairing of the two ends' stand-ins: the flow is
// denied when any pairing is.
func decide(eng *evaluator.Engine, e topology.EdgeStats, srcs, dsts []evaluator.Peer) (Denial, bool) {
	proto := corev1.Protocol(e.Proto.String())
	for _, s := range srcs {
		for _, d := range dsts {
			v := eng.Check(s, d, e.Port, proto)
			if v.Allowed {
				continue
			}
			target := e.Src
			if v.Ingress {
				target = e.Dst
			}
			return Denial{EdgeStats: e, Target: target, Ingress: v.Ingress, Policies: v.Policies, Reason: v.Reason}, true
		}
	}
	return Denial{}, false
}

// peers stands in for an end: a workload's pods, one per distinct label
// set, or addresses. A workload talking to itself is two of its pods, named
// apart (other), not one pod talking to itself. why says why an end cannot
// be stood in for.
func peers(w *topology.Window, end topology.End, other bool) ([]evaluator.Peer, string) {
	switch end.Kind {
	case topology.KindWorkload:
		return workloadPods(w, end.Workload, other)
	case topology.KindHost, topology.KindExternal:
		if !end.Addr.IsValid() {
			return nil, "its address is unknown"
		}
		return []evaluator.Peer{{Addr: end.Addr}}, ""
	case topology.KindOwnNode:
		return []evaluator.Peer{{Node: oneNode}}, ""
	case topology.KindAPIServer:
		var out []evaluator.Peer
		for _, ap := range w.Cluster.APIServer {
			out = append(out, evaluator.Peer{Addr: ap.Addr()})
		}
		if len(out) == 0 {
			return nil, "the API server's addresses are unknown"
		}
		return out, ""
	}
	return nil, "it is unresolved"
}

func workloadPods(w *topology.Window, ref topology.WorkloadRef, other bool) ([]evaluator.Peer, string) {
	wl, ok := w.Workloads[ref]
	if !ok {
		return nil, "the workload's labels are unknown"
	}
	sets := wl.PodLabels
	if len(sets) == 0 && wl.Selector != nil {
		sets = []map[string]string{wl.Selector.MatchLabels}
	}
	if len(sets) == 0 {
		return nil, "the workload's labels are unknown"
	}
	ports := make([]corev1.ContainerPort, len(wl.Ports))
	for i, p := range wl.Ports {
		ports[i] = corev1.ContainerPort{Name: p.Name, ContainerPort: int32(p.Port), Protocol: corev1.Protocol(p.Proto.String())}
	}
	out := make([]evaluator.Peer, len(sets))
	for i, l := range sets {
		name := ref.Kind + "/" + ref.Name
		if len(sets) > 1 {
			name += fmt.Sprintf(" (labels #%d)", i+1)
		}
		if other {
			name += " (another pod)"
		}
		out[i] = evaluator.Peer{Pod: &evaluator.Pod{Namespace: ref.Namespace, Name: name, Labels: l, Ports: ports}}
	}
	return out, ""
}
