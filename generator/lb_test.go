package generator_test

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/generator"
	"github.com/flowpol/flowpol/topology"
)

// lbWindow: web, behind a LoadBalancer Service, was reached on 8080 by
// one client from the internet, and (SNAT'd) from one node.
func lbWindow(lb topology.LoadBalancer) *topology.Window {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	web := topology.WorkloadRef{Namespace: "shop", Kind: "Deployment", Name: "web"}
	webEnd := topology.End{Kind: topology.KindWorkload, Workload: web}
	addr := netip.MustParseAddr
	src := topology.End{Kind: topology.KindExternal, Addr: addr("198.51.100.7")}
	if !lb.Local {
		src = topology.End{Kind: topology.KindHost, Node: "node-a", Addr: addr("192.168.10.11")}
	}
	return &topology.Window{
		From: t0, To: t0.Add(time.Hour),
		Edges: []topology.EdgeStats{{Edge: topology.Edge{Src: src, Dst: webEnd, Port: 8080, Proto: flow.TCP}, Count: 9, First: t0, Last: t0}},
		Workloads: map[topology.WorkloadRef]topology.Workload{web: {Ref: web, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			LoadBalancers: []topology.LoadBalancer{lb}}},
		Cluster: topology.Cluster{
			Nodes:  map[string][]netip.Addr{"node-a": {addr("192.168.10.11")}, "node-b": {addr("192.168.10.12")}},
			Ranges: []netip.Prefix{netip.MustParsePrefix("10.96.0.0/12"), netip.MustParsePrefix("10.244.0.0/16"), netip.MustParsePrefix("fd00:10::/56")},
		},
	}
}

func TestLoadBalancerIngress(t *testing.T) {
	lb := func(local bool, ranges ...string) topology.LoadBalancer {
		l := topology.LoadBalancer{Service: "shop/web", Type: "LoadBalancer", Port: topology.PortProto{Port: 8080, Proto: flow.TCP}, Local: local}
		for _, r := range ranges {
			l.SourceRanges = append(l.SourceRanges, netip.MustParsePrefix(r))
		}
		return l
	}
	tests := []struct {
		name     string
		lb       topology.LoadBalancer
		observed bool
		want     []string // cidr, with " except a,b"
		service  bool     // the Service is named in the annotations
	}{
		{"Local: everything outside the cluster's ranges", lb(true), false,
			[]string{"0.0.0.0/0 except 10.96.0.0/12,10.244.0.0/16", "::/0 except fd00:10::/56"}, true},
		{"Local with loadBalancerSourceRanges: those, and the client seen outside them", lb(true, "203.0.113.0/24"), false,
			[]string{"203.0.113.0/24", "198.51.100.7/32"}, true},
		{"Cluster: every node, SNAT'd", lb(false), false,
			[]string{"192.168.10.11/32", "192.168.10.12/32"}, true},
		{"--lb-ingress observed: the client seen", lb(true), true,
			[]string{"198.51.100.7/32"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := generator.Generate(lbWindow(tt.lb), generator.Options{LBObserved: tt.observed})
			if len(res.Policies) != 1 || len(res.Policies[0].Spec.Ingress) != 1 {
				t.Fatalf("want one policy with one ingress rule: %+v", res.Policies)
			}
			p := res.Policies[0]
			var got []string
			for _, peer := range p.Spec.Ingress[0].From {
				s := peer.IPBlock.CIDR
				if len(peer.IPBlock.Except) > 0 {
					s += " except " + strings.Join(peer.IPBlock.Except, ",")
				}
				got = append(got, s)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ingress from %v, want %v", got, tt.want)
			}
			named := strings.Contains(p.Annotations[generator.AnnotationLB], "8080/TCP: LoadBalancer Service shop/web") &&
				strings.Contains(p.Annotations[generator.AnnotationEvidence], "(through LoadBalancer Service shop/web")
			if named != tt.service {
				t.Errorf("the Service named in the annotations: %v, want %v:\n%v", named, tt.service, p.Annotations)
			}
		})
	}
}
