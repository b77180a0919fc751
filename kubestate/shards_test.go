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
	tests := []struct {
		name  string
		write func(*addrTable)
		want  map[netip.Addr]*addrInfo // the new publish; the old keeps {a: x}
	}{
		{"set another", func(t *addrTable) { t.set(b, y) }, map[netip.Addr]*addrInfo{a: x, b: y}},
		{"replace", func(t *addrTable) { t.set(a, y) }, map[netip.Addr]*addrInfo{a: y}},
		{"delete", func(t *addrTable) { t.delete(a) }, map[netip.Addr]*addrInfo{a: nil}},
		{"delete absent", func(t *addrTable) { t.delete(b) }, map[netip.Addr]*addrInfo{a: x, b: nil}},
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
			if got := old.get(b); got != nil {
				t.Errorf("published before: %v = %p, want none", b, got)
			}
			for k, want := range tt.want {
				if got := cur.get(k); got != want {
					t.Errorf("published after: %v = %p, want %p", k, got, want)
				}
			}
		})
	}
}
