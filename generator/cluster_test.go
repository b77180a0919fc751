package generator_test

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	cnp "sigs.k8s.io/network-policy-api/apis/v1beta1"

	"github.com/flowpol/flowpol/evaluator"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/generator"
	"github.com/flowpol/flowpol/topology"
)

// guardrailWindow: in shop, api uses the metadata endpoint (IPv4 on 80,
// IPv6 on 80) and DNS, web reaches api and DNS; coredns serves DNS in
// kube-system, which gets no policies.
func guardrailWindow() *topology.Window {
	from := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	api := topology.WorkloadRef{Namespace: "shop", Kind: "Deployment", Name: "api"}
	web := topology.WorkloadRef{Namespace: "shop", Kind: "Deployment", Name: "web"}
	dns := topology.WorkloadRef{Namespace: "kube-system", Kind: "Deployment", Name: "coredns"}
	sel := func(app string) *metav1.LabelSelector {
		return &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}
	}
	w := &topology.Window{From: from, To: from.Add(3 * time.Hour), Workloads: map[topology.WorkloadRef]topology.Workload{
		api: {Ref: api, Selector: sel("api"), PodLabels: []map[string]string{{"app": "api"}}},
		web: {Ref: web, Selector: sel("web"), PodLabels: []map[string]string{{"app": "web"}}},
		dns: {Ref: dns, Selector: sel("coredns"), PodLabels: []map[string]string{{"app": "coredns"}},
			DNSPorts: []topology.PortProto{{Port: 53, Proto: flow.UDP}, {Port: 53, Proto: flow.TCP}}},
	}}
	wl := func(r topology.WorkloadRef) topology.End {
		return topology.End{Kind: topology.KindWorkload, Workload: r}
	}
	ext := func(a string) topology.End {
		return topology.End{Kind: topology.KindExternal, Addr: netip.MustParseAddr(a)}
	}
	for _, e := range []topology.Edge{
		{Src: wl(api), Dst: ext("169.254.169.254"), Port: 80, Proto: flow.TCP},
		{Src: wl(api), Dst: ext("fd00:ec2::254"), Port: 80, Proto: flow.TCP},
		{Src: wl(api), Dst: wl(dns), Port: 53, Proto: flow.UDP},
		{Src: wl(web), Dst: wl(api), Port: 8080, Proto: flow.TCP},
		{Src: wl(web), Dst: wl(dns), Port: 53, Proto: flow.UDP},
	} {
		w.Edges = append(w.Edges, topology.EdgeStats{Edge: e, Count: 4, First: from.Add(time.Hour), Last: from.Add(2 * time.Hour), SrcPods: 1, DstPods: 1})
	}
	return w
}

func TestGenerateClusterObjects(t *testing.T) {
	opts := generator.Options{SkipNamespaces: []string{"kube-system"}}
	res := generator.GenerateCluster(guardrailWindow(), opts)
	var names []string
	for _, p := range res.Cluster {
		names = append(names, string(p.Spec.Tier)+" "+p.Name)
		if p.APIVersion != generator.ClusterAPIVersion || p.Kind != "ClusterNetworkPolicy" || p.Labels[generator.LabelManagedBy] != generator.ManagedBy {
			t.Errorf("%s: type %s %s, labels %v", p.Name, p.APIVersion, p.Kind, p.Labels)
		}
	}
	want := []string{"Baseline flowpol-baseline-deny", "Admin flowpol-dns", "Admin flowpol-metadata-accept.shop.flowpol-deployment-api", "Admin flowpol-metadata-deny"}
	if !slices.Equal(names, want) {
		t.Fatalf("policies %q, want %q", names, want)
	}
	accept := res.Cluster[2]
	if got := accept.Spec.Egress[0].To[0].Networks; !slices.Equal(got, []cnp.CIDR{"169.254.169.254/32", "fd00:ec2::254/128"}) {
		t.Errorf("the accept names %v, want the two addresses seen", got)
	}
	if ev := accept.Annotations[generator.AnnotationEvidence]; !strings.Contains(ev, "egress to 169.254.169.254 on 80/TCP: 4 connections") {
		t.Errorf("the accept's evidence %q does not say what was seen", ev)
	}
	if s := res.Cluster[1].Spec.Subject.Namespaces; s == nil || s.MatchLabels[corev1.LabelMetadataName] != "shop" {
		t.Errorf("the DNS accept's subject %v: want the managed namespace, shop (kube-system is skipped)", s)
	}
	if empty := generator.GenerateCluster(&topology.Window{}, opts); len(empty.Cluster) != 0 {
		t.Errorf("an empty window gives %d guardrails", len(empty.Cluster))
	}
}

// The guardrails, with the NetworkPolicies of the same window, decided by
// the evaluator's tiers: everything seen stays allowed; the metadata
// endpoint stays closed to a workload not seen using it even when a
// NetworkPolicy added later allows all its egress; DNS stays open to a
// workload whose NetworkPolicies deny all egress; and a pod no
// NetworkPolicy selects is denied by the Baseline tier.
func TestGenerateClusterSemantics(t *testing.T) {
	w := guardrailWindow()
	opts := generator.Options{SkipNamespaces: []string{"kube-system"}}
	nps := generator.Generate(w, opts).Policies
	cluster := generator.GenerateCluster(w, opts).Cluster
	allowAll := networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "allow-all-egress"},
		Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{}, PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
			Egress: []networkingv1.NetworkPolicyEgressRule{{}}}}
	denyAll := networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "deny-all-egress"},
		Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}, PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}}}
	pod := func(ns, app string) evaluator.Peer {
		return evaluator.Peer{Pod: &evaluator.Pod{Namespace: ns, Name: app + "-0", Labels: map[string]string{"app": app}}}
	}
	addr := func(s string) evaluator.Peer { return evaluator.Peer{Addr: netip.MustParseAddr(s)} }
	api, web, dns, stray := pod("shop", "api"), pod("shop", "web"), pod("kube-system", "coredns"), pod("shop", "stray")
	tests := []struct {
		name     string
		extra    []networkingv1.NetworkPolicy
		src, dst evaluator.Peer
		port     uint16
		proto    corev1.Protocol
		want     bool
	}{
		{"api reaches the metadata endpoint, as seen", nil, api, addr("169.254.169.254"), 80, corev1.ProtocolTCP, true},
		{"api reaches the metadata endpoint over IPv6, as seen", nil, api, addr("fd00:ec2::254"), 80, corev1.ProtocolTCP, true},
		{"api on a port not seen is denied", nil, api, addr("169.254.169.254"), 443, corev1.ProtocolTCP, false},
		{"web, never seen using it, is denied the metadata endpoint", nil, web, addr("169.254.169.254"), 80, corev1.ProtocolTCP, false},
		{"even under a NetworkPolicy that allows all egress", []networkingv1.NetworkPolicy{allowAll}, web, addr("169.254.169.254"), 80, corev1.ProtocolTCP, false},
		{"which otherwise allows web out", []networkingv1.NetworkPolicy{allowAll}, web, addr("203.0.113.9"), 443, corev1.ProtocolTCP, true},
		{"web reaches api, as seen", nil, web, api, 8080, corev1.ProtocolTCP, true},
		{"DNS stays open under a NetworkPolicy that denies all egress", []networkingv1.NetworkPolicy{denyAll}, web, dns, 53, corev1.ProtocolUDP, true},
		{"DNS over TCP too", []networkingv1.NetworkPolicy{denyAll}, web, dns, 53, corev1.ProtocolTCP, true},
		{"a pod no NetworkPolicy selects is denied out by the Baseline", nil, stray, addr("203.0.113.9"), 443, corev1.ProtocolTCP, false},
		{"and in, from a pod of an unmanaged namespace", nil, dns, stray, 8080, corev1.ProtocolTCP, false},
		{"but keeps DNS", nil, stray, dns, 53, corev1.ProtocolUDP, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := evaluator.NewTiered(nil, append(slices.Clone(nps), tt.extra...), cluster)
			if err != nil {
				t.Fatal(err)
			}
			if v := e.Check(tt.src, tt.dst, tt.port, tt.proto); v.Allowed != tt.want {
				t.Errorf("%s -> %s on %d/%s: allowed=%t, want %t (%s)", tt.src, tt.dst, tt.port, tt.proto, v.Allowed, tt.want, v.Reason)
			}
		})
	}
}

// A workload seen using the metadata endpoint that no policy can select
// cannot be given its accept: its namespace is left out of the deny, with
// a warning, rather than cut off.
func TestGenerateClusterUnselectable(t *testing.T) {
	w := guardrailWindow()
	api := topology.WorkloadRef{Namespace: "shop", Kind: "Deployment", Name: "api"}
	wl := w.Workloads[api]
	wl.Selector = nil
	w.Workloads[api] = wl
	res := generator.GenerateCluster(w, generator.Options{SkipNamespaces: []string{"kube-system"}})
	for _, p := range res.Cluster {
		if strings.HasPrefix(p.Name, "flowpol-metadata") {
			t.Errorf("%s generated for a namespace whose user of the endpoint cannot be selected", p.Name)
		}
	}
	if !slices.ContainsFunc(res.Warnings, func(s string) bool { return strings.Contains(s, "left out of flowpol-metadata-deny") }) {
		t.Errorf("no warning of the namespace left out: %q", res.Warnings)
	}
}
