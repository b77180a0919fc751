package boltdb

import (
	"bytes"
	"slices"
	"sync"
)

// edgeCache is what the file holds of the edges Apply has touched: their
// ids, records and moments seen, so that an edge seen again is neither
// looked up nor decoded again, and not written when the delta adds nothing
// to it. Apply holds mu from before its transaction until the cache is
// brought up to date after the commit, so the cache only ever says what a
// committed transaction left. Retention may remove edges: a transaction
// that ran it does not read the cache, and empties it once committed.
type edgeCache struct {
	mu    sync.Mutex
	edges map[string]*edgeState // by edge key
	// buf is what one Apply after another reuses, under mu.
	buf applyBuf
}

// applyBuf is Apply's scratch: the delta's edge keys, their order and
// ids, and the merging of its cells.
type applyBuf struct {
	keyBuf []byte
	keys   [][]byte
	ids    []uint64
	order  []int
	merge  mergeBuf
}

// resize returns s with n elements, reusing its array when it has room.
func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// edgeState is what is known of an edge: its id and record and, when
// hasSeen, its moments seen.
type edgeState struct {
	id      uint64
	rec     *edgeRecord
	seen    seen
	hasSeen bool
}

// edgeTx is one transaction's view of the edges: what it changed, over
// the cache (nil when the transaction must not trust it). Apply takes a
// delta's edges in key order, so the one edge a delta could name twice
// is the last changed.
type edgeTx struct {
	cache   *edgeCache
	changes []edgeChange
	buf     *applyBuf
}

// edgeChange is an edge's state as the transaction leaves it, and the
// cache's entry it replaces (nil when the cache has none).
type edgeChange struct {
	key    []byte
	state  edgeState
	cached *edgeState
}

// newEdgeTx starts a transaction's view over c, with c's scratch; nil c
// is no cache and scratch of its own.
func newEdgeTx(c *edgeCache) *edgeTx {
	if c == nil {
		return &edgeTx{buf: &applyBuf{}}
	}
	c.buf.merge.reset()
	return &edgeTx{cache: c, buf: &c.buf}
}

// lookup returns an edge's state as the transaction or the cache holds
// it, and the cache's entry.
func (t *edgeTx) lookup(key []byte) (edgeState, *edgeState, bool) {
	if n := len(t.changes); n > 0 && bytes.Equal(t.changes[n-1].key, key) {
		return t.changes[n-1].state, t.changes[n-1].cached, true
	}
	if t.cache == nil {
		return edgeState{}, nil, false
	}
	if e := t.cache.edges[string(key)]; e != nil {
		return *e, e, true
	}
	return edgeState{}, nil, false
}

// note records an edge's new state; cached is the cache's entry for it.
func (t *edgeTx) note(key []byte, s edgeState, cached *edgeState) {
	if n := len(t.changes); n > 0 && bytes.Equal(t.changes[n-1].key, key) {
		t.changes[n-1].state = s
		return
	}
	t.changes = append(t.changes, edgeChange{key: key, state: s, cached: cached})
}

// commit brings the cache up to date with a committed transaction; reset
// empties it first (the transaction ran retention).
func (c *edgeCache) commit(t *edgeTx, reset bool) {
	if reset || c.edges == nil {
		c.edges = map[string]*edgeState{}
	}
	for _, ch := range t.changes {
		if ch.cached != nil && !reset {
			*ch.cached = ch.state
			continue
		}
		s := ch.state
		c.edges[string(ch.key)] = &s
	}
}

// clone copies a record, so that merging into the copy leaves the cached
// one as committed.
func (r *edgeRecord) clone() *edgeRecord {
	out := *r
	out.srcPods, out.dstPods = slices.Clone(r.srcPods), slices.Clone(r.dstPods)
	out.nodes, out.srcComms, out.dstComms = slices.Clone(r.nodes), slices.Clone(r.srcComms), slices.Clone(r.dstComms)
	return &out
}
