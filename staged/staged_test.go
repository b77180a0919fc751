package staged

import (
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/topology"
)

var (
	t0  = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	web = topology.WorkloadRef{Namespace: "shop", Kind: "Deployment", Name: "web"}
	api = topology.WorkloadRef{Namespace: "shop", Kind: "Deployment", Name: "api"}
	db  = topology.WorkloadRef{Namespace: "shop", Kind: "Deployment", Name: "db"}
)

func end(ref topology.WorkloadRef) topology.End {
	return topology.End{Kind: topology.KindWorkload, Workload: ref}
}

func workloads() map[topology.WorkloadRef]topology.Workload {
	out := map[topology.WorkloadRef]topology.Workload{}
	for _, ref := range []topology.WorkloadRef{web, api, db} {
		out[ref] = topology.Workload{Ref: ref, PodLabels: []map[string]string{{"app": ref.Name}}}
	}
	return out
}

// dbIngress isolates db for ingress, allowing only api.
func dbIngress(from string) networkingv1.NetworkPolicy {
	return networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "db"},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{
				{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": from}}}}}},
		},
	}
}

func edgeDelta(src, dst topology.WorkloadRef, at time.Time, client, server uint64) baseline.EdgeDelta {
	start := at.Truncate(time.Minute)
	ms := uint32(at.Sub(start) / time.Millisecond)
	return baseline.EdgeDelta{Edge: topology.Edge{Src: end(src), Dst: end(dst), Port: 5432, Proto: flow.TCP},
		Cells: []baseline.Cell{{Start: start.Unix(), Client: client, Server: server, FirstMS: ms, LastMS: ms}}}
}

func observe(t *testing.T, tr *Tracker, d *baseline.Delta) *Pending {
	t.Helper()
	p, err := tr.Observe(d)
	if err != nil {
		t.Fatal(err)
	}
	tr.Commit(p)
	return p
}

// The would-deny record: only denied flows are kept, counted as windows
// count them (a connection reported by both ends counts once), the first
// denial of a policy is reported once, nothing changes before Commit, and
// the stored state gives the same record back. If it failed, the live
// record would disagree with check, or an aggregator restart would lose
// or double it.
func TestObserve(t *testing.T) {
	now := t0.Add(-time.Hour) // staged an hour before the flows
	clock := func() time.Time { return now }
	tr, err := New(Options{Policies: []networkingv1.NetworkPolicy{dbIngress("api")}, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	first := &baseline.Delta{Workloads: workloads(), Cluster: &topology.Cluster{}, Edges: []baseline.EdgeDelta{
		edgeDelta(web, db, t0, 3, 0), // denied
		edgeDelta(api, db, t0, 5, 0), // allowed
	}}
	p, err := tr.Observe(first)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.FirstDenials) != 1 || p.FirstDenials[0] != "shop/db" {
		t.Errorf("first denials %v, want [shop/db]", p.FirstDenials)
	}
	if r := tr.Report(); len(r.Denials) != 0 {
		t.Errorf("before Commit the report has %d denials", len(r.Denials))
	}
	tr.Commit(p)
	// The server's end of the same connections, and one more later.
	p = observe(t, tr, &baseline.Delta{Edges: []baseline.EdgeDelta{edgeDelta(web, db, t0.Add(time.Second), 0, 3), edgeDelta(web, db, t0.Add(2*time.Minute), 1, 0)}})
	if len(p.FirstDenials) != 0 {
		t.Errorf("a policy's second would-deny reported as its first: %v", p.FirstDenials)
	}
	if len(p.Added) != 1 || p.Added[0] != (Added{Policy: "shop/db", Ingress: true, Connections: 1}) {
		t.Errorf("added %+v, want one connection on shop/db ingress", p.Added)
	}
	r := tr.Report()
	if len(r.Denials) != 1 {
		t.Fatalf("%d denials, want 1: %+v", len(r.Denials), r.Denials)
	}
	d := r.Denials[0]
	if d.Count != 4 || !d.First.Equal(t0) || !d.Last.Equal(t0.Add(2*time.Minute)) || d.Src.Workload != web || !d.Ingress {
		t.Errorf("denial %+v: want web -> db, 4 connections, from %v to %v, ingress", d, t0, t0.Add(2*time.Minute))
	}
	ps := r.Policies[0]
	if ps.Connections != 4 || ps.Flows != 1 || !ps.LastDeny.Equal(t0.Add(2*time.Minute)) || !ps.CleanSince().Equal(now) {
		t.Errorf("policy %+v: want 4 connections, 1 flow, clean since the clock's last denial", ps)
	}

	again, err := New(Options{Policies: []networkingv1.NetworkPolicy{dbIngress("api")}, State: p.State, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if got := again.Report(); !sameReport(got, r) {
		t.Errorf("the stored state gives another record:\n%+v\nwant\n%+v", got, r)
	}
}

func sameReport(a, b Report) bool {
	if len(a.Denials) != len(b.Denials) || len(a.Policies) != len(b.Policies) || !a.Since.Equal(b.Since) {
		return false
	}
	for i := range a.Denials {
		x, y := a.Denials[i], b.Denials[i]
		if x.Edge != y.Edge || x.Count != y.Count || !x.First.Equal(y.First) || !x.Last.Equal(y.Last) || x.Reason != y.Reason {
			return false
		}
	}
	for i := range a.Policies {
		x, y := a.Policies[i], b.Policies[i]
		if x.Policy != y.Policy || x.Connections != y.Connections || !x.LastDeny.Equal(y.LastDeny) || !x.StagedSince.Equal(y.StagedSince) {
			return false
		}
	}
	return true
}

// Replacing the set: an unchanged policy keeps its record, a changed one
// is staged afresh, and the flows start again. A stored state of another
// version is an error, not an empty record.
func TestReplace(t *testing.T) {
	now := t0
	clock := func() time.Time { return now }
	keep := dbIngress("api")
	keep.Name = "keep"
	tr, err := New(Options{Policies: []networkingv1.NetworkPolicy{keep, dbIngress("api")}, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	observe(t, tr, &baseline.Delta{Workloads: workloads(), Cluster: &topology.Cluster{}, Edges: []baseline.EdgeDelta{edgeDelta(web, db, t0, 1, 0)}})
	now = t0.Add(time.Hour)
	if err := tr.Replace([]networkingv1.NetworkPolicy{keep, dbIngress("web")}); err != nil {
		t.Fatal(err)
	}
	r := tr.Report()
	if len(r.Denials) != 0 || !r.Since.Equal(now) {
		t.Errorf("after a change: %d denials since %v, want none since %v", len(r.Denials), r.Since, now)
	}
	for _, p := range r.Policies {
		switch p.Policy {
		case "shop/keep":
			if !p.StagedSince.Equal(t0) || p.Connections != 1 {
				t.Errorf("unchanged policy lost its record: %+v", p)
			}
		case "shop/db":
			if !p.StagedSince.Equal(now) || p.Connections != 0 {
				t.Errorf("changed policy kept the old record: %+v", p)
			}
		}
	}
	// A delta decided under the old set and committed after the change
	// does not bring the old set back.
	p, err := tr.Observe(&baseline.Delta{Edges: []baseline.EdgeDelta{edgeDelta(web, db, t0, 1, 0)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Replace([]networkingv1.NetworkPolicy{keep}); err != nil {
		t.Fatal(err)
	}
	tr.Commit(p)
	if r := tr.Report(); len(r.Policies) != 1 || len(r.Denials) != 0 {
		t.Errorf("a delta of the old set, committed after the change, brought it back: %+v", r)
	}
	if _, err := New(Options{State: []byte(`{"version":99}`)}); err == nil {
		t.Error("a state of version 99 was read")
	}
}

// A flow denied in both directions is blamed on the policies of each,
// though check names only those of the first: web's egress policy and
// db's ingress policy would each deny web -> db if promoted alone. If it
// failed, a policy could be promoted as clean while it would deny.
func TestBlameBothDirections(t *testing.T) {
	webEgress := networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
			Egress: []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{
				{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "api"}}}}}},
		},
	}
	tr, err := New(Options{Policies: []networkingv1.NetworkPolicy{webEgress, dbIngress("api")}})
	if err != nil {
		t.Fatal(err)
	}
	p := observe(t, tr, &baseline.Delta{Workloads: workloads(), Cluster: &topology.Cluster{}, Edges: []baseline.EdgeDelta{edgeDelta(web, db, t0, 2, 0)}})
	want := []Added{{Policy: "shop/db", Ingress: true, Connections: 2}, {Policy: "shop/web", Ingress: false, Connections: 2}}
	if len(p.Added) != 2 || p.Added[0] != want[0] || p.Added[1] != want[1] {
		t.Errorf("added %+v, want %+v", p.Added, want)
	}
	r := tr.Report()
	if len(r.Denials) != 1 || len(r.Denials[0].Policies) != 1 {
		t.Fatalf("denials %+v: want one, naming the first direction's policy as check does", r.Denials)
	}
	for _, ps := range r.Policies {
		if ps.Flows != 1 || ps.Connections != 2 {
			t.Errorf("%s: %d flows, %d connections; want the flow blamed on it", ps.Policy, ps.Flows, ps.Connections)
		}
	}
}
