package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// check replays the example's observed flows against a reviewer's edited
// policies (testdata/check/policies): the frontend no longer admitted by
// the api, and no DNS for the frontend. Each format has a golden file.
func TestCheckGolden(t *testing.T) {
	db := learnScenario(t, "example")
	for _, format := range []string{"text", "json", "github"} {
		t.Run(format, func(t *testing.T) {
			// Run from the repository root so that annotations name
			// files as a CI job sees them.
			t.Chdir(repoFile())
			r := run(t, "", "check", "--db", db, "--until", "2026-11-22T12:00:00Z", "--policies", filepath.Join("testdata", "check", "policies"), "--format", format)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1 (flows denied)\n%s", r.code, r.err)
			}
			golden(t, filepath.Join("testdata", "check", "denied."+format+".golden"), r.out)
		})
	}
}

func TestCheckExitCodes(t *testing.T) {
	db := learnScenario(t, "example")
	generated := t.TempDir()
	mustRun(t, "generate", "--db", db, "--until", "2026-11-22T12:00:00Z", "-o", generated)
	broken := filepath.Join(t.TempDir(), "broken.yaml")
	if err := os.WriteFile(broken, []byte("kind: NetworkPolicy\napiVersion: networking.k8s.io/v1\nmetadata: {name: x, namespace: shop}\nspec: {podSelector: {matchLabels: [1]}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"generated policies allow everything observed", []string{"--policies", generated}, 0, "0 of 10 observed flows would be denied"},
		{"an empty policy set isolates nothing", []string{"--policies", t.TempDir()}, 0, "0 of 10 observed flows would be denied"},
		{"edited policies deny", []string{"--policies", repoFile("testdata", "check", "policies")}, 1, "2 of 10 observed flows would be denied"},
		{"a broken policy file", []string{"--policies", broken}, 2, broken + ":4: NetworkPolicy shop/x: "},
		{"no policies", []string{}, 2, "at least one of the flags in the group [policies kubeconfig] is required"},
		{"a bad format", []string{"--policies", generated, "--format", "xml"}, 2, `--format "xml"`},
		{"an unknown flag", []string{"--policies", generated, "--frobnicate"}, 2, "unknown flag"},
		{"a missing baseline", []string{"--policies", generated, "--db", filepath.Join(t.TempDir(), "none.db")}, 2, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"check", "--db", db, "--until", "2026-11-22T12:00:00Z"}, tt.args...)
			r := run(t, "", args...)
			if r.code != tt.code || !strings.Contains(r.out+r.err, tt.want) {
				t.Fatalf("exit %d, output %q %q; want exit %d and %q", r.code, r.out, r.err, tt.code, tt.want)
			}
		})
	}
}
