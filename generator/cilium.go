package generator

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	ciliumv2 "github.com/cilium/cilium/pkg/k8s/apis/cilium.io/v2"
	slimv1 "github.com/cilium/cilium/pkg/k8s/slim/k8s/apis/meta/v1"
	"github.com/cilium/cilium/pkg/policy/api"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/overrides"
	"github.com/flowpol/flowpol/topology"
)

// CiliumNamespaceLabel is the label Cilium gives every endpoint with its
// pod's namespace: a peer in another namespace is selected with it.
const CiliumNamespaceLabel = "k8s:io.kubernetes.pod.namespace"

// CiliumResult is what GenerateCilium made: the policies, and the same
// report as Generate's (whose Policies stay empty).
type CiliumResult struct {
	Result
	Cilium []ciliumv2.CiliumNetworkPolicy
}

// GenerateCilium makes one cilium.io/v2 CiliumNetworkPolicy per workload
// from the same reading of the window as Generate: the same peers, ports,
// overrides, thresholds and evidence. Nodes and hostNetwork pods are the
// entities host and remote-node, the API server kube-apiserver; an outside
// address the client reached through DNS names is those names (toFQDNs),
// with the DNS rule Cilium needs to learn their addresses; another outside
// address is its CIDR. Each policy is checked with Cilium's own Sanitize;
// one it refuses is an error naming it.
func GenerateCilium(w *topology.Window, opts Options) (*CiliumResult, error) {
	g := newGen(w, opts)
	res := &CiliumResult{Result: *g.read()}
	for _, ref := range g.refs() {
		if p, ok := g.ciliumPolicy(g.policies[ref]); ok {
			res.Cilium = append(res.Cilium, p)
		}
	}
	if opts.DefaultDeny {
		namespaces := make([]string, len(res.Cilium))
		for i, p := range res.Cilium {
			namespaces[i] = p.Namespace
		}
		for _, ns := range g.denyNamespaces(namespaces, &res.Result) {
			res.Cilium = append(res.Cilium, ciliumDenyAll(ns, w))
			res.Isolated = append(res.Isolated, g.isolated(ns)...)
		}
	}
	slices.SortFunc(res.Cilium, func(a, b ciliumv2.CiliumNetworkPolicy) int {
		return cmp.Or(strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
	})
	for i := range res.Cilium {
		if err := SanitizeCilium(&res.Cilium[i]); err != nil {
			return nil, err
		}
	}
	g.finish(&res.Result)
	return res, nil
}

// SanitizeCilium validates a policy as the Cilium agent does before it
// imports one, on a copy: Sanitize fills in defaults, which are not part of
// what was generated.
func SanitizeCilium(p *ciliumv2.CiliumNetworkPolicy) error {
	if p.Spec == nil {
		return fmt.Errorf("CiliumNetworkPolicy %s/%s: no spec", p.Namespace, p.Name)
	}
	if err := p.Spec.DeepCopy().Sanitize(); err != nil {
		return fmt.Errorf("CiliumNetworkPolicy %s/%s: %w", p.Namespace, p.Name, err)
	}
	return nil
}

func ciliumMeta(name, ns string) (metav1.TypeMeta, metav1.ObjectMeta) {
	return metav1.TypeMeta{APIVersion: "cilium.io/v2", Kind: "CiliumNetworkPolicy"},
		metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{LabelManagedBy: ManagedBy}}
}

// ciliumDenyAll selects every pod of a namespace and allows nothing: an
// empty rule in a direction puts the endpoints in default deny there.
func ciliumDenyAll(ns string, w *topology.Window) ciliumv2.CiliumNetworkPolicy {
	tm, om := ciliumMeta(DefaultDenyName, ns)
	om.Annotations = map[string]string{AnnotationWindow: windowAnnotation(w)}
	return ciliumv2.CiliumNetworkPolicy{TypeMeta: tm, ObjectMeta: om, Spec: &api.Rule{
		EndpointSelector: api.NewESFromMatchRequirements(map[string]string{}, nil),
		Ingress:          []api.IngressRule{{}},
		Egress:           []api.EgressRule{{}},
	}}
}

func (g *gen) ciliumPolicy(d *draft) (ciliumv2.CiliumNetworkPolicy, bool) {
	wl, ok := g.workload(d.ref)
	if !ok || wl.Selector == nil {
		g.warnings = append(g.warnings, fmt.Sprintf("%s: no policy: its pods have no stable labels to select them by", d.ref))
		return ciliumv2.CiliumNetworkPolicy{}, false
	}
	for _, o := range wl.Overlaps {
		g.warnings = append(g.warnings, fmt.Sprintf("%s: its selector also selects the pods of %s, which get its rules too", d.ref, o))
	}
	rule := &api.Rule{EndpointSelector: endpointSelector(wl.Selector, "")}
	for _, r := range sortedRules(d.ingress) {
		if ir, ok := g.ciliumIngress(d, r); ok {
			rule.Ingress = append(rule.Ingress, ir)
		}
	}
	for _, r := range sortedRules(d.egress) {
		for _, er := range g.ciliumEgress(d, r) {
			// Addresses a name rotated through give the same rule once.
			if !slices.ContainsFunc(rule.Egress, func(x api.EgressRule) bool { return x.DeepEqual(&er) }) {
				rule.Egress = append(rule.Egress, er)
			}
		}
	}
	g.ciliumAllowed(d, rule)
	g.ciliumDNS(d, rule)
	ciliumOwnNode(d, rule)
	// A direction with no rule still isolates, as the NetworkPolicy does:
	// an empty rule selects no peer and puts the endpoint in default deny.
	if len(rule.Ingress) == 0 {
		rule.Ingress = []api.IngressRule{{}}
	}
	if len(rule.Egress) == 0 {
		rule.Egress = []api.EgressRule{{}}
	}
	tm, om := ciliumMeta(PolicyName(d.ref), d.ref.Namespace)
	om.Annotations = g.annotations(d)
	return ciliumv2.CiliumNetworkPolicy{TypeMeta: tm, ObjectMeta: om, Spec: rule}, true
}

// ciliumPeer is a rule's peer in Cilium's terms: exactly one of endpoints,
// entities, CIDRs or (egress only) DNS names.
type ciliumPeer struct {
	endpoints []api.EndpointSelector
	entities  api.EntitySlice
	cidrs     api.CIDRRuleSlice
	fqdns     api.FQDNSelectorSlice
}

func (g *gen) ciliumIngress(d *draft, r *ruleDraft) (api.IngressRule, bool) {
	p, ok := g.ciliumPeerOf(d, r.peer, nil)
	if !ok {
		return api.IngressRule{}, false
	}
	ir := api.IngressRule{ToPorts: ciliumPorts(r.ports, nil)}
	ir.FromEndpoints, ir.FromEntities, ir.FromCIDRSet = p.endpoints, p.entities, p.cidrs
	return ir, true
}

// ciliumEgress is the egress rule of a peer. An outside address reached
// through DNS names is allowed by those names; when the names came with
// an address widened or collapsed by the overrides, the block stays
// allowed too.
func (g *gen) ciliumEgress(d *draft, r *ruleDraft) []api.EgressRule {
	p, ok := g.ciliumPeerOf(d, r.peer, r.names)
	if !ok {
		return nil
	}
	er := api.EgressRule{ToPorts: ciliumPorts(r.ports, nil), ToFQDNs: p.fqdns}
	er.ToEndpoints, er.ToEntities, er.ToCIDRSet = p.endpoints, p.entities, p.cidrs
	if len(p.fqdns) > 0 && len(p.cidrs) > 0 {
		byCIDR := er
		byCIDR.ToFQDNs = nil
		er.ToCIDRSet = nil
		return []api.EgressRule{er, byCIDR}
	}
	return []api.EgressRule{er}
}

// ciliumPeerOf names a rule's peer. A peer no rule can name is left out
// with a warning, as in a NetworkPolicy.
func (g *gen) ciliumPeerOf(d *draft, key ruleKey, names []string) (ciliumPeer, bool) {
	var p ciliumPeer
	for _, n := range names {
		p.fqdns = append(p.fqdns, api.FQDNSelector{MatchName: n})
	}
	if key.prefix.IsValid() {
		p.cidrs = api.CIDRRuleSlice{{Cidr: api.CIDR(key.prefix.String())}}
		return p, true
	}
	end := key.end
	switch end.Kind {
	case topology.KindWorkload:
		wl, ok := g.workload(end.Workload)
		if !ok || wl.Selector == nil {
			_, ok := g.omit(d, end, "it has no stable labels to select it by")
			return p, ok
		}
		ns := ""
		if end.Workload.Namespace != d.ref.Namespace {
			ns = end.Workload.Namespace
		}
		p.endpoints = []api.EndpointSelector{endpointSelector(wl.Selector, ns)}
		return p, true
	case topology.KindHost:
		p.entities = hostEntities(end)
		return p, true
	case topology.KindAPIServer:
		p.entities = api.EntitySlice{api.EntityKubeAPIServer}
		return p, true
	case topology.KindExternal:
		if len(p.fqdns) > 0 {
			return p, true
		}
		if !end.Addr.IsValid() {
			_, ok := g.omit(d, end, "its address is unknown")
			return p, ok
		}
		p.cidrs = api.CIDRRuleSlice{{Cidr: api.CIDR(ipPeer(end.Addr).IPBlock.CIDR)}}
		return p, true
	}
	_, ok := g.omit(d, end, "it is unresolved")
	return p, ok
}

// hostEntities names a node, or a hostNetwork pod on it. Which node a
// workload's pods run on is not in the baseline, and they move: a node is
// host to the pods on it and remote-node to all others, so it is both.
func hostEntities(topology.End) api.EntitySlice {
	return api.EntitySlice{api.EntityHost, api.EntityRemoteNode}
}

// endpointSelector is a workload's selector as Cilium reads it; ns, when
// set, confines it to that namespace (a policy's own is implied).
func endpointSelector(sel *metav1.LabelSelector, ns string) api.EndpointSelector {
	ml := map[string]string{}
	for k, v := range sel.MatchLabels {
		ml[k] = v
	}
	if ns != "" {
		ml[CiliumNamespaceLabel] = ns
	}
	var reqs []slimv1.LabelSelectorRequirement
	for _, r := range sel.MatchExpressions {
		reqs = append(reqs, slimv1.LabelSelectorRequirement{
			Key: r.Key, Operator: slimv1.LabelSelectorOperator(r.Operator), Values: slices.Clone(r.Values)})
	}
	return api.NewESFromMatchRequirements(ml, reqs)
}

// ciliumPorts is one port rule with the ports, or none for every port.
func ciliumPorts(ports []topology.PortProto, rules *api.L7Rules) api.PortRules {
	if len(ports) == 0 {
		return nil
	}
	pr := api.PortRule{Rules: rules}
	for _, p := range ports {
		pr.Ports = append(pr.Ports, api.PortProtocol{Port: strconv.Itoa(int(p.Port)), Protocol: api.L4Proto(p.Proto.String())})
	}
	return api.PortRules{pr}
}

// ciliumAllowed adds the overrides' additions.
func (g *gen) ciliumAllowed(d *draft, rule *api.Rule) {
	for _, a := range d.allowed {
		var p ciliumPeer
		switch {
		case a.Peer.Workload != nil:
			var ok bool
			if p, ok = g.ciliumPeerOf(d, ruleKey{end: topology.End{Kind: topology.KindWorkload, Workload: *a.Peer.Workload}}, nil); !ok {
				continue
			}
		case a.Peer.Namespace != "":
			p.endpoints = []api.EndpointSelector{api.NewESFromMatchRequirements(map[string]string{CiliumNamespaceLabel: a.Peer.Namespace}, nil)}
		default:
			p.cidrs = api.CIDRRuleSlice{{Cidr: api.CIDR(a.Peer.Prefix.String())}}
		}
		ports := allowCiliumPorts(a.Ports)
		if a.Ingress {
			ir := api.IngressRule{ToPorts: ports}
			ir.FromEndpoints, ir.FromCIDRSet = p.endpoints, p.cidrs
			rule.Ingress = append(rule.Ingress, ir)
			continue
		}
		er := api.EgressRule{ToPorts: ports}
		er.ToEndpoints, er.ToCIDRSet = p.endpoints, p.cidrs
		rule.Egress = append(rule.Egress, er)
	}
}

func allowCiliumPorts(ps []overrides.Ports) api.PortRules {
	if len(ps) == 0 {
		return nil
	}
	var pr api.PortRule
	for _, p := range ps {
		pp := api.PortProtocol{Port: strconv.Itoa(int(p.From)), Protocol: api.L4Proto(p.Proto.String())}
		if p.To != p.From {
			pp.EndPort = int32(p.To)
		}
		pr.Ports = append(pr.Ports, pp)
	}
	return api.PortRules{pr}
}

// ciliumDNS gives a policy that names peers by DNS name what Cilium needs
// to learn their addresses: its DNS traffic through the DNS proxy, by an
// L7 DNS rule on the egress rules to the cluster's DNS pods. When none was
// seen (the answers came through another path), a rule to the DNS pods
// is added: without it toFQDNs allows nothing.
func (g *gen) ciliumDNS(d *draft, rule *api.Rule) {
	if !slices.ContainsFunc(rule.Egress, func(r api.EgressRule) bool { return len(r.ToFQDNs) > 0 }) {
		return
	}
	dnsRules := &api.L7Rules{DNS: []api.PortRuleDNS{{MatchPattern: "*"}}}
	found := false
	for i, r := range rule.Egress {
		dns := g.dnsPorts(r)
		if len(dns) == 0 {
			continue
		}
		found = true
		var other []topology.PortProto
		for _, pp := range portsOf(r.ToPorts) {
			if !slices.Contains(dns, pp) {
				other = append(other, pp)
			}
		}
		rule.Egress[i].ToPorts = append(ciliumPorts(dns, dnsRules), ciliumPorts(other, nil)...)
	}
	if found {
		return
	}
	d.evidence = append(d.evidence, "egress to the cluster's DNS pods on 53/UDP, 53/TCP: for the DNS names of its peers")
	for _, sel := range g.dnsSelectors() {
		rule.Egress = append(rule.Egress, api.EgressRule{
			EgressCommonRule: api.EgressCommonRule{ToEndpoints: []api.EndpointSelector{sel}},
			ToPorts:          ciliumPorts([]topology.PortProto{{Port: 53, Proto: flow.TCP}, {Port: 53, Proto: flow.UDP}}, dnsRules),
		})
	}
}

// ciliumOwnNode allows the workload's egress to its own node, on the ports
// seen, as the entity host: NetworkPolicy always allows it, so no
// NetworkPolicy rule was drafted, but Cilium enforces a pod's egress to
// its node like any other. (Ingress from the own node needs no rule:
// Cilium's allow-localhost default lets the host reach its endpoints.)
func ciliumOwnNode(d *draft, rule *api.Rule) {
	if len(d.ownNodeEgress) == 0 {
		return
	}
	ports := slices.Clone(d.ownNodeEgress)
	slices.SortFunc(ports, comparePorts)
	rule.Egress = append(rule.Egress, api.EgressRule{
		EgressCommonRule: api.EgressCommonRule{ToEntities: api.EntitySlice{api.EntityHost}},
		ToPorts:          ciliumPorts(ports, nil),
	})
	d.evidence = append(d.evidence, "egress to own-node: toEntities host, which Cilium does not allow a pod unless a rule does")
}

// dnsPorts are the DNS ports of an egress rule to the cluster's DNS pods.
func (g *gen) dnsPorts(r api.EgressRule) []topology.PortProto {
	if len(r.ToEndpoints) != 1 {
		return nil
	}
	for _, ref := range g.dnsWorkloads() {
		wl, _ := g.workload(ref)
		ns := ref.Namespace
		if sel := endpointSelector(wl.Selector, ns); sameSelector(sel, r.ToEndpoints[0], ns) {
			var out []topology.PortProto
			for _, pp := range portsOf(r.ToPorts) {
				if slices.Contains(wl.DNSPorts, pp) {
					out = append(out, pp)
				}
			}
			return out
		}
	}
	return nil
}

// sameSelector reports whether a rule's endpoint selector is a DNS
// workload's, with or without its namespace (the policy's own).
func sameSelector(dns, sel api.EndpointSelector, ns string) bool {
	if dns.LabelSelector.String() == sel.LabelSelector.String() {
		return true
	}
	if _, has := sel.MatchLabels[CiliumNamespaceLabel]; has {
		return false
	}
	withNS := sel.DeepCopy()
	withNS.AddMatch(CiliumNamespaceLabel, ns)
	return dns.LabelSelector.String() == withNS.LabelSelector.String()
}

// dnsWorkloads are the workloads serving the cluster's DNS, sorted.
func (g *gen) dnsWorkloads() []topology.WorkloadRef {
	var out []topology.WorkloadRef
	for ref, wl := range g.w.Workloads {
		if len(wl.DNSPorts) > 0 && wl.Selector != nil {
			out = append(out, ref)
		}
	}
	slices.SortFunc(out, topology.WorkloadRef.Compare)
	return out
}

// dnsSelectors select the cluster's DNS pods: those the window knows, else
// kube-dns's conventional labels.
func (g *gen) dnsSelectors() []api.EndpointSelector {
	var out []api.EndpointSelector
	for _, ref := range g.dnsWorkloads() {
		wl, _ := g.workload(ref)
		out = append(out, endpointSelector(wl.Selector, ref.Namespace))
	}
	if len(out) == 0 {
		out = append(out, api.NewESFromMatchRequirements(map[string]string{
			CiliumNamespaceLabel: "kube-system", "k8s:k8s-app": "kube-dns"}, nil))
	}
	return out
}

// portsOf are the ports of port rules as flowpol names them.
func portsOf(rules api.PortRules) []topology.PortProto {
	var out []topology.PortProto
	for _, r := range rules {
		for _, p := range r.Ports {
			n, err := strconv.Atoi(p.Port)
			if err != nil {
				continue
			}
			proto, err := flow.ParseProto(string(p.Protocol))
			if err != nil {
				continue
			}
			out = append(out, topology.PortProto{Port: uint16(n), Proto: proto})
		}
	}
	return out
}
