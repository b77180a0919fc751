package kubestate

import (
	"hash/fnv"
	"math"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/topology"
)

// The rules below are the inventory resolver's, applied to one object at
// a time: what a pod, node or Service is, independent of the others.

func podAddrs(p *corev1.Pod) []netip.Addr {
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

// serviceAddrs are the addresses that reach a Service: its cluster IPs,
// external IPs and load-balancer addresses.
func serviceAddrs(svc *corev1.Service) []netip.Addr {
	ss := append([]string{svc.Spec.ClusterIP}, svc.Spec.ClusterIPs...)
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

func podIdentity(pod *corev1.Pod) uint64 {
	h := fnv.New64a()
	if pod.UID != "" {
		h.Write([]byte(pod.UID))
	} else {
		h.Write([]byte(pod.Namespace + "/" + pod.Name))
	}
	return h.Sum64() | 1 // never zero
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

// holdsBetter says whether p rather than q holds an address they share.
func holdsBetter(p, q *corev1.Pod) bool {
	if pd, qd := p.DeletionTimestamp != nil, q.DeletionTimestamp != nil; pd != qd {
		return qd // a pod being deleted gives its address up
	}
	if rp, rq := phaseRank(p), phaseRank(q); rp != rq {
		return rp < rq
	}
	if !p.CreationTimestamp.Equal(&q.CreationTimestamp) {
		return q.CreationTimestamp.Before(&p.CreationTimestamp)
	}
	return p.UID < q.UID
}

// tenure is how long a pod held its addresses, unix nanoseconds: from its
// start (its creation when it has not started) until its deletion.
func tenure(p *corev1.Pod) (from, to int64) {
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

func protoOf(p corev1.Protocol) flow.Proto {
	proto, err := flow.ParseProto(string(p))
	if err != nil {
		return flow.TCP // Kubernetes' default
	}
	return proto
}

func protoOrTCP(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
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

// namedPortsOf returns a pod's named container ports.
func namedPortsOf(p *corev1.Pod) []topology.ContainerPort {
	var out []topology.ContainerPort
	for _, c := range p.Spec.Containers {
		for _, cp := range c.Ports {
			port := topology.ContainerPort{Name: cp.Name, Port: uint16(cp.ContainerPort), Proto: protoOf(cp.Protocol)}
			if cp.Name != "" && !slices.Contains(out, port) {
				out = append(out, port)
			}
		}
	}
	return out
}

// isUnstableLabel reports labels that change from one pod, revision or run
// to the next.
func isUnstableLabel(key string) bool {
	switch key {
	case "pod-template-hash", "controller-revision-hash", "pod-template-generation",
		"statefulset.kubernetes.io/pod-name", "apps.kubernetes.io/pod-index",
		"job-name", "controller-uid":
		return true
	}
	return strings.HasPrefix(key, "batch.kubernetes.io/")
}

// stableSelector returns sel without unstable keys, or nil when nothing is
// left to select on.
func stableSelector(sel *metav1.LabelSelector) *metav1.LabelSelector {
	if sel == nil {
		return nil
	}
	out := &metav1.LabelSelector{}
	for k, v := range sel.MatchLabels {
		if !isUnstableLabel(k) {
			if out.MatchLabels == nil {
				out.MatchLabels = map[string]string{}
			}
			out.MatchLabels[k] = v
		}
	}
	for _, req := range sel.MatchExpressions {
		if !isUnstableLabel(req.Key) {
			out.MatchExpressions = append(out.MatchExpressions, *req.DeepCopy())
		}
	}
	if len(out.MatchLabels) == 0 && len(out.MatchExpressions) == 0 {
		return nil
	}
	return out
}

func labelSelector(labels map[string]string) *metav1.LabelSelector {
	return stableSelector(&metav1.LabelSelector{MatchLabels: labels})
}

// commonLabels returns the labels every set has with the same value.
func commonLabels(sets []map[string]string) map[string]string {
	if len(sets) == 0 {
		return nil
	}
	out := map[string]string{}
	for k, v := range sets[0] {
		out[k] = v
	}
	for _, s := range sets[1:] {
		for k, v := range out {
			if s[k] != v {
				delete(out, k)
			}
		}
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func comparePortProto(a, b topology.PortProto) int {
	if a.Proto != b.Proto {
		return int(a.Proto) - int(b.Proto)
	}
	return int(a.Port) - int(b.Port)
}
