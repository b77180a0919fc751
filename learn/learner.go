package learn

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"math/bits"
	"slices"
	"time"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/internal/openmap"
	"github.com/flowpol/flowpol/resolve"
	"github.com/flowpol/flowpol/topology"
)

// Options tunes New. The zero value is ready to use.
type Options struct {
	// Bucket is the width of the store's finest buckets; zero means one
	// minute.
	Bucket time.Duration
	// Source names where the records came from, for the run's record.
	Source string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxWait bounds how long a record whose placement is Unknown waits
	// for a newer cluster state; zero means 30 s.
	MaxWait time.Duration
	// MaxWaiting bounds how many records wait; zero means 100,000. Past
	// it a record is added as it resolves, and counted.
	MaxWaiting int
	// KeepWaiting puts the waiting records into a delta whenever they
	// changed (Delta.ReplaceWaiting), so that a store keeps them and
	// Restore can take them back after a restart; false keeps them in
	// memory only.
	KeepWaiting bool
	// DNSGrace is how long past its TTL a DNS answer still names the
	// addresses it gave, for connections its client makes to them (clients
	// and caches keep answers a little longer); zero means 1 minute.
	DNSGrace time.Duration
}

// Learner aggregates records into edges. It is not safe for concurrent
// use.
type Learner struct {
	res     resolve.Resolver
	pre     resolve.Prefetcher // res, when it is one
	opts    Options
	width   int64 // bucket width, seconds
	edges   openmap.Map[edgeKey, edge]
	touched []*edge // edges added to since the last Take
	pl      resolve.Placement
	ahead   [readAhead]ahead // records placed ahead of their adding
	facts   []endFacts       // per end id, as looked up: zero until then
	// unresolved counts the unresolved ends of records, by reason: Run
	// names them.
	unresolved [math.MaxUint8 + 1]uint64
	// last is the edge added to last, under its key: records of one edge
	// come in runs (a client's and its server's, at least).
	last    *edge
	lastKey edgeKey
	version uint64 // of the workloads handed out
	waiting []waitingRecord
	retried time.Time
	// waitingChanged says the waiting records changed since the last Take.
	waitingChanged bool
	run            baseline.Run
	dns            *dnsState
	// shared are the client-side counts through a Service with several
	// backend workloads, to divide among them at the next Take.
	shared []sharedCount
}

// sharedCount is a client-side record's count through a Service whose
// backends span several workloads: one count for all of the edges, in
// the bucket that starts at start.
type sharedCount struct {
	edges []*edge
	start int64
	count uint64
}

// backendKey is the destination of an edge: where servers report.
type backendKey struct {
	end   resolve.EndID
	port  uint16
	proto flow.Proto
}

// endFacts is what the learner needs of an end, looked up once per id:
// ids never change their end.
type endFacts struct {
	known  bool
	kind   topology.Kind
	reason topology.Reason // ReasonNone unless unresolved
}

// waitingRecord is a record waiting for a newer cluster state.
type waitingRecord struct {
	rec   flow.Record
	since time.Time
}

// edgeKey is what tells an edge from the others: its ends, port and
// protocol.
type edgeKey struct {
	src, dst resolve.EndID
	port     uint16
	proto    flow.Proto
}

// Hash mixes every field into the top bits, so that keys which differ in
// one end only spread over the whole map.
func (k edgeKey) Hash() uint64 {
	h := (uint64(k.src)<<32 | uint64(k.dst)) * 0x9E3779B97F4A7C15
	return (h ^ uint64(k.port)<<8 ^ uint64(k.proto)) * 0xD6E8FEB86659FD93
}

// New learns with res.
func New(res resolve.Resolver, opts Options) (*Learner, error) {
	if opts.Bucket == 0 {
		opts.Bucket = time.Minute
	}
	if opts.Bucket < time.Second || opts.Bucket%time.Second != 0 || opts.Bucket.Milliseconds() > math.MaxUint32 {
		return nil, fmt.Errorf("%w: %v", ErrBucket, opts.Bucket)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = 30 * time.Second
	}
	if opts.MaxWaiting <= 0 {
		opts.MaxWaiting = 100_000
	}
	if opts.DNSGrace <= 0 {
		opts.DNSGrace = time.Minute
	}
	l := &Learner{res: res, opts: opts, width: int64(opts.Bucket / time.Second), dns: newDNSState(opts.DNSGrace.Milliseconds())}
	l.pre, _ = res.(resolve.Prefetcher)
	l.run = baseline.Run{Source: opts.Source, Started: opts.Now().UTC(), Ignored: map[string]uint64{}}
	return l, nil
}

// Add aggregates one record, or makes it wait when its placement is
// Unknown.
func (l *Learner) Add(rec *flow.Record) {
	if l.count(rec) {
		l.res.Place(rec, &l.pl)
		l.addPlaced(rec, &l.pl, nil)
	}
}

// count counts a record read, and reports whether it is to be placed and
// added: a record that is no flow between pods is counted as ignored.
func (l *Learner) count(rec *flow.Record) bool {
	l.run.Records++
	l.run.Connections = flow.AddCounts(l.run.Connections, rec.Count)
	if ignored(rec) {
		l.run.Ignored["loopback (inside one pod)"]++
		return false
	}
	return true
}

// ignored reports whether a record is no flow between pods: loopback
// traffic stays inside one pod.
func ignored(rec *flow.Record) bool {
	return rec.Src.Addr().IsLoopback() || rec.Dst.Addr().IsLoopback()
}

// addPlaced adds a placed record, or makes it wait when its placement is
// Unknown. first, when not nil, is the edge to p.Dsts[0].
func (l *Learner) addPlaced(rec *flow.Record, p *resolve.Placement, first *edge) {
	if !p.Unknown || !l.queue(rec) {
		l.add(rec, p, first)
	}
}

// add adds a placed record: its DNS answer, for the client's later
// connections, and its connections to the edges, an external one named
// by the answers the client received for its address. first, when not
// nil, is the edge to p.Dsts[0], looked up already.
func (l *Learner) add(rec *flow.Record, p *resolve.Placement, first *edge) {
	at := rec.Time.UnixMilli()
	if rec.DNS != nil {
		l.dns.hear(clientOf(rec, p), rec.DNS, at)
	}
	if rec.Count == 0 { // only an answer
		return
	}
	l.noteUnresolved(p.Src.End)
	start, ms := l.bucketOf(rec.Time)
	var shared *sharedCount
	if rec.Observer == flow.Client && severalEnds(p.Dsts) {
		l.run.Split++
		l.shared = append(l.shared, sharedCount{start: start, count: rec.Count})
		shared = &l.shared[len(l.shared)-1]
	}
	for i, d := range p.Dsts {
		l.noteUnresolved(d.End)
		e := first
		if i > 0 || e == nil {
			e = l.edge(p.Src, d, rec.Proto)
		}
		if !e.touched {
			e.touched = true
			l.touched = append(l.touched, e)
		}
		if shared != nil {
			r := *rec
			r.Count = 0 // the count is divided at Take; the moments, node and process are the edge's now
			e.add(start, ms, &r)
			if !slices.Contains(shared.edges, e) {
				shared.edges = append(shared.edges, e)
			}
		} else {
			e.add(start, ms, rec)
		}
		e.addPods(p.Src.Pod, d.Pod)
		if e.external {
			for _, name := range l.dns.names(clientOf(rec, p), e.edge.Dst.Addr, at) {
				e.addName(name, at)
			}
		}
	}
}

// edge returns the edge from src to d, made when new.
func (l *Learner) edge(src, d resolve.Target, proto flow.Proto) *edge {
	return l.edgeAt(l.edgeKey(src, d, proto))
}

// edgeKey is the key of the edge from src to d.
func (l *Learner) edgeKey(src, d resolve.Target, proto flow.Proto) edgeKey {
	k := edgeKey{port: d.Port, proto: proto}
	k.src, k.dst = l.ownNode(src, d)
	return k
}

// edgeAt returns the edge of key k, new when there was none.
func (l *Learner) edgeAt(k edgeKey) *edge {
	if l.last != nil && k == l.lastKey {
		return l.last
	}
	e := l.edges.Get(k)
	if e == nil {
		e = &edge{edge: topology.Edge{Src: l.end(k.src), Dst: l.end(k.dst), Port: k.port, Proto: k.proto}, backend: backendKey{k.dst, k.port, k.proto}}
		e.external = e.edge.Dst.Kind == topology.KindExternal
		l.edges.Put(k, e)
	}
	l.last, l.lastKey = e, k
	return e
}

// severalEnds reports whether a record's destinations are more than one
// end: a Service whose backends span several workloads.
func severalEnds(ts []resolve.Target) bool {
	for _, t := range ts[min(1, len(ts)):] {
		if t.End != ts[0].End {
			return true
		}
	}
	return false
}

// divide gives each shared count to its edges: in proportion to what the
// servers reported in the bucket when any did. Where none did, the parts
// are an estimate, which each cell also counts in Estimated: in proportion
// to what the servers of every backend reported over the run so far, or
// evenly when one of them never reported. The parts add up to the count.
func (l *Learner) divide() {
	var served map[backendKey]uint64 // made when first needed
	for _, s := range l.mergeShared() {
		weights, estimated := l.weights(&s, &served)
		if estimated {
			l.run.SplitEstimated++
		}
		for i, part := range split(s.count, weights, sum(weights)) {
			c := s.edges[i].cell(s.start, 0)
			c.Client = flow.AddCounts(c.Client, part)
			if estimated {
				c.Estimated = flow.AddCounts(c.Estimated, part)
			}
		}
	}
	clear(l.shared)
	l.shared = l.shared[:0]
}

// weights returns what to divide s in proportion to, and whether that
// makes the parts an estimate: what each edge's servers reported in the
// bucket; if none did, what each edge's backend's servers reported over
// the run (*served, made here when nil), if every one did; else the same
// weight for each.
func (l *Learner) weights(s *sharedCount, served *map[backendKey]uint64) ([]uint64, bool) {
	w := make([]uint64, len(s.edges))
	for i, e := range s.edges {
		w[i] = e.cell(s.start, 0).Server
	}
	if sum(w) > 0 {
		return w, false
	}
	if *served == nil {
		*served = l.served()
	}
	for i, e := range s.edges {
		w[i] = (*served)[e.backend]
	}
	if slices.Contains(w, 0) {
		for i := range w {
			w[i] = 1
		}
	}
	return w, true
}

// served returns, per backend, the connections its servers reported over
// the run: what its edges' servers reported, from every client.
func (l *Learner) served() map[backendKey]uint64 {
	out := map[backendKey]uint64{}
	for _, e := range l.edges.All() {
		if e.served > 0 {
			out[e.backend] = flow.AddCounts(out[e.backend], e.served)
		}
	}
	return out
}

// sum adds up weights, halving them all until their sum fits.
func sum(weights []uint64) uint64 {
	for {
		var total uint64
		fits := true
		for _, w := range weights {
			var carry uint64
			if total, carry = bits.Add64(total, w, 0); carry != 0 {
				fits = false
				break
			}
		}
		if fits {
			return total
		}
		for i := range weights {
			weights[i] >>= 1
		}
	}
}

// mergeShared adds up the shared counts of one bucket through the same
// backends, so that a count is divided once, not once per record.
func (l *Learner) mergeShared() []sharedCount {
	type key struct {
		start int64
		edges string
	}
	at := map[key]int{}
	var out []sharedCount
	for _, s := range l.shared {
		k := key{s.start, fmt.Sprint(s.edges)}
		if i, ok := at[k]; ok {
			out[i].count = flow.AddCounts(out[i].count, s.count)
			continue
		}
		at[k] = len(out)
		out = append(out, s)
	}
	return out
}

// split divides n in proportion to weights (which add up to total), the
// remainder going to the largest fractions first, so the parts add up to
// n.
func split(n uint64, weights []uint64, total uint64) []uint64 {
	parts := make([]uint64, len(weights))
	rems := make([]uint64, len(weights))
	var given uint64
	for i, w := range weights {
		hi, lo := bits.Mul64(n, w)
		parts[i], rems[i] = bits.Div64(hi, lo, total) // n*w/total ≤ n: no overflow
		given += parts[i]
	}
	order := make([]int, len(weights))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(rems[b], rems[a]) })
	for i := 0; given < n; i = (i + 1) % len(order) {
		parts[order[i]]++
		given++
	}
	return parts
}

// ownNodeID stands, in the learner's edge keys, for the own node of the
// pod at the other end (topology.KindOwnNode); resolvers never number an
// end so high.
const ownNodeID = resolve.EndID(math.MaxUint32)

// ownNode returns the ends of an edge from src to dst, with a node (its
// address or a hostNetwork pod) that is the node the pod at the other end
// runs on made the own node: NetworkPolicy always allows that traffic,
// wherever the pod runs, so it is one end for every node.
func (l *Learner) ownNode(src, dst resolve.Target) (resolve.EndID, resolve.EndID) {
	if src.Node == "" {
		return src.End, dst.End
	}
	switch s, d := l.factsOf(src.End).kind, l.factsOf(dst.End).kind; {
	case s == topology.KindHost && d == topology.KindWorkload && src.Node == dst.Node:
		return ownNodeID, dst.End
	case s == topology.KindWorkload && d == topology.KindHost && src.Node == dst.Node:
		return src.End, ownNodeID
	}
	return src.End, dst.End
}

// end is the end an id of the learner's edge keys stands for.
func (l *Learner) end(id resolve.EndID) topology.End {
	if id == ownNodeID {
		return topology.End{Kind: topology.KindOwnNode}
	}
	return l.res.End(id)
}

// bucketOf returns the start of t's bucket, unix seconds, and t's
// milliseconds after it.
func (l *Learner) bucketOf(t time.Time) (int64, uint32) {
	secs := t.Unix()
	start := floorDiv(secs, l.width) * l.width
	return start, uint32((secs-start)*1000 + int64(t.Nanosecond())/int64(time.Millisecond))
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

func (l *Learner) noteUnresolved(end resolve.EndID) {
	if r := l.factsOf(end).reason; r != topology.ReasonNone {
		l.unresolved[r]++
	}
}

// factsOf returns what the learner needs of an end.
func (l *Learner) factsOf(id resolve.EndID) endFacts {
	if int(id) < len(l.facts) && l.facts[id].known {
		return l.facts[id]
	}
	return l.lookUp(id)
}

// lookUp finds an end's facts and keeps them.
func (l *Learner) lookUp(id resolve.EndID) endFacts {
	for int(id) >= len(l.facts) {
		l.facts = append(l.facts, endFacts{})
	}
	e := l.res.End(id)
	f := endFacts{known: true, kind: e.Kind}
	if e.Kind == topology.KindUnresolved {
		f.reason = e.Reason
	}
	l.facts[id] = f
	return f
}

// Take hands out what was aggregated since the last Take, with the
// workloads and cluster facts that changed since, and, with KeepWaiting,
// the waiting records when they changed; it returns nil when there is
// nothing. The learner keeps no reference to the delta.
func (l *Learner) Take() *baseline.Delta {
	l.divide()
	d := &baseline.Delta{}
	if len(l.touched) > 0 {
		d.Edges = make([]baseline.EdgeDelta, len(l.touched))
		for i, e := range l.touched {
			e.take(&d.Edges[i])
		}
		clear(l.touched)
		l.touched = l.touched[:0]
	}
	if ws, v := l.res.Workloads(l.version); v != l.version {
		d.Workloads = maps.Clone(ws)
		c := l.res.Cluster()
		d.Cluster = &c
		l.version = v
	}
	d.Answers = l.dns.take()
	if l.opts.KeepWaiting && l.waitingChanged {
		d.ReplaceWaiting = true
		d.Waiting = make([]flow.Record, len(l.waiting))
		for i := range l.waiting {
			d.Waiting[i] = l.waiting[i].rec
		}
		l.waitingChanged = false
	}
	if d.Edges == nil && d.Cluster == nil && !d.ReplaceWaiting && d.Answers == nil {
		return nil
	}
	return d
}

// Run returns what the learner did so far: every count but those of
// commits (Stored, StoredLines, Batches, NewEdges), which are its
// caller's. Its maps are copies.
func (l *Learner) Run() baseline.Run {
	r := l.run
	r.Edges = l.edges.Len()
	r.Unresolved = map[string]uint64{}
	for reason, n := range l.unresolved {
		if n > 0 {
			r.Unresolved[topology.Reason(reason).String()] += n
		}
	}
	r.Ignored = maps.Clone(r.Ignored)
	return r
}

// Edges returns how many distinct edges the learner has seen.
func (l *Learner) Edges() int { return l.edges.Len() }
