package evaluator

import (
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// TestIndexKeepsEverySelectorThatMatches holds the policy index to its
// one promise: a policy whose pod selector selects a pod is among the
// candidates for that pod. A miss would let check pass a flow a policy
// isolates.
func TestIndexKeepsEverySelectorThatMatches(t *testing.T) {
	selectors := []metav1.LabelSelector{
		{},
		{MatchLabels: map[string]string{"app": "api"}},
		{MatchLabels: map[string]string{"app": "api", "tier": "web"}},
		{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpIn, Values: []string{"api", "db"}}}},
		{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpExists}}},
		{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"api"}}}},
		{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "a", Operator: metav1.LabelSelectorOpDoesNotExist}},
			MatchLabels: map[string]string{"tier": "web"}},
	}
	pods := []map[string]string{
		{}, {"app": "api"}, {"app": "db"}, {"app": "web", "tier": "web"}, {"app": "api", "tier": "web"}, {"tier": "web"},
	}
	var x index
	sels := make([]labels.Selector, len(selectors))
	for i := range selectors {
		sel, err := metav1.LabelSelectorAsSelector(&selectors[i])
		if err != nil {
			t.Fatal(err)
		}
		sels[i] = sel
		x.add(i, selectorKeys(sel, "ns"))
	}
	for _, l := range pods {
		got := x.candidates(nil, &Pod{Namespace: "ns", Labels: l})
		if !slices.IsSorted(got) {
			t.Errorf("pod %v: candidates %v out of the policies' order", l, got)
		}
		for i, sel := range sels {
			if sel.Matches(labels.Set(l)) && !slices.Contains(got, int32(i)) {
				t.Errorf("pod %v: selector %d (%v) selects it but is not a candidate (%v)", l, i, sel, got)
			}
		}
		other := x.candidates(nil, &Pod{Namespace: "other", Labels: l})
		for _, i := range other {
			if !slices.Contains(x.rest, i) {
				t.Errorf("pod %v in another namespace: candidate %d was indexed under ns", l, i)
			}
		}
	}
}

// TestRuleIndexKeepsEveryPeerThatMatches is the same promise for rules:
// a rule with a peer that selects the other pod, by namespace name and pod
// labels, is a candidate; ipBlocks and selectors without names stay in
// rest.
func TestRuleIndexKeepsEveryPeerThatMatches(t *testing.T) {
	byName := func(names ...string) *metav1.LabelSelector {
		return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpIn, Values: names}}}
	}
	app := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "api"}}
	e := &Engine{namespaces: map[string]labels.Set{}}
	rules := []rule{
		{}, // every peer
		rule{peers: []peer{peerOf(t, nil, app)}},
		rule{peers: []peer{peerOf(t, byName("a", "b"), app)}},
		rule{peers: []peer{peerOf(t, &metav1.LabelSelector{MatchLabels: map[string]string{"team": "x"}}, app)}},
		rule{peers: []peer{peerOf(t, byName("a"), &metav1.LabelSelector{})}},
		rule{peers: []peer{peerOf(t, byName("b"), app), peer{block: &ipBlock{}}}},
	}
	x := rulesIndex(rules, "ns")
	for _, ns := range []string{"ns", "a", "b", "c"} {
		e.namespaces[ns] = labels.Set{"kubernetes.io/metadata.name": ns, "team": "x"}
		for _, l := range []map[string]string{{}, {"app": "api"}, {"app": "db"}} {
			other := Peer{Pod: &Pod{Namespace: ns, Labels: l}}
			got := x.candidates(nil, other.Pod)
			for i, r := range rules {
				if e.ruleAllows(r, "ns", other, Peer{}, 0, "") && !slices.Contains(got, int32(i)) {
					t.Errorf("pod %s %v: rule %d allows it but is not a candidate (%v)", ns, l, i, got)
				}
			}
		}
	}
}

func peerOf(t *testing.T, ns, pod *metav1.LabelSelector) peer {
	t.Helper()
	var p peer
	var err error
	if ns != nil {
		if p.nsSel, err = metav1.LabelSelectorAsSelector(ns); err != nil {
			t.Fatal(err)
		}
	}
	if pod != nil {
		if p.podSel, err = metav1.LabelSelectorAsSelector(pod); err != nil {
			t.Fatal(err)
		}
	}
	return p
}
