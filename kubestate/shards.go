package kubestate

import (
	"encoding/binary"
	"hash/maphash"
	"maps"
	"math/bits"
	"net/netip"
	"slices"
)

// shards is a map split by key hash into shards, written by the handlers,
// which remembers the shards changed since the last publish. Publishing
// builds again only those, for readers that take no lock: an event thus
// copies the few shards it touches, not the table.
type shards[K comparable, V any] struct {
	shift  uint8 // a key's shard is its 64-bit hash >> shift
	m      []map[K]V
	dirty  []uint64 // the shards changed since the last publish, each once
	marked []bool
}

func newShards[K comparable, V any](bits uint8) shards[K, V] {
	s := shards[K, V]{shift: 64 - bits, m: make([]map[K]V, 1<<bits), marked: make([]bool, 1<<bits)}
	for i := range s.m {
		s.m[i] = map[K]V{}
	}
	return s
}

func (s *shards[K, V]) get(h uint64, k K) (V, bool) {
	v, ok := s.m[h>>s.shift][k]
	return v, ok
}

func (s *shards[K, V]) set(h uint64, k K, v V) {
	i := h >> s.shift
	s.m[i][k] = v
	s.mark(i)
}

func (s *shards[K, V]) delete(h uint64, k K) {
	i := h >> s.shift
	if _, ok := s.m[i][k]; ok {
		delete(s.m[i], k)
		s.mark(i)
	}
}

func (s *shards[K, V]) mark(i uint64) {
	if !s.marked[i] {
		s.marked[i] = true
		s.dirty = append(s.dirty, i)
	}
}

// blockBits splits the published shards into blocks of 1<<blockBits, so
// that publishing copies the list of blocks and the blocks it changes, a
// few hundred bytes, rather than every shard's pointer.
const blockBits = 4

// publishShards returns was with the shards of s changed since the last
// publish built again by build; was itself is left as it is, for the
// readers that still hold it. A nil was is built whole.
func publishShards[K comparable, V, P any](s *shards[K, V], was [][]P, build func(map[K]V) P) [][]P {
	if was == nil {
		out := make([][]P, len(s.m)>>blockBits)
		for i, m := range s.m {
			if i&(1<<blockBits-1) == 0 {
				out[i>>blockBits] = make([]P, 1<<blockBits)
			}
			out[i>>blockBits][i&(1<<blockBits-1)] = build(m)
		}
		s.clean()
		return out
	}
	if len(s.dirty) == 0 {
		return was
	}
	out := slices.Clone(was)
	for _, i := range s.dirty {
		b := i >> blockBits
		if &out[b][0] == &was[b][0] {
			out[b] = slices.Clone(was[b])
		}
		out[b][i&(1<<blockBits-1)] = build(s.m[i])
	}
	s.clean()
	return out
}

func (s *shards[K, V]) clean() {
	for _, i := range s.dirty {
		s.marked[i] = false
	}
	s.dirty = s.dirty[:0]
}

// frozen is published shards of maps: nobody changes them.
type frozen[K comparable, V any] struct {
	shift uint8
	m     [][]map[K]V // in blocks
}

func (s *shards[K, V]) publish(was frozen[K, V]) frozen[K, V] {
	return frozen[K, V]{shift: s.shift, m: publishShards(s, was.m, maps.Clone[map[K]V])}
}

func (f frozen[K, V]) get(h uint64, k K) (V, bool) {
	v, ok := shardOf(f.m, f.shift, h)[k]
	return v, ok
}

// shardOf is the published shard, in blocks, of a key of hash h: its top
// bits, h >> shift.
func shardOf[P any](blocks [][]P, shift uint8, h uint64) P {
	i := h >> shift
	return blocks[i>>blockBits][i&(1<<blockBits-1)]
}

// v4Shard is a published shard of the IPv4 addresses: slots that hold a
// key beside its value, probed linearly from the hash's middle bits, at most
// half full, so that a lookup mostly reads one cache line after the
// shard's.
type v4Shard struct {
	mask  uint32
	slots []v4Slot
}

type v4Slot struct {
	key  uint32
	info *addrInfo // nil: the slot is free
}

func newV4Shard(m map[[4]byte]*addrInfo) *v4Shard {
	n := uint32(1) << bits.Len(uint(2*len(m)))
	s := &v4Shard{mask: n - 1, slots: make([]v4Slot, n)}
	for k, info := range m {
		key := binary.BigEndian.Uint32(k[:])
		i := s.home(hash4(k))
		for s.slots[i].info != nil {
			i = (i + 1) & s.mask
		}
		s.slots[i] = v4Slot{key: key, info: info}
	}
	return s
}

// home is the slot where the probe of a key of hash h begins.
func (s *v4Shard) home(h uint64) uint32 { return uint32(h>>32) & s.mask }

func (s *v4Shard) get(k [4]byte, h uint64) *addrInfo {
	key := binary.BigEndian.Uint32(k[:])
	for i := s.home(h); ; i = (i + 1) & s.mask {
		if sl := &s.slots[i]; sl.key == key || sl.info == nil {
			return sl.info
		}
	}
}

// The keys' hashes, whose top bits pick the shard.

func hash4(a [4]byte) uint64 { return uint64(binary.BigEndian.Uint32(a[:])) * 0x9E3779B97F4A7C15 }

func hash16(a netip.Addr) uint64 {
	b := a.As16()
	return (binary.BigEndian.Uint64(b[:8])*31 + binary.BigEndian.Uint64(b[8:])) * 0x9E3779B97F4A7C15
}

func hashString(seed maphash.Seed, s string) uint64 { return maphash.String(seed, s) }
