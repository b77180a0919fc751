package evaluator

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	cnp "sigs.k8s.io/network-policy-api/apis/v1beta1"
)

// clusterPolicy is a ClusterNetworkPolicy with its selectors compiled.
type clusterPolicy struct {
	name            string
	priority        int32
	subject         selectorPair
	ingress, egress []clusterRule
}

// selectorPair selects pods by their namespace's labels and their own;
// a nil pod selector selects every pod of the namespaces.
type selectorPair struct {
	ns, pod labels.Selector
}

type clusterRule struct {
	name      string
	action    cnp.ClusterNetworkPolicyRuleAction
	peers     []clusterPeer
	protocols []cnp.ClusterNetworkPolicyProtocol // empty: every protocol and port
}

type clusterPeer struct {
	pods     *selectorPair
	nodes    bool // every node: its addresses and hostNetwork pods
	networks []netip.Prefix
}

// compileCluster compiles the ClusterNetworkPolicies into their tiers,
// each sorted by priority, then name (the API leaves the order of equal
// priorities to the implementation).
func compileCluster(policies []cnp.ClusterNetworkPolicy) (admin, baseline []*clusterPolicy, err error) {
	for i := range policies {
		p, err := compileClusterPolicy(&policies[i])
		if err != nil {
			return nil, nil, fmt.Errorf("ClusterNetworkPolicy %s: %w", policies[i].Name, err)
		}
		switch policies[i].Spec.Tier {
		case cnp.AdminTier:
			admin = append(admin, p)
		case cnp.BaselineTier:
			baseline = append(baseline, p)
		default:
			return nil, nil, fmt.Errorf("ClusterNetworkPolicy %s: tier %q: want Admin or Baseline", policies[i].Name, policies[i].Spec.Tier)
		}
	}
	order := func(a, b *clusterPolicy) int {
		return cmp.Or(cmp.Compare(a.priority, b.priority), strings.Compare(a.name, b.name))
	}
	slices.SortFunc(admin, order)
	slices.SortFunc(baseline, order)
	return admin, baseline, nil
}

func compileClusterPolicy(p *cnp.ClusterNetworkPolicy) (*clusterPolicy, error) {
	out := &clusterPolicy{name: p.Name, priority: p.Spec.Priority}
	subj, err := compileSubject(p.Spec.Subject.Namespaces, p.Spec.Subject.Pods)
	if err != nil {
		return nil, fmt.Errorf("subject: %w", err)
	}
	out.subject = *subj
	for i, r := range p.Spec.Ingress {
		cr := clusterRule{name: r.Name, action: r.Action, protocols: r.Protocols}
		for j, pr := range r.From {
			cp, err := compileSubject(pr.Namespaces, pr.Pods)
			if err != nil {
				return nil, fmt.Errorf("ingress[%d].from[%d]: %w", i, j, err)
			}
			cr.peers = append(cr.peers, clusterPeer{pods: cp})
		}
		out.ingress = append(out.ingress, cr)
	}
	for i, r := range p.Spec.Egress {
		cr := clusterRule{name: r.Name, action: r.Action, protocols: r.Protocols}
		for j, pr := range r.To {
			cp, err := compileEgressPeer(pr)
			if err != nil {
				return nil, fmt.Errorf("egress[%d].to[%d]: %w", i, j, err)
			}
			cr.peers = append(cr.peers, cp)
		}
		out.egress = append(out.egress, cr)
	}
	return out, nil
}

// compileSubject compiles a subject or peer: namespaces, or pods.
func compileSubject(ns *metav1.LabelSelector, pods *cnp.NamespacedPod) (*selectorPair, error) {
	switch {
	case ns != nil && pods == nil:
		s, err := metav1.LabelSelectorAsSelector(ns)
		if err != nil {
			return nil, fmt.Errorf("namespaces: %w", err)
		}
		return &selectorPair{ns: s}, nil
	case pods != nil && ns == nil:
		s, err := metav1.LabelSelectorAsSelector(&pods.NamespaceSelector)
		if err != nil {
			return nil, fmt.Errorf("pods.namespaceSelector: %w", err)
		}
		ps, err := metav1.LabelSelectorAsSelector(&pods.PodSelector)
		if err != nil {
			return nil, fmt.Errorf("pods.podSelector: %w", err)
		}
		return &selectorPair{ns: s, pod: ps}, nil
	}
	return nil, fmt.Errorf("want exactly one of namespaces and pods")
}

// compileEgressPeer compiles an egress peer. A nodes selector must select
// every node: the evaluator knows no node labels. Domain names match no
// address: it knows no names either, so an Accept of names allows nothing
// here (only Accept rules may name them).
func compileEgressPeer(pr cnp.ClusterNetworkPolicyEgressPeer) (clusterPeer, error) {
	switch {
	case pr.Namespaces != nil || pr.Pods != nil:
		s, err := compileSubject(pr.Namespaces, pr.Pods)
		return clusterPeer{pods: s}, err
	case pr.Nodes != nil:
		if len(pr.Nodes.MatchLabels) > 0 || len(pr.Nodes.MatchExpressions) > 0 {
			return clusterPeer{}, fmt.Errorf("nodes %s: only a selector of every node ({}) can be evaluated, node labels are not known", metav1.FormatLabelSelector(pr.Nodes))
		}
		return clusterPeer{nodes: true}, nil
	case len(pr.Networks) > 0:
		var out clusterPeer
		for _, c := range pr.Networks {
			p, err := netip.ParsePrefix(string(c))
			if err != nil {
				a, aerr := netip.ParseAddr(string(c))
				if aerr != nil {
					return clusterPeer{}, fmt.Errorf("networks: %w", err)
				}
				p = netip.PrefixFrom(a, a.BitLen())
			}
			out.networks = append(out.networks, p.Masked())
		}
		return out, nil
	case len(pr.DomainNames) > 0:
		return clusterPeer{}, nil
	}
	return clusterPeer{}, fmt.Errorf("no peer")
}

// selects reports whether a subject or pod peer selects a pod.
func (e *Engine) selects(s *selectorPair, pod *Pod) bool {
	if pod == nil || pod.HostNetwork || !s.ns.Matches(e.nsLabels(pod.Namespace)) {
		return false
	}
	return s.pod == nil || s.pod.Matches(labels.Set(pod.Labels))
}

func (e *Engine) clusterPeerMatches(p clusterPeer, other Peer) bool {
	if p.pods != nil {
		return e.selects(p.pods, other.Pod)
	}
	if p.nodes {
		return (other.Pod != nil && other.Pod.HostNetwork) || (other.Pod == nil && other.Node != "")
	}
	if other.Pod != nil || !other.Addr.IsValid() {
		return false
	}
	return slices.ContainsFunc(p.networks, func(n netip.Prefix) bool { return n.Contains(other.Addr.Unmap()) || n.Contains(other.Addr) })
}

// tierVerdict is a tier's decision on one direction: decided, or passed
// on to the next tier.
type tierVerdict struct {
	decided bool
	verdict Verdict
}

// tier decides one direction by a tier's policies: the first rule, in
// priority order and rule order, that matches the connection gives its
// action; Pass, or no match, leaves it to the next tier.
func (e *Engine) tier(policies []*clusterPolicy, tierName string, self, other, dst Peer, port uint16, proto corev1.Protocol, ingress bool) tierVerdict {
	for _, p := range policies {
		if !e.selects(&p.subject, self.Pod) {
			continue
		}
		rules := p.egress
		if ingress {
			rules = p.ingress
		}
		for i, r := range rules {
			if !protocolsAllow(r.protocols, dst, port, proto) || !slices.ContainsFunc(r.peers, func(cp clusterPeer) bool { return e.clusterPeerMatches(cp, other) }) {
				continue
			}
			switch r.action {
			case cnp.ClusterNetworkPolicyRuleActionAccept:
				return tierVerdict{decided: true, verdict: Verdict{Allowed: true}}
			case cnp.ClusterNetworkPolicyRuleActionDeny:
				return tierVerdict{decided: true, verdict: clusterDenial(p, tierName, r, i, self, other, port, proto, ingress)}
			}
			return tierVerdict{} // Pass
		}
	}
	return tierVerdict{}
}

func clusterDenial(p *clusterPolicy, tierName string, r clusterRule, i int, self, other Peer, port uint16, proto corev1.Protocol, ingress bool) Verdict {
	dir, rule := "egress from "+self.String()+" to "+other.String(), fmt.Sprintf("egress[%d]", i)
	if ingress {
		dir, rule = "ingress to "+self.String()+" from "+other.String(), fmt.Sprintf("ingress[%d]", i)
	}
	if r.name != "" {
		rule += " (" + r.name + ")"
	}
	name := "ClusterNetworkPolicy " + p.name
	return Verdict{Ingress: ingress, Policies: []string{name}, Reason: fmt.Sprintf("%s on %d/%s denied by %s, %s tier, rule %s",
		dir, port, proto, name, tierName, rule)}
}

// protocolsAllow reports whether a rule's protocols admit the destination
// port: none admit every port; a protocol without a port admits all of its
// ports; a named port is looked up on the destination pod.
func protocolsAllow(ps []cnp.ClusterNetworkPolicyProtocol, dst Peer, port uint16, proto corev1.Protocol) bool {
	if len(ps) == 0 {
		return true
	}
	return slices.ContainsFunc(ps, func(p cnp.ClusterNetworkPolicyProtocol) bool { return protocolAllows(p, dst, port, proto) })
}

func protocolAllows(p cnp.ClusterNetworkPolicyProtocol, dst Peer, port uint16, proto corev1.Protocol) bool {
	var dp *cnp.Port
	switch {
	case p.TCP != nil && proto == corev1.ProtocolTCP:
		dp = p.TCP.DestinationPort
	case p.UDP != nil && proto == corev1.ProtocolUDP:
		dp = p.UDP.DestinationPort
	case p.SCTP != nil && proto == corev1.ProtocolSCTP:
		dp = p.SCTP.DestinationPort
	case p.DestinationNamedPort != "":
		return namedPort(dst, p.DestinationNamedPort, proto) == port && port != 0
	default:
		return false
	}
	switch {
	case dp == nil:
		return true
	case dp.Range != nil:
		return int32(port) >= dp.Range.Start && int32(port) <= dp.Range.End
	}
	return int32(port) == dp.Number
}

// namedPort is the number of the destination pod's container port of that
// name and protocol; 0 when it has none.
func namedPort(dst Peer, name string, proto corev1.Protocol) uint16 {
	if dst.Pod == nil {
		return 0
	}
	for _, cp := range dst.Pod.Ports {
		if cp.Name == name && cmp.Or(cp.Protocol, corev1.ProtocolTCP) == proto {
			return uint16(cp.ContainerPort)
		}
	}
	return 0
}
