package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The example as CiliumNetworkPolicies, with a default deny: the golden
// file is what a Cilium user would kubectl apply. (The example's only node
// traffic is a pod's own node's, which gets no rule: remote-node is
// covered by the generator's table tests.)
func TestGenerateCiliumGolden(t *testing.T) {
	db := learnScenario(t, "example")
	r := mustRun(t, "generate", "--db", db, "--until", "2026-11-22T12:00:00Z", "--format", "cilium", "--default-deny")
	golden(t, repoFile("testdata", "example", "cilium.golden.yaml"), r.out)
	for _, want := range []string{"kind: CiliumNetworkPolicy", "kube-apiserver", "toCIDRSet", "name: flowpol-default-deny"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("the output has no %q", want)
		}
	}
}

// diff --format cilium reads the CiliumNetworkPolicies generate wrote and
// finds nothing to change; a policy edited by hand, one removed and a
// broken file are reported as for NetworkPolicies.
func TestDiffCilium(t *testing.T) {
	db := learnScenario(t, "example")
	until := "2026-11-22T12:00:00Z"
	same := t.TempDir()
	mustRun(t, "generate", "--db", db, "--until", until, "--format", "cilium", "-o", same)
	edited := t.TempDir()
	mustRun(t, "generate", "--db", db, "--until", until, "--format", "cilium", "-o", edited)
	api := filepath.Join(edited, "shop.flowpol-deployment-api.yaml")
	b, err := os.ReadFile(api)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(api, []byte(strings.Replace(string(b), "kube-apiserver", "world", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(edited, "shop.flowpol-deployment-frontend.yaml")); err != nil {
		t.Fatal(err)
	}
	broken := t.TempDir()
	if err := os.WriteFile(filepath.Join(broken, "p.yaml"), []byte("apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: x, namespace: shop}\nspec:\n  endpointSelector: {}\n  egress:\n  - toPorts: [{ports: [{port: \"80\", protocol: TCPX}]}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"what generate wrote", []string{"--against", same}, 0, []string{"no changes"}},
		{"an edited and a removed policy", []string{"--against", edited}, 1, []string{
			"change shop/flowpol-deployment-api", "egress: new peer entity kube-apiserver on 6443/TCP", "egress: removed peer entity world",
			"add shop/flowpol-deployment-frontend", "+++ b/shop.flowpol-deployment-frontend.yaml"}},
		{"NetworkPolicies are not CiliumNetworkPolicies", []string{"--against", repoFile("testdata", "check", "policies")}, 1, []string{"add shop/flowpol-deployment-api", "ignored: "}},
		{"a policy Cilium would refuse", []string{"--against", broken}, 2, []string{"p.yaml:", "CiliumNetworkPolicy shop/x"}},
		{"an unknown format", []string{"--against", same, "--format", "calico"}, 2, []string{`--format "calico": want yaml, cilium or clusternetworkpolicy`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, "", append([]string{"diff", "--db", db, "--until", until, "--format", "cilium"}, tt.args...)...)
			for _, want := range tt.want {
				if r.code != tt.code || !strings.Contains(r.out+r.err, want) {
					t.Fatalf("exit %d, output %q %q; want exit %d and %q", r.code, r.out, r.err, tt.code, want)
				}
			}
		})
	}
}
