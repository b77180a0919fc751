package check_test

import (
	"net/netip"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flowpol/flowpol/check"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/topology"
)

// TestOwnNode: a deny-all policy denies another node's traffic to a pod,
// but never the pod's own node's (kubelet probes) either way.
func TestOwnNode(t *testing.T) {
	api := topology.WorkloadRef{Namespace: "shop", Kind: "Deployment", Name: "api"}
	apiEnd := topology.End{Kind: topology.KindWorkload, Workload: api}
	own := topology.End{Kind: topology.KindOwnNode}
	other := topology.End{Kind: topology.KindHost, Node: "node-b", Addr: netip.MustParseAddr("192.168.10.12")}
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	edge := func(src, dst topology.End) topology.EdgeStats {
		return topology.EdgeStats{Edge: topology.Edge{Src: src, Dst: dst, Port: 8080, Proto: flow.TCP}, Count: 1, First: t0, Last: t0}
	}
	w := &topology.Window{
		Edges: []topology.EdgeStats{edge(own, apiEnd), edge(apiEnd, own), edge(other, apiEnd)},
		Workloads: map[topology.WorkloadRef]topology.Workload{api: {Ref: api, PodLabels: []map[string]string{{"app": "api"}},
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "api"}}}},
	}
	denyAll := networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "deny"},
		Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}}}
	res, err := check.Run(w, []networkingv1.NetworkPolicy{denyAll}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Checked != 3 || len(res.Skipped) != 0 {
		t.Errorf("checked %d, skipped %v; want all 3 decided", res.Checked, res.Skipped)
	}
	if len(res.Denials) != 1 || res.Denials[0].Src != other {
		t.Errorf("denials %+v, want only the other node's", res.Denials)
	}
}
