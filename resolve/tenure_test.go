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
