package kubestate

import (
	"net/netip"
	"unsafe"

	"github.com/flowpol/flowpol/internal/prefetch"
)

// addrTable maps addresses to what they are; IPv4 addresses, the most,
// by their four bytes, which hash and compare faster than a netip.Addr.
// The handlers write it; Place reads what it last published.
type addrTable struct {
	v4 shards[[4]byte, *addrInfo]
	v6 shards[netip.Addr, *addrInfo]
}

func newAddrTable() addrTable {
	return addrTable{v4: newShards[[4]byte, *addrInfo](10), v6: newShards[netip.Addr, *addrInfo](4)}
}

func (t *addrTable) get(a netip.Addr) *addrInfo {
	if a.Is4() {
		k := a.As4()
		info, _ := t.v4.get(hash4(k), k)
		return info
	}
	info, _ := t.v6.get(hash16(a), a)
	return info
}

func (t *addrTable) set(a netip.Addr, info *addrInfo) {
	if a.Is4() {
		k := a.As4()
		t.v4.set(hash4(k), k, info)
		return
	}
	t.v6.set(hash16(a), a, info)
}

func (t *addrTable) delete(a netip.Addr) {
	if a.Is4() {
		k := a.As4()
		t.v4.delete(hash4(k), k)
		return
	}
	t.v6.delete(hash16(a), a)
}

func (t *addrTable) dirty() bool { return len(t.v4.dirty) > 0 || len(t.v6.dirty) > 0 }

// publish returns the table as it stands for readers; was is what it
// last returned.
func (t *addrTable) publish(was frozenAddrs) frozenAddrs {
	return frozenAddrs{shift: t.v4.shift, v4: publishShards(&t.v4, was.v4, newV4Shard), v6: t.v6.publish(was.v6)}
}

// frozenAddrs is a published addrTable.
type frozenAddrs struct {
	shift uint8        // of v4
	v4    [][]*v4Shard // in blocks
	v6    frozen[netip.Addr, *addrInfo]
}

func (t *frozenAddrs) get(a netip.Addr) *addrInfo {
	if a.Is4() {
		k := a.As4()
		h := hash4(k)
		return t.shard4(h).get(k, h)
	}
	info, _ := t.v6.get(hash16(a), a)
	return info
}

// shard4 is the shard of an IPv4 address of hash h.
func (t *frozenAddrs) shard4(h uint64) *v4Shard { return shardOf(t.v4, t.shift, h) }

// prefetchSlot asks for the slot where the lookup of a, when it is an
// IPv4 address, begins.
func (t *frozenAddrs) prefetchSlot(a netip.Addr) {
	if a.Is4() {
		h := hash4(a.As4())
		s := t.shard4(h)
		prefetch.Range(unsafe.Pointer(&s.slots[s.home(h)]), unsafe.Sizeof(v4Slot{}))
	}
}

// prefetchInfo asks for what a is, when it is an IPv4 address in the
// cluster.
func (t *frozenAddrs) prefetchInfo(a netip.Addr) {
	if !a.Is4() {
		return
	}
	if info := t.get(a); info != nil {
		prefetch.Range(unsafe.Pointer(info), unsafe.Sizeof(*info))
	}
}
