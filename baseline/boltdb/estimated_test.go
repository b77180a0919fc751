package boltdb

import (
	"bytes"
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/flowpol/flowpol/baseline"
)

func estCell(at time.Time, client, server, est uint64) baseline.Cell {
	c := cell(at, client, server)
	c.Estimated = est
	return c
}

// TestWindowEstimated: a window's estimated count is, per bucket, the
// estimated connections up to the excess of the client count over the
// server count, summed; deltas add up in a bucket; and the minute tier
// and the hour tier it rolls into give the same. If it failed, evidence
// would call exact counts estimated, or the other way round, or lose the
// mark when a baseline ages.
func TestWindowEstimated(t *testing.T) {
	tests := []struct {
		name         string
		deltas       [][]baseline.Cell
		count, estim uint64
	}{
		{"all estimated", [][]baseline.Cell{{estCell(t0, 4, 0, 4)}}, 4, 4},
		{"none estimated", [][]baseline.Cell{{estCell(t0, 4, 0, 0)}}, 4, 0},
		{"servers reported more", [][]baseline.Cell{{estCell(t0, 4, 0, 4)}, {estCell(t0.Add(time.Second), 0, 5, 0)}}, 5, 0},
		{"servers reported part", [][]baseline.Cell{{estCell(t0, 6, 0, 6)}, {estCell(t0.Add(time.Second), 0, 2, 0)}}, 6, 4},
		{"exact and estimated parts", [][]baseline.Cell{{estCell(t0, 3, 3, 0)}, {estCell(t0.Add(time.Second), 2, 0, 2)}}, 5, 2},
		{"buckets sum", [][]baseline.Cell{{estCell(t0, 2, 0, 2), estCell(t0.Add(10*time.Minute), 3, 3, 0), estCell(t0.Add(70*time.Minute), 1, 0, 1)}}, 6, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := t0.Add(3 * time.Hour)
			r, _ := baseline.ParseRetention("1m:4h,1h:30d")
			s := openTest(t, Options{Retention: r, Now: func() time.Time { return now }})
			for _, cells := range tt.deltas {
				apply(t, s, &baseline.Delta{Edges: []baseline.EdgeDelta{{Edge: webEdge, Cells: cells}}})
			}
			check := func(tier string) {
				t.Helper()
				w := window(t, s, t0.Add(-time.Hour), t0.Add(3*time.Hour))
				if len(w.Edges) != 1 || w.Edges[0].Count != tt.count || w.Edges[0].Estimated != tt.estim {
					t.Fatalf("%s: edges %+v, want count %d, %d estimated", tier, w.Edges, tt.count, tt.estim)
				}
			}
			check("minutes")
			now = t0.Add(48 * time.Hour)
			if _, err := s.Retain(context.Background(), now); err != nil {
				t.Fatal(err)
			}
			if w := window(t, s, t0.Add(-time.Hour), t0.Add(3*time.Hour)); len(w.Resolution) == 0 || w.Resolution[0].Bucket != time.Hour {
				t.Fatalf("resolution %+v, want the hour tier", w.Resolution)
			}
			check("hours")
		})
	}
}

// TestBlockNoEstimates: a block with no estimated count encodes as schema
// 2 wrote it (bitmap, moments, counts, nothing after), and one with some
// carries one more uvarint per cell set. If it failed, a file would grow
// for nothing or schema-2 files would not read.
func TestBlockNoEstimates(t *testing.T) {
	b := newBlock(60)
	b.add(3, cellAt{client: 5, server: 2, first: 180_000, last: 180_010})
	b.add(40, cellAt{client: 1, server: 1, first: 2_400_000, last: 2_400_000})
	plain := b.encode()
	want := []byte{0, 0, 0, 0, 0, 0, 0, 0} // bitmap: cells 3 and 40
	want[0], want[5] = 1<<3, 1<<0
	for _, v := range []uint64{180_000, 2_400_000, 5, 5 ^ 2, 1, 0} {
		want = binary.AppendUvarint(want, v)
	}
	if !bytes.Equal(plain, want) {
		t.Fatalf("block %x, want %x", plain, want)
	}
	b.add(40, cellAt{client: 2, est: 2, first: 2_400_001, last: 2_400_001})
	withEst := b.encode()
	blk, err := decodeBlock(withEst, 60)
	if err != nil || blk.est[3] != 0 || blk.est[40] != 2 || blk.client[40] != 3 {
		t.Fatalf("decoded %+v (%v), want 2 estimated of 3 in cell 40", blk, err)
	}
	for cut := len(plain) + 1; cut < len(withEst); cut++ { // at len(plain), a block without estimates
		if _, err := decodeBlock(withEst[:cut], 60); err == nil {
			t.Errorf("block cut to %d bytes decodes", cut)
		}
		if _, err := sumBlock(withEst[:cut], 60, 0, 60, false); err == nil {
			t.Errorf("block cut to %d bytes sums", cut)
		}
	}
	bad := append(bytes.Clone(plain), 0, 0)
	if _, err := decodeBlock(bad, 60); err == nil {
		t.Error("an estimates section of zeros decodes")
	}
	over := append(bytes.Clone(plain), 6, 0)
	if _, err := decodeBlock(over, 60); err == nil {
		t.Error("an estimate above the client count decodes")
	}
}
