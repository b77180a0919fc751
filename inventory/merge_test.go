package inventory_test

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/flowpol/flowpol/inventory"
)

func pod(name, uid, ip string, deleted *metav1.Time) corev1.Pod {
	return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name, UID: types.UID(uid), DeletionTimestamp: deleted},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip}}
}

func rs(name string, replicas int32) appsv1.ReplicaSet {
	return appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name}, Spec: appsv1.ReplicaSetSpec{Replicas: &replicas}}
}

// TestMerge: every pod of every snapshot is kept, the newest copy of
// each; one a later snapshot lacks is deleted at that snapshot's time
// (unless it says when itself); every other object is the newest copy,
// and old ones stay; the order given does not matter, the times do. If
// it failed, a pod replaced during learning would be unknown for the
// time it ran, or would keep its address after its successor took it.
func TestMerge(t *testing.T) {
	t1 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	t2, t3 := t1.Add(time.Hour), t1.Add(2*time.Hour)
	early := metav1.NewTime(t1.Add(30 * time.Minute))
	a := inventory.Snapshot{Time: t1, Inventory: &inventory.Inventory{
		Pods:        []corev1.Pod{pod("api-old", "u1", "10.0.0.5", nil), pod("web-1", "u2", "10.0.0.6", nil), pod("job-1", "u4", "10.0.0.8", &early)},
		ReplicaSets: []appsv1.ReplicaSet{rs("api-old", 1), rs("web", 1)},
	}}
	b := inventory.Snapshot{Time: t2, Inventory: &inventory.Inventory{
		Pods:        []corev1.Pod{pod("api-new", "u3", "10.0.0.5", nil), pod("web-1", "u2", "10.0.0.7", nil)},
		ReplicaSets: []appsv1.ReplicaSet{rs("api-new", 1), rs("web", 2)},
	}}
	c := inventory.Snapshot{Time: t3, Inventory: &inventory.Inventory{
		Pods: []corev1.Pod{pod("api-new", "u3", "10.0.0.5", nil), pod("web-1", "u2", "10.0.0.7", nil)},
	}}
	for _, tc := range []struct {
		name  string
		snaps []inventory.Snapshot
	}{
		{"in time order", []inventory.Snapshot{a, b, c}},
		{"in any order", []inventory.Snapshot{c, a, b}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := inventory.Merge(tc.snaps)
			want := map[string]struct {
				ip      string
				deleted time.Time
			}{
				"api-old": {"10.0.0.5", t2},
				"api-new": {"10.0.0.5", time.Time{}},
				"web-1":   {"10.0.0.7", time.Time{}},
				"job-1":   {"10.0.0.8", early.Time},
			}
			if len(inv.Pods) != len(want) {
				t.Fatalf("%d pods, want %d", len(inv.Pods), len(want))
			}
			for _, p := range inv.Pods {
				w, ok := want[p.Name]
				var del time.Time
				if p.DeletionTimestamp != nil {
					del = p.DeletionTimestamp.Time
				}
				if !ok || p.Status.PodIP != w.ip || !del.Equal(w.deleted) {
					t.Errorf("pod %s at %s deleted %v, want %s deleted %v", p.Name, p.Status.PodIP, del, w.ip, w.deleted)
				}
			}
			got := map[string]int32{}
			for _, r := range inv.ReplicaSets {
				got[r.Name] = *r.Spec.Replicas
			}
			if len(got) != 3 || got["api-old"] != 1 || got["api-new"] != 1 || got["web"] != 2 {
				t.Errorf("replica sets %v, want api-old, api-new and web's newest (2 replicas)", got)
			}
			if a.Inventory.Pods[0].DeletionTimestamp != nil {
				t.Error("the input's pod was changed")
			}
		})
	}
}
