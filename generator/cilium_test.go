package generator_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/generator"
	"github.com/flowpol/flowpol/topology"
)

// ciliumWindow is one workload, app, with one edge.
func ciliumWindow(e topology.EdgeStats, dns bool) *topology.Window {
	app := topology.WorkloadRef{Namespace: "shop", Kind: "Deployment", Name: "app"}
	w := &topology.Window{
		From: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC),
		Workloads: map[topology.WorkloadRef]topology.Workload{
			app: {Ref: app, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "app"}}},
		},
	}
	if dns {
		ref := topology.WorkloadRef{Namespace: "kube-system", Kind: "Deployment", Name: "coredns"}
		w.Workloads[ref] = topology.Workload{Ref: ref, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": "coredns"}},
			DNSPorts: []topology.PortProto{{Port: 53, Proto: flow.UDP}, {Port: 53, Proto: flow.TCP}}}
	}
	e.Count, e.First, e.Last = 3, w.From.Add(time.Hour), w.From.Add(2*time.Hour)
	w.Edges = []topology.EdgeStats{e}
	return w
}

func TestCiliumPeers(t *testing.T) {
	app := topology.End{Kind: topology.KindWorkload, Workload: topology.WorkloadRef{Namespace: "shop", Kind: "Deployment", Name: "app"}}
	ext := topology.End{Kind: topology.KindExternal, Addr: netip.MustParseAddr("203.0.113.5")}
	node := topology.End{Kind: topology.KindHost, Node: "node-a", Addr: netip.MustParseAddr("192.168.10.11")}
	tests := []struct {
		name string
		edge topology.EdgeStats
		dns  bool // the window knows the cluster's DNS pods
		want []string
		not  []string
	}{
		{"a named external with no DNS traffic seen gets the DNS rule to kube-dns",
			topology.EdgeStats{Edge: topology.Edge{Src: app, Dst: ext, Port: 443, Proto: flow.TCP}, Names: []string{"api.example.com", "cdn.example.net"}}, false,
			[]string{"toFQDNs:\n    - matchName: api.example.com\n    - matchName: cdn.example.net\n", "k8s:io.kubernetes.pod.namespace: kube-system\n        k8s:k8s-app: kube-dns",
				"rules:\n        dns:\n        - matchPattern: '*'", "egress to the cluster's DNS pods on 53/UDP, 53/TCP: for the DNS names of its peers"},
			[]string{"toCIDRSet", "203.0.113.5"}},
		{"the DNS pods the window knows are the DNS rule's peer",
			topology.EdgeStats{Edge: topology.Edge{Src: app, Dst: ext, Port: 443, Proto: flow.TCP}, Names: []string{"api.example.com"}}, true,
			[]string{"k8s-app: coredns\n        k8s:io.kubernetes.pod.namespace: kube-system", "matchPattern: '*'"},
			[]string{"kube-dns"}},
		{"an external without names is its address",
			topology.EdgeStats{Edge: topology.Edge{Src: app, Dst: ext, Port: 443, Proto: flow.TCP}}, true,
			[]string{"toCIDRSet:\n    - cidr: 203.0.113.5/32"},
			[]string{"toFQDNs", "matchPattern"}},
		{"a node is host and remote-node",
			topology.EdgeStats{Edge: topology.Edge{Src: node, Dst: app, Port: 8080, Proto: flow.TCP}}, false,
			[]string{"ingress:\n  - fromEntities:\n    - host\n    - remote-node\n", "egress:\n  - {}\n"},
			[]string{"192.168.10.11"}},
		{"egress to the pod's own node is the entity host: Cilium does not allow it by default",
			topology.EdgeStats{Edge: topology.Edge{Src: app, Dst: topology.End{Kind: topology.KindOwnNode}, Port: 10250, Proto: flow.TCP}}, false,
			[]string{"egress:\n  - toEntities:\n    - host\n    toPorts:\n    - ports:\n      - port: \"10250\"\n        protocol: TCP\n", "egress to own-node: toEntities host"},
			[]string{"remote-node", "fromEntities"}},
		{"ingress from the pod's own node needs no rule: Cilium lets the host reach its endpoints",
			topology.EdgeStats{Edge: topology.Edge{Src: topology.End{Kind: topology.KindOwnNode}, Dst: app, Port: 8080, Proto: flow.TCP}}, false,
			[]string{"ingress:\n  - {}\n"},
			[]string{"host", "toEntities"}},
		{"the API server is kube-apiserver",
			topology.EdgeStats{Edge: topology.Edge{Src: app, Dst: topology.End{Kind: topology.KindAPIServer}, Port: 6443, Proto: flow.TCP}}, false,
			[]string{"toEntities:\n    - kube-apiserver\n", "ingress:\n  - {}\n"},
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := generator.GenerateCilium(ciliumWindow(tt.edge, tt.dns), generator.Options{SkipNamespaces: []string{"kube-system"}})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Cilium) != 1 {
				t.Fatalf("%d policies, want 1", len(res.Cilium))
			}
			b, err := generator.MarshalObject(&res.Cilium[0])
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(b), w) {
					t.Errorf("no %q in\n%s", w, b)
				}
			}
			_, spec, _ := strings.Cut(string(b), "\nspec:\n")
			for _, w := range tt.not {
				if strings.Contains(spec, w) {
					t.Errorf("%q in\n%s", w, b)
				}
			}
		})
	}
}

// Two addresses one name rotated through are one rule.
func TestCiliumRotatedName(t *testing.T) {
	app := topology.End{Kind: topology.KindWorkload, Workload: topology.WorkloadRef{Namespace: "shop", Kind: "Deployment", Name: "app"}}
	w := ciliumWindow(topology.EdgeStats{}, true)
	for _, a := range []string{"203.0.113.5", "203.0.113.6"} {
		e := w.Edges[0]
		e.Edge = topology.Edge{Src: app, Dst: topology.End{Kind: topology.KindExternal, Addr: netip.MustParseAddr(a)}, Port: 443, Proto: flow.TCP}
		e.Names = []string{"api.example.com"}
		w.Edges = append(w.Edges, e)
	}
	w.Edges = w.Edges[1:]
	res, err := generator.GenerateCilium(w, generator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range res.Cilium[0].Spec.Egress {
		if len(r.ToFQDNs) > 0 {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d egress rules with names, want the one rule for api.example.com: %+v", n, res.Cilium[0].Spec.Egress)
	}
}

// A name Cilium would refuse is an error naming the policy, not a policy
// the cluster would reject on apply.
func TestCiliumRefusedName(t *testing.T) {
	app := topology.End{Kind: topology.KindWorkload, Workload: topology.WorkloadRef{Namespace: "shop", Kind: "Deployment", Name: "app"}}
	ext := topology.End{Kind: topology.KindExternal, Addr: netip.MustParseAddr("203.0.113.5")}
	w := ciliumWindow(topology.EdgeStats{Edge: topology.Edge{Src: app, Dst: ext, Port: 443, Proto: flow.TCP}, Names: []string{"bad name!"}}, true)
	_, err := generator.GenerateCilium(w, generator.Options{})
	if err == nil || !strings.Contains(err.Error(), "CiliumNetworkPolicy shop/flowpol-deployment-app") {
		t.Fatalf("err = %v, want an error naming shop/flowpol-deployment-app", err)
	}
}
