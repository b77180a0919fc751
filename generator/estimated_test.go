package generator_test

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/generator"
	"github.com/flowpol/flowpol/topology"
)

// estimatedWindow: frontend reaches reviews-v1 (10 connections, 4 of
// them estimated) and reviews-v2 (6, all reported by its servers).
func estimatedWindow() *topology.Window {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	ref := func(name string) topology.WorkloadRef {
		return topology.WorkloadRef{Namespace: "shop", Kind: "Deployment", Name: name}
	}
	end := func(name string) topology.End { return topology.End{Kind: topology.KindWorkload, Workload: ref(name)} }
	edge := func(dst string, count, est uint64) topology.EdgeStats {
		return topology.EdgeStats{Edge: topology.Edge{Src: end("frontend"), Dst: end(dst), Port: 9080, Proto: flow.TCP},
			Count: count, Estimated: est, First: t0, Last: t0.Add(time.Minute)}
	}
	w := &topology.Window{From: t0, To: t0.Add(time.Hour), Workloads: map[topology.WorkloadRef]topology.Workload{},
		Edges: []topology.EdgeStats{edge("reviews-v1", 10, 4), edge("reviews-v2", 6, 0)}}
	for _, name := range []string{"frontend", "reviews-v1", "reviews-v2"} {
		w.Workloads[ref(name)] = topology.Workload{Ref: ref(name), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}}}
	}
	return w
}

// TestEstimatedEvidence: a rule's evidence says how many of its
// connections are estimated, and the policy's annotation how many of all
// its connections; a policy with none estimated has no annotation, and
// its evidence reads as before. The CiliumNetworkPolicies say the same.
// If it failed, a reviewer could not tell an estimated count from one the
// servers reported.
func TestEstimatedEvidence(t *testing.T) {
	const estimatedText = "10 connections (4 estimated: no server reported, split among the Service's workloads as their servers reported at other times, or evenly)"
	want := map[string]struct {
		annotation string // "" for none
		evidence   string
	}{
		"frontend":   {"4", "egress to shop/Deployment/reviews-v1 on 9080/TCP: " + estimatedText},
		"reviews-v1": {"4", "ingress from shop/Deployment/frontend on 9080/TCP: " + estimatedText},
		"reviews-v2": {"", "ingress from shop/Deployment/frontend on 9080/TCP: 6 connections, "},
	}
	check := func(t *testing.T, kind, name string, a map[string]string) {
		t.Helper()
		w, ok := want[name]
		if !ok {
			t.Errorf("%s %s: not expected", kind, name)
			return
		}
		if got, has := a[generator.AnnotationEstimated]; got != w.annotation || has != (w.annotation != "") {
			t.Errorf("%s %s: %s %q (present %v), want %q", kind, name, generator.AnnotationEstimated, got, has, w.annotation)
		}
		if ev := a[generator.AnnotationEvidence]; !strings.Contains(ev, w.evidence) {
			t.Errorf("%s %s: evidence %q, want a line with %q", kind, name, ev, w.evidence)
		}
		if w.annotation == "" && strings.Contains(a[generator.AnnotationEvidence], "estimated") {
			t.Errorf("%s %s: evidence %q calls something estimated", kind, name, a[generator.AnnotationEvidence])
		}
	}
	res := generator.Generate(estimatedWindow(), generator.Options{})
	if len(res.Policies) != len(want) {
		t.Errorf("%d policies, want %d", len(res.Policies), len(want))
	}
	for _, p := range res.Policies {
		check(t, "NetworkPolicy", strings.TrimPrefix(p.Name, "flowpol-deployment-"), p.Annotations)
	}
	cres, err := generator.GenerateCilium(estimatedWindow(), generator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(cres.Cilium) != len(want) {
		t.Errorf("%d CiliumNetworkPolicies, want %d", len(cres.Cilium), len(want))
	}
	for _, p := range cres.Cilium {
		check(t, "CiliumNetworkPolicy", strings.TrimPrefix(p.Name, "flowpol-deployment-"), p.Annotations)
	}
}
