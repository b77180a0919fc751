package boltdb

import (
	"encoding/binary"

	"github.com/flowpol/flowpol/flow"
)

// block is one edge's cells in one block of a tier: n cells of the tier's
// width from the block's start. It is encoded as a bitmap of the cells
// set, the block's first and last moments seen (milliseconds after its
// start), then per cell set its client count and the client count xor the
// server count, as uvarints.
type block struct {
	set            []bool
	client, server []uint64
	first, last    int64 // milliseconds after the block's start; valid when any is set
	cells          int   // cells set
}

func newBlock(n int) *block {
	return &block{set: make([]bool, n), client: make([]uint64, n), server: make([]uint64, n)}
}

// add merges a cell's counts and moments in, saturating; it says whether
// the cell was new to the block.
func (b *block) add(i int, client, server uint64, first, last int64) bool {
	isNew := !b.set[i]
	if isNew {
		if b.cells == 0 || first < b.first {
			b.first = first
		}
		if b.cells == 0 || last > b.last {
			b.last = last
		}
		b.set[i] = true
		b.cells++
	} else {
		b.first, b.last = min(b.first, first), max(b.last, last)
	}
	b.client[i] = flow.AddCounts(b.client[i], client)
	b.server[i] = flow.AddCounts(b.server[i], server)
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
	for i, s := range b.set {
		if s {
			out = binary.AppendUvarint(out, b.client[i])
			out = binary.AppendUvarint(out, b.client[i]^b.server[i])
		}
	}
	return out
}

func decodeBlock(v []byte, n int) (*block, error) {
	b := newBlock(n)
	err := scanBlock(v, n, func(i int, client, server uint64) {
		b.set[i], b.client[i], b.server[i] = true, client, server
		b.cells++
	}, &b.first, &b.last)
	return b, err
}

// scanBlock calls fn for each cell set in an encoded block, in order, and
// stores the block's first and last moments.
func scanBlock(v []byte, n int, fn func(i int, client, server uint64), first, last *int64) error {
	d := decoder{b: v}
	bitmap := d.bytes(uint64((n + 7) / 8))
	f, l := d.uvarint(), d.uvarint()
	any := false
	for i := range n {
		if d.err != nil || bitmap[i/8]&(1<<(i%8)) == 0 {
			continue
		}
		c := d.uvarint()
		s := c ^ d.uvarint()
		fn(i, c, s)
		any = true
	}
	if err := d.done(); err != nil {
		return err
	}
	if !any || f > l {
		d.fail("block with no cells or first after last")
		return d.err
	}
	*first, *last = int64(f), int64(l)
	return nil
}

// sumBlock adds up the larger of client and server over the cells lo up
// to hi of an encoded block, and finds the first and last of them set; it
// also returns the block's first and last moments. first is -1 when none
// of those cells is set.
func sumBlock(v []byte, n, lo, hi int) (sum uint64, firstCell, lastCell int, first, last int64, err error) {
	nb := (n + 7) / 8
	if len(v) < nb {
		return 0, 0, 0, 0, 0, errShortBlock
	}
	bitmap, rest := v[:nb], v[nb:]
	f, k := binary.Uvarint(rest)
	l, k2 := binary.Uvarint(rest[max(k, 0):])
	if k <= 0 || k2 <= 0 || f > l {
		return 0, 0, 0, 0, 0, errShortBlock
	}
	rest = rest[k+k2:]
	firstCell, lastCell = -1, -1
	cells := 0
	for i := range n {
		if bitmap[i>>3]&(1<<(i&7)) == 0 {
			continue
		}
		c, k := binary.Uvarint(rest)
		if k <= 0 {
			return 0, 0, 0, 0, 0, errShortBlock
		}
		x, k2 := binary.Uvarint(rest[k:])
		if k2 <= 0 {
			return 0, 0, 0, 0, 0, errShortBlock
		}
		rest = rest[k+k2:]
		cells++
		if i < lo || i >= hi {
			continue
		}
		sum = flow.AddCounts(sum, max(c, c^x))
		if firstCell < 0 {
			firstCell = i
		}
		lastCell = i
	}
	if len(rest) != 0 || cells == 0 {
		return 0, 0, 0, 0, 0, errShortBlock
	}
	return sum, firstCell, lastCell, int64(f), int64(l), nil
}
