package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const until = "2026-11-22T12:00:00Z"

// policyCommands are the commands that read policy files, each with the
// flag that names them (the directory is appended).
func policyCommands(db string) map[string][]string {
	inv := repoFile("testdata", "example", "cluster.yaml")
	return map[string][]string{
		"check":    {"check", "--db", db, "--until", until, "--policies"},
		"diff":     {"diff", "--db", db, "--until", until, "--against"},
		"compile":  {"compile", "-o", filepath.Join(filepath.Dir(db), "rules.yaml"), "--policies"},
		"topology": {"topology", "--db", db, "--until", until, "--policies"},
		"enforce":  {"enforce", "--mode", "audit", "--inventory", inv, "--policies"},
	}
}

// A policy directory with something in it that is not what the commands
// read, or a policy the API server would refuse, beside the generated
// policies, is an error naming the file and line (and the policy), in
// every command that reads policies: read only in part, the set would let
// check pass a change that denies everything.
func TestPolicyFilesRefused(t *testing.T) {
	db := learnScenario(t, "example")
	generated := t.TempDir()
	mustRun(t, "generate", "--db", db, "--until", until, "-o", generated)
	tests := []struct {
		name, data string
		want       string // after "FILE:"
	}{
		{"a misspelled kind", "# deny all\nkind: Networkpolicy\napiVersion: networking.k8s.io/v1\nmetadata: {name: deny-all, namespace: shop}\nspec: {podSelector: {}}\n", "2: Networkpolicy shop/deny-all: kind Networkpolicy"},
		{"an old apiVersion", "apiVersion: networking.k8s.io/v1beta1\nkind: NetworkPolicy\nmetadata: {name: deny-all, namespace: shop}\nspec: {podSelector: {}}\n", "1: NetworkPolicy shop/deny-all: apiVersion networking.k8s.io/v1beta1"},
		{"not an object", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\n---\n- deny\n- all\n", "5: not a Kubernetes object"},
		{"broken YAML", "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: x\n   namespace: shop\n", "5: YAML"},
		{"an unknown field", "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x, namespace: shop}\nspec:\n  podSelector: {}\n  egres: []\n", `6: NetworkPolicy shop/x: unknown field "spec.egres"`},
		{"endPort below port", "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x, namespace: shop}\nspec:\n  podSelector: {}\n  ingress:\n  - ports:\n    - port: 90\n      endPort: 80\n", "9: NetworkPolicy shop/x: spec.ingress[0].ports[0].endPort"},
		{"an exception outside its cidr", "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x, namespace: shop}\nspec:\n  podSelector: {}\n  egress:\n  - to:\n    - ipBlock:\n        cidr: 10.0.0.0/16\n        except:\n        - 10.1.0.0/24\n", "11: NetworkPolicy shop/x: spec.egress[0].to[0].ipBlock.except[0]"},
		{"an invalid CIDR", "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x, namespace: shop}\nspec:\n  podSelector: {}\n  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/33}}]}]\n", "6: NetworkPolicy shop/x: spec.egress[0].to[0].ipBlock.cidr"},
	}
	for _, tt := range tests {
		for name, args := range policyCommands(db) {
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				dir := t.TempDir()
				copyDir(t, generated, dir)
				bad := filepath.Join(dir, "team", "bad.yaml")
				writeFile(t, bad, tt.data)
				r := run(t, "", append(args, dir)...)
				if r.code == 0 || (name == "check" || name == "diff") && r.code != 2 || !strings.Contains(r.err, bad+":"+tt.want) {
					t.Fatalf("exit %d, stderr %q; want an error with %q", r.code, r.err, bad+":"+tt.want)
				}
			})
		}
	}
}

// Kinds that sit beside policies, and files that are not YAML, are listed
// as ignored; a policy without a namespace is read as in "default", with a
// warning naming the file.
func TestPolicyFilesIgnoredAndWarned(t *testing.T) {
	db := learnScenario(t, "example")
	dir := t.TempDir()
	mustRun(t, "generate", "--db", db, "--until", until, "-o", dir)
	kustomization := filepath.Join(dir, "kustomization.yaml")
	writeFile(t, kustomization, "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n")
	readme := filepath.Join(dir, "README.md")
	writeFile(t, readme, "# policies\n")
	nons := filepath.Join(dir, "default.yaml")
	writeFile(t, nons, "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny-all}\nspec: {podSelector: {}}\n")
	r := run(t, "", "check", "--db", db, "--until", until, "--policies", dir)
	for _, want := range []string{
		"ignored: " + kustomization + ":1: Kustomization",
		"ignored: " + readme + " (not a .yaml, .yml or .json file)",
		"warning: " + nons + `:1: NetworkPolicy deny-all: no namespace: read as namespace "default"`,
	} {
		if !strings.Contains(r.err, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.err)
		}
	}
	if r.code != 0 || !strings.Contains(r.out, "0 of 10 observed flows would be denied") {
		t.Errorf("exit %d, stdout %q: want the generated policies to deny nothing", r.code, r.out)
	}
}

// check reports the exclusions that matched nothing, as generate does; it
// applies no other overrides, so it reports no others.
func TestCheckOverridesUnmatched(t *testing.T) {
	db := learnScenario(t, "example")
	dir := t.TempDir()
	mustRun(t, "generate", "--db", db, "--until", until, "-o", dir)
	file := repoFile("testdata", "overrides", "unmatched.yaml")
	r := run(t, "", "check", "--db", db, "--until", until, "--policies", dir, "--overrides", file)
	if want := "warning: override " + file + ":3: exclude matched nothing"; !strings.Contains(r.err, want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.err)
	}
	if strings.Contains(r.err, "widen") || r.code != 0 {
		t.Errorf("exit %d, stderr %q: want exit 0 and only the exclusion reported", r.code, r.err)
	}
}

func copyDir(t testing.TB, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(to, e.Name()), string(b))
	}
	if err := os.MkdirAll(filepath.Join(to, "team"), 0o755); err != nil {
		t.Fatal(err)
	}
}
