package kubestate

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/inventory"
	"github.com/flowpol/flowpol/resolve"
	"github.com/flowpol/flowpol/topology"
)

// t0 is when the random clusters' pods start; the clock stands at t0+1h.
var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

var clusterCIDRs = []netip.Prefix{netip.MustParsePrefix("10.96.0.0/12")}

// The live resolver fed the objects of a random cluster one event at a
// time, in a random order, with updates and deletions on the way, places
// every record as the inventory resolver of the same objects does, and
// gives the same workloads and cluster facts.
func TestLiveResolvesAsInventory(t *testing.T) {
	for seed := range 100 {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(seed), 13))
			inv := randomCluster(rng)
			live := unstartedResolver(t)
			stop := placing(live, randomRecords(rand.New(rand.NewPCG(uint64(seed), 14)), inv, 100))
			feed(live, inv, rng)
			stop()
			static := resolve.New(inv, resolve.Options{ClusterCIDRs: clusterCIDRs})
			known := map[string]bool{}
			for i := range inv.Pods {
				known[string(inv.Pods[i].UID)] = true
			}
			for i, rec := range randomRecords(rng, inv, 400) {
				want, got := placed(static, func(uid string) bool { return known[uid] }, &rec), placed(live, nil, &rec)
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("record %d %+v:\n live   %v\n static %v", i, rec, got, want)
				}
			}
			compareWorkloads(t, live, static)
			if got, want := live.Cluster(), static.Cluster(); !reflect.DeepEqual(got, want) {
				t.Errorf("cluster:\n live   %+v\n static %+v", got, want)
			}
		})
	}
}

// placing places records over and over on another goroutine, as a
// learner does while the handlers run (asking for their memory first),
// until the returned function is called.
func placing(r resolve.Resolver, recs []flow.Record) (stop func()) {
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		var p resolve.Placement
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			prefetched(r, &recs[i%len(recs)])
			r.Place(&recs[i%len(recs)], &p)
			r.Workloads(0)
			r.Cluster()
		}
	}()
	return func() { close(done); <-stopped }
}

// unstartedResolver is a resolver on informers that are never started:
// the test fills their stores and delivers the events itself.
func unstartedResolver(t testing.TB) *Resolver {
	t.Helper()
	cs, err := kubernetes.NewForConfig(&rest.Config{Host: "http://127.0.0.1:1"}) // never asked
	if err != nil {
		t.Fatal(err)
	}
	f := informers.NewSharedInformerFactory(cs, 0)
	r, err := NewResolver(f, ResolverOptions{Grace: 24 * time.Hour, Now: func() time.Time { return t0.Add(time.Hour) }, ClusterCIDRs: clusterCIDRs})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// event is one informer event: its store, and old and new objects as a
// handler gets them.
type event struct {
	store    cache.Store
	on       func(old, cur any)
	old, cur any
}

// deliver changes the store and calls the resolver's handler, as an
// informer does.
func (e event) deliver() {
	h := handler(e.on)
	switch {
	case e.cur == nil:
		e.store.Delete(e.old)
		h.OnDelete(e.old)
	case e.old == nil:
		e.store.Add(e.cur)
		h.OnAdd(e.cur, false)
	default:
		e.store.Update(e.cur)
		h.OnUpdate(e.old, e.cur)
	}
}

// feed delivers an inventory's objects to r in a random order: some first
// in another version, some objects that come and go, pods deleted within
// the inventory deleted through a delete event, some as tombstones.
func feed(r *Resolver, inv *inventory.Inventory, rng *rand.Rand) {
	var evs [][]event // each object's events, in order
	add := func(inf cache.SharedIndexInformer, on func(old, cur any), obj, first any) {
		s := inf.GetStore()
		if first != nil {
			evs = append(evs, []event{{s, on, nil, first}, {s, on, first, obj}})
			return
		}
		evs = append(evs, []event{{s, on, nil, obj}})
	}
	for i := range inv.Pods {
		p := &inv.Pods[i]
		if p.DeletionTimestamp == nil || rng.IntN(4) == 0 {
			add(r.inf.pods, r.onPod, p, earlierPod(p, rng))
			continue
		}
		// Deleted: it lived without a deletion timestamp, and went.
		alive := p.DeepCopy()
		alive.DeletionTimestamp = nil
		s := r.inf.pods.GetStore()
		var gone any = p
		if rng.IntN(3) == 0 {
			gone = cache.DeletedFinalStateUnknown{Key: p.Namespace + "/" + p.Name, Obj: p}
		}
		evs = append(evs, []event{{s, r.onPod, nil, alive}, {s, r.onPod, p, nil}})
		evs[len(evs)-1][1].old = gone
	}
	for i := range inv.Nodes {
		add(r.inf.nodes, r.onNode, &inv.Nodes[i], nil)
	}
	for i := range inv.Namespaces {
		add(r.inf.namespaces, r.onNamespace, &inv.Namespaces[i], nil)
	}
	for i := range inv.Services {
		add(r.inf.services, r.onService, &inv.Services[i], earlierService(&inv.Services[i], rng))
	}
	for i := range inv.EndpointSlices {
		add(r.inf.slices, r.onSlice, &inv.EndpointSlices[i], nil)
	}
	for i := range inv.ReplicaSets {
		add(r.inf.replicaSets, r.onReplicaSet, &inv.ReplicaSets[i], nil)
	}
	for i := range inv.Deployments {
		add(r.inf.deployments, r.onDeployment, &inv.Deployments[i], nil)
	}
	for i := range inv.StatefulSets {
		add(r.inf.statefulSets, r.onController, &inv.StatefulSets[i], nil)
	}
	for i := range inv.DaemonSets {
		add(r.inf.daemonSets, r.onController, &inv.DaemonSets[i], nil)
	}
	for i := range inv.Jobs {
		add(r.inf.jobs, r.onJob, &inv.Jobs[i], nil)
	}
	for i := range inv.CronJobs {
		add(r.inf.cronJobs, r.onController, &inv.CronJobs[i], nil)
	}
	evs = append(evs, transient(r, rng)...)
	deliverShuffled(evs, rng)
}

// deliverShuffled interleaves the objects' events at random, keeping each
// object's own in order.
func deliverShuffled(evs [][]event, rng *rand.Rand) {
	for len(evs) > 0 {
		i := rng.IntN(len(evs))
		evs[i][0].deliver()
		if evs[i] = evs[i][1:]; len(evs[i]) == 0 {
			evs[i] = evs[len(evs)-1]
			evs = evs[:len(evs)-1]
		}
	}
}

// transient makes objects that come and go before the end: a Service, an
// EndpointSlice and a ReplicaSet, their deletions some as tombstones.
func transient(r *Resolver, rng *rand.Rand) [][]event {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "gone"},
		Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.99", Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Port: 80}}}}
	slice := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "web-gone",
		Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
		Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.244.1.250"}}},
		Ports:     []discoveryv1.EndpointPort{{Name: ptr(""), Port: ptr(int32(1234))}}}
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "web-h1", UID: "rs-gone",
		OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", Name: "other", Controller: ptr(true)}}}}
	var out [][]event
	for _, x := range []struct {
		inf cache.SharedIndexInformer
		on  func(old, cur any)
		obj any
	}{{r.inf.services, r.onService, svc}, {r.inf.slices, r.onSlice, slice}, {r.inf.replicaSets, r.onReplicaSet, rs}} {
		var gone = x.obj
		if rng.IntN(2) == 0 {
			key, _ := cache.MetaNamespaceKeyFunc(x.obj)
			gone = cache.DeletedFinalStateUnknown{Key: key, Obj: x.obj}
		}
		s := x.inf.GetStore()
		out = append(out, []event{{s, x.on, nil, x.obj}, {s, x.on, gone, nil}})
	}
	return out
}

// earlierPod is, at random, another version of p an update replaces: at
// another address, with other labels, not yet running.
func earlierPod(p *corev1.Pod, rng *rand.Rand) any {
	if rng.IntN(3) > 0 {
		return nil
	}
	e := p.DeepCopy()
	e.Labels = map[string]string{"app": "early"}
	e.Status.Phase = corev1.PodPending
	e.Status.PodIP, e.Status.PodIPs = "10.244.1.240", nil
	return e
}

func earlierService(s *corev1.Service, rng *rand.Rand) any {
	if rng.IntN(3) > 0 {
		return nil
	}
	e := s.DeepCopy()
	e.Spec.Selector = map[string]string{"app": "db"}
	e.Spec.Ports = []corev1.ServicePort{{Port: 7777}}
	return e
}

// placement is a Placement in words, for comparing two resolvers.
type placement struct {
	Src     string
	Dsts    []string
	Unknown bool
}

// prefetched asks r for rec's memory ahead of placing it, as a learner
// does, when r can: it must change nothing, and never fault, whatever the
// addresses and however the indexes change meanwhile.
func prefetched(r resolve.Resolver, rec *flow.Record) {
	if pre, ok := r.(resolve.Prefetcher); ok {
		pre.PrefetchIndex(rec)
		pre.PrefetchEnds(rec)
	}
}

// placed places rec with r; known, when r cannot say Unknown itself,
// tells which pod uids it knows, and Unknown is derived as a live
// resolver must say it.
func placed(r resolve.Resolver, known func(string) bool, rec *flow.Record) placement {
	var p resolve.Placement
	prefetched(r, rec)
	r.Place(rec, &p)
	out := placement{Src: target(r, p.Src), Unknown: p.Unknown}
	for _, d := range p.Dsts {
		out.Dsts = append(out.Dsts, target(r, d))
	}
	slices.Sort(out.Dsts)
	if known != nil {
		out.Unknown = rec.PodUID != "" && !known(rec.PodUID) || unknownAddr(r, p.Src)
		for _, d := range p.Dsts {
			out.Unknown = out.Unknown || unknownAddr(r, d)
		}
	}
	return out
}

func target(r resolve.Resolver, t resolve.Target) string {
	return fmt.Sprintf("%v:%d pod %x", r.End(t.End), t.Port, t.Pod)
}

func unknownAddr(r resolve.Resolver, t resolve.Target) bool {
	e := r.End(t.End)
	return e.Kind == topology.KindUnresolved && e.Reason == topology.ReasonUnknownClusterAddr
}

func compareWorkloads(t *testing.T, live, static resolve.Resolver) {
	t.Helper()
	got, _ := live.Workloads(0)
	want, _ := static.Workloads(0)
	for ref := range want {
		if _, ok := got[ref]; !ok {
			t.Errorf("workload %v: missing live", ref)
		}
	}
	for ref, w := range got {
		sw, ok := want[ref]
		if !ok {
			t.Errorf("workload %v: live only", ref)
			continue
		}
		if g, s := normal(w), normal(sw); !reflect.DeepEqual(g, s) {
			t.Errorf("workload %v:\n live   %+v\n static %+v", ref, g, s)
		}
	}
}

// normal orders what has no order of its own, and empties nil.
func normal(w topology.Workload) topology.Workload {
	w.Ports = slices.Clone(w.Ports)
	slices.SortFunc(w.Ports, func(a, b topology.ContainerPort) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), cmp.Compare(a.Port, b.Port), cmp.Compare(a.Proto, b.Proto))
	})
	for i, l := range w.PodLabels {
		if l == nil {
			w.PodLabels[i] = map[string]string{}
		}
	}
	return w
}

// randomRecords makes records between the cluster's addresses, nodes,
// Services and addresses outside it, on their ports, at times around the
// pods' tenures, some with the observing pod's uid.
func randomRecords(rng *rand.Rand, inv *inventory.Inventory, n int) []flow.Record {
	addrs, ports := []string{"8.8.8.8", "10.244.1.200", "10.244.2.201", "10.100.0.1", "192.168.0.1", "192.168.0.2"}, []uint16{1, 53, 80, 443, 6443, 8080, 30080}
	var uids []string
	times := []time.Time{t0.Add(-time.Hour), t0.Add(59 * time.Minute)}
	for i := range inv.Pods {
		p := &inv.Pods[i]
		addrs = append(addrs, p.Status.PodIP)
		uids = append(uids, string(p.UID))
		if d := p.DeletionTimestamp; d != nil {
			times = append(times, d.Add(-time.Nanosecond), d.Time, d.Add(time.Second))
		}
		if s := p.Status.StartTime; s != nil {
			times = append(times, s.Time, s.Add(-time.Nanosecond))
		}
	}
	for i := range inv.Services {
		s := &inv.Services[i]
		if s.Spec.ClusterIP != "" {
			addrs = append(addrs, s.Spec.ClusterIP)
		}
		addrs = append(addrs, s.Spec.ExternalIPs...)
		for _, sp := range s.Spec.Ports {
			ports = append(ports, uint16(sp.Port), uint16(sp.NodePort))
		}
	}
	uids = append(uids, "no-such-uid")
	out := make([]flow.Record, n)
	for i := range out {
		rec := flow.Record{Time: pick(rng, times), Proto: pick(rng, []flow.Proto{flow.TCP, flow.TCP, flow.UDP}),
			Src:      netip.AddrPortFrom(netip.MustParseAddr(pick(rng, addrs)), 40000),
			Dst:      netip.AddrPortFrom(netip.MustParseAddr(pick(rng, addrs)), pick(rng, ports)),
			Observer: pick(rng, []flow.Observer{flow.Client, flow.Server}), Count: 1}
		if rng.IntN(3) == 0 {
			rec.PodUID = pick(rng, uids)
		}
		out[i] = rec
	}
	return out
}

func pick[T any](rng *rand.Rand, s []T) T { return s[rng.IntN(len(s))] }

func ptr[T any](v T) *T { return &v }

// randomCluster makes a small cluster with every kind of object the
// resolvers read, in every state they tell apart: pods of Deployments
// (their ReplicaSets known or not), StatefulSets, DaemonSets, Jobs of
// CronJobs, bare and hostNetwork pods; pods deleted at different times
// whose addresses went to others, pending and finished ones; Services with
// numbered, named and default target ports, NodePorts, external IPs,
// EndpointSlices or selectors alone; kube-dns and kubernetes.
func randomCluster(rng *rand.Rand) *inventory.Inventory {
	g := &gen{rng: rng, inv: &inventory.Inventory{Skipped: map[string]int{}}}
	g.base()
	for _, ns := range []string{"a", "b"} {
		g.controllers(ns)
	}
	for i := range 3 + rng.IntN(4) {
		g.pod(pick(rng, []string{"a", "b"}), fmt.Sprintf("bare%d", i), nil, g.labels())
	}
	g.services()
	slices.SortFunc(g.inv.Pods, func(x, y corev1.Pod) int { return strings.Compare(string(x.UID), string(y.UID)) })
	return g.inv
}

type gen struct {
	rng *rand.Rand
	inv *inventory.Inventory
	seq int
}

func (g *gen) next() int { g.seq++; return g.seq }

func (g *gen) labels() map[string]string {
	l := map[string]string{}
	for _, k := range []string{"app", "tier", "pod-template-hash"} {
		if g.rng.IntN(3) > 0 {
			l[k] = pick(g.rng, []string{"web", "db", "x"})
		}
	}
	return l
}

func (g *gen) base() {
	for _, ns := range []string{"default", "kube-system", "a", "b"} {
		g.inv.Namespaces = append(g.inv.Namespaces, corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns,
			Labels: map[string]string{corev1.LabelMetadataName: ns, "team": pick(g.rng, []string{"x", "y"})}}})
	}
	for i := range 2 {
		g.inv.Nodes = append(g.inv.Nodes, corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("n%d", i+1)},
			Spec: corev1.NodeSpec{PodCIDR: fmt.Sprintf("10.244.%d.0/24", i+1)},
			Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: fmt.Sprintf("192.168.0.%d", i+1)},
				{Type: corev1.NodeHostName, Address: fmt.Sprintf("n%d", i+1)}}}})
	}
	dns := g.pod("kube-system", "coredns-1", nil, map[string]string{"k8s-app": "kube-dns"})
	dns.Spec.Containers[0].Ports = []corev1.ContainerPort{{Name: "dns", ContainerPort: 5353, Protocol: corev1.ProtocolUDP}, {Name: "dns-tcp", ContainerPort: 5353}}
	host := g.pod("kube-system", "proxy-1", nil, map[string]string{"app": "proxy"})
	host.Spec.HostNetwork, host.Status.PodIP, host.Status.PodIPs = true, "192.168.0.2", nil
}

// controllers makes workloads of every kind in a namespace.
func (g *gen) controllers(ns string) {
	for i := range 1 + g.rng.IntN(3) {
		name := fmt.Sprintf("dep%d", i)
		l := g.labels()
		sel := &metav1.LabelSelector{MatchLabels: l}
		hash := fmt.Sprintf("h%d", i)
		if g.rng.IntN(4) > 0 {
			g.inv.Deployments = append(g.inv.Deployments, appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: appsv1.DeploymentSpec{Selector: sel}})
		}
		rsName := name + "-" + hash
		if g.rng.IntN(3) > 0 {
			g.inv.ReplicaSets = append(g.inv.ReplicaSets, appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: rsName,
				OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", Name: name, Controller: ptr(true)}}}, Spec: appsv1.ReplicaSetSpec{Selector: sel}})
		}
		pl := withKey(l, "pod-template-hash", hash)
		for j := range 1 + g.rng.IntN(3) {
			g.pod(ns, fmt.Sprintf("%s-%d", rsName, j), &metav1.OwnerReference{Kind: "ReplicaSet", Name: rsName, Controller: ptr(true)}, pl)
		}
	}
	sts := appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "db"}, Spec: appsv1.StatefulSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}}}
	g.inv.StatefulSets = append(g.inv.StatefulSets, sts)
	g.pod(ns, "db-0", &metav1.OwnerReference{Kind: "StatefulSet", Name: "db", Controller: ptr(true)}, map[string]string{"app": "db", "statefulset.kubernetes.io/pod-name": "db-0"})
	if g.rng.IntN(2) == 0 {
		g.inv.DaemonSets = append(g.inv.DaemonSets, appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "agent"},
			Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpIn, Values: []string{"web", "agent"}}}}}})
	}
	g.pod(ns, "agent-x", &metav1.OwnerReference{Kind: "DaemonSet", Name: "agent", Controller: ptr(true)}, map[string]string{"app": "agent"})
	g.jobs(ns)
}

func (g *gen) jobs(ns string) {
	tl := map[string]string{"app": "report", "job-name": "report-1"}
	if g.rng.IntN(2) == 0 {
		g.inv.CronJobs = append(g.inv.CronJobs, batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "report"},
			Spec: batchv1.CronJobSpec{JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: tl}}}}}})
	}
	if g.rng.IntN(3) > 0 {
		g.inv.Jobs = append(g.inv.Jobs, batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "report-1",
			OwnerReferences: []metav1.OwnerReference{{Kind: "CronJob", Name: "report", Controller: ptr(true)}}},
			Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: tl}}}})
	}
	p := g.pod(ns, "report-1-x", &metav1.OwnerReference{Kind: "Job", Name: "report-1", Controller: ptr(true)}, tl)
	p.Status.Phase = pick(g.rng, []corev1.PodPhase{corev1.PodSucceeded, corev1.PodRunning})
}

func withKey(l map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for lk, lv := range l {
		if lk != k {
			out[lk] = lv
		}
	}
	return out
}

// pod adds a pod at an address of a small pool, so that addresses are
// shared: one in three is deleted at some time, after which the address may
// be another's.
func (g *gen) pod(ns, name string, owner *metav1.OwnerReference, labels map[string]string) *corev1.Pod {
	n := g.next()
	created := t0.Add(time.Duration(n) * time.Second)
	p := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(fmt.Sprintf("uid-%03d", g.rng.IntN(1000)*1000+n)),
			Labels: labels, CreationTimestamp: metav1.NewTime(created)},
		Spec: corev1.PodSpec{NodeName: pick(g.rng, []string{"n1", "n2"}), Containers: []corev1.Container{{Name: "c", Ports: g.ports()}}},
		Status: corev1.PodStatus{Phase: pick(g.rng, []corev1.PodPhase{corev1.PodRunning, corev1.PodRunning, corev1.PodPending, corev1.PodFailed}),
			PodIP: fmt.Sprintf("10.244.%d.%d", 1+g.rng.IntN(2), 1+g.rng.IntN(12))},
	}
	p.Status.PodIPs = []corev1.PodIP{{IP: p.Status.PodIP}}
	if g.rng.IntN(2) == 0 {
		st := metav1.NewTime(created.Add(time.Duration(g.rng.IntN(20)) * time.Minute))
		p.Status.StartTime = &st
	}
	if owner != nil {
		p.OwnerReferences = []metav1.OwnerReference{*owner}
	}
	if g.rng.IntN(3) == 0 {
		d := metav1.NewTime(created.Add(time.Duration(1+g.rng.IntN(40)) * time.Minute))
		p.DeletionTimestamp = &d
	}
	g.inv.Pods = append(g.inv.Pods, p)
	return &g.inv.Pods[len(g.inv.Pods)-1]
}

func (g *gen) ports() []corev1.ContainerPort {
	var out []corev1.ContainerPort
	for _, name := range []string{"http", "metrics"} {
		if g.rng.IntN(2) == 0 {
			out = append(out, corev1.ContainerPort{Name: name, ContainerPort: pick(g.rng, []int32{8080, 9090, 80})})
		}
	}
	return out
}

// services adds kube-dns, kubernetes and random Services, with
// EndpointSlices for some.
func (g *gen) services() {
	g.service("kube-system", "kube-dns", "10.96.0.10", map[string]string{"k8s-app": "kube-dns"},
		corev1.ServicePort{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromString("dns")},
		corev1.ServicePort{Name: "dns-tcp", Port: 53, TargetPort: intstr.FromString("dns-tcp")})
	api := g.service("default", "kubernetes", "10.96.0.1", nil, corev1.ServicePort{Name: "https", Port: 443, TargetPort: intstr.FromInt32(6443)})
	if g.rng.IntN(2) == 0 {
		g.inv.EndpointSlices = append(g.inv.EndpointSlices, discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "kubernetes",
			Labels: map[string]string{discoveryv1.LabelServiceName: api.Name}},
			Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"192.168.0.1"}}},
			Ports:     []discoveryv1.EndpointPort{{Name: ptr("https"), Port: ptr(int32(6443))}}})
	}
	for i, ns := range []string{"a", "a", "b", "b", "a"} {
		svc := g.service(ns, fmt.Sprintf("s%d", i), fmt.Sprintf("10.96.1.%d", i+1), g.labels(),
			corev1.ServicePort{Name: "web", Port: 80, TargetPort: pick(g.rng, []intstr.IntOrString{intstr.FromInt32(8080), intstr.FromString("http"), {}})},
			corev1.ServicePort{Name: "m", Port: 9000, TargetPort: intstr.FromString("metrics"), NodePort: int32(30080 + i)})
		if g.rng.IntN(3) == 0 {
			svc.Spec.ExternalIPs = []string{pick(g.rng, []string{"203.0.113.5", "203.0.113.6"})}
		}
		if g.rng.IntN(2) == 0 {
			g.slice(svc)
		}
	}
	g.service("a", "ext", "", nil).Spec.Type = corev1.ServiceTypeExternalName
	slices.SortFunc(g.inv.Services, func(x, y corev1.Service) int { return strings.Compare(x.Namespace+"/"+x.Name, y.Namespace+"/"+y.Name) })
}

func (g *gen) service(ns, name, ip string, sel map[string]string, ports ...corev1.ServicePort) *corev1.Service {
	g.inv.Services = append(g.inv.Services, corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{ClusterIP: ip, Selector: sel, Ports: ports}})
	return &g.inv.Services[len(g.inv.Services)-1]
}

// slice lists, for a Service, some pods of its namespace by name, an
// address with no pod named, and one nobody holds.
func (g *gen) slice(svc *corev1.Service) {
	var eps []discoveryv1.Endpoint
	for i := range g.inv.Pods {
		p := &g.inv.Pods[i]
		if p.Namespace == svc.Namespace && g.rng.IntN(3) == 0 {
			eps = append(eps, discoveryv1.Endpoint{Addresses: []string{p.Status.PodIP}, TargetRef: &corev1.ObjectReference{Kind: "Pod", Name: p.Name}})
		}
	}
	eps = append(eps, discoveryv1.Endpoint{Addresses: []string{fmt.Sprintf("10.244.1.%d", 1+g.rng.IntN(12))}},
		discoveryv1.Endpoint{Addresses: []string{pick(g.rng, []string{"10.244.2.222", "172.16.0.9"})}})
	g.inv.EndpointSlices = append(g.inv.EndpointSlices, discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: svc.Namespace, Name: svc.Name + "-1", Labels: map[string]string{discoveryv1.LabelServiceName: svc.Name}},
		Endpoints:  eps,
		Ports: []discoveryv1.EndpointPort{{Name: ptr("web"), Port: ptr(int32(8080))}, {Name: ptr("m"), Port: ptr(int32(9090)), Protocol: ptr(corev1.ProtocolTCP)},
			{Name: ptr("web"), Port: ptr(int32(8081)), Protocol: ptr(corev1.ProtocolUDP)}},
	})
}
