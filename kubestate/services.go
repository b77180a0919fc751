package kubestate

import (
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/resolve"
	"github.com/flowpol/flowpol/topology"
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
	r.setLoadBalancers(n, svc, st, d)
	switch named := n.service(); {
	case resolve.IsAPIServer(named):
		r.setAPIAddrs(svc, st, addrs)
	case resolve.IsDNS(named):
		r.setDNS(st, d)
	}
}

// service is a Service of this name and nothing else.
func (n nsName) service() *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: n.ns, Name: n.name}}
}

func (r *Resolver) serviceState(svc *corev1.Service) *svcState {
	st := &svcState{addrs: resolve.ServiceAddrs(svc)}
	ss := r.slicesOf(nsName{svc.Namespace, svc.Name})
	for _, sp := range svc.Spec.Ports {
		var ts []resolve.Target
		if resolve.IsAPIServer(svc) {
			for _, ap := range resolve.APIServerEndpoints(ss, sp) {
				ts = appendTarget(ts, resolve.Target{End: r.ends.apiServer, Port: ap.Port()})
			}
		} else {
			ts = r.backends(svc, sp, ss, &st.outside)
		}
		slices.SortFunc(ts, compareTarget)
		st.ports = append(st.ports, svcPortState{port: uint16(sp.Port), nodePort: uint16(sp.NodePort), proto: resolve.ProtoOf(sp.Protocol), targets: ts})
	}
	return st
}

// setNodePorts moves a Service's NodePorts from what it had to what it has.
func (r *Resolver) setNodePorts(n nsName, old, cur *svcState) {
	if old != nil {
		for _, sp := range old.ports {
			k := svcKey{port: sp.nodePort, proto: sp.proto}
			if np, ok := r.nodePorts[k]; ok && np.svc == n {
				delete(r.nodePorts, k)
				r.stale = true
			}
		}
	}
	if cur != nil {
		for _, sp := range cur.ports {
			if sp.nodePort != 0 && len(sp.targets) > 0 {
				r.nodePorts[svcKey{port: sp.nodePort, proto: sp.proto}] = nodePort{svc: n, targets: sp.targets, unknown: r.anyUnknown(sp.targets)}
				r.stale = true
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
func (r *Resolver) backends(svc *corev1.Service, sp corev1.ServicePort, ss []*discoveryv1.EndpointSlice, outside *bool) []resolve.Target {
	var ts []resolve.Target
	if len(ss) > 0 {
		for _, be := range resolve.SliceBackends(ss, sp) {
			if end, ok := r.backendEnd(be, outside); ok {
				ts = appendTarget(ts, resolve.Target{End: end, Port: be.Port})
			}
		}
		return ts
	}
	if len(svc.Spec.Selector) == 0 {
		return nil
	}
	for _, p := range r.candidates(svc) {
		// resolve.Selects, without building a selector for every pod
		if resolve.Finished(p) || !selects(svc.Spec.Selector, p.Labels) {
			continue
		}
		if port := resolve.TargetPort(p, sp); port != 0 {
			ref, _ := r.refOf(p)
			ts = appendTarget(ts, resolve.Target{End: ref.end, Port: port})
		}
	}
	return ts
}

// candidates returns the pods, live and deleted, that have the label of
// a Service's selector the fewest have: the only ones it may select.
func (r *Resolver) candidates(svc *corev1.Service) []*corev1.Pod {
	return resolve.Rarest(svc.Namespace, svc.Spec.Selector, func(key string) []*corev1.Pod { return r.controlled(byLabel, key) })
}

// backendEnd places an EndpointSlice's backend: the pod it names, else
// whatever holds the address.
func (r *Resolver) backendEnd(be resolve.Backend, outside *bool) (resolve.EndID, bool) {
	if be.PodName != "" {
		if p := r.podNamed(be.PodNamespace, be.PodName); p != nil {
			ref, _ := r.refOf(p)
			return ref.end, true
		}
	}
	if !be.Addr.IsValid() {
		return 0, false
	}
	if info := r.addrs.get(be.Addr); info != nil && info.ref.end != 0 {
		return info.ref.end, true
	}
	*outside = true
	end, _ := outsideEnd(&r.ends, r.internal, be.Addr)
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

// setAPIAddrs records the addresses and ports behind the kubernetes
// Service, and adds those that change to addrs.
func (r *Resolver) setAPIAddrs(svc *corev1.Service, st *svcState, addrs map[netip.Addr]struct{}) {
	for a := range r.apiAddrs {
		addrs[a] = struct{}{}
	}
	clear(r.apiAddrs)
	r.cluster.APIServer = nil
	if st == nil {
		return
	}
	ss := r.slicesOf(nsName{svc.Namespace, svc.Name})
	var all []netip.AddrPort
	for _, sp := range svc.Spec.Ports {
		for _, ap := range resolve.APIServerEndpoints(ss, sp) {
			if !ap.Addr().IsValid() {
				continue
			}
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

// setLoadBalancers records, on the workloads behind a LoadBalancer or
// NodePort Service, how ingress from outside reaches them, and marks the
// workloads that had or have it.
func (r *Resolver) setLoadBalancers(n nsName, svc *corev1.Service, st *svcState, d *dirty) {
	for ref, m := range r.lbs {
		if _, ok := m[n]; ok {
			delete(m, n)
			d.workload(ref)
		}
	}
	if st == nil || svc == nil {
		return
	}
	for i, sp := range st.ports {
		for _, t := range sp.targets {
			e := r.ends.end(t.End)
			if e.Kind != topology.KindWorkload {
				continue
			}
			lb, ok := resolve.LoadBalancerOf(svc, svc.Spec.Ports[i], t.Port)
			if !ok {
				return
			}
			m := r.lbs[e.Workload]
			if m == nil {
				m = map[nsName][]topology.LoadBalancer{}
				r.lbs[e.Workload] = m
			}
			m[n] = append(m[n], lb)
			d.workload(e.Workload)
		}
	}
}

// loadBalancers are a workload's load balancers, sorted, each Service and
// port once.
func (r *Resolver) loadBalancers(ref topology.WorkloadRef) []topology.LoadBalancer {
	var out []topology.LoadBalancer
	for _, lbs := range r.lbs[ref] {
		for _, lb := range lbs {
			if !slices.ContainsFunc(out, func(o topology.LoadBalancer) bool { return o.Service == lb.Service && o.Port == lb.Port }) {
				out = append(out, lb)
			}
		}
	}
	slices.SortFunc(out, resolve.CompareLoadBalancer)
	return out
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
				slices.SortFunc(ports, resolve.ComparePortProto)
				r.dns[e.Workload] = ports
			}
			d.workload(e.Workload)
		}
	}
}
