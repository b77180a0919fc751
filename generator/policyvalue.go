package generator

import (
	"unicode/utf8"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	yaml "go.yaml.in/yaml/v2"
)

// policyValue is the value marshalYAML's general path makes of a
// NetworkPolicy, built from its fields without the round trip through
// JSON: the fields the json tags keep, in the order YAML sorts their keys
// (TestPolicyValueKeyOrder holds them to it), with numbers as int and
// label maps left for YAML to sort. It says false for a policy with
// anything it does not build (object metadata other than the name,
// namespace, labels and annotations; a string that is not UTF-8, which
// JSON would replace; an IntOrString of no type), which takes the general
// path.
func policyValue(p *networkingv1.NetworkPolicy) (yaml.MapSlice, bool) {
	b := valueBuilder{ok: true}
	v := yaml.MapSlice{}
	v = b.str(v, "apiVersion", p.APIVersion)
	v = b.str(v, "kind", p.Kind)
	v = append(v, yaml.MapItem{Key: "metadata", Value: b.meta(&p.ObjectMeta)})
	v = append(v, yaml.MapItem{Key: "spec", Value: b.spec(&p.Spec)})
	return v, b.ok
}

// valueBuilder builds a policy's value, noting in ok whether all of it was
// what policyValue builds.
type valueBuilder struct{ ok bool }

// str adds a string field with omitempty.
func (b *valueBuilder) str(v yaml.MapSlice, key, s string) yaml.MapSlice {
	if s == "" {
		return v
	}
	b.valid(s)
	return append(v, yaml.MapItem{Key: key, Value: s})
}

func (b *valueBuilder) valid(s string) {
	if !utf8.ValidString(s) {
		b.ok = false
	}
}

// labels adds a map[string]string field with omitempty; YAML sorts its
// keys as it sorts those of the general path's map.
func (b *valueBuilder) labels(v yaml.MapSlice, key string, m map[string]string) yaml.MapSlice {
	if len(m) == 0 {
		return v
	}
	for k, s := range m {
		b.valid(k)
		b.valid(s)
	}
	return append(v, yaml.MapItem{Key: key, Value: m})
}

func (b *valueBuilder) meta(m *metav1.ObjectMeta) yaml.MapSlice {
	if m.GenerateName != "" || m.SelfLink != "" || m.UID != "" || m.ResourceVersion != "" || m.Generation != 0 ||
		!m.CreationTimestamp.IsZero() || m.DeletionTimestamp != nil || m.DeletionGracePeriodSeconds != nil ||
		len(m.OwnerReferences) > 0 || len(m.Finalizers) > 0 || len(m.ManagedFields) > 0 {
		b.ok = false
	}
	v := make(yaml.MapSlice, 0, 4)
	v = b.labels(v, "annotations", m.Annotations)
	v = b.labels(v, "labels", m.Labels)
	v = b.str(v, "name", m.Name)
	return b.str(v, "namespace", m.Namespace)
}

func (b *valueBuilder) spec(s *networkingv1.NetworkPolicySpec) yaml.MapSlice {
	v := make(yaml.MapSlice, 0, 4)
	if len(s.Egress) > 0 {
		rules := make([]any, len(s.Egress))
		for i, r := range s.Egress {
			rules[i] = b.rule(r.Ports, "to", r.To)
		}
		v = append(v, yaml.MapItem{Key: "egress", Value: rules})
	}
	if len(s.Ingress) > 0 {
		rules := make([]any, len(s.Ingress))
		for i, r := range s.Ingress {
			rules[i] = b.rule(r.Ports, "from", r.From)
		}
		v = append(v, yaml.MapItem{Key: "ingress", Value: rules})
	}
	v = append(v, yaml.MapItem{Key: "podSelector", Value: b.selector(&s.PodSelector)})
	if len(s.PolicyTypes) > 0 {
		types := make([]any, len(s.PolicyTypes))
		for i, t := range s.PolicyTypes {
			b.valid(string(t))
			types[i] = string(t)
		}
		v = append(v, yaml.MapItem{Key: "policyTypes", Value: types})
	}
	return v
}

// rule is an ingress or egress rule: its peers under key ("from" sorts
// before "ports", "to" after).
func (b *valueBuilder) rule(ports []networkingv1.NetworkPolicyPort, key string, peers []networkingv1.NetworkPolicyPeer) yaml.MapSlice {
	v := make(yaml.MapSlice, 0, 2)
	if key == "from" {
		v = b.peers(v, key, peers)
	}
	if len(ports) > 0 {
		list := make([]any, len(ports))
		for i := range ports {
			list[i] = b.port(&ports[i])
		}
		v = append(v, yaml.MapItem{Key: "ports", Value: list})
	}
	if key != "from" {
		v = b.peers(v, key, peers)
	}
	return v
}

func (b *valueBuilder) peers(v yaml.MapSlice, key string, peers []networkingv1.NetworkPolicyPeer) yaml.MapSlice {
	if len(peers) == 0 {
		return v
	}
	list := make([]any, len(peers))
	for i := range peers {
		list[i] = b.peer(&peers[i])
	}
	return append(v, yaml.MapItem{Key: key, Value: list})
}

func (b *valueBuilder) port(p *networkingv1.NetworkPolicyPort) yaml.MapSlice {
	v := make(yaml.MapSlice, 0, 3)
	if p.EndPort != nil {
		v = append(v, yaml.MapItem{Key: "endPort", Value: int(*p.EndPort)})
	}
	if p.Port != nil {
		v = append(v, yaml.MapItem{Key: "port", Value: b.intOrString(p.Port)})
	}
	if p.Protocol != nil {
		b.valid(string(*p.Protocol))
		v = append(v, yaml.MapItem{Key: "protocol", Value: string(*p.Protocol)})
	}
	return v
}

func (b *valueBuilder) intOrString(x *intstr.IntOrString) any {
	switch x.Type {
	case intstr.Int:
		return int(x.IntVal)
	case intstr.String:
		b.valid(x.StrVal)
		return x.StrVal
	}
	b.ok = false // JSON fails on it: the general path says so
	return nil
}

func (b *valueBuilder) peer(p *networkingv1.NetworkPolicyPeer) yaml.MapSlice {
	v := make(yaml.MapSlice, 0, 2)
	if p.IPBlock != nil {
		block := yaml.MapSlice{{Key: "cidr", Value: p.IPBlock.CIDR}}
		b.valid(p.IPBlock.CIDR)
		if len(p.IPBlock.Except) > 0 {
			block = append(block, yaml.MapItem{Key: "except", Value: b.strings(p.IPBlock.Except)})
		}
		v = append(v, yaml.MapItem{Key: "ipBlock", Value: block})
	}
	if p.NamespaceSelector != nil {
		v = append(v, yaml.MapItem{Key: "namespaceSelector", Value: b.selector(p.NamespaceSelector)})
	}
	if p.PodSelector != nil {
		v = append(v, yaml.MapItem{Key: "podSelector", Value: b.selector(p.PodSelector)})
	}
	return v
}

func (b *valueBuilder) selector(s *metav1.LabelSelector) yaml.MapSlice {
	v := make(yaml.MapSlice, 0, 2)
	if len(s.MatchExpressions) > 0 {
		list := make([]any, len(s.MatchExpressions))
		for i, r := range s.MatchExpressions {
			b.valid(r.Key)
			b.valid(string(r.Operator))
			req := yaml.MapSlice{{Key: "key", Value: r.Key}, {Key: "operator", Value: string(r.Operator)}}
			if len(r.Values) > 0 {
				req = append(req, yaml.MapItem{Key: "values", Value: b.strings(r.Values)})
			}
			list[i] = req
		}
		v = append(v, yaml.MapItem{Key: "matchExpressions", Value: list})
	}
	return b.labels(v, "matchLabels", s.MatchLabels)
}

func (b *valueBuilder) strings(ss []string) []any {
	list := make([]any, len(ss))
	for i, s := range ss {
		b.valid(s)
		list[i] = s
	}
	return list
}
