package kubestate

import (
	"fmt"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
)

// informerSet is the informers enrichment reads.
type informerSet struct {
	pods, nodes, namespaces, services, slices cache.SharedIndexInformer
	replicaSets, deployments, statefulSets    cache.SharedIndexInformer
	daemonSets, jobs, cronJobs                cache.SharedIndexInformer
}

func newInformerSet(f informers.SharedInformerFactory) informerSet {
	return informerSet{
		pods: f.Core().V1().Pods().Informer(), nodes: f.Core().V1().Nodes().Informer(),
		namespaces: f.Core().V1().Namespaces().Informer(), services: f.Core().V1().Services().Informer(),
		slices:      f.Discovery().V1().EndpointSlices().Informer(),
		replicaSets: f.Apps().V1().ReplicaSets().Informer(), deployments: f.Apps().V1().Deployments().Informer(),
		statefulSets: f.Apps().V1().StatefulSets().Informer(), daemonSets: f.Apps().V1().DaemonSets().Informer(),
		jobs: f.Batch().V1().Jobs().Informer(), cronJobs: f.Batch().V1().CronJobs().Informer(),
	}
}

// addIndexers adds the indexes lookups need; informers other code shares
// may have them already.
func (s informerSet) addIndexers() error {
	for _, x := range []struct {
		inf cache.SharedIndexInformer
		ix  cache.Indexers
	}{
		{s.pods, podIndexers()},
		{s.nodes, cache.Indexers{byAddr: nodeAddrKeys}},
		{s.services, serviceIndexers()},
		{s.slices, sliceIndexers()},
		{s.replicaSets, cache.Indexers{byController: controllerKeys}},
	} {
		have := x.inf.GetIndexer().GetIndexers()
		for name := range x.ix {
			if _, ok := have[name]; ok {
				delete(x.ix, name)
			}
		}
		if err := x.inf.AddIndexers(x.ix); err != nil {
			return fmt.Errorf("index %T: %w", x.inf, err)
		}
	}
	return nil
}

// byIndex returns the objects of type T an index holds under key.
func byIndex[T any](ix cache.Indexer, name, key string) []*T {
	objs, err := ix.ByIndex(name, key)
	if err != nil {
		return nil // the indexes are added before the informers start
	}
	out := make([]*T, 0, len(objs))
	for _, o := range objs {
		if t, ok := o.(*T); ok {
			out = append(out, t)
		}
	}
	return out
}

// get returns the object of type T stored under ns/name, or nil.
func get[T any](inf cache.SharedIndexInformer, ns, name string) *T {
	key := name
	if ns != "" {
		key = ns + "/" + name
	}
	o, ok, err := inf.GetIndexer().GetByKey(key)
	if err != nil || !ok {
		return nil
	}
	t, _ := o.(*T)
	return t
}

// list returns the objects of type T an informer's store holds.
func list[T any](inf cache.SharedIndexInformer) []*T {
	objs := inf.GetStore().List()
	out := make([]*T, 0, len(objs))
	for _, o := range objs {
		if t, ok := o.(*T); ok {
			out = append(out, t)
		}
	}
	return out
}
