package policyfile

import (
	"fmt"

	ciliumv2 "github.com/cilium/cilium/pkg/k8s/apis/cilium.io/v2"
	yaml "go.yaml.in/yaml/v3"
)

const ciliumAPIVersion = "cilium.io/v2"

// CiliumPolicy is a CiliumNetworkPolicy and where it was read.
type CiliumPolicy struct {
	ciliumv2.CiliumNetworkPolicy
	File string
	Line int
}

// cilium decodes a CiliumNetworkPolicy strictly, validates its rule as the
// Cilium agent does (Sanitize, on a copy) and adds it.
func (r *reader) cilium(file string, node *yaml.Node, js []byte, label string) {
	var p ciliumv2.CiliumNetworkPolicy
	if !r.decodeStrict(file, node, js, label, &p) {
		return
	}
	label = r.inNamespace(file, node, "CiliumNetworkPolicy", &p.ObjectMeta, label)
	rules := p.Specs
	if p.Spec != nil {
		rules = append(rules, p.Spec)
	}
	if len(rules) == 0 {
		r.fail(file, node.Line, label, fmt.Errorf("%w: spec or specs must be given", ErrInvalid))
		return
	}
	for _, rule := range rules {
		if err := rule.DeepCopy().Sanitize(); err != nil {
			r.fail(file, lineAt(node, "spec"), label, fmt.Errorf("%w: %w", ErrInvalid, err))
			return
		}
	}
	r.set.Cilium = append(r.set.Cilium, CiliumPolicy{CiliumNetworkPolicy: p, File: file, Line: node.Line})
}

// ciliumTwice refuses a CiliumNetworkPolicy defined twice.
func (r *reader) ciliumTwice() {
	seen := map[string]CiliumPolicy{}
	for _, p := range r.set.Cilium {
		key := p.Namespace + "/" + p.Name
		if first, ok := seen[key]; ok {
			r.fail(p.File, p.Line, "CiliumNetworkPolicy "+key, fmt.Errorf("%w: first at %s:%d", ErrDuplicate, first.File, first.Line))
			continue
		}
		seen[key] = p
	}
}

// CiliumNetworkPolicies are the set's CiliumNetworkPolicies, in file order.
func (s *Set) CiliumNetworkPolicies() []ciliumv2.CiliumNetworkPolicy {
	out := make([]ciliumv2.CiliumNetworkPolicy, len(s.Cilium))
	for i, p := range s.Cilium {
		out[i] = p.CiliumNetworkPolicy
	}
	return out
}
