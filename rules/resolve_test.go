package rules_test

import (
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/flowpol/flowpol/rules"
)

// TestDecideEdges covers what the random worlds do not: IPv6 blocks next
// to IPv4 addresses, exceptions around pods, wide port ranges, and a
// hostNetwork pod that a policy selects.
func TestDecideEdges(t *testing.T) {
	egress := func(to networkingv1.NetworkPolicyPeer, ports ...networkingv1.NetworkPolicyPort) networkingv1.NetworkPolicy {
		return networkingv1.NetworkPolicy{
			ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "np"},
			Spec: networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{},
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
				Egress:      []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{to}, Ports: ports}},
			},
		}
	}
	block := func(cidr string, except ...string) networkingv1.NetworkPolicyPeer {
		return networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: cidr, Except: except}}
	}
	rng := networkingv1.NetworkPolicyPort{Port: new(intstr.FromInt32(1000)), EndPort: new(int32(40000))}
	pods := []rules.Pod{
		{Namespace: "a", Name: "pod", IPs: []netip.Addr{netip.MustParseAddr("10.244.0.1"), netip.MustParseAddr("fd00::1")}},
		{Namespace: "a", Name: "other", IPs: []netip.Addr{netip.MustParseAddr("10.244.0.2")}},
		{Namespace: "a", Name: "host", HostNetwork: true, IPs: []netip.Addr{netip.MustParseAddr("192.168.0.5")}},
	}
	for _, tt := range []struct {
		name    string
		policy  networkingv1.NetworkPolicy
		src     string
		dst     string
		port    uint16
		allowed bool
	}{
		{"an IPv6 /0 holds no IPv4 address", egress(block("::/0")), "10.244.0.1", "8.8.8.8", 80, false},
		{"an IPv6 /0 holds IPv6 addresses", egress(block("::/0")), "fd00::1", "2001:db8::1", 80, true},
		{"outside the exception", egress(block("0.0.0.0/0", "10.0.0.0/8")), "10.244.0.1", "8.8.8.8", 80, true},
		{"inside the exception", egress(block("0.0.0.0/0", "10.0.0.0/8")), "10.244.0.1", "10.1.1.1", 80, false},
		{"a block never holds a pod", egress(block("0.0.0.0/0")), "10.244.0.1", "10.244.0.2", 80, false},
		{"range start", egress(block("0.0.0.0/0"), rng), "10.244.0.1", "8.8.8.8", 1000, true},
		{"range end", egress(block("0.0.0.0/0"), rng), "10.244.0.1", "8.8.8.8", 40000, true},
		{"below the range", egress(block("0.0.0.0/0"), rng), "10.244.0.1", "8.8.8.8", 999, false},
		{"above the range", egress(block("0.0.0.0/0"), rng), "10.244.0.1", "8.8.8.8", 40001, false},
		{"a hostNetwork pod is its node's address, not isolated", egress(block("10.0.0.0/8")), "192.168.0.5", "8.8.8.8", 80, true},
		{"a pod reaches itself", egress(block("8.8.8.8/32")), "10.244.0.1", "10.244.0.1", 80, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			set, err := rules.Compile([]networkingv1.NetworkPolicy{tt.policy})
			if err != nil {
				t.Fatal(err)
			}
			tables, err := rules.Resolve(set, pods, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := tables.Decide(netip.MustParseAddr(tt.src), netip.MustParseAddr(tt.dst), tt.port, corev1.ProtocolTCP)
			if got.Allowed != tt.allowed {
				t.Errorf("allowed=%v, want %v (%+v)", got.Allowed, tt.allowed, got)
			}
		})
	}
}
