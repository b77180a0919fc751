package evaluator

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// labelKey is one label a pod in a namespace has.
type labelKey struct{ ns, key, value string }

// index narrows a list (the policies of a namespace, the rules of a
// policy's direction) to the entries that may match a pod: those that
// require a label it has, in its namespace, and those that require nothing
// an index can use (rest). It is a prefilter: every entry it returns must
// still be checked in full.
type index struct {
	byLabel map[labelKey][]int32
	rest    []int32
}

// add files entry i under keys, or in rest when there are none.
func (x *index) add(i int, keys []labelKey) {
	if len(keys) == 0 {
		x.rest = append(x.rest, int32(i))
		return
	}
	if x.byLabel == nil {
		x.byLabel = map[labelKey][]int32{}
	}
	for _, k := range keys {
		if l := x.byLabel[k]; len(l) == 0 || l[len(l)-1] != int32(i) {
			x.byLabel[k] = append(l, int32(i))
		}
	}
}

// candidates appends to buf the entries that may match a pod in ns with
// these labels (nil pod: only rest), in the order they were added.
func (x *index) candidates(buf []int32, pod *Pod) []int32 {
	buf = append(buf, x.rest...)
	if pod == nil || len(x.byLabel) == 0 {
		return buf
	}
	n := len(buf)
	for k, v := range pod.Labels {
		buf = append(buf, x.byLabel[labelKey{pod.Namespace, k, v}]...)
	}
	if len(buf) > n {
		slices.Sort(buf)
		buf = slices.Compact(buf)
	}
	return buf
}

// selectorKeys are the labels one of which every pod the selector
// selects has: the values of its first requirement that names them (key
// =, == or in); nil when it has none, as for the empty selector.
func selectorKeys(sel labels.Selector, ns string) []labelKey {
	reqs, ok := sel.Requirements()
	if !ok {
		return nil
	}
	for _, r := range reqs {
		switch r.Operator() {
		case selection.Equals, selection.DoubleEquals, selection.In:
			var out []labelKey
			for _, v := range r.ValuesUnsorted() {
				out = append(out, labelKey{ns, r.Key(), v})
			}
			return out
		}
	}
	return nil
}

// namespaces are the namespaces a namespace selector may select, by the
// name label every namespace has; nil when it names none.
func namespaces(sel labels.Selector) []string {
	reqs, ok := sel.Requirements()
	if !ok {
		return nil
	}
	for _, r := range reqs {
		if r.Key() != corev1.LabelMetadataName {
			continue
		}
		switch r.Operator() {
		case selection.Equals, selection.DoubleEquals, selection.In:
			return r.ValuesUnsorted()
		}
	}
	return nil
}

// ruleKeys are the labels one of which every pod a rule's peers select
// has, in its namespace; nil when a peer may match a pod without them (it
// has no pod selector, names no namespace, or is an ipBlock) or the rule
// allows every peer.
func ruleKeys(r rule, policyNS string) []labelKey {
	if r.peers == nil {
		return nil
	}
	var out []labelKey
	for _, p := range r.peers {
		keys := peerKeys(p, policyNS)
		if keys == nil {
			return nil
		}
		out = append(out, keys...)
	}
	return out
}

func peerKeys(p peer, policyNS string) []labelKey {
	if p.block != nil || p.podSel == nil {
		return nil
	}
	nss := []string{policyNS}
	if p.nsSel != nil {
		if nss = namespaces(p.nsSel); nss == nil {
			return nil
		}
	}
	keys := selectorKeys(p.podSel, "")
	if keys == nil {
		return nil
	}
	out := make([]labelKey, 0, len(nss)*len(keys))
	for _, ns := range nss {
		for _, k := range keys {
			out = append(out, labelKey{ns, k.key, k.value})
		}
	}
	return out
}

// rulesIndex indexes rules by the pods they may allow.
func rulesIndex(rules []rule, policyNS string) index {
	var x index
	for i, r := range rules {
		x.add(i, ruleKeys(r, policyNS))
	}
	return x
}
