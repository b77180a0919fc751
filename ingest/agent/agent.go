package agent

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/ingest/client"
	"github.com/flowpol/flowpol/ingest/wire"
)

// Options configure New.
type Options struct {
	// Client ships batches; required.
	Client *client.Client
	// Spool keeps batches until they are shipped; required.
	Spool *Spool
	// Node is this node's name, sent with each batch.
	Node string
	// BatchRecords seals a batch when it holds this many records after
	// pre-aggregation; zero means 10,000.
	BatchRecords int
	// Aggregate merges records that differ only in source port, process
	// id and time within this window into one, counts added and the first
	// time kept; zero means 1 s, a negative value merges nothing.
	Aggregate time.Duration
	// MinBackoff and MaxBackoff bound the wait before shipping a batch
	// again after a failure; it doubles each time, with jitter. Zero means
	// 200 ms and 30 s.
	MinBackoff, MaxBackoff time.Duration
	// AuthFailures is how many times in a row the aggregator may refuse
	// the same token (401) before the agent stops sending it; zero means
	// 4.
	AuthFailures int
	// WaitForToken says what the agent does then: false returns an error
	// from Ship; true (a daemon) keeps the batches in the spool and sends
	// again only once the token file's content changes, looked at every
	// MaxBackoff.
	WaitForToken bool
	// RingLost, when set, reads the capture's running total of new flows
	// its ring buffer had no room for, sent with each batch.
	RingLost func() uint64
	// Metrics, when set, are kept up to date.
	Metrics *Metrics
	// Logger receives failures to ship; zero means slog.Default().
	Logger *slog.Logger
}

// Agent pre-aggregates records into batches, spools them and ships them.
// Add and Seal are safe for concurrent use with Ship.
type Agent struct {
	opts Options

	// fresh is the first sequence number this process spooled: a batch
	// before it may have been sent by the process before.
	fresh uint64

	mu      sync.Mutex
	pending []flow.Record
	index   map[aggKey]int
	dropped atomic.Uint64 // records dropped or refused, since start
}

// aggKey is what a pre-aggregated record keeps apart.
type aggKey struct {
	slot                            int64
	proto                           flow.Proto
	observer                        flow.Observer
	src                             netip.Addr
	dst                             netip.AddrPort
	node, comm, podUID, containerID string
	cgroup                          uint64
	netns                           uint32
}

// New builds an agent; it ships nothing until Ship runs.
func New(opts Options) (*Agent, error) {
	if opts.Client == nil || opts.Spool == nil {
		return nil, errors.New("agent: a client and a spool are required")
	}
	if opts.BatchRecords <= 0 {
		opts.BatchRecords = 10_000
	}
	if opts.Aggregate == 0 {
		opts.Aggregate = time.Second
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 200 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 30 * time.Second
	}
	if opts.AuthFailures <= 0 {
		opts.AuthFailures = 4
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Agent{opts: opts, index: map[aggKey]int{}, fresh: opts.Spool.NextSeq()}, nil
}

// Add pre-aggregates a record, and seals a batch when one is full. A
// record no batch can carry (wire.CheckRecord) is an error, and the
// records added before it are kept.
func (a *Agent) Add(rec *flow.Record) error {
	if m := a.opts.Metrics; m != nil {
		m.recordsRead.Inc()
	}
	if err := wire.CheckRecord(rec); err != nil {
		return fmt.Errorf("record at %s: %w", rec.Time.Format(time.RFC3339Nano), err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.merge(rec)
	if len(a.pending) >= a.opts.BatchRecords {
		return a.seal()
	}
	return nil
}

// merge adds a record to the pending batch, or its count to the pending
// record it merges with. A record with a DNS answer is kept as it is: its
// answer and moment are what the learner needs.
func (a *Agent) merge(rec *flow.Record) {
	if a.opts.Aggregate < 0 || rec.DNS != nil {
		a.pending = append(a.pending, *rec)
		return
	}
	k := a.key(rec)
	i, ok := a.index[k]
	if !ok {
		a.index[k] = len(a.pending)
		a.pending = append(a.pending, *rec)
		return
	}
	p := &a.pending[i]
	p.Count = flow.AddCounts(p.Count, rec.Count)
	if rec.Time.Before(p.Time) {
		p.Time = rec.Time
	}
}

func (a *Agent) key(r *flow.Record) aggKey {
	return aggKey{slot: r.Time.UnixNano() / int64(a.opts.Aggregate), proto: r.Proto, observer: r.Observer,
		src: r.Src.Addr().Unmap(), dst: netip.AddrPortFrom(r.Dst.Addr().Unmap(), r.Dst.Port()),
		node: r.Node, comm: r.Comm, podUID: r.PodUID, containerID: r.ContainerID, cgroup: r.CgroupID, netns: r.Netns}
}

// Seal writes the records added since the last batch to the spool as one
// batch.
func (a *Agent) Seal() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.seal()
}

func (a *Agent) seal() error {
	if len(a.pending) == 0 {
		return nil
	}
	b := &wire.Batch{Node: a.opts.Node, Dropped: a.dropped.Load(), Records: a.pending}
	if a.opts.RingLost != nil {
		b.RingLost = a.opts.RingLost()
	}
	dropped, err := a.opts.Spool.Put(b)
	a.lost("spool_full", dropped)
	if err != nil {
		return err
	}
	a.pending = a.pending[:0]
	clear(a.index)
	if m := a.opts.Metrics; m != nil {
		m.batchesSpooled.Inc()
	}
	a.spoolGauges()
	return nil
}

func (a *Agent) lost(reason string, records int) {
	if records == 0 {
		return
	}
	a.dropped.Add(uint64(records))
	if m := a.opts.Metrics; m != nil {
		m.recordsLost.WithLabelValues(reason).Add(float64(records))
	}
	a.opts.Logger.Error("records lost", "reason", reason, "records", records)
}

func (a *Agent) spoolGauges() {
	if m := a.opts.Metrics; m != nil {
		n, size := a.opts.Spool.Len()
		m.spoolBatches.Set(float64(n))
		m.spoolBytes.Set(float64(size))
	}
}

// SealEvery seals a batch every interval until ctx ends, so that records
// wait at most that long for a full batch.
func (a *Agent) SealEvery(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := a.Seal(); err != nil {
				return err
			}
		}
	}
}

// Ship sends the spooled batches, oldest first, one at a time, until ctx
// ends; a failure is retried after a backoff, at least as long as the
// aggregator asked (Retry-After). A batch the aggregator refuses as
// malformed or too large is dropped, and counted: sending it again would
// not help. When the aggregator has refused the same token
// Options.AuthFailures times in a row, Ship returns an error wrapping
// client.ErrUnauthorized, or with Options.WaitForToken waits for a new
// one. It returns nil when ctx ends.
func (a *Agent) Ship(ctx context.Context) error {
	backoff := a.opts.MinBackoff
	var auth authFailures
	for attempt := 1; ctx.Err() == nil; {
		b, ok := a.opts.Spool.Oldest()
		if !ok {
			select {
			case <-a.opts.Spool.Wake():
			case <-ctx.Done():
			}
			continue
		}
		err := a.ship(ctx, b, attempt > 1 || b.Seq < a.fresh)
		if err == nil {
			backoff, attempt, auth = a.opts.MinBackoff, 1, authFailures{}
			continue
		}
		if ctx.Err() != nil {
			return nil
		}
		if err := a.unauthorized(ctx, &auth, err); err != nil {
			return err
		}
		a.retryAfter(ctx, b, attempt, backoff, err)
		backoff, attempt = min(2*backoff, a.opts.MaxBackoff), attempt+1
	}
	return nil
}

// retryAfter waits before a batch is sent again: about backoff, at least
// what the aggregator asked for.
func (a *Agent) retryAfter(ctx context.Context, b SpooledBatch, attempt int, backoff time.Duration, err error) {
	if m := a.opts.Metrics; m != nil {
		m.batchesRetried.Inc()
	}
	wait := backoff/2 + rand.N(backoff/2+1)
	if se := (*client.StatusError)(nil); errors.As(err, &se) {
		wait = max(wait, se.RetryAfter)
	}
	a.opts.Logger.Warn("ship batch", "seq", b.Seq, "attempt", attempt, "retry_in", wait.Round(time.Millisecond), "error", err)
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// authFailures counts the aggregator's refusals in a row of one token.
type authFailures struct {
	token string // its fingerprint
	n     int
}

// unauthorized counts a refusal of the token. Once the same token was
// refused AuthFailures times with no batch shipped since, it returns an
// error, or with WaitForToken waits for the token file to change.
func (a *Agent) unauthorized(ctx context.Context, f *authFailures, err error) error {
	var se *client.StatusError
	if !errors.As(err, &se) || !errors.Is(err, client.ErrUnauthorized) {
		return nil
	}
	if m := a.opts.Metrics; m != nil {
		m.authFailures.Inc()
	}
	if se.Token != f.token {
		*f = authFailures{token: se.Token}
	}
	if f.n++; f.n < a.opts.AuthFailures {
		return nil
	}
	if !a.opts.WaitForToken {
		return fmt.Errorf("the aggregator refused the same token %d times in a row: %w", f.n, err)
	}
	a.opts.Logger.Error("the aggregator refuses the token; shipping waits until the token file changes", "refusals", f.n, "error", err)
	a.waitForToken(ctx, f.token)
	*f = authFailures{}
	return nil
}

// waitForToken waits until the token the client would send is no longer
// the one with fingerprint old, looking every MaxBackoff, or ctx ends.
func (a *Agent) waitForToken(ctx context.Context, old string) {
	if m := a.opts.Metrics; m != nil {
		m.authBlocked.Set(1)
		defer m.authBlocked.Set(0)
	}
	t := time.NewTicker(a.opts.MaxBackoff)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		tok, err := a.opts.Client.TokenFingerprint()
		if err != nil {
			a.opts.Logger.Warn("read the token", "error", err)
			continue
		}
		if tok != old {
			a.opts.Logger.Info("the token file changed; shipping again")
			return
		}
	}
}

// ship sends one batch and removes it once acknowledged or refused for
// good; resent says it may have been sent before.
func (a *Agent) ship(ctx context.Context, b SpooledBatch, resent bool) error {
	data, err := a.opts.Spool.Read(b)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // dropped to make room meanwhile
	}
	if err != nil {
		return err
	}
	start := time.Now()
	_, err = a.opts.Client.Send(ctx, data, resent)
	var se *client.StatusError
	switch {
	case errors.As(err, &se) && se.Permanent():
		a.opts.Logger.Error("aggregator refused batch", "seq", b.Seq, "error", err)
		a.lost("rejected", b.Records)
		if m := a.opts.Metrics; m != nil {
			m.batchesRejected.Inc()
		}
	case err != nil:
		return err
	default:
		if m := a.opts.Metrics; m != nil {
			m.batchesShipped.Inc()
			m.shipSeconds.Observe(time.Since(start).Seconds())
		}
	}
	err = a.opts.Spool.Remove(b)
	a.spoolGauges()
	return err
}

// WaitShipped waits until the spool is empty or ctx ends; then it returns
// the context's cause.
func (a *Agent) WaitShipped(ctx context.Context) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		if n, _ := a.opts.Spool.Len(); n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-t.C:
		}
	}
}
