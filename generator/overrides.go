package generator

import (
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/flowpol/flowpol/overrides"
	"github.com/flowpol/flowpol/topology"
)

// collapseKey is a workload's external peers in one direction.
type collapseKey struct {
	ref    topology.WorkloadRef
	egress bool
}

// collapsing finds the workloads with more external peers in a direction
// than the overrides' collapseAbove.
func (g *gen) collapsing() map[collapseKey]bool {
	out := map[collapseKey]bool{}
	if g.ov.CollapseAbove <= 0 {
		return out
	}
	addrs := map[collapseKey]map[netip.Addr]bool{}
	note := func(k collapseKey, a netip.Addr) {
		if addrs[k] == nil {
			addrs[k] = map[netip.Addr]bool{}
		}
		addrs[k][a] = true
	}
	for _, e := range g.w.Edges {
		if e.Src.Kind == topology.KindWorkload && e.Dst.Kind == topology.KindExternal {
			note(collapseKey{e.Src.Workload, true}, e.Dst.Addr)
		}
		if e.Dst.Kind == topology.KindWorkload && e.Src.Kind == topology.KindExternal {
			note(collapseKey{e.Dst.Workload, false}, e.Src.Addr)
		}
	}
	for k, set := range addrs {
		if len(set) > g.ov.CollapseAbove {
			out[k] = true
		}
	}
	return out
}

// key is the rule an end goes into for a workload: an external address
// widened to a block named in the overrides, or collapsed to its /24 (/64
// for IPv6), becomes that block.
func (g *gen) key(owner topology.WorkloadRef, egress bool, end topology.End) ruleKey {
	if end.Kind == topology.KindHost && (len(g.opts.NodeCIDRs) > 0 || len(g.w.Cluster.Nodes) > 0) {
		return nodesKey
	}
	if end.Kind != topology.KindExternal {
		return ruleKey{end: end}
	}
	for _, w := range g.ov.Widen {
		if w.Prefix.Contains(end.Addr) {
			g.hits[w.Line] = true
			return ruleKey{end: topology.End{Kind: topology.KindExternal}, prefix: w.Prefix}
		}
	}
	if g.collapse[collapseKey{owner, egress}] {
		bits := 24
		if end.Addr.Is6() {
			bits = 64
		}
		p, _ := end.Addr.Prefix(bits) // bits fit the address family
		return ruleKey{end: topology.End{Kind: topology.KindExternal}, prefix: p}
	}
	return ruleKey{end: end}
}

// excluded reports the first exclusion that matches an edge, by its line.
func (g *gen) excluded(e topology.EdgeStats) (int, bool) {
	x, ok := g.ov.Excludes(e)
	if ok {
		g.hits[x.Line] = true
	}
	return x.Line, ok
}

// workload is what the window knows of a workload, with its selector as the
// overrides choose it.
func (g *gen) workload(ref topology.WorkloadRef) (topology.Workload, bool) {
	wl, ok := g.w.Workloads[ref]
	for _, s := range g.ov.Selectors {
		if s.Workload == ref && ok {
			g.hits[s.Line] = true
			wl.Selector = &metav1.LabelSelector{MatchLabels: s.Labels}
		}
	}
	return wl, ok
}

// addAllowed adds the overrides' extra rules to the policies of the
// workloads that have one.
func (g *gen) addAllowed() {
	for _, a := range g.ov.Allow {
		d := g.policies[a.Workload]
		if d == nil {
			continue // no policy to add to: reported as unmatched
		}
		peer, ok := g.allowPeer(d, a.Peer)
		if !ok {
			continue
		}
		g.hits[a.Line] = true
		d.allowed = append(d.allowed, a)
		ports := allowPorts(a.Ports)
		dir := "egress to"
		if a.Ingress {
			dir = "ingress from"
			d.extraIngress = append(d.extraIngress, networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{peer}, Ports: ports})
		} else {
			d.extraEgress = append(d.extraEgress, networkingv1.NetworkPolicyEgressRule{To: []networkingv1.NetworkPolicyPeer{peer}, Ports: ports})
		}
		d.evidence = append(d.evidence, fmt.Sprintf("%s %s on %s: allowed by %s:%d", dir, a.Peer.Text, portsText(a.Ports), g.ov.File, a.Line))
	}
}

func (g *gen) allowPeer(d *draft, p overrides.Peer) (networkingv1.NetworkPolicyPeer, bool) {
	switch {
	case p.Workload != nil:
		peers, ok := g.peers(d, &ruleDraft{peer: ruleKey{end: topology.End{Kind: topology.KindWorkload, Workload: *p.Workload}}})
		if !ok {
			return networkingv1.NetworkPolicyPeer{}, false
		}
		return peers[0], true
	case p.Namespace != "":
		return networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{
			MatchLabels: map[string]string{corev1.LabelMetadataName: p.Namespace}}}, true
	}
	return networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: p.Prefix.String()}}, true
}

func allowPorts(ps []overrides.Ports) []networkingv1.NetworkPolicyPort {
	out := make([]networkingv1.NetworkPolicyPort, len(ps))
	for i, p := range ps {
		proto := corev1.Protocol(p.Proto.String())
		port := intstr.FromInt32(int32(p.From))
		out[i] = networkingv1.NetworkPolicyPort{Protocol: &proto, Port: &port}
		if p.To != p.From {
			end := int32(p.To)
			out[i].EndPort = &end
		}
	}
	return out
}

func portsText(ps []overrides.Ports) string {
	if len(ps) == 0 {
		return "any port"
	}
	out := ""
	for i, p := range ps {
		if i > 0 {
			out += ", "
		}
		out += p.String()
	}
	return out
}

// unmatched lists the overrides that matched nothing.
func (g *gen) unmatched() []string {
	return Unmatched(g.ov, g.hits, g.skipped)
}

// Unmatched lists the overrides of ov that matched nothing: the entries
// whose line is not in hits, and the skipNamespaces not in skipped. A
// command that applies only some kinds of entry passes a Set of those.
func Unmatched(ov *overrides.Set, hits map[int]bool, skipped map[string]bool) []string {
	var out []string
	miss := func(line int, what string) {
		if !hits[line] {
			out = append(out, fmt.Sprintf("%s:%d: %s matched nothing", ov.File, line, what))
		}
	}
	for _, x := range ov.SkipWorkloads {
		miss(x.Line, "skipWorkloads "+x.Ref.String())
	}
	for _, x := range ov.Exclude {
		miss(x.Line, "exclude")
	}
	for _, x := range ov.Allow {
		miss(x.Line, fmt.Sprintf("allow for %s (it has no policy in the window)", x.Workload))
	}
	for _, x := range ov.Widen {
		miss(x.Line, "widen "+x.Prefix.String())
	}
	for _, x := range ov.Selectors {
		miss(x.Line, "selectors for "+x.Workload.String())
	}
	for _, ns := range ov.SkipNamespaces {
		if !skipped[ns] {
			out = append(out, fmt.Sprintf("%s: skipNamespaces %s matched nothing", ov.File, ns))
		}
	}
	return out
}
