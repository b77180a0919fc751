package rules

import (
	"math/rand/v2"
	"testing"
)

// TestPortPrefixes checks that the prefixes of a range cover exactly its
// ports, at most 30 of them (a range in 16 bits needs no more), for the
// edge ranges and random ones.
func TestPortPrefixes(t *testing.T) {
	ranges := [][2]uint16{{0, 65535}, {80, 80}, {0, 0}, {65535, 65535}, {1, 65534}, {1024, 2047}, {8000, 9000}, {32768, 60999}}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		a, b := uint16(rng.IntN(65536)), uint16(rng.IntN(65536))
		ranges = append(ranges, [2]uint16{min(a, b), max(a, b)})
	}
	for _, r := range ranges {
		ps := portPrefixes(r[0], r[1])
		if len(ps) > 30 {
			t.Errorf("%d-%d: %d prefixes", r[0], r[1], len(ps))
		}
		covered := make([]int, 65536)
		for _, p := range ps {
			if portBits(p.port, int(p.bits)) != p.port {
				t.Errorf("%d-%d: prefix %d/%d not aligned", r[0], r[1], p.port, p.bits)
			}
			for n := uint32(p.port); n < uint32(p.port)+1<<(16-p.bits); n++ {
				covered[n]++
			}
		}
		for n, c := range covered {
			want := 0
			if uint16(n) >= r[0] && uint16(n) <= r[1] {
				want = 1
			}
			if c != want {
				t.Fatalf("%d-%d: port %d covered %d times, want %d", r[0], r[1], n, c, want)
			}
		}
	}
}
