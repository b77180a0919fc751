package generator

import (
	"fmt"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/flowpol/flowpol/topology"
)

// peers names an end in a rule. A peer no rule can name (an unresolved
// address, a workload without stable labels) is left out with a warning, so
// the policy never allows more than was seen.
func (g *gen) peers(d *draft, r *ruleDraft) ([]networkingv1.NetworkPolicyPeer, bool) {
	key := r.peer
	if key == nodesKey {
		return g.nodePeers(r.addrs), true
	}
	if key.lb != "" {
		return g.lbPeers(r.lb, r.addrs), true
	}
	if key.prefix.IsValid() {
		return []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: key.prefix.String()}}}, true
	}
	end := key.end
	switch end.Kind {
	case topology.KindWorkload:
		wl, ok := g.workload(end.Workload)
		if !ok || wl.Selector == nil {
			return g.omit(d, end, "it has no stable labels to select it by")
		}
		peer := networkingv1.NetworkPolicyPeer{PodSelector: wl.Selector.DeepCopy()}
		if end.Workload.Namespace != d.ref.Namespace {
			peer.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{
				corev1.LabelMetadataName: end.Workload.Namespace,
			}}
		}
		return []networkingv1.NetworkPolicyPeer{peer}, true
	case topology.KindHost, topology.KindExternal:
		if !end.Addr.IsValid() {
			return g.omit(d, end, "its address is unknown")
		}
		return []networkingv1.NetworkPolicyPeer{ipPeer(end.Addr)}, true
	case topology.KindAPIServer:
		return g.apiserverPeers(d, end)
	}
	return g.omit(d, end, "it is unresolved")
}

// nodePeers names every node: the node CIDRs, or every node's address,
// and the node addresses seen that those do not hold.
func (g *gen) nodePeers(seen []netip.Addr) []networkingv1.NetworkPolicyPeer {
	var peers []networkingv1.NetworkPolicyPeer
	for _, p := range g.opts.NodeCIDRs {
		peers = append(peers, networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: p.Masked().String()}})
	}
	var addrs []netip.Addr
	if len(g.opts.NodeCIDRs) == 0 {
		addrs = g.w.Cluster.NodeAddrs()
	}
	for _, a := range seen {
		if !slices.ContainsFunc(g.opts.NodeCIDRs, func(p netip.Prefix) bool { return p.Contains(a) }) {
			addrs = append(addrs, a)
		}
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	for _, a := range slices.Compact(addrs) {
		peers = append(peers, ipPeer(a))
	}
	return peers
}

// lbPeers are who a load balancer lets in: with externalTrafficPolicy
// Cluster every node (the clients are SNAT'd to the node that took the
// connection); with Local its loadBalancerSourceRanges, or everything
// outside the cluster's pod and service ranges; and the addresses seen
// that those do not hold.
func (g *gen) lbPeers(lb topology.LoadBalancer, seen []netip.Addr) []networkingv1.NetworkPolicyPeer {
	if !lb.Local {
		return g.nodePeers(seen)
	}
	var peers []networkingv1.NetworkPolicyPeer
	blocks := lb.SourceRanges
	if len(blocks) == 0 {
		blocks = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}
	}
	var held []netip.Prefix
	for _, b := range blocks {
		ib := &networkingv1.IPBlock{CIDR: b.String()}
		for _, r := range g.w.Cluster.Ranges {
			if r.Addr().Is4() == b.Addr().Is4() && r.Bits() > b.Bits() && b.Contains(r.Addr()) {
				ib.Except = append(ib.Except, r.String())
				held = append(held, r)
			}
		}
		peers = append(peers, networkingv1.NetworkPolicyPeer{IPBlock: ib})
	}
	for _, a := range seen {
		in := slices.ContainsFunc(blocks, func(p netip.Prefix) bool { return p.Contains(a) }) &&
			!slices.ContainsFunc(held, func(p netip.Prefix) bool { return p.Contains(a) })
		if !in {
			peers = append(peers, ipPeer(a))
		}
	}
	return peers
}

func (g *gen) apiserverPeers(d *draft, end topology.End) ([]networkingv1.NetworkPolicyPeer, bool) {
	var peers []networkingv1.NetworkPolicyPeer
	seen := map[netip.Addr]bool{}
	for _, ap := range g.w.Cluster.APIServer {
		if !seen[ap.Addr()] {
			seen[ap.Addr()] = true
			peers = append(peers, ipPeer(ap.Addr()))
		}
	}
	if len(peers) == 0 {
		return g.omit(d, end, "the inventory had no endpoints for the kubernetes Service")
	}
	return peers, true
}

func (g *gen) omit(d *draft, end topology.End, why string) ([]networkingv1.NetworkPolicyPeer, bool) {
	d.omitted++
	g.warnings = append(g.warnings, fmt.Sprintf("%s: peer %s left out: %s", d.ref, end, why))
	return nil, false
}

func ipPeer(addr netip.Addr) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: netip.PrefixFrom(addr, addr.BitLen()).String()}}
}

func npPorts(ports []topology.PortProto) []networkingv1.NetworkPolicyPort {
	out := make([]networkingv1.NetworkPolicyPort, len(ports))
	for i, p := range ports {
		proto := corev1.Protocol(p.Proto.String())
		port := intstr.FromInt32(int32(p.Port))
		out[i] = networkingv1.NetworkPolicyPort{Protocol: &proto, Port: &port}
	}
	return out
}
