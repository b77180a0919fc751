package staged

import (
	"fmt"
	"slices"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/flowpol/flowpol/check"
	"github.com/flowpol/flowpol/topology"
)

// deciders decide edges under the whole set, as check does, and under
// its ingress and its egress halves apart: check names the policies of
// the first direction that denies a flow, but a policy promoted alone
// would deny it in either, so each is blamed for its own.
type deciders struct {
	all, ingress, egress *check.Decider
}

func newDeciders(nsLabels map[string]map[string]string, policies []networkingv1.NetworkPolicy) (*deciders, error) {
	all, err := check.NewDecider(nsLabels, policies)
	if err != nil {
		return nil, fmt.Errorf("staged policies: %w", err)
	}
	in, err := check.NewDecider(nsLabels, half(policies, networkingv1.PolicyTypeIngress))
	if err != nil {
		return nil, fmt.Errorf("staged policies: %w", err)
	}
	eg, err := check.NewDecider(nsLabels, half(policies, networkingv1.PolicyTypeEgress))
	if err != nil {
		return nil, fmt.Errorf("staged policies: %w", err)
	}
	return &deciders{all: all, ingress: in, egress: eg}, nil
}

// half is the policies that govern one direction, cut to it.
func half(policies []networkingv1.NetworkPolicy, dir networkingv1.PolicyType) []networkingv1.NetworkPolicy {
	var out []networkingv1.NetworkPolicy
	for _, p := range policies {
		if !slices.Contains(policyTypes(&p), dir) {
			continue
		}
		p.Spec.PolicyTypes = []networkingv1.PolicyType{dir}
		if dir == networkingv1.PolicyTypeIngress {
			p.Spec.Egress = nil
		} else {
			p.Spec.Ingress = nil
		}
		out = append(out, p)
	}
	return out
}

// policyTypes are the directions a policy governs: as given, or as the
// API server defaults them (Ingress, and Egress when it has egress rules).
func policyTypes(p *networkingv1.NetworkPolicy) []networkingv1.PolicyType {
	if len(p.Spec.PolicyTypes) > 0 {
		return p.Spec.PolicyTypes
	}
	types := []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	if len(p.Spec.Egress) > 0 {
		types = append(types, networkingv1.PolicyTypeEgress)
	}
	return types
}

// decide decides e under the set, and blames the policies of each
// direction that deny it.
func (ds *deciders) decide(w *topology.Window, e topology.Edge) decision {
	d, denied, why := ds.all.Decide(w, topology.EdgeStats{Edge: e})
	if !denied || why != "" {
		return decision{}
	}
	c := decision{d: d, denied: true}
	for _, half := range []*check.Decider{ds.ingress, ds.egress} {
		hd, hdenied, _ := half.Decide(w, topology.EdgeStats{Edge: e})
		if !hdenied {
			continue
		}
		for _, p := range hd.Policies {
			c.blame = append(c.blame, blame{policy: p, ingress: hd.Ingress})
		}
	}
	return c
}
