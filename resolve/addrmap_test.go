package resolve

import (
	"net/netip"
	"testing"
)

// TestAddrMapLikeMap: addrMap, which keys IPv4 addresses by their 32 bits,
// finds what a map keyed by netip.Addr would: an IPv4 address and the
// IPv6 address that maps it are distinct, and so is the zero Addr. If it
// failed, a record to one address would resolve to another's end.
func TestAddrMapLikeMap(t *testing.T) {
	addrs := []netip.Addr{
		netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("1.0.0.10"),
		netip.MustParseAddr("::ffff:10.0.0.1"), netip.MustParseAddr("fd00::1"), netip.MustParseAddr("0.0.0.0"),
		netip.MustParseAddr("::"), netip.MustParseAddr("255.255.255.255"), {},
	}
	tests := []struct {
		name string
		set  []int // indexes of addrs to set
	}{
		{"none", nil},
		{"v4 only", []int{0}},
		{"mapped only", []int{3}},
		{"all", []int{0, 1, 2, 3, 4, 5, 6, 7, 8}},
		{"zeros", []int{5, 6, 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, want := newAddrMap(), map[netip.Addr]*addrInfo{}
			for _, i := range tt.set {
				info := &addrInfo{apiPorts: []uint16{uint16(i)}}
				m.set(addrs[i], info)
				want[addrs[i]] = info
			}
			for _, a := range addrs {
				if got := m.get(a); got != want[a] {
					t.Errorf("%v: %p, want %p", a, got, want[a])
				}
			}
		})
	}
}
