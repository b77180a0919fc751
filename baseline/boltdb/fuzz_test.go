package boltdb

import (
	"bytes"
	"net/netip"
	"slices"
	"testing"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/topology"
)

// FuzzDecodeEdgeKey: any bytes either decode to an edge whose key is those
// bytes again, or are an error; never a panic. If it failed, a damaged
// file could crash a reader or two keys could name one edge.
func FuzzDecodeEdgeKey(f *testing.F) {
	for _, e := range []topology.Edge{
		webEdge,
		{Src: topology.End{Kind: topology.KindHost, Node: "n", Addr: netip.MustParseAddr("10.0.0.1")}, Dst: topology.End{Kind: topology.KindAPIServer}, Port: 6443, Proto: flow.TCP},
		{Src: topology.End{Kind: topology.KindUnresolved, Addr: netip.MustParseAddr("2001:db8::1"), Reason: topology.ReasonNoBackends}, Dst: topology.End{Kind: topology.KindExternal}, Port: 53, Proto: flow.UDP},
	} {
		f.Add(edgeKey(e))
	}
	f.Fuzz(func(t *testing.T, k []byte) {
		e, err := decodeEdgeKey(k)
		if err != nil {
			return
		}
		if again := edgeKey(e); !bytes.Equal(again, k) {
			t.Errorf("key %x decodes to %v, whose key is %x", k, e, again)
		}
	})
}

// FuzzDecodeBlock: any bytes either decode to a block that encodes to
// them again, with the window's sum (of estimates too) agreeing, or are
// an error.
func FuzzDecodeBlock(f *testing.F) {
	b := newBlock(60)
	b.add(0, cellAt{client: 3, server: 2, first: 10, last: 20})
	b.add(59, cellAt{client: 1 << 40, server: 7, first: 3_540_000, last: 3_599_999})
	f.Add(b.encode(), 60)
	f.Add(b.encode(), 24)
	b.add(30, cellAt{client: 9, est: 4, first: 1_800_000, last: 1_800_001})
	f.Add(b.encode(), 60)
	f.Fuzz(func(t *testing.T, v []byte, n int) {
		if n < 1 || n > 4096 {
			return
		}
		blk, err := decodeBlock(v, n)
		sum, serr := sumBlock(v, n, 0, n, false)
		if (err == nil) != (serr == nil) {
			t.Fatalf("decodeBlock: %v, sumBlock: %v", err, serr)
		}
		if err != nil {
			return
		}
		var est uint64
		for i, set := range blk.set {
			if set {
				est = flow.AddCounts(est, estimatedPart(blockCell{client: blk.client[i], server: blk.server[i], est: blk.est[i]}, false))
			}
		}
		if est != sum.estimated {
			t.Errorf("block %x: estimated %d decoded, %d summed", v, est, sum.estimated)
		}
		if again := blk.encode(); !bytes.Equal(again, v) {
			// Non-minimal varints decode too; the value must then be
			// what the block re-encodes to, read again.
			if blk2, err := decodeBlock(again, n); err != nil || blk2.cells != blk.cells {
				t.Errorf("block %x re-encodes to %x, which reads back as %v", v, again, err)
			}
		}
	})
}

// FuzzMergeBlock: merging cells straight into an encoded block gives the
// bytes decodeBlock, block.add and block.encode give, and refuses
// exactly the values decodeBlock refuses. If it failed, Apply would
// store other counts than the blocks' own arithmetic, or take a damaged
// block for a good one.
func FuzzMergeBlock(f *testing.F) {
	b := newBlock(60)
	b.add(0, cellAt{client: 3, server: 2, first: 10, last: 20})
	b.add(59, cellAt{client: 1 << 40, server: 7, first: 3_540_000, last: 3_599_999})
	f.Add(b.encode(), 60, []byte{0, 1, 2, 3, 59, 255, 255, 0, 30, 4, 1, 2}, false)
	f.Add([]byte{}, 60, []byte{7, 1, 1, 1}, true)
	b.add(30, cellAt{client: 9, est: 4, first: 1_800_000, last: 1_800_001})
	f.Add(b.encode(), 60, []byte{30, 9, 0, 9, 31, 200, 3, 1}, false)
	f.Add(b.encode(), 24, []byte{1, 2, 3, 4}, false)
	f.Fuzz(func(t *testing.T, v []byte, n int, spec []byte, none bool) {
		if n < 1 || n > 4096 || len(spec) < 4 {
			return
		}
		cells := fuzzCells(spec, n)
		blk := newBlock(n)
		var err error
		if !none {
			blk, err = decodeBlock(v, n)
		}
		var m mergeBuf
		key := []byte("k")
		raw := v
		if none {
			raw = nil
		}
		sorted := slices.Clone(cells)
		slices.SortStableFunc(sorted, byIndex)
		got, added, ok := m.mergeValue(key, raw, n, sorted)
		if ok != (err == nil) {
			t.Fatalf("block %x: merged %v, decoded: %v", v, ok, err)
		}
		if !ok {
			return
		}
		want := 0
		for _, c := range cells {
			if blk.add(c.index, c) {
				want++
			}
		}
		body, err := unseal(key, got)
		if err != nil {
			t.Fatal(err)
		}
		if enc := blk.encode(); !bytes.Equal(body, enc) || added != want {
			t.Errorf("block %x with %v: merged %x (%d new), block.add gives %x (%d new)", v, cells, body, added, enc, want)
		}
	})
}

// fuzzCells makes cells from bytes, four a cell, as Apply makes them: an
// estimate is at most its client count.
func fuzzCells(spec []byte, n int) []cellAt {
	var cells []cellAt
	for ; len(spec) >= 4; spec = spec[4:] {
		i := int(spec[0]) % n
		client := uint64(spec[1]) << (spec[2] % 64)
		first := int64(i)*60_000 + int64(spec[3])
		cells = append(cells, cellAt{index: i, client: client, server: uint64(spec[2]) << (spec[1] % 64),
			est: min(uint64(spec[3]), client), first: first, last: first + int64(spec[1])})
	}
	return cells
}
