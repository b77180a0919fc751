package learn

import (
	"math"
	"net/netip"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/inventory"
	"github.com/flowpol/flowpol/resolve"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func exampleLearner(t testing.TB, opts Options) *Learner {
	t.Helper()
	inv, err := inventory.LoadFile("../testdata/example/cluster.yaml")
	if err != nil {
		t.Fatal(err)
	}
	l, err := New(resolve.New(inv, resolve.Options{}), opts)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// frontend → api through the api Service, as the client and the server
// saw it.
func rec(at time.Time, obs flow.Observer, count uint64, node, comm string) *flow.Record {
	r := &flow.Record{Time: at, Proto: flow.TCP, Src: netip.MustParseAddrPort("10.244.1.10:43122"),
		Dst: netip.MustParseAddrPort("10.96.10.20:80"), Observer: obs, Count: count, Node: node, Comm: comm}
	if obs == flow.Server {
		r.Dst = netip.MustParseAddrPort("10.244.1.20:8080")
	}
	return r
}

const frontendToAPI = "shop/Deployment/frontend -> shop/Deployment/api:8080/TCP"

func TestTake(t *testing.T) {
	tests := []struct {
		name  string
		recs  []*flow.Record
		cells []baseline.Cell
		nodes []string
		comms [2][]string
	}{
		{"client and server ends in one bucket",
			[]*flow.Record{rec(t0.Add(1500*time.Millisecond), flow.Client, 3, "node-a", "curl"), rec(t0.Add(2*time.Second), flow.Server, 2, "node-b", "api")},
			[]baseline.Cell{{Start: t0.Unix(), Client: 3, Server: 2, FirstMS: 1500, LastMS: 2000}},
			[]string{"node-a", "node-b"}, [2][]string{{"curl"}, {"api"}}},
		{"a bucket a minute",
			[]*flow.Record{rec(t0, flow.Client, 1, "", ""), rec(t0.Add(61*time.Second), flow.Client, 1, "", "")},
			[]baseline.Cell{{Start: t0.Unix(), Client: 1}, {Start: t0.Unix() + 60, Client: 1, FirstMS: 1000, LastMS: 1000}},
			nil, [2][]string{}},
		{"counts saturate, never wrap",
			[]*flow.Record{rec(t0, flow.Client, math.MaxUint64, "", ""), rec(t0, flow.Client, 1, "", "")},
			[]baseline.Cell{{Start: t0.Unix(), Client: math.MaxUint64}},
			nil, [2][]string{}},
		{"before 1970",
			[]*flow.Record{rec(time.Date(1969, 12, 31, 23, 59, 30, 0, time.UTC), flow.Client, 1, "", "")},
			[]baseline.Cell{{Start: -60, Client: 1, FirstMS: 30000, LastMS: 30000}},
			nil, [2][]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := exampleLearner(t, Options{})
			for _, r := range tt.recs {
				l.Add(r)
			}
			d := l.Take()
			if d == nil || len(d.Edges) != 1 {
				t.Fatalf("delta %+v: want one edge", d)
			}
			e := d.Edges[0]
			if e.Edge.String() != frontendToAPI {
				t.Errorf("edge %s, want %s", e.Edge, frontendToAPI)
			}
			if !slices.Equal(e.Cells, tt.cells) {
				t.Errorf("cells %+v, want %+v", e.Cells, tt.cells)
			}
			if slices.Sort(e.Nodes); !slices.Equal(e.Nodes, tt.nodes) {
				t.Errorf("nodes %v, want %v", e.Nodes, tt.nodes)
			}
			if !slices.Equal(e.SrcComms, tt.comms[0]) || !slices.Equal(e.DstComms, tt.comms[1]) {
				t.Errorf("processes %v and %v, want %v", e.SrcComms, e.DstComms, tt.comms)
			}
			// Through the Service the client does not know the server's
			// pod; the server does.
			wantDst := 0
			if tt.recs[len(tt.recs)-1].Observer == flow.Server {
				wantDst = 1
			}
			if len(e.SrcPods) != 1 || len(e.DstPods) != wantDst || slices.Contains(e.DstPods, 0) {
				t.Errorf("pods %v -> %v, want one -> %d", e.SrcPods, e.DstPods, wantDst)
			}
		})
	}
}

// Each Take hands out only what came since the last, and the workloads
// once; a Take with nothing new is nil.
func TestTakeStartsAfresh(t *testing.T) {
	l := exampleLearner(t, Options{})
	l.Add(rec(t0, flow.Client, 1, "node-a", "curl"))
	first := l.Take()
	if first == nil || len(first.Workloads) == 0 || first.Cluster == nil {
		t.Fatalf("first delta %+v: want the workloads and cluster facts", first)
	}
	if d := l.Take(); d != nil {
		t.Fatalf("second delta %+v with nothing added: want nil", d)
	}
	l.Add(rec(t0.Add(time.Minute), flow.Client, 5, "node-a", "curl"))
	d := l.Take()
	if d == nil || len(d.Edges) != 1 || d.Workloads != nil || d.Cluster != nil {
		t.Fatalf("third delta %+v: want one edge and no workloads", d)
	}
	e := d.Edges[0]
	if want := []baseline.Cell{{Start: t0.Unix() + 60, Client: 5}}; !slices.Equal(e.Cells, want) {
		t.Errorf("cells %+v, want only the new %+v", e.Cells, want)
	}
	if e.SrcPods != nil || e.Nodes != nil || e.SrcComms != nil {
		t.Errorf("pods %v, nodes %v, processes %v handed out again", e.SrcPods, e.Nodes, e.SrcComms)
	}
	// The first delta is the caller's: it did not change.
	if c := first.Edges[0].Cells; len(c) != 1 || c[0].Client != 1 {
		t.Errorf("the first delta's cells changed: %+v", c)
	}
	run := l.Run()
	if run.Records != 2 || run.Connections != 6 || run.Edges != 1 {
		t.Errorf("run %+v: want 2 records, 6 connections, 1 edge", run)
	}
}

func TestRunCounts(t *testing.T) {
	l := exampleLearner(t, Options{})
	l.Add(rec(t0, flow.Client, math.MaxUint64, "", ""))
	l.Add(rec(t0, flow.Client, 1, "", ""))
	l.Add(&flow.Record{Time: t0, Proto: flow.TCP, Src: netip.MustParseAddrPort("127.0.0.1:1"), Dst: netip.MustParseAddrPort("127.0.0.1:2"), Count: 1})
	l.Add(&flow.Record{Time: t0, Proto: flow.TCP, Src: netip.MustParseAddrPort("10.244.2.99:1"), Dst: netip.MustParseAddrPort("10.96.10.20:80"), Count: 1})
	run := l.Run()
	if run.Records != 4 || run.Connections != math.MaxUint64 {
		t.Errorf("%d records, %d connections; want 4, saturated", run.Records, run.Connections)
	}
	if run.Ignored["loopback (inside one pod)"] != 1 || len(run.Unresolved) != 1 {
		t.Errorf("ignored %v, unresolved %v: want one loopback record and one unresolved end", run.Ignored, run.Unresolved)
	}
}

func TestBucketWidth(t *testing.T) {
	for _, b := range []time.Duration{time.Millisecond, 1500 * time.Millisecond, 50 * 24 * time.Hour} {
		if _, err := New(nil, Options{Bucket: b}); err == nil {
			t.Errorf("bucket %v accepted", b)
		}
	}
	l := exampleLearner(t, Options{Bucket: time.Hour})
	l.Add(rec(t0.Add(90*time.Minute), flow.Client, 1, "", ""))
	if c := l.Take().Edges[0].Cells; len(c) != 1 || c[0].Start != t0.Unix()+3600 || c[0].FirstMS != 30*60*1000 {
		t.Errorf("cells %+v in hour buckets", c)
	}
}

func bare(name, ip string) corev1.Pod {
	return corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name),
			Labels: map[string]string{"app": name}, CreationTimestamp: metav1.NewTime(t0.Add(-time.Hour))},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip},
	}
}

// clock is a clock a test moves.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

// liveLearner learns with a changing cluster state, of the inventories
// a test hands it through next.
func liveLearner(t testing.TB, c *clock, next *[]*inventory.Inventory, opts Options) *Learner {
	t.Helper()
	node := corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}, Spec: corev1.NodeSpec{PodCIDR: "10.0.0.0/24"}}
	first := &inventory.Inventory{Nodes: []corev1.Node{node}, Pods: []corev1.Pod{bare("server", "10.0.0.9")}}
	refresh := func() *inventory.Inventory {
		if len(*next) == 0 {
			return nil
		}
		inv := (*next)[0]
		*next = (*next)[1:]
		return inv
	}
	opts.Now = c.Now
	l, err := New(newStates(first, refresh, c.Now), opts)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func withClient(inv *inventory.Inventory) *inventory.Inventory {
	return &inventory.Inventory{Nodes: inv.Nodes, Pods: append([]corev1.Pod{bare("client", "10.0.0.5")}, inv.Pods...)}
}

var fromClient = &flow.Record{Time: t0, Proto: flow.TCP, Src: netip.MustParseAddrPort("10.0.0.5:1000"),
	Dst: netip.MustParseAddrPort("10.0.0.9:80"), Observer: flow.Client, Count: 1}

// A record from an address the cluster state does not know yet waits, is
// kept in the deltas while it waits, and is added once the state knows
// the address.
func TestWaiting(t *testing.T) {
	c := &clock{now: t0}
	var next []*inventory.Inventory
	l := liveLearner(t, c, &next, Options{KeepWaiting: true})
	l.Add(fromClient)
	if l.Waiting() != 1 {
		t.Fatalf("%d records waiting, want the one from an unknown pod address", l.Waiting())
	}
	d := l.Take()
	if d == nil || !d.ReplaceWaiting || len(d.Waiting) != 1 || len(d.Edges) != 0 {
		t.Fatalf("delta %+v: want the waiting record and no edge", d)
	}
	if d := l.Take(); d != nil {
		t.Fatalf("delta %+v although nothing changed", d)
	}
	c.now = c.now.Add(2 * time.Second)
	next = []*inventory.Inventory{withClient(&inventory.Inventory{Nodes: []corev1.Node{{ObjectMeta: metav1.ObjectMeta{Name: "n"}, Spec: corev1.NodeSpec{PodCIDR: "10.0.0.0/24"}}}, Pods: []corev1.Pod{bare("server", "10.0.0.9")}})}
	if n := l.Retry(c.now); n != 0 {
		t.Fatalf("%d still waiting after the state learned the client", n)
	}
	d = l.Take()
	if d == nil || len(d.Edges) != 1 || d.Edges[0].Edge.String() != "ns/Pod/client -> ns/Pod/server:80/TCP" || !d.ReplaceWaiting || len(d.Waiting) != 0 {
		t.Fatalf("delta %+v: want client -> server and no record waiting", d)
	}
	if _, ok := d.Workloads[d.Edges[0].Edge.Src.Workload]; !ok || d.Cluster == nil {
		t.Errorf("delta lacks the newer state's workloads: %v", d.Workloads)
	}
	if run := l.Run(); run.Waited != 1 || run.WaitedOut != 0 || len(run.Unresolved) != 0 {
		t.Errorf("run %+v: want one record that waited and resolved", run)
	}
}

// Waiting is bounded: past MaxWaiting a record is added as it resolves,
// past MaxWait it is added unresolved, Retry runs at most once a second,
// and Restore takes records back.
func TestWaitingBounds(t *testing.T) {
	c := &clock{now: t0}
	var next []*inventory.Inventory
	l := liveLearner(t, c, &next, Options{MaxWaiting: 1, MaxWait: 10 * time.Second})
	l.Add(fromClient)
	l.Add(fromClient)
	if l.Waiting() != 1 || l.Run().WaitFull != 1 {
		t.Fatalf("%d waiting, %d overflowed: want 1 and 1", l.Waiting(), l.Run().WaitFull)
	}
	c.now = c.now.Add(11 * time.Second)
	if n := l.Retry(c.now); n != 0 {
		t.Fatalf("%d still waiting past MaxWait", n)
	}
	run := l.Run()
	if run.WaitedOut != 1 || run.Unresolved["no pod or service has this cluster address"] != 2 {
		t.Errorf("run %+v: want one waited out, two unresolved", run)
	}
	l.Restore([]flow.Record{*fromClient})
	if l.Waiting() != 1 {
		t.Fatalf("%d waiting after Restore, want 1", l.Waiting())
	}
	next = []*inventory.Inventory{withClient(&inventory.Inventory{Nodes: []corev1.Node{{ObjectMeta: metav1.ObjectMeta{Name: "n"}, Spec: corev1.NodeSpec{PodCIDR: "10.0.0.0/24"}}}, Pods: []corev1.Pod{bare("server", "10.0.0.9")}})}
	c.now = c.now.Add(500 * time.Millisecond)
	if n := l.Retry(c.now); n != 1 {
		t.Errorf("Retry within a second of the last placed %d records again", 1-n)
	}
	c.now = c.now.Add(time.Second)
	if n := l.Retry(c.now); n != 0 {
		t.Errorf("%d still waiting after the state learned the client", n)
	}
}

// TestOwnNode: traffic between a pod and the node it runs on (its
// address, or a hostNetwork pod on it) is one own-node end whichever node
// that is; another node stays the host it is.
func TestOwnNode(t *testing.T) {
	at := func(src, dst string, obs flow.Observer) *flow.Record {
		return &flow.Record{Time: t0, Proto: flow.TCP, Src: netip.MustParseAddrPort(src), Dst: netip.MustParseAddrPort(dst), Observer: obs, Count: 1}
	}
	tests := []struct {
		name string
		rec  *flow.Record
		want string
	}{
		{"the node's hostNetwork pod probes a pod on it, client side", at("192.168.10.11:40000", "10.244.1.20:8080", flow.Client), "own-node -> shop/Deployment/api:8080/TCP"},
		{"the same, server side", at("192.168.10.11:40000", "10.244.1.20:8080", flow.Server), "own-node -> shop/Deployment/api:8080/TCP"},
		{"another node's pod of the same workload", at("192.168.10.12:40000", "10.244.2.20:8080", flow.Server), "own-node -> shop/Deployment/api:8080/TCP"},
		{"a pod reaches its own node", at("10.244.1.20:40000", "192.168.10.11:10250", flow.Client), "shop/Deployment/api -> own-node:10250/TCP"},
		{"a node reaches a pod on another node", at("192.168.10.12:40000", "10.244.1.20:8080", flow.Server), "host/node-b/192.168.10.12 -> shop/Deployment/api:8080/TCP"},
		{"a node that runs no pod of it (the control plane)", at("192.168.10.10:40000", "10.244.1.20:8080", flow.Server), "host/cp-1/192.168.10.10 -> shop/Deployment/api:8080/TCP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := exampleLearner(t, Options{})
			l.Add(tt.rec)
			d := l.Take()
			if d == nil || len(d.Edges) != 1 {
				t.Fatalf("delta %+v, want one edge", d)
			}
			if got := d.Edges[0].Edge.String(); got != tt.want {
				t.Errorf("edge %s, want %s", got, tt.want)
			}
		})
	}
}

// TestSplit: a count through a Service over several workloads is split in
// proportion to what the servers saw, evenly when none did, the parts
// adding up to the count, even when the servers' counts saturated.
func TestSplit(t *testing.T) {
	parts := split(10, []uint64{1, 1, 1}, 3)
	if !slices.Equal(parts, []uint64{4, 3, 3}) {
		t.Errorf("10 over three: %v, want [4 3 3]", parts)
	}
	parts = split(311, []uint64{58, 154, 99}, 311)
	if !slices.Equal(parts, []uint64{58, 154, 99}) {
		t.Errorf("311 as the servers saw it: %v, want [58 154 99]", parts)
	}
	w := []uint64{math.MaxUint64, 3}
	parts = split(math.MaxUint64, w, sum(w))
	if parts[0]+parts[1] != math.MaxUint64 || parts[0] < parts[1] {
		t.Errorf("2^64-1 by saturated weights: %v", parts)
	}
}
