package kubestate_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/flowpol/flowpol/internal/kubeenv"
	"github.com/flowpol/flowpol/kubestate"
)

func TestTransformKeepsWhatEnrichmentReads(t *testing.T) {
	start := metav1.Now()
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Annotations: map[string]string{"big": "x"},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}, Labels: map[string]string{"app": "a"}},
		Spec: corev1.PodSpec{NodeName: "n", HostNetwork: true, Containers: []corev1.Container{{
			Name: "c", Image: "img", Command: []string{"sleep"}, Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 80}},
		}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.1", StartTime: &start,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady}}},
	}
	out, err := kubestate.Transform(p)
	if err != nil {
		t.Fatal(err)
	}
	got := out.(*corev1.Pod)
	if got.Annotations != nil || got.ManagedFields != nil || got.Spec.Containers[0].Image != "" || got.Status.Conditions != nil {
		t.Errorf("kept what enrichment does not read: %+v", got)
	}
	if got.Labels["app"] != "a" || got.Spec.NodeName != "n" || !got.Spec.HostNetwork || got.Spec.Containers[0].Ports[0].Name != "http" ||
		got.Status.PodIP != "10.0.0.1" || got.Status.StartTime == nil || got.Status.Phase != corev1.PodRunning {
		t.Errorf("dropped what enrichment reads: %+v", got)
	}
}

func startState(t testing.TB, cs kubernetes.Interface, opts kubestate.Options) *kubestate.State {
	t.Helper()
	f := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithTransform(kubestate.Transform))
	s, err := kubestate.New(f, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); f.Shutdown() })
	f.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), s.Synced()...) {
		t.Fatal("caches did not sync")
	}
	return s
}

func makePod(t testing.TB, cs kubernetes.Interface, ns, name, ip string) {
	t.Helper()
	ctx := context.Background()
	p, err := cs.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": name}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "img"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip}
	if _, err := cs.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// A deleted pod stays in the snapshots, with its deletion time, for the
// grace period, and then goes.
func TestDeletedPodsKeptForGrace(t *testing.T) {
	env := kubeenv.Start(t)
	cs := env.Client()
	if _, err := cs.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ns"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	makePod(t, cs, "ns", "a", "10.0.0.1")
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := startState(t, cs, kubestate.Options{Grace: time.Minute, Now: clock})
	zero := int64(0)
	if err := cs.CoreV1().Pods("ns").Delete(context.Background(), "a", metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	// A pod made after the deletion: once the cache has it, it has seen the
	// deletion too, as a watch delivers events in order.
	makePod(t, cs, "ns", "b", "10.0.0.2")
	var pods []corev1.Pod
	for range 100 {
		pods = s.Snapshot().Pods
		if len(pods) == 2 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	deleted := podNamed(pods, "a")
	if deleted == nil || deleted.DeletionTimestamp == nil {
		t.Fatalf("pods %v: want a, deleted, kept for the grace period", pods)
	}
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	if inv := s.Snapshot(); podNamed(inv.Pods, "a") != nil || podNamed(inv.Pods, "b") == nil {
		t.Errorf("pods %v after the grace period, want b alone", inv.Pods)
	}
}

func podNamed(pods []corev1.Pod, name string) *corev1.Pod {
	for i := range pods {
		if pods[i].Name == name {
			return &pods[i]
		}
	}
	return nil
}

// BenchmarkState is the cache of a cluster of 10,000 pods and 2,000
// Services in a real API server: the time from start to synced, the heap
// the caches hold, and the time to a snapshot.
func BenchmarkState(b *testing.B) {
	env := kubeenv.Start(b)
	cs := env.Client()
	const pods, services = 10_000, 2_000
	populate(b, cs, pods, services)
	for b.Loop() {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		s := startState(b, cs, kubestate.Options{})
		synced := time.Since(start)
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		snapStart := time.Now()
		inv := s.Snapshot()
		b.ReportMetric(synced.Seconds(), "s-to-synced")
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "cache-MiB")
		b.ReportMetric(float64(time.Since(snapStart).Milliseconds()), "snapshot-ms")
		if len(inv.Pods) != pods || len(inv.Services) < services {
			b.Fatalf("snapshot has %d pods and %d services", len(inv.Pods), len(inv.Services))
		}
	}
}

// populate creates pods with addresses and Services in 20 namespaces, on
// several workers.
func populate(b *testing.B, cs kubernetes.Interface, pods, services int) {
	b.Helper()
	ctx := context.Background()
	for n := range 20 {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("ns%d", n)}}, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < pods; i += 8 {
				makePod(b, cs, fmt.Sprintf("ns%d", i%20), fmt.Sprintf("p%d", i), fmt.Sprintf("10.%d.%d.%d", 100+i/65536, (i/256)%256, i%256))
			}
			for i := w; i < services; i += 8 {
				_, err := cs.CoreV1().Services(fmt.Sprintf("ns%d", i%20)).Create(ctx, &corev1.Service{
					ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("s%d", i)},
					Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": fmt.Sprintf("p%d", i)}, Ports: []corev1.ServicePort{{Port: 80}}},
				}, metav1.CreateOptions{})
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
