package evaluator_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Random clusters compared between the engines. A case is reproduced by
// its seed and index: FLOWPOL_DIFF_SEED=<seed> FLOWPOL_DIFF_CASES=<index+1>.

const (
	defaultSeed  = 20260722
	defaultCases = 4000
)

// randomPorts are the probed ports: those the generator puts on containers
// and in rules, and 9000, which only ends ranges.
func randomPorts() []uint16 { return []uint16{80, 81, 443, 8080, 9000} }

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
	t.Chdir(t.TempDir()) // netpol-analyzer's cache log stays out of the tree
	start := time.Now()
	var n tally
	for i := range cases {
		w := newGenerator(seed, i).world()
		rs, err := compare(w, w, randomPorts())
		if err != nil {
			t.Fatalf("seed %d case %d: %v\n%s", seed, i, err, dumpWorld(w))
		}
		if len(disagreements(rs)) > 0 {
			small := shrink(w, func(c *world) bool { return disagrees(c, c) })
			t.Fatalf("seed %d case %d: the engines disagree; smallest case:\n%s", seed, i, describe(small, randomPorts()))
		}
		n.add(rs)
	}
	t.Logf("seed %d: %d cases, %d probes (%d with an address), %d allowed, in %v",
		seed, cases, n.probes, n.addr, n.allowed, time.Since(start).Round(time.Millisecond))
	// Agreement proves little if the policies allow (or deny) nearly
	// everything: the generator would not be exercising the rules.
	if cases >= 100 && (n.allowed < n.probes/10 || n.probes-n.allowed < n.probes/10) {
		t.Errorf("%d of %d probes allowed: the generated policies are too lax or too strict to compare the engines", n.allowed, n.probes)
	}
}

type tally struct{ probes, addr, allowed int }

func (n *tally) add(rs []result) {
	for _, r := range rs {
		n.probes++
		if isAddr(r.src) || isAddr(r.dst) {
			n.addr++
		}
		if r.ours {
			n.allowed++
		}
	}
}

// disagrees reports whether the engines, given ours and theirs, disagree
// on a probe; a world netpol-analyzer rejects does not count.
func disagrees(ours, theirs *world) bool {
	rs, err := compare(ours, theirs, randomPorts())
	return err == nil && len(disagreements(rs)) > 0
}

// TestShrinkNegativeControl checks that the comparison catches a
// difference and that the shrinker brings it down to its cause: flowpol is
// given a deny-all policy that netpol-analyzer is not, on top of random
// policies, which only make netpol-analyzer deny more and so can all go.
func TestShrinkNegativeControl(t *testing.T) {
	t.Chdir(t.TempDir())
	seed, _ := diffSettings(t)
	const target = "target"
	for i := range 100 {
		w := newGenerator(seed, 1<<32+i).world()
		w.policies = append(w.policies, policy(w.namespaces[0].Name, target, networkingv1.NetworkPolicySpec{PolicyTypes: policyTypes(ing, egr)}))
		failing := func(c *world) bool { return disagrees(c, withoutPolicy(c, target)) }
		if len(w.policies) < 3 || !failing(w) {
			continue
		}
		small := shrink(w, failing)
		if len(small.policies) != 1 || small.policies[0].Name != target {
			t.Errorf("shrunk to %d policies, want only %s:\n%s", len(small.policies), target, dumpWorld(small))
		}
		if len(small.pods)+len(small.addrs) > 2 || len(small.namespaces) != 1 {
			t.Errorf("shrunk to %d pods, %d addresses, %d namespaces; one probe needs two ends in one namespace:\n%s",
				len(small.pods), len(small.addrs), len(small.namespaces), dumpWorld(small))
		}
		if !failing(small) {
			t.Error("the shrunk case no longer shows the difference")
		}
		return
	}
	t.Fatal("no generated world with three policies shows the planted difference")
}

func withoutPolicy(w *world, name string) *world {
	c := w.clone()
	c.policies = slices.DeleteFunc(c.policies, func(p networkingv1.NetworkPolicy) bool { return p.Name == name })
	return c
}

// generator makes random worlds. Names and values come from small pools
// so that selectors often match and often miss.
type generator struct {
	rng *rand.Rand
	// nsLabels are the namespaces' labels; nsSel what namespace
	// selectors ask for: those, the name label, and a value none has.
	nsLabels, nsSel map[string][]string
	// podLabels are the pods' labels; podSel what pod selectors ask for.
	podLabels, podSel map[string][]string
	portNames         []string
	ports             []int32 // on containers and in rules
	// addrs are the addresses outside the pods; the blocks are built
	// around them.
	addrs []netip.Addr
}

func newGenerator(seed uint64, index int) *generator {
	return &generator{
		rng:       rand.New(rand.NewPCG(seed, uint64(index))),
		nsLabels:  map[string][]string{"team": {"a", "b"}, "env": {"prod", "dev"}, "tier": {"a", "b"}},
		nsSel:     map[string][]string{"team": {"a", "b", "c"}, "env": {"prod", "dev"}, "tier": {"a"}, corev1.LabelMetadataName: {"x", "y", "z"}},
		podLabels: map[string][]string{"app": {"a", "b", "c"}, "role": {"web", "db"}, "tier": {"a", "b"}},
		podSel:    map[string][]string{"app": {"a", "b", "d"}, "role": {"web", "db"}, "tier": {"a", "b"}},
		portNames: []string{"http", "web", "dns", "alt"},
		ports:     []int32{80, 81, 443, 8080},
		addrs: []netip.Addr{
			netip.MustParseAddr("192.168.1.10"), netip.MustParseAddr("192.168.1.200"),
			netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("172.16.5.4"), netip.MustParseAddr("8.8.8.8"),
		},
	}
}

// world makes two or three namespaces with one to three pods each, and up
// to five policies. No pod is hostNetwork (see differential_test.go).
func (g *generator) world() *world {
	w := &world{addrs: slices.Clone(g.addrs)}
	for _, ns := range []string{"x", "y", "z"}[:2+g.rng.IntN(2)] {
		l := g.labels(g.nsLabels)
		l[corev1.LabelMetadataName] = ns
		w.namespaces = append(w.namespaces, corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: l}})
		for i := range 1 + g.rng.IntN(3) {
			w.pods = append(w.pods, g.pod(ns, fmt.Sprintf("p%d", i)))
		}
	}
	for i := range g.rng.IntN(6) {
		ns := w.namespaces[g.rng.IntN(len(w.namespaces))].Name
		w.policies = append(w.policies, g.policy(ns, fmt.Sprintf("np%d", i)))
	}
	return w
}

func (g *generator) labels(vals map[string][]string) map[string]string {
	l := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(vals)) {
		if g.rng.IntN(3) > 0 {
			l[k] = pick(g.rng, vals[k])
		}
	}
	return l
}

func pick[T any](rng *rand.Rand, s []T) T { return s[rng.IntN(len(s))] }

// pod makes a pod with up to three container ports, most of them named; a
// name is unique in the pod but means different ports on different pods.
func (g *generator) pod(ns, name string) corev1.Pod {
	var ports []corev1.ContainerPort
	names := slices.Clone(g.portNames)
	g.rng.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	for range g.rng.IntN(4) {
		proto := pick(g.rng, []corev1.Protocol{"", corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP})
		cp := corev1.ContainerPort{ContainerPort: pick(g.rng, g.ports), Protocol: proto}
		if slices.ContainsFunc(ports, func(p corev1.ContainerPort) bool {
			return p.ContainerPort == cp.ContainerPort && protoOrTCP(p.Protocol) == protoOrTCP(cp.Protocol)
		}) {
			continue
		}
		if g.rng.IntN(4) > 0 && len(names) > 0 {
			cp.Name, names = names[0], names[1:]
		}
		ports = append(ports, cp)
	}
	return corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: g.labels(g.podLabels)},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Ports: ports}}},
	}
}

func protoOrTCP(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
}

func (g *generator) policy(ns, name string) networkingv1.NetworkPolicy {
	spec := networkingv1.NetworkPolicySpec{
		PodSelector: *g.selector(g.podSel),
		PolicyTypes: pick(g.rng, [][]networkingv1.PolicyType{nil, nil, {ing}, {egr}, {ing, egr}}),
	}
	for range g.rng.IntN(3) {
		peers, ports := g.rule()
		spec.Ingress = append(spec.Ingress, networkingv1.NetworkPolicyIngressRule{From: peers, Ports: ports})
	}
	for range g.rng.IntN(3) {
		peers, ports := g.rule()
		spec.Egress = append(spec.Egress, networkingv1.NetworkPolicyEgressRule{To: peers, Ports: ports})
	}
	return networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: spec}
}

// rule makes peers (none, every peer, a quarter of the time) and ports
// (none, every port, a third of the time).
func (g *generator) rule() ([]networkingv1.NetworkPolicyPeer, []networkingv1.NetworkPolicyPort) {
	var peers []networkingv1.NetworkPolicyPeer
	if g.rng.IntN(4) > 0 {
		for range 1 + g.rng.IntN(2) {
			peers = append(peers, g.peer())
		}
	}
	var ports []networkingv1.NetworkPolicyPort
	if g.rng.IntN(3) > 0 {
		for range 1 + g.rng.IntN(2) {
			ports = append(ports, g.port())
		}
	}
	return peers, ports
}

func (g *generator) peer() networkingv1.NetworkPolicyPeer {
	switch g.rng.IntN(5) {
	case 0, 1:
		return networkingv1.NetworkPolicyPeer{PodSelector: g.selector(g.podSel)}
	case 2:
		return networkingv1.NetworkPolicyPeer{NamespaceSelector: g.selector(g.nsSel)}
	case 3:
		return networkingv1.NetworkPolicyPeer{PodSelector: g.selector(g.podSel), NamespaceSelector: g.selector(g.nsSel)}
	default:
		return networkingv1.NetworkPolicyPeer{IPBlock: g.block()}
	}
}

// selector is empty a quarter of the time, else matchLabels and
// matchExpressions (In, NotIn, Exists, DoesNotExist) over vals.
func (g *generator) selector(vals map[string][]string) *metav1.LabelSelector {
	s := &metav1.LabelSelector{}
	if g.rng.IntN(4) == 0 {
		return s
	}
	keys := slices.Sorted(maps.Keys(vals))
	for range g.rng.IntN(2) {
		k := pick(g.rng, keys)
		if s.MatchLabels == nil {
			s.MatchLabels = map[string]string{}
		}
		s.MatchLabels[k] = pick(g.rng, vals[k])
	}
	for range 1 + g.rng.IntN(2) {
		k := pick(g.rng, keys)
		op := pick(g.rng, []metav1.LabelSelectorOperator{metav1.LabelSelectorOpIn, metav1.LabelSelectorOpNotIn, metav1.LabelSelectorOpExists, metav1.LabelSelectorOpDoesNotExist})
		req := metav1.LabelSelectorRequirement{Key: k, Operator: op}
		if op == metav1.LabelSelectorOpIn || op == metav1.LabelSelectorOpNotIn {
			req.Values = []string{pick(g.rng, vals[k])}
			if v := pick(g.rng, vals[k]); g.rng.IntN(2) == 0 && v != req.Values[0] {
				req.Values = append(req.Values, v)
			}
		}
		s.MatchExpressions = append(s.MatchExpressions, req)
	}
	return s
}

// block is a block around one of the addresses, from /0 to /32, with up
// to two exceptions inside it.
func (g *generator) block() *networkingv1.IPBlock {
	bits := pick(g.rng, []int{0, 8, 16, 24, 32})
	cidr := netip.PrefixFrom(pick(g.rng, g.addrs), bits).Masked()
	b := &networkingv1.IPBlock{CIDR: cidr.String()}
	if bits == 32 || g.rng.IntN(2) == 0 {
		return b
	}
	inside := slices.DeleteFunc(slices.Clone(g.addrs), func(a netip.Addr) bool { return !cidr.Contains(a) })
	longer := slices.DeleteFunc([]int{16, 24, 25, 32}, func(n int) bool { return n <= bits })
	for range 1 + g.rng.IntN(2) {
		ex := netip.PrefixFrom(pick(g.rng, inside), pick(g.rng, longer)).Masked().String()
		if !slices.Contains(b.Except, ex) {
			b.Except = append(b.Except, ex)
		}
	}
	return b
}

// port is a numeric port (a range a third of the time), a named port
// (which some pods lack), or a protocol alone; the protocol is left out a
// third of the time (TCP).
func (g *generator) port() networkingv1.NetworkPolicyPort {
	var p networkingv1.NetworkPolicyPort
	if g.rng.IntN(3) > 0 {
		p.Protocol = new(pick(g.rng, allProtocols()))
	}
	switch g.rng.IntN(6) {
	case 0:
	case 1, 2:
		n := intstr.FromString(pick(g.rng, append(slices.Clone(g.portNames), "missing")))
		p.Port = &n
	default:
		start := pick(g.rng, g.ports)
		n := intstr.FromInt32(start)
		p.Port = &n
		if g.rng.IntN(3) == 0 {
			ends := slices.DeleteFunc([]int32{80, 81, 443, 8080, 9000}, func(e int32) bool { return e < start })
			p.EndPort = new(pick(g.rng, ends))
		}
	}
	return p
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
		if c := w.clone(); edit(c) {
			out = append(out, c)
		}
	}
	for i := range w.policies {
		try(func(c *world) bool { c.policies = slices.Delete(c.policies, i, i+1); return true })
	}
	for i := range w.pods {
		try(func(c *world) bool { c.pods = slices.Delete(c.pods, i, i+1); return true })
	}
	for i := range w.addrs {
		try(func(c *world) bool { c.addrs = slices.Delete(c.addrs, i, i+1); return true })
	}
	for i := range w.namespaces {
		try(func(c *world) bool { return removeEmptyNamespace(c, i) })
	}
	for i := range w.policies {
		for j := range policyEdits(&w.policies[i]) {
			try(func(c *world) bool { return editPolicy(&c.policies[i], j) })
		}
	}
	for i := range w.namespaces {
		for _, k := range slices.Sorted(maps.Keys(w.namespaces[i].Labels)) {
			if k != corev1.LabelMetadataName {
				try(func(c *world) bool { delete(c.namespaces[i].Labels, k); return true })
			}
		}
	}
	for i := range w.pods {
		for _, k := range slices.Sorted(maps.Keys(w.pods[i].Labels)) {
			try(func(c *world) bool { delete(c.pods[i].Labels, k); return true })
		}
		for j := range w.pods[i].Spec.Containers[0].Ports {
			try(func(c *world) bool {
				ps := &c.pods[i].Spec.Containers[0].Ports
				*ps = slices.Delete(*ps, j, j+1)
				return true
			})
		}
	}
	return out
}

func removeEmptyNamespace(c *world, i int) bool {
	ns := c.namespaces[i].Name
	if slices.ContainsFunc(c.pods, func(p corev1.Pod) bool { return p.Namespace == ns }) {
		return false
	}
	c.namespaces = slices.Delete(c.namespaces, i, i+1)
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
