package resolve

import (
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/flowpol/flowpol/inventory"
	"github.com/flowpol/flowpol/topology"
)

// builder fills a Static from an inventory.
type builder struct {
	r          *Static
	inv        *inventory.Inventory
	owners     *owners
	pods       map[nsName]*corev1.Pod
	byIP       map[netip.Addr]*corev1.Pod // the pod that holds each address
	podsOf     map[topology.WorkloadRef][]*corev1.Pod
	podRefs    map[*corev1.Pod]podRef
	slicesOf   map[nsName][]*discoveryv1.EndpointSlice
	workloadOf map[*corev1.Pod]topology.WorkloadRef // podsOf inverted
	byLabel    map[string][]*corev1.Pod             // by LabelKey; built on first use by rarest
}

func newBuilder(r *Static, inv *inventory.Inventory) *builder {
	b := &builder{
		r: r, inv: inv, owners: indexOwners(inv),
		pods:       map[nsName]*corev1.Pod{},
		byIP:       map[netip.Addr]*corev1.Pod{},
		podsOf:     map[topology.WorkloadRef][]*corev1.Pod{},
		workloadOf: map[*corev1.Pod]topology.WorkloadRef{},
		podRefs:    map[*corev1.Pod]podRef{},
		slicesOf:   map[nsName][]*discoveryv1.EndpointSlice{},
	}
	for i := range inv.EndpointSlices {
		s := &inv.EndpointSlices[i]
		if svc := s.Labels[discoveryv1.LabelServiceName]; svc != "" {
			key := nsName{s.Namespace, svc}
			b.slicesOf[key] = append(b.slicesOf[key], s)
		}
	}
	return b
}

func (b *builder) addNodes() {
	for i := range b.inv.Nodes {
		n := &b.inv.Nodes[i]
		if addrs := NodeAddrs(n); len(addrs) > 0 {
			if b.r.cluster.Nodes == nil {
				b.r.cluster.Nodes = map[string][]netip.Addr{}
			}
			b.r.cluster.Nodes[n.Name] = addrs
		}
		for _, addr := range NodeAddrs(n) {
			b.r.addr(addr).ref = podRef{end: b.r.intern(topology.End{Kind: topology.KindHost, Node: n.Name, Addr: addr}), node: n.Name, host: true}
		}
		b.r.internal = append(b.r.internal, NodePodCIDRs(n)...)
	}
}

func (b *builder) addPods() {
	for i := range b.inv.Pods {
		p := &b.inv.Pods[i]
		b.pods[nsName{p.Namespace, p.Name}] = p
		ref := b.podRef(p)
		b.podRefs[p] = ref
		if p.UID != "" {
			b.r.uids.set(string(p.UID), ref)
		}
		for _, addr := range PodAddrs(p) {
			info := b.r.addr(addr)
			if p.Spec.HostNetwork {
				if info.ref.end == 0 {
					info.ref = ref
				}
				continue
			}
			from, to := Tenure(p)
			info.history = append(info.history, holding{ref: ref, from: from, to: to})
			if q := b.byIP[addr]; q == nil || HoldsBetter(p, q) {
				b.byIP[addr] = p
				info.ref = ref
			}
		}
	}
}

// podRef is a hostNetwork pod's node address, or the pod's workload.
func (b *builder) podRef(p *corev1.Pod) podRef {
	if p.Spec.HostNetwork {
		return podRef{end: b.r.intern(HostEnd(p)), pod: PodIdentity(p), node: p.Spec.NodeName, host: true}
	}
	w := TopWorkload(p, b.owners)
	b.podsOf[w] = append(b.podsOf[w], p)
	b.workloadOf[p] = w
	return podRef{end: b.r.intern(topology.End{Kind: topology.KindWorkload, Workload: w}), pod: PodIdentity(p), node: p.Spec.NodeName}
}

func (b *builder) addWorkloads() {
	byNS := map[string][]topology.WorkloadRef{}
	for ref, pods := range b.podsOf {
		b.r.workloads[ref] = topology.Workload{Ref: ref, Selector: WorkloadSelector(ref, b.owners, pods),
			PodLabels: DistinctLabels(pods), Ports: NamedPorts(pods)}
		byNS[ref.Namespace] = append(byNS[ref.Namespace], ref)
	}
	b.r.cluster.Namespaces = map[string]map[string]string{}
	for i := range b.inv.Namespaces {
		ns := &b.inv.Namespaces[i]
		b.r.cluster.Namespaces[ns.Name] = ns.Labels
	}
	for _, refs := range byNS {
		slices.SortFunc(refs, topology.WorkloadRef.Compare)
		for _, ref := range refs {
			b.findOverlaps(ref, refs)
		}
	}
}

// findOverlaps records the workloads among others whose pods ref's selector
// also selects.
func (b *builder) findOverlaps(ref topology.WorkloadRef, others []topology.WorkloadRef) {
	w := b.r.workloads[ref]
	if w.Selector == nil {
		return
	}
	sel, err := metav1.LabelSelectorAsSelector(w.Selector)
	if err != nil {
		return // a selector the API server would have refused
	}
	if len(w.Selector.MatchLabels) > 0 { // the pods it may select, from the index
		hit := map[topology.WorkloadRef]bool{}
		for _, p := range b.rarest(ref.Namespace, w.Selector.MatchLabels) {
			if o, ok := b.workloadOf[p]; ok && sel.Matches(labels.Set(p.Labels)) {
				hit[o] = true
			}
		}
		for _, o := range others {
			if o != ref && hit[o] {
				w.Overlaps = append(w.Overlaps, o)
			}
		}
		b.r.workloads[ref] = w
		return
	}
	for _, o := range others {
		if o == ref {
			continue
		}
		for _, p := range b.podsOf[o] {
			if sel.Matches(labels.Set(p.Labels)) {
				w.Overlaps = append(w.Overlaps, o)
				break
			}
		}
	}
	b.r.workloads[ref] = w
}

func (b *builder) addServices() {
	for i := range b.inv.Services {
		svc := &b.inv.Services[i]
		if svc.Spec.Type == corev1.ServiceTypeExternalName {
			continue
		}
		for _, sp := range svc.Spec.Ports {
			var ts []Target
			if IsAPIServer(svc) {
				ts = b.apiserverTargets(svc, sp)
			} else {
				ts = b.backends(svc, sp)
			}
			b.register(svc, sp, ts)
			b.markLoadBalancer(svc, sp, ts)
		}
		if IsDNS(svc) {
			b.markDNS(svc)
		}
	}
}

func (b *builder) register(svc *corev1.Service, sp corev1.ServicePort, ts []Target) {
	proto := ProtoOf(sp.Protocol)
	for _, addr := range ServiceAddrs(svc) {
		info := b.r.addr(addr)
		info.svc = true
		t := ts
		if len(t) == 0 {
			t = []Target{{End: b.r.intern(topology.End{Kind: topology.KindUnresolved, Addr: addr, Reason: topology.ReasonNoBackends}), Port: uint16(sp.Port)}}
		}
		info.svcPorts.Add(NewServicePort(uint16(sp.Port), proto, t, false))
	}
	if sp.NodePort != 0 && len(ts) > 0 {
		b.r.nodePorts[svcKey{port: uint16(sp.NodePort), proto: proto}] = ts
	}
}

// backends resolves a Service port to its backends and their target ports:
// through its EndpointSlices when the inventory has them, else through its
// selector and the selected pods' container ports.
func (b *builder) backends(svc *corev1.Service, sp corev1.ServicePort) []Target {
	var ts []Target
	if ss := b.slicesOf[nsName{svc.Namespace, svc.Name}]; len(ss) > 0 {
		for _, be := range SliceBackends(ss, sp) {
			if end, ok := b.backendEnd(be); ok {
				ts = appendTarget(ts, Target{End: end, Port: be.Port})
			}
		}
		return ts
	}
	for _, p := range b.selected(svc) {
		if port := TargetPort(p, sp); port != 0 {
			ts = appendTarget(ts, Target{End: b.podRefs[p].end, Port: port})
		}
	}
	return ts
}

// selected is the pods a Service's selector selects, in the inventory's
// order. Only the pods of the namespace carrying the selector's rarest
// label are tried: a Service is not matched against every pod of the
// cluster.
func (b *builder) selected(svc *corev1.Service) []*corev1.Pod {
	if len(svc.Spec.Selector) == 0 {
		return nil
	}
	var out []*corev1.Pod
	for _, p := range b.rarest(svc.Namespace, svc.Spec.Selector) {
		if Selects(svc, p) {
			out = append(out, p)
		}
	}
	return out
}

// rarest is the pods of the namespace that carry the least common of the
// labels, in the inventory's order (see Rarest). labels must not be
// empty.
func (b *builder) rarest(ns string, labels map[string]string) []*corev1.Pod {
	if b.byLabel == nil {
		b.byLabel = map[string][]*corev1.Pod{}
		for i := range b.inv.Pods {
			p := &b.inv.Pods[i]
			for k, v := range p.Labels {
				key := LabelKey(p.Namespace, k, v)
				b.byLabel[key] = append(b.byLabel[key], p)
			}
		}
	}
	return Rarest(ns, labels, func(key string) []*corev1.Pod { return b.byLabel[key] })
}

// backendEnd places an EndpointSlice's backend: the pod it names, else
// whatever holds the address.
func (b *builder) backendEnd(be Backend) (EndID, bool) {
	if be.PodName != "" {
		if p := b.pods[nsName{be.PodNamespace, be.PodName}]; p != nil {
			return b.podRefs[p].end, true
		}
	}
	if !be.Addr.IsValid() {
		return 0, false
	}
	if info := b.r.addrs.get(be.Addr); info != nil && info.ref.end != 0 {
		return info.ref.end, true
	}
	return b.r.outside(be.Addr), true
}

func appendTarget(ts []Target, t Target) []Target {
	if slices.Contains(ts, t) {
		return ts
	}
	return append(ts, t)
}

// apiserverTargets resolves the kubernetes Service to the API server, and
// records the addresses and ports behind it.
func (b *builder) apiserverTargets(svc *corev1.Service, sp corev1.ServicePort) []Target {
	end := b.r.intern(topology.End{Kind: topology.KindAPIServer})
	var ts []Target
	for _, ap := range APIServerEndpoints(b.slicesOf[nsName{svc.Namespace, svc.Name}], sp) {
		if ap.Addr().IsValid() {
			if info := b.r.addr(ap.Addr()); !slices.Contains(info.apiPorts, ap.Port()) {
				info.apiPorts = append(info.apiPorts, ap.Port())
				b.r.cluster.APIServer = append(b.r.cluster.APIServer, ap)
			}
		}
		ts = appendTarget(ts, Target{End: end, Port: ap.Port()})
	}
	slices.SortFunc(b.r.cluster.APIServer, func(x, y netip.AddrPort) int { return x.Compare(y) })
	return ts
}

// markLoadBalancer records, on the workloads behind a LoadBalancer or
// NodePort Service's port, how ingress from outside reaches them.
func (b *builder) markLoadBalancer(svc *corev1.Service, sp corev1.ServicePort, ts []Target) {
	for _, t := range ts {
		e := b.r.ends[t.End]
		if e.Kind != topology.KindWorkload {
			continue
		}
		lb, ok := LoadBalancerOf(svc, sp, t.Port)
		if !ok {
			return
		}
		w := b.r.workloads[e.Workload]
		if !slices.ContainsFunc(w.LoadBalancers, func(o topology.LoadBalancer) bool { return o.Service == lb.Service && o.Port == lb.Port }) {
			w.LoadBalancers = append(w.LoadBalancers, lb)
			slices.SortFunc(w.LoadBalancers, CompareLoadBalancer)
		}
		b.r.workloads[e.Workload] = w
	}
}

// markDNS records, on the workloads behind the kube-dns Service, the target
// ports of its port-53 entries.
func (b *builder) markDNS(svc *corev1.Service) {
	for _, sp := range svc.Spec.Ports {
		if sp.Port != 53 {
			continue
		}
		proto := ProtoOf(sp.Protocol)
		for _, t := range b.backends(svc, sp) {
			e := b.r.ends[t.End]
			if e.Kind != topology.KindWorkload {
				continue
			}
			w := b.r.workloads[e.Workload]
			pp := topology.PortProto{Port: t.Port, Proto: proto}
			if !slices.Contains(w.DNSPorts, pp) {
				w.DNSPorts = append(w.DNSPorts, pp)
				slices.SortFunc(w.DNSPorts, ComparePortProto)
			}
			b.r.workloads[e.Workload] = w
		}
	}
}
