package resolve

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/flowpol/flowpol/internal/synth"
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

// TestPlaceLikeUncached: a resolver that remembers the last source address
// places a synthetic cluster's flows (with Service ports it lacks, so
// unresolved ends too) as one that looks every address up. If it failed,
// a record would take the source of the one before it.
func TestPlaceLikeUncached(t *testing.T) {
	opts := synth.HeldOut()
	opts.Workloads = 200
	c, err := synth.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := c.Records(20_000)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) < 20_000 {
		t.Fatalf("read %d records, want 20000", len(recs))
	}
	cached, uncached := New(c.Inventory(), Options{}), New(c.Inventory(), Options{})
	var p, q Placement
	for n := range recs {
		rec := &recs[n]
		cached.Place(rec, &p)
		uncached.lastSrcOK = false
		uncached.Place(rec, &q)
		if p.Src != q.Src || !slices.Equal(p.Dsts, q.Dsts) || p.Unknown != q.Unknown {
			t.Fatalf("record %d: placed %+v, uncached %+v", n+1, p, q)
		}
	}
}
