package resolve

import (
	"hash/fnv"
	"math"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/topology"
)

// PodIdentity is a pod's identity in an edge's pod sets: a hash of its uid
// (of namespace/name when it has none), never zero.
func PodIdentity(pod *corev1.Pod) uint64 {
	h := fnv.New64a()
	if pod.UID != "" {
		h.Write([]byte(pod.UID))
	} else {
		h.Write([]byte(pod.Namespace + "/" + pod.Name))
	}
	return h.Sum64() | 1 // never zero
}

// PodAddrs returns a pod's addresses, IPv4-mapped ones unmapped, each once.
func PodAddrs(p *corev1.Pod) []netip.Addr {
	var out []netip.Addr
	add := func(s string) {
		if a, err := netip.ParseAddr(s); err == nil && !slices.Contains(out, a.Unmap()) {
			out = append(out, a.Unmap())
		}
	}
	add(p.Status.PodIP)
	for _, ip := range p.Status.PodIPs {
		add(ip.IP)
	}
	return out
}

// Tenure is how long a pod held its addresses, unix nanoseconds: from its
// start (its creation when it has not started; the beginning of time when
// neither is known) until its deletion (the end of time while it lives).
// A flow at t belongs to the pod whose tenure covers t, the latest to
// start when several do.
func Tenure(p *corev1.Pod) (from, to int64) {
	from, to = math.MinInt64, math.MaxInt64
	if st := p.Status.StartTime; st != nil {
		from = st.UnixNano()
	} else if !p.CreationTimestamp.IsZero() {
		from = p.CreationTimestamp.UnixNano()
	}
	if d := p.DeletionTimestamp; d != nil {
		to = d.UnixNano()
	}
	return from, to
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

// Finished reports a pod that has ended and serves no Service.
func Finished(p *corev1.Pod) bool { return phaseRank(p) == 3 }

// HoldsBetter reports whether p rather than q holds an address both claim
// now: a pod not being deleted, then a running one before a pending one
// before a finished one, then the newer.
func HoldsBetter(p, q *corev1.Pod) bool {
	if pd, qd := p.DeletionTimestamp != nil, q.DeletionTimestamp != nil; pd != qd {
		return qd // a pod being deleted gives its address up
	}
	if rp, rq := phaseRank(p), phaseRank(q); rp != rq {
		return rp < rq
	}
	return q.CreationTimestamp.Before(&p.CreationTimestamp)
}

// HostEnd is the end of a hostNetwork pod: its node at its address.
func HostEnd(p *corev1.Pod) topology.End {
	addr, _ := netip.ParseAddr(p.Status.PodIP) // the zero Addr when unset
	return topology.End{Kind: topology.KindHost, Node: p.Spec.NodeName, Addr: addr.Unmap()}
}

// NodeAddrs returns a node's internal and external addresses.
func NodeAddrs(n *corev1.Node) []netip.Addr {
	var out []netip.Addr
	for _, a := range n.Status.Addresses {
		if a.Type != corev1.NodeInternalIP && a.Type != corev1.NodeExternalIP {
			continue
		}
		if addr, err := netip.ParseAddr(a.Address); err == nil {
			out = append(out, addr.Unmap())
		}
	}
	return out
}

// NodePodCIDRs returns a node's pod ranges.
func NodePodCIDRs(n *corev1.Node) []netip.Prefix {
	var out []netip.Prefix
	for _, c := range append([]string{n.Spec.PodCIDR}, n.Spec.PodCIDRs...) {
		if p, err := netip.ParsePrefix(c); err == nil {
			out = append(out, p.Masked())
		}
	}
	return out
}

// DistinctLabels returns the pods' distinct label sets, in a stable order.
func DistinctLabels(pods []*corev1.Pod) []map[string]string {
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

// NamedPorts returns the pods' named container ports, in a stable order.
func NamedPorts(pods []*corev1.Pod) []topology.ContainerPort {
	var out []topology.ContainerPort
	for _, p := range pods {
		for _, c := range p.Spec.Containers {
			for _, cp := range c.Ports {
				port := topology.ContainerPort{Name: cp.Name, Port: uint16(cp.ContainerPort), Proto: ProtoOf(cp.Protocol)}
				if cp.Name != "" && !slices.Contains(out, port) {
					out = append(out, port)
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b topology.ContainerPort) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// ProtoOf is a Kubernetes protocol as a flow's; unset means TCP, as in
// Kubernetes.
func ProtoOf(p corev1.Protocol) flow.Proto {
	proto, err := flow.ParseProto(string(p))
	if err != nil {
		return flow.TCP // Kubernetes' default
	}
	return proto
}

// ServiceAddrs are the addresses that reach a Service: its cluster IPs,
// external IPs and load-balancer addresses.
func ServiceAddrs(svc *corev1.Service) []netip.Addr {
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
