package cli_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flowpol/flowpol/internal/kubeenv"
	"github.com/flowpol/flowpol/inventory"
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

// TestRecommendSummaryNotes: the recommendation job publishes, in its
// ConfigMap's summary as in its log, the CronJob that had no run inside
// the window and the workloads held back for --min-coverage. If it
// failed, whoever reads the recommendation would not learn that the
// report job's traffic is in no policy.
func TestRecommendSummaryNotes(t *testing.T) {
	env := kubeenv.Start(t)
	cs := env.Client()
	inv, err := inventory.LoadFile(repoFile("testdata", "example", "cluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	createAll(t, cs, inv)
	if _, err := cs.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "flowpol"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	db := learnScenario(t, "example")
	// Before the report CronJob's 10:30 run: its traffic is not in the window.
	r := mustRun(t, "recommend", "--db", db, "--until", "2026-11-22T10:20:00Z", "--window", "20m", "--min-coverage", "10m",
		"--kubeconfig", env.Kubeconfig, "--configmap", "flowpol/flowpol-recommendation")
	summary := configMap(t, cs).Data["summary.txt"]
	for _, want := range []string{
		"warning: shop/CronJob/report: no run inside the window (never scheduled): its traffic is not in these policies",
		"held back: data/StatefulSet/postgres: observed 1 day with traffic over 0s",
	} {
		if !strings.Contains(summary, want) {
			t.Errorf("the summary lacks %q:\n%s", want, summary)
		}
		if !strings.Contains(r.err, strings.Replace(strings.TrimPrefix(want, "held back: "), "warning: ", "", 1)) {
			t.Errorf("the log lacks %q:\n%s", want, r.err)
		}
	}
}
