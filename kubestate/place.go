package kubestate

import (
	"maps"
	"net/netip"
	"slices"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/resolve"
	"github.com/flowpol/flowpol/topology"
)

// podRef is where an address or pod uid resolves to: an end, for a pod
// its identity (zero otherwise), and whether the end is a host.
type podRef struct {
	end  resolve.EndID
	pod  uint64
	host bool
	node string // the pod's node, or the node's own name
}

// addrInfo is what an address in the cluster is: a pod's or node's (with
// the pods that held it, when more than one did), a Service's (with its
// ports), and the API server's on some ports.
//
// A source reads only ref and history, a Service address only svc and
// svcPorts, which hold a Service's first port to one workload in the
// value: a flow to it reads no other memory.
type addrInfo struct {
	ref      podRef
	history  []holding
	svc      bool
	svcPorts resolve.ServicePorts
	apiPorts []uint16
	noPort   resolve.EndID // the end of a Service address on a port it lacks
	asSource resolve.EndID // the end of a Service address as a source
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

// view is what Place reads: the indexes as the handlers last published
// them, which nobody changes afterwards.
type view struct {
	ends      *endTable
	addrs     frozenAddrs
	pods      frozenPods
	nodePorts map[svcKey]nodePort
	internal  ranges
}

// Place resolves rec's ends into p, as the indexes stood after the last
// event handled. It takes no lock and allocates nothing but new ends.
func (r *Resolver) Place(rec *flow.Record, p *resolve.Placement) {
	v := r.view.Load()
	obs := v.observer(rec)
	src, u := v.source(rec, obs.on(flow.Client))
	p.Src = resolve.Target{End: src.end, Pod: src.pod, Node: src.node}
	var ud bool
	p.Dsts, ud = v.destinations(rec, p.Dsts[:0], obs.on(flow.Server))
	p.Unknown = (rec.PodUID != "" && !obs.known) || u || ud
}

// PrefetchIndex asks for the slots where Place begins looking up rec's
// pod uid and addresses, as the indexes stand now.
func (r *Resolver) PrefetchIndex(rec *flow.Record) {
	v := r.view.Load()
	if rec.PodUID != "" {
		v.pods.prefetchSlot(rec.PodUID)
	}
	v.addrs.prefetchSlot(rec.Src.Addr())
	v.addrs.prefetchSlot(rec.Dst.Addr())
}

// PrefetchEnds asks for what rec's pod uid and addresses are, as Place
// will read it.
func (r *Resolver) PrefetchEnds(rec *flow.Record) {
	v := r.view.Load()
	if rec.PodUID != "" {
		v.pods.prefetchEntry(rec.PodUID)
	}
	v.addrs.prefetchInfo(rec.Src.Addr())
	v.addrs.prefetchInfo(rec.Dst.Addr())
}

// observed is the pod that observed a record, by its uid: a known pod uid
// wins over the address on the side it observed, so a reused pod IP
// cannot misattribute the observing end.
type observed struct {
	ref   podRef
	side  flow.Observer
	known bool
}

// observer looks up the uid rec names, once for both of its ends.
func (v *view) observer(rec *flow.Record) observed {
	if rec.PodUID == "" {
		return observed{}
	}
	ref, known := v.pods.get(rec.PodUID)
	return observed{ref: ref, side: rec.Observer, known: known}
}

// on returns the observing pod when it observed side, else nil.
func (o *observed) on(side flow.Observer) *podRef {
	if !o.known || o.side != side {
		return nil
	}
	return &o.ref
}

// source resolves the end that opened a flow (byUID, when the pod that
// observed it is known), and says whether it is an unknown address in a
// cluster range.
func (v *view) source(rec *flow.Record, byUID *podRef) (podRef, bool) {
	if byUID != nil {
		return *byUID, false
	}
	addr := rec.Src.Addr()
	info := v.addrs.get(addr)
	switch {
	case info == nil:
	case info.ref.end != 0:
		return info.at(rec.Time.UnixNano()), false
	case info.svc:
		return podRef{end: info.asSource}, false
	}
	end, unknown := outsideEnd(v.ends, v.internal, addr)
	return podRef{end: end}, unknown
}

// destinations appends to ts the end (or, through a Service, the ends)
// that accepted a flow (byUID, when the pod that observed it is known),
// each with its target port, and says whether one is an unknown address
// in a cluster range.
func (v *view) destinations(rec *flow.Record, ts []resolve.Target, byUID *podRef) ([]resolve.Target, bool) {
	addr, port := rec.Dst.Addr(), rec.Dst.Port()
	if byUID != nil {
		return append(ts, resolve.Target{End: byUID.end, Port: port, Pod: byUID.pod, Node: byUID.node}), false
	}
	info := v.addrs.get(addr)
	switch {
	case info == nil:
	case info.svc:
		if sp := info.svcPorts.Find(port, rec.Proto); sp != nil {
			return sp.AppendTargets(ts), sp.Unknown
		}
		return append(ts, resolve.Target{End: info.noPort, Port: port}), false
	case slices.Contains(info.apiPorts, port):
		return append(ts, resolve.Target{End: v.ends.apiServer, Port: port}), false
	case info.ref.end != 0:
		ref := info.at(rec.Time.UnixNano())
		if ref.host {
			if np, ok := v.nodePorts[svcKey{port: port, proto: rec.Proto}]; ok {
				return append(ts, np.targets...), np.unknown
			}
		}
		return append(ts, resolve.Target{End: ref.end, Port: port, Pod: ref.pod, Node: ref.node}), false
	}
	end, unknown := outsideEnd(v.ends, v.internal, addr)
	return append(ts, resolve.Target{End: end, Port: port}), unknown
}

// outsideEnd resolves an address no pod, node or Service holds: unresolved
// in a cluster range, else external.
func outsideEnd(ends *endTable, internal ranges, addr netip.Addr) (resolve.EndID, bool) {
	if internal.contains(addr) {
		return ends.intern(topology.End{Kind: topology.KindUnresolved, Addr: addr, Reason: topology.ReasonUnknownClusterAddr}), true
	}
	return ends.intern(topology.End{Kind: topology.KindExternal, Addr: addr}), false
}

// publish hands readers the indexes as they stand, when they changed.
func (r *Resolver) publish() {
	if !r.stale && !r.addrs.dirty() && len(r.pods.dirty) == 0 {
		return
	}
	was := r.view.Load()
	v := &view{ends: &r.ends, addrs: r.addrs.publish(was.addrs), pods: publishPods(&r.pods, r.seed, was.pods),
		nodePorts: was.nodePorts, internal: r.internal}
	if r.stale {
		v.nodePorts, r.stale = maps.Clone(r.nodePorts), false
	}
	r.view.Store(v)
}

// ranges are the cluster's address ranges, by prefix length, so that an
// address is looked up once per length rather than once per range.
type ranges struct {
	set  map[netip.Prefix]struct{}
	bits []int
}

func newRanges(ps []netip.Prefix) ranges {
	rg := ranges{set: make(map[netip.Prefix]struct{}, len(ps))}
	for _, p := range ps {
		p = p.Masked()
		rg.set[p] = struct{}{}
		if !slices.Contains(rg.bits, p.Bits()) {
			rg.bits = append(rg.bits, p.Bits())
		}
	}
	return rg
}

func (rg ranges) contains(addr netip.Addr) bool {
	for _, b := range rg.bits {
		if p, err := addr.Prefix(b); err == nil {
			if _, ok := rg.set[p]; ok {
				return true
			}
		}
	}
	return false
}
