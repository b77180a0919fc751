package generator

import (
	"fmt"
	"slices"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flowpol/flowpol/topology"
)

// DefaultDenyName is the name of the deny-all policy of a namespace.
const DefaultDenyName = "flowpol-default-deny"

// defaultDeny adds a deny-all policy to each namespace that has generated
// policies (but those denyNamespaces leaves out), and lists the known workloads there that no policy selects,
// which it leaves with no allowed traffic.
func (g *gen) defaultDeny(res *Result) {
	namespaces := make([]string, len(res.Policies))
	for i, p := range res.Policies {
		namespaces[i] = p.Namespace
	}
	for _, ns := range g.denyNamespaces(namespaces, res) {
		res.Policies = append(res.Policies, denyAll(ns, g.w))
		res.Isolated = append(res.Isolated, g.isolated(ns)...)
	}
}

// distinct is a list's distinct values, sorted.
func distinct(values []string) []string {
	out := slices.Clone(values)
	slices.Sort(out)
	return slices.Compact(out)
}

// isolated lists the known workloads of a namespace that no generated
// policy selects, which its default deny leaves with no allowed traffic.
func (g *gen) isolated(ns string) []string {
	var out []string
	for _, ref := range g.knownWorkloads(ns) {
		if _, ok := g.policies[ref]; !ok {
			out = append(out, fmt.Sprintf("%s: no generated policy selects it, so %s/%s leaves it with no allowed traffic", ref, ns, DefaultDenyName))
		}
	}
	return out
}

func (g *gen) knownWorkloads(ns string) []topology.WorkloadRef {
	var out []topology.WorkloadRef
	for ref := range g.w.Workloads {
		if ref.Namespace == ns {
			out = append(out, ref)
		}
	}
	slices.SortFunc(out, topology.WorkloadRef.Compare)
	return out
}

func denyAll(ns string, w *topology.Window) networkingv1.NetworkPolicy {
	return networkingv1.NetworkPolicy{
		TypeMeta: metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: metav1.ObjectMeta{
			Name: DefaultDenyName, Namespace: ns,
			Labels:      map[string]string{LabelManagedBy: ManagedBy},
			Annotations: map[string]string{AnnotationWindow: windowAnnotation(w)},
		},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
		},
	}
}
