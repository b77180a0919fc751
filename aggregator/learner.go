package aggregator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/inventory"
	"github.com/flowpol/flowpol/resolve"
	"github.com/flowpol/flowpol/topology"
)

// maxPodSet bounds the distinct pods remembered per edge end; past it the
// count saturates.
const maxPodSet = 1024

// LearnOptions tunes a Learner. The zero value is ready to use.
type LearnOptions struct {
	// BatchRecords is how many records go into one transaction; zero means
	// 500,000.
	BatchRecords int
	// BatchInterval commits a batch that has waited this long even when it
	// is not full; zero means 10 s.
	BatchInterval time.Duration
	// Source names where the records came from, for the run's record.
	Source string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Refresh, when set, returns a newer inventory when the cluster has
	// changed since it was last asked, else nil; it is asked at most once
	// a second. A record with an end the inventory does not know yet (an
	// unknown address in a pod range, an unknown pod uid) then waits for
	// it, up to MaxWait, instead of being stored as unresolved.
	Refresh func() *inventory.Inventory
	// MaxWait bounds how long a record waits; zero means 30 s.
	MaxWait time.Duration
	// MaxWaiting bounds how many records wait; zero means 100,000. Past
	// it a record is stored as it resolves, and counted.
	MaxWaiting int
	// KeepWaiting stores the records waiting for the cluster state in the
	// file with each commit, and Restore takes them back, so that a
	// process that ends abruptly loses none of them; zero keeps them in
	// memory only.
	KeepWaiting bool
}

// Summary is what a learning run did.
type Summary struct {
	Source      string            `json:"source"`
	Started     time.Time         `json:"started"`
	Records     uint64            `json:"records"`     // records read
	Connections uint64            `json:"connections"` // their counts added up
	Stored      uint64            `json:"stored"`      // records in committed batches
	StoredLines int               `json:"stored_lines"`
	Batches     int               `json:"batches"`
	Edges       int               `json:"edges"`     // distinct edges this run
	NewEdges    int               `json:"new_edges"` // of which new to the baseline
	Unresolved  map[string]uint64 `json:"unresolved,omitempty"`
	Waited      uint64            `json:"waited,omitempty"`        // records that waited for the inventory
	WaitedOut   uint64            `json:"waited_out,omitempty"`    // of which stored unresolved after MaxWait
	WaitFull    uint64            `json:"wait_overflow,omitempty"` // records that could not wait: too many waited`
	Ignored     map[string]uint64 `json:"ignored,omitempty"`
	Error       string            `json:"error,omitempty"`
}

// Learner aggregates resolved records into edges and commits them to a
// Store in batches. It is not safe for concurrent use, except that a
// Sealed batch may commit while it adds (see Seal).
type Learner struct {
	store    *Store
	res      *resolve.Static
	pl       resolve.Placement
	opts     LearnOptions
	width    int64
	pending  map[edgeKey]*pendingEdge
	inBatch  int
	lastLine int
	since    time.Time
	known    map[edgeKey]*knownEdge
	newEdges int                      // pending edges not in known
	spare    map[edgeKey]*pendingEdge // an emptied pending map, for the next
	free     []*pendingEdge           // emptied pending edges, for the next
	waiting  []waitingRecord
	asked    time.Time // when Refresh was last asked
	sum      Summary
	wroteInv bool
	// waitingChanged says the waiting records changed since the last
	// commit (KeepWaiting stores them again).
	waitingChanged bool
}

// waitingRecord is a record waiting for the inventory to know its ends.
type waitingRecord struct {
	rec   flow.Record
	since time.Time
}

type edgeKey struct {
	src, dst resolve.EndID
	port     uint16
	proto    flow.Proto
}

type pendingEdge struct {
	known            *knownEdge // as committed (Committed keeps it so); nil: not known when first added
	fresh            bool       // holds a pod, node or process known lacked when added
	id               uint64     // the edge's id, set by the commit
	first, last      int64
	cells            []cell
	srcPods, dstPods []uint64
	nodes            []string
	srcComms         []string // processes at each end, as observers named them
	dstComms         []string
}

// cell is an edge's evidence in one time bucket: connections as clients
// and as servers reported them, and the first and last moments seen, as
// milliseconds into the bucket.
type cell struct {
	bucket int64
	counts
}

type counts struct {
	client, server  uint64
	firstMS, lastMS uint64
}

// add merges o into c.
func (c *counts) add(o counts) {
	c.client += o.client
	c.server += o.server
	c.firstMS = min(c.firstMS, o.firstMS)
	c.lastMS = max(c.lastMS, o.lastMS)
}

// NewLearner learns into s, resolving with r.
func NewLearner(s *Store, r *resolve.Static, opts LearnOptions) *Learner {
	if opts.BatchRecords <= 0 {
		opts.BatchRecords = 500_000
	}
	if opts.BatchInterval <= 0 {
		opts.BatchInterval = 10 * time.Second
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
	l := &Learner{
		store: s, res: r, opts: opts,
		width:   int64(s.Bucket() / time.Second),
		pending: map[edgeKey]*pendingEdge{},
		known:   map[edgeKey]*knownEdge{},
		since:   opts.Now(),
	}
	l.sum = Summary{Source: opts.Source, Started: l.since.UTC(), Unresolved: map[string]uint64{}, Ignored: map[string]uint64{}}
	return l
}

// Add aggregates one record; line is where it was read, for the summary.
// It commits a batch when one is full or due.
func (l *Learner) Add(rec *flow.Record, line int) error {
	l.sum.Records++
	l.sum.Connections += rec.Count
	l.inBatch++
	l.lastLine = line
	if l.opts.Refresh != nil {
		l.refresh(false)
	}
	if !l.ignore(rec) {
		p, unknown := l.place(rec)
		if !unknown || !l.queue(rec) {
			l.add(rec, p)
		}
	}
	if l.inBatch >= l.opts.BatchRecords || (l.inBatch%1024 == 0 && l.opts.Now().Sub(l.since) >= l.opts.BatchInterval) {
		return l.Commit()
	}
	return nil
}

// ignore counts a record that is no flow between pods: loopback traffic
// stays inside one pod.
func (l *Learner) ignore(rec *flow.Record) bool {
	if rec.Src.Addr().IsLoopback() || rec.Dst.Addr().IsLoopback() {
		l.sum.Ignored["loopback (inside one pod)"]++
		return true
	}
	return false
}

// placed is where the resolver puts a record's ends. dsts is valid until
// the resolver is asked again.
type placed struct {
	src  resolve.Target
	dsts []resolve.Target
}

// place resolves a record once, and says, when the inventory is live,
// whether a newer one may know an end this one does not.
func (l *Learner) place(rec *flow.Record) (placed, bool) {
	l.res.Place(rec, &l.pl)
	p := placed{src: l.pl.Src, dsts: l.pl.Dsts}
	return p, l.opts.Refresh != nil && l.unknown(rec, p)
}

func (l *Learner) add(rec *flow.Record, p placed) {
	l.noteUnresolved(p.src.End)
	ts := rec.Time.UnixNano()
	bucket := floorDiv(rec.Time.Unix(), l.width) * l.width
	for _, d := range p.dsts {
		l.noteUnresolved(d.End)
		k := edgeKey{src: p.src.End, dst: d.End, port: d.Port, proto: rec.Proto}
		pe := l.pending[k]
		if pe == nil {
			pe = l.newPending(ts, l.known[k])
			l.pending[k] = pe
			if pe.known == nil {
				l.newEdges++
			}
		}
		pe.add(bucket, ts, rec)
		pe.addPods(p.src.Pod, d.Pod)
	}
}

// queue makes a record wait for a newer inventory, unless too many wait
// already; it says whether it did.
func (l *Learner) queue(rec *flow.Record) bool {
	if len(l.waiting) >= l.opts.MaxWaiting {
		l.sum.WaitFull++
		return false
	}
	l.sum.Waited++
	l.waiting = append(l.waiting, waitingRecord{rec: *rec, since: l.opts.Now()})
	l.waitingChanged = true
	return true
}

// unknown reports a record with an end a newer inventory may know: a pod
// uid, or an address in a pod range, that this one does not.
func (l *Learner) unknown(rec *flow.Record, p placed) bool {
	if rec.PodUID != "" {
		if !l.res.KnowsPod(rec.PodUID) {
			return true
		}
	}
	if l.unknownAddr(p.src.End) {
		return true
	}
	for _, d := range p.dsts {
		if l.unknownAddr(d.End) {
			return true
		}
	}
	return false
}

func (l *Learner) unknownAddr(end resolve.EndID) bool {
	e := l.res.End(end)
	return e.Kind == topology.KindUnresolved && e.Reason == topology.ReasonUnknownClusterAddr
}

// refresh asks for a newer inventory, at most once a second unless forced,
// and retries the waiting records: those it now knows, and those that
// waited MaxWait, are added.
func (l *Learner) refresh(force bool) {
	now := l.opts.Now()
	if !force && now.Sub(l.asked) < time.Second {
		return
	}
	l.asked = now
	if inv := l.opts.Refresh(); inv != nil {
		l.res = l.res.Rebuild(inv)
		l.wroteInv = false // store the newer workloads with the next batch
	}
	kept := l.waiting[:0]
	for i := range l.waiting {
		w := &l.waiting[i]
		p, unknown := l.place(&w.rec)
		if !force && now.Sub(w.since) < l.opts.MaxWait && unknown {
			kept = append(kept, *w)
			continue
		}
		if unknown {
			l.sum.WaitedOut++
		}
		l.add(&w.rec, p)
	}
	if len(kept) != len(l.waiting) {
		l.waitingChanged = true
	}
	clear(l.waiting[len(kept):])
	l.waiting = kept
}

// Waiting returns how many records wait for the inventory.
func (l *Learner) Waiting() int { return len(l.waiting) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

func (l *Learner) noteUnresolved(end resolve.EndID) {
	if e := l.res.End(end); e.Kind == topology.KindUnresolved {
		l.sum.Unresolved[e.Reason.String()]++
	}
}

func (pe *pendingEdge) add(bucket, ts int64, rec *flow.Record) {
	pe.first = min(pe.first, ts)
	pe.last = max(pe.last, ts)
	ms := uint64(ts-bucket*int64(time.Second)) / uint64(time.Millisecond)
	o := counts{firstMS: ms, lastMS: ms}
	if rec.Observer == flow.Server {
		o.server = rec.Count
	} else {
		o.client = rec.Count
	}
	pe.cell(bucket).add(o)
	var knownNodes, knownSrc, knownDst []string
	if k := pe.known; k != nil {
		knownNodes, knownSrc, knownDst = k.rec.Nodes, k.rec.SrcComms, k.rec.DstComms
	}
	var fresh [2]bool
	pe.nodes, fresh[0] = addNewString(pe.nodes, knownNodes, rec.Node)
	if rec.Observer == flow.Server {
		pe.dstComms, fresh[1] = addNewString(pe.dstComms, knownDst, rec.Comm)
	} else {
		pe.srcComms, fresh[1] = addNewString(pe.srcComms, knownSrc, rec.Comm)
	}
	pe.fresh = pe.fresh || fresh[0] || fresh[1]
}

// addPods adds the pods at the ends.
func (pe *pendingEdge) addPods(src, dst uint64) {
	var knownSrc, knownDst []uint64
	if k := pe.known; k != nil {
		knownSrc, knownDst = k.rec.SrcPods, k.rec.DstPods
	}
	var fresh [2]bool
	pe.srcPods, fresh[0] = addNewPod(pe.srcPods, knownSrc, src)
	pe.dstPods, fresh[1] = addNewPod(pe.dstPods, knownDst, dst)
	pe.fresh = pe.fresh || fresh[0] || fresh[1]
}

// addNewString adds s to set unless known, the committed record's sorted
// set, is full or holds it already; it says whether merging s would change
// the record.
func addNewString(set, known []string, s string) ([]string, bool) {
	if len(known) >= maxStrings {
		return set, false
	}
	n := len(set)
	if set = addString(set, s); len(set) == n {
		return set, false
	}
	_, found := slices.BinarySearch(known, s)
	return set, !found
}

// addNewPod is addNewString for pods.
func addNewPod(set, known []uint64, pod uint64) ([]uint64, bool) {
	if len(known) >= maxPodSet {
		return set, false
	}
	n := len(set)
	if set = addPod(set, pod); len(set) == n {
		return set, false
	}
	return set, !containsSorted(known, pod)
}

// maxStrings bounds the nodes and process names remembered per edge.
const maxStrings = 16

func addString(set []string, s string) []string {
	if s == "" || len(set) >= maxStrings || slices.Contains(set, s) {
		return set
	}
	return append(set, s)
}

// cell finds the bucket's cell, looking from the newest: records come
// roughly in time order.
func (pe *pendingEdge) cell(bucket int64) *cell {
	for i := len(pe.cells) - 1; i >= 0; i-- {
		if pe.cells[i].bucket == bucket {
			return &pe.cells[i]
		}
	}
	pe.cells = append(pe.cells, cell{bucket: bucket, counts: counts{firstMS: math.MaxUint64}})
	return &pe.cells[len(pe.cells)-1]
}

func addPod(set []uint64, pod uint64) []uint64 {
	if pod == 0 || len(set) >= maxPodSet || slices.Contains(set, pod) {
		return set
	}
	return append(set, pod)
}

// CommitAll ends a run: it gives the records still waiting their time, up
// to MaxWait or until ctx ends, adds them as they then resolve, and
// commits.
func (l *Learner) CommitAll(ctx context.Context) error {
	if l.opts.Refresh != nil {
		for len(l.waiting) > 0 && l.opts.Now().Sub(l.waiting[0].since) < l.opts.MaxWait && ctx.Err() == nil {
			time.Sleep(100 * time.Millisecond)
			l.refresh(false)
		}
		l.refresh(true)
	}
	return l.Commit()
}

// Commit writes what was aggregated since the last commit in one
// transaction. Records waiting for the inventory stay waiting. After a
// failed commit the learner no longer matches the file: start again from
// the file.
func (l *Learner) Commit() error { return l.commit(nil) }

func (l *Learner) commit(delivered map[string]uint64) error {
	s := l.Seal(delivered)
	if s == nil {
		return nil
	}
	if err := s.Commit(); err != nil {
		return err
	}
	l.Committed(s)
	return nil
}

// Edges returns how many distinct edges the run has seen so far, committed
// or not.
func (l *Learner) Edges() int { return len(l.known) + l.newEdges }

// Summary returns what the run did so far.
func (l *Learner) Summary() Summary { return l.sum }

// Finish records the run in the store, with err when it ended on one.
func (l *Learner) Finish(runErr error) error {
	if runErr != nil {
		l.sum.Error = runErr.Error()
	}
	return l.store.putRun(l.sum)
}

// Learn reads records until the end of rd, ctx's end, or the first
// malformed record, committing whole batches as it goes. On ctx's end it
// commits what it has; on a malformed record it commits nothing more, so the
// store holds exactly the batches before it.
func Learn(ctx context.Context, rd *flow.Reader, l *Learner) error {
	for ctx.Err() == nil {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if err := l.Add(rec, rd.Line()); err != nil {
			return fmt.Errorf("after line %d: %w", rd.Line(), err)
		}
	}
	return l.CommitAll(ctx)
}
