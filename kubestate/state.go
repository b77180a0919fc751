package kubestate

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	"github.com/flowpol/flowpol/inventory"
)

// Options tunes New. The zero value is ready to use.
type Options struct {
	// Grace is how long a deleted pod is kept; zero means 5 minutes.
	Grace time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// State is the cluster as the informers see it.
type State struct {
	opts      Options
	f         informers.SharedInformerFactory
	informers []cache.SharedIndexInformer
	changed   atomic.Bool

	mu      sync.Mutex
	deleted map[types.UID]*corev1.Pod // pods deleted within Grace, with their deletion time
}

// New registers the informers enrichment needs on f; start f afterwards.
func New(f informers.SharedInformerFactory, opts Options) (*State, error) {
	if opts.Grace <= 0 {
		opts.Grace = 5 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &State{opts: opts, f: f, deleted: map[types.UID]*corev1.Pod{}}
	s.changed.Store(true)
	// In the order Snapshot reads them.
	s.informers = []cache.SharedIndexInformer{
		f.Core().V1().Pods().Informer(), f.Core().V1().Namespaces().Informer(), f.Core().V1().Nodes().Informer(),
		f.Core().V1().Services().Informer(), f.Discovery().V1().EndpointSlices().Informer(),
		f.Apps().V1().ReplicaSets().Informer(), f.Apps().V1().Deployments().Informer(),
		f.Apps().V1().StatefulSets().Informer(), f.Apps().V1().DaemonSets().Informer(),
		f.Batch().V1().Jobs().Informer(), f.Batch().V1().CronJobs().Informer(),
	}
	for i, inf := range s.informers {
		h := cache.ResourceEventHandlerFuncs{
			AddFunc:    func(any) { s.changed.Store(true) },
			UpdateFunc: func(any, any) { s.changed.Store(true) },
			DeleteFunc: func(any) { s.changed.Store(true) },
		}
		if i == 0 {
			h.DeleteFunc = s.podDeleted
		}
		if _, err := inf.AddEventHandler(h); err != nil {
			return nil, fmt.Errorf("watch %T: %w", inf, err)
		}
	}
	return s, nil
}

// Synced returns the functions that report the caches synced, for
// cache.WaitForCacheSync.
func (s *State) Synced() []cache.InformerSynced {
	out := make([]cache.InformerSynced, len(s.informers))
	for i, inf := range s.informers {
		out[i] = inf.HasSynced
	}
	return out
}

// podDeleted keeps a deleted pod for the grace period, with the time it
// went: its deletion timestamp, else now.
func (s *State) podDeleted(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	pod = pod.DeepCopy()
	if pod.DeletionTimestamp == nil {
		now := metav1.NewTime(s.opts.Now())
		pod.DeletionTimestamp = &now
	}
	s.mu.Lock()
	s.deleted[pod.UID] = pod
	s.mu.Unlock()
	s.changed.Store(true)
}

// Refresh returns a snapshot when anything changed since the last one, else
// nil.
func (s *State) Refresh() *inventory.Inventory {
	if !s.changed.Swap(false) {
		return nil
	}
	return s.Snapshot()
}

// Snapshot returns the cluster as an inventory: the objects the caches
// hold, and the pods deleted within the grace period.
func (s *State) Snapshot() *inventory.Inventory {
	in := s.informers
	inv := &inventory.Inventory{
		Pods:           items[corev1.Pod](in[0]),
		Namespaces:     items[corev1.Namespace](in[1]),
		Nodes:          items[corev1.Node](in[2]),
		Services:       items[corev1.Service](in[3]),
		EndpointSlices: items[discoveryv1.EndpointSlice](in[4]),
		ReplicaSets:    items[appsv1.ReplicaSet](in[5]),
		Deployments:    items[appsv1.Deployment](in[6]),
		StatefulSets:   items[appsv1.StatefulSet](in[7]),
		DaemonSets:     items[appsv1.DaemonSet](in[8]),
		Jobs:           items[batchv1.Job](in[9]),
		CronJobs:       items[batchv1.CronJob](in[10]),
		Skipped:        map[string]int{},
	}
	inv.Pods = append(inv.Pods, s.graveyard(inv.Pods)...)
	return inv
}

// items copies an informer's objects out of its cache.
func items[T any](inf cache.SharedIndexInformer) []T {
	objs := inf.GetStore().List()
	out := make([]T, 0, len(objs))
	for _, o := range objs {
		if p, ok := o.(*T); ok {
			out = append(out, *p)
		}
	}
	return out
}

// graveyard returns the pods deleted within the grace period that live
// does not hold again, and forgets older ones.
func (s *State) graveyard(live []corev1.Pod) []corev1.Pod {
	have := make(map[types.UID]bool, len(live))
	for i := range live {
		have[live[i].UID] = true
	}
	cutoff := s.opts.Now().Add(-s.opts.Grace)
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []corev1.Pod
	for uid, p := range s.deleted {
		if p.DeletionTimestamp.Time.Before(cutoff) {
			delete(s.deleted, uid)
			continue
		}
		if !have[uid] {
			out = append(out, *p)
		}
	}
	return out
}
