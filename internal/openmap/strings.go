package openmap

import (
	"unsafe"

	"github.com/flowpol/flowpol/internal/prefetch"
)

// Strings maps strings to values, each string by a hash its caller gives
// (equal strings, equal hashes; maphash's, say). Finding a string's
// entry compares hashes only, and an entry holds a string of up to
// InlineBytes in itself, so that a lookup reads a slot and an entry and
// no other memory; both can be asked for ahead (Prefetch, then
// PrefetchEntry). Strings of equal hashes share a slot, chained. The zero
// value is an empty map ready to use. Lookups (Get, Len and the
// prefetches) may run at once; Put must run alone.
type Strings[V any] struct {
	m Map[hashKey, entry[V]]
}

// InlineBytes is the longest string an entry holds in itself: a UUID's
// 36 characters, as Kubernetes names its objects, fit.
const InlineBytes = 40

// hashKey is a caller's hash, mixed again so that hashes whose top bits
// are equal (a shard's, picked by them) still spread over the slots.
type hashKey uint64

func (h hashKey) Hash() uint64 { return uint64(h) * 0x9E3779B97F4A7C15 }

// entry is a string and its value; next is another string of the same
// hash. A string longer than InlineBytes is held in long.
type entry[V any] struct {
	v    V
	next *entry[V]
	long string
	n    uint8
	b    [InlineBytes]byte
}

func (e *entry[V]) is(s string) bool {
	if len(s) > InlineBytes {
		return e.long == s
	}
	return e.long == "" && string(e.b[:e.n]) == s
}

// Get returns s's value, nil when it has none; h is s's hash.
func (m *Strings[V]) Get(h uint64, s string) *V {
	for e := m.m.Get(hashKey(h)); e != nil; e = e.next {
		if e.is(s) {
			return &e.v
		}
	}
	return nil
}

// Put sets s's value; h is s's hash.
func (m *Strings[V]) Put(h uint64, s string, v V) {
	first := m.m.Get(hashKey(h))
	for e := first; e != nil; e = e.next {
		if e.is(s) {
			e.v = v
			return
		}
	}
	e := &entry[V]{v: v, next: first}
	if len(s) > InlineBytes {
		e.long = s
	} else {
		e.n = uint8(copy(e.b[:], s))
	}
	m.m.Put(hashKey(h), e)
}

// Reserve makes room for n strings of distinct hashes in all, so that
// putting up to n grows the map no more.
func (m *Strings[V]) Reserve(n int) { m.m.Reserve(n) }

// Len returns how many strings have a value.
func (m *Strings[V]) Len() int {
	n := 0
	for _, e := range m.m.All() {
		for ; e != nil; e = e.next {
			n++
		}
	}
	return n
}

// Prefetch asks for the slot where the lookup of a string of hash h
// begins.
func (m *Strings[V]) Prefetch(h uint64) { m.m.Prefetch(hashKey(h)) }

// PrefetchEntry asks for the entry of a string of hash h, when there is
// one: call it once Prefetch's slot has had time to arrive.
func (m *Strings[V]) PrefetchEntry(h uint64) {
	if e := m.m.Get(hashKey(h)); e != nil {
		prefetch.Range(unsafe.Pointer(e), unsafe.Sizeof(*e))
	}
}
