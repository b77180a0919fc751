package generator

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	ciliumv2 "github.com/cilium/cilium/pkg/k8s/apis/cilium.io/v2"
	"github.com/cilium/cilium/pkg/policy/api"
)

// CiliumDiff is Diff for CiliumNetworkPolicies: only those flowpol manages
// can be removed, and rules are compared by peer.
func CiliumDiff(old, generated []ciliumv2.CiliumNetworkPolicy) []Change {
	return pairDiff(old, generated, ciliumSpecDiff,
		func(c *Change, o, n *ciliumv2.CiliumNetworkPolicy) { c.OldCilium, c.NewCilium = o, n })
}

// ciliumSpecDiff lists what differs between two policies' rules: the
// endpoint selectors, then rule by rule, by peer.
func ciliumSpecDiff(o, n *ciliumv2.CiliumNetworkPolicy) []string {
	oldRules, newRules := ciliumRules(o), ciliumRules(n)
	var out []string
	if a, b := selectorsText(oldRules), selectorsText(newRules); a != b {
		out = append(out, fmt.Sprintf("endpointSelector: %s -> %s", a, b))
	}
	oi, oe := ciliumRuleSets(oldRules)
	ni, ne := ciliumRuleSets(newRules)
	out = append(out, rulesDiff("ingress", oi, ni)...)
	return append(out, rulesDiff("egress", oe, ne)...)
}

func ciliumRules(p *ciliumv2.CiliumNetworkPolicy) []*api.Rule {
	out := slices.Clone([]*api.Rule(p.Specs))
	if p.Spec != nil {
		out = append(out, p.Spec)
	}
	return out
}

func selectorsText(rules []*api.Rule) string {
	texts := make([]string, len(rules))
	for i, r := range rules {
		texts[i] = r.EndpointSelector.String()
	}
	slices.Sort(texts)
	return strings.Join(texts, ", ")
}

// ciliumRuleSets map each peer of the rules, as text, to its ports. A rule
// that names no peer enforces its direction; it is the peer "nothing".
func ciliumRuleSets(rules []*api.Rule) (ingress, egress ruleSet) {
	ingress, egress = ruleSet{}, ruleSet{}
	for _, r := range rules {
		for _, ir := range r.Ingress {
			addCiliumRule(ingress, ingressPeers(ir), ciliumPortTexts(ir.ToPorts))
		}
		for _, er := range r.Egress {
			addCiliumRule(egress, egressPeers(er), ciliumPortTexts(er.ToPorts))
		}
	}
	return ingress, egress
}

func addCiliumRule(out ruleSet, peers, ports []string) {
	if len(peers) == 0 {
		peers = []string{"nothing"}
		if len(ports) > 0 && ports[0] != "any port" {
			peers = []string{"any peer"}
		}
	}
	for _, p := range peers {
		out[p] = union(out[p], ports)
	}
}

func ingressPeers(r api.IngressRule) []string {
	return l3Texts(r.FromEndpoints, r.FromEntities, r.FromCIDR, r.FromCIDRSet, nil)
}

func egressPeers(r api.EgressRule) []string {
	return l3Texts(r.ToEndpoints, r.ToEntities, r.ToCIDR, r.ToCIDRSet, r.ToFQDNs)
}

// l3Texts names a rule's peers, one text each: endpoints, entities,
// CIDRs, names, then CIDR sets.
func l3Texts(eps []api.EndpointSelector, ents api.EntitySlice, cidrs api.CIDRSlice, set api.CIDRRuleSlice, fqdns api.FQDNSelectorSlice) []string {
	var out []string
	for _, e := range eps {
		out = append(out, "endpoints "+e.String())
	}
	for _, e := range ents {
		out = append(out, "entity "+string(e))
	}
	for _, c := range cidrs {
		out = append(out, "cidr "+string(c))
	}
	for _, f := range fqdns {
		if f.MatchName != "" {
			out = append(out, "fqdn "+f.MatchName)
		} else {
			out = append(out, "fqdn pattern "+f.MatchPattern)
		}
	}
	return append(out, cidrTexts(set)...)
}

func cidrTexts(set api.CIDRRuleSlice) []string {
	var out []string
	for _, c := range set {
		s := "cidr " + string(c.Cidr)
		if c.CIDRGroupRef != "" {
			s = "cidr group " + string(c.CIDRGroupRef)
		}
		if len(c.ExceptCIDRs) > 0 {
			ex := make([]string, len(c.ExceptCIDRs))
			for i, e := range c.ExceptCIDRs {
				ex[i] = string(e)
			}
			s += " except " + strings.Join(ex, ",")
		}
		out = append(out, s)
	}
	return out
}

// ciliumPortTexts are the ports of port rules, each with the L7 rules on
// it ("53/UDP with dns").
func ciliumPortTexts(rules api.PortRules) []string {
	if len(rules) == 0 {
		return []string{"any port"}
	}
	var out []string
	for _, pr := range rules {
		l7 := ""
		if pr.Rules != nil && len(pr.Rules.DNS) > 0 {
			l7 = " with dns"
		}
		if pr.Rules != nil && len(pr.Rules.HTTP) > 0 {
			l7 += " with http"
		}
		if len(pr.Ports) == 0 {
			out = append(out, "any port"+l7)
		}
		for _, p := range pr.Ports {
			port := p.Port
			if p.EndPort > 0 {
				port += fmt.Sprintf("-%d", p.EndPort)
			}
			out = append(out, port+"/"+string(cmp.Or(p.Protocol, api.ProtoAny))+l7)
		}
	}
	return out
}
