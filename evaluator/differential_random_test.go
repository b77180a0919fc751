package evaluator_test

import (
	"maps"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flowpol/flowpol/internal/npguard"
	"github.com/flowpol/flowpol/internal/randnet"
)

// Random clusters compared between the engines. A case is reproduced by
// its seed and index: FLOWPOL_DIFF_SEED=<seed> FLOWPOL_DIFF_CASES=<index+1>.

const (
	defaultSeed  = 20260722
	defaultCases = 4000
)

// diffSettings reads FLOWPOL_DIFF_SEED and FLOWPOL_DIFF_CASES; -short
// runs 1,000 cases unless told otherwise.
func diffSettings(tb testing.TB) (seed uint64, cases int) {
	tb.Helper()
	seed, cases = defaultSeed, defaultCases
	if testing.Short() {
		cases = 1000
	}
	var err error
	if s := os.Getenv("FLOWPOL_DIFF_SEED"); s != "" {
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			tb.Fatalf("FLOWPOL_DIFF_SEED: %v", err)
		}
	}
	if s := os.Getenv("FLOWPOL_DIFF_CASES"); s != "" {
		if cases, err = strconv.Atoi(s); err != nil || cases < 1 {
			tb.Fatalf("FLOWPOL_DIFF_CASES %q: want a positive count", s)
		}
	}
	return seed, cases
}

func TestDifferentialRandom(t *testing.T) {
	seed, cases := diffSettings(t)
	a := npguard.Start(t)
	start := time.Now()
	var n tally
	for i := range cases {
		w := randnet.New(seed, i).World()
		rs, err := compare(a, w, w, randnet.Ports())
		if err != nil {
			t.Fatalf("seed %d case %d: %v\n%s", seed, i, err, dumpWorld(w))
		}
		if len(disagreements(rs)) > 0 {
			small := shrink(w, func(c *world) bool { return disagrees(a, c, c) })
			t.Fatalf("seed %d case %d: the engines disagree; smallest case:\n%s", seed, i, describe(a, small, randnet.Ports()))
		}
		n.add(rs)
	}
	t.Logf("seed %d: %d cases, %d probes (%d with an address, %d between a pod and its own node), %d allowed, in %v",
		seed, cases, n.probes, n.addr, n.ownNode, n.allowed, time.Since(start).Round(time.Millisecond))
	if cases >= 100 && n.ownNode == 0 {
		t.Error("no probe between a pod and its own node: own-node traffic is not compared")
	}
	// Agreement proves little if the policies allow (or deny) nearly
	// everything: the generator would not be exercising the rules.
	if cases >= 100 && (n.allowed < n.probes/10 || n.probes-n.allowed < n.probes/10) {
		t.Errorf("%d of %d probes allowed: the generated policies are too lax or too strict to compare the engines", n.allowed, n.probes)
	}
}

type tally struct{ probes, addr, allowed, ownNode int }

func (n *tally) add(rs []result) {
	for _, r := range rs {
		n.probes++
		if isAddr(r.src) || isAddr(r.dst) {
			n.addr++
		}
		if r.ours {
			n.allowed++
		}
		if r.ownNode {
			n.ownNode++
		}
	}
}

// disagrees reports whether the engines, given ours and theirs, disagree
// on a probe; a world netpol-analyzer rejects does not count.
func disagrees(a *npguard.Analyzer, ours, theirs *world) bool {
	rs, err := compare(a, ours, theirs, randnet.Ports())
	return err == nil && len(disagreements(rs)) > 0
}

// TestShrinkNegativeControl checks that the comparison catches a
// difference and that the shrinker brings it down to its cause: flowpol is
// given a deny-all policy that netpol-analyzer is not, on top of random
// policies, which only make netpol-analyzer deny more and so can all go.
func TestShrinkNegativeControl(t *testing.T) {
	a := npguard.Start(t)
	seed, _ := diffSettings(t)
	const target = "target"
	for i := range 100 {
		w := randnet.New(seed, 1<<32+i).World()
		w.Policies = append(w.Policies, policy(w.Namespaces[0].Name, target, networkingv1.NetworkPolicySpec{PolicyTypes: policyTypes(ing, egr)}))
		failing := func(c *world) bool { return disagrees(a, c, withoutPolicy(c, target)) }
		if len(w.Policies) < 3 || !failing(w) {
			continue
		}
		small := shrink(w, failing)
		if len(small.Policies) != 1 || small.Policies[0].Name != target {
			t.Errorf("shrunk to %d policies, want only %s:\n%s", len(small.Policies), target, dumpWorld(small))
		}
		if len(small.Pods)+len(small.Addrs) > 2 || len(small.Namespaces) != 1 {
			t.Errorf("shrunk to %d pods, %d addresses, %d namespaces; one probe needs two ends in one namespace:\n%s",
				len(small.Pods), len(small.Addrs), len(small.Namespaces), dumpWorld(small))
		}
		if !failing(small) {
			t.Error("the shrunk case no longer shows the difference")
		}
		return
	}
	t.Fatal("no generated world with three policies shows the planted difference")
}

func withoutPolicy(w *world, name string) *world {
	c := w.Clone()
	c.Policies = slices.DeleteFunc(c.Policies, func(p networkingv1.NetworkPolicy) bool { return p.Name == name })
	return c
}

// Shrinking: the smallest world, one removal at a time, that still fails.

// shrink removes policies, rules, peers, ports, selector terms,
// exceptions, pods, namespaces, addresses, labels and container ports from
// w one at a time while failing holds, until no single removal keeps it.
func shrink(w *world, failing func(*world) bool) *world {
	cur := w
	for {
		next := (*world)(nil)
		for _, c := range reductions(cur) {
			if failing(c) {
				next = c
				break
			}
		}
		if next == nil {
			return cur
		}
		cur = next
	}
}

// reductions are the worlds one removal smaller than w.
func reductions(w *world) []*world {
	var out []*world
	try := func(edit func(*world) bool) {
		if c := w.Clone(); edit(c) {
			out = append(out, c)
		}
	}
	for i := range w.Policies {
		try(func(c *world) bool { c.Policies = slices.Delete(c.Policies, i, i+1); return true })
	}
	for i := range w.Pods {
		try(func(c *world) bool { c.Pods = slices.Delete(c.Pods, i, i+1); return true })
	}
	for i := range w.Addrs {
		try(func(c *world) bool { c.Addrs = slices.Delete(c.Addrs, i, i+1); return true })
	}
	for i := range w.Namespaces {
		try(func(c *world) bool { return removeEmptyNamespace(c, i) })
	}
	for i := range w.Policies {
		for j := range policyEdits(&w.Policies[i]) {
			try(func(c *world) bool { return editPolicy(&c.Policies[i], j) })
		}
	}
	for i := range w.Namespaces {
		for _, k := range slices.Sorted(maps.Keys(w.Namespaces[i].Labels)) {
			if k != corev1.LabelMetadataName {
				try(func(c *world) bool { delete(c.Namespaces[i].Labels, k); return true })
			}
		}
	}
	for i := range w.Pods {
		for _, k := range slices.Sorted(maps.Keys(w.Pods[i].Labels)) {
			try(func(c *world) bool { delete(c.Pods[i].Labels, k); return true })
		}
		for j := range w.Pods[i].Spec.Containers[0].Ports {
			try(func(c *world) bool {
				ps := &c.Pods[i].Spec.Containers[0].Ports
				*ps = slices.Delete(*ps, j, j+1)
				return true
			})
		}
	}
	return out
}

func removeEmptyNamespace(c *world, i int) bool {
	ns := c.Namespaces[i].Name
	if slices.ContainsFunc(c.Pods, func(p corev1.Pod) bool { return p.Namespace == ns }) {
		return false
	}
	c.Namespaces = slices.Delete(c.Namespaces, i, i+1)
	return true
}

// policyEdits counts the removals inside one policy; editPolicy applies
// the j-th. Both walk the same list.
func policyEdits(np *networkingv1.NetworkPolicy) int {
	n := 0
	walkPolicy(np, func(func()) bool { n++; return false })
	return n
}

func editPolicy(np *networkingv1.NetworkPolicy, j int) bool {
	k := 0
	return walkPolicy(np, func(remove func()) bool {
		if k == j {
			remove()
			return true
		}
		k++
		return false
	})
}

// walkPolicy offers each removal inside np to visit, in a fixed order,
// until visit returns true.
func walkPolicy(np *networkingv1.NetworkPolicy, visit func(remove func()) bool) bool {
	s := &np.Spec
	for i := range s.Ingress {
		if visit(func() { s.Ingress = slices.Delete(s.Ingress, i, i+1) }) {
			return true
		}
	}
	for i := range s.Egress {
		if visit(func() { s.Egress = slices.Delete(s.Egress, i, i+1) }) {
			return true
		}
	}
	if len(s.PolicyTypes) > 0 && visit(func() { s.PolicyTypes = nil }) {
		return true
	}
	if walkSelector(&s.PodSelector, visit) {
		return true
	}
	for i := range s.Ingress {
		if walkRule(&s.Ingress[i].From, &s.Ingress[i].Ports, visit) {
			return true
		}
	}
	for i := range s.Egress {
		if walkRule(&s.Egress[i].To, &s.Egress[i].Ports, visit) {
			return true
		}
	}
	return false
}

func walkRule(peers *[]networkingv1.NetworkPolicyPeer, ports *[]networkingv1.NetworkPolicyPort, visit func(func()) bool) bool {
	for i := range *peers {
		if visit(func() { *peers = slices.Delete(*peers, i, i+1) }) {
			return true
		}
	}
	for i := range *ports {
		if visit(func() { *ports = slices.Delete(*ports, i, i+1) }) {
			return true
		}
	}
	for i := range *peers {
		if walkPeer(&(*peers)[i], visit) {
			return true
		}
	}
	return false
}

func walkPeer(p *networkingv1.NetworkPolicyPeer, visit func(func()) bool) bool {
	if p.PodSelector != nil && p.NamespaceSelector != nil {
		if visit(func() { p.PodSelector = nil }) || visit(func() { p.NamespaceSelector = nil }) {
			return true
		}
	}
	if p.IPBlock != nil {
		for i := range p.IPBlock.Except {
			if visit(func() { p.IPBlock.Except = slices.Delete(p.IPBlock.Except, i, i+1) }) {
				return true
			}
		}
	}
	for _, sel := range []*metav1.LabelSelector{p.PodSelector, p.NamespaceSelector} {
		if sel != nil && walkSelector(sel, visit) {
			return true
		}
	}
	return false
}

func walkSelector(s *metav1.LabelSelector, visit func(func()) bool) bool {
	for _, k := range slices.Sorted(maps.Keys(s.MatchLabels)) {
		if visit(func() { delete(s.MatchLabels, k) }) {
			return true
		}
	}
	for i := range s.MatchExpressions {
		if visit(func() { s.MatchExpressions = slices.Delete(s.MatchExpressions, i, i+1) }) {
			return true
		}
	}
	return false
}
