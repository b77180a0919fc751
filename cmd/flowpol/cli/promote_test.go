package cli_test

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/flowpol/flowpol/cmd/flowpol/cli"
	"github.com/flowpol/flowpol/internal/kubeenv"
	"github.com/flowpol/flowpol/inventory"
)

// runAt runs a command line in-process with the clock at now.
func runAt(t testing.TB, now time.Time, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Run(context.Background(), args, cli.Streams{In: strings.NewReader(""), Out: &out, Err: &errb, Now: func() time.Time { return now }})
	return result{code: code, out: out.String(), err: errb.String()}
}

func policyNames(t testing.TB, cs kubernetes.Interface) []string {
	t.Helper()
	l, err := cs.NetworkingV1().NetworkPolicies("").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range l.Items {
		out = append(out, p.Namespace+"/"+p.Name)
	}
	slices.Sort(out)
	return out
}

func stagedEvents(t testing.TB, cs kubernetes.Interface) []corev1.Event {
	t.Helper()
	l, err := cs.CoreV1().Events("flowpol").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []corev1.Event
	for _, e := range l.Items {
		if e.Reason == "StagedPolicyWouldDeny" {
			out = append(out, e)
		}
	}
	return out
}

// Promotion against a real API server, with a test clock. The
// recommendation is staged from the ConfigMap; an override keeps the
// report job's connections to postgres out of the policies, so the
// postgres and report policies would deny them. Replayed on day 0 and
// again on day 4, they are dirty on day 8; the others
// have been clean since day 0. recommend --apply --promote-after
// 7d applies exactly the clean ones; 10d applies none. The first would-deny
// of each dirty policy is one Event on the ConfigMap, not one per replay.
// If it failed, promotion could enforce a policy that breaks traffic seen
// this week.
func TestPromoteAfter(t *testing.T) {
	env := kubeenv.Start(t)
	cs := env.Client()
	ctx := context.Background()
	inv, err := inventory.LoadFile(repoFile("testdata", "example", "cluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	createAll(t, cs, inv)
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "flowpol"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ov := filepath.Join(dir, "overrides.yaml")
	writeFile(t, ov, "exclude:\n  - from: shop/CronJob/report\n    to: data/StatefulSet/postgres\n")
	learned := filepath.Join(dir, "learned.db")
	mustRun(t, "learn", "--from", repoFile("testdata", "example", "flows.jsonl"), "--inventory", repoFile("testdata", "example", "cluster.yaml"), "--db", learned)
	day0 := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	cm := "flowpol/flowpol-recommendation"
	window := []string{"--until", "2026-11-22T12:00:00Z", "--window", "24h", "--overrides", ov, "--kubeconfig", env.Kubeconfig, "--configmap", cm}
	if r := runAt(t, day0, append([]string{"recommend", "--db", learned}, window...)...); r.code != 0 {
		t.Fatalf("recommend: exit %d\n%s", r.code, r.err)
	}

	agg := newAggregatorProc(t, dir)
	agg.args = append(agg.args, "--staged-configmap", cm, "--staged-kubeconfig", env.Kubeconfig, "--staged-refresh", "100ms")
	now := day0
	runAggregator(t, agg, func() time.Time { return now })
	files := splitByObserver(t, dir)
	replay := func(round string) {
		for i, f := range files {
			node := round + "-" + string(rune('a'+i))
			mustRun(t, "agent", "--server", agg.url(), "--token-file", agg.token, "--from", f, "--spool", filepath.Join(dir, "spool-"+node), "--node", node)
		}
	}
	replay("day0")
	now = day0.Add(4 * 24 * time.Hour)
	replay("day4")
	n := 0
	for range 100 { // the Events are recorded beside the commits
		if n = len(stagedEvents(t, cs)); n >= 2 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // one too many would show by now
	if n = len(stagedEvents(t, cs)); n != 2 {
		t.Errorf("%d StagedPolicyWouldDeny Events, want 2: one for each dirty policy's first would-deny", n)
	}

	now = day0.Add(8 * 24 * time.Hour)
	promote := append([]string{"recommend", "--server", agg.url(), "--token-file", agg.token, "--apply"}, window...)
	r := runAt(t, now, append(promote, "--promote-after", "10d")...)
	if r.code != 0 || len(policyNames(t, cs)) != 0 || !strings.Contains(r.out, "staged for 8d0h, less than 10d0h") {
		t.Errorf("--promote-after 10d on day 8: exit %d, applied %v; want nothing applied, and why\n%s%s", r.code, policyNames(t, cs), r.out, r.err)
	}
	r = runAt(t, now, append(promote, "--promote-after", "7d")...)
	want := []string{"shop/flowpol-deployment-api", "shop/flowpol-deployment-frontend", "shop/flowpol-deployment-legacy-session"}
	if got := policyNames(t, cs); r.code != 0 || !slices.Equal(got, want) {
		t.Errorf("--promote-after 7d on day 8: exit %d, applied %v, want %v\n%s", r.code, got, want, r.err)
	}
	summary := configMap(t, cs).Data["summary.txt"]
	for _, held := range []string{"still staged: data/flowpol-statefulset-postgres: would deny", "still staged: shop/flowpol-cronjob-report: would deny"} {
		if !strings.Contains(summary, held) {
			t.Errorf("the summary does not say %q:\n%s", held, summary)
		}
	}
	if r := run(t, "", "recommend", "--db", learned, "--kubeconfig", env.Kubeconfig, "--configmap", cm, "--promote-after", "7d"); r.code == 0 || !strings.Contains(r.err, "give --apply") {
		t.Errorf("--promote-after without --apply: exit %d\n%s", r.code, r.err)
	}
}
