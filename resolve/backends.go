package resolve

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/flowpol/flowpol/topology"
)

// IsAPIServer reports the Service that fronts the API server:
// default/kubernetes. Its backends are the API server, not pods.
func IsAPIServer(svc *corev1.Service) bool {
	return svc.Namespace == "default" && svc.Name == "kubernetes"
}

// IsDNS reports the cluster's DNS Service, kube-system/kube-dns: its
// backends' target ports of its port-53 entries are the DNS ports (see
// topology.Workload.DNSPorts).
func IsDNS(svc *corev1.Service) bool {
	return svc.Namespace == "kube-system" && svc.Name == "kube-dns"
}

// Backend is one backend of a Service port as an EndpointSlice names it:
// the pod it refers to (empty Name when none), its address (invalid when
// it has none that parses), and the target port.
type Backend struct {
	PodNamespace, PodName string
	Addr                  netip.Addr
	Port                  uint16
}

// SliceBackends returns the backends a Service port's EndpointSlices list,
// each once: the endpoints of the slices' ports of the same name and
// protocol.
func SliceBackends(ss []*discoveryv1.EndpointSlice, sp corev1.ServicePort) []Backend {
	var out []Backend
	for _, s := range ss {
		for _, p := range s.Ports {
			if p.Port == nil || deref(p.Name) != sp.Name || (p.Protocol != nil && *p.Protocol != protoOrTCP(sp.Protocol)) {
				continue
			}
			for _, ep := range s.Endpoints {
				for _, a := range ep.Addresses {
					be := Backend{Port: uint16(*p.Port)}
					if ref := ep.TargetRef; ref != nil && ref.Kind == "Pod" {
						be.PodNamespace, be.PodName = s.Namespace, ref.Name
						if ref.Namespace != "" {
							be.PodNamespace = ref.Namespace
						}
					}
					if addr, err := netip.ParseAddr(a); err == nil {
						be.Addr = addr.Unmap()
					}
					if !slices.Contains(out, be) {
						out = append(out, be)
					}
				}
			}
		}
	}
	return out
}

// LabelKey is the key under which an index of pods by label files a
// pod's label in its namespace: NS/KEY=VALUE.
func LabelKey(ns, key, value string) string { return ns + "/" + key + "=" + value }

// Rarest returns the shortest of the lists of pods that pods gives for a
// selector's labels in ns, by LabelKey: every pod the selector selects is
// in it, and only those need trying. The selector must not be empty.
func Rarest(ns string, selector map[string]string, pods func(key string) []*corev1.Pod) []*corev1.Pod {
	var out []*corev1.Pod
	first := true
	for k, v := range selector {
		if ps := pods(LabelKey(ns, k, v)); first || len(ps) < len(out) {
			out, first = ps, false
		}
	}
	return out
}

// Selects reports whether a Service without EndpointSlices sends to p: p
// is in its namespace, has not finished, and matches its selector (a
// Service without one selects nothing).
func Selects(svc *corev1.Service, p *corev1.Pod) bool {
	if len(svc.Spec.Selector) == 0 || p.Namespace != svc.Namespace || Finished(p) {
		return false
	}
	return labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(p.Labels))
}

// TargetPort resolves a Service port's target port on one pod: a number
// (the Service port when unset), or a name looked up in the pod's
// container ports of the same protocol; zero when the pod has no such
// port.
func TargetPort(p *corev1.Pod, sp corev1.ServicePort) uint16 {
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

// APIServerEndpoints returns the addresses and ports behind a port of the
// kubernetes Service, from its EndpointSlices; with none, when the target
// port is a number, the zero address with that port (the API server is
// then known by port only).
func APIServerEndpoints(ss []*discoveryv1.EndpointSlice, sp corev1.ServicePort) []netip.AddrPort {
	var out []netip.AddrPort
	for _, s := range ss {
		for _, p := range s.Ports {
			if p.Port == nil || deref(p.Name) != sp.Name {
				continue
			}
			for _, ep := range s.Endpoints {
				for _, a := range ep.Addresses {
					if addr, err := netip.ParseAddr(a); err == nil {
						if ap := netip.AddrPortFrom(addr.Unmap(), uint16(*p.Port)); !slices.Contains(out, ap) {
							out = append(out, ap)
						}
					}
				}
			}
		}
	}
	if len(out) == 0 && sp.TargetPort.Type == intstr.Int {
		out = append(out, netip.AddrPortFrom(netip.Addr{}, TargetPort(&corev1.Pod{}, sp)))
	}
	return out
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

// ComparePortProto orders ports by protocol, then number, as
// topology.Workload.DNSPorts are kept.
func ComparePortProto(a, b topology.PortProto) int {
	if a.Proto != b.Proto {
		return int(a.Proto) - int(b.Proto)
	}
	return int(a.Port) - int(b.Port)
}

// LoadBalancerOf is how a LoadBalancer or NodePort Service's port lets
// ingress from outside the cluster reach a backend's target port; false
// for any other Service.
func LoadBalancerOf(svc *corev1.Service, sp corev1.ServicePort, target uint16) (topology.LoadBalancer, bool) {
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer && svc.Spec.Type != corev1.ServiceTypeNodePort {
		return topology.LoadBalancer{}, false
	}
	lb := topology.LoadBalancer{Service: svc.Namespace + "/" + svc.Name, Type: string(svc.Spec.Type),
		Port:  topology.PortProto{Port: target, Proto: ProtoOf(sp.Protocol)},
		Local: svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal}
	for _, r := range svc.Spec.LoadBalancerSourceRanges {
		if p, err := netip.ParsePrefix(strings.TrimSpace(r)); err == nil {
			lb.SourceRanges = append(lb.SourceRanges, p.Masked())
		}
	}
	return lb, true
}

// CompareLoadBalancer orders load balancers by Service and port.
func CompareLoadBalancer(a, b topology.LoadBalancer) int {
	return cmp.Or(strings.Compare(a.Service, b.Service), ComparePortProto(a.Port, b.Port))
}

// ComparePrefix orders prefixes by address, then length.
func ComparePrefix(a, b netip.Prefix) int {
	return cmp.Or(a.Addr().Compare(b.Addr()), cmp.Compare(a.Bits(), b.Bits()))
}
