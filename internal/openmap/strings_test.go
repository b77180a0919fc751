package openmap

import (
	"fmt"
	"hash/maphash"
	"strings"
	"testing"
)

// TestStringsLikeGoMap: Strings finds what a Go map would, for uids set
// once and set again, for strings longer than an entry holds and a byte
// shorter than one another, for absent strings, and for strings whose
// hashes are equal, which share a slot. If it failed, a record would
// resolve to another pod's end, or to none.
func TestStringsLikeGoMap(t *testing.T) {
	seed := maphash.MakeSeed()
	hash := func(s string) uint64 { return maphash.String(seed, s) }
	var m Strings[int]
	want := map[string]int{}
	put := func(h uint64, s string, v int) {
		m.Put(h, s, v)
		want[s] = v
	}
	uid := func(i int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i*7919) }
	for i := range 5000 {
		put(hash(uid(i)), uid(i), i)
	}
	for i := 0; i < 5000; i += 3 {
		put(hash(uid(i)), uid(i), -i)
	}
	long := strings.Repeat("u", InlineBytes+1)
	for i, s := range []string{long, long + "x", long[:InlineBytes], long[:InlineBytes-1], ""} {
		put(hash(s), s, 10_000+i)
	}
	// Strings of one hash, one of them set again: a chain.
	const shared = 12345
	for i := range 4 {
		put(shared, fmt.Sprintf("shared-%d", i), 20_000+i)
	}
	put(shared, "shared-1", 30_000)
	put(shared, "shared-"+long, 30_001)
	for s, v := range want {
		h := hash(s)
		if strings.HasPrefix(s, "shared-") {
			h = shared
		}
		if got := m.Get(h, s); got == nil || *got != v {
			t.Errorf("%q: %v, want %d", s, got, v)
		}
	}
	if m.Len() != len(want) {
		t.Errorf("Len %d, want %d", m.Len(), len(want))
	}
	absent := []string{long + "y", long[:InlineBytes-2], strings.Repeat("v", InlineBytes)}
	for i := 5000; i < 6000; i++ {
		absent = append(absent, uid(i))
	}
	for _, s := range absent {
		if got := m.Get(hash(s), s); got != nil {
			t.Errorf("absent %q: %d", s, *got)
		}
	}
	for _, s := range []string{"shared-9", ""} { // "" is not the long one
		if got := m.Get(shared, s); got != nil {
			t.Errorf("absent %q of the shared hash: %d", s, *got)
		}
	}
	var empty Strings[int]
	empty.Prefetch(1)
	empty.PrefetchEntry(1)
	if got := empty.Get(hash("x"), "x"); got != nil || empty.Len() != 0 {
		t.Errorf("empty map: %v, Len %d", got, empty.Len())
	}
}
