package kubestate

import "net/netip"

// addrTable maps addresses to what they are; IPv4 addresses, the most,
// by their four bytes, which hash and compare faster than a netip.Addr.
type addrTable struct {
	v4 map[[4]byte]*addrInfo
	v6 map[netip.Addr]*addrInfo
}

func newAddrTable() addrTable {
	return addrTable{v4: map[[4]byte]*addrInfo{}, v6: map[netip.Addr]*addrInfo{}}
}

func (t addrTable) get(a netip.Addr) *addrInfo {
	if a.Is4() {
		return t.v4[a.As4()]
	}
	return t.v6[a]
}

func (t addrTable) set(a netip.Addr, info *addrInfo) {
	if a.Is4() {
		t.v4[a.As4()] = info
		return
	}
	t.v6[a] = info
}

func (t addrTable) delete(a netip.Addr) {
	if a.Is4() {
		delete(t.v4, a.As4())
		return
	}
	delete(t.v6, a)
}
