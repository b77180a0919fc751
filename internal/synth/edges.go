package synth

import (
	"math"
	"net/netip"

	"github.com/flowpol/flowpol/flow"
)

// addEdges plans the traffic: every workload looks names up through
// kube-dns (one in ten over TCP too), one in twenty calls the API server,
// one in ten an external address, and Options.Edges pairs of workloads call
// each other, popular servers more often.
func (b *builder) addEdges() {
	for _, w := range b.workloads {
		b.addEdge(w, serviceEdge(b.dns, flow.UDP, 53, 53), 2)
		if b.rng.IntN(10) == 0 {
			b.addEdge(w, serviceEdge(b.dns, flow.TCP, 53, 53), 0.1)
		}
		if b.rng.IntN(20) == 0 {
			b.addEdge(w, *b.api, 0.2)
		}
		if b.rng.IntN(10) == 0 {
			ext := netip.AddrPortFrom(addrAdd(externBase, b.rng.IntN(64)), 443)
			b.addEdge(w, edge{server: ext, dial: ext, proto: flow.TCP, target: 443}, 0.3)
		}
	}
	for range b.opts.Edges {
		c, s := b.pair()
		b.addEdge(c, b.workloadEdge(s), 1)
	}
}

// pair picks a client and a server workload that are not yet an edge. The
// first try favours popular servers (the low indices); a retry picks
// uniformly.
func (b *builder) pair() (client, server *workload) {
	n := len(b.workloads)
	c, s := b.workloads[b.rng.IntN(n)], b.workloads[int(float64(n)*math.Pow(b.rng.Float64(), 2))]
	for c == s || b.seen[edgeID{c, netip.AddrPortFrom(s.vip, s.port.svc), s.port.proto}] {
		c, s = b.workloads[b.rng.IntN(n)], b.workloads[b.rng.IntN(n)]
	}
	return c, s
}

// serviceEdge is a call to a Service's cluster IP on port, which its pods
// accept on target.
func serviceEdge(s *workload, proto flow.Proto, port, target uint16) edge {
	vip := netip.AddrPortFrom(s.vip, port)
	return edge{server: vip, dial: vip, proto: proto, target: target, backends: s.pods, comm: s.comm}
}

// workloadEdge is the calls to a workload: through its Service, or, on one
// edge in ten (one in two to a StatefulSet), straight to its pods.
func (b *builder) workloadEdge(s *workload) edge {
	e := serviceEdge(s, s.port.proto, s.port.svc, s.port.target)
	e.workload = true
	direct := b.rng.IntN(10) == 0
	if s.stateful {
		direct = b.rng.IntN(2) == 0
	}
	if direct {
		e.dial = netip.AddrPort{}
	}
	return e
}

// addEdge adds an edge from client, with a random weight around scale:
// some edges carry a hundred times more traffic than others.
func (b *builder) addEdge(client *workload, e edge, scale float64) {
	id := edgeID{client, e.server, e.proto}
	if b.seen[id] {
		return
	}
	b.seen[id] = true
	e.client = client
	weight := scale * math.Exp(max(-2.5, min(2.5, 1.2*b.rng.NormFloat64())))
	e.cum = weight
	if len(b.edges) > 0 {
		e.cum += b.edges[len(b.edges)-1].cum
	}
	b.edges = append(b.edges, e)
}
