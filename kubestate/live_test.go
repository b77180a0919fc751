package kubestate_test

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/internal/kubeenv"
	"github.com/flowpol/flowpol/kubestate"
	"github.com/flowpol/flowpol/resolve"
	"github.com/flowpol/flowpol/topology"
)

func startResolver(t testing.TB, cs kubernetes.Interface, opts kubestate.ResolverOptions) *kubestate.Resolver {
	t.Helper()
	f := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithTransform(kubestate.Transform))
	r, err := kubestate.NewResolver(f, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); f.Shutdown() })
	f.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), r.Synced()...) {
		t.Fatal("caches did not sync")
	}
	return r
}

// livePod creates a running pod with an address and a start time, as a
// kubelet would report it, and returns it as the server has it.
func livePod(t testing.TB, cs kubernetes.Interface, ns, name, ip string, labels map[string]string, started time.Time) *corev1.Pod {
	t.Helper()
	ctx := context.Background()
	p, err := cs.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "c", Image: "img",
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st := metav1.NewTime(started)
	p.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}}, StartTime: &st}
	p, err = cs.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func deletePod(t testing.TB, cs kubernetes.Interface, ns, name string) {
	t.Helper()
	zero := int64(0)
	if err := cs.CoreV1().Pods(ns).Delete(context.Background(), name, metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
}

// base makes a namespace and a node whose pod range holds the tests' pod
// addresses.
func base(t testing.TB, cs kubernetes.Interface) {
	t.Helper()
	ctx := context.Background()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "app"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Spec: corev1.NodeSpec{PodCIDR: "10.250.0.0/24"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func record(at time.Time, src, dst string) *flow.Record {
	return &flow.Record{Time: at, Proto: flow.TCP, Src: netip.MustParseAddrPort(src), Dst: netip.MustParseAddrPort(dst), Observer: flow.Client, Count: 1}
}

// placement is what r makes of rec, in words: the source, the
// destinations with their ports, and whether it is unknown.
func placement(r resolve.Resolver, rec *flow.Record) string {
	var p resolve.Placement
	r.Place(rec, &p)
	s := r.End(p.Src.End).String() + " ->"
	for _, d := range p.Dsts {
		s += fmt.Sprintf(" %v:%d", r.End(d.End), d.Port)
	}
	if p.Unknown {
		s += " (unknown)"
	}
	return s
}

// eventually waits, up to a deadline, for r to place rec as want.
func eventually(t testing.TB, r resolve.Resolver, rec *flow.Record, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	got := placement(r, rec)
	for got != want && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		got = placement(r, rec)
	}
	if got != want {
		t.Fatalf("%v -> %v at %v: %s, want %s", rec.Src, rec.Dst, rec.Time.Format(time.RFC3339Nano), got, want)
	}
}

// A record from a pod the cache does not show yet is unknown, and
// resolves once the pod is there.
func TestPodCreatedAfterTheRecordIsFound(t *testing.T) {
	env := kubeenv.Start(t)
	cs := env.Client()
	base(t, cs)
	livePod(t, cs, "app", "server", "10.250.0.9", map[string]string{"app": "server"}, time.Now())
	r := startResolver(t, cs, kubestate.ResolverOptions{})
	rec := record(time.Now(), "10.250.0.5:1000", "10.250.0.9:80")
	if got, want := placement(r, rec), "unresolved/10.250.0.5 (no pod or service has this cluster address) -> app/Pod/server:80 (unknown)"; got != want {
		t.Fatalf("before the pod: %s, want %s", got, want)
	}
	livePod(t, cs, "app", "client", "10.250.0.5", map[string]string{"app": "client"}, rec.Time.Add(-time.Minute))
	eventually(t, r, rec, "app/Pod/client -> app/Pod/server:80")
}

// A deleted pod's address resolves to it for flows before its deletion,
// within the grace period, and to the pod that has it now after; past the
// grace period the deleted pod is forgotten.
func TestDeletedPodKeepsItsAddressForEarlierFlows(t *testing.T) {
	env := kubeenv.Start(t)
	cs := env.Client()
	base(t, cs)
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	livePod(t, cs, "app", "server", "10.250.0.9", map[string]string{"app": "server"}, start)
	old := livePod(t, cs, "app", "alpha", "10.250.0.5", map[string]string{"app": "alpha"}, start)
	const grace = 4 * time.Second
	r := startResolver(t, cs, kubestate.ResolverOptions{Grace: grace})
	before := time.Now().Add(-2 * time.Second)
	early := record(before, "10.250.0.5:1000", "10.250.0.9:80")
	eventually(t, r, early, "app/Pod/alpha -> app/Pod/server:80")
	deleted := time.Now().Truncate(time.Second) // no later than the deletion timestamp, in whole seconds
	deletePod(t, cs, "app", "alpha")
	livePod(t, cs, "app", "beta", "10.250.0.5", map[string]string{"app": "beta"}, deleted.Add(time.Second))
	late := record(deleted.Add(2*time.Second), "10.250.0.5:1000", "10.250.0.9:80")
	eventually(t, r, late, "app/Pod/beta -> app/Pod/server:80")
	if got, want := placement(r, early), "app/Pod/alpha -> app/Pod/server:80"; got != want && time.Since(deleted) < grace {
		t.Errorf("a flow before the deletion, within the grace period: %s, want %s", got, want)
	}
	byUID := record(before, "10.250.0.5:1000", "10.250.0.9:80")
	byUID.PodUID = string(old.UID)
	// Past the grace period alpha is gone: its uid is unknown, and its
	// address is beta's whenever the flow was.
	eventually(t, r, byUID, "app/Pod/beta -> app/Pod/server:80 (unknown)")
	if time.Since(deleted) < grace {
		t.Errorf("alpha forgotten %v after its deletion, before the grace period of %v", time.Since(deleted), grace)
	}
}

// A Service's targets follow its EndpointSlices, and its selector when it
// has none; its address is no Service's once it is deleted.
func TestServiceTargetsFollowChanges(t *testing.T) {
	env := kubeenv.Start(t)
	cs := env.Client()
	ctx := context.Background()
	base(t, cs)
	now := time.Now()
	livePod(t, cs, "app", "client", "10.250.0.5", map[string]string{"app": "client"}, now)
	livePod(t, cs, "app", "web", "10.250.0.7", map[string]string{"app": "web"}, now)
	svc, err := cs.CoreV1().Services("app").Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Name: "h", Port: 80, TargetPort: intstr.FromString("http")}}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := startResolver(t, cs, kubestate.ResolverOptions{})
	rec := record(now, "10.250.0.5:1000", svc.Spec.ClusterIP+":80")
	eventually(t, r, rec, "app/Pod/client -> app/Pod/web:8080") // the selector, the named port
	slice := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: "web-1", Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.250.0.7"}, TargetRef: &corev1.ObjectReference{Kind: "Pod", Name: "web"}}},
		Ports:       []discoveryv1.EndpointPort{{Name: ptr("h"), Port: ptr(int32(9000))}}}
	if slice, err = cs.DiscoveryV1().EndpointSlices("app").Create(ctx, slice, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, r, rec, "app/Pod/client -> app/Pod/web:9000")
	livePod(t, cs, "app", "web2", "10.250.0.8", map[string]string{"app": "web2"}, now)
	slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{Addresses: []string{"10.250.0.8"}})
	if _, err := cs.DiscoveryV1().EndpointSlices("app").Update(ctx, slice, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, r, rec, "app/Pod/client -> app/Pod/web:9000 app/Pod/web2:9000")
	if err := cs.DiscoveryV1().EndpointSlices("app").Delete(ctx, "web-1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, r, rec, "app/Pod/client -> app/Pod/web:8080")
	if err := cs.CoreV1().Services("app").Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, r, rec, "app/Pod/client -> external/"+svc.Spec.ClusterIP+":80")
}

// A workload's facts are handed out again only when they change.
func TestWorkloadsChangedSince(t *testing.T) {
	env := kubeenv.Start(t)
	cs := env.Client()
	base(t, cs)
	now := time.Now()
	livePod(t, cs, "app", "a", "10.250.0.5", map[string]string{"app": "a"}, now)
	livePod(t, cs, "app", "b", "10.250.0.6", map[string]string{"app": "b"}, now)
	r := startResolver(t, cs, kubestate.ResolverOptions{})
	all, v := r.Workloads(0)
	if len(all) != 2 {
		t.Fatalf("workloads %v, want a and b", all)
	}
	livePod(t, cs, "app", "c", "10.250.0.7", map[string]string{"app": "c"}, now)
	deadline := time.Now().Add(30 * time.Second)
	changed, _ := r.Workloads(v)
	for len(changed) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		changed, _ = r.Workloads(v)
	}
	if len(changed) != 1 || changed[resolveRef("app", "Pod", "c")].Selector == nil {
		t.Errorf("changed since %d: %v, want c alone", v, changed)
	}
}

func ptr[T any](v T) *T { return &v }

func resolveRef(ns, kind, name string) topology.WorkloadRef {
	return topology.WorkloadRef{Namespace: ns, Kind: kind, Name: name}
}
