package evaluator_test

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/flowpol/flowpol/evaluator"
)

// cluster is the small world the semantics tests run in: namespaces x
// (team=blue), y (team=red) and z, with pods a and b in x and y, c in z,
// and a hostNetwork pod h in x.
type cluster struct {
	namespaces             map[string]map[string]string
	xa, xb, ya, yb, zc, xh evaluator.Peer
}

func newCluster() cluster {
	web := []corev1.ContainerPort{
		{Name: "http", ContainerPort: 8080},
		{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP},
	}
	return cluster{
		namespaces: map[string]map[string]string{
			"x": {"team": "blue", corev1.LabelMetadataName: "x"},
			"y": {"team": "red", corev1.LabelMetadataName: "y"},
			"z": {corev1.LabelMetadataName: "z"},
		},
		xa: podPeer("x", "a", map[string]string{"app": "a"}, web...),
		xb: podPeer("x", "b", map[string]string{"app": "b"}, corev1.ContainerPort{Name: "http", ContainerPort: 9090}),
		ya: podPeer("y", "a", map[string]string{"app": "a"}, web...),
		yb: podPeer("y", "b", map[string]string{"app": "b"}),
		zc: podPeer("z", "c", map[string]string{"app": "c"}),
		xh: evaluator.Peer{Pod: &evaluator.Pod{Namespace: "x", Name: "h", Labels: map[string]string{"app": "a"}, HostNetwork: true}},
	}
}

func podPeer(ns, name string, labels map[string]string, ports ...corev1.ContainerPort) evaluator.Peer {
	return evaluator.Peer{Pod: &evaluator.Pod{Namespace: ns, Name: name, Labels: labels, Ports: ports}}
}

func addrPeer(tb testing.TB, s string) evaluator.Peer {
	tb.Helper()
	a, err := netip.ParseAddr(s)
	if err != nil {
		tb.Fatal(err)
	}
	return evaluator.Peer{Addr: a}
}

func policy(ns, name string, spec networkingv1.NetworkPolicySpec) networkingv1.NetworkPolicy {
	return networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: spec}
}

// labelsSel is a selector of matchLabels from key, value pairs; no pairs
// make the empty selector, which selects everything.
func labelsSel(kv ...string) *metav1.LabelSelector {
	s := &metav1.LabelSelector{}
	for i := 0; i+1 < len(kv); i += 2 {
		if s.MatchLabels == nil {
			s.MatchLabels = map[string]string{}
		}
		s.MatchLabels[kv[i]] = kv[i+1]
	}
	return s
}

func portNum(proto corev1.Protocol, port int32) networkingv1.NetworkPolicyPort {
	p := intstr.FromInt32(port)
	return networkingv1.NetworkPolicyPort{Protocol: &proto, Port: &p}
}

func portRange(proto corev1.Protocol, port, end int32) networkingv1.NetworkPolicyPort {
	p := portNum(proto, port)
	p.EndPort = &end
	return p
}

func portName(proto corev1.Protocol, name string) networkingv1.NetworkPolicyPort {
	p := intstr.FromString(name)
	return networkingv1.NetworkPolicyPort{Protocol: &proto, Port: &p}
}

func ingressFrom(peers ...networkingv1.NetworkPolicyPeer) []networkingv1.NetworkPolicyIngressRule {
	return []networkingv1.NetworkPolicyIngressRule{{From: peers}}
}

func egressTo(peers ...networkingv1.NetworkPolicyPeer) []networkingv1.NetworkPolicyEgressRule {
	return []networkingv1.NetworkPolicyEgressRule{{To: peers}}
}

func policyTypes(t ...networkingv1.PolicyType) []networkingv1.PolicyType { return t }

const (
	tcp  = corev1.ProtocolTCP
	udp  = corev1.ProtocolUDP
	sctp = corev1.ProtocolSCTP
	ing  = networkingv1.PolicyTypeIngress
	egr  = networkingv1.PolicyTypeEgress
)

type semanticsCase struct {
	name     string
	policies []networkingv1.NetworkPolicy
	src, dst evaluator.Peer
	port     uint16
	proto    corev1.Protocol
	want     bool
}

func TestCheckSemantics(t *testing.T) {
	c := newCluster()
	var tests []semanticsCase
	for _, group := range [][]semanticsCase{
		policyTypeCases(t, c), selectorCases(c), ipBlockCases(t, c),
		portCases(t, c), unionCases(c), specialPeerCases(t, c), ownNodeCases(t, c),
	} {
		tests = append(tests, group...)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := evaluator.New(c.namespaces, tt.policies)
			if err != nil {
				t.Fatal(err)
			}
			v := e.Check(tt.src, tt.dst, tt.port, tt.proto)
			if v.Allowed != tt.want {
				t.Errorf("%s -> %s %d/%s: allowed %v, want %v (reason %q)", tt.src, tt.dst, tt.port, tt.proto, v.Allowed, tt.want, v.Reason)
			}
			if v.Allowed != (v.Reason == "") {
				t.Errorf("allowed %v with reason %q: a denial must say why, an allowance must not", v.Allowed, v.Reason)
			}
		})
	}
}

func policyTypeCases(t *testing.T, c cluster) []semanticsCase {
	ingressOnly := networkingv1.NetworkPolicySpec{PodSelector: *labelsSel("app", "a")}
	egressRules := networkingv1.NetworkPolicySpec{PodSelector: *labelsSel("app", "a"), Egress: egressTo(networkingv1.NetworkPolicyPeer{PodSelector: labelsSel("app", "b")})}
	egressType := networkingv1.NetworkPolicySpec{PodSelector: *labelsSel("app", "a"), PolicyTypes: policyTypes(egr)}
	both := networkingv1.NetworkPolicySpec{PodSelector: *labelsSel(), PolicyTypes: policyTypes(ing, egr)}
	return []semanticsCase{
		{name: "no policy allows everything", src: c.ya, dst: c.xa, port: 80, proto: tcp, want: true},
		{name: "policyTypes empty without egress rules isolates ingress", policies: []networkingv1.NetworkPolicy{policy("x", "p", ingressOnly)}, src: c.ya, dst: c.xa, port: 80, proto: tcp, want: false},
		{name: "policyTypes empty without egress rules leaves egress open", policies: []networkingv1.NetworkPolicy{policy("x", "p", ingressOnly)}, src: c.xa, dst: c.ya, port: 80, proto: tcp, want: true},
		{name: "policyTypes empty with egress rules isolates egress", policies: []networkingv1.NetworkPolicy{policy("x", "p", egressRules)}, src: c.xa, dst: c.ya, port: 80, proto: tcp, want: false},
		{name: "policyTypes empty with egress rules still isolates ingress", policies: []networkingv1.NetworkPolicy{policy("x", "p", egressRules)}, src: c.xb, dst: c.xa, port: 80, proto: tcp, want: false},
		{name: "egress rule allows its peer", policies: []networkingv1.NetworkPolicy{policy("x", "p", egressRules)}, src: c.xa, dst: c.xb, port: 80, proto: tcp, want: true},
		{name: "policyTypes Egress only leaves ingress open", policies: []networkingv1.NetworkPolicy{policy("x", "p", egressType)}, src: c.ya, dst: c.xa, port: 80, proto: tcp, want: true},
		{name: "policyTypes Egress without rules denies egress", policies: []networkingv1.NetworkPolicy{policy("x", "p", egressType)}, src: c.xa, dst: addrPeer(t, "203.0.113.1"), port: 443, proto: tcp, want: false},
		{name: "deny-all in x denies x to x", policies: []networkingv1.NetworkPolicy{policy("x", "p", both)}, src: c.xa, dst: c.xb, port: 80, proto: tcp, want: false},
		{name: "deny-all in x leaves y to y open", policies: []networkingv1.NetworkPolicy{policy("x", "p", both)}, src: c.ya, dst: c.yb, port: 80, proto: tcp, want: true},
		{name: "policy without namespace is in default", policies: []networkingv1.NetworkPolicy{policy("", "p", both)}, src: c.ya, dst: c.xa, port: 80, proto: tcp, want: true},
	}
}

func selectorCases(c cluster) []semanticsCase {
	allowFrom := func(peers ...networkingv1.NetworkPolicyPeer) []networkingv1.NetworkPolicy {
		return []networkingv1.NetworkPolicy{policy("x", "p", networkingv1.NetworkPolicySpec{PodSelector: *labelsSel("app", "a"), Ingress: ingressFrom(peers...)})}
	}
	anyPod := networkingv1.NetworkPolicyPeer{PodSelector: labelsSel()}
	anyNS := networkingv1.NetworkPolicyPeer{NamespaceSelector: labelsSel()}
	redB := networkingv1.NetworkPolicyPeer{NamespaceSelector: labelsSel("team", "red"), PodSelector: labelsSel("app", "b")}
	red, appB := networkingv1.NetworkPolicyPeer{NamespaceSelector: labelsSel("team", "red")}, networkingv1.NetworkPolicyPeer{PodSelector: labelsSel("app", "b")}
	notBlue := networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
		{Key: "team", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"blue"}}}}}
	return []semanticsCase{
		{name: "empty ingress rule allows every source", policies: []networkingv1.NetworkPolicy{policy("x", "p", networkingv1.NetworkPolicySpec{Ingress: []networkingv1.NetworkPolicyIngressRule{{}}})}, src: c.zc, dst: c.xa, port: 80, proto: tcp, want: true},
		{name: "empty podSelector peer allows its own namespace", policies: allowFrom(anyPod), src: c.xb, dst: c.xa, port: 80, proto: tcp, want: true},
		{name: "empty podSelector peer denies other namespaces", policies: allowFrom(anyPod), src: c.ya, dst: c.xa, port: 80, proto: tcp, want: false},
		{name: "empty namespaceSelector peer allows every namespace", policies: allowFrom(anyNS), src: c.zc, dst: c.xa, port: 80, proto: tcp, want: true},
		{name: "empty namespaceSelector peer denies addresses", policies: allowFrom(anyNS), src: evaluator.Peer{Addr: netip.MustParseAddr("203.0.113.1")}, dst: c.xa, port: 80, proto: tcp, want: false},
		{name: "namespace and pod selector in one peer need both", policies: allowFrom(redB), src: c.yb, dst: c.xa, port: 80, proto: tcp, want: true},
		{name: "namespace and pod selector in one peer deny the namespace alone", policies: allowFrom(redB), src: c.ya, dst: c.xa, port: 80, proto: tcp, want: false},
		{name: "namespace and pod selector in one peer deny the pod alone", policies: allowFrom(redB), src: c.xb, dst: c.xa, port: 80, proto: tcp, want: false},
		{name: "namespace and pod selector in two peers allow the namespace", policies: allowFrom(red, appB), src: c.ya, dst: c.xa, port: 80, proto: tcp, want: true},
		{name: "namespace and pod selector in two peers allow the pod", policies: allowFrom(red, appB), src: c.xb, dst: c.xa, port: 80, proto: tcp, want: true},
		{name: "pod selector alone stays in the policy namespace", policies: allowFrom(red, appB), src: c.zc, dst: c.xa, port: 80, proto: tcp, want: false},
		{name: "NotIn matches a namespace without the label", policies: allowFrom(notBlue), src: c.zc, dst: c.xa, port: 80, proto: tcp, want: true},
		{name: "NotIn excludes the listed value", policies: allowFrom(notBlue), src: c.xb, dst: c.xa, port: 80, proto: tcp, want: false},
		{name: "policy podSelector leaves unselected pods open", policies: allowFrom(red), src: c.zc, dst: c.xb, port: 80, proto: tcp, want: true},
	}
}

func ipBlockCases(t *testing.T, c cluster) []semanticsCase {
	block := networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: "198.51.100.0/24", Except: []string{"198.51.100.128/25"}}}
	egress := []networkingv1.NetworkPolicy{policy("x", "p", networkingv1.NetworkPolicySpec{PodSelector: *labelsSel(), PolicyTypes: policyTypes(egr), Egress: egressTo(block)})}
	ingress := []networkingv1.NetworkPolicy{policy("x", "p", networkingv1.NetworkPolicySpec{PodSelector: *labelsSel(), Ingress: ingressFrom(block)})}
	everything := networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0"}}
	egressAll := []networkingv1.NetworkPolicy{policy("x", "p", networkingv1.NetworkPolicySpec{PodSelector: *labelsSel(), PolicyTypes: policyTypes(egr), Egress: egressTo(everything)})}
	return []semanticsCase{
		{name: "egress to an address in the cidr", policies: egress, src: c.xa, dst: addrPeer(t, "198.51.100.1"), port: 443, proto: tcp, want: true},
		{name: "egress to an address in except", policies: egress, src: c.xa, dst: addrPeer(t, "198.51.100.200"), port: 443, proto: tcp, want: false},
		{name: "egress to an address outside the cidr", policies: egress, src: c.xa, dst: addrPeer(t, "198.51.101.1"), port: 443, proto: tcp, want: false},
		{name: "egress to an IPv6 address under an IPv4 cidr", policies: egressAll, src: c.xa, dst: addrPeer(t, "2001:db8::1"), port: 443, proto: tcp, want: false},
		{name: "ipBlock 0.0.0.0/0 never matches a pod", policies: egressAll, src: c.xa, dst: c.ya, port: 80, proto: tcp, want: false},
		{name: "ingress from an address in the cidr", policies: ingress, src: addrPeer(t, "198.51.100.127"), dst: c.xa, port: 80, proto: tcp, want: true},
		{name: "ingress from an address in except", policies: ingress, src: addrPeer(t, "198.51.100.128"), dst: c.xa, port: 80, proto: tcp, want: false},
		{name: "egress from an address is never isolated", policies: ingress, src: addrPeer(t, "198.51.101.1"), dst: c.ya, port: 80, proto: tcp, want: true},
	}
}

func portCases(t *testing.T, c cluster) []semanticsCase {
	onPorts := func(ports ...networkingv1.NetworkPolicyPort) []networkingv1.NetworkPolicy {
		return []networkingv1.NetworkPolicy{policy("x", "p", networkingv1.NetworkPolicySpec{
			PodSelector: *labelsSel(), Ingress: []networkingv1.NetworkPolicyIngressRule{{Ports: ports}},
		})}
	}
	egressOn := func(ports ...networkingv1.NetworkPolicyPort) []networkingv1.NetworkPolicy {
		return []networkingv1.NetworkPolicy{policy("y", "p", networkingv1.NetworkPolicySpec{
			PodSelector: *labelsSel(), PolicyTypes: policyTypes(egr), Egress: []networkingv1.NetworkPolicyEgressRule{{Ports: ports}},
		})}
	}
	defaultTCP := intstr.FromInt32(80)
	return []semanticsCase{
		{name: "endPort admits the start", policies: onPorts(portRange(tcp, 8000, 8010)), src: c.ya, dst: c.xa, port: 8000, proto: tcp, want: true},
		{name: "endPort admits the end", policies: onPorts(portRange(tcp, 8000, 8010)), src: c.ya, dst: c.xa, port: 8010, proto: tcp, want: true},
		{name: "endPort excludes past the end", policies: onPorts(portRange(tcp, 8000, 8010)), src: c.ya, dst: c.xa, port: 8011, proto: tcp, want: false},
		{name: "endPort excludes before the start", policies: onPorts(portRange(tcp, 8000, 8010)), src: c.ya, dst: c.xa, port: 7999, proto: tcp, want: false},
		{name: "port without protocol is TCP", policies: onPorts(networkingv1.NetworkPolicyPort{Port: &defaultTCP}), src: c.ya, dst: c.xa, port: 80, proto: tcp, want: true},
		{name: "port without protocol is not UDP", policies: onPorts(networkingv1.NetworkPolicyPort{Port: &defaultTCP}), src: c.ya, dst: c.xa, port: 80, proto: udp, want: false},
		{name: "UDP rule admits UDP", policies: onPorts(portNum(udp, 53)), src: c.ya, dst: c.xa, port: 53, proto: udp, want: true},
		{name: "UDP rule denies TCP on that port", policies: onPorts(portNum(udp, 53)), src: c.ya, dst: c.xa, port: 53, proto: tcp, want: false},
		{name: "SCTP rule denies TCP on that port", policies: onPorts(portNum(sctp, 81)), src: c.ya, dst: c.xa, port: 81, proto: tcp, want: false},
		{name: "SCTP rule admits SCTP", policies: onPorts(portNum(sctp, 81)), src: c.ya, dst: c.xa, port: 81, proto: sctp, want: true},
		{name: "protocol without port admits any port of it", policies: onPorts(networkingv1.NetworkPolicyPort{Protocol: new(udp)}), src: c.ya, dst: c.xa, port: 40000, proto: udp, want: true},
		{name: "protocol without port denies other protocols", policies: onPorts(networkingv1.NetworkPolicyPort{Protocol: new(udp)}), src: c.ya, dst: c.xa, port: 40000, proto: tcp, want: false},
		{name: "named port resolves on x/a", policies: onPorts(portName(tcp, "http")), src: c.ya, dst: c.xa, port: 8080, proto: tcp, want: true},
		{name: "named port resolves on x/b to its own number", policies: onPorts(portName(tcp, "http")), src: c.ya, dst: c.xb, port: 9090, proto: tcp, want: true},
		{name: "named port of x/a is not x/b's port", policies: onPorts(portName(tcp, "http")), src: c.ya, dst: c.xb, port: 8080, proto: tcp, want: false},
		{name: "named port needs the container port's protocol", policies: onPorts(portName(tcp, "dns")), src: c.ya, dst: c.xa, port: 53, proto: tcp, want: false},
		{name: "named UDP port resolves", policies: onPorts(portName(udp, "dns")), src: c.ya, dst: c.xa, port: 53, proto: udp, want: true},
		{name: "named egress port resolves on the destination", policies: egressOn(portName(tcp, "http")), src: c.yb, dst: c.xa, port: 8080, proto: tcp, want: true},
		{name: "named egress port is not the source's", policies: egressOn(portName(tcp, "http")), src: c.ya, dst: c.xb, port: 8080, proto: tcp, want: false},
		{name: "named egress port matches no address", policies: egressOn(portName(tcp, "http")), src: c.ya, dst: addrPeer(t, "203.0.113.1"), port: 8080, proto: tcp, want: false},
	}
}

func unionCases(c cluster) []semanticsCase {
	fromApp := func(name, app string) networkingv1.NetworkPolicy {
		return policy("x", name, networkingv1.NetworkPolicySpec{PodSelector: *labelsSel("app", "a"),
			Ingress: ingressFrom(networkingv1.NetworkPolicyPeer{NamespaceSelector: labelsSel(), PodSelector: labelsSel("app", app)})})
	}
	onPort := func(name string, port int32) networkingv1.NetworkPolicy {
		return policy("x", name, networkingv1.NetworkPolicySpec{PodSelector: *labelsSel("app", "a"),
			Ingress: []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{portNum(tcp, port)}}}})
	}
	denyEgressY := policy("y", "deny", networkingv1.NetworkPolicySpec{PodSelector: *labelsSel(), PolicyTypes: policyTypes(egr)})
	return []semanticsCase{
		{name: "first policy of a union allows", policies: []networkingv1.NetworkPolicy{fromApp("p1", "b"), fromApp("p2", "c")}, src: c.yb, dst: c.xa, port: 80, proto: tcp, want: true},
		{name: "second policy of a union allows", policies: []networkingv1.NetworkPolicy{fromApp("p1", "b"), fromApp("p2", "c")}, src: c.zc, dst: c.xa, port: 80, proto: tcp, want: true},
		{name: "union allows nothing neither policy allows", policies: []networkingv1.NetworkPolicy{fromApp("p1", "b"), fromApp("p2", "c")}, src: c.ya, dst: c.xa, port: 80, proto: tcp, want: false},
		{name: "stacked port policies allow the second port", policies: []networkingv1.NetworkPolicy{onPort("p80", 80), onPort("p81", 81)}, src: c.ya, dst: c.xa, port: 81, proto: tcp, want: true},
		{name: "stacked port policies deny a third port", policies: []networkingv1.NetworkPolicy{onPort("p80", 80), onPort("p81", 81)}, src: c.ya, dst: c.xa, port: 82, proto: tcp, want: false},
		{name: "ingress allowed but egress of the source denied", policies: []networkingv1.NetworkPolicy{fromApp("p1", "b"), denyEgressY}, src: c.yb, dst: c.xa, port: 80, proto: tcp, want: false},
	}
}

func specialPeerCases(t *testing.T, c cluster) []semanticsCase {
	denyAll := []networkingv1.NetworkPolicy{policy("x", "deny", networkingv1.NetworkPolicySpec{PodSelector: *labelsSel(), PolicyTypes: policyTypes(ing, egr)})}
	fromAll := []networkingv1.NetworkPolicy{policy("x", "p", networkingv1.NetworkPolicySpec{PodSelector: *labelsSel(),
		Ingress: ingressFrom(networkingv1.NetworkPolicyPeer{NamespaceSelector: labelsSel()})})}
	return []semanticsCase{
		{name: "pod to itself under deny-all", policies: denyAll, src: c.xa, dst: c.xa, port: 80, proto: tcp, want: true},
		{name: "pod to its own name in another namespace is not itself", policies: denyAll, src: c.ya, dst: c.xa, port: 80, proto: tcp, want: false},
		{name: "hostNetwork pod is never isolated for ingress", policies: denyAll, src: c.ya, dst: c.xh, port: 80, proto: tcp, want: true},
		{name: "hostNetwork pod is never isolated for egress", policies: denyAll, src: c.xh, dst: c.ya, port: 80, proto: tcp, want: true},
		{name: "hostNetwork pod is not selected as a peer", policies: fromAll, src: c.xh, dst: c.xa, port: 80, proto: tcp, want: false},
		{name: "address to address is not governed", policies: denyAll, src: addrPeer(t, "203.0.113.1"), dst: addrPeer(t, "203.0.113.2"), port: 80, proto: tcp, want: true},
		{name: "egress to an address under deny-all", policies: denyAll, src: c.xa, dst: addrPeer(t, "203.0.113.1"), port: 443, proto: tcp, want: false},
		{name: "egress to an address from an unisolated pod", policies: denyAll, src: c.ya, dst: addrPeer(t, "203.0.113.1"), port: 443, proto: tcp, want: true},
	}
}

// TestCheckReason pins what a denial says: which end denied it and which
// policies isolate that end, so a user can find the policy to edit.
func TestCheckReason(t *testing.T) {
	c := newCluster()
	policies := []networkingv1.NetworkPolicy{
		policy("x", "deny-in", networkingv1.NetworkPolicySpec{PodSelector: *labelsSel()}),
		policy("x", "only-b", networkingv1.NetworkPolicySpec{PodSelector: *labelsSel("app", "a"), Ingress: ingressFrom(networkingv1.NetworkPolicyPeer{PodSelector: labelsSel("app", "b")})}),
		policy("y", "deny-out", networkingv1.NetworkPolicySpec{PodSelector: *labelsSel(), PolicyTypes: policyTypes(egr)}),
	}
	e, err := evaluator.New(c.namespaces, policies)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		src, dst     evaluator.Peer
		ingress      bool
		policies     []string
		reasonPhrase string
	}{
		{name: "ingress names both isolating policies", src: c.zc, dst: c.xa, ingress: true, policies: []string{"x/deny-in", "x/only-b"}, reasonPhrase: "ingress to x/a"},
		{name: "egress is judged first", src: c.ya, dst: c.xa, policies: []string{"y/deny-out"}, reasonPhrase: "egress from y/a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := e.Check(tt.src, tt.dst, 80, tcp)
			if v.Allowed {
				t.Fatalf("%s -> %s allowed; the policies deny it", tt.src, tt.dst)
			}
			if v.Ingress != tt.ingress || !slices.Equal(v.Policies, tt.policies) {
				t.Errorf("denied at ingress %v by %q, want ingress %v by %q", v.Ingress, v.Policies, tt.ingress, tt.policies)
			}
			if !strings.Contains(v.Reason, tt.reasonPhrase) {
				t.Errorf("reason %q does not say %q", v.Reason, tt.reasonPhrase)
			}
		})
	}
}

// TestNewRejectsInvalid checks that a policy the engine cannot compile is
// an error naming it, not a policy silently dropped (which would allow
// what it denies).
func TestNewRejectsInvalid(t *testing.T) {
	badSel := &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpIn}}}
	tests := []struct {
		name string
		spec networkingv1.NetworkPolicySpec
		want string
	}{
		{name: "podSelector In without values", spec: networkingv1.NetworkPolicySpec{PodSelector: *badSel}, want: "podSelector"},
		{name: "peer selector In without values", spec: networkingv1.NetworkPolicySpec{Ingress: ingressFrom(networkingv1.NetworkPolicyPeer{NamespaceSelector: badSel})}, want: "ingress[0]"},
		{name: "cidr", spec: networkingv1.NetworkPolicySpec{Egress: egressTo(networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/33"}})}, want: "egress[0]"},
		{name: "except", spec: networkingv1.NetworkPolicySpec{Egress: egressTo(networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8", Except: []string{"10.1.0.0"}}})}, want: "except"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := evaluator.New(nil, []networkingv1.NetworkPolicy{policy("x", "bad", tt.spec)})
			if err == nil {
				t.Fatal("New accepted an invalid policy")
			}
			if !strings.Contains(err.Error(), "x/bad") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name the policy x/bad and %q", err, tt.want)
			}
		})
	}
}

// A namespace selected by its name label matches even when the labels
// given for it lack that label, as the API server sets it on every
// namespace.
func TestNamespaceNameLabelIsImplied(t *testing.T) {
	tcp := corev1.ProtocolTCP
	np := networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "from-y", Namespace: "x"},
		Spec: networkingv1.NetworkPolicySpec{Ingress: []networkingv1.NetworkPolicyIngressRule{{
			From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "y"}}}},
		}}},
	}
	for _, nsLabels := range []map[string]map[string]string{{"x": {}, "y": {}}, {"x": {}}} {
		e, err := evaluator.New(nsLabels, []networkingv1.NetworkPolicy{np})
		if err != nil {
			t.Fatal(err)
		}
		src := evaluator.Peer{Pod: &evaluator.Pod{Namespace: "y", Name: "a"}}
		dst := evaluator.Peer{Pod: &evaluator.Pod{Namespace: "x", Name: "a"}}
		if v := e.Check(src, dst, 80, tcp); !v.Allowed {
			t.Errorf("namespaces %v: y/a -> x/a denied (%s), want allowed", nsLabels, v.Reason)
		}
	}
}

// ownNodeCases: a pod and its own node always reach each other; another
// node is an address like any other.
func ownNodeCases(t *testing.T, c cluster) []semanticsCase {
	denyAll := []networkingv1.NetworkPolicy{policy("x", "p", networkingv1.NetworkPolicySpec{PodSelector: *labelsSel(), PolicyTypes: policyTypes(ing, egr)})}
	onA := func(p evaluator.Peer) evaluator.Peer {
		pod := *p.Pod
		pod.Node = "node-a"
		return evaluator.Peer{Pod: &pod}
	}
	nodeA, nodeB := addrPeer(t, "192.0.2.10"), addrPeer(t, "192.0.2.11")
	nodeA.Node, nodeB.Node = "node-a", "node-b"
	hostOnA := onA(c.xh)
	unnamed := addrPeer(t, "192.0.2.10") // the same address, not known as a node's
	return []semanticsCase{
		{name: "own node reaches an isolated pod", policies: denyAll, src: nodeA, dst: onA(c.xa), port: 8080, proto: tcp, want: true},
		{name: "an isolated pod reaches its own node", policies: denyAll, src: onA(c.xa), dst: nodeA, port: 10250, proto: tcp, want: true},
		{name: "a hostNetwork pod on the own node reaches an isolated pod", policies: denyAll, src: hostOnA, dst: onA(c.xb), port: 9090, proto: tcp, want: true},
		{name: "another node is denied", policies: denyAll, src: nodeB, dst: onA(c.xa), port: 8080, proto: tcp, want: false},
		{name: "a node address not named as the node is denied", policies: denyAll, src: unnamed, dst: onA(c.xa), port: 8080, proto: tcp, want: false},
		{name: "a pod with no node known has no own node", policies: denyAll, src: nodeA, dst: c.xa, port: 8080, proto: tcp, want: false},
	}
}
