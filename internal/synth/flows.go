package synth

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"sort"
	"time"

	"github.com/flowpol/flowpol/flow"
)

// WriteFlows writes n flow records to w as JSON Lines, spread evenly over
// the span in time order. The first connections take every edge once, in
// random order, so n ≥ Edges() covers them all; the others pick an edge by
// its weight. Each connection picks a client pod, a backend and an
// ephemeral port; the client's node records it to the address it dialled
// and, unless the server is external, the server's node records it to the
// backend a moment later. Seven connections in ten have a count of 1, the
// others a few to a few hundred. n counts records, so the last connection
// may lack its server record. No record is kept in memory beyond the one
// being written.
func (c *Cluster) WriteFlows(w io.Writer, n int) error {
	if n < 0 {
		return fmt.Errorf("write flows: %d records", n)
	}
	g := &flowWriter{c: c, rng: newRand(c.opts.Seed, 2), out: flow.NewWriter(w), n: n}
	g.from, g.to = c.Span()
	g.first = g.rng.Perm(len(c.edges))
	for g.written < n {
		if err := g.connection(); err != nil {
			return fmt.Errorf("write flows: %w", err)
		}
	}
	if err := g.out.Flush(); err != nil {
		return fmt.Errorf("write flows: %w", err)
	}
	return nil
}

// Records returns the n records WriteFlows writes, as a flow.Reader reads
// them back from its output.
func (c *Cluster) Records(n int) ([]flow.Record, error) {
	var buf bytes.Buffer
	if err := c.WriteFlows(&buf, n); err != nil {
		return nil, err
	}
	recs := make([]flow.Record, 0, n)
	rd := flow.NewReader(&buf, "synthetic")
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return recs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read synthetic flows back: %w", err)
		}
		recs = append(recs, *rec)
	}
}

type flowWriter struct {
	c        *Cluster
	rng      *rand.Rand
	out      *flow.Writer
	from, to time.Time
	first    []int // edges not yet taken, taken first
	n        int
	written  int
}

// edge picks the next connection's edge.
func (g *flowWriter) edge() *edge {
	if len(g.first) > 0 {
		e := &g.c.edges[g.first[0]]
		g.first = g.first[1:]
		return e
	}
	return g.c.pick(g.rng.Float64() * g.c.total)
}

func (g *flowWriter) connection() error {
	e := g.edge()
	client := e.client.pods[g.rng.IntN(len(e.client.pods))]
	dst := e.dial
	var server endpoint
	if len(e.backends) > 0 {
		server = e.backends[g.rng.IntN(len(e.backends))]
		if !dst.IsValid() {
			dst = netip.AddrPortFrom(server.addr, e.target)
		}
	}
	unknown := e.workload && e.dial.IsValid() && g.c.opts.UnknownPorts > 0 && g.rng.Float64() < g.c.opts.UnknownPorts
	if unknown {
		dst = netip.AddrPortFrom(dst.Addr(), unknownPort)
	}
	at := g.now()
	rec := flow.Record{
		Time: at, Node: client.node, Proto: e.proto, Observer: flow.Client,
		Src: netip.AddrPortFrom(client.addr, uint16(32768+g.rng.IntN(28232))), Dst: dst,
		PID: e.client.pid, Comm: e.client.comm, Count: g.count(),
	}
	client.sock.fill(&rec)
	if err := g.write(&rec); err != nil || len(e.backends) == 0 || unknown || g.written == g.n {
		return err
	}
	rec.Time = g.clamp(at.Add(time.Duration(100+g.rng.IntN(1900)) * time.Microsecond))
	rec.Node, rec.Observer, rec.PID, rec.Comm = server.node, flow.Server, 0, e.comm
	rec.Dst = netip.AddrPortFrom(server.addr, e.target)
	server.sock.fill(&rec)
	return g.write(&rec)
}

// fill sets what the collector writes of the observing socket's pod.
func (s socketOf) fill(rec *flow.Record) {
	rec.CgroupID, rec.PodUID, rec.ContainerID, rec.Netns = s.cgroupID, s.uid, s.container, s.netns
}

func (g *flowWriter) write(rec *flow.Record) error {
	g.written++
	return g.out.Write(rec)
}

// unknownPort is a port no synthetic Service has.
const unknownPort = 9999

// pick returns the edge whose share of the total weight holds x.
func (c *Cluster) pick(x float64) *edge {
	i := sort.Search(len(c.edges)-1, func(i int) bool { return c.edges[i].cum > x })
	return &c.edges[i]
}

// now is the time of the next record: its place in the span, plus up to a
// millisecond, in whole microseconds.
func (g *flowWriter) now() time.Time {
	span := g.to.Sub(g.from)
	at := g.from.Add(time.Duration(float64(span) * float64(g.written) / float64(g.n)))
	return g.clamp(at.Add(time.Duration(g.rng.IntN(1000)) * time.Microsecond))
}

// clamp keeps a time inside the span.
func (g *flowWriter) clamp(t time.Time) time.Time {
	if !t.Before(g.to) {
		t = g.to.Add(-time.Microsecond)
	}
	return t.Truncate(time.Microsecond)
}

// count is how many times a connection repeated.
func (g *flowWriter) count() uint64 {
	if g.rng.IntN(10) < 7 {
		return 1
	}
	return 2 + uint64(g.rng.ExpFloat64()*25)
}
