package deploy_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/flowpol/flowpol/internal/kubeenv"
)

// render builds a kustomization as kubectl apply -k would.
func render(t testing.TB, dir string) []*unstructured.Unstructured {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	var out []*unstructured.Unstructured
	for _, r := range rm.Resources() {
		m, err := r.Map()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
	return out
}

func find[T any](t testing.TB, objs []*unstructured.Unstructured, kind, name string) *T {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			var v T
			if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(o.Object, &v, true); err != nil {
				t.Fatalf("%s %s: %v", kind, name, err)
			}
			return &v
		}
	}
	t.Fatalf("no %s %s", kind, name)
	return nil
}

// The agent holds only the capabilities it needs, is not privileged, and
// reaches the host only through the volumes explained in agent.yaml.
func TestAgentPrivileges(t *testing.T) {
	ds := find[appsv1.DaemonSet](t, render(t, "base"), "DaemonSet", "flowpol-agent")
	spec := ds.Spec.Template.Spec
	if spec.HostNetwork || spec.HostPID || spec.HostIPC {
		t.Error("the agent shares a host namespace")
	}
	sc := spec.Containers[0].SecurityContext
	if sc == nil || sc.Privileged == nil || *sc.Privileged || sc.Capabilities == nil {
		t.Fatal("the agent is privileged, or says nothing of its capabilities")
	}
	var add []string
	for _, c := range sc.Capabilities.Add {
		add = append(add, string(c))
	}
	slices.Sort(add)
	if !slices.Equal(add, []string{"BPF", "NET_ADMIN", "PERFMON"}) || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" {
		t.Errorf("capabilities add %v drop %v; want exactly BPF, PERFMON, NET_ADMIN on top of none", add, sc.Capabilities.Drop)
	}
	var host []string
	for _, v := range spec.Volumes {
		if v.HostPath != nil {
			host = append(host, v.HostPath.Path)
		}
	}
	if !slices.Equal(host, []string{"/var/lib/flowpol/spool", "/sys/fs/cgroup"}) {
		t.Errorf("host paths %v: each needs a reason in agent.yaml and here", host)
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Error("the agent mounts an API token it never uses")
	}
}

// RBAC: the aggregator and the job only read, and only what they use; the
// apply overlay adds writing NetworkPolicies and nothing else.
func TestRBACLeastPrivilege(t *testing.T) {
	objs := render(t, "base")
	agg := find[rbacv1.ClusterRole](t, objs, "ClusterRole", "flowpol-aggregator")
	var kinds []string
	for _, r := range agg.Rules {
		if !slices.Equal(r.Verbs, []string{"list", "watch"}) {
			t.Errorf("aggregator rule %v: verbs %v, want list and watch only", r.Resources, r.Verbs)
		}
		kinds = append(kinds, r.Resources...)
	}
	slices.Sort(kinds)
	want := []string{"cronjobs", "daemonsets", "deployments", "endpointslices", "jobs", "namespaces", "nodes", "pods", "replicasets", "services", "statefulsets"}
	if !slices.Equal(kinds, want) {
		t.Errorf("aggregator reads %v, want the kinds enrichment reads: %v", kinds, want)
	}
	role := find[rbacv1.Role](t, objs, "Role", "flowpol-aggregator")
	for _, r := range role.Rules {
		ok := slices.Equal(r.Resources, []string{"configmaps"}) && slices.Equal(r.Verbs, []string{"get"}) && slices.Equal(r.ResourceNames, []string{"flowpol-recommendation"}) ||
			slices.Equal(r.Resources, []string{"events"}) && slices.Equal(r.Verbs, []string{"create"})
		if !ok {
			t.Errorf("aggregator role rule %+v: want only get on the recommendation ConfigMap and create on events", r)
		}
	}
	rec := find[rbacv1.ClusterRole](t, objs, "ClusterRole", "flowpol-recommend")
	if len(rec.Rules) != 1 || !slices.Equal(rec.Rules[0].Verbs, []string{"list"}) {
		t.Errorf("recommend's cluster role %v: want list on networkpolicies only", rec.Rules)
	}
	apply := find[rbacv1.ClusterRole](t, render(t, "apply"), "ClusterRole", "flowpol-recommend-apply")
	if len(apply.Rules) != 1 || !slices.Equal(apply.Rules[0].Resources, []string{"networkpolicies"}) {
		t.Errorf("apply overlay role %v: want networkpolicies only", apply.Rules)
	}
}

// One aggregator at a time holds the baseline file, and every image is a
// tagged flowpol image.
func TestAggregatorAndImages(t *testing.T) {
	objs := render(t, "base")
	d := find[appsv1.Deployment](t, objs, "Deployment", "flowpol-aggregator")
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 || d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Error("the aggregator must be one replica, recreated: the baseline file has one writer")
	}
	for _, o := range objs {
		for _, img := range images(o.Object) {
			name, tag, ok := strings.Cut(img, ":")
			if name != "ghcr.io/flowpol/flowpol" || !ok || tag == "" || tag == "latest" {
				t.Errorf("%s %s: image %q, want ghcr.io/flowpol/flowpol with a version tag", o.GetKind(), o.GetName(), img)
			}
		}
	}
	cj := find[batchv1.CronJob](t, render(t, "apply"), "CronJob", "flowpol-recommend")
	args := cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Args
	if !slices.Contains(args, "--apply") {
		t.Errorf("the apply overlay's job args %v lack --apply", args)
	}
}

// The ClickHouse overlay runs three aggregators on the store URL from its
// Secret, with no volume for a baseline file and no claim for one.
func TestClickHouseOverlay(t *testing.T) {
	objs := render(t, "clickhouse")
	d := find[appsv1.Deployment](t, objs, "Deployment", "flowpol-aggregator")
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 3 || d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType {
		t.Errorf("want 3 aggregator replicas, rolled: %v %v", d.Spec.Replicas, d.Spec.Strategy.Type)
	}
	c := d.Spec.Template.Spec.Containers[0]
	if !slices.Contains(c.Args, "--store=$(FLOWPOL_STORE)") || slices.ContainsFunc(c.Args, func(a string) bool { return strings.HasPrefix(a, "--db") }) {
		t.Errorf("aggregator args %v: want --store=$(FLOWPOL_STORE) and no --db", c.Args)
	}
	if len(c.Env) != 1 || c.Env[0].Name != "FLOWPOL_STORE" || c.Env[0].ValueFrom == nil || c.Env[0].ValueFrom.SecretKeyRef == nil ||
		c.Env[0].ValueFrom.SecretKeyRef.Name != "flowpol-clickhouse" {
		t.Errorf("the store URL does not come from the flowpol-clickhouse Secret: %+v", c.Env)
	}
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.PersistentVolumeClaim != nil {
			t.Errorf("volume %s still claims a baseline file", v.Name)
		}
	}
	for _, o := range objs {
		if o.GetKind() == "PersistentVolumeClaim" {
			t.Errorf("the overlay still makes the claim %s", o.GetName())
		}
	}
}

// images finds every "image" value in an object.
func images(v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && k == "image" {
				out = append(out, s)
			}
			out = append(out, images(e)...)
		}
	case []any:
		for _, e := range x {
			out = append(out, images(e)...)
		}
	}
	return out
}

// Every manifest of both kustomizations is accepted by a real API server,
// with strict field validation, in a server-side dry run (the namespace is
// created for real, since namespaced objects need it).
func TestManifestsDryRun(t *testing.T) {
	env := kubeenv.Start(t)
	a := newApplier(t, env.Config)
	for _, dir := range []string{"base", "apply", "clickhouse"} {
		objs := render(t, dir)
		slices.SortStableFunc(objs, func(a, b *unstructured.Unstructured) int {
			return boolInt(b.GetKind() == "Namespace") - boolInt(a.GetKind() == "Namespace")
		})
		for _, o := range objs {
			a.create(t, o, true)
		}
		if len(objs) < 15 {
			t.Errorf("%s: only %d objects rendered", dir, len(objs))
		}
	}
}

// applier creates objects of any kind in an API server.
type applier struct {
	disc   *discovery.DiscoveryClient
	mapper *restmapper.DeferredDiscoveryRESTMapper
	dyn    *dynamic.DynamicClient
}

func newApplier(t testing.TB, cfg *rest.Config) *applier {
	t.Helper()
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &applier{disc: dc, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc)), dyn: dyn}
}

// create creates o, with strict field validation, in a server-side dry
// run when dryRun; a Namespace is then created for real, since the
// objects in it need it. An object already there is no error.
func (a *applier) create(t testing.TB, o *unstructured.Unstructured, dryRun bool) {
	t.Helper()
	gvk := o.GroupVersionKind()
	m, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		t.Fatalf("%s %s: %v", gvk, o.GetName(), err)
	}
	ri := a.dyn.Resource(m.Resource).Namespace(o.GetNamespace())
	opts := metav1.CreateOptions{FieldValidation: "Strict"}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	_, err = ri.Create(context.Background(), o, opts)
	if apierrors.IsAlreadyExists(err) && (o.GetKind() == "Namespace" || !dryRun) {
		return
	}
	if err != nil {
		t.Errorf("the API server refused %s %s/%s: %v", gvk.Kind, o.GetNamespace(), o.GetName(), err)
		return
	}
	if dryRun && o.GetKind() == "Namespace" {
		a.create(t, o, false)
	}
}

func (a *applier) ensureNamespace(t testing.TB, name string) {
	t.Helper()
	a.create(t, &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": name}}}, false)
}

// waitFor waits until the API server serves the group versions (new
// CRDs), and forgets what discovery said before.
func (a *applier) waitFor(t testing.TB, groupVersions ...string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, gv := range groupVersions {
		for {
			if _, err := a.disc.ServerResourcesForGroupVersion(gv); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the API server does not serve %s", gv)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	a.mapper.Reset()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
