package resolve

import (
	"hash/maphash"

	"github.com/flowpol/flowpol/internal/openmap"
)

// uidMap indexes pods by uid, in a map whose lookups can be asked for
// ahead: the slot (prefetchSlot), then the entry (prefetchRef).
type uidMap struct {
	seed maphash.Seed
	m    openmap.Strings[podRef]
}

func newUIDMap() uidMap { return uidMap{seed: maphash.MakeSeed()} }

func (m *uidMap) hash(uid string) uint64 { return maphash.String(m.seed, uid) }

func (m *uidMap) get(uid string) (podRef, bool) {
	if ref := m.m.Get(m.hash(uid), uid); ref != nil {
		return *ref, true
	}
	return podRef{}, false
}

func (m *uidMap) set(uid string, ref podRef) { m.m.Put(m.hash(uid), uid, ref) }

// prefetchSlot asks for the memory where uid's lookup begins.
func (m *uidMap) prefetchSlot(uid string) { m.m.Prefetch(m.hash(uid)) }

// prefetchRef asks for uid's entry, once its slot has had time to arrive.
func (m *uidMap) prefetchRef(uid string) { m.m.PrefetchEntry(m.hash(uid)) }
