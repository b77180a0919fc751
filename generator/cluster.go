package generator

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	cnp "sigs.k8s.io/network-policy-api/apis/v1beta1"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/topology"
)

// ClusterAPIVersion is the API version of the ClusterNetworkPolicies
// GenerateCluster writes (sigs.k8s.io/network-policy-api v0.3.0).
const ClusterAPIVersion = "policy.networking.k8s.io/v1beta1"

// Names and priorities of the guardrails. Lower priorities are evaluated
// first within a tier; the accepts for the workloads seen using the
// metadata endpoint come before the deny for every other.
const (
	ClusterDNSName          = "flowpol-dns"
	ClusterMetadataDenyName = "flowpol-metadata-deny"
	ClusterMetadataPrefix   = "flowpol-metadata-accept."
	ClusterBaselineName     = "flowpol-baseline-deny"

	clusterDNSPriority      = 100
	clusterMetadataAccept   = 200
	clusterMetadataDeny     = 210
	clusterBaselinePriority = 1000
)

// MetadataAddrs are the cloud metadata endpoint's addresses (AWS, GCP,
// Azure and others answer on the IPv4 one; AWS on the IPv6 one too).
func MetadataAddrs() []netip.Addr {
	return []netip.Addr{netip.AddrFrom4([4]byte{169, 254, 169, 254}), netip.AddrFrom16([16]byte{0xfd, 0, 0x0e, 0xc2, 14: 0x02, 15: 0x54})}
}

// IsMetadataAddr reports whether a is the cloud metadata endpoint.
func IsMetadataAddr(a netip.Addr) bool { return slices.Contains(MetadataAddrs(), a.Unmap()) }

// ClusterResult is what GenerateCluster made: the guardrails, and the
// same report as Generate's (whose Policies stay empty).
type ClusterResult struct {
	Result
	Cluster []cnp.ClusterNetworkPolicy
}

// GenerateCluster makes cluster-wide guardrails as ClusterNetworkPolicies
// for the namespaces flowpol manages (those whose workloads get
// policies), from the same reading of the window as Generate. In the Admin
// tier: DNS to the cluster's DNS pods accepted; the cloud metadata
// endpoint accepted, on the ports seen, for each workload seen using it,
// and denied to every other. In the Baseline tier: a default deny, which
// NetworkPolicies override for what they allow. Nothing is generated for
// a window with no managed namespace.
func GenerateCluster(w *topology.Window, opts Options) *ClusterResult {
	g := newGen(w, opts)
	res := &ClusterResult{Result: *g.read()}
	managed := g.managedNamespaces()
	if len(managed) > 0 {
		res.Cluster = append(res.Cluster, g.clusterDNS(managed))
		accepts, unselectable := g.metadataAccepts()
		res.Cluster = append(res.Cluster, accepts...)
		if deny := slices.DeleteFunc(slices.Clone(managed), func(ns string) bool { return slices.Contains(unselectable, ns) }); len(deny) > 0 {
			res.Cluster = append(res.Cluster, g.metadataDeny(deny))
		}
		res.Cluster = append(res.Cluster, g.baselineDeny(managed))
	}
	slices.SortFunc(res.Cluster, func(a, b cnp.ClusterNetworkPolicy) int { return strings.Compare(a.Name, b.Name) })
	g.finish(&res.Result)
	return res
}

// managedNamespaces are the namespaces of the workloads with policies.
func (g *gen) managedNamespaces() []string {
	var out []string
	for _, ref := range g.refs() {
		if _, ok := g.policyWorkload(ref); ok {
			out = append(out, ref.Namespace)
		}
	}
	return distinct(out)
}

// policyWorkload is a drafted workload that a policy can select.
func (g *gen) policyWorkload(ref topology.WorkloadRef) (topology.Workload, bool) {
	wl, ok := g.workload(ref)
	return wl, ok && wl.Selector != nil
}

func clusterMeta(name string, w *topology.Window) (metav1.TypeMeta, metav1.ObjectMeta) {
	return metav1.TypeMeta{APIVersion: ClusterAPIVersion, Kind: "ClusterNetworkPolicy"},
		metav1.ObjectMeta{Name: name, Labels: map[string]string{LabelManagedBy: ManagedBy},
			Annotations: map[string]string{AnnotationWindow: windowAnnotation(w)}}
}

// inNamespaces selects the namespaces by name.
func inNamespaces(namespaces []string) *metav1.LabelSelector {
	if len(namespaces) == 1 {
		return &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: namespaces[0]}}
	}
	return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
		Key: corev1.LabelMetadataName, Operator: metav1.LabelSelectorOpIn, Values: namespaces}}}
}

// clusterDNS accepts DNS from the managed namespaces to the cluster's DNS
// pods: those the window knows, else kube-dns's conventional labels.
func (g *gen) clusterDNS(managed []string) cnp.ClusterNetworkPolicy {
	tm, om := clusterMeta(ClusterDNSName, g.w)
	var rules []cnp.ClusterNetworkPolicyEgressRule
	for _, ref := range g.dnsWorkloads() {
		wl, _ := g.workload(ref)
		rules = append(rules, dnsRule(ref.Namespace, *wl.Selector, wl.DNSPorts))
	}
	if len(rules) == 0 {
		rules = append(rules, dnsRule("kube-system", metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": "kube-dns"}},
			[]topology.PortProto{{Port: 53, Proto: flow.UDP}, {Port: 53, Proto: flow.TCP}}))
	}
	return cnp.ClusterNetworkPolicy{TypeMeta: tm, ObjectMeta: om, Spec: cnp.ClusterNetworkPolicySpec{
		Tier: cnp.AdminTier, Priority: clusterDNSPriority,
		Subject: cnp.ClusterNetworkPolicySubject{Namespaces: inNamespaces(managed)},
		Egress:  rules,
	}}
}

func dnsRule(ns string, sel metav1.LabelSelector, ports []topology.PortProto) cnp.ClusterNetworkPolicyEgressRule {
	return cnp.ClusterNetworkPolicyEgressRule{
		Name:   "dns-" + ns,
		Action: cnp.ClusterNetworkPolicyRuleActionAccept,
		To: []cnp.ClusterNetworkPolicyEgressPeer{{Pods: &cnp.NamespacedPod{
			NamespaceSelector: *inNamespaces([]string{ns}), PodSelector: *sel.DeepCopy()}}},
		Protocols: clusterProtocols(ports),
	}
}

// clusterProtocols are ports as a rule's protocols, sorted.
func clusterProtocols(ports []topology.PortProto) []cnp.ClusterNetworkPolicyProtocol {
	ports = slices.Clone(ports)
	slices.SortFunc(ports, comparePorts)
	var out []cnp.ClusterNetworkPolicyProtocol
	for _, pp := range slices.Compact(ports) {
		port := &cnp.Port{Number: int32(pp.Port)}
		switch pp.Proto {
		case flow.TCP:
			out = append(out, cnp.ClusterNetworkPolicyProtocol{TCP: &cnp.ClusterNetworkPolicyProtocolTCP{DestinationPort: port}})
		case flow.UDP:
			out = append(out, cnp.ClusterNetworkPolicyProtocol{UDP: &cnp.ClusterNetworkPolicyProtocolUDP{DestinationPort: port}})
		case flow.SCTP:
			out = append(out, cnp.ClusterNetworkPolicyProtocol{SCTP: &cnp.ClusterNetworkPolicyProtocolSCTP{DestinationPort: port}})
		}
	}
	return out
}

// metadataUse is a workload's observed egress to the metadata endpoint.
type metadataUse struct {
	addrs    []netip.Addr
	ports    []topology.PortProto
	evidence []string
}

// metadataAccepts accept the metadata endpoint, at the addresses and on
// the ports seen, for each workload seen using it; unselectable are the
// namespaces of those no policy can select, which the deny must leave
// out (a warning says so).
func (g *gen) metadataAccepts() (out []cnp.ClusterNetworkPolicy, unselectable []string) {
	for _, ref := range g.refs() {
		use, ok := g.metadataUse(g.policies[ref])
		if !ok {
			continue
		}
		wl, ok := g.policyWorkload(ref)
		if !ok {
			g.warnings = append(g.warnings, fmt.Sprintf("%s: uses the cloud metadata endpoint but has no stable labels to select it by: namespace %s is left out of %s", ref, ref.Namespace, ClusterMetadataDenyName))
			unselectable = append(unselectable, ref.Namespace)
			continue
		}
		tm, om := clusterMeta(ClusterMetadataPrefix+ref.Namespace+"."+PolicyName(ref), g.w)
		slices.Sort(use.evidence)
		om.Annotations[AnnotationEvidence] = strings.Join(use.evidence, "\n")
		var nets []cnp.CIDR
		for _, a := range use.addrs {
			nets = append(nets, cnp.CIDR(netip.PrefixFrom(a, a.BitLen()).String()))
		}
		out = append(out, cnp.ClusterNetworkPolicy{TypeMeta: tm, ObjectMeta: om, Spec: cnp.ClusterNetworkPolicySpec{
			Tier: cnp.AdminTier, Priority: clusterMetadataAccept,
			Subject: cnp.ClusterNetworkPolicySubject{Pods: &cnp.NamespacedPod{
				NamespaceSelector: *inNamespaces([]string{ref.Namespace}), PodSelector: *wl.Selector.DeepCopy()}},
			Egress: []cnp.ClusterNetworkPolicyEgressRule{{
				Name: "metadata-seen", Action: cnp.ClusterNetworkPolicyRuleActionAccept,
				To: []cnp.ClusterNetworkPolicyEgressPeer{{Networks: nets}}, Protocols: clusterProtocols(use.ports)}},
		}})
	}
	return out, distinct(unselectable)
}

// metadataUse is what a draft's egress rules say of the metadata endpoint.
func (g *gen) metadataUse(d *draft) (metadataUse, bool) {
	var use metadataUse
	for _, r := range sortedRules(d.egress) {
		a := r.peer.end.Addr
		if r.peer.end.Kind != topology.KindExternal || !IsMetadataAddr(a) {
			continue
		}
		use.addrs = append(use.addrs, a.Unmap())
		use.ports = append(use.ports, r.ports...)
		use.evidence = append(use.evidence, g.metadataEvidence(d.ref, r)...)
	}
	slices.SortFunc(use.addrs, netip.Addr.Compare)
	use.addrs = slices.Compact(use.addrs)
	return use, len(use.addrs) > 0
}

// metadataEvidence says, for a rule to the metadata endpoint, what was
// seen: the window's edges of the workload to its address on its ports.
func (g *gen) metadataEvidence(ref topology.WorkloadRef, r *ruleDraft) []string {
	var out []string
	for _, e := range g.w.Edges {
		if e.Src.Kind != topology.KindWorkload || e.Src.Workload != ref || e.Dst != r.peer.end ||
			!slices.Contains(r.ports, topology.PortProto{Port: e.Port, Proto: e.Proto}) {
			continue
		}
		out = append(out, fmt.Sprintf("egress to %s on %d/%s: %s, %s to %s", e.Dst.Addr.Unmap(), e.Port, e.Proto,
			edgeConnections(e), stamp(e.First), stamp(e.Last)))
	}
	return out
}

// metadataDeny denies the metadata endpoint to the managed namespaces,
// after the accepts for the workloads seen using it.
func (g *gen) metadataDeny(namespaces []string) cnp.ClusterNetworkPolicy {
	tm, om := clusterMeta(ClusterMetadataDenyName, g.w)
	addrs := MetadataAddrs()
	nets := make([]cnp.CIDR, len(addrs))
	for i, a := range addrs {
		nets[i] = cnp.CIDR(netip.PrefixFrom(a, a.BitLen()).String())
	}
	return cnp.ClusterNetworkPolicy{TypeMeta: tm, ObjectMeta: om, Spec: cnp.ClusterNetworkPolicySpec{
		Tier: cnp.AdminTier, Priority: clusterMetadataDeny,
		Subject: cnp.ClusterNetworkPolicySubject{Namespaces: inNamespaces(namespaces)},
		Egress: []cnp.ClusterNetworkPolicyEgressRule{{Name: "metadata", Action: cnp.ClusterNetworkPolicyRuleActionDeny,
			To: []cnp.ClusterNetworkPolicyEgressPeer{{Networks: nets}}}},
	}}
}

// baselineDeny denies what no NetworkPolicy allows in the managed
// namespaces: ingress from every pod, egress to every pod and address.
func (g *gen) baselineDeny(namespaces []string) cnp.ClusterNetworkPolicy {
	tm, om := clusterMeta(ClusterBaselineName, g.w)
	every := &metav1.LabelSelector{}
	return cnp.ClusterNetworkPolicy{TypeMeta: tm, ObjectMeta: om, Spec: cnp.ClusterNetworkPolicySpec{
		Tier: cnp.BaselineTier, Priority: clusterBaselinePriority,
		Subject: cnp.ClusterNetworkPolicySubject{Namespaces: inNamespaces(namespaces)},
		Ingress: []cnp.ClusterNetworkPolicyIngressRule{{Name: "default-deny", Action: cnp.ClusterNetworkPolicyRuleActionDeny,
			From: []cnp.ClusterNetworkPolicyIngressPeer{{Namespaces: every}}}},
		Egress: []cnp.ClusterNetworkPolicyEgressRule{{Name: "default-deny", Action: cnp.ClusterNetworkPolicyRuleActionDeny,
			To: []cnp.ClusterNetworkPolicyEgressPeer{{Namespaces: every}, {Networks: []cnp.CIDR{"0.0.0.0/0", "::/0"}}}}},
	}}
}
