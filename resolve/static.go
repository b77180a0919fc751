package resolve

import (
	"net/netip"
	"slices"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/inventory"
	"github.com/flowpol/flowpol/topology"
)

// Options tunes New. The zero value is ready to use.
type Options struct {
	// ClusterCIDRs are the pod and service ranges. An address in them that
	// no pod, node or Service holds is unresolved rather than external.
	// The nodes' spec.podCIDRs are always included.
	ClusterCIDRs []netip.Prefix
}

// Static places the ends of flow records in the cluster a fixed inventory
// describes. Its placements are never Unknown. It is not safe for
// concurrent use.
type Static struct {
	opts Options
	*endTable
	addrs     addrMap
	uids      uidMap
	nodePorts map[svcKey][]Target // keyed with the zero address
	internal  []netip.Prefix
	workloads map[topology.WorkloadRef]topology.Workload
	cluster   topology.Cluster
	// lastSrc is the last source address looked up, and what it is: a
	// server's record follows its client's, from the same address.
	lastSrc     netip.Addr
	lastSrcInfo *addrInfo
	lastSrcOK   bool
}

var _ Prefetcher = (*Static)(nil)

// endTable numbers ends; resolvers rebuilt from newer inventories share it,
// so an edge keeps its ends' numbers.
type endTable struct {
	ends   []topology.End
	endIDs map[topology.End]EndID
}

// podRef is where an address or pod uid resolves to: an end and, for a pod,
// its identity (zero otherwise).
type podRef struct {
	end  EndID
	pod  uint64
	node string // the pod's node
	host bool   // end is a KindHost one
}

// addrInfo is what an address in the cluster is: a pod's, a node's, a
// Service's (with its ports), and the API server's on some ports.
type addrInfo struct {
	ref      podRef    // a pod or node; zero end when none
	history  []holding // the pods that held it, when more than one did
	svc      bool
	svcPorts ServicePorts // the first held in the value: a flow to it reads no other memory
	apiPorts []uint16
	// noPort and asSource are the unresolved ends of a Service address
	// on a port it does not have and as a source, once looked up.
	noPort, asSource EndID
}

// holding is a pod's tenure of an address (see Tenure).
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

func (r *Static) addr(a netip.Addr) *addrInfo {
	info := r.addrs.get(a)
	if info == nil {
		info = &addrInfo{}
		r.addrs.set(a, info)
	}
	return info
}

type svcKey struct {
	addr  netip.Addr
	port  uint16
	proto flow.Proto
}

// New indexes an inventory.
func New(inv *inventory.Inventory, opts Options) *Static {
	tab := &endTable{endIDs: map[topology.End]EndID{}}
	tab.intern(topology.End{}) // id 0 means none
	return build(inv, opts, tab)
}

// Rebuild returns a resolver of a newer inventory, with the same options,
// numbering ends as r does. r must not be used afterwards.
func (r *Static) Rebuild(inv *inventory.Inventory) *Static {
	return build(inv, r.opts, r.endTable)
}

func build(inv *inventory.Inventory, opts Options, tab *endTable) *Static {
	r := &Static{
		opts:      opts,
		endTable:  tab,
		addrs:     newAddrMap(),
		uids:      newUIDMap(),
		nodePorts: map[svcKey][]Target{},
		internal:  append([]netip.Prefix(nil), opts.ClusterCIDRs...),
		workloads: map[topology.WorkloadRef]topology.Workload{},
	}
	b := newBuilder(r, inv)
	b.addNodes()
	b.addPods()
	b.addWorkloads()
	b.addServices()
	r.cluster.Batch = BatchRuns(pointers(inv.CronJobs), pointers(inv.Jobs))
	r.cluster.Ranges = slices.Clone(r.internal)
	slices.SortFunc(r.cluster.Ranges, ComparePrefix)
	r.cluster.Ranges = slices.Compact(r.cluster.Ranges)
	return r
}

func pointers[T any](items []T) []*T {
	out := make([]*T, len(items))
	for i := range items {
		out[i] = &items[i]
	}
	return out
}

func (t *endTable) intern(e topology.End) EndID {
	if id, ok := t.endIDs[e]; ok {
		return id
	}
	id := EndID(len(t.ends))
	t.ends = append(t.ends, e)
	t.endIDs[e] = id
	return id
}

// End returns the end an id stands for.
func (t *endTable) End(id EndID) topology.End { return t.ends[id] }

// Workloads returns what the generator needs of every workload with pods
// when since is older than the inventory (version 1), else nothing.
func (r *Static) Workloads(since uint64) (map[topology.WorkloadRef]topology.Workload, uint64) {
	if since >= 1 {
		return nil, 1
	}
	return r.workloads, 1
}

// Cluster returns the cluster facts the generator needs.
func (r *Static) Cluster() topology.Cluster { return r.cluster }

// Place resolves rec's ends into p. Unknown is always false.
func (r *Static) Place(rec *flow.Record, p *Placement) {
	src := r.source(rec)
	p.Src = Target{End: src.end, Pod: src.pod, Node: src.node}
	p.Dsts = r.destinations(rec, p.Dsts[:0])
	p.Unknown = false
}

// PrefetchIndex asks for where Place begins looking up rec's pod uid and
// addresses.
func (r *Static) PrefetchIndex(rec *flow.Record) {
	if rec.PodUID != "" {
		r.uids.prefetchSlot(rec.PodUID)
	}
	r.addrs.prefetchSlot(rec.Src.Addr())
	r.addrs.prefetchSlot(rec.Dst.Addr())
}

// PrefetchEnds asks for what rec's pod uid and addresses are, as Place
// will read it.
func (r *Static) PrefetchEnds(rec *flow.Record) {
	if rec.PodUID != "" {
		r.uids.prefetchRef(rec.PodUID)
	}
	r.addrs.prefetchInfo(rec.Src.Addr())
	r.addrs.prefetchInfo(rec.Dst.Addr())
}

// observerPod is the pod that observed a record, by its uid: the client
// for a client-side record, the server for a server-side one. A known pod
// uid wins over the address, so a reused pod IP cannot misattribute the
// observing end.
func (r *Static) observerPod(rec *flow.Record, side flow.Observer) (podRef, bool) {
	if rec.PodUID == "" || rec.Observer != side {
		return podRef{}, false
	}
	return r.uids.get(rec.PodUID)
}

// source resolves the end that opened a flow.
func (r *Static) source(rec *flow.Record) podRef {
	if p, ok := r.observerPod(rec, flow.Client); ok {
		return p
	}
	addr := rec.Src.Addr()
	info := r.lastSrcInfo
	if !r.lastSrcOK || addr != r.lastSrc {
		info = r.addrs.get(addr)
		r.lastSrc, r.lastSrcInfo, r.lastSrcOK = addr, info, true
	}
	switch {
	case info == nil:
		return podRef{end: r.outside(addr)}
	case info.ref.end != 0:
		return info.at(rec.Time.UnixNano())
	case info.svc:
		if info.asSource == 0 {
			info.asSource = r.intern(topology.End{Kind: topology.KindUnresolved, Addr: addr, Reason: topology.ReasonServiceAsSource})
		}
		return podRef{end: info.asSource}
	}
	return podRef{end: r.outside(addr)}
}

// destinations appends to ts the end (or, through a Service, the ends)
// that accepted a flow, each with its target port.
func (r *Static) destinations(rec *flow.Record, ts []Target) []Target {
	addr, port := rec.Dst.Addr(), rec.Dst.Port()
	if p, ok := r.observerPod(rec, flow.Server); ok {
		return append(ts, Target{End: p.end, Port: port, Pod: p.pod, Node: p.node})
	}
	info := r.addrs.get(addr)
	if info == nil {
		return append(ts, Target{End: r.outside(addr), Port: port})
	}
	if info.svc {
		if sp := info.svcPorts.Find(port, rec.Proto); sp != nil {
			return sp.AppendTargets(ts)
		}
		if info.noPort == 0 {
			info.noPort = r.intern(topology.End{Kind: topology.KindUnresolved, Addr: addr, Reason: topology.ReasonNoServicePort})
		}
		return append(ts, Target{End: info.noPort, Port: port})
	}
	if slices.Contains(info.apiPorts, port) {
		return append(ts, Target{End: r.intern(topology.End{Kind: topology.KindAPIServer}), Port: port})
	}
	if info.ref.end == 0 {
		return append(ts, Target{End: r.outside(addr), Port: port})
	}
	ref := info.at(rec.Time.UnixNano())
	if ref.host {
		if nps, ok := r.nodePorts[svcKey{port: port, proto: rec.Proto}]; ok {
			return append(ts, nps...)
		}
	}
	return append(ts, Target{End: ref.end, Port: port, Pod: ref.pod, Node: ref.node})
}

// outside resolves an address no pod, node or Service holds.
func (r *Static) outside(addr netip.Addr) EndID {
	return r.intern(Outside(addr, r.internal))
}

// Outside is the end of an address no pod, node or Service holds: an
// unresolved one inside the cluster's ranges, else an external one.
func Outside(addr netip.Addr, clusterRanges []netip.Prefix) topology.End {
	for _, p := range clusterRanges {
		if p.Contains(addr) {
			return topology.End{Kind: topology.KindUnresolved, Addr: addr, Reason: topology.ReasonUnknownClusterAddr}
		}
	}
	return topology.End{Kind: topology.KindExternal, Addr: addr}
}
