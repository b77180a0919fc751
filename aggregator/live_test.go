package aggregator

import (
	"context"
	"net/netip"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/inventory"
	"github.com/flowpol/flowpol/resolve"
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

func nodeWithCIDR(cidr string) corev1.Node {
	return corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}, Spec: corev1.NodeSpec{PodCIDR: cidr}}
}

// A record from an address the inventory does not know yet waits for a
// newer inventory, and resolves with it.
func TestRecordsWaitForTheInventory(t *testing.T) {
	t0 := time.Now()
	first := &inventory.Inventory{Nodes: []corev1.Node{nodeWithCIDR("10.0.0.0/24")}, Pods: []corev1.Pod{bare("server", "10.0.0.9", t0, nil)}}
	second := &inventory.Inventory{Nodes: first.Nodes, Pods: append([]corev1.Pod{bare("client", "10.0.0.5", t0, nil)}, first.Pods...)}
	var next *inventory.Inventory
	s := openTemp(t, StoreOptions{})
	l := NewLearner(s, resolve.New(first, resolve.Options{}), LearnOptions{Refresh: func() *inventory.Inventory {
		inv := next
		next = nil
		return inv
	}})
	rec := &flow.Record{Time: t0, Proto: flow.TCP, Src: netip.MustParseAddrPort("10.0.0.5:1000"),
		Dst: netip.MustParseAddrPort("10.0.0.9:80"), Observer: flow.Client, Count: 1}
	if err := l.Add(rec, 1); err != nil {
		t.Fatal(err)
	}
	if l.Waiting() != 1 {
		t.Fatalf("%d records waiting, want the one from an unknown pod address", l.Waiting())
	}
	next = second
	if err := l.CommitAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	w, err := s.Window(t0.Add(-time.Hour), t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Edges) != 1 || w.Edges[0].Edge.String() != "ns/Pod/client -> ns/Pod/server:80/TCP" {
		t.Fatalf("edges %v, want client -> server", w.Edges)
	}
	if sum := l.Summary(); sum.Waited != 1 || sum.WaitedOut != 0 || len(sum.Unresolved) != 0 {
		t.Errorf("summary %+v: want one record that waited and resolved", sum)
	}
}
