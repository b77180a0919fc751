package policyfile

import (
	"fmt"
	"net/netip"

	yaml "go.yaml.in/yaml/v3"
	policyv1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"
)

// ClusterAPIVersion is the ClusterNetworkPolicy API version read
// (sigs.k8s.io/network-policy-api v0.3.0).
const ClusterAPIVersion = "policy.networking.k8s.io/v1beta1"

// ClusterPolicy is a ClusterNetworkPolicy and where it was read.
type ClusterPolicy struct {
	policyv1beta1.ClusterNetworkPolicy
	File string
	Line int
}

// cluster decodes a ClusterNetworkPolicy strictly, checks what its CRD's
// schema checks of its meaning (tier, priority, one subject, actions,
// peers, networks) and adds it.
func (r *reader) cluster(file string, node *yaml.Node, js []byte, label string) {
	var p policyv1beta1.ClusterNetworkPolicy
	if !r.decodeStrict(file, node, js, label, &p) {
		return
	}
	if err := validateCluster(&p.Spec); err != nil {
		r.fail(file, lineAt(node, "spec"), label, fmt.Errorf("%w: %w", ErrInvalid, err))
		return
	}
	r.set.Cluster = append(r.set.Cluster, ClusterPolicy{ClusterNetworkPolicy: p, File: file, Line: node.Line})
}

func validateCluster(s *policyv1beta1.ClusterNetworkPolicySpec) error {
	if s.Tier != policyv1beta1.AdminTier && s.Tier != policyv1beta1.BaselineTier {
		return fmt.Errorf("spec.tier %q: want Admin or Baseline", s.Tier)
	}
	if s.Priority < 0 || s.Priority > 1000 {
		return fmt.Errorf("spec.priority %d: want 0 to 1000", s.Priority)
	}
	if (s.Subject.Namespaces == nil) == (s.Subject.Pods == nil) {
		return fmt.Errorf("spec.subject: want exactly one of namespaces and pods")
	}
	for i, r := range s.Ingress {
		if err := validateRule(r.Action, len(r.From)); err != nil {
			return fmt.Errorf("spec.ingress[%d]: %w", i, err)
		}
	}
	for i, r := range s.Egress {
		if err := validateRule(r.Action, len(r.To)); err != nil {
			return fmt.Errorf("spec.egress[%d]: %w", i, err)
		}
		for j, p := range r.To {
			for k, c := range p.Networks {
				if _, err := netip.ParsePrefix(string(c)); err != nil {
					return fmt.Errorf("spec.egress[%d].to[%d].networks[%d]: %w", i, j, k, err)
				}
			}
		}
	}
	return nil
}

func validateRule(a policyv1beta1.ClusterNetworkPolicyRuleAction, peers int) error {
	switch a {
	case policyv1beta1.ClusterNetworkPolicyRuleActionAccept, policyv1beta1.ClusterNetworkPolicyRuleActionDeny, policyv1beta1.ClusterNetworkPolicyRuleActionPass:
	default:
		return fmt.Errorf("action %q: want Accept, Deny or Pass", a)
	}
	if peers == 0 {
		return fmt.Errorf("no peers")
	}
	return nil
}

// clusterTwice refuses a ClusterNetworkPolicy defined twice.
func (r *reader) clusterTwice() {
	seen := map[string]ClusterPolicy{}
	for _, p := range r.set.Cluster {
		if first, ok := seen[p.Name]; ok {
			r.fail(p.File, p.Line, "ClusterNetworkPolicy "+p.Name, fmt.Errorf("%w: first at %s:%d", ErrDuplicate, first.File, first.Line))
			continue
		}
		seen[p.Name] = p
	}
}

// ClusterNetworkPolicies are the set's ClusterNetworkPolicies, in file
// order.
func (s *Set) ClusterNetworkPolicies() []policyv1beta1.ClusterNetworkPolicy {
	out := make([]policyv1beta1.ClusterNetworkPolicy, len(s.Cluster))
	for i, p := range s.Cluster {
		out[i] = p.ClusterNetworkPolicy
	}
	return out
}
