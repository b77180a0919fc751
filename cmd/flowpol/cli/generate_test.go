package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// scenarios are the bundled inputs with golden outputs: each directory has
// cluster.yaml, flows.jsonl, policies.golden.yaml and warnings.golden.
var scenarios = []struct {
	name  string
	dir   string
	until string
	args  []string
}{
	{name: "multi-tier app across namespaces", dir: "example", until: "2026-11-22T12:00:00Z"},
	{name: "dual stack, SCTP, NodePort", dir: "scenarios/dualstack", until: "2026-11-22T12:00:00Z"},
	{name: "a selector that also selects a canary", dir: "scenarios/overlap", until: "2026-11-22T12:00:00Z"},
	{name: "one workload reads the cloud metadata endpoint", dir: "scenarios/metadata", until: "2026-11-22T12:00:00Z"},
	{name: "a Service over two workloads, its servers silent in one bucket", dir: "scenarios/split", until: "2026-11-22T12:00:00Z"},
}

func learnScenario(t testing.TB, dir string, args ...string) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "flowpol.db")
	mustRun(t, append([]string{"learn", "--from", repoFile("testdata", dir, "flows.jsonl"),
		"--inventory", repoFile("testdata", dir, "cluster.yaml"), "--db", db}, args...)...)
	return db
}

func TestGenerateGolden(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			db := learnScenario(t, sc.dir)
			r := mustRun(t, append([]string{"generate", "--db", db, "--until", sc.until}, sc.args...)...)
			golden(t, repoFile("testdata", sc.dir, "policies.golden.yaml"), r.out)
			golden(t, repoFile("testdata", sc.dir, "warnings.golden"), r.err)
		})
	}
}

// The same flows must give byte-identical policies however they were
// batched, and on every run.
func TestGenerateDeterministic(t *testing.T) {
	until := scenarios[0].until
	a := mustRun(t, "generate", "--db", learnScenario(t, "example"), "--until", until).out
	b := mustRun(t, "generate", "--db", learnScenario(t, "example", "--batch-records", "3"), "--until", until).out
	if a != b {
		t.Fatalf("batching changed the output:\n%s", firstDiff(a, b))
	}
	db := learnScenario(t, "example")
	for range 3 {
		if c := mustRun(t, "generate", "--db", db, "--until", until).out; c != a {
			t.Fatalf("a second generate differs:\n%s", firstDiff(a, c))
		}
	}
}

func TestGenerateWindow(t *testing.T) {
	db := learnScenario(t, "example")
	tests := []struct {
		name    string
		args    []string
		want    []string
		wantNot []string
	}{
		{
			name:    "retired edge outside the window is left out",
			args:    []string{"--until", "2026-11-22T12:00:00Z", "--window", "3h"},
			want:    []string{"name: flowpol-deployment-frontend"},
			wantNot: []string{"legacy-session", "11211"},
		},
		{
			name: "a wider window brings it back",
			args: []string{"--until", "2026-11-22T12:00:00Z", "--window", "8h"},
			want: []string{"name: flowpol-deployment-legacy-session", "port: 11211"},
		},
		{
			name:    "a window before anything was seen is empty",
			args:    []string{"--until", "2026-11-22T05:00:00Z", "--window", "1h"},
			wantNot: []string{"kind: NetworkPolicy"},
		},
		{
			name:    "one namespace",
			args:    []string{"--until", "2026-11-22T12:00:00Z", "--namespace", "data"},
			want:    []string{"name: flowpol-statefulset-postgres"},
			wantNot: []string{"namespace: shop\n"},
		},
		{
			name: "kube-system on request",
			args: []string{"--until", "2026-11-22T12:00:00Z", "--skip-namespace="},
			want: []string{"name: flowpol-deployment-coredns"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := mustRun(t, append([]string{"generate", "--db", db}, tt.args...)...).out
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q", w)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(out, w) {
					t.Errorf("output has %q", w)
				}
			}
		})
	}
}

func TestGenerateToDirectory(t *testing.T) {
	db := learnScenario(t, "example")
	dir := t.TempDir()
	mine := filepath.Join(dir, "hand-written.yaml")
	if err := os.WriteFile(mine, []byte("kind: NetworkPolicy\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "generate", "--db", db, "--until", "2026-11-22T12:00:00Z", "--window", "8h", "-o", dir)
	if _, err := os.Stat(filepath.Join(dir, "shop.flowpol-deployment-legacy-session.yaml")); err != nil {
		t.Fatalf("8h window: %v", err)
	}
	r := mustRun(t, "generate", "--db", db, "--until", "2026-11-22T12:00:00Z", "-o", dir)
	if !strings.Contains(r.err, "removed shop.flowpol-deployment-legacy-session.yaml") {
		t.Errorf("stale policy not reported as removed:\n%s", r.err)
	}
	names, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range names {
		got = append(got, filepath.Base(n))
	}
	want := "data.flowpol-statefulset-postgres.yaml hand-written.yaml shop.flowpol-cronjob-report.yaml shop.flowpol-deployment-api.yaml shop.flowpol-deployment-frontend.yaml"
	if strings.Join(got, " ") != want {
		t.Errorf("files in the output directory:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	stream := mustRun(t, "generate", "--db", db, "--until", "2026-11-22T12:00:00Z").out
	one, err := os.ReadFile(filepath.Join(dir, "shop.flowpol-deployment-api.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stream, strings.TrimPrefix(string(one), "# Generated by flowpol from observed traffic. Regenerate rather than edit.\n")) {
		t.Errorf("the file's policy differs from the one on standard output")
	}
}

func TestGenerateErrors(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.db")
	if err := os.WriteFile(junk, []byte(strings.Repeat("not a database\n", 1000)), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing db", []string{"generate", "--db", filepath.Join(dir, "none.db")}, "none.db: no such file"},
		{"corrupt db", []string{"generate", "--db", junk}, "open " + junk},
		{"bad until", []string{"generate", "--db", junk, "--until", "noon"}, `--until "noon": not an RFC 3339 time`},
		{"bad window", []string{"generate", "--db", junk, "--window", "-1h"}, `invalid argument "-1h" for "--window" flag: must be positive`},
		{"unknown flag", []string{"generate", "--frobnicate"}, "unknown flag: --frobnicate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, "", tt.args...)
			if r.code != 1 || !strings.Contains(r.err, tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit 1 and %q", r.code, r.err, tt.want)
			}
		})
	}
}

// topology lists what was seen, per workload; the golden file holds the
// example's table.
func TestTopologyGolden(t *testing.T) {
	db := learnScenario(t, "example")
	r := mustRun(t, "topology", "--db", db, "--until", "2026-11-22T12:00:00Z")
	golden(t, repoFile("testdata", "example", "topology.golden"), r.out)
}
