package boltdb

import (
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
	mu   sync.Mutex
	ids  map[string]uint64
	recs map[uint64]*edgeRecord
	seen map[uint64]seen
}

// edgeTx is one transaction's view of the edges: what it changed, over
// the cache (nil when the transaction must not trust it).
type edgeTx struct {
	cache *edgeCache
	ids   map[string]uint64
	recs  map[uint64]*edgeRecord
	seen  map[uint64]seen
}

func newEdgeTx(c *edgeCache) *edgeTx {
	return &edgeTx{cache: c, ids: map[string]uint64{}, recs: map[uint64]*edgeRecord{}, seen: map[uint64]seen{}}
}

func (t *edgeTx) id(key []byte) (uint64, bool) {
	if id, ok := t.ids[string(key)]; ok {
		return id, true
	}
	if t.cache == nil {
		return 0, false
	}
	id, ok := t.cache.ids[string(key)]
	return id, ok
}

func (t *edgeTx) rec(id uint64) *edgeRecord {
	if r, ok := t.recs[id]; ok {
		return r
	}
	if t.cache == nil {
		return nil
	}
	return t.cache.recs[id]
}

func (t *edgeTx) seenOf(id uint64) (seen, bool) {
	if s, ok := t.seen[id]; ok {
		return s, true
	}
	if t.cache == nil {
		return seen{}, false
	}
	s, ok := t.cache.seen[id]
	return s, ok
}

// commit brings the cache up to date with a committed transaction; reset
// empties it first (the transaction ran retention).
func (c *edgeCache) commit(t *edgeTx, reset bool) {
	if reset || c.ids == nil {
		c.ids, c.recs, c.seen = map[string]uint64{}, map[uint64]*edgeRecord{}, map[uint64]seen{}
	}
	for k, id := range t.ids {
		c.ids[k] = id
	}
	for id, r := range t.recs {
		c.recs[id] = r
	}
	for id, s := range t.seen {
		c.seen[id] = s
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
