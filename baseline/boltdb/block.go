package boltdb

import (
	"encoding/binary"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/flow"
)

// block is one edge's cells in one block of a tier: n cells of the tier's
// width from the block's start. It is encoded as a bitmap of the cells
// set, the block's first and last moments seen (milliseconds after its
// start), then per cell set its client count and the client count xor the
// server count, as uvarints. When any cell has estimated connections, a
// section follows with, per cell set, its estimated count as a uvarint; a
// block with none ends after the counts, as schema 2 wrote every block.
type block struct {
	set                 []bool
	client, server, est []uint64
	first, last         int64 // milliseconds after the block's start; valid when any is set
	cells               int   // cells set
}

func newBlock(n int) *block {
	return &block{set: make([]bool, n), client: make([]uint64, n), server: make([]uint64, n), est: make([]uint64, n)}
}

// add merges a cell's counts and moments in, saturating; it says whether
// the cell was new to the block.
func (b *block) add(i int, c cellAt) bool {
	isNew := !b.set[i]
	if isNew {
		if b.cells == 0 || c.first < b.first {
			b.first = c.first
		}
		if b.cells == 0 || c.last > b.last {
			b.last = c.last
		}
		b.set[i] = true
		b.cells++
	} else {
		b.first, b.last = min(b.first, c.first), max(b.last, c.last)
	}
	b.client[i] = flow.AddCounts(b.client[i], c.client)
	b.server[i] = flow.AddCounts(b.server[i], c.server)
	b.est[i] = min(flow.AddCounts(b.est[i], c.est), b.client[i])
	return isNew
}

func (b *block) encode() []byte {
	n := len(b.set)
	out := make([]byte, (n+7)/8, (n+7)/8+24+4*b.cells) // room for the checksum
	for i, s := range b.set {
		if s {
			out[i/8] |= 1 << (i % 8)
		}
	}
	out = binary.AppendUvarint(out, uint64(b.first))
	out = binary.AppendUvarint(out, uint64(b.last))
	anyEst := false
	for i, s := range b.set {
		if s {
			out = binary.AppendUvarint(out, b.client[i])
			out = binary.AppendUvarint(out, b.client[i]^b.server[i])
			anyEst = anyEst || b.est[i] > 0
		}
	}
	if !anyEst {
		return out
	}
	for i, s := range b.set {
		if s {
			out = binary.AppendUvarint(out, b.est[i])
		}
	}
	return out
}

func decodeBlock(v []byte, n int) (*block, error) {
	b := newBlock(n)
	err := scanBlock(v, n, func(i int, c blockCell) {
		b.set[i], b.client[i], b.server[i], b.est[i] = true, c.client, c.server, c.est
		b.cells++
	}, &b.first, &b.last)
	return b, err
}

// blockCell is one cell of a decoded block.
type blockCell struct {
	client, server, est uint64
}

// estimatedPart is the part of a cell's count that rests on an even
// split (baseline.EstimatedPart); a rolled-up cell (a coarser tier's,
// whose client and server both hold the count) keeps that part already.
func estimatedPart(c blockCell, rolled bool) uint64 {
	if rolled {
		return min(c.est, c.client)
	}
	return baseline.EstimatedPart(c.client, c.server, c.est)
}

// scanBlock calls fn for each cell set in an encoded block, in order, and
// stores the block's first and last moments.
func scanBlock(v []byte, n int, fn func(i int, c blockCell), first, last *int64) error {
	d := decoder{b: v}
	bitmap := d.bytes(uint64((n + 7) / 8))
	f, l := d.uvarint(), d.uvarint()
	var cells []int
	var counts []blockCell
	for i := range n {
		if d.err != nil || bitmap[i/8]&(1<<(i%8)) == 0 {
			continue
		}
		c := d.uvarint()
		cells = append(cells, i)
		counts = append(counts, blockCell{client: c, server: c ^ d.uvarint()})
	}
	if d.err == nil && len(d.b) > 0 {
		readEstimates(&d, counts)
	}
	if err := d.done(); err != nil {
		return err
	}
	if len(cells) == 0 || f > l {
		d.fail("block with no cells or first after last")
		return d.err
	}
	for k, i := range cells {
		fn(i, counts[k])
	}
	*first, *last = int64(f), int64(l)
	return nil
}

// readEstimates reads a block's estimates section into its cells: one
// per cell, none above its client count, not all zero.
func readEstimates(d *decoder, counts []blockCell) {
	anyEst := false
	for k := range counts {
		e := d.uvarint()
		if d.err != nil {
			return
		}
		if e > counts[k].client {
			d.fail("estimated count %d above the client count %d", e, counts[k].client)
			return
		}
		counts[k].est = e
		anyEst = anyEst || e > 0
	}
	if !anyEst {
		d.fail("estimates section with no estimate")
	}
}

// blockSum is what a window takes from some cells of a block.
type blockSum struct {
	count, estimated    uint64
	firstCell, lastCell int   // -1 when none of those cells is set
	first, last         int64 // the block's first and last moments
}

// sumBlock adds up the larger of client and server over the cells lo up
// to hi of an encoded block, with the estimated part of those counts (see
// estimatedPart), and finds the first and last of them set; it also
// returns the block's first and last moments.
func sumBlock(v []byte, n, lo, hi int, rolled bool) (blockSum, error) {
	nb := (n + 7) / 8
	if len(v) < nb {
		return blockSum{}, errShortBlock
	}
	bitmap, rest := v[:nb], v[nb:]
	f, k := binary.Uvarint(rest)
	l, k2 := binary.Uvarint(rest[max(k, 0):])
	if k <= 0 || k2 <= 0 || f > l {
		return blockSum{}, errShortBlock
	}
	rest = rest[k+k2:]
	out := blockSum{firstCell: -1, lastCell: -1, first: int64(f), last: int64(l)}
	var buf [64]blockCell
	all := buf[:0]     // every cell set, in order
	var inLo, inHi int // all[inLo:inHi] are those in lo up to hi
	for i := range n {
		if bitmap[i>>3]&(1<<(i&7)) == 0 {
			continue
		}
		c, k := binary.Uvarint(rest)
		if k <= 0 {
			return blockSum{}, errShortBlock
		}
		x, k2 := binary.Uvarint(rest[k:])
		if k2 <= 0 {
			return blockSum{}, errShortBlock
		}
		rest = rest[k+k2:]
		all = append(all, blockCell{client: c, server: c ^ x})
		if i < lo || i >= hi {
			continue
		}
		out.count = flow.AddCounts(out.count, max(c, c^x))
		if out.firstCell < 0 {
			out.firstCell, inLo = i, len(all)-1
		}
		out.lastCell, inHi = i, len(all)
	}
	if len(all) == 0 {
		return blockSum{}, errShortBlock
	}
	if len(rest) != 0 {
		d := decoder{b: rest}
		readEstimates(&d, all)
		if d.done() != nil {
			return blockSum{}, errShortBlock
		}
		for _, c := range all[inLo:inHi] {
			out.estimated = flow.AddCounts(out.estimated, estimatedPart(c, rolled))
		}
	}
	return out, nil
}
