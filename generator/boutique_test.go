package generator_test

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/generator"
	"github.com/flowpol/flowpol/topology"
)

// boutiqueCalls is Online Boutique's documented call graph: client,
// Service and Service port, with what each call's server served.
var boutiqueCalls = []struct {
	client, service string
	port            uint16
	served          uint64
}{
	{"loadgenerator", "frontend", 80, 120},
	{"frontend", "adservice", 9555, 40},
	{"frontend", "cartservice", 7070, 60},
	{"frontend", "checkoutservice", 5050, 12},
	{"frontend", "currencyservice", 7000, 90},
	{"frontend", "productcatalogservice", 3550, 110},
	{"frontend", "recommendationservice", 8080, 45},
	{"frontend", "shippingservice", 50051, 20},
	{"checkoutservice", "cartservice", 7070, 12},
	{"checkoutservice", "currencyservice", 7000, 24},
	{"checkoutservice", "emailservice", 5000, 12},
	{"checkoutservice", "paymentservice", 50051, 12},
	{"checkoutservice", "productcatalogservice", 3550, 30},
	{"checkoutservice", "shippingservice", 50051, 24},
	{"recommendationservice", "productcatalogservice", 3550, 45},
	{"cartservice", "redis-cart", 6379, 72},
}

// TestOnlineBoutiqueLive learns Google's Online Boutique, from its own
// release manifest, as a three-node cluster runs it: two replicas of
// every Deployment spread over the nodes, each node's kubelet probing its
// pods on their own ports, the documented call graph, shoppers reaching
// frontend through the frontend-external LoadBalancer Service (SNAT'd by
// another node with externalTrafficPolicy Cluster, from their own
// addresses with Local), and a weekly CronJob added that last ran the week
// before. The independent engine must accept the policies on every pod
// pair, replicas never seen included, and on addresses; no policy but
// frontend's may name an address, and frontend's only for the load
// balancer; the counts must be the servers'; and the CronJob must be
// warned of. If it failed, these policies would break the app on a real
// cluster, or block the next shopper.
func TestOnlineBoutiqueLive(t *testing.T) {
	manifest, err := filepath.Abs(filepath.Join("..", "testdata", "realapps", "online-boutique.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir()) // the engine writes a cache log in the working directory
	for _, policy := range []corev1.ServiceExternalTrafficPolicy{corev1.ServiceExternalTrafficPolicyCluster, corev1.ServiceExternalTrafficPolicyLocal} {
		t.Run("externalTrafficPolicy "+string(policy), func(t *testing.T) {
			f := learnBoutique(t, manifest, policy)
			checkCrossWorkloads(t, f)
			checkOmittedWarnings(t, f)
			checkNoOwnNodeRules(t, f)
			reportCross(t, runCross(t, f, f.result.Policies))
			checkBoutiqueAddrs(t, f, policy)
			checkBoutiqueCounts(t, f)
			want := "default/CronJob/cleanup: no run inside the window (last scheduled 2026-11-15T03:00:00Z): its traffic is not in these policies"
			if !slices.Contains(f.result.Warnings, want) {
				t.Errorf("warnings lack %q:\n%s", want, strings.Join(f.result.Warnings, "\n"))
			}
		})
	}
}

func learnBoutique(t *testing.T, manifest string, policy corev1.ServiceExternalTrafficPolicy) *crossFixture {
	t.Helper()
	dir := t.TempDir()
	app := instantiate(t, manifest, 3, 2)
	fe := app.svcs["frontend-external"]
	fe.Spec.ExternalTrafficPolicy = policy
	fe.Spec.Ports[0].NodePort = 30080
	last := metav1.NewTime(time.Date(2026, 11, 15, 3, 0, 0, 0, time.UTC))
	app.add(&batchv1.CronJob{TypeMeta: typeMeta("batch/v1", "CronJob"), ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "cleanup"},
		Spec: batchv1.CronJobSpec{Schedule: "0 3 * * 0", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "cleanup"}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "cleanup", Image: "busybox"}}}}}}},
		Status: batchv1.CronJobStatus{LastScheduleTime: &last}})
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	recs := app.ownPortProbes(t0)
	for i, c := range boutiqueCalls {
		server := app.backendOf(c.service)
		recs = append(recs, app.call(t0.Add(time.Duration(i+1)*time.Second), c.client, c.service, c.port, map[string]uint64{server: c.served})...)
	}
	recs = append(recs, app.shoppers(t0.Add(time.Minute), policy)...)
	app.write(t, dir, recs)
	return learnCross(t, crossScenario{name: "online boutique", dir: dir, until: "2026-11-22T11:00:00Z", window: time.Hour})
}

// backendOf is the Deployment a Service selects (Online Boutique's each
// select one).
func (a *liveApp) backendOf(service string) string {
	for name, pods := range a.pods {
		if sel := a.svcs[service].Spec.Selector; len(sel) > 0 && pods[0].Labels["app"] == sel["app"] {
			return name
		}
	}
	return ""
}

// ownPortProbes are the kubelets' probes of every pod with a container
// port, on its first, as the pods' nodes record them, ten each.
func (a *liveApp) ownPortProbes(at time.Time) []flow.Record {
	var out []flow.Record
	for _, pods := range a.pods {
		for _, p := range pods {
			if len(p.Spec.Containers[0].Ports) == 0 {
				continue
			}
			port := uint16(p.Spec.Containers[0].Ports[0].ContainerPort)
			out = append(out, flow.Record{Time: at, Node: p.Spec.NodeName, Proto: flow.TCP, Observer: flow.Server, Count: 10, Comm: "app",
				Src: netip.AddrPortFrom(netip.MustParseAddr(a.nodeAddr(p.Spec.NodeName)), 40000), Dst: netip.AddrPortFrom(netip.MustParseAddr(p.Status.PodIP), port)})
		}
	}
	return out
}

// shoppers reach each frontend pod through frontend-external: with
// externalTrafficPolicy Cluster SNAT'd by the next node over, with Local
// from their own addresses, as the frontend pods record them.
func (a *liveApp) shoppers(at time.Time, policy corev1.ServiceExternalTrafficPolicy) []flow.Record {
	var out []flow.Record
	for i, p := range a.pods["frontend"] {
		src := netip.MustParseAddr(fmt.Sprintf("198.51.100.%d", 20+i))
		if policy == corev1.ServiceExternalTrafficPolicyCluster {
			for j, n := range a.nodes {
				if n.Name == p.Spec.NodeName {
					src = netip.MustParseAddr(a.nodes[(j+1)%len(a.nodes)].Status.Addresses[0].Address)
				}
			}
		}
		out = append(out, flow.Record{Time: at, Node: p.Spec.NodeName, Proto: flow.TCP, Observer: flow.Server, Count: 7, Comm: "frontend",
			Src: netip.AddrPortFrom(src, 41000), Dst: netip.AddrPortFrom(netip.MustParseAddr(p.Status.PodIP), 8080)})
	}
	return out
}

// checkBoutiqueAddrs: the probes give no policy an address; frontend's
// ingress from outside is the load balancer's, as the Service lets it in.
func checkBoutiqueAddrs(t *testing.T, f *crossFixture, policy corev1.ServiceExternalTrafficPolicy) {
	t.Helper()
	nodes := f.win.Cluster.NodeAddrs()
	for i := range f.result.Policies {
		p := &f.result.Policies[i]
		cidrs := policyCIDRs(p)
		if p.Name != "flowpol-deployment-frontend" {
			if len(cidrs) > 0 {
				t.Errorf("policy %s names addresses %v: it talks to none outside, and its probes need no rule", p.Name, cidrs)
			}
			continue
		}
		var want []string
		if policy == corev1.ServiceExternalTrafficPolicyLocal {
			want = []string{"0.0.0.0/0", "::/0"}
		} else {
			for _, a := range nodes {
				want = append(want, netip.PrefixFrom(a, a.BitLen()).String())
			}
		}
		if !slices.Equal(cidrs, want) {
			t.Errorf("frontend's addresses %v, want %v, the load balancer's", cidrs, want)
		}
		if lb := p.Annotations[generator.AnnotationLB]; !strings.Contains(lb, "default/frontend-external") {
			t.Errorf("frontend's %s annotation %q does not name the Service", generator.AnnotationLB, lb)
		}
	}
}

// checkBoutiqueCounts: every call's edge counts what its server served.
func checkBoutiqueCounts(t *testing.T, f *crossFixture) {
	t.Helper()
	got := map[[2]string]uint64{}
	for _, e := range f.win.Edges {
		if e.Src.Kind == topology.KindWorkload && e.Dst.Kind == topology.KindWorkload {
			got[[2]string{e.Src.Workload.Name, e.Dst.Workload.Name}] += e.Count
		}
	}
	for _, c := range boutiqueCalls { // each Service's Deployment has its name
		if n := got[[2]string{c.client, c.service}]; n != c.served {
			t.Errorf("%s -> %s: %d connections, want %d, what the server reported", c.client, c.service, n, c.served)
		}
	}
	if len(got) != len(boutiqueCalls) {
		t.Errorf("%d edges between workloads, want %d, one per call", len(got), len(boutiqueCalls))
	}
}
