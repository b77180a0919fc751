package policyfile

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

const cnp = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: api, namespace: shop}\nspec:\n  endpointSelector: {matchLabels: {app: api}}\n  egress:\n  - toFQDNs: [{matchName: api.example.com}]\n    toPorts: [{ports: [{port: \"443\", protocol: TCP}]}]\n"

// With Options.Cilium, CiliumNetworkPolicies are read beside
// NetworkPolicies, strictly, and checked as Cilium checks them; every
// problem is at its file and line.
func TestLoadCilium(t *testing.T) {
	tests := []struct {
		name string
		data string
		line int // of the error; 0: read
		want error
		text string
	}{
		{"a policy", cnp, 0, nil, ""},
		{"an unknown field", strings.Replace(cnp, "toFQDNs", "toFQDN", 1), 7, nil, `unknown field "spec.egress[0].toFQDN"`},
		{"a policy Cilium refuses", strings.Replace(cnp, "api.example.com", "bad name!", 1), 4, ErrInvalid, "CiliumNetworkPolicy shop/api"},
		{"no spec", "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: api, namespace: shop}\n", 1, ErrInvalid, "spec or specs"},
		{"a policy twice", cnp + "---\n" + cnp, 10, ErrDuplicate, "first at"},
		{"another version", strings.Replace(cnp, "cilium.io/v2", "cilium.io/v3", 1), 1, ErrUnknownKind, "CiliumNetworkPolicy shop/api"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "p.yaml")
			write(t, filepath.Join(dir, "a.yaml"), denyAll)
			write(t, file, tt.data)
			set, err := Load(dir, nil, Options{Cilium: true})
			if tt.line == 0 {
				if err != nil || len(set.Cilium) != 1 || len(set.Policies) != 1 || set.Cilium[0].Spec.Egress[0].ToFQDNs[0].MatchName != "api.example.com" {
					t.Fatalf("got %+v, %v; want the CiliumNetworkPolicy and the NetworkPolicy", set, err)
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
		write(t, filepath.Join(dir, "p.yaml"), cnp)
		if _, err := Load(dir, nil, Options{}); !errors.Is(err, ErrUnknownKind) {
			t.Fatalf("error %v, want %v", err, ErrUnknownKind)
		}
	})
}
