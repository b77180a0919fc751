// Package randnet makes random clusters for differential tests: a few
// namespaces and pods with labels and named ports, and policies over them
// with every kind of selector, ipBlocks with exceptions, port ranges and
// named ports. A world is reproduced by its seed and index.
package randnet

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

const (
	ingress = networkingv1.PolicyTypeIngress
	egress  = networkingv1.PolicyTypeEgress
)

// Protocols are the protocols NetworkPolicy knows.
func Protocols() []corev1.Protocol {
	return []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP}
}

// Ports are the ports worth probing: those on containers and in rules, and
// 9000, which only ends ranges.
func Ports() []uint16 { return []uint16{80, 81, 443, 8080, 9000} }

// World is a random cluster: namespaces, pods, policies, and addresses
// outside the pods.
type World struct {
	Namespaces []corev1.Namespace
	Pods       []corev1.Pod
	Policies   []networkingv1.NetworkPolicy
	// Addrs are addresses outside the pods, IPv4; one is the address of
	// node Node (see NodeAddr), the others no node's.
	Addrs []netip.Addr
}

// Node is the node every other pod runs on (the first, the third, ...;
// the others run on OtherNode), whose address is nodeAddr, one of the
// outside addresses: traffic between those pods and that address is
// between a pod and its own node, which NetworkPolicy always allows.
const (
	Node      = "node-a"
	OtherNode = "node-b"
)

var nodeAddr = netip.AddrFrom4([4]byte{192, 168, 1, 10})

// NodeAddr is the address of Node, when it is among the world's outside
// addresses (a shrunk world may have lost it).
func (w *World) NodeAddr() (netip.Addr, bool) {
	return nodeAddr, slices.Contains(w.Addrs, nodeAddr)
}

// NodeOf is the node an address belongs to: Node for NodeAddr, else none.
func (w *World) NodeOf(a netip.Addr) string {
	if n, ok := w.NodeAddr(); ok && n == a {
		return Node
	}
	return ""
}

// Clone is a deep copy.
func (w *World) Clone() *World {
	c := &World{Addrs: slices.Clone(w.Addrs)}
	for i := range w.Namespaces {
		c.Namespaces = append(c.Namespaces, *w.Namespaces[i].DeepCopy())
	}
	for i := range w.Pods {
		c.Pods = append(c.Pods, *w.Pods[i].DeepCopy())
	}
	for i := range w.Policies {
		c.Policies = append(c.Policies, *w.Policies[i].DeepCopy())
	}
	return c
}

// Generator makes random worlds. Names and values come from small pools
// so that selectors often match and often miss.
type Generator struct {
	rng *rand.Rand
	// nsLabels are the namespaces' labels; nsSel what namespace
	// selectors ask for: those, the name label, and a value none has.
	nsLabels, nsSel map[string][]string
	// podLabels are the pods' labels; podSel what pod selectors ask for.
	podLabels, podSel map[string][]string
	portNames         []string
	ports             []int32 // on containers and in rules
	// addrs are the addresses outside the pods; the blocks are built
	// around them.
	addrs []netip.Addr
}

func New(seed uint64, index int) *Generator {
	return &Generator{
		rng:       rand.New(rand.NewPCG(seed, uint64(index))),
		nsLabels:  map[string][]string{"team": {"a", "b"}, "env": {"prod", "dev"}, "tier": {"a", "b"}},
		nsSel:     map[string][]string{"team": {"a", "b", "c"}, "env": {"prod", "dev"}, "tier": {"a"}, corev1.LabelMetadataName: {"x", "y", "z"}},
		podLabels: map[string][]string{"app": {"a", "b", "c"}, "role": {"web", "db"}, "tier": {"a", "b"}},
		podSel:    map[string][]string{"app": {"a", "b", "d"}, "role": {"web", "db"}, "tier": {"a", "b"}},
		portNames: []string{"http", "web", "dns", "alt"},
		ports:     []int32{80, 81, 443, 8080},
		addrs: []netip.Addr{
			netip.MustParseAddr("192.168.1.10"), netip.MustParseAddr("192.168.1.200"),
			netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("172.16.5.4"), netip.MustParseAddr("8.8.8.8"),
		},
	}
}

// world makes two or three namespaces with one to three pods each, and up
// to five policies. No pod is hostNetwork (see differential_test.go).
func (g *Generator) World() *World {
	w := &World{Addrs: slices.Clone(g.addrs)}
	for _, ns := range []string{"x", "y", "z"}[:2+g.rng.IntN(2)] {
		l := g.labels(g.nsLabels)
		l[corev1.LabelMetadataName] = ns
		w.Namespaces = append(w.Namespaces, corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: l}})
		for i := range 1 + g.rng.IntN(3) {
			w.Pods = append(w.Pods, g.pod(ns, fmt.Sprintf("p%d", i)))
		}
	}
	for i := range g.rng.IntN(6) {
		ns := w.Namespaces[g.rng.IntN(len(w.Namespaces))].Name
		w.Policies = append(w.Policies, g.policy(ns, fmt.Sprintf("np%d", i)))
	}
	for i := range w.Pods {
		w.Pods[i].Spec.NodeName = []string{Node, OtherNode}[i%2]
	}
	return w
}

func (g *Generator) labels(vals map[string][]string) map[string]string {
	l := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(vals)) {
		if g.rng.IntN(3) > 0 {
			l[k] = pick(g.rng, vals[k])
		}
	}
	return l
}

func pick[T any](rng *rand.Rand, s []T) T { return s[rng.IntN(len(s))] }

// pod makes a pod with up to three container ports, most of them named; a
// name is unique in the pod but means different ports on different pods.
func (g *Generator) pod(ns, name string) corev1.Pod {
	var ports []corev1.ContainerPort
	names := slices.Clone(g.portNames)
	g.rng.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	for range g.rng.IntN(4) {
		proto := pick(g.rng, []corev1.Protocol{"", corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP})
		cp := corev1.ContainerPort{ContainerPort: pick(g.rng, g.ports), Protocol: proto}
		if slices.ContainsFunc(ports, func(p corev1.ContainerPort) bool {
			return p.ContainerPort == cp.ContainerPort && protoOrTCP(p.Protocol) == protoOrTCP(cp.Protocol)
		}) {
			continue
		}
		if g.rng.IntN(4) > 0 && len(names) > 0 {
			cp.Name, names = names[0], names[1:]
		}
		ports = append(ports, cp)
	}
	return corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: g.labels(g.podLabels)},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Ports: ports}}},
	}
}

func protoOrTCP(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
}

func (g *Generator) policy(ns, name string) networkingv1.NetworkPolicy {
	spec := networkingv1.NetworkPolicySpec{
		PodSelector: *g.selector(g.podSel),
		PolicyTypes: pick(g.rng, [][]networkingv1.PolicyType{nil, nil, {ingress}, {egress}, {ingress, egress}}),
	}
	for range g.rng.IntN(3) {
		peers, ports := g.rule()
		spec.Ingress = append(spec.Ingress, networkingv1.NetworkPolicyIngressRule{From: peers, Ports: ports})
	}
	for range g.rng.IntN(3) {
		peers, ports := g.rule()
		spec.Egress = append(spec.Egress, networkingv1.NetworkPolicyEgressRule{To: peers, Ports: ports})
	}
	return networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: spec}
}

// rule makes peers (none, every peer, a quarter of the time) and ports
// (none, every port, a third of the time).
func (g *Generator) rule() ([]networkingv1.NetworkPolicyPeer, []networkingv1.NetworkPolicyPort) {
	var peers []networkingv1.NetworkPolicyPeer
	if g.rng.IntN(4) > 0 {
		for range 1 + g.rng.IntN(2) {
			peers = append(peers, g.peer())
		}
	}
	var ports []networkingv1.NetworkPolicyPort
	if g.rng.IntN(3) > 0 {
		for range 1 + g.rng.IntN(2) {
			ports = append(ports, g.port())
		}
	}
	return peers, ports
}

func (g *Generator) peer() networkingv1.NetworkPolicyPeer {
	switch g.rng.IntN(5) {
	case 0, 1:
		return networkingv1.NetworkPolicyPeer{PodSelector: g.selector(g.podSel)}
	case 2:
		return networkingv1.NetworkPolicyPeer{NamespaceSelector: g.selector(g.nsSel)}
	case 3:
		return networkingv1.NetworkPolicyPeer{PodSelector: g.selector(g.podSel), NamespaceSelector: g.selector(g.nsSel)}
	default:
		return networkingv1.NetworkPolicyPeer{IPBlock: g.block()}
	}
}

// selector is empty a quarter of the time, else matchLabels and
// matchExpressions (In, NotIn, Exists, DoesNotExist) over vals.
func (g *Generator) selector(vals map[string][]string) *metav1.LabelSelector {
	s := &metav1.LabelSelector{}
	if g.rng.IntN(4) == 0 {
		return s
	}
	keys := slices.Sorted(maps.Keys(vals))
	for range g.rng.IntN(2) {
		k := pick(g.rng, keys)
		if s.MatchLabels == nil {
			s.MatchLabels = map[string]string{}
		}
		s.MatchLabels[k] = pick(g.rng, vals[k])
	}
	for range 1 + g.rng.IntN(2) {
		k := pick(g.rng, keys)
		op := pick(g.rng, []metav1.LabelSelectorOperator{metav1.LabelSelectorOpIn, metav1.LabelSelectorOpNotIn, metav1.LabelSelectorOpExists, metav1.LabelSelectorOpDoesNotExist})
		req := metav1.LabelSelectorRequirement{Key: k, Operator: op}
		if op == metav1.LabelSelectorOpIn || op == metav1.LabelSelectorOpNotIn {
			req.Values = []string{pick(g.rng, vals[k])}
			if v := pick(g.rng, vals[k]); g.rng.IntN(2) == 0 && v != req.Values[0] {
				req.Values = append(req.Values, v)
			}
		}
		s.MatchExpressions = append(s.MatchExpressions, req)
	}
	return s
}

// block is a block around one of the addresses, from /0 to /32, with up
// to two exceptions inside it.
func (g *Generator) block() *networkingv1.IPBlock {
	bits := pick(g.rng, []int{0, 8, 16, 24, 32})
	cidr := netip.PrefixFrom(pick(g.rng, g.addrs), bits).Masked()
	b := &networkingv1.IPBlock{CIDR: cidr.String()}
	if bits == 32 || g.rng.IntN(2) == 0 {
		return b
	}
	inside := slices.DeleteFunc(slices.Clone(g.addrs), func(a netip.Addr) bool { return !cidr.Contains(a) })
	longer := slices.DeleteFunc([]int{16, 24, 25, 32}, func(n int) bool { return n <= bits })
	for range 1 + g.rng.IntN(2) {
		ex := netip.PrefixFrom(pick(g.rng, inside), pick(g.rng, longer)).Masked().String()
		if !slices.Contains(b.Except, ex) {
			b.Except = append(b.Except, ex)
		}
	}
	return b
}

// port is a numeric port (a range a third of the time), a named port
// (which some pods lack), or a protocol alone; the protocol is left out a
// third of the time (TCP).
func (g *Generator) port() networkingv1.NetworkPolicyPort {
	var p networkingv1.NetworkPolicyPort
	if g.rng.IntN(3) > 0 {
		p.Protocol = new(pick(g.rng, Protocols()))
	}
	switch g.rng.IntN(6) {
	case 0:
	case 1, 2:
		n := intstr.FromString(pick(g.rng, append(slices.Clone(g.portNames), "missing")))
		p.Port = &n
	default:
		start := pick(g.rng, g.ports)
		n := intstr.FromInt32(start)
		p.Port = &n
		if g.rng.IntN(3) == 0 {
			ends := slices.DeleteFunc([]int32{80, 81, 443, 8080, 9000}, func(e int32) bool { return e < start })
			p.EndPort = new(pick(g.rng, ends))
		}
	}
	return p
}

// NamespaceLabels are the namespaces' labels by name.
func (w *World) NamespaceLabels() map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, ns := range w.Namespaces {
		out[ns.Name] = ns.Labels
	}
	return out
}

// PodAddrs are addresses for pod i: 10.244.0.i+1 and fd00::i+1, outside
// the world's other addresses.
func PodAddrs(i int) (v4, v6 netip.Addr) {
	return netip.AddrFrom4([4]byte{10, 244, 0, byte(i + 1)}), netip.AddrFrom16([16]byte{0: 0xfd, 15: byte(i + 1)})
}

// ContainerPorts are a pod's containers' ports.
func ContainerPorts(p *corev1.Pod) []corev1.ContainerPort {
	var out []corev1.ContainerPort
	for _, c := range p.Spec.Containers {
		out = append(out, c.Ports...)
	}
	return out
}
