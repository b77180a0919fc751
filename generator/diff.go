package generator

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	ciliumv2 "github.com/cilium/cilium/pkg/k8s/apis/cilium.io/v2"
	"github.com/pmezard/go-difflib/difflib"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	cnp "sigs.k8s.io/network-policy-api/apis/v1beta1"
)

// Change is how one policy differs between what is there and what would be
// generated.
type Change struct {
	Namespace, Name string
	// Kind is "add", "remove" or "change".
	Kind string
	// Details say, for a change, what changed: one line each, such as
	// "ingress: new peer ..." or "egress: peer ...: removed port 53/UDP".
	Details []string
	// Old and New are the policy as it is and as it would be; nil for the
	// side that has none. For CiliumNetworkPolicies, OldCilium and
	// NewCilium are.
	Old, New             *networkingv1.NetworkPolicy
	OldCilium, NewCilium *ciliumv2.CiliumNetworkPolicy
	// OldCluster and NewCluster are, for ClusterNetworkPolicies.
	OldCluster, NewCluster *cnp.ClusterNetworkPolicy
}

// Objects are the sides of a change, as it is and as it would be; nil
// for the side that has none.
func (c Change) Objects() (old, generated Object) {
	switch {
	case c.Old != nil || c.New != nil:
		return objectOrNil(c.Old), objectOrNil(c.New)
	case c.OldCluster != nil || c.NewCluster != nil:
		return objectOrNil(c.OldCluster), objectOrNil(c.NewCluster)
	}
	return objectOrNil(c.OldCilium), objectOrNil(c.NewCilium)
}

func objectOrNil[P interface {
	comparable
	Object
}](p P) Object {
	var zero P
	if p == zero {
		return nil
	}
	return p
}

// Diff compares the policies there (old) with those generated (new). Only
// policies flowpol manages (labelled app.kubernetes.io/managed-by: flowpol)
// can be removed; others there are not generate's and are left out.
func Diff(old, generated []networkingv1.NetworkPolicy) []Change {
	return pairDiff(old, generated,
		func(o, n *networkingv1.NetworkPolicy) []string { return specDiff(&o.Spec, &n.Spec) },
		func(c *Change, o, n *networkingv1.NetworkPolicy) { c.Old, c.New = o, n })
}

// pairDiff pairs the policies there that flowpol manages with those
// generated, by namespace and name, and lists what to add, change and
// remove, sorted: details compares a pair, set puts a change's policies
// (either may be nil) in their fields.
func pairDiff[T any, P interface {
	*T
	metav1.Object
}](old, generated []T, details func(o, n P) []string, set func(c *Change, o, n P)) []Change {
	byKey := map[string]P{}
	for i := range old {
		if o := P(&old[i]); o.GetLabels()[LabelManagedBy] == ManagedBy {
			byKey[o.GetNamespace()+"/"+o.GetName()] = o
		}
	}
	var out []Change
	add := func(kind string, d []string, o, n P) {
		ref := cmp.Or(n, o)
		c := Change{Namespace: ref.GetNamespace(), Name: ref.GetName(), Kind: kind, Details: d}
		set(&c, o, n)
		out = append(out, c)
	}
	for i := range generated {
		n := P(&generated[i])
		key := n.GetNamespace() + "/" + n.GetName()
		o, ok := byKey[key]
		delete(byKey, key)
		if !ok {
			add("add", nil, nil, n)
			continue
		}
		if d := details(o, n); len(d) > 0 {
			add("change", d, o, n)
		}
	}
	for _, o := range byKey {
		add("remove", nil, o, nil)
	}
	slices.SortFunc(out, func(a, b Change) int {
		return cmp.Or(strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
	})
	return out
}

// specDiff lists what differs between two specs, rule by rule: rules are
// compared by peer, so that a reordering is no change.
func specDiff(o, n *networkingv1.NetworkPolicySpec) []string {
	var out []string
	if a, b := metav1.FormatLabelSelector(&o.PodSelector), metav1.FormatLabelSelector(&n.PodSelector); a != b {
		out = append(out, fmt.Sprintf("podSelector: %s -> %s", a, b))
	}
	if a, b := fmt.Sprint(o.PolicyTypes), fmt.Sprint(n.PolicyTypes); a != b {
		out = append(out, fmt.Sprintf("policyTypes: %s -> %s", a, b))
	}
	out = append(out, rulesDiff("ingress", ingressRules(o.Ingress), ingressRules(n.Ingress))...)
	return append(out, rulesDiff("egress", egressRules(o.Egress), egressRules(n.Egress))...)
}

// ruleSet maps each peer, as text, to its ports, as text.
type ruleSet map[string][]string

func ingressRules(rs []networkingv1.NetworkPolicyIngressRule) ruleSet {
	out := ruleSet{}
	for _, r := range rs {
		addRule(out, r.From, r.Ports)
	}
	return out
}

func egressRules(rs []networkingv1.NetworkPolicyEgressRule) ruleSet {
	out := ruleSet{}
	for _, r := range rs {
		addRule(out, r.To, r.Ports)
	}
	return out
}

func addRule(out ruleSet, peers []networkingv1.NetworkPolicyPeer, ports []networkingv1.NetworkPolicyPort) {
	ps := portTexts(ports)
	if len(peers) == 0 {
		out["any peer"] = union(out["any peer"], ps)
	}
	for _, p := range peers {
		key := peerText(p)
		out[key] = union(out[key], ps)
	}
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, x := range b {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	slices.Sort(out)
	return out
}

func portTexts(ports []networkingv1.NetworkPolicyPort) []string {
	if len(ports) == 0 {
		return []string{"any port"}
	}
	out := make([]string, len(ports))
	for i, p := range ports {
		proto := "TCP"
		if p.Protocol != nil {
			proto = string(*p.Protocol)
		}
		port := "any"
		if p.Port != nil {
			port = p.Port.String()
		}
		if p.EndPort != nil {
			port += fmt.Sprintf("-%d", *p.EndPort)
		}
		out[i] = port + "/" + proto
	}
	return out
}

// peerText describes a peer: its namespace and pod selectors, or its
// address block.
func peerText(p networkingv1.NetworkPolicyPeer) string {
	if p.IPBlock != nil {
		s := "ipBlock " + p.IPBlock.CIDR
		if len(p.IPBlock.Except) > 0 {
			s += " except " + strings.Join(p.IPBlock.Except, ",")
		}
		return s
	}
	var parts []string
	if p.NamespaceSelector != nil {
		parts = append(parts, "namespaces "+selectorText(p.NamespaceSelector))
	}
	if p.PodSelector != nil {
		parts = append(parts, "pods "+selectorText(p.PodSelector))
	}
	return strings.Join(parts, ", ")
}

func selectorText(s *metav1.LabelSelector) string {
	if t := metav1.FormatLabelSelector(s); t != "<none>" {
		return t
	}
	b, _ := json.Marshal(s) // a selector always marshals
	return string(b)
}

func rulesDiff(dir string, o, n ruleSet) []string {
	var out []string
	for _, peer := range sortedKeys(n) {
		was, ok := o[peer]
		if !ok {
			out = append(out, fmt.Sprintf("%s: new peer %s on %s", dir, peer, strings.Join(n[peer], ", ")))
			continue
		}
		for _, p := range n[peer] {
			if !slices.Contains(was, p) {
				out = append(out, fmt.Sprintf("%s: peer %s: new port %s", dir, peer, p))
			}
		}
		for _, p := range was {
			if !slices.Contains(n[peer], p) {
				out = append(out, fmt.Sprintf("%s: peer %s: removed port %s", dir, peer, p))
			}
		}
	}
	for _, peer := range sortedKeys(o) {
		if _, ok := n[peer]; !ok {
			out = append(out, fmt.Sprintf("%s: removed peer %s (was on %s)", dir, peer, strings.Join(o[peer], ", ")))
		}
	}
	return out
}

func sortedKeys(m ruleSet) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Unified is the unified diff of one change's YAML, as generate writes it.
func Unified(c Change) (string, error) {
	var a, b string
	name := c.Namespace + "." + c.Name + ".yaml"
	old, generated := c.Objects()
	for _, side := range []struct {
		p   Object
		out *string
	}{{old, &a}, {generated, &b}} {
		if side.p == nil {
			continue
		}
		y, err := MarshalObject(side.p)
		if err != nil {
			return "", err
		}
		*side.out = string(y)
	}
	return difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: difflib.SplitLines(a), B: difflib.SplitLines(b),
		FromFile: "a/" + name, ToFile: "b/" + name, Context: 3,
	})
}

// WriteDiff writes changes as flowpol diff prints them: a summary per
// policy and rule, then the unified diff of each policy's YAML.
func WriteDiff(w io.Writer, changes []Change) error {
	if len(changes) == 0 {
		_, err := fmt.Fprintln(w, "no changes")
		return err
	}
	var b strings.Builder
	for _, c := range changes {
		fmt.Fprintf(&b, "%s %s/%s\n", c.Kind, c.Namespace, c.Name)
		for _, d := range c.Details {
			fmt.Fprintf(&b, "  %s\n", d)
		}
	}
	for _, c := range changes {
		text, err := Unified(c)
		if err != nil {
			return err
		}
		b.WriteString("\n" + text)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
