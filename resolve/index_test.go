package resolve

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/flowpol/flowpol/inventory"
	"github.com/flowpol/flowpol/topology"
)

// randomLabels is one to three labels from a small set, so that selectors
// often match several pods and often none.
func randomLabels(rng *rand.Rand) map[string]string {
	out := map[string]string{}
	for range 1 + rng.IntN(3) {
		out[fmt.Sprintf("k%d", rng.IntN(3))] = fmt.Sprintf("v%d", rng.IntN(3))
	}
	return out
}

// TestSelectedMatchesEveryPod checks the label index against trying every
// pod of the inventory: a Service selects the same pods, in the same
// order, and a workload overlaps the same others.
func TestSelectedMatchesEveryPod(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for world := range 50 {
		inv := &inventory.Inventory{}
		for i := range 40 {
			inv.Pods = append(inv.Pods, corev1.Pod{ObjectMeta: metav1.ObjectMeta{
				Namespace: fmt.Sprintf("ns%d", i%2), Name: fmt.Sprintf("p%d", i), Labels: randomLabels(rng)}})
		}
		for i := range 20 {
			inv.Services = append(inv.Services, corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: fmt.Sprintf("ns%d", i%2), Name: fmt.Sprintf("s%d", i)},
				Spec: corev1.ServiceSpec{Selector: randomLabels(rng)}})
		}
		b := newBuilder(&Static{workloads: map[topology.WorkloadRef]topology.Workload{}}, inv)
		for i := range inv.Services {
			svc := &inv.Services[i]
			var want []*corev1.Pod
			for j := range inv.Pods {
				if Selects(svc, &inv.Pods[j]) {
					want = append(want, &inv.Pods[j])
				}
			}
			if got := b.selected(svc); !slices.Equal(got, want) {
				t.Fatalf("world %d, Service %s/%s: selected %d pods, want %d", world, svc.Namespace, svc.Name, len(got), len(want))
			}
		}
		checkOverlaps(t, world, rng, b, inv)
	}
}

// checkOverlaps gives each pod a workload of its own with a random
// selector (some with an expression, which the index cannot narrow) and
// compares findOverlaps with matching every other workload's pods.
func checkOverlaps(t *testing.T, world int, rng *rand.Rand, b *builder, inv *inventory.Inventory) {
	t.Helper()
	var refs []topology.WorkloadRef
	for i := range inv.Pods {
		p := &inv.Pods[i]
		ref := topology.WorkloadRef{Namespace: p.Namespace, Kind: "Deployment", Name: p.Name}
		sel := &metav1.LabelSelector{MatchLabels: randomLabels(rng)}
		if rng.IntN(4) == 0 {
			sel.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "k0", Operator: metav1.LabelSelectorOpExists}}
		}
		if rng.IntN(8) == 0 {
			sel.MatchLabels = nil
		}
		b.podsOf[ref], b.workloadOf[p] = []*corev1.Pod{p}, ref
		b.r.workloads[ref] = topology.Workload{Ref: ref, Selector: sel}
		if p.Namespace == "ns0" {
			refs = append(refs, ref)
		}
	}
	slices.SortFunc(refs, topology.WorkloadRef.Compare)
	for _, ref := range refs {
		sel, err := metav1.LabelSelectorAsSelector(b.r.workloads[ref].Selector)
		if err != nil {
			t.Fatal(err)
		}
		var want []topology.WorkloadRef
		for _, o := range refs {
			if o != ref && sel.Matches(labels.Set(b.podsOf[o][0].Labels)) {
				want = append(want, o)
			}
		}
		b.findOverlaps(ref, refs)
		if got := b.r.workloads[ref].Overlaps; !slices.Equal(got, want) {
			t.Fatalf("world %d, workload %s: overlaps %v, want %v", world, ref, got, want)
		}
	}
}
