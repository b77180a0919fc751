package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/flowpol/flowpol/internal/kubeenv"
)

var clusterGVR = schema.GroupVersionResource{Group: "policy.networking.k8s.io", Version: "v1beta1", Resource: "clusternetworkpolicies"}

// The ClusterNetworkPolicies generate writes are taken, with strict field
// validation, by a real API server with the CRD of the network-policy-api
// module flowpol builds them with (its config/crd/standard); one its
// schema refuses is refused, so the acceptance means something; check
// --kubeconfig then decides the cluster's guardrails beside its
// NetworkPolicies, and diff --format clusternetworkpolicy finds nothing to
// change.
func TestClusterPoliciesInAPIServer(t *testing.T) {
	env := kubeenv.Start(t)
	dc, err := dynamic.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	installCRD(t, dc, clusterCRD(t))
	db := learnScenario(t, "scenarios/metadata")
	until := "2026-11-22T12:00:00Z"
	dir := t.TempDir()
	mustRun(t, "generate", "--db", db, "--until", until, "--format", "clusternetworkpolicy", "-o", dir)
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) != 4 {
		t.Fatalf("generate wrote %d files (%v), want the 4 guardrails", len(files), err)
	}
	for _, f := range files {
		obj := readObject(t, f)
		if _, err := dc.Resource(clusterGVR).Create(t.Context(), obj, metav1.CreateOptions{FieldValidation: "Strict"}); err != nil {
			t.Errorf("the API server refuses %s: %v", filepath.Base(f), err)
		}
	}
	bad := readObject(t, files[0])
	bad.SetName("flowpol-refused")
	spec := bad.Object["spec"].(map[string]any)
	spec["priority"] = int64(1001)
	if _, err := dc.Resource(clusterGVR).Create(t.Context(), bad, metav1.CreateOptions{FieldValidation: "Strict"}); err == nil {
		t.Errorf("the API server took a ClusterNetworkPolicy of priority 1001: its CRD validates nothing, and the test proves nothing")
	}
	r := run(t, "", "diff", "--db", db, "--until", until, "--format", "clusternetworkpolicy", "--kubeconfig", env.Kubeconfig)
	if r.code != 0 || !strings.Contains(r.out, "no changes") {
		t.Errorf("diff against the cluster: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	// No NetworkPolicy is in the cluster: the Baseline's default deny
	// denies agent's observed connection to web, and the Admin tier still
	// gives agent the metadata endpoint.
	r = run(t, "", "check", "--db", db, "--until", until, "--kubeconfig", env.Kubeconfig)
	if r.code != 1 || !strings.Contains(r.out, "ops/Deployment/agent egress (denied by ClusterNetworkPolicy flowpol-baseline-deny)") ||
		strings.Contains(r.out, "169.254.169.254") || !strings.Contains(r.out, "1 of 3 observed flows would be denied") {
		t.Errorf("check against the cluster: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
}

// clusterCRD is the ClusterNetworkPolicy CRD of the network-policy-api
// module this module requires, from the module cache.
func clusterCRD(t *testing.T) []byte {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/network-policy-api").Output()
	if err != nil {
		t.Fatalf("go list the network-policy-api module: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "config", "crd", "standard", "policy.networking.k8s.io_clusternetworkpolicies.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
