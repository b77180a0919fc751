package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The example's policies compile to the golden rules, and generate
// --format enforcer writes the same rules straight from the baseline.
func TestCompileGolden(t *testing.T) {
	r := mustRun(t, "compile", "--policies", repoFile("testdata", "example", "policies.golden.yaml"))
	golden(t, repoFile("testdata", "enforcer", "rules.golden.yaml"), r.out)

	db := learnScenario(t, "example")
	g := mustRun(t, "generate", "--db", db, "--until", "2026-11-22T12:00:00Z", "--format", "enforcer")
	if g.out != r.out {
		t.Errorf("generate --format enforcer differs from compiling the generated policies:\n%s", firstDiff(r.out, g.out))
	}
	out := filepath.Join(t.TempDir(), "rules.yaml")
	mustRun(t, "compile", "--policies", repoFile("testdata", "example", "policies.golden.yaml"), "-o", out)
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != r.out {
		t.Errorf("compile -o wrote other rules:\n%s", firstDiff(r.out, string(got)))
	}
}

func TestCompileAndEnforceErrors(t *testing.T) {
	dir := t.TempDir()
	badPolicy := filepath.Join(dir, "bad.yaml")
	writeFile(t, badPolicy, `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  podSelector: {}
  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/33}}]}]
`)
	badRules := filepath.Join(dir, "rules.yaml")
	writeFile(t, badRules, "apiVersion: flowpol.io/v1alpha1\nkind: EnforcerRules\nidentities: []\nisolation: []\nrules: []\nextra: 1\n")
	danglingRules := filepath.Join(dir, "dangling.yaml")
	writeFile(t, danglingRules, "apiVersion: flowpol.io/v1alpha1\nkind: EnforcerRules\nidentities: []\nisolation: []\nrules: [{id: 1, policy: a/b, direction: Ingress, index: 0, subject: 7}]\n")
	misnumbered := filepath.Join(dir, "misnumbered.yaml")
	writeFile(t, misnumbered, "apiVersion: flowpol.io/v1alpha1\nkind: EnforcerRules\nidentities: [{id: 1, namespace: a}]\nisolation: []\nrules: [{id: 2, policy: a/b, direction: Ingress, index: 0, subject: 1}]\n")
	inv := repoFile("testdata", "example", "cluster.yaml")
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"invalid CIDR names the file, line and policy", []string{"compile", "--policies", badPolicy}, badPolicy + ":6: NetworkPolicy shop/web: spec.egress[0].to[0].ipBlock.cidr"},
		{"no policies", []string{"compile"}, `required flag(s) "policies" not set`},
		{"unknown field names the file", []string{"enforce", "--rules", badRules, "--inventory", inv}, badRules + `: error unmarshaling JSON: while decoding JSON: json: unknown field "extra"`},
		{"unknown identity", []string{"enforce", "--rules", danglingRules, "--inventory", inv}, "rules[0] (id 1): unknown subject 7"},
		{"rule ids are their places", []string{"enforce", "--rules", misnumbered, "--inventory", inv}, "rules[0]: id 2, want 1"},
		{"nothing to enforce", []string{"enforce", "--inventory", inv}, "--policies DIR or --rules FILE"},
		{"bad mode", []string{"enforce", "--mode", "block", "--rules", badRules, "--inventory", inv}, `--mode "block"`},
		{"unpin without pin", []string{"enforce", "--unpin"}, "--unpin needs --pin DIR"},
		{"bad format", []string{"generate", "--format", "xml"}, `--format "xml"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, "", tt.args...)
			if r.code == 0 || !strings.Contains(r.err, tt.want) {
				t.Errorf("exit %d, stderr %q; want an error with %q", r.code, r.err, tt.want)
			}
		})
	}
}
