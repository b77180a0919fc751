package cli_test

import (
	"path/filepath"
	"strings"
	"testing"
)

// Each override kind, and the thresholds, on the example: golden policies
// and warnings.
func TestOverridesGolden(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		extra bool // learn testdata/overrides/externals.jsonl too
	}{
		{name: "exclude", args: []string{"--overrides", "exclude.yaml"}},
		{name: "allow", args: []string{"--overrides", "allow.yaml"}},
		{name: "widen", args: []string{"--overrides", "widen.yaml"}, extra: true},
		{name: "collapse", args: []string{"--overrides", "collapse.yaml"}, extra: true},
		{name: "selectors", args: []string{"--overrides", "selectors.yaml"}},
		{name: "skip", args: []string{"--overrides", "skip.yaml"}},
		{name: "unmatched", args: []string{"--overrides", "unmatched.yaml"}},
		{name: "thresholds", args: []string{"--min-count", "10", "--min-pods", "1"}},
		{name: "default-deny", args: []string{"--default-deny", "--window", "3h"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := learnScenario(t, "example")
			if tt.extra {
				mustRun(t, "learn", "--from", repoFile("testdata", "overrides", "externals.jsonl"),
					"--inventory", repoFile("testdata", "example", "cluster.yaml"), "--db", db)
			}
			t.Chdir(repoFile("testdata", "overrides"))
			r := mustRun(t, append([]string{"generate", "--db", db, "--until", "2026-11-22T12:00:00Z"}, tt.args...)...)
			golden(t, tt.name+".policies.golden.yaml", r.out)
			golden(t, tt.name+".warnings.golden", r.err)
		})
	}
}

// An override that matches nothing is reported, entry by entry, with its
// line.
func TestOverridesUnmatchedReported(t *testing.T) {
	db := learnScenario(t, "example")
	file := repoFile("testdata", "overrides", "unmatched.yaml")
	r := mustRun(t, "generate", "--db", db, "--until", "2026-11-22T12:00:00Z", "--overrides", file)
	for _, want := range []string{
		file + ":3: exclude matched nothing",
		file + ":5: allow for shop/Deployment/ghost",
		file + ":8: widen 192.0.2.0/24 matched nothing",
		file + ":10: selectors for shop/Deployment/apii matched nothing",
		file + ": skipNamespaces monitorng matched nothing",
	} {
		if !strings.Contains(r.err, want) {
			t.Errorf("warnings lack %q:\n%s", want, r.err)
		}
	}
}

// check with the same overrides does not count excluded flows as denied;
// without them it does, as the policies deny them.
func TestCheckWithOverrides(t *testing.T) {
	db := learnScenario(t, "example")
	exclude := repoFile("testdata", "overrides", "exclude.yaml")
	dir := t.TempDir()
	mustRun(t, "generate", "--db", db, "--until", "2026-11-22T12:00:00Z", "--overrides", exclude, "-o", dir)
	r := run(t, "", "check", "--db", db, "--until", "2026-11-22T12:00:00Z", "--policies", dir)
	if r.code != 1 || !strings.Contains(r.out, "shop/Deployment/frontend -> shop/Deployment/api 8080/TCP") ||
		!strings.Contains(r.out, "shop/Deployment/api -> external/203.0.113.10 443/TCP") || !strings.Contains(r.out, "2 of 10") {
		t.Fatalf("without overrides: exit %d, want exactly the two excluded flows denied\n%s", r.code, r.out)
	}
	r = run(t, "", "check", "--db", db, "--until", "2026-11-22T12:00:00Z", "--policies", dir, "--overrides", exclude)
	if r.code != 0 || !strings.Contains(r.err, "excluded by "+exclude) {
		t.Fatalf("with overrides: exit %d\n%s%s", r.code, r.out, r.err)
	}
}

func TestOverridesErrors(t *testing.T) {
	db := learnScenario(t, "example")
	bad := filepath.Join(t.TempDir(), "o.yaml")
	writeFile(t, bad, "exclude:\n  - from: shop/Deployment/frontend\n    prots: [\"80\"]\n")
	r := run(t, "", "generate", "--db", db, "--overrides", bad)
	if r.code != 1 || !strings.Contains(r.err, bad+":2: field prots not found") {
		t.Fatalf("exit %d, stderr %q; want the file, line and key", r.code, r.err)
	}
}
