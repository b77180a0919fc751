package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/term"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/collector"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/learn"
)

// learnLive captures for the window (or until ctx ends) into b, showing
// progress on standard error, commits what it learned, and returns what
// the run did.
func learnLive(ctx context.Context, o *learnOptions, s Streams, b *learn.Batcher) (baseline.Run, error) {
	err := captureLive(ctx, o, s, b)
	return b.Run(), err
}

func captureLive(ctx context.Context, o *learnOptions, s Streams, b *learn.Batcher) error {
	if o.window <= 0 {
		return fmt.Errorf("--window %v: must be positive", o.window)
	}
	log := slog.New(slog.NewTextHandler(s.Err, nil))
	c, stop, err := o.capture.start(ctx, log)
	if err != nil {
		return err
	}
	defer stop()
	wctx, cancel := context.WithTimeout(ctx, o.window)
	defer cancel()
	p := &progress{w: s.Err, window: o.window, start: time.Now(), stats: c.Stats, tty: isTerminal(s.Err), done: make(chan struct{})}
	go p.run(wctx)
	var seq int
	err = c.Run(wctx, func(r *flow.Record) error {
		seq++
		if err := b.Add(ctx, r, seq); err != nil {
			return err
		}
		p.records.Store(uint64(seq))
		p.edges.Store(int64(b.Edges()))
		return nil
	})
	cancel()
	p.finish()
	if err != nil {
		return err
	}
	if err := b.Finish(ctx); err != nil {
		return err
	}
	st, err := c.Stats()
	if err != nil {
		return err
	}
	fmt.Fprintf(s.Out, "capture: %v; %d new flows, %d lost to a full ring buffer (reported at the next flush), %d evicted from the flow map (%d seen again); %d DNS answers, %d lost\n",
		c.Attached(), st.Events, st.Lost, st.Evicted, st.Recycled, st.DNS, st.DNSLost)
	return nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress shows a live run's progress: a line redrawn every second on a
// terminal, a line a minute otherwise.
type progress struct {
	w       io.Writer
	window  time.Duration
	start   time.Time
	stats   collector.StatsFunc
	tty     bool
	records atomic.Uint64
	edges   atomic.Int64
	done    chan struct{}
}

func (p *progress) run(ctx context.Context) {
	defer close(p.done)
	every := time.Minute
	if p.tty {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if p.tty {
				fmt.Fprintln(p.w)
			}
			return
		case <-t.C:
			p.print()
		}
	}
}

func (p *progress) print() {
	elapsed := time.Since(p.start).Truncate(time.Second)
	var lost uint64
	if st, err := p.stats(); err == nil {
		lost = st.Lost
	}
	line := fmt.Sprintf("learning: %v elapsed, %v left, %d records, %d edges, %d lost",
		elapsed, max(p.window-elapsed, 0).Truncate(time.Second), p.records.Load(), p.edges.Load(), lost)
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		return
	}
	fmt.Fprintln(p.w, line)
}

// finish waits for the progress line to end.
func (p *progress) finish() { <-p.done }
