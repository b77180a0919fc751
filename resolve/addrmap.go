package resolve

import (
	"net/netip"
	"unsafe"

	"github.com/flowpol/flowpol/internal/openmap"
	"github.com/flowpol/flowpol/internal/prefetch"
)

// addrMap indexes addresses. IPv4 ones, the most, are keyed by their 32
// bits, in a map whose lookups can be asked for ahead (prefetchSlot).
type addrMap struct {
	v4 openmap.Map[v4Key, addrInfo]
	v6 map[netip.Addr]*addrInfo
}

func newAddrMap() addrMap {
	return addrMap{v6: map[netip.Addr]*addrInfo{}}
}

func (m *addrMap) get(a netip.Addr) *addrInfo {
	if a.Is4() {
		return m.v4.Get(v4KeyOf(a))
	}
	return m.v6[a]
}

func (m *addrMap) set(a netip.Addr, info *addrInfo) {
	if a.Is4() {
		m.v4.Put(v4KeyOf(a), info)
		return
	}
	m.v6[a] = info
}

// prefetchSlot asks for the memory where a's lookup begins.
func (m *addrMap) prefetchSlot(a netip.Addr) {
	if a.Is4() {
		m.v4.Prefetch(v4KeyOf(a))
	}
}

// prefetchInfo asks for the memory of what a is, when it is in the
// cluster.
func (m *addrMap) prefetchInfo(a netip.Addr) {
	if a.Is4() {
		if info := m.v4.Get(v4KeyOf(a)); info != nil {
			prefetch.Range(unsafe.Pointer(info), unsafe.Sizeof(*info))
		}
	}
}

// v4Key is an IPv4 address's 32 bits.
type v4Key uint32

func v4KeyOf(a netip.Addr) v4Key {
	b := a.As4()
	return v4Key(b[0])<<24 | v4Key(b[1])<<16 | v4Key(b[2])<<8 | v4Key(b[3])
}

// Hash multiplies the bits by 2⁶⁴ over the golden ratio, which spreads
// addresses that differ only in their low bits (a pod range's) over the
// whole map.
func (k v4Key) Hash() uint64 { return uint64(k) * 0x9E3779B97F4A7C15 }
