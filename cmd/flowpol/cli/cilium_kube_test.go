package cli_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ciliumcrds "github.com/cilium/cilium/pkg/k8s/apis/cilium.io/client/crds/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/flowpol/flowpol/internal/kubeenv"
)

var (
	crdGVR    = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	ciliumGVR = schema.GroupVersionResource{Group: "cilium.io", Version: "v2", Resource: "ciliumnetworkpolicies"}
)

// The CiliumNetworkPolicies generate writes are taken, with strict field
// validation, by a real API server with Cilium's own CRD installed (from
// the Cilium module flowpol builds them with); a policy the CRD's schema
// refuses is refused, so the acceptance means something; and diff
// --format cilium against the cluster then finds nothing to change.
func TestCiliumPoliciesInAPIServer(t *testing.T) {
	env := kubeenv.Start(t)
	dc, err := dynamic.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	installCiliumCRD(t, dc)
	cs := env.Client()
	for _, ns := range []string{"shop", "data"} {
		if _, err := cs.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	db := learnScenario(t, "example")
	until := "2026-11-22T12:00:00Z"
	dir := t.TempDir()
	mustRun(t, "generate", "--db", db, "--until", until, "--format", "cilium", "--default-deny", "-o", dir)
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) < 3 {
		t.Fatalf("generate wrote %d files (%v)", len(files), err)
	}
	for _, f := range files {
		obj := readObject(t, f)
		if _, err := dc.Resource(ciliumGVR).Namespace(obj.GetNamespace()).Create(t.Context(), obj, metav1.CreateOptions{FieldValidation: "Strict"}); err != nil {
			t.Errorf("the API server refuses %s: %v", filepath.Base(f), err)
		}
	}
	bad := readObject(t, files[len(files)-1])
	bad.SetName("flowpol-refused")
	spec := bad.Object["spec"].(map[string]any)
	spec["egress"] = []any{map[string]any{"toPorts": []any{map[string]any{"ports": []any{map[string]any{"port": "80", "protocol": "TCPX"}}}}}}
	if _, err := dc.Resource(ciliumGVR).Namespace(bad.GetNamespace()).Create(t.Context(), bad, metav1.CreateOptions{FieldValidation: "Strict"}); err == nil {
		t.Errorf("the API server took a CiliumNetworkPolicy with protocol TCPX: its CRD validates nothing, and the test proves nothing")
	}
	r := run(t, "", "diff", "--db", db, "--until", until, "--format", "cilium", "--default-deny", "--kubeconfig", env.Kubeconfig)
	if r.code != 0 || !strings.Contains(r.out, "no changes") {
		t.Errorf("diff against the cluster: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
}

func installCiliumCRD(t *testing.T, dc dynamic.Interface) {
	t.Helper()
	b, err := ciliumcrds.EmbedFS.ReadFile("ciliumnetworkpolicies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	installCRD(t, dc, b)
}

// installCRD creates a CRD and waits until it is established.
func installCRD(t *testing.T, dc dynamic.Interface, b []byte) {
	t.Helper()
	crd := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(b, &crd.Object); err != nil {
		t.Fatal(err)
	}
	if _, err := dc.Resource(crdGVR).Create(t.Context(), crd, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create the CRD: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	for {
		got, err := dc.Resource(crdGVR).Get(ctx, crd.GetName(), metav1.GetOptions{})
		if err == nil && established(got) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("CRD %s never became established: %v", crd.GetName(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func established(crd *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}

func readObject(t *testing.T, path string) *unstructured.Unstructured {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	obj := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(b, &obj.Object); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return obj
}
