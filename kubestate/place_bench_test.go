package kubestate

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/learn"
	"github.com/flowpol/flowpol/resolve"
)

// BenchmarkPlace is the cost of placing a flow, pod to Service, in a
// cluster of 150,000 pods behind 20,000 Services whose objects reach the
// resolver as informer events (no API server): ns/op is per flow, and the
// handlers' cost per event of building it is reported beside.
func BenchmarkPlace(b *testing.B) {
	r, recs, perEvent := placeScale(b)
	var p resolve.Placement
	b.ResetTimer()
	n := 0
	spent, ok := OnThread(func() {
		for ; b.Loop(); n++ {
			r.Place(&recs[n%len(recs)], &p)
		}
	})
	if ok {
		b.ReportMetric(float64(spent.Nanoseconds())/float64(n), "cpu-ns/flow")
	}
	perEvent.report(b)
}

// BenchmarkPlaceLearn is BenchmarkPlace's flows learned, each edge once
// before the timer starts, with a delta taken every 512 Ki records as a
// commit would: the learning thread's CPU per record at that scale, of
// which BenchmarkStateChurn measures the rate beside an API server. Add
// adds a record at a time; AddAll adds batches of 8 Ki records, as the
// aggregator adds an agent's batch, placing them a few ahead of adding
// them (an iteration is still one record: a batch's are added at its
// first).
func BenchmarkPlaceLearn(b *testing.B) {
	r, recs, _ := placeScale(b)
	for _, bench := range []struct {
		name  string
		batch int
	}{{"Add", 1}, {"AddAll", 8 << 10}} {
		b.Run(bench.name, func(b *testing.B) {
			l, err := learn.New(r, learn.Options{})
			if err != nil {
				b.Fatal(err)
			}
			l.AddAll(recs)
			l.Take()
			b.ResetTimer()
			n := 0
			spent, ok := OnThread(func() {
				for ; b.Loop(); n++ {
					switch i := n % len(recs); {
					case bench.batch == 1:
						l.Add(&recs[i])
					case i%bench.batch == 0:
						l.AddAll(recs[i : i+bench.batch])
					}
					if n%(512*1024) == 0 {
						l.Take()
					}
				}
			})
			if ok {
				b.ReportMetric(float64(spent.Nanoseconds())/float64(n), "cpu-ns/record")
			}
		})
	}
}

// eventCost is the handlers' CPU per event of filling the benchmarks'
// cluster; ok is false where the thread's CPU time is not known.
type eventCost struct {
	micros float64
	ok     bool
}

// report reports the cost beside a benchmark's figures, after its loop:
// ResetTimer clears a metric reported before it.
func (c eventCost) report(b *testing.B) {
	if c.ok {
		b.ReportMetric(c.micros, "cpu-µs/event")
	}
}

// placeScale fills a resolver with the benchmarks' cluster and returns
// it with the handlers' CPU per event and 1 Mi flows from random pods to
// the Services of the next five workloads, each naming its client pod's
// uid, as a collector's records do.
func placeScale(b *testing.B) (*Resolver, []flow.Record, eventCost) {
	pods, services := benchPods(b)
	r := unstartedResolver(b)
	var svcAddrs []netip.Addr
	filled, filledOK := OnThread(func() { svcAddrs = fillScale(r, pods, services) })
	perEvent := eventCost{float64(filled.Microseconds()) / float64(pods+4*services), filledOK}
	rng := rand.New(rand.NewPCG(1, 2))
	recs := make([]flow.Record, 1<<20)
	for i := range recs {
		pod := rng.IntN(pods)
		recs[i] = flow.Record{Time: t0.Add(time.Hour), Proto: flow.TCP, Observer: flow.Client, Count: 1, PodUID: scaleUID(pod),
			Src: netip.AddrPortFrom(scaleAddr(pod), 40000), Dst: netip.AddrPortFrom(svcAddrs[(pod%services+1+rng.IntN(5))%services], 80)}
	}
	return r, recs, perEvent
}

// scaleUID is the i-th pod's uid, as long as the API server's are; each
// call makes a new string, as a reader does.
func scaleUID(i int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i) }

func scaleAddr(i int) netip.Addr {
	n := i / 250
	return netip.AddrFrom4([4]byte{10, byte(64 + n/256), byte(n % 256), byte(i%250 + 1)})
}

// fillScale delivers a Deployment, ReplicaSet, Service and EndpointSlice
// per Service and its pods to r, and returns the Services' addresses.
func fillScale(r *Resolver, pods, services int) []netip.Addr {
	addrs := make([]netip.Addr, services)
	for k := range services {
		ns, name := fmt.Sprintf("ns%d", k%20), fmt.Sprintf("w%d", k)
		labels := map[string]string{"app": name}
		pl := map[string]string{"app": name, "pod-template-hash": "h"}
		event{r.inf.deployments.GetStore(), r.onDeployment, nil, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: labels}}}}.deliver()
		event{r.inf.replicaSets.GetStore(), r.onReplicaSet, nil, &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-h",
			OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", Name: name, Controller: ptr(true)}}}}}.deliver()
		var eps []discoveryv1.Endpoint
		for i := k; i < pods; i += services {
			p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("%s-%d", name, i), UID: types.UID(scaleUID(i)), Labels: pl,
				OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: name + "-h", Controller: ptr(true)}}},
				Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}}},
				Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: scaleAddr(i).String()}}
			event{r.inf.pods.GetStore(), r.onPod, nil, p}.deliver()
			eps = append(eps, discoveryv1.Endpoint{Addresses: []string{p.Status.PodIP}, TargetRef: &corev1.ObjectReference{Kind: "Pod", Name: p.Name}})
		}
		addrs[k] = netip.AddrFrom4([4]byte{10, byte(96 + k/65536), byte(k / 256 % 256), byte(k % 256)})
		event{r.inf.services.GetStore(), r.onService, nil, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: corev1.ServiceSpec{ClusterIP: addrs[k].String(), Selector: labels, Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}}}}}.deliver()
		event{r.inf.slices.GetStore(), r.onSlice, nil, &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-1",
			Labels: map[string]string{discoveryv1.LabelServiceName: name}}, Endpoints: eps,
			Ports: []discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr(int32(8080))}}}}.deliver()
	}
	return addrs
}

// benchPods is the cluster's size: FLOWPOL_STATE_PODS and
// FLOWPOL_STATE_SERVICES, else 150,000 and 20,000.
func benchPods(b *testing.B) (pods, services int) {
	pods, services = 150_000, 20_000
	if _, err := fmt.Sscan(os.Getenv("FLOWPOL_STATE_PODS"), &pods); err != nil && os.Getenv("FLOWPOL_STATE_PODS") != "" {
		b.Fatal(err)
	}
	if _, err := fmt.Sscan(os.Getenv("FLOWPOL_STATE_SERVICES"), &services); err != nil && os.Getenv("FLOWPOL_STATE_SERVICES") != "" {
		b.Fatal(err)
	}
	return pods, services
}
