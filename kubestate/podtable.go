package kubestate

import (
	"hash/maphash"

	"github.com/flowpol/flowpol/internal/openmap"
)

// frozenPods is the pods published for Place, by uid: a shard's pods in a
// table whose slot and entry a lookup reads, and which can be asked for
// ahead of it (prefetchSlot, then prefetchEntry). Nobody puts into a
// published table, so readers share it.
type frozenPods struct {
	seed  maphash.Seed
	shift uint8
	m     [][]*openmap.Strings[podRef] // in blocks
}

// publishPods returns the pods of s as they stand for readers; was is
// what it last returned, whose unchanged shards are kept.
func publishPods(s *shards[string, podRef], seed maphash.Seed, was frozenPods) frozenPods {
	build := func(m map[string]podRef) *openmap.Strings[podRef] {
		t := &openmap.Strings[podRef]{}
		t.Reserve(len(m))
		for uid, ref := range m {
			t.Put(hashString(seed, uid), uid, ref)
		}
		return t
	}
	return frozenPods{seed: seed, shift: s.shift, m: publishShards(s, was.m, build)}
}

func (f *frozenPods) shard(h uint64) *openmap.Strings[podRef] { return shardOf(f.m, f.shift, h) }

func (f *frozenPods) get(uid string) (podRef, bool) {
	h := hashString(f.seed, uid)
	if ref := f.shard(h).Get(h, uid); ref != nil {
		return *ref, true
	}
	return podRef{}, false
}

// prefetchSlot asks for the memory where uid's lookup begins.
func (f *frozenPods) prefetchSlot(uid string) {
	h := hashString(f.seed, uid)
	f.shard(h).Prefetch(h)
}

// prefetchEntry asks for uid's entry, once its slot has had time to
// arrive.
func (f *frozenPods) prefetchEntry(uid string) {
	h := hashString(f.seed, uid)
	f.shard(h).PrefetchEntry(h)
}
