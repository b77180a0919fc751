package evaluator_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	cnp "sigs.k8s.io/network-policy-api/apis/v1beta1"

	"github.com/flowpol/flowpol/evaluator"
)

func clusterPolicy(name string, tier cnp.Tier, priority int32, subject cnp.ClusterNetworkPolicySubject, egress ...cnp.ClusterNetworkPolicyEgressRule) cnp.ClusterNetworkPolicy {
	return cnp.ClusterNetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: cnp.ClusterNetworkPolicySpec{Tier: tier, Priority: priority, Subject: subject, Egress: egress}}
}

func inNS(names ...string) cnp.ClusterNetworkPolicySubject {
	return cnp.ClusterNetworkPolicySubject{Namespaces: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
		{Key: corev1.LabelMetadataName, Operator: metav1.LabelSelectorOpIn, Values: names}}}}
}

func clusterEgress(action cnp.ClusterNetworkPolicyRuleAction, peer cnp.ClusterNetworkPolicyEgressPeer, ports ...cnp.ClusterNetworkPolicyProtocol) cnp.ClusterNetworkPolicyEgressRule {
	return cnp.ClusterNetworkPolicyEgressRule{Action: action, To: []cnp.ClusterNetworkPolicyEgressPeer{peer}, Protocols: ports}
}

func networks(cidrs ...cnp.CIDR) cnp.ClusterNetworkPolicyEgressPeer {
	return cnp.ClusterNetworkPolicyEgressPeer{Networks: cidrs}
}

func clusterTCP(port int32) cnp.ClusterNetworkPolicyProtocol {
	return cnp.ClusterNetworkPolicyProtocol{TCP: &cnp.ClusterNetworkPolicyProtocolTCP{DestinationPort: &cnp.Port{Number: port}}}
}

// The tiers with what the conformance scenarios do not probe: addresses,
// nodes, names, named ports, and the NetworkPolicy tier between the two.
func TestClusterTiers(t *testing.T) {
	c := newCluster()
	metadata := addrPeer(t, "169.254.169.254")
	outside := addrPeer(t, "203.0.113.5")
	node := addrPeer(t, "192.0.2.10")
	node.Node = "node-2"
	const (
		accept = cnp.ClusterNetworkPolicyRuleActionAccept
		deny   = cnp.ClusterNetworkPolicyRuleActionDeny
		pass   = cnp.ClusterNetworkPolicyRuleActionPass
	)
	allowAllEgress := policy("x", "allow-all", networkingv1.NetworkPolicySpec{
		PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}, Egress: []networkingv1.NetworkPolicyEgressRule{{}}})
	denyAllEgress := policy("x", "deny-all", networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}})
	baselineDeny := clusterPolicy("baseline", cnp.BaselineTier, 1000, inNS("x"),
		clusterEgress(deny, cnp.ClusterNetworkPolicyEgressPeer{Namespaces: &metav1.LabelSelector{}}), clusterEgress(deny, networks("0.0.0.0/0", "::/0")))
	tests := []struct {
		name     string
		policies []networkingv1.NetworkPolicy
		cluster  []cnp.ClusterNetworkPolicy
		src, dst evaluator.Peer
		port     uint16
		want     bool
		reason   string // in a denial's reason
	}{
		{name: "an Admin deny of an address beats a NetworkPolicy that allows it",
			policies: []networkingv1.NetworkPolicy{allowAllEgress},
			cluster:  []cnp.ClusterNetworkPolicy{clusterPolicy("metadata", cnp.AdminTier, 10, inNS("x"), clusterEgress(deny, networks("169.254.169.254/32")))},
			src:      c.xa, dst: metadata, port: 80, reason: "denied by ClusterNetworkPolicy metadata, Admin tier, rule egress[0]"},
		{name: "an Admin accept beats a NetworkPolicy that denies",
			policies: []networkingv1.NetworkPolicy{denyAllEgress},
			cluster:  []cnp.ClusterNetworkPolicy{clusterPolicy("metadata", cnp.AdminTier, 10, inNS("x"), clusterEgress(accept, networks("169.254.169.254/32"), clusterTCP(80)))},
			src:      c.xa, dst: metadata, port: 80, want: true},
		{name: "an Admin accept on another port leaves the NetworkPolicy to decide",
			policies: []networkingv1.NetworkPolicy{denyAllEgress},
			cluster:  []cnp.ClusterNetworkPolicy{clusterPolicy("metadata", cnp.AdminTier, 10, inNS("x"), clusterEgress(accept, networks("169.254.169.254/32"), clusterTCP(80)))},
			src:      c.xa, dst: metadata, port: 443, reason: "isolated by x/deny-all"},
		{name: "the lower priority is the first decided",
			cluster: []cnp.ClusterNetworkPolicy{
				clusterPolicy("deny", cnp.AdminTier, 20, inNS("x"), clusterEgress(deny, networks("169.254.169.254/32"))),
				clusterPolicy("accept", cnp.AdminTier, 10, inNS("x"), clusterEgress(accept, networks("169.254.169.254/32"))),
			},
			src: c.xa, dst: metadata, port: 80, want: true},
		{name: "an Admin policy in another namespace does not select the pod",
			cluster: []cnp.ClusterNetworkPolicy{clusterPolicy("metadata", cnp.AdminTier, 10, inNS("y"), clusterEgress(deny, networks("169.254.169.254/32")))},
			src:     c.xa, dst: metadata, port: 80, want: true},
		{name: "the Baseline denies what no NetworkPolicy decides",
			cluster: []cnp.ClusterNetworkPolicy{baselineDeny},
			src:     c.xa, dst: outside, port: 443, reason: "Baseline tier, rule egress[1]"},
		{name: "the Baseline denies pods too",
			cluster: []cnp.ClusterNetworkPolicy{baselineDeny},
			src:     c.xa, dst: c.ya, port: 8080, reason: "Baseline tier, rule egress[0]"},
		{name: "a NetworkPolicy's allow beats the Baseline",
			policies: []networkingv1.NetworkPolicy{allowAllEgress},
			cluster:  []cnp.ClusterNetworkPolicy{baselineDeny},
			src:      c.xa, dst: outside, port: 443, want: true},
		{name: "Pass skips the rest of the Admin tier",
			cluster: []cnp.ClusterNetworkPolicy{
				clusterPolicy("pass", cnp.AdminTier, 10, inNS("x"), clusterEgress(pass, networks("203.0.113.0/24"))),
				clusterPolicy("deny", cnp.AdminTier, 20, inNS("x"), clusterEgress(deny, networks("0.0.0.0/0"))),
			},
			src: c.xa, dst: outside, port: 443, want: true},
		{name: "Pass goes on to the Baseline when no NetworkPolicy isolates",
			cluster: []cnp.ClusterNetworkPolicy{clusterPolicy("pass", cnp.AdminTier, 10, inNS("x"), clusterEgress(pass, networks("203.0.113.0/24"))), baselineDeny},
			src:     c.xa, dst: outside, port: 443, reason: "Baseline tier"},
		{name: "networks do not select pods",
			cluster: []cnp.ClusterNetworkPolicy{clusterPolicy("deny", cnp.AdminTier, 10, inNS("x"), clusterEgress(deny, networks("0.0.0.0/0", "::/0")))},
			src:     c.xa, dst: c.ya, port: 8080, want: true},
		{name: "a nodes peer of every node selects a node's address",
			cluster: []cnp.ClusterNetworkPolicy{clusterPolicy("nodes", cnp.AdminTier, 10, inNS("x"), clusterEgress(deny, cnp.ClusterNetworkPolicyEgressPeer{Nodes: &metav1.LabelSelector{}}))},
			src:     c.xa, dst: node, port: 10250, reason: "ClusterNetworkPolicy nodes"},
		{name: "a nodes peer does not select an outside address",
			cluster: []cnp.ClusterNetworkPolicy{clusterPolicy("nodes", cnp.AdminTier, 10, inNS("x"), clusterEgress(deny, cnp.ClusterNetworkPolicyEgressPeer{Nodes: &metav1.LabelSelector{}}))},
			src:     c.xa, dst: outside, port: 443, want: true},
		{name: "an accept of domain names allows no address",
			policies: []networkingv1.NetworkPolicy{denyAllEgress},
			cluster:  []cnp.ClusterNetworkPolicy{clusterPolicy("names", cnp.AdminTier, 10, inNS("x"), clusterEgress(accept, cnp.ClusterNetworkPolicyEgressPeer{DomainNames: []cnp.DomainName{"api.example.com"}}))},
			src:      c.xa, dst: outside, port: 443, reason: "isolated by x/deny-all"},
		{name: "a named port is the destination pod's",
			cluster: []cnp.ClusterNetworkPolicy{clusterPolicy("named", cnp.AdminTier, 10, inNS("y"),
				clusterEgress(deny, cnp.ClusterNetworkPolicyEgressPeer{Namespaces: &metav1.LabelSelector{}}, cnp.ClusterNetworkPolicyProtocol{DestinationNamedPort: "http"}))},
			src: c.ya, dst: c.xa, port: 8080, reason: "ClusterNetworkPolicy named"},
		{name: "a named port the destination pod gives another number does not match",
			cluster: []cnp.ClusterNetworkPolicy{clusterPolicy("named", cnp.AdminTier, 10, inNS("y"),
				clusterEgress(deny, cnp.ClusterNetworkPolicyEgressPeer{Namespaces: &metav1.LabelSelector{}}, cnp.ClusterNetworkPolicyProtocol{DestinationNamedPort: "http"}))},
			src: c.ya, dst: c.xb, port: 8080, want: true},
		{name: "a hostNetwork pod is no subject",
			cluster: []cnp.ClusterNetworkPolicy{baselineDeny},
			src:     c.xh, dst: outside, port: 443, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := evaluator.NewTiered(c.namespaces, tt.policies, tt.cluster)
			if err != nil {
				t.Fatal(err)
			}
			v := e.Check(tt.src, tt.dst, tt.port, corev1.ProtocolTCP)
			if v.Allowed != tt.want {
				t.Fatalf("%s -> %s on %d: allowed=%t, want %t (%s)", tt.src, tt.dst, tt.port, v.Allowed, tt.want, v.Reason)
			}
			if !tt.want && !strings.Contains(v.Reason, tt.reason) {
				t.Errorf("reason %q does not say %q", v.Reason, tt.reason)
			}
		})
	}
}

// What the evaluator cannot decide is refused, naming the policy.
func TestNewTieredRejects(t *testing.T) {
	tests := []struct {
		name string
		p    cnp.ClusterNetworkPolicy
		want string
	}{
		{"nodes by label", clusterPolicy("by-label", cnp.AdminTier, 1, inNS("x"),
			clusterEgress(cnp.ClusterNetworkPolicyRuleActionDeny, cnp.ClusterNetworkPolicyEgressPeer{Nodes: &metav1.LabelSelector{MatchLabels: map[string]string{"role": "infra"}}})),
			"ClusterNetworkPolicy by-label: egress[0].to[0]: nodes role=infra"},
		{"no tier", clusterPolicy("no-tier", "", 1, inNS("x")), `ClusterNetworkPolicy no-tier: tier "": want Admin or Baseline`},
		{"bad network", clusterPolicy("bad-net", cnp.AdminTier, 1, inNS("x"), clusterEgress(cnp.ClusterNetworkPolicyRuleActionDeny, networks("10.0.0.300/8"))),
			"ClusterNetworkPolicy bad-net: egress[0].to[0]: networks"},
		{"no subject", clusterPolicy("no-subject", cnp.AdminTier, 1, cnp.ClusterNetworkPolicySubject{}),
			"ClusterNetworkPolicy no-subject: subject: want exactly one of namespaces and pods"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := evaluator.NewTiered(nil, nil, []cnp.ClusterNetworkPolicy{tt.p})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one with %q", err, tt.want)
			}
		})
	}
}
