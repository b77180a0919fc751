package aggregator

import (
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/flowpol/flowpol/topology"
)

// backends resolves a Service port to its backends and their target ports:
// through its EndpointSlices when the inventory has them, else through its
// selector and the selected pods' container ports.
func (b *builder) backends(svc *corev1.Service, sp corev1.ServicePort) []target {
	if ss := b.slicesOf[nsName{svc.Namespace, svc.Name}]; len(ss) > 0 {
		return b.sliceTargets(ss, sp)
	}
	if len(svc.Spec.Selector) == 0 {
		return nil
	}
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	var ts []target
	for i := range b.inv.Pods {
		p := &b.inv.Pods[i]
		if p.Namespace != svc.Namespace || phaseRank(p) == 3 || !sel.Matches(labels.Set(p.Labels)) {
			continue
		}
		if port := targetPortOn(p, sp); port != 0 {
			ts = appendTarget(ts, target{end: b.podRefs[p].end, port: port})
		}
	}
	return ts
}

// targetPortOn resolves a Service port's target port on one pod: a number,
// or a name looked up in the pod's container ports.
func targetPortOn(p *corev1.Pod, sp corev1.ServicePort) uint16 {
	tp := sp.TargetPort
	if tp.Type == intstr.Int {
		if tp.IntVal == 0 {
			return uint16(sp.Port)
		}
		return uint16(tp.IntVal)
	}
	proto := protoOrTCP(sp.Protocol)
	for _, c := range p.Spec.Containers {
		for _, cp := range c.Ports {
			if cp.Name == tp.StrVal && protoOrTCP(cp.Protocol) == proto {
				return uint16(cp.ContainerPort)
			}
		}
	}
	return 0
}

func (b *builder) sliceTargets(ss []*discoveryv1.EndpointSlice, sp corev1.ServicePort) []target {
	var ts []target
	for _, s := range ss {
		for _, p := range s.Ports {
			if p.Port == nil || deref(p.Name) != sp.Name || (p.Protocol != nil && *p.Protocol != protoOrTCP(sp.Protocol)) {
				continue
			}
			for _, ep := range s.Endpoints {
				for _, a := range ep.Addresses {
					if end, ok := b.endpointEnd(s.Namespace, ep, a); ok {
						ts = appendTarget(ts, target{end: end, port: uint16(*p.Port)})
					}
				}
			}
		}
	}
	return ts
}

func protoOrTCP(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// endpointEnd places an EndpointSlice address: the pod it names, else
// whatever holds the address.
func (b *builder) endpointEnd(ns string, ep discoveryv1.Endpoint, address string) (uint32, bool) {
	if ref := ep.TargetRef; ref != nil && ref.Kind == "Pod" {
		if refNS := ref.Namespace; refNS != "" {
			ns = refNS
		}
		if p := b.pods[nsName{ns, ref.Name}]; p != nil {
			return b.podRefs[p].end, true
		}
	}
	addr, err := netip.ParseAddr(address)
	if err != nil {
		return 0, false
	}
	addr = addr.Unmap()
	if info := b.r.addrs[addr]; info != nil && info.ref.end != 0 {
		return info.ref.end, true
	}
	return b.r.outside(addr), true
}

func appendTarget(ts []target, t target) []target {
	if slices.Contains(ts, t) {
		return ts
	}
	return append(ts, t)
}

// apiserverTargets resolves the kubernetes Service to the API server, and
// records the addresses and ports behind it.
func (b *builder) apiserverTargets(svc *corev1.Service, sp corev1.ServicePort) []target {
	end := b.r.intern(topology.End{Kind: topology.KindAPIServer})
	var ts []target
	for _, s := range b.slicesOf[nsName{svc.Namespace, svc.Name}] {
		for _, p := range s.Ports {
			if p.Port == nil || deref(p.Name) != sp.Name {
				continue
			}
			for _, ep := range s.Endpoints {
				for _, a := range ep.Addresses {
					addr, err := netip.ParseAddr(a)
					if err != nil {
						continue
					}
					ap := netip.AddrPortFrom(addr.Unmap(), uint16(*p.Port))
					if info := b.r.addr(ap.Addr()); !slices.Contains(info.apiPorts, ap.Port()) {
						info.apiPorts = append(info.apiPorts, ap.Port())
						b.r.cluster.APIServer = append(b.r.cluster.APIServer, ap)
					}
					ts = appendTarget(ts, target{end: end, port: ap.Port()})
				}
			}
		}
	}
	if len(ts) == 0 && sp.TargetPort.Type == intstr.Int {
		ts = append(ts, target{end: end, port: targetPortOn(&corev1.Pod{}, sp)})
	}
	slices.SortFunc(b.r.cluster.APIServer, func(x, y netip.AddrPort) int { return x.Compare(y) })
	return ts
}

// markDNS records, on the workloads behind the kube-dns Service, the target
// ports of its port-53 entries.
func (b *builder) markDNS(svc *corev1.Service) {
	for _, sp := range svc.Spec.Ports {
		if sp.Port != 53 {
			continue
		}
		proto := protoOf(sp.Protocol)
		for _, t := range b.backends(svc, sp) {
			e := b.r.ends[t.end]
			if e.Kind != topology.KindWorkload {
				continue
			}
			w := b.r.workloads[e.Workload]
			pp := topology.PortProto{Port: t.port, Proto: proto}
			if !slices.Contains(w.DNSPorts, pp) {
				w.DNSPorts = append(w.DNSPorts, pp)
				slices.SortFunc(w.DNSPorts, comparePortProto)
			}
			b.r.workloads[e.Workload] = w
		}
	}
}

func comparePortProto(a, b topology.PortProto) int {
	if a.Proto != b.Proto {
		return int(a.Proto) - int(b.Proto)
	}
	return int(a.Port) - int(b.Port)
}
