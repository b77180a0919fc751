package server

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/ingest/wire"
	"github.com/flowpol/flowpol/learn"
	"github.com/flowpol/flowpol/staged"
)

// SinkOptions tunes NewSink. The zero value is ready to use.
type SinkOptions struct {
	// GroupRecords bounds the records of the batches committed in one
	// transaction; zero means 200,000. Batches that arrive while a commit
	// runs are added meanwhile and go into the next, so under load each
	// commit takes many; past GroupRecords they wait.
	GroupRecords int
	// Linger is how long a group of fewer than a quarter of GroupRecords
	// records waits for more batches before it is committed; zero means
	// 100 ms. Under load a group fills while the commit before it runs;
	// lingering makes commits fewer and larger, which spends less CPU and
	// grows the file less (each commit rewrites the pages it touches).
	Linger time.Duration
	// Tick is how often, with no batches arriving, records waiting for the
	// cluster state are retried and committed; zero means 1 s.
	Tick time.Duration
	// Metrics, when set, are kept up to date.
	Metrics *AggregatorMetrics
	// Size, when set, returns the baseline's size in bytes, for the
	// metrics.
	Size func() (int64, error)
	// Staged, when set, decides every delta the sink commits under the
	// staged policies; their record (the attachment staged.AttachmentName)
	// is committed in the same transaction as the delta.
	Staged *staged.Tracker
	// FirstDenials, when set, is called after a commit with the staged
	// policies that would deny something for the first time, sorted.
	FirstDenials func(policies []string)
	// Shared says other aggregators write to the same store (ClickHouse).
	// Then a batch its agent sent again is looked for in the store, and
	// when it is not there committed alone, by a learner of its own from
	// NewLearner, as a resent delta (baseline.Delta.Resent): another
	// aggregator may be committing it too, and the store counts one. And
	// a commit that fails is refused (503) and forgotten rather than
	// ending the sink, so that the agents send its batches again once the
	// store is back.
	Shared bool
	// NewLearner makes the learner of a batch sent again; required when
	// Shared. It must not keep its waiting records in its deltas.
	NewLearner func() (*learn.Learner, error)
}

// Sink adds batches to the baseline through a Learner it owns, and
// acknowledges each only once its records and its sequence number are
// committed together. It is safe for concurrent use.
type Sink struct {
	store baseline.Store
	l     *learn.Learner
	opts  SinkOptions
	in    chan *delivery
	done  chan struct{} // closed when Run ends

	resent sync.Mutex // one batch sent again at a time

	mu        sync.Mutex
	err       error // why Run ended
	delivered map[string]uint64
	last      baseline.Run // the learner's run at the last commit, for metrics
	commits   baseline.Run // what the commits stored: Stored, Batches, NewEdges (the loop's)
}

// delivery is one batch on its way into the baseline.
type delivery struct {
	b      *wire.Batch
	dup    bool
	result chan error
}

// Result says what became of a delivered batch.
type Result struct {
	// Duplicate says the batch was delivered before and was not counted
	// again.
	Duplicate bool
}

// NewSink adds to l, which must keep its waiting records in its deltas
// (learn.Options.KeepWaiting) so that what a commit acknowledges survives
// a crash whole. It reads which batches store holds already, and gives l
// back the records store kept waiting.
func NewSink(ctx context.Context, store baseline.Store, l *learn.Learner, opts SinkOptions) (*Sink, error) {
	if opts.GroupRecords <= 0 {
		opts.GroupRecords = 200_000
	}
	if opts.Linger <= 0 {
		opts.Linger = 100 * time.Millisecond
	}
	if opts.Tick <= 0 {
		opts.Tick = time.Second
	}
	if opts.Shared && opts.NewLearner == nil {
		return nil, fmt.Errorf("a sink on a shared store needs SinkOptions.NewLearner")
	}
	delivered, err := store.Delivered(ctx)
	if err != nil {
		return nil, err
	}
	waiting, err := store.Waiting(ctx)
	if err != nil {
		return nil, err
	}
	l.Restore(waiting)
	s := &Sink{store: store, l: l, opts: opts, in: make(chan *delivery, 1024), done: make(chan struct{}), delivered: delivered}
	s.last = l.Run()
	return s, nil
}

// Deliver adds a batch and returns once it is committed, or was delivered
// before; resent says its agent sent it before (wire.HeaderResent). Its
// records must not be changed until then.
func (s *Sink) Deliver(ctx context.Context, b *wire.Batch, resent bool) (Result, error) {
	res, _, err := s.deliver(ctx, b, resent)
	return res, err
}

// deliver is Deliver; it also says whether the sink is done with b, which
// it is unless ctx ended while it held b.
func (s *Sink) deliver(ctx context.Context, b *wire.Batch, resent bool) (Result, bool, error) {
	if resent && s.opts.Shared {
		if res, handled, err := s.deliverResent(ctx, b); handled || err != nil {
			return res, true, err
		}
	}
	d := &delivery{b: b, result: make(chan error, 1)}
	select {
	case s.in <- d:
	case <-s.done:
		return Result{}, true, s.stopped()
	case <-ctx.Done():
		return Result{}, true, ctx.Err()
	}
	select {
	case err := <-d.result:
		return Result{Duplicate: d.dup}, true, err
	case <-ctx.Done():
		return Result{}, false, ctx.Err() // committed or not, a resend is safe
	}
}

func (s *Sink) stopped() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, s.err)
	}
	return fmt.Errorf("%w: shutting down", ErrUnavailable)
}

// Err returns why the sink stopped, or nil while it runs.
func (s *Sink) Err() error {
	select {
	case <-s.done:
		return s.stopped()
	default:
		return nil
	}
}

// Run adds and commits batches until ctx ends or a commit fails; then it
// records the run in the store. A failed commit ends it with the error,
// and the batches of the commit are not acknowledged.
func (s *Sink) Run(ctx context.Context) error {
	err := s.loop(ctx)
	run := s.l.Run()
	run.Stored, run.Batches, run.NewEdges = s.commits.Stored, s.commits.Batches, s.commits.NewEdges
	if err != nil {
		run.Error = err.Error()
	}
	if rerr := s.store.RecordRun(context.WithoutCancel(ctx), run); err == nil {
		err = rerr
	}
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
	close(s.done)
	return err
}

// loop adds batches as they come and commits them in groups. While one
// group's delta is applied, on a goroutine of its own, the next group is
// added to the learner. A group is acknowledged after its delta is
// applied, and only then is the next taken: one commit at a time, in
// order. A finished commit is taken before the next batch is added, so
// that the committer waits on the adder only while a group lingers (see
// SinkOptions.Linger).
func (s *Sink) loop(ctx context.Context) error {
	tick := time.NewTicker(s.opts.Tick)
	defer tick.Stop()
	var next, running *group // added, not sealed; being committed
	done := make(chan error, 1)
	for {
		if running != nil {
			select {
			case err := <-done:
				if err := s.finish(running, err); err != nil {
					next.ack(err)
					return err
				}
				running = nil
			default:
			}
		}
		var linger <-chan time.Time
		if running == nil {
			if wait := s.linger(next); wait > 0 {
				linger = time.After(wait)
			} else {
				running, next = s.start(next, done), nil
			}
		}
		in := s.in
		if next.records() >= s.opts.GroupRecords {
			in = nil // full: wait for the running commit
		}
		select {
		case <-ctx.Done():
			return s.drain(running, next, done)
		case d := <-in:
			next = s.add(next, d)
		case err := <-done:
			if err := s.finish(running, err); err != nil {
				next.ack(err)
				return err
			}
			running = nil
		case <-linger:
		case now := <-tick.C:
			s.l.Retry(now)
		}
	}
}

// linger returns how much longer g waits for more batches before it is
// committed.
func (s *Sink) linger(g *group) time.Duration {
	if g == nil || g.n >= s.opts.GroupRecords/4 {
		return 0
	}
	return s.opts.Linger - time.Since(g.first)
}

// start takes what was added, with the agents' new last batches, and
// applies it on a goroutine of its own, which reports to done. It returns
// nil when there was nothing to commit.
func (s *Sink) start(g *group, done chan<- error) *group {
	if g == nil {
		g = &group{}
	}
	d := s.l.Take()
	if d == nil && len(g.changed) == 0 {
		g.ack(nil) // duplicates only
		return nil
	}
	if d == nil {
		d = &baseline.Delta{}
	}
	d.Delivered = g.changed
	g.start, g.read = time.Now(), s.l.Run().Records
	var stagedErr error
	if s.opts.Staged != nil {
		g.staged, stagedErr = s.opts.Staged.Observe(d)
		if stagedErr == nil && g.staged.State != nil {
			d.Attachments = map[string][]byte{staged.AttachmentName: g.staged.State}
		}
	}
	go func() {
		if stagedErr != nil {
			done <- stagedErr
			return
		}
		applied, err := s.store.Apply(context.Background(), d) // a commit begun is finished
		g.newEdges = applied.NewEdges                          // read after done
		done <- err
	}()
	return g
}

// finish takes a commit's result and acknowledges its batches. On a
// shared store a failed commit is refused and forgotten, and the sink
// goes on.
func (s *Sink) finish(g *group, err error) error {
	if err != nil {
		err = fmt.Errorf("commit %d batches: %w", len(g.batches), err)
		if s.opts.Shared {
			s.forget(g)
			s.observe(g.batches, time.Since(g.start))
			g.ack(fmt.Errorf("%w: %w", ErrUnavailable, err))
			return nil
		}
	} else {
		s.commits.Stored, s.commits.NewEdges = g.read, s.commits.NewEdges+g.newEdges
		s.commits.Batches++
		s.commitStaged(g.staged)
	}
	s.observe(g.batches, time.Since(g.start))
	g.ack(err)
	return err
}

// commitStaged adopts a committed staged record, counts what it added
// and says which policies would deny for the first time.
func (s *Sink) commitStaged(p *staged.Pending) {
	if p == nil {
		return
	}
	s.opts.Staged.Commit(p)
	if m := s.opts.Metrics; m != nil {
		for _, a := range p.Added {
			m.stagedWouldDeny.WithLabelValues(a.Policy, wire.Direction(a.Ingress)).Add(float64(a.Connections))
		}
	}
	if len(p.FirstDenials) > 0 && s.opts.FirstDenials != nil {
		s.opts.FirstDenials(p.FirstDenials)
	}
}

// drain ends the loop: it waits for the running commit, then commits what
// was added since.
func (s *Sink) drain(running, next *group, done chan error) error {
	if running != nil {
		if err := s.finish(running, <-done); err != nil {
			next.ack(err)
			return err
		}
	}
	if running = s.start(next, done); running != nil {
		return s.finish(running, <-done)
	}
	return nil
}

// group is the batches of one commit.
type group struct {
	batches []*delivery
	n       int               // their records
	changed map[string]uint64 // the agents' new last batches
	prev    map[string]uint64 // the agents' last batches before
	first   time.Time         // when its first batch was added
	start   time.Time         // when its commit started
	read    uint64            // the learner's records read when it was taken
	// newEdges is what its commit found new, set before it reports done.
	newEdges int
	staged   *staged.Pending // the staged record after its delta
}

func (g *group) records() int {
	if g == nil {
		return 0
	}
	return g.n
}

// ack answers the group's batches.
func (g *group) ack(err error) {
	if g == nil {
		return
	}
	for _, d := range g.batches {
		d.result <- err
	}
}

// add adds a batch's records to g unless it was delivered before, and
// returns g, which it makes when nil.
func (s *Sink) add(g *group, d *delivery) *group {
	if g == nil {
		g = &group{changed: map[string]uint64{}, prev: map[string]uint64{}, first: time.Now()}
	}
	g.batches = append(g.batches, d)
	g.n += len(d.b.Records)
	s.mu.Lock()
	defer s.mu.Unlock()
	if d.b.Seq <= s.delivered[d.b.Agent] {
		d.dup = true
		return g
	}
	s.l.AddAll(d.b.Records)
	if _, ok := g.prev[d.b.Agent]; !ok {
		g.prev[d.b.Agent] = s.delivered[d.b.Agent]
	}
	s.delivered[d.b.Agent] = d.b.Seq
	g.changed[d.b.Agent] = d.b.Seq
	return g
}

// Delivered returns each agent's last committed batch.
func (s *Sink) Delivered() map[string]uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.delivered)
}

// observe brings the metrics up to date after a commit.
func (s *Sink) observe(group []*delivery, took time.Duration) {
	m := s.opts.Metrics
	if m == nil {
		return
	}
	if len(group) > 0 {
		m.commitSeconds.Observe(took.Seconds())
	}
	for _, d := range group {
		result := "accepted"
		if d.dup {
			result = "duplicate"
		} else {
			m.records.WithLabelValues(d.b.Node).Add(float64(len(d.b.Records)))
		}
		m.batches.WithLabelValues(result).Inc()
		m.nodeLost.WithLabelValues(d.b.Node, "dropped").Set(float64(d.b.Dropped))
		m.nodeLost.WithLabelValues(d.b.Node, "ring_buffer").Set(float64(d.b.RingLost))
	}
	sum := s.l.Run()
	for reason, n := range sum.Unresolved {
		if d := n - s.last.Unresolved[reason]; d > 0 {
			m.unresolved.WithLabelValues(reason).Add(float64(d))
		}
	}
	m.waited.WithLabelValues("waited").Add(float64(sum.Waited - s.last.Waited))
	m.waited.WithLabelValues("still_unknown").Add(float64(sum.WaitedOut - s.last.WaitedOut))
	m.waited.WithLabelValues("overflow").Add(float64(sum.WaitFull - s.last.WaitFull))
	s.last = sum
	m.waiting.Set(float64(s.l.Waiting()))
	m.edges.Set(float64(s.l.Edges()))
	if s.opts.Size != nil {
		if size, err := s.opts.Size(); err == nil {
			m.dbBytes.Set(float64(size))
		}
	}
}
