package cli_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestGenerateMinCoverage: --min-coverage holds back, and does not write,
// the policies of the example's workloads observed over less than it,
// says so with their span, and takes days as --window does; the policies
// written say their days with traffic. If it failed, a workload seen for
// minutes would be locked to those minutes' traffic without a word.
func TestGenerateMinCoverage(t *testing.T) {
	db := learnScenario(t, "example")
	dir := t.TempDir()
	r := mustRun(t, "generate", "--db", db, "--until", exampleUntil, "--min-coverage", "1h", "-o", dir)
	for _, want := range []string{
		"held back, below threshold: data/StatefulSet/postgres: observed 1 day with traffic over 25m2s (2026-11-22T10:05:01Z to 2026-11-22T10:30:03Z), less than the minimum coverage 1h: no policy",
		"held back, below threshold: shop/CronJob/report: observed 1 day with traffic over 1s (2026-11-22T10:30:02Z",
		"wrote 2 policies",
	} {
		if !strings.Contains(r.err, want) {
			t.Errorf("standard error lacks %q:\n%s", want, r.err)
		}
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range files {
		files[i] = filepath.Base(files[i])
	}
	if want := []string{"shop.flowpol-deployment-api.yaml", "shop.flowpol-deployment-frontend.yaml"}; !slices.Equal(files, want) {
		t.Errorf("wrote %v, want %v", files, want)
	}
	data, err := os.ReadFile(filepath.Join(dir, "shop.flowpol-deployment-api.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `flowpol.io/observed-days: "1"`) {
		t.Errorf("the policy does not say its days with traffic:\n%s", data)
	}
	r = mustRun(t, "generate", "--db", db, "--until", exampleUntil, "--min-coverage", "1d", "-o", t.TempDir())
	if !strings.Contains(r.err, "wrote 0 policies") || !strings.Contains(r.err, "less than the minimum coverage 24h") {
		t.Errorf("--min-coverage 1d: want everything held back:\n%s", r.err)
	}
	if r := run(t, "", "generate", "--db", db, "--min-coverage", "-1d"); r.code == 0 {
		t.Error("a negative --min-coverage was accepted")
	}
}
