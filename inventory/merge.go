package inventory

import (
	"maps"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Snapshot is an inventory taken at a moment.
type Snapshot struct {
	Inventory *Inventory
	Time      time.Time
}

// Merge makes one inventory of snapshots taken at different times, so
// that a pod replaced between them is still known for the time it held
// its address, as a live cluster's deleted pods are: every pod of every
// snapshot is kept (the latest snapshot's copy of it, by uid, else by
// namespace and name), and one missing from a later snapshot gets, unless
// it has one, that snapshot's time as its deletion timestamp, which ends
// its tenure. Every other object is the latest snapshot's copy of it, by
// kind, namespace and name, so that an old pod's controller is still
// known. Snapshots are taken in time order, input order among equal
// times. The inputs are not changed; the result shares all but its pods
// with them.
func Merge(snaps []Snapshot) *Inventory {
	order := slices.Clone(snaps)
	slices.SortStableFunc(order, func(a, b Snapshot) int { return a.Time.Compare(b.Time) })
	m := &merger{out: &Inventory{Skipped: map[string]int{}}, seen: map[objKey]int{}, pods: map[string]int{}}
	for _, s := range order {
		m.add(s)
	}
	return m.out
}

type objKey struct{ kind, ns, name string }

type merger struct {
	out  *Inventory
	seen map[objKey]int // the index of each object but pods in its kind's list
	pods map[string]int // the index of each pod, by uid or namespace/name
}

func (m *merger) add(s Snapshot) {
	inv := s.Inventory
	merge(m, &m.out.Namespaces, inv.Namespaces, "Namespace", metaOf)
	merge(m, &m.out.Nodes, inv.Nodes, "Node", metaOf)
	merge(m, &m.out.Services, inv.Services, "Service", metaOf)
	merge(m, &m.out.EndpointSlices, inv.EndpointSlices, "EndpointSlice", metaOf)
	merge(m, &m.out.ReplicaSets, inv.ReplicaSets, "ReplicaSet", metaOf)
	merge(m, &m.out.Deployments, inv.Deployments, "Deployment", metaOf)
	merge(m, &m.out.StatefulSets, inv.StatefulSets, "StatefulSet", metaOf)
	merge(m, &m.out.DaemonSets, inv.DaemonSets, "DaemonSet", metaOf)
	merge(m, &m.out.Jobs, inv.Jobs, "Job", metaOf)
	merge(m, &m.out.CronJobs, inv.CronJobs, "CronJob", metaOf)
	merge(m, &m.out.NetworkPolicies, inv.NetworkPolicies, "NetworkPolicy", metaOf)
	for k, n := range inv.Skipped {
		m.out.Skipped[k] = max(m.out.Skipped[k], n)
	}
	m.addPods(s)
}

// addPods takes a snapshot's pods, and ends the tenure of the pods kept
// from earlier snapshots that it lacks.
func (m *merger) addPods(s Snapshot) {
	here := make(map[string]bool, len(s.Inventory.Pods))
	for i := range s.Inventory.Pods {
		p := s.Inventory.Pods[i].DeepCopy()
		key := string(p.UID)
		if key == "" {
			key = p.Namespace + "/" + p.Name
		}
		here[key] = true
		if j, ok := m.pods[key]; ok {
			m.out.Pods[j] = *p
			continue
		}
		m.pods[key] = len(m.out.Pods)
		m.out.Pods = append(m.out.Pods, *p)
	}
	gone := metav1.NewTime(s.Time)
	for _, key := range slices.Sorted(maps.Keys(m.pods)) {
		if p := &m.out.Pods[m.pods[key]]; !here[key] && p.DeletionTimestamp == nil {
			p.DeletionTimestamp = &gone
		}
	}
}

// metaOf is an object's metadata.
func metaOf[T any, PT interface {
	*T
	GetObjectMeta() metav1.Object
}](x *T) metav1.Object {
	return PT(x).GetObjectMeta()
}

// merge puts each of the items into list, replacing the copy of an
// earlier snapshot.
func merge[T any](m *merger, list *[]T, items []T, kind string, meta func(*T) metav1.Object) {
	for i := range items {
		md := meta(&items[i])
		key := objKey{kind, md.GetNamespace(), md.GetName()}
		if j, ok := m.seen[key]; ok {
			(*list)[j] = items[i]
			continue
		}
		m.seen[key] = len(*list)
		*list = append(*list, items[i])
	}
}
