package aggregator

import (
	"hash/fnv"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/inventory"
	"github.com/flowpol/flowpol/topology"
)

// ResolverOptions tunes a Resolver. The zero value is ready to use.
type ResolverOptions struct {
	// ClusterCIDRs are the pod and service ranges. An address in them that
	// no pod, node or Service holds is unresolved rather than external.
	// The nodes' spec.podCIDRs are always included.
	ClusterCIDRs []netip.Prefix
}

// Resolver places the ends of flow records in the cluster an inventory
// describes. It is not safe for concurrent use.
type Resolver struct {
	opts ResolverOptions
	*endTable
	addrs     map[netip.Addr]*addrInfo
	uids      map[string]podRef
	nodePorts map[svcKey][]target // keyed with the zero address
	internal  []netip.Prefix
	workloads map[topology.WorkloadRef]topology.Workload
	cluster   topology.Cluster
	dst       [1]target
}

// endTable numbers ends; resolvers rebuilt from newer inventories share it,
// so an edge keeps its ends' numbers.
type endTable struct {
	ends   []topology.End
	endIDs map[topology.End]uint32
}

// podRef is where an address or pod uid resolves to: an end and, for a pod,
// its identity (zero otherwise).
type podRef struct {
	end uint32
	pod uint64
}

// target is one destination of a flow: an end, the port it was reached on
// and, when one pod is known, its identity.
type target struct {
	end  uint32
	port uint16
	pod  uint64
}

// addrInfo is what an address in the cluster is: a pod's, a node's, a
// Service's (with its ports), and the API server's on some ports.
type addrInfo struct {
	ref      podRef    // a pod or node; zero end when none
	history  []holding // the pods that held it, when more than one did
	svc      bool
	svcPorts []svcPort
	apiPorts []uint16
}

// holding is a pod's tenure of an address: from its start until it was
// deleted, unix nanoseconds.
type holding struct {
	ref      podRef
	from, to int64
}

// at returns who held the address at t: of the pods whose tenure covers t,
// the latest to start; where none does, the address's current holder.
func (a *addrInfo) at(t int64) podRef {
	if len(a.history) < 2 {
		return a.ref
	}
	best := -1
	for i, h := range a.history {
		if h.from <= t && t < h.to && (best < 0 || h.from > a.history[best].from) {
			best = i
		}
	}
	if best < 0 {
		return a.ref
	}
	return a.history[best].ref
}

type svcPort struct {
	port    uint16
	proto   flow.Proto
	targets []target
}

func (r *Resolver) addr(a netip.Addr) *addrInfo {
	info := r.addrs[a]
	if info == nil {
		info = &addrInfo{}
		r.addrs[a] = info
	}
	return info
}

type svcKey struct {
	addr  netip.Addr
	port  uint16
	proto flow.Proto
}

// NewResolver indexes an inventory.
func NewResolver(inv *inventory.Inventory, opts ResolverOptions) *Resolver {
	tab := &endTable{endIDs: map[topology.End]uint32{}}
	tab.intern(topology.End{}) // id 0 means none
	return newResolver(inv, opts, tab)
}

// Rebuild returns a resolver of a newer inventory, with the same options,
// numbering ends as r does.
func (r *Resolver) Rebuild(inv *inventory.Inventory) *Resolver {
	return newResolver(inv, r.opts, r.endTable)
}

func newResolver(inv *inventory.Inventory, opts ResolverOptions, tab *endTable) *Resolver {
	r := &Resolver{
		opts:      opts,
		endTable:  tab,
		addrs:     map[netip.Addr]*addrInfo{},
		uids:      map[string]podRef{},
		nodePorts: map[svcKey][]target{},
		internal:  append([]netip.Prefix(nil), opts.ClusterCIDRs...),
		workloads: map[topology.WorkloadRef]topology.Workload{},
	}
	b := newBuilder(r, inv)
	b.addNodes()
	b.addPods()
	b.addWorkloads()
	b.addServices()
	return r
}

func (r *endTable) intern(e topology.End) uint32 {
	if id, ok := r.endIDs[e]; ok {
		return id
	}
	id := uint32(len(r.ends))
	r.ends = append(r.ends, e)
	r.endIDs[e] = id
	return id
}

// End returns the end an id stands for.
func (r *Resolver) End(id uint32) topology.End { return r.ends[id] }

// Workloads returns what the generator needs of every workload with pods.
func (r *Resolver) Workloads() map[topology.WorkloadRef]topology.Workload { return r.workloads }

// Cluster returns the cluster facts the generator needs.
func (r *Resolver) Cluster() topology.Cluster { return r.cluster }

// observerPod is the pod that observed a record, by its uid: the client
// for a client-side record, the server for a server-side one. A known pod
// uid wins over the address, so a reused pod IP cannot misattribute the
// observing end.
func (r *Resolver) observerPod(rec *flow.Record, side flow.Observer) (podRef, bool) {
	if rec.PodUID == "" || rec.Observer != side {
		return podRef{}, false
	}
	p, ok := r.uids[rec.PodUID]
	return p, ok
}

// source resolves the end that opened a flow.
func (r *Resolver) source(rec *flow.Record) podRef {
	if p, ok := r.observerPod(rec, flow.Client); ok {
		return p
	}
	addr := rec.Src.Addr()
	info := r.addrs[addr]
	switch {
	case info == nil:
		return podRef{end: r.outside(addr)}
	case info.ref.end != 0:
		return info.at(rec.Time.UnixNano())
	case info.svc:
		return podRef{end: r.intern(topology.End{Kind: topology.KindUnresolved, Addr: addr, Reason: topology.ReasonServiceAsSource})}
	}
	return podRef{end: r.outside(addr)}
}

// destinations resolves the end (or, through a Service, the ends) that
// accepted a flow, each with its target port. The slice is valid until the
// next call.
func (r *Resolver) destinations(rec *flow.Record) []target {
	addr, port := rec.Dst.Addr(), rec.Dst.Port()
	if p, ok := r.observerPod(rec, flow.Server); ok {
		return r.one(target{end: p.end, port: port, pod: p.pod})
	}
	info := r.addrs[addr]
	if info == nil {
		return r.one(target{end: r.outside(addr), port: port})
	}
	if info.svc {
		for i := range info.svcPorts {
			if sp := &info.svcPorts[i]; sp.port == port && sp.proto == rec.Proto {
				return sp.targets
			}
		}
		return r.one(target{end: r.intern(topology.End{Kind: topology.KindUnresolved, Addr: addr, Reason: topology.ReasonNoServicePort}), port: port})
	}
	if slices.Contains(info.apiPorts, port) {
		return r.one(target{end: r.intern(topology.End{Kind: topology.KindAPIServer}), port: port})
	}
	if info.ref.end == 0 {
		return r.one(target{end: r.outside(addr), port: port})
	}
	ref := info.at(rec.Time.UnixNano())
	if r.ends[ref.end].Kind == topology.KindHost {
		if ts, ok := r.nodePorts[svcKey{port: port, proto: rec.Proto}]; ok {
			return ts
		}
	}
	return r.one(target{end: ref.end, port: port, pod: ref.pod})
}

func (r *Resolver) one(t target) []target {
	r.dst[0] = t
	return r.dst[:]
}

// outside resolves an address no pod, node or Service holds.
func (r *Resolver) outside(addr netip.Addr) uint32 {
	for _, p := range r.internal {
		if p.Contains(addr) {
			return r.intern(topology.End{Kind: topology.KindUnresolved, Addr: addr, Reason: topology.ReasonUnknownClusterAddr})
		}
	}
	return r.intern(topology.End{Kind: topology.KindExternal, Addr: addr})
}

func podIdentity(pod *corev1.Pod) uint64 {
	h := fnv.New64a()
	if pod.UID != "" {
		h.Write([]byte(pod.UID))
	} else {
		h.Write([]byte(pod.Namespace + "/" + pod.Name))
	}
	return h.Sum64() | 1 // never zero
}
