package generator_test

import (
	"cmp"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/flowpol/flowpol/baseline/boltdb"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/generator"
	"github.com/flowpol/flowpol/internal/npguard"
	"github.com/flowpol/flowpol/inventory"
	"github.com/flowpol/flowpol/overrides"
	"github.com/flowpol/flowpol/topology"
)

// These tests judge the generated policies with a NetworkPolicy engine that
// shares no code with flowpol: np-guard's netpol-analyzer. For every ordered
// pair of distinct pods (replicas never seen in the flows too) and every
// candidate port, the engine must allow exactly what the window saw between
// their workloads, or everything when no policy isolates either pod; and a
// workload must reach exactly the addresses and ports it was seen to use.

const (
	// crossHostIP is the node address every pod is given in the engine,
	// which refuses a pod without one. No check uses it, so the engine's
	// node-to-own-pod shortcut never decides a verdict.
	crossHostIP = "192.0.2.1"
	// crossPodIP stands in for a pod with no address yet; the engine
	// judges pods by their labels, never their addresses.
	crossPodIP = "192.0.2.2"
	// crossProbeAddr is an address no scenario talks to.
	crossProbeAddr = "203.0.113.99"
)

// crossScenario is a scenario under testdata (cluster.yaml and
// flows.jsonl) and the window to generate from.
type crossScenario struct {
	name   string
	dir    string
	until  string
	window time.Duration
	opts   generator.Options
}

func TestIndependentEngine(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	// The engine removes (and can write) a cache log in the working
	// directory: keep it out of the source tree.
	t.Chdir(t.TempDir())
	example := crossScenario{
		name: "example", dir: filepath.Join(root, "example"),
		until: "2026-11-22T12:00:00Z", window: 3 * time.Hour,
		opts: generator.Options{SkipNamespaces: []string{"kube-system"}},
	}
	tests := []crossScenario{
		example,
		{
			name: "dual stack, SCTP, NodePort", dir: filepath.Join(root, "scenarios", "dualstack"),
			until: "2026-11-22T12:00:00Z", window: 3 * time.Hour,
		},
		{
			name: "kube-system included", dir: filepath.Join(root, "example"),
			until: "2026-11-22T12:00:00Z", window: 3 * time.Hour,
		},
		{
			name: "overrides: an excluded edge, an added path", dir: filepath.Join(root, "example"),
			until: "2026-11-22T12:00:00Z", window: 3 * time.Hour,
			opts: generator.Options{SkipNamespaces: []string{"kube-system"}, Overrides: loadOverrides(t, filepath.Join(root, "overrides", "independent.yaml"))},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := learnCross(t, tt)
			checkCrossWorkloads(t, f)
			checkOmittedWarnings(t, f)
			checkNoOwnNodeRules(t, f)
			c := runCross(t, f, f.result.Policies)
			reportCross(t, c)
		})
	}
	t.Run("negative control", func(t *testing.T) { testCrossNegativeControl(t, learnCross(t, example)) })
}

func loadOverrides(tb testing.TB, path string) *overrides.Set {
	tb.Helper()
	ov, err := overrides.Load(path)
	if err != nil {
		tb.Fatal(err)
	}
	return ov
}

// crossFixture is a scenario learned and generated, with its pods.
type crossFixture struct {
	win    *topology.Window
	result *generator.Result
	opts   generator.Options
	inv    *inventory.Inventory
	pods   []*corev1.Pod // the pods with their own network namespace
	wlOf   map[*corev1.Pod]topology.WorkloadRef
	podsOf map[topology.WorkloadRef][]*corev1.Pod
}

func learnCross(tb testing.TB, sc crossScenario) *crossFixture {
	tb.Helper()
	inv, err := inventory.LoadFile(filepath.Join(sc.dir, "cluster.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	to, err := time.Parse(time.RFC3339, sc.until)
	if err != nil {
		tb.Fatalf("scenario %s: until: %v", sc.name, err)
	}
	win := learnWindow(tb, inv, filepath.Join(sc.dir, "flows.jsonl"), to.Add(-sc.window), to)
	return newCrossFixture(inv, win, sc.opts)
}

// newCrossFixture generates a window's policies and finds its pods.
func newCrossFixture(inv *inventory.Inventory, win *topology.Window, opts generator.Options) *crossFixture {
	f := &crossFixture{
		win: win, result: generator.Generate(win, opts), opts: opts, inv: inv,
		wlOf: map[*corev1.Pod]topology.WorkloadRef{}, podsOf: map[topology.WorkloadRef][]*corev1.Pod{},
	}
	for i := range inv.Pods {
		p := &inv.Pods[i]
		if p.Spec.HostNetwork {
			continue
		}
		ref := workloadOf(inv, p)
		f.pods = append(f.pods, p)
		f.wlOf[p] = ref
		f.podsOf[ref] = append(f.podsOf[ref], p)
	}
	return f
}

// learnWindow learns the flows into a new baseline and reads [from, to).
func learnWindow(tb testing.TB, inv *inventory.Inventory, flows string, from, to time.Time) *topology.Window {
	tb.Helper()
	return windowOf(tb, learnStore(tb, inv, flows, boltdb.Options{}), from, to)
}

// workloadOf follows a pod's controller references through the inventory
// to its top controller: Pod → ReplicaSet → Deployment (or, with the
// ReplicaSet missing, the Deployment its name and pod-template-hash point
// to), Pod → Job → CronJob, Pod → StatefulSet or DaemonSet. A pod with no
// controller is its own workload.
func workloadOf(inv *inventory.Inventory, p *corev1.Pod) topology.WorkloadRef {
	ctl := metav1.GetControllerOf(p)
	if ctl == nil {
		return topology.WorkloadRef{Namespace: p.Namespace, Kind: "Pod", Name: p.Name}
	}
	own := topology.WorkloadRef{Namespace: p.Namespace, Kind: ctl.Kind, Name: ctl.Name}
	switch ctl.Kind {
	case "ReplicaSet":
		return replicaSetWorkload(inv, p, own)
	case "Job":
		up, found := controllerIn(inv.Jobs, p.Namespace, ctl.Name, func(j *batchv1.Job) *metav1.ObjectMeta { return &j.ObjectMeta })
		if found && up != nil && up.Kind == "CronJob" {
			return topology.WorkloadRef{Namespace: p.Namespace, Kind: up.Kind, Name: up.Name}
		}
	}
	return own
}

func replicaSetWorkload(inv *inventory.Inventory, p *corev1.Pod, rs topology.WorkloadRef) topology.WorkloadRef {
	up, found := controllerIn(inv.ReplicaSets, rs.Namespace, rs.Name, func(r *appsv1.ReplicaSet) *metav1.ObjectMeta { return &r.ObjectMeta })
	if found {
		if up != nil {
			return topology.WorkloadRef{Namespace: rs.Namespace, Kind: up.Kind, Name: up.Name}
		}
		return rs
	}
	hash := p.Labels["pod-template-hash"]
	name, ok := strings.CutSuffix(rs.Name, "-"+hash)
	if !ok || hash == "" {
		return rs
	}
	if _, found := controllerIn(inv.Deployments, rs.Namespace, name, func(d *appsv1.Deployment) *metav1.ObjectMeta { return &d.ObjectMeta }); found {
		return topology.WorkloadRef{Namespace: rs.Namespace, Kind: "Deployment", Name: name}
	}
	return rs
}

// controllerIn finds the object ns/name in items and returns its
// controller reference (nil when it has none), and whether it was found.
func controllerIn[T any](items []T, ns, name string, meta func(*T) *metav1.ObjectMeta) (*metav1.OwnerReference, bool) {
	for i := range items {
		if m := meta(&items[i]); m.Namespace == ns && m.Name == name {
			return metav1.GetControllerOf(m), true
		}
	}
	return nil, false
}

// checkCrossWorkloads fails when the test's workloads are not the
// aggregator's: every verdict below would then be judged against the
// wrong workloads.
func checkCrossWorkloads(t *testing.T, f *crossFixture) {
	t.Helper()
	for ref := range f.win.Workloads {
		if len(f.podsOf[ref]) == 0 {
			t.Errorf("the aggregator has workload %s; the inventory's pods resolve to none such", ref)
		}
	}
	for ref := range f.podsOf {
		if _, ok := f.win.Workloads[ref]; !ok {
			t.Errorf("pods resolve to workload %s; the aggregator does not have it", ref)
		}
	}
}

// checkOmittedWarnings fails when an edge of an isolated workload with an
// unresolved end was left out without a warning.
func checkOmittedWarnings(t *testing.T, f *crossFixture) {
	t.Helper()
	m := newCrossModel(f.win, f.opts)
	for _, e := range f.win.Edges {
		for _, ends := range [][2]topology.End{{e.Src, e.Dst}, {e.Dst, e.Src}} {
			own, peer := ends[0], ends[1]
			if own.Kind != topology.KindWorkload || peer.Kind != topology.KindUnresolved || !m.isolated[own.Workload] {
				continue
			}
			want := fmt.Sprintf("%s: peer %s left out", own.Workload, peer)
			if !slices.ContainsFunc(f.result.Warnings, func(w string) bool { return strings.HasPrefix(w, want) }) {
				t.Errorf("no warning %q for edge %s; warnings: %q", want, e.Edge, f.result.Warnings)
			}
		}
	}
}

// checkNoOwnNodeRules: own-node traffic (kubelet probes, a node's agent
// on its own pods) needs no rule, so a policy names a node's address (but
// the API server's, which runs on a node) only for a workload seen with a
// node that was not its own.
func checkNoOwnNodeRules(t *testing.T, f *crossFixture) {
	t.Helper()
	nodes := f.win.Cluster.NodeAddrs()
	withHost := map[topology.WorkloadRef]bool{}
	for _, e := range f.win.Edges {
		if e.Src.Kind == topology.KindHost {
			withHost[e.Dst.Workload] = true
		}
		if e.Dst.Kind == topology.KindHost {
			withHost[e.Src.Workload] = true
		}
	}
	for i := range f.result.Policies {
		p := &f.result.Policies[i]
		for _, cidr := range policyCIDRs(p) {
			pfx, err := netip.ParsePrefix(cidr)
			if err != nil {
				t.Fatal(err)
			}
			named := slices.ContainsFunc(nodes, func(a netip.Addr) bool { return pfx.Bits() == a.BitLen() && pfx.Addr() == a }) &&
				!slices.ContainsFunc(f.win.Cluster.APIServer, func(ap netip.AddrPort) bool { return ap.Addr() == pfx.Addr() })
			if named && !f.podsOfPolicy(p, withHost) {
				t.Errorf("policy %s/%s names node address %s, but its workload was seen with no node other than its own", p.Namespace, p.Name, cidr)
			}
		}
	}
}

// podsOfPolicy reports whether the policy is that of a workload in refs.
func (f *crossFixture) podsOfPolicy(p *networkingv1.NetworkPolicy, refs map[topology.WorkloadRef]bool) bool {
	for ref := range refs {
		if ref.Namespace == p.Namespace && "flowpol-"+strings.ToLower(ref.Kind)+"-"+ref.Name == p.Name {
			return true
		}
	}
	return false
}

func policyCIDRs(p *networkingv1.NetworkPolicy) []string {
	var out []string
	for _, r := range p.Spec.Ingress {
		for _, peer := range r.From {
			if peer.IPBlock != nil {
				out = append(out, peer.IPBlock.CIDR)
			}
		}
	}
	for _, r := range p.Spec.Egress {
		for _, peer := range r.To {
			if peer.IPBlock != nil {
				out = append(out, peer.IPBlock.CIDR)
			}
		}
	}
	return out
}

// crossEnd is one end of a connection as a policy names it: a workload,
// or an address.
type crossEnd struct {
	wl   topology.WorkloadRef
	addr netip.Addr
}

func (e crossEnd) isAddr() bool { return e.addr.IsValid() }

type crossConn struct {
	src, dst crossEnd
	pp       topology.PortProto
}

// crossModel is what the window says the policies must allow.
type crossModel struct {
	seen     map[crossConn]bool            // seen in the window, DNS widened to every DNS port
	isolated map[topology.WorkloadRef]bool // workloads that get a policy
	nameable map[topology.WorkloadRef]bool // workloads a rule can select
	ov       *overrides.Set                // nil without overrides
	// lbs are the load balancers ingress from outside was seen through,
	// by workload and target port: they let in more than was seen.
	lbs     map[lbKey]topology.LoadBalancer
	cluster topology.Cluster
}

type lbKey struct {
	wl topology.WorkloadRef
	pp topology.PortProto
}

func newCrossModel(win *topology.Window, opts generator.Options) *crossModel {
	m := &crossModel{seen: map[crossConn]bool{}, isolated: map[topology.WorkloadRef]bool{}, nameable: map[topology.WorkloadRef]bool{}, ov: opts.Overrides,
		lbs: map[lbKey]topology.LoadBalancer{}, cluster: win.Cluster}
	for ref, wl := range win.Workloads {
		m.nameable[ref] = wl.Selector != nil
	}
	for _, e := range win.Edges {
		if m.ov != nil {
			if _, excluded := m.ov.Excludes(e); excluded {
				continue // as if never seen: denied where an end is isolated
			}
		}
		m.isolate(e.Src, opts)
		m.isolate(e.Dst, opts)
		m.throughLB(win, e, opts)
		for _, s := range namedEnds(win, e.Src) {
			for _, d := range namedEnds(win, e.Dst) {
				for _, pp := range widenedPorts(win, e) {
					m.seen[crossConn{s, d, pp}] = true
				}
			}
		}
	}
	return m
}

func (m *crossModel) isolate(e topology.End, opts generator.Options) {
	if e.Kind != topology.KindWorkload || !m.nameable[e.Workload] {
		return
	}
	ns := e.Workload.Namespace
	if (opts.Namespace == "" || opts.Namespace == ns) && !slices.Contains(opts.SkipNamespaces, ns) {
		m.isolated[e.Workload] = true
	}
}

// namedEnds are the ends a rule can name for an edge's end: the workload,
// an external address, for a node (or hostNetwork pod) every node's
// address and its own, or every API server address. An unresolved end has
// none, and the own node needs none: NetworkPolicy always allows it.
func namedEnds(win *topology.Window, e topology.End) []crossEnd {
	switch e.Kind {
	case topology.KindWorkload:
		return []crossEnd{{wl: e.Workload}}
	case topology.KindHost:
		var out []crossEnd
		for _, a := range append(win.Cluster.NodeAddrs(), e.Addr) {
			if a.IsValid() && !slices.Contains(out, crossEnd{addr: a}) {
				out = append(out, crossEnd{addr: a})
			}
		}
		return out
	case topology.KindExternal:
		if e.Addr.IsValid() {
			return []crossEnd{{addr: e.Addr}}
		}
	case topology.KindAPIServer:
		var out []crossEnd
		for _, ap := range win.Cluster.APIServer {
			out = append(out, crossEnd{addr: ap.Addr()})
		}
		return out
	}
	return nil
}

// widenedPorts is an edge's port, or every DNS port of a DNS server when
// the edge reached one of them: a resolver falls back from UDP to TCP.
func widenedPorts(win *topology.Window, e topology.EdgeStats) []topology.PortProto {
	pp := topology.PortProto{Port: e.Port, Proto: e.Proto}
	if e.Dst.Kind == topology.KindWorkload {
		if dns := win.Workloads[e.Dst.Workload].DNSPorts; slices.Contains(dns, pp) {
			return dns
		}
	}
	return []topology.PortProto{pp}
}

// throughLB notes the load balancer an edge from outside the pods came
// in through: a LoadBalancer or NodePort Service on its target port, with
// externalTrafficPolicy Local (the client's address kept) or reached from
// a node (SNAT'd).
func (m *crossModel) throughLB(win *topology.Window, e topology.EdgeStats, opts generator.Options) {
	if opts.LBObserved || e.Dst.Kind != topology.KindWorkload || (e.Src.Kind != topology.KindExternal && e.Src.Kind != topology.KindHost) {
		return
	}
	pp := topology.PortProto{Port: e.Port, Proto: e.Proto}
	for _, lb := range win.Workloads[e.Dst.Workload].LoadBalancers {
		if lb.Port == pp && (lb.Local || e.Src.Kind == topology.KindHost) {
			m.lbs[lbKey{e.Dst.Workload, pp}] = lb
		}
	}
}

// lbAdmits reports whether a load balancer seen in front of the
// connection's destination lets its source in: with
// externalTrafficPolicy Local any address outside the cluster's ranges
// (within loadBalancerSourceRanges when set), with Cluster every node.
func (m *crossModel) lbAdmits(c crossConn) bool {
	if !c.src.isAddr() || c.dst.isAddr() {
		return false
	}
	lb, ok := m.lbs[lbKey{c.dst.wl, c.pp}]
	switch {
	case !ok:
		return false
	case !lb.Local:
		return slices.Contains(m.cluster.NodeAddrs(), c.src.addr)
	case slices.ContainsFunc(m.cluster.Ranges, func(p netip.Prefix) bool { return p.Contains(c.src.addr) }):
		return false
	}
	return len(lb.SourceRanges) == 0 || slices.ContainsFunc(lb.SourceRanges, func(p netip.Prefix) bool { return p.Contains(c.src.addr) })
}

// allows is the expected verdict: an isolated end needs a rule for the
// other, and there is a rule only for what was seen and only when its peer
// can be named. Addresses are never isolated.
func (m *crossModel) allows(c crossConn) bool {
	seen := m.seen[c]
	egress := c.src.isAddr() || !m.isolated[c.src.wl] || seen && (c.dst.isAddr() || m.nameable[c.dst.wl]) || m.extra(c, false)
	ingress := c.dst.isAddr() || !m.isolated[c.dst.wl] || seen && (c.src.isAddr() || m.nameable[c.src.wl]) || m.extra(c, true) || m.lbAdmits(c)
	return egress && ingress
}

// extra reports a rule the overrides add for the connection: at the
// destination for ingress, at the source for egress.
func (m *crossModel) extra(c crossConn, ingress bool) bool {
	if m.ov == nil {
		return false
	}
	self, other := c.src, c.dst
	if ingress {
		self, other = c.dst, c.src
	}
	for _, a := range m.ov.Allow {
		if a.Ingress != ingress || self.isAddr() || self.wl != a.Workload || !m.isolated[a.Workload] {
			continue
		}
		if !allowedPeer(a.Peer, other) {
			continue
		}
		if len(a.Ports) == 0 || slices.ContainsFunc(a.Ports, func(p overrides.Ports) bool { return p.Contains(c.pp.Port, c.pp.Proto) }) {
			return true
		}
	}
	return false
}

func allowedPeer(p overrides.Peer, e crossEnd) bool {
	switch {
	case p.Workload != nil:
		return !e.isAddr() && e.wl == *p.Workload
	case p.Namespace != "":
		return !e.isAddr() && e.wl.Namespace == p.Namespace
	}
	return e.isAddr() && p.Prefix.Contains(e.addr)
}

// crossVerdict is one check where the engine and the window disagree.
type crossVerdict struct {
	conn      crossConn
	src, dst  string // as given to the engine
	got, want bool
}

func (v crossVerdict) String() string {
	return fmt.Sprintf("%s -> %s on %d/%s: engine allows=%t, window expects %t", v.src, v.dst, v.conn.pp.Port, v.conn.pp.Proto, v.got, v.want)
}

// crossChecker asks the engine and compares with the model.
type crossChecker struct {
	tb         testing.TB
	pe         *npguard.Engine
	m          *crossModel
	done       map[checkKey]bool
	pairs      int // ordered pod pairs
	pairChecks int // checks of pod pairs; the rest are of addresses
	allowed    int
	skippedV6  int // IPv6 address probes, which the engine cannot evaluate
	bad        []crossVerdict
}

// runCross loads the pods and policies into the engine and checks every
// pod pair and every address probe.
func runCross(tb testing.TB, f *crossFixture, policies []networkingv1.NetworkPolicy) *crossChecker {
	tb.Helper()
	c := &crossChecker{tb: tb, pe: newCrossEngine(tb, f, policies), m: newCrossModel(f.win, f.opts), done: map[checkKey]bool{}}
	c.podPairs(f)
	c.pairChecks = len(c.done)
	c.addresses(f)
	return c
}

func newCrossEngine(tb testing.TB, f *crossFixture, policies []networkingv1.NetworkPolicy) *npguard.Engine {
	tb.Helper()
	var objs []runtime.Object
	known := map[string]bool{}
	for i := range f.inv.Namespaces {
		known[f.inv.Namespaces[i].Name] = true
		objs = append(objs, f.inv.Namespaces[i].DeepCopy())
	}
	for _, p := range f.pods {
		if !known[p.Namespace] { // the engine needs every pod's namespace
			known[p.Namespace] = true
			objs = append(objs, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: p.Namespace}})
		}
		objs = append(objs, enginePod(p))
	}
	for i := range policies {
		objs = append(objs, policies[i].DeepCopy())
	}
	pe, err := npguard.Start(tb).NewEngine()
	if err != nil {
		tb.Fatal(err)
	}
	for _, o := range objs {
		if err := pe.InsertObject(o); err != nil {
			tb.Fatalf("insert %T into the engine: %v", o, err)
		}
	}
	return pe
}

// enginePod is a pod as the engine is given it. Without owner references
// the engine caches no verdict per owner (nor logs its cache hits): each
// pod is judged on its own labels.
func enginePod(p *corev1.Pod) *corev1.Pod {
	q := p.DeepCopy()
	q.OwnerReferences = nil
	q.Status.HostIP = crossHostIP
	if len(q.Status.PodIPs) == 0 {
		q.Status.PodIPs = []corev1.PodIP{{IP: crossPodIP}}
	}
	return q
}

func isIPv6(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is6()
}

type checkKey struct {
	src, dst string
	pp       topology.PortProto
}

func (c *crossChecker) check(src, dst string, conn crossConn) {
	key := checkKey{src, dst, conn.pp}
	if c.done[key] {
		return
	}
	c.done[key] = true
	if isIPv6(src) || isIPv6(dst) {
		c.skippedV6++ // the engine evaluates IPv4 blocks only
		return
	}
	got, err := c.pe.CheckIfAllowed(src, dst, conn.pp.Proto.String(), strconv.Itoa(int(conn.pp.Port)))
	if err != nil {
		c.tb.Fatalf("engine on %s -> %s %d/%s: %v", src, dst, conn.pp.Port, conn.pp.Proto, err)
	}
	if got {
		c.allowed++
	}
	if want := c.m.allows(conn); got != want {
		c.bad = append(c.bad, crossVerdict{conn: conn, src: src, dst: dst, got: got, want: want})
	}
}

// podPairs checks every ordered pair of distinct pods on the destination's
// container ports, every port seen in the window, and DNS.
func (c *crossChecker) podPairs(f *crossFixture) {
	common := []topology.PortProto{{Port: 53, Proto: flow.UDP}, {Port: 53, Proto: flow.TCP}}
	for _, e := range f.win.Edges {
		common = append(common, topology.PortProto{Port: e.Port, Proto: e.Proto})
	}
	for _, s := range f.pods {
		for _, d := range f.pods {
			if s == d {
				continue
			}
			c.pairs++
			for _, pp := range candidatePorts(d, common) {
				c.check(podKey(s), podKey(d), crossConn{crossEnd{wl: f.wlOf[s]}, crossEnd{wl: f.wlOf[d]}, pp})
			}
		}
	}
}

func candidatePorts(dst *corev1.Pod, common []topology.PortProto) []topology.PortProto {
	out := slices.Clone(common)
	for _, ctr := range dst.Spec.Containers {
		for _, cp := range ctr.Ports {
			if proto, err := flow.ParseProto(string(cmp.Or(cp.Protocol, corev1.ProtocolTCP))); err == nil {
				out = append(out, topology.PortProto{Port: uint16(cp.ContainerPort), Proto: proto})
			}
		}
	}
	slices.SortFunc(out, func(a, b topology.PortProto) int {
		return cmp.Or(cmp.Compare(a.Proto, b.Proto), cmp.Compare(a.Port, b.Port))
	})
	return slices.Compact(out)
}

func podKey(p *corev1.Pod) string { return p.Namespace + "/" + p.Name }

// addrProbe is an address and port every pod is checked against, to it
// (out) or from it.
type addrProbe struct {
	addr netip.Addr
	pp   topology.PortProto
	out  bool
}

// addresses checks every pod, not only the workloads seen with them,
// against each address an edge has at one end (host, external, API server
// or unresolved) on the edge's port and the next port, and against a probe
// address on the edge's port.
func (c *crossChecker) addresses(f *crossFixture) {
	for _, pr := range addrProbes(f.win) {
		a := crossEnd{addr: pr.addr}
		for _, p := range f.pods {
			pod := crossEnd{wl: f.wlOf[p]}
			if pr.out {
				c.check(podKey(p), pr.addr.String(), crossConn{pod, a, pr.pp})
			} else {
				c.check(pr.addr.String(), podKey(p), crossConn{a, pod, pr.pp})
			}
		}
	}
}

func addrProbes(win *topology.Window) []addrProbe {
	var out []addrProbe
	for _, e := range win.Edges {
		src, dst := e.Src.Kind == topology.KindWorkload, e.Dst.Kind == topology.KindWorkload
		if src == dst {
			continue
		}
		addrEnd := e.Src
		if src {
			addrEnd = e.Dst
		}
		for _, a := range probeAddrs(win, addrEnd) {
			for _, port := range []uint16{e.Port, otherPort(e.Port)} {
				out = append(out, addrProbe{addr: a, pp: topology.PortProto{Port: port, Proto: e.Proto}, out: src})
			}
		}
	}
	return out
}

// probeAddrs are an end's addresses (an unresolved one too) and the probe
// address.
func probeAddrs(win *topology.Window, e topology.End) []netip.Addr {
	out := []netip.Addr{netip.MustParseAddr(crossProbeAddr)}
	if e.Kind == topology.KindUnresolved && e.Addr.IsValid() {
		out = append(out, e.Addr)
	}
	for _, n := range namedEnds(win, e) {
		out = append(out, n.addr)
	}
	return out
}

func otherPort(p uint16) uint16 {
	if p == 65535 {
		return p - 1
	}
	return p + 1
}

func reportCross(t *testing.T, c *crossChecker) {
	t.Helper()
	t.Logf("%d engine checks, %d allowed: %d ordered pod pairs on their candidate ports (%d checks), %d pod-address checks; %d IPv6 address probes not evaluated",
		len(c.done)-c.skippedV6, c.allowed, c.pairs, c.pairChecks, len(c.done)-c.pairChecks-c.skippedV6, c.skippedV6)
	if len(c.bad) == 0 {
		return
	}
	var b strings.Builder
	for _, v := range c.bad[:min(len(c.bad), 20)] {
		fmt.Fprintf(&b, "\n  %s", v)
	}
	t.Errorf("%d of %d engine verdicts disagree with the window, so the policies allow or deny other traffic than was seen:%s",
		len(c.bad), len(c.done), b.String())
}

// testCrossNegativeControl drops one rule from a generated policy and
// asserts the check reports exactly the traffic that rule allowed: if it
// did not, the check could pass whatever the policies said.
func testCrossNegativeControl(t *testing.T, f *crossFixture) {
	base := runCross(t, f, f.result.Policies)
	api := crossEnd{wl: topology.WorkloadRef{Namespace: "shop", Kind: "Deployment", Name: "api"}}
	frontend := crossEnd{wl: topology.WorkloadRef{Namespace: "shop", Kind: "Deployment", Name: "frontend"}}
	external := crossEnd{addr: netip.MustParseAddr("203.0.113.10")}
	tests := []struct {
		name   string
		policy string // namespace/name
		drop   func(*networkingv1.NetworkPolicySpec) bool
		want   crossConn // what the dropped rule allowed
	}{
		{"ingress from a workload", "shop/flowpol-deployment-api", dropIngressFrom("app", "frontend"),
			crossConn{frontend, api, topology.PortProto{Port: 8080, Proto: flow.TCP}}},
		{"egress to an address", "shop/flowpol-deployment-api", dropEgressTo("203.0.113.10/32"),
			crossConn{api, external, topology.PortProto{Port: 443, Proto: flow.TCP}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			policies := dropRule(t, f.result.Policies, tt.policy, tt.drop)
			got := newVerdicts(base.bad, runCross(t, f, policies).bad)
			want := len(f.podsOf[tt.want.src.wl]) * max(1, len(f.podsOf[tt.want.dst.wl])) // an address has no pods
			for _, v := range got {
				if v.conn != tt.want || v.got || !v.want {
					t.Errorf("dropping one rule changed an unrelated verdict: %s", v)
				}
			}
			if len(got) != want {
				t.Errorf("the check reported %d disagreements after the rule was dropped, want %d (one per pod): %v", len(got), want, got)
			}
		})
	}
}

// dropRule returns a copy of policies with one rule of the named policy
// removed.
func dropRule(tb testing.TB, policies []networkingv1.NetworkPolicy, name string, drop func(*networkingv1.NetworkPolicySpec) bool) []networkingv1.NetworkPolicy {
	tb.Helper()
	out := make([]networkingv1.NetworkPolicy, len(policies))
	found := false
	for i := range policies {
		policies[i].DeepCopyInto(&out[i])
		if out[i].Namespace+"/"+out[i].Name == name {
			found = drop(&out[i].Spec)
		}
	}
	if !found {
		tb.Fatalf("no rule to drop in policy %s", name)
	}
	return out
}

func dropIngressFrom(key, value string) func(*networkingv1.NetworkPolicySpec) bool {
	return func(s *networkingv1.NetworkPolicySpec) bool {
		i := slices.IndexFunc(s.Ingress, func(r networkingv1.NetworkPolicyIngressRule) bool {
			return slices.ContainsFunc(r.From, func(p networkingv1.NetworkPolicyPeer) bool {
				return p.PodSelector != nil && p.PodSelector.MatchLabels[key] == value
			})
		})
		if i >= 0 {
			s.Ingress = slices.Delete(s.Ingress, i, i+1)
		}
		return i >= 0
	}
}

func dropEgressTo(cidr string) func(*networkingv1.NetworkPolicySpec) bool {
	return func(s *networkingv1.NetworkPolicySpec) bool {
		i := slices.IndexFunc(s.Egress, func(r networkingv1.NetworkPolicyEgressRule) bool {
			return slices.ContainsFunc(r.To, func(p networkingv1.NetworkPolicyPeer) bool {
				return p.IPBlock != nil && p.IPBlock.CIDR == cidr
			})
		})
		if i >= 0 {
			s.Egress = slices.Delete(s.Egress, i, i+1)
		}
		return i >= 0
	}
}

// newVerdicts are the disagreements in after that were not in before.
func newVerdicts(before, after []crossVerdict) []crossVerdict {
	var out []crossVerdict
	for _, v := range after {
		if !slices.Contains(before, v) {
			out = append(out, v)
		}
	}
	return out
}
