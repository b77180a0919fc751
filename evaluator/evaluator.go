package evaluator

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	cnp "sigs.k8s.io/network-policy-api/apis/v1beta1"
)

// Pod is what a verdict needs of a pod.
type Pod struct {
	Namespace   string
	Name        string
	Labels      map[string]string
	Ports       []corev1.ContainerPort // for named ports
	HostNetwork bool
	// Node is the node the pod runs on; empty when not known, and then
	// no address is its own node's.
	Node string
}

func (p *Pod) String() string { return p.Namespace + "/" + p.Name }

// Peer is one end of a connection: a pod, or an address outside the pods.
// Node names the node whose address Addr is, when it is one.
type Peer struct {
	Pod  *Pod
	Addr netip.Addr
	Node string
}

func (p Peer) String() string {
	if p.Pod != nil {
		return p.Pod.String()
	}
	return p.Addr.String()
}

// Verdict is whether a connection is allowed, and why not.
type Verdict struct {
	Allowed bool
	// Ingress is true when the destination denied it, false when the
	// source did; Policies are the policies that isolate that end.
	Ingress  bool
	Policies []string
	// Reason says it in a sentence; empty when allowed.
	Reason string
}

// Engine holds a policy set and the namespaces' labels.
type Engine struct {
	namespaces      map[string]labels.Set
	byNS            map[string][]*policy
	selectIdx       map[string]*index // byNS's policies by the pods they select
	admin, baseline []*clusterPolicy  // ClusterNetworkPolicies by tier, in order
}

// policy is a NetworkPolicy with its selectors compiled.
type policy struct {
	name             string
	ns               string
	podSel           labels.Selector
	ingress, egress  bool
	ingRules, egRule []rule
	ingIdx, egIdx    index // the rules by the pods they allow
}

type rule struct {
	peers []peer // nil: every peer
	ports []networkingv1.NetworkPolicyPort
}

type peer struct {
	podSel, nsSel labels.Selector // nil when absent
	block         *ipBlock
}

type ipBlock struct {
	cidr   netip.Prefix
	except []netip.Prefix
}

// New compiles a policy set; namespaces maps each namespace to its labels.
// A policy with an invalid selector or CIDR is an error naming it.
func New(namespaces map[string]map[string]string, policies []networkingv1.NetworkPolicy) (*Engine, error) {
	return NewTiered(namespaces, policies, nil)
}

// NewTiered compiles a policy set with ClusterNetworkPolicies: the Admin
// tier decides before the NetworkPolicies, the Baseline tier after them
// (see the package documentation). A ClusterNetworkPolicy this package
// cannot evaluate (a nodes selector with labels) is an error naming it.
func NewTiered(namespaces map[string]map[string]string, policies []networkingv1.NetworkPolicy, cluster []cnp.ClusterNetworkPolicy) (*Engine, error) {
	e := &Engine{namespaces: map[string]labels.Set{}, byNS: map[string][]*policy{}, selectIdx: map[string]*index{}}
	var err error
	if e.admin, e.baseline, err = compileCluster(cluster); err != nil {
		return nil, err
	}
	for ns, l := range namespaces {
		set := labels.Set{}
		for k, v := range l {
			set[k] = v
		}
		set[corev1.LabelMetadataName] = ns // as the API server sets it
		e.namespaces[ns] = set
	}
	for i := range policies {
		p, err := compile(&policies[i])
		if err != nil {
			return nil, fmt.Errorf("policy %s/%s: %w", policies[i].Namespace, policies[i].Name, err)
		}
		x := e.selectIdx[p.ns]
		if x == nil {
			x = &index{}
			e.selectIdx[p.ns] = x
		}
		x.add(len(e.byNS[p.ns]), selectorKeys(p.podSel, p.ns))
		e.byNS[p.ns] = append(e.byNS[p.ns], p)
	}
	return e, nil
}

func compile(np *networkingv1.NetworkPolicy) (*policy, error) {
	ns := np.Namespace
	if ns == "" {
		ns = metav1.NamespaceDefault
	}
	sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
	if err != nil {
		return nil, fmt.Errorf("podSelector: %w", err)
	}
	p := &policy{name: ns + "/" + np.Name, ns: ns, podSel: sel}
	p.ingress, p.egress = PolicyTypes(np)
	for i, r := range np.Spec.Ingress {
		cr, err := compileRule(r.From, r.Ports)
		if err != nil {
			return nil, fmt.Errorf("ingress[%d]: %w", i, err)
		}
		p.ingRules = append(p.ingRules, cr)
	}
	for i, r := range np.Spec.Egress {
		cr, err := compileRule(r.To, r.Ports)
		if err != nil {
			return nil, fmt.Errorf("egress[%d]: %w", i, err)
		}
		p.egRule = append(p.egRule, cr)
	}
	p.ingIdx, p.egIdx = rulesIndex(p.ingRules, ns), rulesIndex(p.egRule, ns)
	return p, nil
}

// PolicyTypes are the directions a policy isolates: its policyTypes, or
// their defaults, Ingress, and Egress when it has egress rules.
func PolicyTypes(np *networkingv1.NetworkPolicy) (ingress, egress bool) {
	if len(np.Spec.PolicyTypes) == 0 {
		return true, len(np.Spec.Egress) > 0
	}
	return slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress),
		slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress)
}

func compileRule(peers []networkingv1.NetworkPolicyPeer, ports []networkingv1.NetworkPolicyPort) (rule, error) {
	r := rule{ports: ports}
	for j, pr := range peers {
		cp, err := compilePeer(pr)
		if err != nil {
			return r, fmt.Errorf("peer %d: %w", j, err)
		}
		r.peers = append(r.peers, cp)
	}
	if len(peers) == 0 {
		r.peers = nil
	}
	return r, nil
}

func compilePeer(pr networkingv1.NetworkPolicyPeer) (peer, error) {
	var out peer
	var err error
	if pr.PodSelector != nil {
		if out.podSel, err = metav1.LabelSelectorAsSelector(pr.PodSelector); err != nil {
			return out, fmt.Errorf("podSelector: %w", err)
		}
	}
	if pr.NamespaceSelector != nil {
		if out.nsSel, err = metav1.LabelSelectorAsSelector(pr.NamespaceSelector); err != nil {
			return out, fmt.Errorf("namespaceSelector: %w", err)
		}
	}
	if pr.IPBlock != nil {
		b, err := compileBlock(pr.IPBlock)
		if err != nil {
			return out, err
		}
		out.block = b
	}
	return out, nil
}

func compileBlock(b *networkingv1.IPBlock) (*ipBlock, error) {
	cidr, err := netip.ParsePrefix(b.CIDR)
	if err != nil {
		return nil, fmt.Errorf("ipBlock cidr %q: %w", b.CIDR, err)
	}
	out := &ipBlock{cidr: cidr.Masked()}
	for _, ex := range b.Except {
		p, err := netip.ParsePrefix(ex)
		if err != nil {
			return nil, fmt.Errorf("ipBlock except %q: %w", ex, err)
		}
		out.except = append(out.except, p.Masked())
	}
	return out, nil
}

// Check decides a connection from src to dst on a destination port and
// protocol.
func (e *Engine) Check(src, dst Peer, port uint16, proto corev1.Protocol) Verdict {
	if src.Pod != nil && dst.Pod != nil && src.Pod.Namespace == dst.Pod.Namespace && src.Pod.Name == dst.Pod.Name {
		return Verdict{Allowed: true}
	}
	if v := e.direction(src, dst, port, proto, false); !v.Allowed {
		return v
	}
	return e.direction(src, dst, port, proto, true)
}

// direction decides one end: ingress at dst, or egress at src.
func (e *Engine) direction(src, dst Peer, port uint16, proto corev1.Protocol, ingress bool) Verdict {
	self, other := src, dst
	if ingress {
		self, other = dst, src
	}
	if self.Pod == nil || self.Pod.HostNetwork {
		return Verdict{Allowed: true} // not a pod NetworkPolicy governs
	}
	if OwnNode(self.Pod, other) {
		return Verdict{Allowed: true} // a pod and its own node
	}
	if t := e.tier(e.admin, "Admin", self, other, dst, port, proto, ingress); t.decided {
		return t.verdict
	}
	if v, isolated := e.networkPolicies(self, other, src, dst, port, proto, ingress); isolated {
		return v
	}
	if t := e.tier(e.baseline, "Baseline", self, other, dst, port, proto, ingress); t.decided {
		return t.verdict
	}
	return Verdict{Allowed: true}
}

// networkPolicies decides one direction by the NetworkPolicies, when any
// isolates that end for it.
func (e *Engine) networkPolicies(self, other, src, dst Peer, port uint16, proto corev1.Protocol, ingress bool) (Verdict, bool) {
	var isolating []string
	var buf [16]int32
	policies := e.byNS[self.Pod.Namespace]
	var candidates []int32
	if x := e.selectIdx[self.Pod.Namespace]; x != nil {
		candidates = x.candidates(buf[:0], self.Pod)
	}
	for _, i := range candidates {
		p := policies[i]
		if (ingress && !p.ingress) || (!ingress && !p.egress) || !p.podSel.Matches(labels.Set(self.Pod.Labels)) {
			continue
		}
		isolating = append(isolating, p.name)
		if p.allows(e, other, dst, port, proto, ingress) {
			return Verdict{Allowed: true}, true
		}
	}
	if len(isolating) == 0 {
		return Verdict{Allowed: true}, false
	}
	dir := "egress from " + src.String()
	if ingress {
		dir = "ingress to " + dst.String()
	}
	return Verdict{Ingress: ingress, Policies: isolating, Reason: fmt.Sprintf("%s denied: isolated by %s, and no rule allows %s on %d/%s",
		dir, strings.Join(isolating, ", "), other, port, proto)}, true
}

// OwnNode reports whether other is the node pod runs on: the node's
// address, or a hostNetwork pod on it. NetworkPolicy always allows traffic
// between a pod and its own node, both ways.
func OwnNode(pod *Pod, other Peer) bool {
	if pod == nil || pod.Node == "" {
		return false
	}
	if other.Pod != nil {
		return other.Pod.HostNetwork && other.Pod.Node == pod.Node
	}
	return other.Node == pod.Node
}

// allows reports whether one of the policy's rules for a direction allows
// other.
func (p *policy) allows(e *Engine, other, dst Peer, port uint16, proto corev1.Protocol, ingress bool) bool {
	rules, x := p.egRule, &p.egIdx
	if ingress {
		rules, x = p.ingRules, &p.ingIdx
	}
	pod := other.Pod
	if pod != nil && pod.HostNetwork {
		pod = nil // selectors select pods; a hostNetwork pod's traffic is its node's
	}
	var buf [16]int32
	for _, i := range x.candidates(buf[:0], pod) {
		if e.ruleAllows(rules[i], p.ns, other, dst, port, proto) {
			return true
		}
	}
	return false
}

func (e *Engine) ruleAllows(r rule, policyNS string, other, dst Peer, port uint16, proto corev1.Protocol) bool {
	if !portAllows(r.ports, dst, port, proto) {
		return false
	}
	if r.peers == nil {
		return true
	}
	for _, p := range r.peers {
		if e.peerMatches(p, policyNS, other) {
			return true
		}
	}
	return false
}

func (e *Engine) peerMatches(p peer, policyNS string, other Peer) bool {
	if p.block != nil {
		return other.Pod == nil && p.block.contains(other.Addr)
	}
	if other.Pod == nil || other.Pod.HostNetwork {
		return false // selectors select pods; a hostNetwork pod's traffic is its node's
	}
	if p.nsSel != nil {
		if !p.nsSel.Matches(e.nsLabels(other.Pod.Namespace)) {
			return false
		}
	} else if other.Pod.Namespace != policyNS {
		return false
	}
	return p.podSel == nil || p.podSel.Matches(labels.Set(other.Pod.Labels))
}

// nsLabels are a namespace's labels; one not given has only its name label,
// which the API server sets on every namespace.
func (e *Engine) nsLabels(ns string) labels.Set {
	if l, ok := e.namespaces[ns]; ok {
		return l
	}
	return labels.Set{corev1.LabelMetadataName: ns}
}

func (b *ipBlock) contains(a netip.Addr) bool {
	if !b.cidr.Contains(a) {
		return false
	}
	for _, ex := range b.except {
		if ex.Contains(a) {
			return false
		}
	}
	return true
}

// portAllows reports whether a rule's ports admit the destination port:
// no ports admit all; a port without a number admits its protocol; a named
// port is looked up on the destination pod.
func portAllows(ports []networkingv1.NetworkPolicyPort, dst Peer, port uint16, proto corev1.Protocol) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		pp := corev1.ProtocolTCP
		if p.Protocol != nil {
			pp = *p.Protocol
		}
		if pp != proto {
			continue
		}
		if p.Port == nil {
			return true
		}
		lo := resolvePort(p, dst, proto)
		if lo == 0 {
			continue
		}
		hi := lo
		if p.EndPort != nil && p.Port.Type == intstr.Int {
			hi = uint16(*p.EndPort)
		}
		if lo <= port && port <= hi {
			return true
		}
	}
	return false
}

func resolvePort(p networkingv1.NetworkPolicyPort, dst Peer, proto corev1.Protocol) uint16 {
	if p.Port.Type == intstr.Int {
		return uint16(p.Port.IntVal)
	}
	if dst.Pod == nil {
		return 0
	}
	for _, cp := range dst.Pod.Ports {
		cpProto := cp.Protocol
		if cpProto == "" {
			cpProto = corev1.ProtocolTCP
		}
		if cp.Name == p.Port.StrVal && cpProto == proto {
			return uint16(cp.ContainerPort)
		}
	}
	return 0
}
