package generator_test

import (
	"fmt"
	"net/netip"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/generator"
	"github.com/flowpol/flowpol/topology"
)

// These tests judge the CiliumNetworkPolicies with a reading of Cilium's
// L3/L4 policy semantics written here from Cilium's documentation, on the
// policies' YAML as kubectl would send it, sharing nothing with the
// generator's Go model:
//
//   - a policy selects the endpoints of its namespace its endpointSelector
//     matches; an endpoint is enforced in a direction when a policy that
//     selects it has a rule list there (an empty rule, "- {}", selects no
//     peer and only enforces);
//   - a selector key "k8s:x" or "x" matches the pod label x; an endpoint
//     also carries k8s:io.kubernetes.pod.namespace, and a peer selector
//     without it selects in the policy's own namespace only;
//   - entities: a node is host to its own pods and remote-node to others;
//     the API server is kube-apiserver; an outside address is world; pods
//     and nodes are cluster; every one is all;
//   - CIDRs select outside addresses only (the default
//     policy-cidr-match-mode selects no node or pod);
//   - toFQDNs matchName selects the addresses the name resolved to, and
//     only for a client whose DNS traffic to the DNS server goes through
//     an L7 DNS rule whose pattern covers the name;
//   - a rule with ports and no peer section allows every peer on them; no
//     toPorts allows every port; protocol ANY or none matches any.

// ciliumNames are the DNS answers of the tests: each name resolved to
// the addresses connected to and to one more, which the policy must allow
// too.
var ciliumNames = map[string][]netip.Addr{
	"payments.example.com": {netip.MustParseAddr("203.0.113.10"), netip.MustParseAddr("203.0.113.77")},
}

type ciliumScenario struct {
	crossScenario
	names bool // the external edges carry the names that led to them
}

func TestCiliumIndependentSemantics(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	example := crossScenario{
		name: "example", dir: filepath.Join(root, "example"),
		until: "2026-11-22T12:00:00Z", window: 3 * time.Hour,
		opts: generator.Options{SkipNamespaces: []string{"kube-system"}},
	}
	withNames := example
	withNames.name = "example, external reached by name"
	dd := withNames
	dd.name = "example, names, default deny"
	dd.opts.DefaultDeny = true
	ov := example
	ov.name = "overrides: an excluded edge, an added path"
	ov.opts.Overrides = loadOverrides(t, filepath.Join(root, "overrides", "independent.yaml"))
	tests := []ciliumScenario{
		{crossScenario: example},
		{crossScenario: withNames, names: true},
		{crossScenario: dd, names: true},
		{crossScenario: ov},
		{crossScenario: crossScenario{
			name: "dual stack, SCTP, NodePort", dir: filepath.Join(root, "scenarios", "dualstack"),
			until: "2026-11-22T12:00:00Z", window: 3 * time.Hour,
		}},
		{crossScenario: crossScenario{
			name: "kube-system included", dir: filepath.Join(root, "example"),
			until: "2026-11-22T12:00:00Z", window: 3 * time.Hour,
		}, names: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := learnCross(t, tt.crossScenario)
			if tt.names {
				addNames(f.win)
			}
			res, err := generator.GenerateCilium(f.win, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			o := readCilium(t, res)
			c := newCiliumCheck(f, tt.opts, o)
			c.run()
			c.report(t)
		})
	}
}

// TestCiliumNegativeControl drops the rule of one peer and asserts the
// check notices exactly that: a check that passed whatever the policies
// said would prove nothing.
func TestCiliumNegativeControl(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	f := learnCross(t, crossScenario{name: "example", dir: filepath.Join(root, "example"),
		until: "2026-11-22T12:00:00Z", window: 3 * time.Hour,
		opts: generator.Options{SkipNamespaces: []string{"kube-system"}}})
	addNames(f.win)
	opts := generator.Options{SkipNamespaces: []string{"kube-system"}}
	tests := []struct {
		name string
		edit func(rules []map[string]any) ([]map[string]any, bool) // the egress rules of shop/flowpol-deployment-api
		want string                                                // what the check must then report denied
	}{
		{"the name of an external", dropWhere(func(r map[string]any) bool { return r["toFQDNs"] != nil }), "203.0.113."},
		{"the DNS rule the names need", stripDNSRules, "203.0.113."},
		{"the API server entity", dropWhere(func(r map[string]any) bool { return slices.Contains(toStrings(r["toEntities"]), "kube-apiserver") }), "kube-apiserver"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := generator.GenerateCilium(f.win, opts)
			if err != nil {
				t.Fatal(err)
			}
			o := readCilium(t, res)
			dropped := false
			for _, p := range o.policies {
				if p.ns+"/"+p.name != "shop/flowpol-deployment-api" {
					continue
				}
				p.egressRaw, dropped = tt.edit(p.egressRaw)
				p.egress = compileRules(t, p.egressRaw)
			}
			if !dropped {
				t.Fatalf("no such rule in shop/flowpol-deployment-api")
			}
			c := newCiliumCheck(f, opts, o)
			c.run()
			if len(c.bad) == 0 {
				t.Fatal("dropping a rule changed no verdict")
			}
			for _, v := range c.bad {
				if v.got || !v.want || !strings.Contains(v.conn, tt.want) || !strings.Contains(v.conn, "shop/api-") {
					t.Errorf("dropping the rule changed an unrelated verdict: %s", v)
				}
			}
		})
	}
}

func dropWhere(drop func(map[string]any) bool) func([]map[string]any) ([]map[string]any, bool) {
	return func(rules []map[string]any) ([]map[string]any, bool) {
		n := len(rules)
		rules = slices.DeleteFunc(rules, drop)
		return rules, len(rules) < n
	}
}

// stripDNSRules removes the L7 DNS rules, leaving the DNS traffic allowed
// but not through Cilium's DNS proxy.
func stripDNSRules(rules []map[string]any) ([]map[string]any, bool) {
	found := false
	for _, r := range rules {
		prs, _ := maps(r["toPorts"])
		for _, pr := range prs {
			if _, ok := pr["rules"]; ok {
				delete(pr, "rules")
				found = true
			}
		}
	}
	return rules, found
}

// addNames gives each external edge whose address a test name resolved
// to that name, as DNS capture would.
func addNames(w *topology.Window) {
	for i, e := range w.Edges {
		if e.Dst.Kind != topology.KindExternal {
			continue
		}
		for name, addrs := range ciliumNames {
			if slices.Contains(addrs, e.Dst.Addr) {
				w.Edges[i].Names = append(w.Edges[i].Names, name)
			}
		}
	}
}

// ciliumOracle is the policy set as the reading above sees it.
type ciliumOracle struct {
	policies []*oraclePolicy
}

type oraclePolicy struct {
	ns, name             string
	selector             oracleSelector
	ingress, egress      []oracleRule
	ingressRaw           []map[string]any
	egressRaw            []map[string]any
	hasIngress, hasEgres bool
}

type oracleSelector struct {
	match map[string]string
	exprs []map[string]any
}

type oracleRule struct {
	hasPeer   bool
	endpoints []oracleSelector
	entities  []string
	cidrs     []netip.Prefix
	fqdns     []string
	ports     []oraclePort // nil: every port
}

type oraclePort struct {
	lo, hi int
	proto  string
	dns    []string // the patterns of an L7 DNS rule on the port
}

func readCilium(tb testing.TB, res *generator.CiliumResult) *ciliumOracle {
	tb.Helper()
	o := &ciliumOracle{}
	for i := range res.Cilium {
		b, err := yaml.Marshal(&res.Cilium[i])
		if err != nil {
			tb.Fatal(err)
		}
		var doc map[string]any
		if err := yaml.Unmarshal(b, &doc); err != nil {
			tb.Fatal(err)
		}
		if doc["apiVersion"] != "cilium.io/v2" || doc["kind"] != "CiliumNetworkPolicy" {
			tb.Fatalf("not a cilium.io/v2 CiliumNetworkPolicy:\n%s", b)
		}
		meta := doc["metadata"].(map[string]any)
		spec := doc["spec"].(map[string]any)
		p := &oraclePolicy{ns: meta["namespace"].(string), name: meta["name"].(string)}
		sel, ok := spec["endpointSelector"].(map[string]any)
		if !ok {
			tb.Fatalf("%s/%s: no endpointSelector", p.ns, p.name)
		}
		p.selector = compileSelector(sel)
		p.ingressRaw, p.hasIngress = maps(spec["ingress"])
		p.egressRaw, p.hasEgres = maps(spec["egress"])
		p.ingress = compileRules(tb, p.ingressRaw)
		p.egress = compileRules(tb, p.egressRaw)
		o.policies = append(o.policies, p)
	}
	return o
}

func maps(v any) ([]map[string]any, bool) {
	list, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]map[string]any, len(list))
	for i, x := range list {
		out[i], _ = x.(map[string]any)
	}
	return out, len(out) > 0
}

func toStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, len(list))
	for i, x := range list {
		out[i] = fmt.Sprint(x)
	}
	return out
}

func compileSelector(m map[string]any) oracleSelector {
	s := oracleSelector{match: map[string]string{}}
	if ml, ok := m["matchLabels"].(map[string]any); ok {
		for k, v := range ml {
			s.match[k] = fmt.Sprint(v)
		}
	}
	s.exprs, _ = maps(m["matchExpressions"])
	return s
}

func compileRules(tb testing.TB, raw []map[string]any) []oracleRule {
	tb.Helper()
	var out []oracleRule
	for _, r := range raw {
		var or oracleRule
		for _, key := range []string{"fromEndpoints", "toEndpoints"} {
			sels, ok := maps(r[key])
			or.hasPeer = or.hasPeer || ok
			for _, s := range sels {
				or.endpoints = append(or.endpoints, compileSelector(s))
			}
		}
		for _, key := range []string{"fromEntities", "toEntities"} {
			if e := toStrings(r[key]); len(e) > 0 {
				or.hasPeer = true
				or.entities = append(or.entities, e...)
			}
		}
		for _, key := range []string{"fromCIDRSet", "toCIDRSet"} {
			sets, ok := maps(r[key])
			or.hasPeer = or.hasPeer || ok
			for _, c := range sets {
				or.cidrs = append(or.cidrs, netip.MustParsePrefix(c["cidr"].(string)))
			}
		}
		fq, ok := maps(r["toFQDNs"])
		or.hasPeer = or.hasPeer || ok
		for _, f := range fq {
			or.fqdns = append(or.fqdns, f["matchName"].(string))
		}
		prs, hasPorts := maps(r["toPorts"])
		if hasPorts {
			or.ports = []oraclePort{}
		}
		for _, pr := range prs {
			var dns []string
			if rules, ok := pr["rules"].(map[string]any); ok {
				ds, _ := maps(rules["dns"])
				for _, d := range ds {
					dns = append(dns, fmt.Sprint(d["matchPattern"]))
				}
			}
			ports, _ := maps(pr["ports"])
			for _, p := range ports {
				lo, err := strconv.Atoi(fmt.Sprint(p["port"]))
				if err != nil {
					tb.Fatalf("port %v: %v", p["port"], err)
				}
				hi := lo
				if e, ok := p["endPort"].(float64); ok {
					hi = int(e)
				}
				proto, _ := p["protocol"].(string)
				or.ports = append(or.ports, oraclePort{lo: lo, hi: hi, proto: proto, dns: dns})
			}
		}
		out = append(out, or)
	}
	return out
}

// oracleEnd is one end of a connection as Cilium identifies it.
type oracleEnd struct {
	pod    *corev1.Pod // a pod's endpoint
	entity string      // else: host, remote-node, kube-apiserver or world
	addr   netip.Addr  // world: its address
}

func (e oracleEnd) String() string {
	if e.pod != nil {
		return e.pod.Namespace + "/" + e.pod.Name
	}
	if e.entity == "world" {
		return e.addr.String()
	}
	return e.entity
}

// labels are an endpoint's labels, with their source.
func (e oracleEnd) labels() map[string]string {
	out := map[string]string{"k8s:io.kubernetes.pod.namespace": e.pod.Namespace}
	for k, v := range e.pod.Labels {
		out["k8s:"+k] = v
	}
	return out
}

func (e oracleEnd) entities() []string {
	switch e.entity {
	case "":
		return []string{"cluster", "all"}
	case "host", "remote-node":
		return []string{e.entity, "cluster", "all"}
	case "world":
		if e.addr.Is4() {
			return []string{"world", "world-ipv4", "all"}
		}
		return []string{"world", "world-ipv6", "all"}
	}
	return []string{e.entity, "all"}
}

// matches reads a selector key as Cilium does: no source, or any:, is any
// source; the pods' labels are all from k8s.
func (s oracleSelector) matches(labels map[string]string, policyNS string, peer bool) bool {
	norm := func(k string) string {
		if src, rest, ok := strings.Cut(k, ":"); ok && (src == "k8s" || src == "any") {
			return "k8s:" + rest
		}
		return "k8s:" + k
	}
	hasNS := false
	for k, v := range s.match {
		k = norm(k)
		if k == "k8s:io.kubernetes.pod.namespace" {
			hasNS = true
		}
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	for _, x := range s.exprs {
		k := norm(x["key"].(string))
		got, has := labels[k]
		vals := toStrings(x["values"])
		switch x["operator"] {
		case "In":
			if !has || !slices.Contains(vals, got) {
				return false
			}
		case "NotIn":
			if has && slices.Contains(vals, got) {
				return false
			}
		case "Exists":
			if !has {
				return false
			}
		case "DoesNotExist":
			if has {
				return false
			}
		}
	}
	if peer && !hasNS {
		return labels["k8s:io.kubernetes.pod.namespace"] == policyNS
	}
	return true
}

func (p oraclePort) admits(pp topology.PortProto) bool {
	if p.proto != "" && p.proto != "ANY" && p.proto != pp.Proto.String() {
		return false
	}
	return p.lo == 0 || p.lo <= int(pp.Port) && int(pp.Port) <= p.hi
}

func (r oracleRule) portAdmits(pp topology.PortProto) bool {
	return r.ports == nil || slices.ContainsFunc(r.ports, func(p oraclePort) bool { return p.admits(pp) })
}

// selecting are the policies that select an endpoint for a direction.
func (o *ciliumOracle) selecting(e oracleEnd, ingress bool) []*oraclePolicy {
	var out []*oraclePolicy
	if e.pod == nil {
		return nil
	}
	for _, p := range o.policies {
		if p.ns == e.pod.Namespace && p.selector.matches(e.labels(), p.ns, false) && (ingress && p.hasIngress || !ingress && p.hasEgres) {
			out = append(out, p)
		}
	}
	return out
}

// allows decides a connection: egress at the source, ingress at the
// destination. resolve gives a name's addresses; dnsServers are the pods
// a client resolves names through.
func (o *ciliumOracle) allows(src, dst oracleEnd, pp topology.PortProto, dnsServers []oracleEnd) bool {
	return o.direction(src, dst, pp, false, dnsServers) && o.direction(dst, src, pp, true, dnsServers)
}

func (o *ciliumOracle) direction(self, other oracleEnd, pp topology.PortProto, ingress bool, dnsServers []oracleEnd) bool {
	pols := o.selecting(self, ingress)
	if len(pols) == 0 {
		return true
	}
	for _, p := range pols {
		rules := p.egress
		if ingress {
			rules = p.ingress
		}
		for _, r := range rules {
			if r.portAdmits(pp) && o.peerMatches(r, p.ns, self, other, dnsServers) {
				return true
			}
		}
	}
	return false
}

func (o *ciliumOracle) peerMatches(r oracleRule, ns string, self, other oracleEnd, dnsServers []oracleEnd) bool {
	if !r.hasPeer {
		return r.ports != nil // an L4-only rule; an empty one selects nothing
	}
	if other.pod != nil {
		for _, s := range r.endpoints {
			if s.matches(other.labels(), ns, true) {
				return true
			}
		}
	}
	for _, ent := range r.entities {
		if slices.Contains(other.entities(), ent) {
			return true
		}
	}
	if other.entity != "world" {
		return false
	}
	for _, c := range r.cidrs {
		if c.Contains(other.addr) {
			return true
		}
	}
	for _, name := range r.fqdns {
		if slices.Contains(ciliumNames[name], other.addr) && o.resolvesThroughProxy(self, name, dnsServers) {
			return true
		}
	}
	return false
}

// resolvesThroughProxy reports whether a client's lookups of a name pass
// Cilium's DNS proxy: an egress rule to a DNS server on 53/UDP with an L7
// DNS pattern that covers the name.
func (o *ciliumOracle) resolvesThroughProxy(client oracleEnd, name string, dnsServers []oracleEnd) bool {
	for _, p := range o.selecting(client, false) {
		for _, r := range p.egress {
			for _, port := range r.ports {
				if !port.admits(topology.PortProto{Port: 53, Proto: flow.UDP}) || !slices.ContainsFunc(port.dns, func(pat string) bool {
					ok, _ := path.Match(pat, name)
					return ok
				}) {
					continue
				}
				for _, d := range dnsServers {
					if o.peerMatches(oracleRule{hasPeer: r.hasPeer, endpoints: r.endpoints, entities: r.entities}, p.ns, client, d, nil) {
						return true
					}
				}
			}
		}
	}
	return false
}

// ciliumCheck compares the oracle with what the window saw.
type ciliumCheck struct {
	f          *crossFixture
	opts       generator.Options
	o          *ciliumOracle
	m          *crossModel
	seen       map[ciliumConn]bool
	dnsServers []oracleEnd
	ddNS       map[string]bool
	checks     int
	allowed    int
	bad        []ciliumVerdict
}

// ciliumConn is a connection between what a rule can name: workloads,
// "node", "apiserver", or outside addresses.
type ciliumConn struct {
	src, dst string
	pp       topology.PortProto
}

type ciliumVerdict struct {
	conn      string
	got, want bool
}

func (v ciliumVerdict) String() string {
	return fmt.Sprintf("%s: Cilium allows=%t, window expects %t", v.conn, v.got, v.want)
}

func newCiliumCheck(f *crossFixture, opts generator.Options, o *ciliumOracle) *ciliumCheck {
	c := &ciliumCheck{f: f, opts: opts, o: o, m: newCrossModel(f.win, opts), seen: map[ciliumConn]bool{}, ddNS: map[string]bool{}}
	for _, e := range f.win.Edges {
		if opts.Overrides != nil {
			if _, excluded := opts.Overrides.Excludes(e); excluded {
				continue
			}
		}
		for _, s := range modelEnds(e.Src, nil) {
			for _, d := range modelEnds(e.Dst, e.Names) {
				for _, pp := range widenedPorts(f.win, e) {
					c.seen[ciliumConn{s, d, pp}] = true
				}
			}
		}
	}
	for ref, wl := range f.win.Workloads {
		if len(wl.DNSPorts) > 0 {
			for _, p := range f.podsOf[ref] {
				c.dnsServers = append(c.dnsServers, oracleEnd{pod: p})
			}
		}
	}
	if opts.DefaultDeny {
		for ref := range c.m.isolated {
			c.ddNS[ref.Namespace] = true
		}
	}
	return c
}

// modelEnds are the names a rule can give an edge's end; an external
// reached by names is every address they resolved to.
func modelEnds(e topology.End, names []string) []string {
	switch e.Kind {
	case topology.KindWorkload:
		return []string{e.Workload.String()}
	case topology.KindHost:
		return []string{"node"}
	case topology.KindAPIServer:
		return []string{"apiserver"}
	case topology.KindExternal:
		out := []string{e.Addr.String()}
		for _, n := range names {
			for _, a := range ciliumNames[n] {
				out = append(out, a.String())
			}
		}
		return out
	}
	return nil
}

func (c *ciliumCheck) modelName(e oracleEnd) string {
	switch e.entity {
	case "":
		return c.f.wlOf[e.pod].String()
	case "host", "remote-node":
		return "node"
	case "kube-apiserver":
		return "apiserver"
	}
	return e.addr.String()
}

// want is the window's verdict: an isolated end needs a rule for the
// other, and there is one only for what was seen (or added by the
// overrides) with a peer a rule can name.
func (c *ciliumCheck) want(src, dst oracleEnd, pp topology.PortProto) bool {
	conn := ciliumConn{c.modelName(src), c.modelName(dst), pp}
	side := func(self, other oracleEnd, ingress bool) bool {
		if self.pod == nil {
			return true
		}
		wl := c.f.wlOf[self.pod]
		if !c.m.isolated[wl] {
			return !c.ddNS[wl.Namespace]
		}
		if other.pod != nil && !c.m.nameable[c.f.wlOf[other.pod]] {
			return false
		}
		if c.seen[conn] {
			return true
		}
		ce := crossConn{crossEnd{wl: c.f.wlOf[src.pod]}, crossEnd{wl: c.f.wlOf[dst.pod]}, pp}
		if src.pod == nil {
			ce.src = crossEnd{addr: src.addr}
		}
		if dst.pod == nil {
			ce.dst = crossEnd{addr: dst.addr}
		}
		return (other.pod != nil || other.entity == "world") && c.m.extra(ce, ingress)
	}
	return side(src, dst, false) && side(dst, src, true)
}

func (c *ciliumCheck) check(src, dst oracleEnd, pp topology.PortProto) {
	c.checks++
	got := c.o.allows(src, dst, pp, c.dnsServers)
	if got {
		c.allowed++
	}
	if want := c.want(src, dst, pp); got != want {
		c.bad = append(c.bad, ciliumVerdict{conn: fmt.Sprintf("%s -> %s on %d/%s", src, dst, pp.Port, pp.Proto), got: got, want: want})
	}
}

// run checks every ordered pod pair on the candidate ports, and every pod
// against each node entity, the API server and each outside address (seen,
// resolved or a probe) on the ports seen.
func (c *ciliumCheck) run() {
	common := []topology.PortProto{{Port: 53, Proto: flow.UDP}, {Port: 53, Proto: flow.TCP}}
	for _, e := range c.f.win.Edges {
		common = append(common, topology.PortProto{Port: e.Port, Proto: e.Proto}, topology.PortProto{Port: otherPort(e.Port), Proto: e.Proto})
	}
	for _, s := range c.f.pods {
		for _, d := range c.f.pods {
			if s == d {
				continue
			}
			for _, pp := range candidatePorts(d, common) {
				c.check(oracleEnd{pod: s}, oracleEnd{pod: d}, pp)
			}
		}
	}
	others := []oracleEnd{{entity: "host"}, {entity: "remote-node"}, {entity: "kube-apiserver"}, {entity: "world", addr: netip.MustParseAddr(crossProbeAddr)}}
	for _, addrs := range ciliumNames {
		for _, a := range addrs {
			others = append(others, oracleEnd{entity: "world", addr: a})
		}
	}
	for _, e := range c.f.win.Edges {
		for _, end := range []topology.End{e.Src, e.Dst} {
			if end.Kind == topology.KindExternal {
				others = append(others, oracleEnd{entity: "world", addr: end.Addr})
			}
		}
	}
	for _, p := range c.f.pods {
		for _, o := range others {
			for _, pp := range candidatePorts(&corev1.Pod{}, common) {
				c.check(oracleEnd{pod: p}, o, pp)
				c.check(o, oracleEnd{pod: p}, pp)
			}
		}
	}
}

func (c *ciliumCheck) report(t *testing.T) {
	t.Helper()
	t.Logf("%d checks by the reading of Cilium's semantics, %d allowed", c.checks, c.allowed)
	if c.allowed == 0 || c.allowed == c.checks {
		t.Errorf("the checks allowed %d of %d: a check that cannot tell allowed from denied proves nothing", c.allowed, c.checks)
	}
	if len(c.bad) == 0 {
		return
	}
	slices.SortFunc(c.bad, func(a, b ciliumVerdict) int { return strings.Compare(a.conn, b.conn) })
	c.bad = slices.Compact(c.bad)
	var b strings.Builder
	for _, v := range c.bad[:min(len(c.bad), 25)] {
		fmt.Fprintf(&b, "\n  %s", v)
	}
	t.Errorf("%d verdicts disagree with the window, so the policies allow or deny other traffic than was seen:%s", len(c.bad), b.String())
}
