package kubestate

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/tools/cache"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/resolve"
	"github.com/flowpol/flowpol/topology"
)

var (
	apiService = nsName{"default", "kubernetes"}
	dnsService = nsName{"kube-system", "kube-dns"}
)

// svcState is what a Service resolves to: its addresses and, per port, its
// targets.
type svcState struct {
	addrs []netip.Addr
	ports []svcPortState
	// outside says a target is an address nobody holds, which a change
	// of the cluster ranges may move between unresolved and external.
	outside bool
}

type svcPortState struct {
	port, nodePort uint16
	proto          flow.Proto
	targets        []resolve.Target // nil: no backends
}

// recomputeService derives a Service's targets from the indexes, and adds
// the addresses whose entries change with them to addrs.
func (r *Resolver) recomputeService(n nsName, addrs map[netip.Addr]struct{}, d *dirty) {
	old := r.services[n]
	svc := get[corev1.Service](r.inf.services, n.ns, n.name)
	var st *svcState
	if svc != nil && svc.Spec.Type != corev1.ServiceTypeExternalName {
		st = r.serviceState(svc)
		r.services[n] = st
	} else {
		delete(r.services, n)
	}
	for _, s := range []*svcState{old, st} {
		if s != nil {
			for _, a := range s.addrs {
				addrs[a] = struct{}{}
			}
		}
	}
	r.setNodePorts(n, old, st)
	switch n {
	case apiService:
		r.setAPIAddrs(svc, addrs)
	case dnsService:
		r.setDNS(st, d)
	}
}

func (r *Resolver) serviceState(svc *corev1.Service) *svcState {
	st := &svcState{addrs: serviceAddrs(svc)}
	isAPI := nsName{svc.Namespace, svc.Name} == apiService
	for _, sp := range svc.Spec.Ports {
		var ts []resolve.Target
		if isAPI {
			ts, _ = r.apiTargets(svc, sp)
		} else {
			ts = r.backends(svc, sp, &st.outside)
		}
		slices.SortFunc(ts, compareTarget)
		st.ports = append(st.ports, svcPortState{port: uint16(sp.Port), nodePort: uint16(sp.NodePort), proto: protoOf(sp.Protocol), targets: ts})
	}
	return st
}

func compareTarget(a, b resolve.Target) int {
	return cmp.Or(cmp.Compare(a.End, b.End), cmp.Compare(a.Port, b.Port), cmp.Compare(a.Pod, b.Pod))
}

func appendTarget(ts []resolve.Target, t resolve.Target) []resolve.Target {
	if slices.Contains(ts, t) {
		return ts
	}
	return append(ts, t)
}

// setNodePorts moves a Service's NodePorts from what it had to what it has.
func (r *Resolver) setNodePorts(n nsName, old, cur *svcState) {
	if old != nil {
		for _, sp := range old.ports {
			k := svcKey{port: sp.nodePort, proto: sp.proto}
			if np, ok := r.nodePorts[k]; ok && np.svc == n {
				delete(r.nodePorts, k)
			}
		}
	}
	if cur != nil {
		for _, sp := range cur.ports {
			if sp.nodePort != 0 && len(sp.targets) > 0 {
				r.nodePorts[svcKey{port: sp.nodePort, proto: sp.proto}] = nodePort{svc: n, targets: sp.targets}
			}
		}
	}
}

// slicesOf returns a Service's EndpointSlices, by name.
func (r *Resolver) slicesOf(n nsName) []*discoveryv1.EndpointSlice {
	ss := byIndex[discoveryv1.EndpointSlice](r.inf.slices.GetIndexer(), byService, n.key())
	slices.SortFunc(ss, func(x, y *discoveryv1.EndpointSlice) int { return strings.Compare(x.Name, y.Name) })
	return ss
}

// backends resolves a Service port to its backends and their target ports:
// through its EndpointSlices when there are any, else through its
// selector and the selected pods' container ports.
func (r *Resolver) backends(svc *corev1.Service, sp corev1.ServicePort, outside *bool) []resolve.Target {
	if ss := r.slicesOf(nsName{svc.Namespace, svc.Name}); len(ss) > 0 {
		return r.sliceTargets(ss, sp, outside)
	}
	if len(svc.Spec.Selector) == 0 {
		return nil
	}
	var ts []resolve.Target
	for _, p := range r.podsIn(svc.Namespace) {
		if phaseRank(p) == 3 || !selects(svc.Spec.Selector, p.Labels) {
			continue
		}
		if port := targetPortOn(p, sp); port != 0 {
			ref, _ := r.refOf(p)
			ts = appendTarget(ts, resolve.Target{End: ref.end, Port: port})
		}
	}
	return ts
}

// selects says whether a Service's selector selects a pod's labels.
func selects(sel, labels map[string]string) bool {
	for k, v := range sel {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

func (r *Resolver) podsIn(ns string) []*corev1.Pod {
	return append(byIndex[corev1.Pod](r.inf.pods.GetIndexer(), cache.NamespaceIndex, ns), byIndex[corev1.Pod](r.graves, cache.NamespaceIndex, ns)...)
}

func (r *Resolver) sliceTargets(ss []*discoveryv1.EndpointSlice, sp corev1.ServicePort, outside *bool) []resolve.Target {
	var ts []resolve.Target
	for _, s := range ss {
		for _, p := range s.Ports {
			if p.Port == nil || deref(p.Name) != sp.Name || (p.Protocol != nil && *p.Protocol != protoOrTCP(sp.Protocol)) {
				continue
			}
			for _, ep := range s.Endpoints {
				for _, a := range ep.Addresses {
					if end, ok := r.endpointEnd(s.Namespace, ep, a, outside); ok {
						ts = appendTarget(ts, resolve.Target{End: end, Port: uint16(*p.Port)})
					}
				}
			}
		}
	}
	return ts
}

// endpointEnd places an EndpointSlice address: the pod it names, else
// whatever holds the address.
func (r *Resolver) endpointEnd(ns string, ep discoveryv1.Endpoint, address string, outside *bool) (resolve.EndID, bool) {
	if ref := ep.TargetRef; ref != nil && ref.Kind == "Pod" {
		if ref.Namespace != "" {
			ns = ref.Namespace
		}
		if p := r.podNamed(ns, ref.Name); p != nil {
			pr, _ := r.refOf(p)
			return pr.end, true
		}
	}
	addr, err := netip.ParseAddr(address)
	if err != nil {
		return 0, false
	}
	addr = addr.Unmap()
	if info := r.addrs[addr]; info != nil && info.ref.end != 0 {
		return info.ref.end, true
	}
	*outside = true
	end, _ := r.outside(addr)
	return end, true
}

// podNamed returns the pod of that name: the live one, else one deleted
// within the grace period.
func (r *Resolver) podNamed(ns, name string) *corev1.Pod {
	if p := get[corev1.Pod](r.inf.pods, ns, name); p != nil {
		return p
	}
	if ps := byIndex[corev1.Pod](r.graves, byPod, ns+"/"+name); len(ps) > 0 {
		return ps[0]
	}
	return nil
}

// apiTargets resolves a port of the kubernetes Service to the API server,
// with the addresses and ports behind it.
func (r *Resolver) apiTargets(svc *corev1.Service, sp corev1.ServicePort) ([]resolve.Target, []netip.AddrPort) {
	var ts []resolve.Target
	var aps []netip.AddrPort
	for _, s := range r.slicesOf(nsName{svc.Namespace, svc.Name}) {
		for _, p := range s.Ports {
			if p.Port == nil || deref(p.Name) != sp.Name {
				continue
			}
			for _, ep := range s.Endpoints {
				for _, a := range ep.Addresses {
					if addr, err := netip.ParseAddr(a); err == nil {
						ap := netip.AddrPortFrom(addr.Unmap(), uint16(*p.Port))
						aps = append(aps, ap)
						ts = appendTarget(ts, resolve.Target{End: r.ends.apiServer, Port: ap.Port()})
					}
				}
			}
		}
	}
	if len(ts) == 0 && sp.TargetPort.Type == intstr.Int {
		ts = append(ts, resolve.Target{End: r.ends.apiServer, Port: targetPortOn(&corev1.Pod{}, sp)})
	}
	return ts, aps
}

// setAPIAddrs records the addresses and ports behind the kubernetes
// Service, and adds those that change to addrs.
func (r *Resolver) setAPIAddrs(svc *corev1.Service, addrs map[netip.Addr]struct{}) {
	for a := range r.apiAddrs {
		addrs[a] = struct{}{}
	}
	clear(r.apiAddrs)
	r.cluster.APIServer = nil
	if svc == nil {
		return
	}
	var all []netip.AddrPort
	for _, sp := range svc.Spec.Ports {
		_, aps := r.apiTargets(svc, sp)
		for _, ap := range aps {
			if ports := r.apiAddrs[ap.Addr()]; !slices.Contains(ports, ap.Port()) {
				r.apiAddrs[ap.Addr()] = append(ports, ap.Port())
				all = append(all, ap)
			}
			addrs[ap.Addr()] = struct{}{}
		}
	}
	slices.SortFunc(all, func(x, y netip.AddrPort) int { return x.Compare(y) })
	r.cluster.APIServer = all
}

// setDNS records, on the workloads behind the kube-dns Service, the target
// ports of its port-53 entries, and marks those that change.
func (r *Resolver) setDNS(st *svcState, d *dirty) {
	for ref := range r.dns {
		d.workload(ref)
	}
	clear(r.dns)
	if st == nil {
		return
	}
	for _, sp := range st.ports {
		if sp.port != 53 {
			continue
		}
		for _, t := range sp.targets {
			e := r.ends.end(t.End)
			if e.Kind != topology.KindWorkload {
				continue
			}
			pp := topology.PortProto{Port: t.Port, Proto: sp.proto}
			if ports := r.dns[e.Workload]; !slices.Contains(ports, pp) {
				ports = append(slices.Clone(ports), pp)
				slices.SortFunc(ports, comparePortProto)
				r.dns[e.Workload] = ports
			}
			d.workload(e.Workload)
		}
	}
}
