package learn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/flow"
)

// BatchOptions tunes a Batcher. The zero value is ready to use.
type BatchOptions struct {
	// BatchRecords is how many records go into one commit; zero means
	// DefaultBatchRecords.
	BatchRecords int
	// BatchInterval commits a batch that has waited this long even when
	// it is not full; zero means 10 s.
	BatchInterval time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// DefaultBatchRecords is BatchOptions.BatchRecords's default. A commit
// costs about what the edges it rewrites do, whatever their records: an
// edge seen in a batch rewrites each of its blocks the batch reaches once,
// however many of its records the batch holds, so fewer and larger
// batches cost less a record.
const DefaultBatchRecords = 2_000_000

// Batcher commits a Learner's deltas to a store in batches: a store then
// holds whole batches of records, never part of one.
type Batcher struct {
	l       *Learner
	store   baseline.Store
	opts    BatchOptions
	inBatch int
	line    int       // of the last record added
	since   time.Time // when the batch began
	commits baseline.Run
}

// NewBatcher commits what l learns to store.
func NewBatcher(l *Learner, store baseline.Store, opts BatchOptions) *Batcher {
	if opts.BatchRecords <= 0 {
		opts.BatchRecords = DefaultBatchRecords
	}
	if opts.BatchInterval <= 0 {
		opts.BatchInterval = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Batcher{l: l, store: store, opts: opts, since: opts.Now()}
}

// Add adds a record, read at line, and commits the batch when it is full
// or due. Records waiting for the cluster state are retried as it goes.
func (b *Batcher) Add(ctx context.Context, rec *flow.Record, line int) error {
	b.l.Add(rec)
	return b.added(ctx, line)
}

// added notes a record added, read at line, retries the waiting records,
// and commits the batch when it is full or due.
func (b *Batcher) added(ctx context.Context, line int) error {
	b.inBatch++
	b.line = line
	if b.l.Waiting() > 0 {
		b.l.Retry(b.opts.Now())
	}
	if b.inBatch >= b.opts.BatchRecords || (b.inBatch%1024 == 0 && b.opts.Now().Sub(b.since) >= b.opts.BatchInterval) {
		return b.Commit(ctx)
	}
	return nil
}

// Commit applies what was learned since the last commit. A batch whose
// records left nothing to store counts as committed without a
// transaction.
func (b *Batcher) Commit(ctx context.Context) error {
	d := b.l.Take()
	if d == nil && b.inBatch == 0 {
		return nil
	}
	if d != nil {
		applied, err := b.store.Apply(context.WithoutCancel(ctx), d) // a commit begun is not cut short
		if err != nil {
			return err
		}
		b.commits.NewEdges += applied.NewEdges
	}
	b.commits.Stored = b.l.run.Records
	b.commits.StoredLines = b.line
	b.commits.Batches++
	b.inBatch = 0
	b.since = b.opts.Now()
	return nil
}

// Finish ends a run: it gives the records still waiting their time (until
// the cluster state places them, their MaxWait ends, or ctx ends), adds
// them as they then resolve, and commits, even when ctx has ended.
func (b *Batcher) Finish(ctx context.Context) error {
	b.wait(ctx)
	b.l.Release()
	return b.Commit(context.WithoutCancel(ctx))
}

// wait places the waiting records again every second until none waits,
// adding those due, or ctx ends.
func (b *Batcher) wait(ctx context.Context) {
	for b.l.Waiting() > 0 {
		now := b.opts.Now()
		b.l.retry(func(w *waitingRecord) bool { return now.Sub(w.since) >= b.l.opts.MaxWait })
		if b.l.Waiting() == 0 {
			return
		}
		t := time.NewTimer(min(time.Second, b.l.Deadline().Sub(now)))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// Run returns what the run did so far, commits included.
func (b *Batcher) Run() baseline.Run {
	r := b.l.Run()
	r.Stored, r.StoredLines, r.Batches, r.NewEdges = b.commits.Stored, b.commits.StoredLines, b.commits.Batches, b.commits.NewEdges
	return r
}

// FromReader learns the records of rd into store until the end of rd,
// ctx's end, or the first malformed record, committing whole batches as
// it goes. On ctx's end it commits what it has; on a malformed record it
// commits nothing more, so the store holds exactly the batches before it
// (Run.StoredLines says through which line). It returns what the run did.
func FromReader(ctx context.Context, rd Records, l *Learner, store baseline.Store, opts BatchOptions) (baseline.Run, error) {
	b := NewBatcher(l, store, opts)
	err := b.read(ctx, rd)
	return b.Run(), err
}

// Records is a source of flow records read from a file: a *flow.Reader,
// or a reader of another format. Next returns io.EOF after the last; Line
// is the line of the record Next returned last. A record Next returns is
// overwritten by the next call, but a copy of it stays valid: its strings
// and DNS answer are its own.
type Records interface {
	Next() (*flow.Record, error)
	Line() int
}

var _ Records = (*flow.Reader)(nil)

// read learns rd's records, readAhead at a time: those before a
// malformed one are added, and may commit, before its error is returned.
func (b *Batcher) read(ctx context.Context, rd Records) error {
	var recs [readAhead]flow.Record
	var lines [readAhead]int
	for ctx.Err() == nil {
		n, readErr := b.readSome(rd, recs[:], lines[:])
		b.l.placeAhead(recs[:n])
		for i := range n {
			b.l.addAhead(i)
			if err := b.added(ctx, lines[i]); err != nil {
				return fmt.Errorf("after line %d: %w", lines[i], err)
			}
		}
		if errors.Is(readErr, io.EOF) {
			break
		}
		if readErr != nil {
			return readErr
		}
	}
	return b.Finish(ctx)
}

// readSome reads records into recs, and their lines into lines, until
// recs is full or rd ends or fails, and returns how many it read. It
// asks for where each one's addresses are looked up as it reads it: the
// parsing of the next ones hides the wait.
func (b *Batcher) readSome(rd Records, recs []flow.Record, lines []int) (int, error) {
	for i := range recs {
		rec, err := rd.Next()
		if err != nil {
			return i, err
		}
		recs[i], lines[i] = *rec, rd.Line()
		b.l.prefetchIndex(recs[i : i+1])
	}
	return len(recs), nil
}

// Edges returns how many distinct edges the run has seen.
func (b *Batcher) Edges() int { return b.l.Edges() }
