package generator

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// TestMarshalYAMLAsSigsYAML holds marshalYAML to the bytes
// sigs.k8s.io/yaml writes, on values whose scalars YAML could read as
// something else (numbers, booleans, nulls, timestamps in strings), keys it
// sorts in its natural order, empty maps and lists, and numbers of every
// size. A difference would change every policy file flowpol writes.
func TestMarshalYAMLAsSigsYAML(t *testing.T) {
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	port, named := intstr.FromInt32(8080), intstr.FromString("http")
	end := int32(9090)
	tests := []struct {
		name string
		v    any
	}{
		{name: "policy", v: &networkingv1.NetworkPolicy{
			TypeMeta: metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
			ObjectMeta: metav1.ObjectMeta{Name: "a-1", Namespace: "shop", Annotations: map[string]string{
				"flowpol.io/a10": "true", "flowpol.io/a9": "1.0", "flowpol.io/a": "2026-11-22", "x": "~", "y": "yes", "z": "- a\nb: c", "w": "",
			}, Labels: map[string]string{"app": "0x10", "n": "012"}},
			Spec: networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "api"}},
				PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
				Ingress: []networkingv1.NetworkPolicyIngressRule{{
					From:  []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{}, PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"k": "v"}}}},
					Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &port, EndPort: &end}, {Protocol: &udp, Port: &named}},
				}},
				Egress: []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8", Except: []string{"10.1.0.0/16"}}}}}, {}},
			},
		}},
		{name: "numbers", v: map[string]any{"int": 1, "neg": -7, "zero": 0, "big": uint64(1) << 63, "min": int64(-1) << 63, "float": 1.5, "huge": 1e21, "tiny": 1e-9, "list": []int{}, "map": map[string]int{}, "nil": nil}},
		{name: "natural key order", v: map[string]int{"a10": 1, "a9": 2, "a": 3, "B": 4, "1": 5, "10": 6, "2": 7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := yaml.Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			got, err := marshalYAML(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("marshalYAML wrote\n%s\nwhere sigs.k8s.io/yaml writes\n%s", got, want)
			}
		})
	}
}
