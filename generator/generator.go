package generator

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"net/netip"
	"slices"
	"strings"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flowpol/flowpol/internal/duration"
	"github.com/flowpol/flowpol/overrides"
	"github.com/flowpol/flowpol/topology"
)

// Labels and annotations flowpol puts on what it generates.
const (
	LabelManagedBy      = "app.kubernetes.io/managed-by"
	ManagedBy           = "flowpol"
	AnnotationWindow    = "flowpol.io/window"
	AnnotationFirstSeen = "flowpol.io/first-seen"
	AnnotationLastSeen  = "flowpol.io/last-seen"
	AnnotationCount     = "flowpol.io/connections"
	AnnotationEvidence  = "flowpol.io/evidence"
	AnnotationOmitted   = "flowpol.io/omitted-peers"
	// AnnotationLB names, per port, the LoadBalancer and NodePort
	// Services whose ingress from outside a policy allows.
	AnnotationLB = "flowpol.io/load-balancers"
	// AnnotationObservedDays is the number of UTC days in the window with
	// traffic of the policy's workload.
	AnnotationObservedDays = "flowpol.io/observed-days"
	// AnnotationEstimated is, of the policy's connections, how many rest
	// on an estimate (see topology.EdgeStats.Estimated); only when some do.
	AnnotationEstimated = "flowpol.io/estimated-connections"
)

// Options tunes Generate. The zero value generates for every namespace.
type Options struct {
	// Namespace, when set, limits the policies to workloads in it; their
	// peers may be anywhere.
	Namespace string
	// SkipNamespaces get no policies; their workloads still appear as
	// peers.
	SkipNamespaces []string
	// MinCount and MinPods hold back an edge seen fewer times, or from
	// fewer pods (of the source workload, else of the destination), so a
	// stray connection does not become a rule unseen. Zero holds back
	// nothing.
	MinCount uint64
	MinPods  int
	// Overrides shape the policies: exclusions, extra peers, widened
	// external addresses, selectors, skipped workloads. Its SkipNamespaces,
	// when set, are the caller's to use in place of the default.
	Overrides *overrides.Set
	// DefaultDeny adds, to every namespace that gets policies, one that
	// selects all its pods and allows nothing, so that pods no generated
	// policy selects are isolated too.
	DefaultDeny bool
	// NodeCIDRs, when set, name the nodes in rules for node and
	// hostNetwork peers, in place of every node's address (a node address
	// seen outside them is named too).
	NodeCIDRs []netip.Prefix
	// LBObserved keeps, for ingress from outside through a LoadBalancer
	// or NodePort Service, only the addresses seen; false allows it as
	// the Service lets it in (see topology.LoadBalancer): from every node
	// with externalTrafficPolicy Cluster, from outside the cluster's
	// ranges (or the loadBalancerSourceRanges) with Local.
	LBObserved bool
	// MinCoverage holds back the policies of workloads observed over less
	// than this span (first to last seen in the window, any edge): too
	// short a look to trust. Zero holds back none.
	MinCoverage time.Duration
}

// Result is what Generate made, and what it could not.
type Result struct {
	Policies []networkingv1.NetworkPolicy
	// Warnings are sorted, one line each: peers left out of a policy
	// because no rule can name them, workloads with no stable labels.
	Warnings []string
	// HeldBack are the edges below a threshold, then the workloads
	// observed over less than MinCoverage (and the namespaces whose
	// default deny they would have cut off), one line each, sorted.
	HeldBack []string
	// Excluded are the edges the overrides excluded, and Unmatched the
	// overrides that matched nothing: a typo must not pass silently.
	Excluded  []string
	Unmatched []string
	// Isolated are the workloads a default-deny policy leaves with no
	// allowed traffic at all: no generated policy selects them.
	Isolated []string
}

// Generate makes the policies for a window.
func Generate(w *topology.Window, opts Options) *Result {
	g := newGen(w, opts)
	res := g.read()
	for _, ref := range g.refs() {
		if p, ok := g.policy(g.policies[ref]); ok {
			res.Policies = append(res.Policies, p)
		}
	}
	if opts.DefaultDeny {
		g.defaultDeny(res)
	}
	slices.SortFunc(res.Policies, func(a, b networkingv1.NetworkPolicy) int {
		return cmp.Or(strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
	})
	g.finish(res)
	return res
}

// read takes the window's edges into per-workload drafts, whatever the
// output format: exclusions, thresholds and the overrides' additions.
func (g *gen) read() *Result {
	res := &Result{}
	for _, e := range g.w.Edges {
		if line, ok := g.excluded(e); ok {
			res.Excluded = append(res.Excluded, fmt.Sprintf("%s: excluded by %s:%d", e.Edge, g.ov.File, line))
			continue
		}
		if why := g.below(e); why != "" {
			res.HeldBack = append(res.HeldBack, fmt.Sprintf("%s: %s", e.Edge, why))
			continue
		}
		g.addEdge(e)
	}
	g.addAllowed()
	res.HeldBack = append(res.HeldBack, g.holdShort()...)
	return res
}

// refs are the workloads with drafts, sorted.
func (g *gen) refs() []topology.WorkloadRef {
	refs := make([]topology.WorkloadRef, 0, len(g.policies))
	for ref := range g.policies {
		refs = append(refs, ref)
	}
	slices.SortFunc(refs, topology.WorkloadRef.Compare)
	return refs
}

// finish adds the warnings and the unmatched overrides to a result.
func (g *gen) finish(res *Result) {
	res.Warnings = append(g.warnings, g.rotatingNames()...)
	res.Warnings = append(res.Warnings, g.notRun()...)
	slices.Sort(res.Warnings)
	res.Warnings = slices.Compact(res.Warnings)
	res.Unmatched = g.unmatched()
}

type gen struct {
	w        *topology.Window
	opts     Options
	ov       *overrides.Set // never nil
	hits     map[int]bool   // override lines that matched
	skipped  map[string]bool
	collapse map[collapseKey]bool
	policies map[topology.WorkloadRef]*draft
	warnings []string
	named    map[namedKey][]netip.Addr // addresses reached through each name
	coverage map[topology.WorkloadRef]topology.Coverage
	short    map[string]bool // namespaces with workloads held back for MinCoverage
}

func newGen(w *topology.Window, opts Options) *gen {
	g := &gen{w: w, opts: opts, ov: opts.Overrides, hits: map[int]bool{}, skipped: map[string]bool{},
		policies: map[topology.WorkloadRef]*draft{}, coverage: w.Coverage(), short: map[string]bool{}}
	if g.ov == nil {
		g.ov = &overrides.Set{}
	}
	g.collapse = g.collapsing()
	return g
}

// draft collects one workload's rules.
type draft struct {
	ref             topology.WorkloadRef
	ingress, egress map[ruleKey]*ruleDraft
	extraIngress    []networkingv1.NetworkPolicyIngressRule
	extraEgress     []networkingv1.NetworkPolicyEgressRule
	allowed         []overrides.Allow // the overrides' additions, for other formats
	count           uint64
	estimated       uint64 // of count
	first, last     time.Time
	evidence        []string
	omitted         int
	lbs             []string // the load balancers allowed in, for AnnotationLB
	// ownNodeEgress are the ports seen from the workload to its own node:
	// no NetworkPolicy rule (NetworkPolicy always allows them), a Cilium
	// one (Cilium does not).
	ownNodeEgress []topology.PortProto
}

// ruleKey is a rule's peer: an end, or, for external addresses widened by
// the overrides, the block they were widened to.
type ruleKey struct {
	end    topology.End
	prefix netip.Prefix
	lb     string // ingress from outside through a load balancer: its Service and port
}

func (k ruleKey) compare(o ruleKey) int {
	if c := k.end.Compare(o.end); c != 0 {
		return c
	}
	return cmp.Or(k.prefix.Addr().Compare(o.prefix.Addr()), cmp.Compare(k.prefix.Bits(), o.prefix.Bits()),
		strings.Compare(k.lb, o.lb))
}

// nodesKey is the peer of every node: a node or hostNetwork peer, named
// by every node's address (or the node CIDRs), so that where the pods and
// the hostNetwork pods run does not matter.
var nodesKey = ruleKey{end: topology.End{Kind: topology.KindHost}}

func (k ruleKey) String() string {
	if k == nodesKey {
		return "every node"
	}
	if k.lb != "" {
		return "outside, through " + k.lb
	}
	if k.prefix.IsValid() {
		return "external/" + k.prefix.String()
	}
	return k.end.String()
}

type ruleDraft struct {
	peer  ruleKey
	ports []topology.PortProto
	names []string              // the DNS names that led to an external peer
	addrs []netip.Addr          // for the nodes' key and a load balancer's, the addresses seen
	lb    topology.LoadBalancer // for a load balancer's key
}

// below says why an edge is below a threshold, or nothing.
func (g *gen) below(e topology.EdgeStats) string {
	if e.Count < g.opts.MinCount {
		return fmt.Sprintf("%d connections, fewer than %d", e.Count, g.opts.MinCount)
	}
	pods := e.SrcPods
	if e.Src.Kind != topology.KindWorkload {
		pods = e.DstPods
	}
	if pods < g.opts.MinPods {
		return fmt.Sprintf("seen from %d pods, fewer than %d", pods, g.opts.MinPods)
	}
	return ""
}

func (g *gen) wants(e topology.End) bool {
	if e.Kind != topology.KindWorkload {
		return false
	}
	ns := e.Workload.Namespace
	if slices.Contains(g.opts.SkipNamespaces, ns) {
		g.skipped[ns] = true
		return false
	}
	for _, sw := range g.ov.SkipWorkloads {
		if sw.Ref == e.Workload {
			g.hits[sw.Line] = true
			return false
		}
	}
	return g.opts.Namespace == "" || ns == g.opts.Namespace
}

func (g *gen) draftFor(ref topology.WorkloadRef) *draft {
	d := g.policies[ref]
	if d == nil {
		d = &draft{ref: ref, ingress: map[ruleKey]*ruleDraft{}, egress: map[ruleKey]*ruleDraft{}}
		g.policies[ref] = d
	}
	return d
}

func (g *gen) addEdge(e topology.EdgeStats) {
	ports := g.ports(e)
	if g.wants(e.Src) {
		d := g.draftFor(e.Src.Workload)
		d.add(d.egress, g.key(e.Src.Workload, true, e.Dst), e.Dst, ports, e, "egress to", topology.LoadBalancer{})
		g.noteNames(e)
	}
	if g.wants(e.Dst) {
		d := g.draftFor(e.Dst.Workload)
		key := g.key(e.Dst.Workload, false, e.Src)
		lb, ok := g.loadBalancer(e)
		if ok {
			key = ruleKey{end: topology.End{Kind: topology.KindExternal}, lb: fmt.Sprintf("%s %d/%s", lb.Service, lb.Port.Port, lb.Port.Proto)}
		}
		d.add(d.ingress, key, e.Src, ports, e, "ingress from", lb)
	}
}

// loadBalancer is the LoadBalancer or NodePort Service an edge from
// outside the pods (an external address, or a node's, SNAT'd) reached
// its destination through, unless LBObserved. A Service with
// externalTrafficPolicy Cluster only answers for a node's address.
func (g *gen) loadBalancer(e topology.EdgeStats) (topology.LoadBalancer, bool) {
	if g.opts.LBObserved || (e.Src.Kind != topology.KindExternal && e.Src.Kind != topology.KindHost) {
		return topology.LoadBalancer{}, false
	}
	pp := topology.PortProto{Port: e.Port, Proto: e.Proto}
	for _, lb := range g.w.Workloads[e.Dst.Workload].LoadBalancers {
		if lb.Port == pp && (lb.Local || e.Src.Kind == topology.KindHost) {
			return lb, true
		}
	}
	return topology.LoadBalancer{}, false
}

func lbText(lb topology.LoadBalancer) string {
	policy := "Cluster"
	if lb.Local {
		policy = "Local"
	}
	return fmt.Sprintf("%s Service %s (externalTrafficPolicy %s)", lb.Type, lb.Service, policy)
}

// ports is an edge's port, or for DNS to the cluster's DNS pods, every DNS
// port they serve (UDP and TCP 53), since a resolver falls back to TCP.
func (g *gen) ports(e topology.EdgeStats) []topology.PortProto {
	pp := topology.PortProto{Port: e.Port, Proto: e.Proto}
	if e.Dst.Kind == topology.KindWorkload {
		if dns := g.w.Workloads[e.Dst.Workload].DNSPorts; slices.Contains(dns, pp) {
			return dns
		}
	}
	return []topology.PortProto{pp}
}

func (d *draft) add(rules map[ruleKey]*ruleDraft, peer ruleKey, end topology.End, ports []topology.PortProto, e topology.EdgeStats, dir string, lb topology.LoadBalancer) {
	d.count += e.Count
	d.estimated += e.Estimated
	if d.first.IsZero() || e.First.Before(d.first) {
		d.first = e.First
	}
	if e.Last.After(d.last) {
		d.last = e.Last
	}
	if end.Kind == topology.KindOwnNode {
		if dir == "egress to" {
			for _, p := range ports {
				if !slices.Contains(d.ownNodeEgress, p) {
					d.ownNodeEgress = append(d.ownNodeEgress, p)
				}
			}
		}
		d.evidence = append(d.evidence, fmt.Sprintf("%s %s on %d/%s: %s, %s to %s: no rule, NetworkPolicy always allows a pod and its own node",
			dir, peer, e.Port, e.Proto, edgeConnections(e), stamp(e.First), stamp(e.Last)))
		return
	}
	r := rules[peer]
	if r == nil {
		r = &ruleDraft{peer: peer, lb: lb}
		rules[peer] = r
	}
	for _, p := range ports {
		if !slices.Contains(r.ports, p) {
			r.ports = append(r.ports, p)
		}
	}
	r.names = union(r.names, e.Names)
	collects := peer == nodesKey || peer.lb != ""
	if collects && end.Addr.IsValid() && !slices.Contains(r.addrs, end.Addr) {
		r.addrs = append(r.addrs, end.Addr)
	}
	through := ""
	if peer.lb != "" {
		through = " (through " + lbText(lb) + ")"
		d.lbs = append(d.lbs, fmt.Sprintf("%d/%s: %s", lb.Port.Port, lb.Port.Proto, lbText(lb)))
	}
	if collects {
		peer = ruleKey{end: end} // the evidence names the peer seen
	}
	d.evidence = append(d.evidence, fmt.Sprintf("%s %s on %d/%s: %s, %s to %s%s%s",
		dir, peer, e.Port, e.Proto, edgeConnections(e), stamp(e.First), stamp(e.Last), through, namesEvidence(e)))
}

// edgeConnections is an edge's count as evidence says it, with how many
// of them are estimated when any are.
func edgeConnections(e topology.EdgeStats) string {
	if e.Estimated == 0 {
		return connections(e.Count)
	}
	return fmt.Sprintf("%s (%d estimated: no server reported, split among the Service's workloads as their servers reported at other times, or evenly)", connections(e.Count), e.Estimated)
}

func connections(n uint64) string {
	if n == 1 {
		return "1 connection"
	}
	return fmt.Sprintf("%d connections", n)
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// windowAnnotation is the window's bounds, and when the baseline said at
// which bucket widths it answered, each part with its width, oldest first:
// "FROM/MID at 1h, MID/TO at 1m".
func windowAnnotation(w *topology.Window) string {
	if len(w.Resolution) == 0 {
		return stamp(w.From) + "/" + stamp(w.To)
	}
	parts := make([]string, len(w.Resolution))
	for i, sp := range w.Resolution {
		parts[i] = stamp(sp.From) + "/" + stamp(sp.To) + " at " + duration.Format(sp.Bucket)
	}
	return strings.Join(parts, ", ")
}

// PolicyName is flowpol-<kind>-<name>, shortened with a hash when it would
// not fit a name.
func PolicyName(ref topology.WorkloadRef) string {
	name := "flowpol-" + strings.ToLower(ref.Kind) + "-" + ref.Name
	if len(name) <= 253 {
		return name
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	return fmt.Sprintf("%s-%08x", name[:244], h.Sum32())
}

func (g *gen) policy(d *draft) (networkingv1.NetworkPolicy, bool) {
	wl, ok := g.workload(d.ref)
	if !ok || wl.Selector == nil {
		g.warnings = append(g.warnings, fmt.Sprintf("%s: no policy: its pods have no stable labels to select them by", d.ref))
		return networkingv1.NetworkPolicy{}, false
	}
	for _, o := range wl.Overlaps {
		g.warnings = append(g.warnings, fmt.Sprintf("%s: its selector also selects the pods of %s, which get its rules too", d.ref, o))
	}
	p := networkingv1.NetworkPolicy{
		TypeMeta: metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: metav1.ObjectMeta{
			Name: PolicyName(d.ref), Namespace: d.ref.Namespace,
			Labels: map[string]string{LabelManagedBy: ManagedBy},
		},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: *wl.Selector.DeepCopy(),
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
		},
	}
	for _, r := range sortedRules(d.ingress) {
		if peers, ok := g.peers(d, r); ok {
			p.Spec.Ingress = append(p.Spec.Ingress, networkingv1.NetworkPolicyIngressRule{From: peers, Ports: npPorts(r.ports)})
		}
	}
	for _, r := range sortedRules(d.egress) {
		if peers, ok := g.peers(d, r); ok {
			p.Spec.Egress = append(p.Spec.Egress, networkingv1.NetworkPolicyEgressRule{To: peers, Ports: npPorts(r.ports)})
		}
	}
	p.Spec.Ingress = append(p.Spec.Ingress, d.extraIngress...)
	p.Spec.Egress = append(p.Spec.Egress, d.extraEgress...)
	p.Annotations = g.annotations(d)
	return p, true
}

func (g *gen) annotations(d *draft) map[string]string {
	slices.Sort(d.evidence)
	a := map[string]string{
		AnnotationWindow:       windowAnnotation(g.w),
		AnnotationFirstSeen:    stamp(d.first),
		AnnotationLastSeen:     stamp(d.last),
		AnnotationCount:        fmt.Sprint(d.count),
		AnnotationEvidence:     strings.Join(d.evidence, "\n"),
		AnnotationObservedDays: fmt.Sprint(g.coverage[d.ref].Days),
	}
	if d.omitted > 0 {
		a[AnnotationOmitted] = fmt.Sprint(d.omitted)
	}
	if d.estimated > 0 {
		a[AnnotationEstimated] = fmt.Sprint(d.estimated)
	}
	if len(d.lbs) > 0 {
		slices.Sort(d.lbs)
		a[AnnotationLB] = strings.Join(slices.Compact(d.lbs), "\n")
	}
	return a
}

func sortedRules(m map[ruleKey]*ruleDraft) []*ruleDraft {
	out := make([]*ruleDraft, 0, len(m))
	for _, r := range m {
		slices.SortFunc(r.ports, comparePorts)
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *ruleDraft) int { return a.peer.compare(b.peer) })
	return out
}

func comparePorts(a, b topology.PortProto) int {
	return cmp.Or(cmp.Compare(a.Proto, b.Proto), cmp.Compare(a.Port, b.Port))
}

// WithOverrides returns the options with an overrides file's content: its
// skipped namespaces, when it lists any, replace the options' own.
func (o Options) WithOverrides(ov *overrides.Set) Options {
	o.Overrides = ov
	if ov != nil && ov.SkipNamespaces != nil {
		o.SkipNamespaces = ov.SkipNamespaces
	}
	return o
}

// InScope keeps the policies of the namespaces the options generate for,
// as a diff against what is there should compare them.
func (o Options) InScope(ps []networkingv1.NetworkPolicy) []networkingv1.NetworkPolicy {
	var out []networkingv1.NetworkPolicy
	for _, p := range ps {
		if (o.Namespace == "" || p.Namespace == o.Namespace) && !slices.Contains(o.SkipNamespaces, p.Namespace) {
			out = append(out, p)
		}
	}
	return out
}
