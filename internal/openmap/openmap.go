package openmap

import (
	"iter"
	"math/bits"
	"unsafe"

	"github.com/flowpol/flowpol/internal/prefetch"
)

// Key is a map's key. Hash's top bits pick the slot where a lookup
// begins, so they must depend on every bit of the key: a multiply by a
// large odd constant does it.
type Key interface {
	comparable
	Hash() uint64
}

// Map maps keys to pointers. The zero value is an empty map ready to use.
// Lookups (Get, All, Prefetch) may run at once; Put must run alone.
type Map[K Key, V any] struct {
	slots []slot[K, V] // none, or a power of two of them
	n     int          // slots in use
	shift uint8        // 64 - log2(len(slots))
}

// slot is a key and its value; a nil value marks it free.
type slot[K Key, V any] struct {
	v   *V
	key K
}

const minSlots = 16

func (m *Map[K, V]) home(k K) uint64 { return k.Hash() >> m.shift }

// Get returns k's value, nil when it has none.
func (m *Map[K, V]) Get(k K) *V {
	if len(m.slots) == 0 {
		return nil
	}
	mask := uint64(len(m.slots) - 1)
	for i := m.home(k); ; i = (i + 1) & mask {
		if s := &m.slots[i]; s.v == nil || s.key == k {
			return s.v
		}
	}
}

// Put sets k's value; v must not be nil.
func (m *Map[K, V]) Put(k K, v *V) {
	if 2*(m.n+1) > len(m.slots) {
		m.grow()
	}
	mask := uint64(len(m.slots) - 1)
	for i := m.home(k); ; i = (i + 1) & mask {
		s := &m.slots[i]
		if s.v == nil {
			*s = slot[K, V]{v: v, key: k}
			m.n++
			return
		}
		if s.key == k {
			s.v = v
			return
		}
	}
}

// grow doubles the slots, or makes the first ones.
func (m *Map[K, V]) grow() { m.resize(max(2*len(m.slots), minSlots)) }

// Reserve makes room for n keys in all, so that putting up to n grows the
// map no more.
func (m *Map[K, V]) Reserve(n int) {
	if n <= 0 {
		return
	}
	if n := max(minSlots, 1<<bits.Len(uint(2*n-1))); n > len(m.slots) {
		m.resize(n)
	}
}

// resize makes n slots, a power of two, and puts every key again.
func (m *Map[K, V]) resize(n int) {
	old := m.slots
	m.slots, m.n, m.shift = make([]slot[K, V], n), 0, uint8(64-bits.Len(uint(n))+1)
	for _, s := range old {
		if s.v != nil {
			m.Put(s.key, s.v)
		}
	}
}

// Len returns how many keys have a value.
func (m *Map[K, V]) Len() int { return m.n }

// All yields every key and its value, in no particular order.
func (m *Map[K, V]) All() iter.Seq2[K, *V] {
	return func(yield func(K, *V) bool) {
		for _, s := range m.slots {
			if s.v != nil && !yield(s.key, s.v) {
				return
			}
		}
	}
}

// Prefetch asks for the slot where k's lookup begins, without waiting for
// it. It changes nothing Get or Put do.
func (m *Map[K, V]) Prefetch(k K) {
	if len(m.slots) > 0 {
		prefetch.Range(unsafe.Pointer(&m.slots[m.home(k)]), unsafe.Sizeof(slot[K, V]{}))
	}
}
