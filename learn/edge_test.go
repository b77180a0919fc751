package learn

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/flowpol/flowpol/baseline"
)

// TestCellLikeScan: edge.cell, which keeps the newest cell apart and skips
// the search for a start past the latest, hands out the same cells, in
// the same order, as a search of every cell would, for starts in order,
// out of order and repeated, across takes. If it failed, a record would
// open a second cell for a bucket, or add to the wrong one.
func TestCellLikeScan(t *testing.T) {
	tests := []struct {
		name   string
		starts func(r *rand.Rand, i int) int64
	}{
		{"in order", func(_ *rand.Rand, i int) int64 { return int64(i/7) * 60 }},
		{"mostly in order", func(r *rand.Rand, i int) int64 { return int64(i/5-r.IntN(3)) * 60 }},
		{"any order", func(r *rand.Rand, _ int) int64 { return int64(r.IntN(20)) * 60 }},
		{"few", func(r *rand.Rand, _ int) int64 { return int64(r.IntN(2)) * 60 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			var e edge
			var want []baseline.Cell
			for i := range 2000 {
				start, ms := tt.starts(r, i), uint32(r.IntN(60_000))
				c := e.cell(start, ms)
				c.Client++
				c.FirstMS, c.LastMS = min(c.FirstMS, ms), max(c.LastMS, ms)
				j := slices.IndexFunc(want, func(c baseline.Cell) bool { return c.Start == start })
				if j < 0 {
					want = append(want, baseline.Cell{Start: start, FirstMS: ms, LastMS: ms})
					j = len(want) - 1
				}
				want[j].Client++
				want[j].FirstMS, want[j].LastMS = min(want[j].FirstMS, ms), max(want[j].LastMS, ms)
				if r.IntN(300) == 0 || i == 1999 {
					var d baseline.EdgeDelta
					if e.take(&d); !slices.Equal(d.Cells, want) {
						t.Fatalf("after %d records: cells %+v, want %+v", i+1, d.Cells, want)
					}
					want = nil
				}
			}
		})
	}
}

// TestSetLikeContains: podSet.add, which holds the first values in the
// set itself and the rest apart, keeps what a plain bounded list of
// distinct non-zero values would, and says which values were new. If it
// failed, an edge would list a pod or process twice, or lose one.
func TestSetLikeContains(t *testing.T) {
	tests := []struct {
		name   string
		values int
		limit  int
	}{
		{"one value", 1, 16}, {"a few", 3, 16}, {"many", 40, 16}, {"limit one", 5, 1}, {"with zero", 2, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(3, 4))
			var s podSet
			var seen, fresh, got []uint64
			for i := range 500 {
				v := uint64(r.IntN(tt.values + 1)) // zero too
				note(&got, v, s.add(v, tt.limit))
				if v != 0 && len(seen) < tt.limit && !slices.Contains(seen, v) {
					seen, fresh = append(seen, v), append(fresh, v)
				}
				if r.IntN(50) == 0 || i == 499 {
					if !slices.Equal(got, fresh) {
						t.Fatalf("after %d values: added %v, want %v", i+1, got, fresh)
					}
					got, fresh = nil, nil
				}
			}
			if !slices.Equal(s.values(), seen) {
				t.Errorf("seen %v, want %v", s.values(), seen)
			}
		})
	}
}

// TestStrSetLikeContains: strSet.add, which looks for the same string in
// memory before comparing bytes, keeps what a plain bounded list of
// distinct non-empty strings would, whether a value comes as the string
// first added or as a copy of it. If it failed, an edge would list a node
// or process twice, or lose one.
func TestStrSetLikeContains(t *testing.T) {
	names := []string{"", "node-0001", "node-0002", "node-0003", "node-0004", "n", "a-longer-node-name"}
	tests := []struct {
		name  string
		limit int
		copy  bool // values come as copies, not the strings first added
	}{
		{"interned", 16, false}, {"copies", 16, true}, {"limit two", 2, false}, {"limit two, copies", 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(5, 6))
			var s strSet
			var want, added, wantAdded []string
			for range 500 {
				v := names[r.IntN(len(names))]
				if tt.copy || r.IntN(4) == 0 {
					v = strings.Clone(v)
				}
				note(&added, v, s.add(v, tt.limit))
				if v != "" && len(want) < tt.limit && !slices.Contains(want, v) {
					want, wantAdded = append(want, v), append(wantAdded, v)
				}
			}
			if !slices.Equal(s.values(), want) || !slices.Equal(added, wantAdded) {
				t.Errorf("seen %q, added %q; want %q, %q", s.values(), added, want, wantAdded)
			}
		})
	}
}
