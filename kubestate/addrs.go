package kubestate

import (
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/flowpol/flowpol/resolve"
	"github.com/flowpol/flowpol/topology"
)

// refreshAddr derives what an address is from the indexes, and says
// whether the pod or node that holds it changed.
func (r *Resolver) refreshAddr(a netip.Addr) bool {
	old := r.addrs.get(a)
	info := &addrInfo{}
	r.holders(a, info)
	r.servicesAt(a, info)
	info.apiPorts = r.apiAddrs[a]
	if info.ref.end == 0 && !info.svc && len(info.apiPorts) == 0 {
		r.addrs.delete(a)
	} else {
		r.addrs.set(a, info)
	}
	var was podRef
	if old != nil {
		was = old.ref
	}
	return was != info.ref
}

// holders finds who holds an address: of the pods that claim it (live, or
// deleted within the grace period) the one holdsBetter picks, else a node,
// else a hostNetwork pod; and, when several pods held it, their tenures.
func (r *Resolver) holders(a netip.Addr, info *addrInfo) {
	key := a.String()
	nodes := byIndex[corev1.Node](r.inf.nodes.GetIndexer(), byAddr, key)
	slices.SortFunc(nodes, func(x, y *corev1.Node) int { return strings.Compare(x.Name, y.Name) })
	var hostRef podRef
	var hostPod, best *corev1.Pod
	var history []holding
	for _, p := range r.podsAt(key) {
		ref, _ := r.refOf(p)
		if p.Spec.HostNetwork {
			if hostPod == nil || p.UID < hostPod.UID {
				hostPod, hostRef = p, ref
			}
			continue
		}
		from, to := resolve.Tenure(p)
		history = append(history, holding{ref: ref, from: from, to: to})
		if best == nil || holdsBetter(p, best) {
			best, info.ref = p, ref
		}
	}
	if len(history) >= 2 {
		info.history = history
	}
	switch {
	case best != nil:
	case len(nodes) > 0:
		n := nodes[len(nodes)-1]
		info.ref = podRef{end: r.ends.intern(topology.End{Kind: topology.KindHost, Node: n.Name, Addr: a}), host: true, node: n.Name}
	case hostPod != nil:
		info.ref = hostRef
	}
}

// anyUnknown says whether one of ts is an unknown address in a cluster
// range: a newer state may know it.
func (r *Resolver) anyUnknown(ts []resolve.Target) bool {
	for _, t := range ts {
		if e := r.ends.end(t.End); e.Kind == topology.KindUnresolved && e.Reason == topology.ReasonUnknownClusterAddr {
			return true
		}
	}
	return false
}

// podsAt returns the pods, live and deleted within the grace period, that
// claim an address.
func (r *Resolver) podsAt(key string) []*corev1.Pod {
	return append(byIndex[corev1.Pod](r.inf.pods.GetIndexer(), byAddr, key), byIndex[corev1.Pod](r.graves, byAddr, key)...)
}

// servicesAt adds the ports of the Services an address reaches.
func (r *Resolver) servicesAt(a netip.Addr, info *addrInfo) {
	svcs := byIndex[corev1.Service](r.inf.services.GetIndexer(), byAddr, a.String())
	slices.SortFunc(svcs, func(x, y *corev1.Service) int {
		return strings.Compare(x.Namespace+"/"+x.Name, y.Namespace+"/"+y.Name)
	})
	for _, svc := range svcs {
		st := r.services[nsName{svc.Namespace, svc.Name}]
		if st == nil {
			continue // its own event has not come yet
		}
		info.svc = true
		for _, sp := range st.ports {
			ts := sp.targets
			if len(ts) == 0 {
				ts = []resolve.Target{{End: r.ends.intern(topology.End{Kind: topology.KindUnresolved, Addr: a, Reason: topology.ReasonNoBackends}), Port: sp.port}}
			}
			info.svcPorts.Add(resolve.NewServicePort(sp.port, sp.proto, ts, r.anyUnknown(ts)))
		}
	}
	if info.svc {
		info.noPort = r.ends.intern(topology.End{Kind: topology.KindUnresolved, Addr: a, Reason: topology.ReasonNoServicePort})
		info.asSource = r.ends.intern(topology.End{Kind: topology.KindUnresolved, Addr: a, Reason: topology.ReasonServiceAsSource})
	}
}
