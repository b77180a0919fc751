package kubestate

import (
	"net/netip"
	"testing"
)

// TestShardsPublished checks that what was published stays as it was
// while the writer goes on: were a published shard changed in place,
// Place would read a map being written.
func TestShardsPublished(t *testing.T) {
	a, b := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("fd00::1")
	x, y := &addrInfo{svc: true}, &addrInfo{noPort: 7}
	many := map[netip.Addr]*addrInfo{a: x} // in most shards, several in a block
	for i := range 5000 {
		many[netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)})] = y
	}
	tests := []struct {
		name  string
		write func(*addrTable)
		want  map[netip.Addr]*addrInfo // the new publish; the old keeps {a: x}
	}{
		{"set another", func(t *addrTable) { t.set(b, y) }, map[netip.Addr]*addrInfo{a: x, b: y}},
		{"replace", func(t *addrTable) { t.set(a, y) }, map[netip.Addr]*addrInfo{a: y}},
		{"delete", func(t *addrTable) { t.delete(a) }, map[netip.Addr]*addrInfo{a: nil}},
		{"delete absent", func(t *addrTable) { t.delete(b) }, map[netip.Addr]*addrInfo{a: x, b: nil}},
		{"set many", func(t *addrTable) {
			for k, v := range many {
				t.set(k, v)
			}
		}, many},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tab := newAddrTable()
			tab.set(a, x)
			old := tab.publish(frozenAddrs{})
			tt.write(&tab)
			cur := tab.publish(old)
			if got := old.get(a); got != x {
				t.Errorf("published before: %v = %p, want %p", a, got, x)
			}
			for k, want := range tt.want {
				if got := old.get(k); k != a && got != nil {
					t.Fatalf("published before: %v = %p, want none", k, got)
				}
				if got := cur.get(k); got != want {
					t.Errorf("published after: %v = %p, want %p", k, got, want)
				}
			}
		})
	}
}

// TestAddrTableMany checks that a published table finds each of many
// addresses, sharing shards and probing past each other, and none it
// was not given.
func TestAddrTableMany(t *testing.T) {
	tab := newAddrTable()
	infos := map[netip.Addr]*addrInfo{}
	for i := range 20_000 {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		infos[a] = &addrInfo{noPort: 1}
		tab.set(a, infos[a])
	}
	pub := tab.publish(frozenAddrs{})
	for a, want := range infos {
		if got := pub.get(a); got != want {
			t.Fatalf("%v = %p, want %p", a, got, want)
		}
	}
	for _, a := range []netip.Addr{netip.MustParseAddr("0.0.0.0"), netip.MustParseAddr("10.1.0.0"), netip.MustParseAddr("192.168.0.1")} {
		if got := pub.get(a); got != nil {
			t.Errorf("%v = %p, want none", a, got)
		}
	}
}
