package resolve

import (
	"net/netip"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/inventory"
)

func bare(name, ip string, created time.Time, deleted *time.Time) corev1.Pod {
	p := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name),
			Labels: map[string]string{"app": name}, CreationTimestamp: metav1.NewTime(created)},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip},
	}
	if deleted != nil {
		d := metav1.NewTime(*deleted)
		p.DeletionTimestamp = &d
	}
	return p
}

// A reused address resolves to the pod that held it when the flow
// happened.
func TestResolveByTenure(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	gone := t0.Add(10 * time.Minute)
	inv := &inventory.Inventory{Pods: []corev1.Pod{
		bare("old", "10.0.0.5", t0, &gone),
		bare("new", "10.0.0.5", gone.Add(time.Minute), nil),
		bare("server", "10.0.0.9", t0, nil),
	}}
	r := New(inv, Options{})
	tests := []struct {
		at   time.Time
		want string
	}{
		{t0.Add(time.Minute), "ns/Pod/old -> ns/Pod/server:80/TCP"},
		{gone.Add(2 * time.Minute), "ns/Pod/new -> ns/Pod/server:80/TCP"},
		{t0.Add(-time.Hour), "ns/Pod/new -> ns/Pod/server:80/TCP"}, // before anyone: the current holder
	}
	for _, tt := range tests {
		rec := &flow.Record{Time: tt.at, Proto: flow.TCP, Src: netip.MustParseAddrPort("10.0.0.5:1000"),
			Dst: netip.MustParseAddrPort("10.0.0.9:80"), Observer: flow.Client, Count: 1}
		if got := edgesOf(r, rec); len(got) != 1 || got[0] != tt.want {
			t.Errorf("at %v: %v, want %s", tt.at, got, tt.want)
		}
	}
}

// The interim live resolver says Unknown for an address in a pod range or
// a pod uid its snapshot does not know, asks for a newer snapshot at most
// once a second, and keeps its ends' numbers across snapshots.
func TestSnapshots(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	now := t0
	node := corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}, Spec: corev1.NodeSpec{PodCIDR: "10.0.0.0/24"}}
	first := &inventory.Inventory{Nodes: []corev1.Node{node}, Pods: []corev1.Pod{bare("server", "10.0.0.9", t0, nil)}}
	second := &inventory.Inventory{Nodes: first.Nodes, Pods: append([]corev1.Pod{bare("client", "10.0.0.5", t0, nil)}, first.Pods...)}
	var next *inventory.Inventory
	asks := 0
	s := NewSnapshots(first, func() *inventory.Inventory { asks++; inv := next; next = nil; return inv }, func() time.Time { return now }, Options{})
	rec := &flow.Record{Time: t0, Proto: flow.TCP, Src: netip.MustParseAddrPort("10.0.0.5:1000"),
		Dst: netip.MustParseAddrPort("10.0.0.9:80"), Observer: flow.Client, Count: 1}
	var p Placement
	s.Place(rec, &p)
	if !p.Unknown {
		t.Fatal("an unknown address in a pod range is not Unknown")
	}
	server := p.Dsts[0].End
	_, v := s.Workloads(0)
	next = second
	now = now.Add(500 * time.Millisecond)
	if s.Place(rec, &p); !p.Unknown || asks != 0 {
		t.Fatalf("asked %d times within a second of the start", asks)
	}
	now = now.Add(time.Second)
	if s.Place(rec, &p); p.Unknown || asks != 1 {
		t.Fatalf("Unknown %v after %d asks, want the newer snapshot's placement", p.Unknown, asks)
	}
	if s.End(p.Src.End).String() != "ns/Pod/client" || p.Dsts[0].End != server {
		t.Errorf("placed %s -> end %d, want ns/Pod/client -> the server's end %d", s.End(p.Src.End), p.Dsts[0].End, server)
	}
	if ws, v2 := s.Workloads(v); v2 == v || len(ws) != 2 {
		t.Errorf("Workloads(%d) = %d workloads, version %d; want both, a newer version", v, len(ws), v2)
	}
	rec.PodUID = "no-such-uid"
	if s.Place(rec, &p); !p.Unknown {
		t.Error("an unknown observing pod uid is not Unknown")
	}
}
