package generator

import (
	"encoding/json"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	cnp "sigs.k8s.io/network-policy-api/apis/v1beta1"
)

// ClusterDiff is Diff for ClusterNetworkPolicies: only those flowpol
// manages can be removed. Rules are ordered (the first that matches
// decides), so they are compared by position.
func ClusterDiff(old, generated []cnp.ClusterNetworkPolicy) []Change {
	return pairDiff(old, generated, clusterSpecDiff,
		func(c *Change, o, n *cnp.ClusterNetworkPolicy) { c.OldCluster, c.NewCluster = o, n })
}

func clusterSpecDiff(o, n *cnp.ClusterNetworkPolicy) []string {
	var out []string
	if o.Spec.Tier != n.Spec.Tier {
		out = append(out, fmt.Sprintf("tier: %s -> %s", o.Spec.Tier, n.Spec.Tier))
	}
	if o.Spec.Priority != n.Spec.Priority {
		out = append(out, fmt.Sprintf("priority: %d -> %d", o.Spec.Priority, n.Spec.Priority))
	}
	if a, b := subjectText(o.Spec.Subject), subjectText(n.Spec.Subject); a != b {
		out = append(out, fmt.Sprintf("subject: %s -> %s", a, b))
	}
	out = append(out, orderedDiff("ingress", texts(o.Spec.Ingress), texts(n.Spec.Ingress))...)
	return append(out, orderedDiff("egress", texts(o.Spec.Egress), texts(n.Spec.Egress))...)
}

func subjectText(s cnp.ClusterNetworkPolicySubject) string {
	if s.Namespaces != nil {
		return "namespaces " + metav1.FormatLabelSelector(s.Namespaces)
	}
	if s.Pods != nil {
		return fmt.Sprintf("pods %s in namespaces %s", metav1.FormatLabelSelector(&s.Pods.PodSelector), metav1.FormatLabelSelector(&s.Pods.NamespaceSelector))
	}
	return "none"
}

// texts are rules as compact JSON, which names every field they set.
func texts[T any](rules []T) []string {
	out := make([]string, len(rules))
	for i := range rules {
		b, err := json.Marshal(rules[i])
		if err != nil {
			b = []byte(err.Error())
		}
		out[i] = string(b)
	}
	return out
}

// orderedDiff compares two rule lists position by position.
func orderedDiff(dir string, old, generated []string) []string {
	var out []string
	for i := range max(len(old), len(generated)) {
		switch {
		case i >= len(old):
			out = append(out, fmt.Sprintf("%s[%d]: new rule %s", dir, i, generated[i]))
		case i >= len(generated):
			out = append(out, fmt.Sprintf("%s[%d]: removed rule %s", dir, i, old[i]))
		case old[i] != generated[i]:
			out = append(out, fmt.Sprintf("%s[%d]: %s -> %s", dir, i, old[i], generated[i]))
		}
	}
	return out
}
