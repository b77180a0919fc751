package aggregator

import (
	"math"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/inventory"
	"github.com/flowpol/flowpol/topology"
)

// builder fills a Resolver from an inventory.
type builder struct {
	r        *Resolver
	inv      *inventory.Inventory
	owners   *owners
	pods     map[nsName]*corev1.Pod
	byIP     map[netip.Addr]*corev1.Pod // the pod that holds each address
	podsOf   map[topology.WorkloadRef][]*corev1.Pod
	podRefs  map[*corev1.Pod]podRef
	slicesOf map[nsName][]*discoveryv1.EndpointSlice
}

func newBuilder(r *Resolver, inv *inventory.Inventory) *builder {
	b := &builder{
		r: r, inv: inv, owners: indexOwners(inv),
		pods:     map[nsName]*corev1.Pod{},
		byIP:     map[netip.Addr]*corev1.Pod{},
		podsOf:   map[topology.WorkloadRef][]*corev1.Pod{},
		podRefs:  map[*corev1.Pod]podRef{},
		slicesOf: map[nsName][]*discoveryv1.EndpointSlice{},
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
		for _, a := range n.Status.Addresses {
			if a.Type != corev1.NodeInternalIP && a.Type != corev1.NodeExternalIP {
				continue
			}
			if addr, err := netip.ParseAddr(a.Address); err == nil {
				addr = addr.Unmap()
				b.r.addr(addr).ref = podRef{end: b.r.intern(topology.End{Kind: topology.KindHost, Node: n.Name, Addr: addr})}
			}
		}
		for _, c := range append([]string{n.Spec.PodCIDR}, n.Spec.PodCIDRs...) {
			if p, err := netip.ParsePrefix(c); err == nil {
				b.r.internal = append(b.r.internal, p.Masked())
			}
		}
	}
}

// phaseRank orders pods that claim the same address: a running pod holds it
// rather than one that has finished and released it.
func phaseRank(p *corev1.Pod) int {
	switch p.Status.Phase {
	case corev1.PodRunning:
		return 0
	case corev1.PodPending:
		return 1
	case corev1.PodSucceeded, corev1.PodFailed:
		return 3
	}
	return 2
}

func holdsBetter(p, q *corev1.Pod) bool {
	if pd, qd := p.DeletionTimestamp != nil, q.DeletionTimestamp != nil; pd != qd {
		return qd // a pod being deleted gives its address up
	}
	if rp, rq := phaseRank(p), phaseRank(q); rp != rq {
		return rp < rq
	}
	return q.CreationTimestamp.Before(&p.CreationTimestamp)
}

func (b *builder) addPods() {
	for i := range b.inv.Pods {
		p := &b.inv.Pods[i]
		b.pods[nsName{p.Namespace, p.Name}] = p
		ref := b.podRef(p)
		b.podRefs[p] = ref
		if p.UID != "" {
			b.r.uids[string(p.UID)] = ref
		}
		for _, addr := range podAddrs(p) {
			if p.Spec.HostNetwork {
				if info := b.r.addr(addr); info.ref.end == 0 {
					info.ref = ref
				}
				continue
			}
			info := b.r.addr(addr)
			info.history = append(info.history, tenure(p, ref))
			if q := b.byIP[addr]; q == nil || holdsBetter(p, q) {
				b.byIP[addr] = p
				info.ref = ref
			}
		}
	}
}

// tenure is how long a pod held its addresses: from its start (its
// creation when it has not started) until its deletion.
func tenure(p *corev1.Pod, ref podRef) holding {
	h := holding{ref: ref, from: math.MinInt64, to: math.MaxInt64}
	if st := p.Status.StartTime; st != nil {
		h.from = st.UnixNano()
	} else if !p.CreationTimestamp.IsZero() {
		h.from = p.CreationTimestamp.UnixNano()
	}
	if d := p.DeletionTimestamp; d != nil {
		h.to = d.UnixNano()
	}
	return h
}

// podRef is a hostNetwork pod's node address, or the pod's workload.
func (b *builder) podRef(p *corev1.Pod) podRef {
	if p.Spec.HostNetwork {
		addr, _ := netip.ParseAddr(p.Status.PodIP) // the zero Addr when unset
		return podRef{end: b.r.intern(topology.End{Kind: topology.KindHost, Node: p.Spec.NodeName, Addr: addr.Unmap()}), pod: podIdentity(p)}
	}
	w := b.owners.workloadOf(p)
	b.podsOf[w] = append(b.podsOf[w], p)
	return podRef{end: b.r.intern(topology.End{Kind: topology.KindWorkload, Workload: w}), pod: podIdentity(p)}
}

func podAddrs(p *corev1.Pod) []netip.Addr {
	var out []netip.Addr
	for _, s := range append([]string{p.Status.PodIP}, podIPs(p)...) {
		if a, err := netip.ParseAddr(s); err == nil && !slices.Contains(out, a.Unmap()) {
			out = append(out, a.Unmap())
		}
	}
	return out
}

func podIPs(p *corev1.Pod) []string {
	out := make([]string, len(p.Status.PodIPs))
	for i, ip := range p.Status.PodIPs {
		out[i] = ip.IP
	}
	return out
}

func (b *builder) addWorkloads() {
	byNS := map[string][]topology.WorkloadRef{}
	for ref, pods := range b.podsOf {
		b.r.workloads[ref] = topology.Workload{Ref: ref, Selector: b.owners.selectorOf(ref, pods),
			PodLabels: distinctLabels(pods), Ports: namedPorts(pods)}
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

// distinctLabels returns the pods' distinct label sets, in a stable order.
func distinctLabels(pods []*corev1.Pod) []map[string]string {
	seen := map[string]bool{}
	var out []map[string]string
	for _, p := range pods {
		key := labels.Set(p.Labels).String()
		if !seen[key] {
			seen[key] = true
			out = append(out, p.Labels)
		}
	}
	slices.SortFunc(out, func(a, b map[string]string) int {
		return strings.Compare(labels.Set(a).String(), labels.Set(b).String())
	})
	return out
}

// namedPorts returns the pods' named container ports, in a stable order.
func namedPorts(pods []*corev1.Pod) []topology.ContainerPort {
	var out []topology.ContainerPort
	for _, p := range pods {
		for _, c := range p.Spec.Containers {
			for _, cp := range c.Ports {
				port := topology.ContainerPort{Name: cp.Name, Port: uint16(cp.ContainerPort), Proto: protoOf(cp.Protocol)}
				if cp.Name != "" && !slices.Contains(out, port) {
					out = append(out, port)
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b topology.ContainerPort) int { return strings.Compare(a.Name, b.Name) })
	return out
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
		isAPI := svc.Namespace == "default" && svc.Name == "kubernetes"
		for _, sp := range svc.Spec.Ports {
			proto := protoOf(sp.Protocol)
			var ts []target
			if isAPI {
				ts = b.apiserverTargets(svc, sp)
			} else {
				ts = b.backends(svc, sp)
			}
			b.register(svc, sp, proto, ts)
		}
		if svc.Namespace == "kube-system" && svc.Name == "kube-dns" {
			b.markDNS(svc)
		}
	}
}

func protoOf(p corev1.Protocol) flow.Proto {
	proto, err := flow.ParseProto(string(p))
	if err != nil {
		return flow.TCP // Kubernetes' default
	}
	return proto
}

func (b *builder) register(svc *corev1.Service, sp corev1.ServicePort, proto flow.Proto, ts []target) {
	if len(ts) == 0 {
		ts = nil // resolved per address below
	}
	for _, addr := range serviceAddrs(svc) {
		info := b.r.addr(addr)
		info.svc = true
		t := ts
		if t == nil {
			t = []target{{end: b.r.intern(topology.End{Kind: topology.KindUnresolved, Addr: addr, Reason: topology.ReasonNoBackends}), port: uint16(sp.Port)}}
		}
		info.svcPorts = append(info.svcPorts, svcPort{port: uint16(sp.Port), proto: proto, targets: t})
	}
	if sp.NodePort != 0 && len(ts) > 0 {
		b.r.nodePorts[svcKey{port: uint16(sp.NodePort), proto: proto}] = ts
	}
}

// serviceAddrs are the addresses that reach a Service: its cluster IPs,
// external IPs and load-balancer addresses.
func serviceAddrs(svc *corev1.Service) []netip.Addr {
	var ss []string
	ss = append(ss, svc.Spec.ClusterIP)
	ss = append(ss, svc.Spec.ClusterIPs...)
	ss = append(ss, svc.Spec.ExternalIPs...)
	for _, in := range svc.Status.LoadBalancer.Ingress {
		ss = append(ss, in.IP)
	}
	var out []netip.Addr
	for _, s := range ss {
		if a, err := netip.ParseAddr(s); err == nil && !slices.Contains(out, a.Unmap()) {
			out = append(out, a.Unmap())
		}
	}
	return out
}
