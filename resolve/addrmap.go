package resolve

import (
	"net/netip"
	"unsafe"

	"github.com/flowpol/flowpol/internal/prefetch"
)

// addrMap indexes addresses; IPv4 ones, the most, in a v4Table.
type addrMap struct {
	v4 v4Table
	v6 map[netip.Addr]*addrInfo
}

func newAddrMap() addrMap {
	return addrMap{v4: newV4Table(), v6: map[netip.Addr]*addrInfo{}}
}

func (m *addrMap) get(a netip.Addr) *addrInfo {
	if a.Is4() {
		return m.v4.get(v4Key(a))
	}
	return m.v6[a]
}

func (m *addrMap) set(a netip.Addr, info *addrInfo) {
	if a.Is4() {
		m.v4.set(v4Key(a), info)
		return
	}
	m.v6[a] = info
}

// prefetchSlot asks for the memory where a's lookup begins.
func (m *addrMap) prefetchSlot(a netip.Addr) {
	if a.Is4() {
		m.v4.prefetchSlot(v4Key(a))
	}
}

// prefetchInfo asks for the memory of what a is, when it is in the
// cluster.
func (m *addrMap) prefetchInfo(a netip.Addr) {
	if a.Is4() {
		if info := m.v4.get(v4Key(a)); info != nil {
			prefetch.Range(unsafe.Pointer(info), unsafe.Sizeof(*info))
		}
	}
}

func v4Key(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// v4Table is a hash table of IPv4 addresses by their 32 bits, open
// addressing with linear probing, at most half full. Unlike a Go map's,
// where a key's lookup begins is known without a lookup (prefetchSlot),
// so that a loop over records can ask for it a few records ahead. Its
// keys are the cluster's own addresses, set when a resolver is built;
// what it is asked for may be any address.
type v4Table struct {
	slots []v4Slot // a power of two of them
	n     int      // slots in use
	shift uint8    // 32 - log2(len(slots))
}

// v4Slot is a key and its value; a nil info marks it free.
type v4Slot struct {
	info *addrInfo
	key  uint32
}

const v4MinSlots = 16

func newV4Table() v4Table {
	return v4Table{slots: make([]v4Slot, v4MinSlots), shift: 32 - 4}
}

// home is the slot where key's probe begins: the top bits of the key
// times 2³² over the golden ratio, which spreads addresses that differ
// only in their low bits (a pod range's) over the whole table.
func (t *v4Table) home(key uint32) uint32 { return (key * 0x9E3779B9) >> t.shift }

func (t *v4Table) get(key uint32) *addrInfo {
	mask := uint32(len(t.slots) - 1)
	for i := t.home(key); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.info == nil || s.key == key {
			return s.info
		}
	}
}

// set sets key's value; info must not be nil.
func (t *v4Table) set(key uint32, info *addrInfo) {
	if 2*(t.n+1) > len(t.slots) {
		t.grow()
	}
	mask := uint32(len(t.slots) - 1)
	for i := t.home(key); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.info == nil {
			t.n++
			*s = v4Slot{info: info, key: key}
			return
		}
		if s.key == key {
			s.info = info
			return
		}
	}
}

// grow doubles the slots and sets every key again.
func (t *v4Table) grow() {
	old := t.slots
	t.slots, t.n, t.shift = make([]v4Slot, 2*len(old)), 0, t.shift-1
	for _, s := range old {
		if s.info != nil {
			t.set(s.key, s.info)
		}
	}
}

func (t *v4Table) prefetchSlot(key uint32) {
	prefetch.Range(unsafe.Pointer(&t.slots[t.home(key)]), unsafe.Sizeof(v4Slot{}))
}
