package cli_test

import (
	"path/filepath"
	"strings"
	"testing"
)

// diff against the reviewer's edited policies names the rules generate
// would bring back, and shows the YAML; the golden file holds both.
func TestDiffGolden(t *testing.T) {
	db := learnScenario(t, "example")
	t.Chdir(repoFile())
	r := run(t, "", "diff", "--db", db, "--until", "2026-11-22T12:00:00Z", "--against", filepath.Join("testdata", "check", "policies"))
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (they differ)\n%s", r.code, r.err)
	}
	golden(t, filepath.Join("testdata", "check", "diff.golden"), r.out)
}

func TestDiffExitCodes(t *testing.T) {
	db := learnScenario(t, "example")
	until := "2026-11-22T12:00:00Z"
	same := t.TempDir()
	mustRun(t, "generate", "--db", db, "--until", until, "-o", same)
	wider := t.TempDir()
	mustRun(t, "generate", "--db", db, "--until", until, "--window", "8h", "-o", wider)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"what generate wrote", []string{"--against", same}, 0, "no changes"},
		{"a retired workload's policy goes", []string{"--against", wider}, 1, "remove shop/flowpol-deployment-legacy-session"},
		{"an empty directory gets every policy", []string{"--against", t.TempDir()}, 1, "add shop/flowpol-deployment-api"},
		{"nothing to compare with", []string{}, 2, "at least one of the flags in the group [against kubeconfig] is required"},
		{"a missing directory", []string{"--against", filepath.Join(t.TempDir(), "none")}, 2, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, "", append([]string{"diff", "--db", db, "--until", until}, tt.args...)...)
			if r.code != tt.code || !strings.Contains(r.out+r.err, tt.want) {
				t.Fatalf("exit %d, output %q %q; want exit %d and %q", r.code, r.out, r.err, tt.code, tt.want)
			}
		})
	}
}
