package policyfile

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

const clusterPolicyYAML = "apiVersion: policy.networking.k8s.io/v1beta1\nkind: ClusterNetworkPolicy\nmetadata: {name: metadata}\nspec:\n  tier: Admin\n  priority: 10\n" +
	"  subject: {namespaces: {}}\n  egress:\n  - name: metadata\n    action: Deny\n    to: [{networks: [169.254.169.254/32]}]\n"

// With Options.Cluster, ClusterNetworkPolicies are read beside
// NetworkPolicies, strictly, and checked as their CRD checks them; every
// problem is at its file and line.
func TestLoadCluster(t *testing.T) {
	tests := []struct {
		name string
		data string
		line int // of the error; 0: read
		want error
		text string
	}{
		{"a policy", clusterPolicyYAML, 0, nil, ""},
		{"an unknown field", strings.Replace(clusterPolicyYAML, "networks:", "network:", 1), 11, nil, `unknown field "spec.egress[0].to[0].network"`},
		{"a tier that is none", strings.Replace(clusterPolicyYAML, "tier: Admin", "tier: Developer", 1), 4, ErrInvalid, `spec.tier "Developer"`},
		{"a priority out of range", strings.Replace(clusterPolicyYAML, "priority: 10", "priority: 1001", 1), 4, ErrInvalid, "spec.priority 1001: want 0 to 1000"},
		{"two subjects", strings.Replace(clusterPolicyYAML, "{namespaces: {}}", "{namespaces: {}, pods: {namespaceSelector: {}, podSelector: {}}}", 1), 4, ErrInvalid, "spec.subject: want exactly one"},
		{"an action that is none", strings.Replace(clusterPolicyYAML, "action: Deny", "action: Allow", 1), 4, ErrInvalid, `spec.egress[0]: action "Allow"`},
		{"a network that is none", strings.Replace(clusterPolicyYAML, "169.254.169.254/32", "169.254.169.254/33", 1), 4, ErrInvalid, "spec.egress[0].to[0].networks[0]"},
		{"a policy twice", clusterPolicyYAML + "---\n" + clusterPolicyYAML, 13, ErrDuplicate, "ClusterNetworkPolicy metadata"},
		{"another version", strings.Replace(clusterPolicyYAML, "v1beta1", "v1alpha1", 1), 1, ErrUnknownKind, "ClusterNetworkPolicy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "p.yaml")
			write(t, filepath.Join(dir, "a.yaml"), denyAll)
			write(t, file, tt.data)
			set, err := Load(dir, nil, Options{Cluster: true})
			if tt.line == 0 {
				if err != nil || len(set.Cluster) != 1 || len(set.Policies) != 1 || set.ClusterNetworkPolicies()[0].Spec.Egress[0].To[0].Networks[0] != "169.254.169.254/32" {
					t.Fatalf("got %+v, %v; want the ClusterNetworkPolicy and the NetworkPolicy", set, err)
				}
				return
			}
			var pe *Error
			if !errors.As(err, &pe) || pe.File != file || pe.Line != tt.line || (tt.want != nil && !errors.Is(err, tt.want)) || !strings.Contains(err.Error(), tt.text) {
				t.Errorf("error %q, want %v at %s:%d with %q", err, tt.want, file, tt.line, tt.text)
			}
		})
	}
	t.Run("without the option it is an unknown kind", func(t *testing.T) {
		dir := t.TempDir()
		write(t, filepath.Join(dir, "p.yaml"), clusterPolicyYAML)
		if _, err := Load(dir, nil, Options{}); !errors.Is(err, ErrUnknownKind) {
			t.Fatalf("error %v, want %v", err, ErrUnknownKind)
		}
	})
}
