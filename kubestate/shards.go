package kubestate

import (
	"encoding/binary"
	"hash/maphash"
	"maps"
	"net/netip"
	"slices"
)

// shards is a map split by key hash into shards, written by the handlers
// and read by Place without a lock: a writer changes only a shard it has
// copied since the last publish, and publish hands out the shards as they
// stand, which nobody changes afterwards. An event thus copies the few
// shards it touches, not the table.
type shards[K comparable, V any] struct {
	shift uint8 // a key's shard is its 64-bit hash >> shift
	cur   []map[K]V
	owned []bool // cur[i] was copied since the last publish
	dirty bool
}

func newShards[K comparable, V any](bits uint8) shards[K, V] {
	return shards[K, V]{shift: 64 - bits, cur: make([]map[K]V, 1<<bits), owned: make([]bool, 1<<bits), dirty: true}
}

func (s *shards[K, V]) get(h uint64, k K) (V, bool) {
	v, ok := s.cur[h>>s.shift][k]
	return v, ok
}

// own returns shard i, copied first unless it was since the last publish.
func (s *shards[K, V]) own(i uint64) map[K]V {
	if !s.owned[i] {
		m := make(map[K]V, len(s.cur[i])+1)
		maps.Copy(m, s.cur[i])
		s.cur[i], s.owned[i], s.dirty = m, true, true
	}
	return s.cur[i]
}

func (s *shards[K, V]) set(h uint64, k K, v V) { s.own(h >> s.shift)[k] = v }

func (s *shards[K, V]) delete(h uint64, k K) {
	i := h >> s.shift
	if _, ok := s.cur[i][k]; ok {
		delete(s.own(i), k)
	}
}

// publish returns the shards as they stand for readers, or was when
// nothing changed since the last publish.
func (s *shards[K, V]) publish(was frozen[K, V]) frozen[K, V] {
	if !s.dirty {
		return was
	}
	clear(s.owned)
	s.dirty = false
	return frozen[K, V]{shift: s.shift, m: slices.Clone(s.cur)}
}

// frozen is a published shards: nobody changes it.
type frozen[K comparable, V any] struct {
	shift uint8
	m     []map[K]V
}

func (f frozen[K, V]) get(h uint64, k K) (V, bool) {
	v, ok := f.m[h>>f.shift][k]
	return v, ok
}

// The keys' hashes, whose top bits pick the shard.

func hash4(a [4]byte) uint64 { return uint64(binary.BigEndian.Uint32(a[:])) * 0x9E3779B97F4A7C15 }

func hash16(a netip.Addr) uint64 {
	b := a.As16()
	return (binary.BigEndian.Uint64(b[:8])*31 + binary.BigEndian.Uint64(b[8:])) * 0x9E3779B97F4A7C15
}

func hashString(seed maphash.Seed, s string) uint64 { return maphash.String(seed, s) }
