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

// nodeWindow: api is reached by the kubelet of its own node, by a
// hostNetwork agent on node-b, and reaches node-c's address.
func nodeWindow() *topology.Window {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	api := topology.WorkloadRef{Namespace: "shop", Kind: "Deployment", Name: "api"}
	apiEnd := topology.End{Kind: topology.KindWorkload, Workload: api}
	addr := netip.MustParseAddr
	edge := func(src, dst topology.End, port uint16) topology.EdgeStats {
		return topology.EdgeStats{Edge: topology.Edge{Src: src, Dst: dst, Port: port, Proto: flow.TCP}, Count: 5, First: t0, Last: t0.Add(time.Minute)}
	}
	return &topology.Window{
		From: t0, To: t0.Add(time.Hour),
		Edges: []topology.EdgeStats{
			edge(topology.End{Kind: topology.KindOwnNode}, apiEnd, 8080),
			edge(topology.End{Kind: topology.KindHost, Node: "node-b", Addr: addr("192.168.10.12")}, apiEnd, 9090),
			edge(apiEnd, topology.End{Kind: topology.KindHost, Node: "node-c", Addr: addr("192.168.10.13")}, 10250),
		},
		Workloads: map[topology.WorkloadRef]topology.Workload{api: {Ref: api, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "api"}}}},
		Cluster: topology.Cluster{Nodes: map[string][]netip.Addr{
			"node-a": {addr("192.168.10.11")}, "node-b": {addr("192.168.10.12")}, "node-c": {addr("192.168.10.13"), addr("fd00::13")},
		}},
	}
}

func TestNodePeers(t *testing.T) {
	tests := []struct {
		name            string
		opts            generator.Options
		ingress, egress []string // the CIDRs of the one node rule each way
	}{
		{"every node's address", generator.Options{},
			[]string{"192.168.10.11/32", "192.168.10.12/32", "192.168.10.13/32", "fd00::13/128"},
			[]string{"192.168.10.11/32", "192.168.10.12/32", "192.168.10.13/32", "fd00::13/128"}},
		{"the node CIDRs, and a node address seen outside them", generator.Options{NodeCIDRs: []netip.Prefix{netip.MustParsePrefix("192.168.10.0/24")}},
			[]string{"192.168.10.0/24"}, []string{"192.168.10.0/24"}},
		{"a node CIDR that misses a node seen", generator.Options{NodeCIDRs: []netip.Prefix{netip.MustParsePrefix("192.168.10.0/30")}},
			[]string{"192.168.10.0/30", "192.168.10.12/32"}, []string{"192.168.10.0/30", "192.168.10.13/32"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := generator.Generate(nodeWindow(), tt.opts)
			if len(res.Policies) != 1 {
				t.Fatalf("%d policies, want 1", len(res.Policies))
			}
			p := res.Policies[0]
			if len(p.Spec.Ingress) != 1 || len(p.Spec.Egress) != 1 {
				t.Fatalf("%d ingress and %d egress rules, want one node rule each way (none for the own node):\n%+v", len(p.Spec.Ingress), len(p.Spec.Egress), p.Spec)
			}
			var in, out []string
			for _, peer := range p.Spec.Ingress[0].From {
				in = append(in, peer.IPBlock.CIDR)
			}
			for _, peer := range p.Spec.Egress[0].To {
				out = append(out, peer.IPBlock.CIDR)
			}
			if !slices.Equal(in, tt.ingress) || !slices.Equal(out, tt.egress) {
				t.Errorf("ingress from %v, egress to %v; want %v and %v", in, out, tt.ingress, tt.egress)
			}
			ev := p.Annotations[generator.AnnotationEvidence]
			if !strings.Contains(ev, "ingress from own-node on 8080/TCP: 5 connections") || !strings.Contains(ev, "no rule, NetworkPolicy always allows a pod and its own node") {
				t.Errorf("the evidence does not say the own-node traffic needs no rule:\n%s", ev)
			}
			if p.Annotations[generator.AnnotationCount] != "15" {
				t.Errorf("connections %s, want 15: own-node traffic is observed traffic", p.Annotations[generator.AnnotationCount])
			}
		})
	}
}
