package staged

import (
	"fmt"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/topology"
)

// BenchmarkStagedObserve is the staged set's cost per commit: a delta of
// 5,000 edges among 200 workloads, 100 of them isolated by a staged
// policy each, decided after an hour of minute commits has filled the
// record; it prints the time per delta and edge and the bytes of the
// stored record, rewritten with each commit that adds to it.
func BenchmarkStagedObserve(b *testing.B) {
	const workloads, isolated, edges = 200, 100, 5000
	ws := map[topology.WorkloadRef]topology.Workload{}
	var policies []networkingv1.NetworkPolicy
	for i := range workloads {
		ref := topology.WorkloadRef{Namespace: "bench", Kind: "Deployment", Name: fmt.Sprintf("w%d", i)}
		ws[ref] = topology.Workload{Ref: ref, PodLabels: []map[string]string{{"app": ref.Name}}}
		if i < isolated {
			policies = append(policies, networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "bench", Name: ref.Name},
				Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": ref.Name}},
					PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
					Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{
						MatchLabels: map[string]string{"app": fmt.Sprintf("w%d", (i+1)%workloads)}}}}}}}})
		}
	}
	tr, err := New(Options{Policies: policies})
	if err != nil {
		b.Fatal(err)
	}
	delta := func(minute int) *baseline.Delta {
		d := &baseline.Delta{}
		if minute == 0 {
			d.Workloads, d.Cluster = ws, &topology.Cluster{}
		}
		start := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC).Add(time.Duration(minute) * time.Minute).Unix()
		for i := range edges {
			src, dst := ws[ref(i%workloads)], ws[ref((i*7+3)%workloads)]
			d.Edges = append(d.Edges, baseline.EdgeDelta{Edge: topology.Edge{Src: end(src.Ref), Dst: end(dst.Ref), Port: uint16(8000 + i%25), Proto: 6},
				Cells: []baseline.Cell{{Start: start, Client: 1, LastMS: 500}}})
		}
		return d
	}
	var p *Pending
	for m := range 60 {
		if p, err = tr.Observe(delta(m)); err != nil {
			b.Fatal(err)
		}
		tr.Commit(p)
	}
	d := delta(60)
	b.ResetTimer()
	for b.Loop() {
		if p, err = tr.Observe(d); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	perDelta := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(perDelta.Microseconds())/1000, "ms/delta")
	b.ReportMetric(float64(perDelta.Nanoseconds())/edges, "ns/edge")
	b.ReportMetric(float64(len(p.State)), "record-bytes")
	b.ReportMetric(float64(len(tr.Report().Denials)), "denied-flows")
}

func ref(i int) topology.WorkloadRef {
	return topology.WorkloadRef{Namespace: "bench", Kind: "Deployment", Name: fmt.Sprintf("w%d", i)}
}
