package cli_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/flowpol/flowpol/internal/kubeenv"
	"github.com/flowpol/flowpol/inventory"
)

func countPolicies(t testing.TB, cs kubernetes.Interface) int {
	t.Helper()
	l, err := cs.NetworkingV1().NetworkPolicies("").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return len(l.Items)
}

// The scheduled job's command: it publishes the policies and the diff in a
// ConfigMap and the log, applies nothing unless told to, refuses to write
// over a policy flowpol does not manage, and once applied finds no changes.
func TestRecommend(t *testing.T) {
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
	db := filepath.Join(t.TempDir(), "f.db")
	mustRun(t, "learn", "--from", repoFile("testdata", "example", "flows.jsonl"), "--inventory", repoFile("testdata", "example", "cluster.yaml"), "--db", db)
	golden, err := os.ReadFile(repoFile("testdata", "example", "policies.golden.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"recommend", "--db", db, "--until", "2026-11-22T12:00:00Z", "--kubeconfig", env.Kubeconfig, "--configmap", "flowpol/flowpol-recommendation"}

	r := mustRun(t, args...)
	cm := configMap(t, cs)
	if cm.Data["policies.yaml"] != string(golden) {
		t.Errorf("published policies differ from generate's:\n%s", firstDiff(string(golden), cm.Data["policies.yaml"]))
	}
	if !strings.Contains(cm.Data["diff.txt"], "add shop/flowpol-deployment-api") || !strings.Contains(r.out, "add shop/flowpol-deployment-api") {
		t.Errorf("the diff, in the ConfigMap and the log, lacks the new policy:\n%s", cm.Data["diff.txt"])
	}
	if !strings.Contains(cm.Data["summary.txt"], "applied: no") || countPolicies(t, cs) != 0 {
		t.Errorf("without --apply something was applied (%d policies):\n%s", countPolicies(t, cs), cm.Data["summary.txt"])
	}

	// A policy of the same name that flowpol does not manage stops --apply
	// before anything is written.
	theirs := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "flowpol-deployment-api", Namespace: "shop"}}
	if _, err := cs.NetworkingV1().NetworkPolicies("shop").Create(ctx, theirs, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	before := configMap(t, cs).ResourceVersion
	r = run(t, "", append(args, "--apply")...)
	if r.code == 0 || !strings.Contains(r.err, "NetworkPolicy shop/flowpol-deployment-api exists and flowpol does not manage it") {
		t.Errorf("apply over an unmanaged policy: exit %d\n%s", r.code, r.err)
	}
	if n := countPolicies(t, cs); n != 1 || configMap(t, cs).ResourceVersion != before {
		t.Errorf("a refused apply wrote something: %d policies, ConfigMap changed: %v", n, configMap(t, cs).ResourceVersion != before)
	}
	if err := cs.NetworkingV1().NetworkPolicies("shop").Delete(ctx, theirs.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	r = mustRun(t, append(args, "--apply")...)
	want := strings.Count(string(golden), "kind: NetworkPolicy")
	if n := countPolicies(t, cs); n != want {
		t.Errorf("--apply left %d policies, want %d", n, want)
	}
	mustRun(t, args...)
	if d := configMap(t, cs).Data["diff.txt"]; d != "no changes\n" {
		t.Errorf("after applying, the diff is not empty:\n%s", d)
	}
	if r := run(t, "", "recommend", "--db", db, "--kubeconfig", env.Kubeconfig, "--configmap", "no-slash"); r.code == 0 || !strings.Contains(r.err, "want NAMESPACE/NAME") {
		t.Errorf("bad --configmap: exit %d\n%s", r.code, r.err)
	}
}

func configMap(t testing.TB, cs kubernetes.Interface) *corev1.ConfigMap {
	t.Helper()
	cm, err := cs.CoreV1().ConfigMaps("flowpol").Get(context.Background(), "flowpol-recommendation", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return cm
}
