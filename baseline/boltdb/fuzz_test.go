package boltdb

import (
	"bytes"
	"net/netip"
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
// them again, with the window's sum agreeing, or are an error.
func FuzzDecodeBlock(f *testing.F) {
	b := newBlock(60)
	b.add(0, 3, 2, 10, 20)
	b.add(59, 1<<40, 7, 3_540_000, 3_599_999)
	f.Add(b.encode(), 60)
	f.Add(b.encode(), 24)
	f.Fuzz(func(t *testing.T, v []byte, n int) {
		if n < 1 || n > 4096 {
			return
		}
		blk, err := decodeBlock(v, n)
		_, _, _, _, _, serr := sumBlock(v, n, 0, n)
		if (err == nil) != (serr == nil) {
			t.Fatalf("decodeBlock: %v, sumBlock: %v", err, serr)
		}
		if err != nil {
			return
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
