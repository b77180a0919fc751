package openmap

import (
	"math/rand/v2"
	"testing"
)

// addr is a key like an IPv4 address's 32 bits.
type addr uint32

func (a addr) Hash() uint64 { return uint64(a) * 0x9E3779B97F4A7C15 }

// pair is a key of several fields, like an edge's ends, port and
// protocol.
type pair struct {
	src, dst uint32
	port     uint16
	proto    uint8
}

func (p pair) Hash() uint64 {
	h := (uint64(p.src)<<32 | uint64(p.dst)) * 0x9E3779B97F4A7C15
	return (h ^ uint64(p.port)<<8 ^ uint64(p.proto)) * 0xD6E8FEB86659FD93
}

// TestMapLikeGoMap: as a Map grows from empty to tens of thousands of
// keys, some put twice, it finds each key's latest value, nothing for a
// key never put, and yields every key once, as a Go map would. The keys
// are a pod range's addresses in order and others at random, and keys
// that differ in one field only. If it failed, growing would lose keys or
// a lookup would find another key's value.
func TestMapLikeGoMap(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	t.Run("addresses", func(t *testing.T) {
		var keys []addr
		for i := range 20_000 {
			keys = append(keys, addr(10<<24|244<<16|i))
		}
		for range 20_000 {
			keys = append(keys, addr(rnd.Uint32()))
		}
		keys = append(keys, 0)
		keys = append(keys, keys[:1000]...) // put again, to a new value
		absent := func() addr { return addr(10<<24 | rnd.Uint32()>>8) }
		checkLikeGoMap(t, keys, absent)
	})
	t.Run("pairs", func(t *testing.T) {
		keys := []pair{{}}
		for i := range 20_000 {
			keys = append(keys,
				pair{src: uint32(i), dst: 7, port: 80, proto: 6},
				pair{src: 7, dst: uint32(i), port: 80, proto: 6},
				pair{src: rnd.Uint32(), dst: rnd.Uint32(), port: uint16(i), proto: 17})
		}
		for port := range uint16(2_000) {
			keys = append(keys, pair{src: 9, dst: 9, port: port, proto: 6}, pair{src: 9, dst: 9, port: port, proto: 17})
		}
		absent := func() pair { return pair{src: rnd.Uint32N(30_000), dst: rnd.Uint32N(30_000), port: 80, proto: 6} }
		checkLikeGoMap(t, keys, absent)
	})
}

// checkLikeGoMap puts keys in order into a Map and a Go map, checking
// after every 997 puts, and at the end, that the Map has what the Go map
// has; then that 20,000 keys from absent find what the Go map does.
func checkLikeGoMap[K Key](t *testing.T, keys []K, absent func() K) {
	t.Helper()
	var m Map[K, int]
	want := map[K]*int{}
	for i, k := range keys {
		v := new(int)
		*v = i
		m.Put(k, v)
		want[k] = v
		if i%997 == 0 || i == len(keys)-1 {
			for k, w := range want {
				if got := m.Get(k); got != w {
					t.Fatalf("after %d puts, %v: %p, want %p", i+1, k, got, w)
				}
			}
		}
	}
	if m.Len() != len(want) {
		t.Errorf("Len %d, want %d", m.Len(), len(want))
	}
	seen := map[K]bool{}
	for k, v := range m.All() {
		if seen[k] || v != want[k] {
			t.Fatalf("All yields %v (seen before: %v) with %p, want once with %p", k, seen[k], v, want[k])
		}
		seen[k] = true
	}
	if len(seen) != len(want) {
		t.Errorf("All yields %d keys, want %d", len(seen), len(want))
	}
	for range 20_000 {
		if k := absent(); m.Get(k) != want[k] {
			t.Fatalf("%v: %p, want %p", k, m.Get(k), want[k])
		}
	}
}

// TestReserve: a Map that reserved room for n keys, empty or not, takes
// them without growing, and finds every key it held before. If it failed,
// a table built to a known size would grow as it filled, or lose keys.
func TestReserve(t *testing.T) {
	for _, tt := range []struct{ before, n int }{{0, 0}, {0, 1}, {0, 8}, {0, 9}, {0, 146}, {5, 146}, {100, 20}, {3000, 5000}} {
		var m Map[addr, int]
		for i := range tt.before {
			m.Put(addr(i), new(int))
		}
		m.Reserve(tt.n)
		slots := len(m.slots)
		for i := range max(tt.n, tt.before) {
			if m.Get(addr(i)) == nil {
				m.Put(addr(i), new(int))
			}
		}
		switch {
		case len(m.slots) != slots:
			t.Errorf("%d keys, room for %d: grew from %d slots to %d", tt.before, tt.n, slots, len(m.slots))
		case m.Len() != max(tt.n, tt.before):
			t.Errorf("%d keys, room for %d: Len %d", tt.before, tt.n, m.Len())
		case tt.n > 0 && 2*tt.n > len(m.slots):
			t.Errorf("room for %d in %d slots: more than half full", tt.n, len(m.slots))
		}
	}
}

// TestEmpty: the zero Map finds nothing, yields nothing and may be asked
// to prefetch. If it failed, a map nobody put to would panic.
func TestEmpty(t *testing.T) {
	var m Map[addr, int]
	m.Prefetch(1)
	if m.Get(1) != nil || m.Len() != 0 {
		t.Errorf("Get(1) = %p, Len = %d, want nil and 0", m.Get(1), m.Len())
	}
	for k := range m.All() {
		t.Errorf("All yields %v", k)
	}
}

// BenchmarkGet is the cost of looking up a key at random among a million
// (a table of 2 M slots, larger than the caches), without and with the
// slot of the key 8 lookups ahead asked for.
func BenchmarkGet(b *testing.B) {
	var m Map[addr, int]
	keys := make([]addr, 1<<20)
	for i := range keys {
		keys[i] = addr(i)
		m.Put(keys[i], new(int))
	}
	rand.New(rand.NewPCG(5, 6)).Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	for _, ahead := range []int{0, 8} {
		b.Run(map[int]string{0: "plain", 8: "prefetched"}[ahead], func(b *testing.B) {
			n := 0
			for i := 0; b.Loop(); i++ {
				if ahead > 0 {
					m.Prefetch(keys[(i+ahead)&(len(keys)-1)])
				}
				if m.Get(keys[i&(len(keys)-1)]) != nil {
					n++
				}
			}
			if n == 0 {
				b.Fatal("found nothing")
			}
		})
	}
}
