package kubestate

import (
	"fmt"
	"hash/maphash"
	"maps"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/resolve"
	"github.com/flowpol/flowpol/topology"
)

// ResolverOptions tunes NewResolver. The zero value is ready to use.
type ResolverOptions struct {
	// Grace is how long a deleted pod is kept; zero means 5 minutes.
	Grace time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// ClusterCIDRs are the pod and service ranges. An address in them that
	// no pod, node or Service holds is unresolved rather than external.
	// The nodes' spec.podCIDRs are always included.
	ClusterCIDRs []netip.Prefix
}

// Resolver places flows in the live cluster. Its indexes follow the
// informers event by event; Place, End, Workloads and Cluster may be
// called from any goroutine while the handlers run. Place reads the view
// the handlers publish after each event, without a lock.
type Resolver struct {
	opts ResolverOptions
	inf  informerSet
	reg  []cache.ResourceEventHandlerRegistration
	ends endTable
	seed maphash.Seed // of the pods' uids, for their shards
	view atomic.Pointer[view]

	// mu is held by the handlers, and by Workloads and Cluster to read.
	mu        sync.RWMutex
	graves    cache.Indexer // deleted pods within Grace, keyed by uid
	expiry    graveQueue
	timer     *time.Timer
	addrs     addrTable
	uids      map[string]*podEntry
	pods      shards[string, podRef] // the uids' refs, for Place
	nodePorts map[svcKey]nodePort
	stale     bool // nodePorts or internal changed since the last publish
	internal  ranges
	services  map[nsName]*svcState
	workloads map[topology.WorkloadRef]*wlState
	byNS      map[string]map[topology.WorkloadRef]*wlState
	dns       map[topology.WorkloadRef][]topology.PortProto
	// lbs are, per workload, the LoadBalancer and NodePort Services whose
	// backends it is, by Service.
	lbs      map[topology.WorkloadRef]map[nsName][]topology.LoadBalancer
	apiAddrs map[netip.Addr][]uint16
	cluster  topology.Cluster
	version  uint64
}

var _ resolve.Prefetcher = (*Resolver)(nil)

type nsName struct{ ns, name string }

func (n nsName) key() string { return n.ns + "/" + n.name }

// svcKey is a NodePort: its port and protocol.
type svcKey struct {
	port  uint16
	proto flow.Proto
}

// nodePort is the Service that has a NodePort, and its targets.
type nodePort struct {
	svc     nsName
	targets []resolve.Target
	unknown bool // a target is an unknown address in a cluster range
}

// NewResolver registers the informers and indexes enrichment needs on f;
// start f afterwards, and wait for Synced before asking.
func NewResolver(f informers.SharedInformerFactory, opts ResolverOptions) (*Resolver, error) {
	if opts.Grace <= 0 {
		opts.Grace = 5 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := &Resolver{
		opts:      opts,
		inf:       newInformerSet(f),
		ends:      newEndTable(),
		graves:    cache.NewIndexer(uidKey, graveIndexers()),
		seed:      maphash.MakeSeed(),
		addrs:     newAddrTable(),
		uids:      map[string]*podEntry{},
		pods:      newShards[string, podRef](10),
		nodePorts: map[svcKey]nodePort{},
		internal:  newRanges(opts.ClusterCIDRs),
		services:  map[nsName]*svcState{},
		workloads: map[topology.WorkloadRef]*wlState{},
		byNS:      map[string]map[topology.WorkloadRef]*wlState{},
		dns:       map[topology.WorkloadRef][]topology.PortProto{},
		lbs:       map[topology.WorkloadRef]map[nsName][]topology.LoadBalancer{},
		apiAddrs:  map[netip.Addr][]uint16{},
		cluster:   topology.Cluster{Namespaces: map[string]map[string]string{}},
	}
	r.view.Store(&view{ends: &r.ends, addrs: r.addrs.publish(frozenAddrs{}), pods: publishPods(&r.pods, r.seed, frozenPods{}),
		nodePorts: map[svcKey]nodePort{}, internal: r.internal})
	if err := r.inf.addIndexers(); err != nil {
		return nil, err
	}
	if err := r.watch(); err != nil {
		return nil, err
	}
	return r, nil
}

// Synced returns the functions that report the caches synced and their
// first contents indexed, for cache.WaitForCacheSync.
func (r *Resolver) Synced() []cache.InformerSynced {
	out := make([]cache.InformerSynced, 0, len(r.reg))
	for _, reg := range r.reg {
		out = append(out, reg.HasSynced)
	}
	return out
}

// watch registers a handler on each informer.
func (r *Resolver) watch() error {
	hs := []struct {
		inf cache.SharedIndexInformer
		on  func(old, cur any)
	}{
		{r.inf.pods, r.onPod}, {r.inf.nodes, r.onNode}, {r.inf.namespaces, r.onNamespace},
		{r.inf.services, r.onService}, {r.inf.slices, r.onSlice},
		{r.inf.replicaSets, r.onReplicaSet}, {r.inf.deployments, r.onDeployment},
		{r.inf.statefulSets, r.onController}, {r.inf.daemonSets, r.onController},
		{r.inf.jobs, r.onJob}, {r.inf.cronJobs, r.onController},
	}
	for _, h := range hs {
		reg, err := h.inf.AddEventHandler(handler(h.on))
		if err != nil {
			return fmt.Errorf("watch %T: %w", h.inf, err)
		}
		r.reg = append(r.reg, reg)
	}
	return nil
}

// handler turns an informer's events into calls of on(old, cur): old nil
// for an addition, cur nil for a deletion, tombstones unwrapped.
func handler(on func(old, cur any)) cache.ResourceEventHandlerFuncs {
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { on(nil, obj) },
		UpdateFunc: func(old, cur any) { on(old, cur) },
		DeleteFunc: func(obj any) {
			if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			on(obj, nil)
		},
	}
}

// End returns the end an id stands for.
func (r *Resolver) End(id resolve.EndID) topology.End { return r.ends.end(id) }

// Cluster returns the cluster facts the generator needs.
func (r *Resolver) Cluster() topology.Cluster {
	r.mu.RLock()
	defer r.mu.RUnlock()
	c := topology.Cluster{APIServer: r.cluster.APIServer, Namespaces: maps.Clone(r.cluster.Namespaces), Nodes: maps.Clone(r.cluster.Nodes),
		Ranges: slices.SortedFunc(maps.Keys(r.internal.set), resolve.ComparePrefix),
		Batch:  resolve.BatchRuns(list[batchv1.CronJob](r.inf.cronJobs), list[batchv1.Job](r.inf.jobs))}
	if c.Namespaces == nil {
		c.Namespaces = map[string]map[string]string{}
	}
	return c
}
