package server

import (
	"context"
	"fmt"
	"maps"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/ingest/wire"
)

// deliverResent takes a batch its agent sent again, on a shared store. A
// batch this sink added itself goes the usual way (handled false): it is
// a duplicate acknowledged with its commit. Else the store says whether
// any aggregator committed it; if none did, it is committed alone, as a
// resent delta, which the store counts only if no other delta holds the
// same batch (an aggregator that was slow, not dead, may still commit
// it).
func (s *Sink) deliverResent(ctx context.Context, b *wire.Batch) (Result, bool, error) {
	s.resent.Lock()
	defer s.resent.Unlock()
	s.mu.Lock()
	mine := b.Seq <= s.delivered[b.Agent]
	s.mu.Unlock()
	if mine {
		return Result{}, false, nil
	}
	held, err := s.store.Delivered(ctx)
	if err != nil {
		return Result{}, true, fmt.Errorf("%w: batch %s: %w", ErrUnavailable, b.ID(), err)
	}
	if b.Seq <= held[b.Agent] {
		s.observeResent(b, true)
		return Result{Duplicate: true}, true, nil
	}
	d, err := s.resentDelta(b)
	if err != nil {
		return Result{}, true, err
	}
	if _, err := s.store.Apply(context.WithoutCancel(ctx), d); err != nil {
		return Result{}, true, fmt.Errorf("%w: commit batch %s: %w", ErrUnavailable, b.ID(), err)
	}
	s.mu.Lock()
	s.delivered[b.Agent] = max(s.delivered[b.Agent], b.Seq)
	s.mu.Unlock()
	s.observeResent(b, false)
	return Result{}, true, nil
}

// resentDelta is one batch's records as a delta of their own.
func (s *Sink) resentDelta(b *wire.Batch) (*baseline.Delta, error) {
	l, err := s.opts.NewLearner()
	if err != nil {
		return nil, err
	}
	l.AddAll(b.Records)
	l.Release() // nothing waits: the batch is committed whole now
	d := l.Take()
	if d == nil {
		d = &baseline.Delta{}
	}
	d.Workloads, d.Cluster = maps.Clone(d.Workloads), nil // the main learner keeps the cluster facts
	d.Delivered, d.Resent = map[string]uint64{b.Agent: b.Seq}, true
	d.ReplaceWaiting, d.Waiting = false, nil
	return d, nil
}

// observeResent counts a batch sent again in the metrics; the rest of
// them the loop keeps.
func (s *Sink) observeResent(b *wire.Batch, dup bool) {
	m := s.opts.Metrics
	if m == nil {
		return
	}
	if dup {
		m.batches.WithLabelValues("duplicate").Inc()
		return
	}
	m.batches.WithLabelValues("accepted").Inc()
	m.records.WithLabelValues(b.Node).Add(float64(len(b.Records)))
}

// forget takes back the last batches a failed commit would have held, so
// that the agents' sending them again adds them again.
func (s *Sink) forget(g *group) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for agent, seq := range g.changed {
		if s.delivered[agent] == seq {
			s.delivered[agent] = g.prev[agent]
		}
	}
}
