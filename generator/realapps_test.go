package generator_test

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/generator"
	"github.com/flowpol/flowpol/inventory"
	"github.com/flowpol/flowpol/topology"
)

// TestBookinfoLive learns Istio's Bookinfo, from its own manifest, as a
// three-node cluster runs it: two replicas of every Deployment spread
// over the nodes, the kubelet of each node probing its pods, and the
// documented call graph (productpage → details, productpage → reviews,
// whose Service spans reviews v1, v2 and v3, reviews v2 and v3 →
// ratings). The independent engine must accept the policies on every pod
// pair, replicas never seen included; no policy may name a node for the
// probes; and the connections through reviews must be counted per
// backend as the servers reported them, not as the client's total, and
// none of them called an estimate.
func TestBookinfoLive(t *testing.T) {
	dir := t.TempDir()
	app := instantiate(t, filepath.Join("..", "testdata", "realapps", "bookinfo.yaml"), 3, 2)
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	var recs []flow.Record
	recs = append(recs, app.probes(t0, 9080)...)
	served := map[string]uint64{"reviews-v1": 58, "reviews-v2": 154, "reviews-v3": 99}
	recs = append(recs, app.call(t0.Add(time.Second), "productpage-v1", "reviews", 9080, served)...)
	recs = append(recs, app.call(t0.Add(2*time.Second), "productpage-v1", "details", 9080, map[string]uint64{"details-v1": 50})...)
	for _, v := range []string{"reviews-v2", "reviews-v3"} {
		recs = append(recs, app.call(t0.Add(3*time.Second), v, "ratings", 9080, map[string]uint64{"ratings-v1": 40})...)
	}
	app.write(t, dir, recs)
	f := learnCross(t, crossScenario{name: "bookinfo", dir: dir, until: "2026-11-22T11:00:00Z", window: time.Hour})

	checkCrossWorkloads(t, f)
	checkOmittedWarnings(t, f)
	checkNoOwnNodeRules(t, f)
	reportCross(t, runCross(t, f, f.result.Policies))
	for i := range f.result.Policies {
		if v, ok := f.result.Policies[i].Annotations[generator.AnnotationEstimated]; ok {
			t.Errorf("policy %s is annotated %s=%s: its servers reported every connection", f.result.Policies[i].Name, generator.AnnotationEstimated, v)
		}
		if cidrs := policyCIDRs(&f.result.Policies[i]); len(cidrs) > 0 {
			t.Errorf("policy %s names addresses %v: Bookinfo talks to none, and its probes need no rule", f.result.Policies[i].Name, cidrs)
		}
	}
	for _, e := range f.win.Edges {
		if e.Src.Workload.Name != "productpage-v1" || e.Dst.Kind != topology.KindWorkload || !strings.HasPrefix(e.Dst.Workload.Name, "reviews-") {
			continue
		}
		if want := served[e.Dst.Workload.Name]; e.Count != want {
			t.Errorf("%s: %d connections, want %d, what its servers reported (the client saw 311 through the Service)", e.Edge, e.Count, want)
		}
		if e.Estimated != 0 {
			t.Errorf("%s: %d of its connections estimated, though its servers reported them all", e.Edge, e.Estimated)
		}
		delete(served, e.Dst.Workload.Name)
	}
	if len(served) > 0 {
		t.Errorf("no edge from productpage to %v", served)
	}
}

// liveApp is an application's manifests instantiated as a live cluster
// shows them.
type liveApp struct {
	objs  []any
	nodes []corev1.Node
	pods  map[string][]*corev1.Pod // by Deployment
	svcs  map[string]*corev1.Service
}

// instantiate reads an application's manifests and runs them on n nodes
// with the given replicas per Deployment: a ReplicaSet each, pods spread
// over the nodes in turn with addresses in their node's pod range, and a
// cluster IP for every Service.
func instantiate(tb testing.TB, path string, n, replicas int) *liveApp {
	tb.Helper()
	inv, err := inventory.LoadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	app := &liveApp{pods: map[string][]*corev1.Pod{}, svcs: map[string]*corev1.Service{}}
	app.add(&corev1.Namespace{TypeMeta: typeMeta("v1", "Namespace"), ObjectMeta: metav1.ObjectMeta{Name: "default", Labels: map[string]string{corev1.LabelMetadataName: "default"}}})
	for i := range n {
		node := corev1.Node{TypeMeta: typeMeta("v1", "Node"), ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("node-%d", i+1)},
			Spec:   corev1.NodeSpec{PodCIDR: fmt.Sprintf("10.244.%d.0/24", i+1), PodCIDRs: []string{fmt.Sprintf("10.244.%d.0/24", i+1)}},
			Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: fmt.Sprintf("172.18.0.%d", i+2)}}}}
		app.nodes = append(app.nodes, node)
		app.add(&app.nodes[i])
	}
	started := metav1.NewTime(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC))
	next := 0
	for i := range inv.Deployments {
		d := &inv.Deployments[i]
		d.TypeMeta, d.Namespace, d.UID = typeMeta("apps/v1", "Deployment"), "default", types.UID("uid-"+d.Name)
		app.add(d)
		rs := &appsv1.ReplicaSet{TypeMeta: typeMeta("apps/v1", "ReplicaSet"), ObjectMeta: metav1.ObjectMeta{Name: d.Name + "-7d9f5c", Namespace: "default", UID: types.UID("uid-rs-" + d.Name),
			Labels: d.Spec.Template.Labels, OwnerReferences: []metav1.OwnerReference{controller("Deployment", d.Name, d.UID)}},
			Spec: appsv1.ReplicaSetSpec{Selector: d.Spec.Selector, Template: d.Spec.Template}}
		app.add(rs)
		for r := range replicas {
			node := &app.nodes[next%n]
			next++
			labels := map[string]string{"pod-template-hash": "7d9f5c"}
			for k, v := range d.Spec.Template.Labels {
				labels[k] = v
			}
			ip := fmt.Sprintf("10.244.%s.%d", strings.Split(node.Spec.PodCIDR, ".")[2], 10+next)
			p := &corev1.Pod{TypeMeta: typeMeta("v1", "Pod"), ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-7d9f5c-%d", d.Name, r), Namespace: "default",
				UID: types.UID(fmt.Sprintf("uid-%s-%d", d.Name, r)), Labels: labels, OwnerReferences: []metav1.OwnerReference{controller("ReplicaSet", rs.Name, rs.UID)}},
				Spec:   *d.Spec.Template.Spec.DeepCopy(),
				Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}}, HostIP: node.Status.Addresses[0].Address, StartTime: &started}}
			p.Spec.NodeName = node.Name
			app.pods[d.Name] = append(app.pods[d.Name], p)
			app.add(p)
		}
	}
	for i := range inv.Services {
		s := &inv.Services[i]
		s.TypeMeta, s.Namespace = typeMeta("v1", "Service"), "default"
		if s.Spec.ClusterIP == "" {
			s.Spec.ClusterIP = fmt.Sprintf("10.96.0.%d", 10+i)
		}
		app.svcs[s.Name] = s
		app.add(s)
	}
	return app
}

func typeMeta(apiVersion, kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: apiVersion, Kind: kind}
}

func controller(kind, name string, uid types.UID) metav1.OwnerReference {
	yes := true
	api := "apps/v1"
	return metav1.OwnerReference{APIVersion: api, Kind: kind, Name: name, UID: uid, Controller: &yes}
}

func (a *liveApp) add(o any) { a.objs = append(a.objs, o) }

func (a *liveApp) nodeAddr(name string) string {
	for _, n := range a.nodes {
		if n.Name == name {
			return n.Status.Addresses[0].Address
		}
	}
	return ""
}

// probes are the kubelets' probes of every pod on port, as the pods'
// nodes record them (server side), ten each.
func (a *liveApp) probes(at time.Time, port uint16) []flow.Record {
	var out []flow.Record
	for _, pods := range a.pods {
		for _, p := range pods {
			out = append(out, flow.Record{Time: at, Node: p.Spec.NodeName, Proto: flow.TCP, Observer: flow.Server, Count: 10, Comm: "app",
				Src: netip.AddrPortFrom(netip.MustParseAddr(a.nodeAddr(p.Spec.NodeName)), 40000), Dst: netip.AddrPortFrom(netip.MustParseAddr(p.Status.PodIP), port)})
		}
	}
	return out
}

// call is the client's pods calling a Service on port, and the servers
// behind it reporting what each Deployment served (split over its pods and
// the client's) on the target port: the client side records the Service's
// address, the total.
func (a *liveApp) call(at time.Time, client, service string, port uint16, served map[string]uint64) []flow.Record {
	var out []flow.Record
	clients := a.pods[client]
	svc := netip.AddrPortFrom(netip.MustParseAddr(a.svcs[service].Spec.ClusterIP), port)
	target := targetPort(a.svcs[service], port)
	var total uint64
	for server, n := range served {
		total += n
		servers := a.pods[server]
		for k := range n {
			c, s := clients[int(k)%len(clients)], servers[int(k)/len(clients)%len(servers)]
			out = append(out, flow.Record{Time: at, Node: s.Spec.NodeName, Proto: flow.TCP, Observer: flow.Server, Count: 1, Comm: "server",
				Src: netip.AddrPortFrom(netip.MustParseAddr(c.Status.PodIP), 50000), Dst: netip.AddrPortFrom(netip.MustParseAddr(s.Status.PodIP), target)})
		}
	}
	for i, c := range clients {
		n := total / uint64(len(clients))
		if i == 0 {
			n += total % uint64(len(clients))
		}
		out = append(out, flow.Record{Time: at, Node: c.Spec.NodeName, Proto: flow.TCP, Observer: flow.Client, Count: n, Comm: "client",
			Src: netip.AddrPortFrom(netip.MustParseAddr(c.Status.PodIP), 50000), Dst: svc})
	}
	return out
}

// write puts the cluster (as kubectl get -o yaml would) and the flows in
// dir, as a scenario.
func (a *liveApp) write(tb testing.TB, dir string, recs []flow.Record) {
	tb.Helper()
	var docs []string
	for _, o := range a.objs {
		b, err := yaml.Marshal(o)
		if err != nil {
			tb.Fatal(err)
		}
		docs = append(docs, string(b))
	}
	if err := os.WriteFile(filepath.Join(dir, "cluster.yaml"), []byte(strings.Join(docs, "---\n")), 0o644); err != nil {
		tb.Fatal(err)
	}
	var lines []string
	for _, r := range recs {
		b, err := json.Marshal(map[string]any{"time": r.Time.Format(time.RFC3339Nano), "node": r.Node, "proto": r.Proto.String(), "observer": r.Observer.String(),
			"src_ip": r.Src.Addr().String(), "src_port": r.Src.Port(), "dst_ip": r.Dst.Addr().String(), "dst_port": r.Dst.Port(), "count": r.Count, "comm": r.Comm})
		if err != nil {
			tb.Fatal(err)
		}
		lines = append(lines, string(b))
	}
	if err := os.WriteFile(filepath.Join(dir, "flows.jsonl"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// targetPort is the target port of a Service's port (the port itself when
// the Service names none, or names it).
func targetPort(svc *corev1.Service, port uint16) uint16 {
	for _, sp := range svc.Spec.Ports {
		if uint16(sp.Port) == port && sp.TargetPort.IntValue() != 0 {
			return uint16(sp.TargetPort.IntValue())
		}
	}
	return port
}
