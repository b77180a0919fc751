package kubestate_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/internal/kubeenv"
	"github.com/flowpol/flowpol/kubestate"
	"github.com/flowpol/flowpol/learn"
	"github.com/flowpol/flowpol/resolve"
	"github.com/flowpol/flowpol/topology"
)

// benchScale is the live-state benchmark's cluster: FLOWPOL_STATE_PODS pods
// (150,000) behind FLOWPOL_STATE_SERVICES Services (20,000), churned at
// FLOWPOL_STATE_CHURN pod events a second (200) for FLOWPOL_STATE_SECONDS
// (10) per measure.
type benchScale struct {
	pods, services, churn int
	measure               time.Duration
}

func scale(b *testing.B) benchScale {
	env := func(name string, def int) int {
		s := os.Getenv(name)
		if s == "" {
			return def
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("%s=%q: want a positive number", name, s)
		}
		return n
	}
	sc := benchScale{pods: env("FLOWPOL_STATE_PODS", 150_000), services: env("FLOWPOL_STATE_SERVICES", 20_000),
		churn: env("FLOWPOL_STATE_CHURN", 200), measure: time.Duration(env("FLOWPOL_STATE_SECONDS", 10)) * time.Second}
	if sc.services > sc.pods {
		b.Fatalf("%d services for %d pods: want at most one per pod", sc.services, sc.pods)
	}
	return sc
}

// BenchmarkStateChurn is the live cluster state in a real API server of
// FLOWPOL_STATE_PODS pods (with addresses, in Deployments) behind
// FLOWPOL_STATE_SERVICES Services with EndpointSlices: the time to the
// first synced state and the heap the caches and indexes hold after GC;
// then, while pods are deleted and created at FLOWPOL_STATE_CHURN events
// a second, the cost of resolving a flow and the rate at which a learner
// takes records.
func BenchmarkStateChurn(b *testing.B) {
	sc := scale(b)
	env := kubeenv.Start(b)
	cfg := *env.Config
	cfg.QPS, cfg.Burst = 20_000, 40_000
	cs, err := kubernetes.NewForConfig(&cfg)
	if err != nil {
		b.Fatal(err)
	}
	populated := time.Now()
	c := populateBench(b, cs, sc)
	b.ReportMetric(time.Since(populated).Seconds(), "s-to-populate")
	for b.Loop() {
		heap0 := heapAfterGC()
		start := time.Now()
		r := startResolver(b, cs, kubestate.ResolverOptions{})
		b.ReportMetric(time.Since(start).Seconds(), "s-to-synced")
		b.ReportMetric(float64(heapAfterGC()-heap0)/(1<<20), "cache-MiB")
		recs := c.records(1 << 20)
		checkResolves(b, r, recs)
		ch := startChurn(b, cs, c, sc.churn)
		wall, cpu := placeNS(r, recs, sc.measure)
		b.ReportMetric(wall, "ns/flow")
		b.ReportMetric(cpu, "cpu-ns/flow")
		wall, cpu = learnRate(b, r, recs, sc.measure)
		b.ReportMetric(wall, "records/s")
		b.ReportMetric(cpu, "records/cpu-s")
		b.ReportMetric(ch.stop(b), "churn-events/s")
		b.ReportMetric(float64(heapAfterGC()-heap0)/(1<<20), "cache-MiB-after-churn")
	}
}

func heapAfterGC() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// placeNS places records for d and returns the nanoseconds per record, of
// the wall clock and of the placing thread's CPU time.
func placeNS(r resolve.Resolver, recs []flow.Record, d time.Duration) (wall, cpu float64) {
	var p resolve.Placement
	n, start := 0, time.Now()
	spent, ok := kubestate.OnThread(func() {
		for time.Since(start) < d {
			for i := range 1024 {
				r.Place(&recs[(n+i)%len(recs)], &p)
			}
			n += 1024
		}
	})
	wall = float64(time.Since(start).Nanoseconds()) / float64(n)
	if ok {
		cpu = float64(spent.Nanoseconds()) / float64(n)
	}
	return wall, cpu
}

// learnRate learns records for d, taking a delta every 512 Ki records as
// a commit would, and returns the records a second, of the wall clock and
// of the learning thread's CPU time.
func learnRate(b *testing.B, r resolve.Resolver, recs []flow.Record, d time.Duration) (wall, cpu float64) {
	l, err := learn.New(r, learn.Options{})
	if err != nil {
		b.Fatal(err)
	}
	n, start := 0, time.Now()
	spent, ok := kubestate.OnThread(func() {
		for time.Since(start) < d {
			for i := range 1024 {
				l.Add(&recs[(n+i)%len(recs)])
			}
			if n += 1024; n%(512*1024) == 0 {
				l.Take()
			}
		}
		l.Take()
	})
	wall = float64(n) / time.Since(start).Seconds()
	if ok {
		cpu = float64(n) / spent.Seconds()
	}
	return wall, cpu
}

// checkResolves fails the benchmark unless its records resolve to
// workloads at both ends.
func checkResolves(b *testing.B, r resolve.Resolver, recs []flow.Record) {
	var p resolve.Placement
	for i := range 1000 {
		r.Place(&recs[i], &p)
		if p.Unknown || len(p.Dsts) == 0 || r.End(p.Src.End).Kind != topology.KindWorkload || r.End(p.Dsts[0].End).Kind != topology.KindWorkload {
			b.Fatalf("record %v -> %v: src %v, dsts %v", recs[i].Src, recs[i].Dst, r.End(p.Src.End), p.Dsts)
		}
	}
}

// benchCluster is what populate made: the pods' addresses and the
// Services' addresses.
type benchCluster struct {
	sc       benchScale
	podAddrs []netip.Addr
	svcAddrs []netip.Addr
}

// records makes n records along a fixed set of edges, as traffic
// follows: the pods of workload k call the Services of workloads k+1 to
// k+5.
func (c *benchCluster) records(n int) []flow.Record {
	rng := rand.New(rand.NewPCG(1, 2))
	at := time.Now()
	out := make([]flow.Record, n)
	for i := range out {
		pod := rng.IntN(len(c.podAddrs))
		svc := (pod%c.sc.services + 1 + rng.IntN(5)) % c.sc.services
		out[i] = flow.Record{Time: at, Proto: flow.TCP, Observer: flow.Client, Count: 1,
			Src: netip.AddrPortFrom(c.podAddrs[pod], 40000),
			Dst: netip.AddrPortFrom(c.svcAddrs[svc], 80)}
	}
	return out
}

// podAddr is pod i's address: 250 to a node's /24 in 10.64.0.0/10.
func podAddr(i int) netip.Addr {
	n := i / 250
	return netip.AddrFrom4([4]byte{10, byte(64 + n/256), byte(n % 256), byte(i%250 + 1)})
}

// churnAddr is the address of the i-th pod the churn makes, outside the
// populated ones, in 10.128.0.0/16.
func churnAddr(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, 128, byte(i / 250 % 256), byte(i%250 + 1)})
}

// populateBench creates the benchmark's cluster on many workers: namespaces,
// nodes, and per Service a Deployment, its ReplicaSet, its pods and an
// EndpointSlice naming them.
func populateBench(b *testing.B, cs kubernetes.Interface, sc benchScale) *benchCluster {
	b.Helper()
	ctx := context.Background()
	for n := range 20 {
		must(b, create(ctx, cs, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("ns%d", n)}}))
	}
	c := &benchCluster{sc: sc, podAddrs: make([]netip.Addr, sc.pods), svcAddrs: make([]netip.Addr, sc.services)}
	nodes := (sc.pods + 249) / 250
	parallel(b, nodes, func(i int) error { return createNode(ctx, cs, i) })
	parallel(b, sc.services, func(i int) error { return createWorkload(ctx, cs, c, i) })
	return c
}

func createNode(ctx context.Context, cs kubernetes.Interface, i int) error {
	n, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("node%d", i)},
		Spec: corev1.NodeSpec{PodCIDR: netip.PrefixFrom(podAddr(i*250), 24).Masked().String()}}, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: netip.AddrFrom4([4]byte{192, 168, byte(i / 256), byte(i % 256)}).String()}}
	_, err = cs.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
	return err
}

// createWorkload creates Service k's Deployment, ReplicaSet, pods (every
// pod i with i mod services = k), Service and EndpointSlice.
func createWorkload(ctx context.Context, cs kubernetes.Interface, c *benchCluster, k int) error {
	ns, name := fmt.Sprintf("ns%d", k%20), fmt.Sprintf("w%d", k)
	labels := map[string]string{"app": name}
	d, err := cs.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: template(labels)}}, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	podLabels := map[string]string{"app": name, "pod-template-hash": "h"}
	rs, err := cs.AppsV1().ReplicaSets(ns).Create(ctx, &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: name + "-h",
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: name, UID: d.UID, Controller: ptr(true)}}},
		Spec: appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: podLabels}, Template: template(podLabels)}}, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	var eps []discoveryv1.Endpoint
	for i := k; i < c.sc.pods; i += c.sc.services {
		p, err := createPod(ctx, cs, rs, fmt.Sprintf("%s-%d", name, i), podAddr(i))
		if err != nil {
			return err
		}
		c.podAddrs[i] = podAddr(i)
		eps = append(eps, discoveryv1.Endpoint{Addresses: []string{p.Status.PodIP}, TargetRef: &corev1.ObjectReference{Kind: "Pod", Name: p.Name}})
	}
	svc, err := cs.CoreV1().Services(ns).Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}}}}, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	c.svcAddrs[k] = netip.MustParseAddr(svc.Spec.ClusterIP)
	_, err = cs.DiscoveryV1().EndpointSlices(ns).Create(ctx, &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: name + "-1", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
		AddressType: discoveryv1.AddressTypeIPv4, Endpoints: eps,
		Ports: []discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr(int32(8080))}}}, metav1.CreateOptions{})
	return err
}

func template(labels map[string]string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "img"}}}}
}

// createPod creates a running pod of a ReplicaSet at an address, through
// the status subresource.
func createPod(ctx context.Context, cs kubernetes.Interface, rs *appsv1.ReplicaSet, name string, addr netip.Addr) (*corev1.Pod, error) {
	p, err := cs.CoreV1().Pods(rs.Namespace).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: rs.Spec.Template.Labels,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: ptr(true)}}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "img", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}}},
	}, metav1.CreateOptions{})
	if err != nil {
		return nil, err
	}
	now := metav1.Now()
	p.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: addr.String(), PodIPs: []corev1.PodIP{{IP: addr.String()}}, StartTime: &now}
	return cs.CoreV1().Pods(rs.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{})
}

func create(ctx context.Context, cs kubernetes.Interface, ns *corev1.Namespace) error {
	_, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
	return err
}

func must(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}

// parallel runs f(0..n-1) on 64 workers and fails on the first error.
func parallel(b *testing.B, n int, f func(i int) error) {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 64 {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				if err := f(i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
}

// churn deletes and creates pods at a steady rate: each tick creates a pod
// of a ReplicaSet of its own and deletes the one it made churn events
// before.
type churn struct {
	cancel context.CancelFunc
	done   chan struct{}
	events atomic.Int64
	start  time.Time
	mu     sync.Mutex
	err    error                 // the first the API server answered
	made   map[int]chan struct{} // per pod, closed once its creation returned
}

// created returns the channel closed once pod i's creation returned, so
// that its deletion never overtakes it on a slow API server.
func (ch *churn) created(i int) chan struct{} {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	c, ok := ch.made[i]
	if !ok {
		c = make(chan struct{})
		ch.made[i] = c
	}
	return c
}

func (ch *churn) fail(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return // stopping
	}
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.err == nil {
		ch.err = err
	}
}

func startChurn(b *testing.B, cs kubernetes.Interface, c *benchCluster, rate int) *churn {
	ctx, cancel := context.WithCancel(context.Background())
	rs, err := cs.AppsV1().ReplicaSets("ns0").Create(ctx, &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "churn-h"},
		Spec: appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "churn"}},
			Template: template(map[string]string{"app": "churn", "pod-template-hash": "h"})}}, metav1.CreateOptions{})
	if err != nil {
		cancel()
		b.Fatal(err)
	}
	ch := &churn{cancel: cancel, done: make(chan struct{}), start: time.Now(), made: map[int]chan struct{}{}}
	go ch.run(ctx, cs, rs, rate)
	return ch
}

// run makes a create and a delete every 2/rate seconds, each on its own
// goroutine so that the API server's latency does not slow the rate.
func (ch *churn) run(ctx context.Context, cs kubernetes.Interface, rs *appsv1.ReplicaSet, rate int) {
	defer close(ch.done)
	t := time.NewTicker(2 * time.Second / time.Duration(rate))
	defer t.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	sem := make(chan struct{}, 256)
	live := max(rate/4, 1) // pods the churn keeps alive: half a second of them
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			ch.step(ctx, cs, rs, i, live)
		})
	}
}

func (ch *churn) step(ctx context.Context, cs kubernetes.Interface, rs *appsv1.ReplicaSet, i, live int) {
	if _, err := createPod(ctx, cs, rs, fmt.Sprintf("churn-%d", i), churnAddr(i)); err != nil {
		ch.fail(ctx, err)
	} else {
		ch.events.Add(1)
	}
	close(ch.created(i))
	if i < live {
		return
	}
	select {
	case <-ch.created(i - live):
	case <-ctx.Done():
		return
	}
	ch.mu.Lock()
	delete(ch.made, i-live)
	ch.mu.Unlock()
	zero := int64(0)
	err := cs.CoreV1().Pods(rs.Namespace).Delete(ctx, fmt.Sprintf("churn-%d", i-live), metav1.DeleteOptions{GracePeriodSeconds: &zero})
	if err != nil {
		ch.fail(ctx, err)
	} else {
		ch.events.Add(1)
	}
}

// stop ends the churn and returns the events it made a second; an event
// the API server refused fails the benchmark.
func (ch *churn) stop(b *testing.B) float64 {
	ch.cancel()
	<-ch.done
	if ch.err != nil {
		b.Fatalf("churn: %v", ch.err)
	}
	return float64(ch.events.Load()) / time.Since(ch.start).Seconds()
}
