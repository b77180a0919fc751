package boltdb

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/flow"
)

// mergeBuf is what merging cells into blocks reuses: the arena the new
// values are encoded into, and the scratch of a commit's puts and of one
// block's merge. bbolt keeps a Put's value until the transaction ends,
// so a value in the arena is never written over in it: a full chunk is
// left to the transaction and a new one started. The next transaction
// may write over the last (see reset).
type mergeBuf struct {
	arena   []byte
	chunk   int             // the size of the next chunk
	old     []oldCell       // the cells of the block the file holds
	est     []uint64        // the merged block's estimates, per cell set
	cells   []cellAt        // the cells of several puts to one block
	key     [17]byte        // the block's key (Put copies it)
	cellBuf []cellAt        // the commit's cells, one put's after another
	puts    []blockPut      // the commit's puts
	sorted  []baseline.Cell // an edge's cells in time order
	starts  []int           // where each block's puts start
	olds    [][]byte        // the blocks' values in the file
}

// reset makes the arena's last chunk free again, for a new transaction:
// bbolt holds no value of a transaction that ended.
func (m *mergeBuf) reset() { m.arena = m.arena[:0] }

// Arena chunks start small, for the small commits, and double up to
// the largest.
const (
	firstChunk = 4 << 10
	lastChunk  = 1 << 20
)

// room returns an empty slice, in the arena, with room for n bytes.
func (m *mergeBuf) room(n int) []byte {
	if cap(m.arena)-len(m.arena) < n {
		m.chunk = min(max(2*m.chunk, firstChunk), lastChunk)
		m.arena = make([]byte, 0, max(m.chunk, n))
	}
	l := len(m.arena)
	return m.arena[l:l:min(l+n, cap(m.arena))]
}

// keep takes v, built in what room returned, from the arena. A v that
// outgrew its room was moved by append and takes nothing.
func (m *mergeBuf) keep(v []byte) {
	l := len(m.arena)
	if len(v) > 0 && len(v) <= cap(m.arena)-l && &m.arena[l : l+1][0] == &v[0] {
		m.arena = m.arena[:l+len(v)]
	}
}

// oldCell is a cell of a block as the file holds it.
type oldCell struct {
	index int
	blockCell
}

// readCells reads an encoded block's cells, in order, into cells, and
// its first and last moments. It reads exactly what decodeBlock accepts;
// ok is false for anything else (decodeBlock then says why).
func readCells(v []byte, n int, cells []oldCell) (_ []oldCell, first, last uint64, ok bool) {
	nb := (n + 7) / 8
	if len(v) < nb {
		return cells, 0, 0, false
	}
	bitmap, rest := v[:nb], v[nb:]
	var k1, k2 int
	first, k1 = binary.Uvarint(rest)
	if k1 <= 0 {
		return cells, 0, 0, false
	}
	last, k2 = binary.Uvarint(rest[k1:])
	if k2 <= 0 || first > last {
		return cells, 0, 0, false
	}
	rest = rest[k1+k2:]
	for i := range n {
		if bitmap[i>>3]&(1<<(i&7)) == 0 {
			continue
		}
		c, k1 := binary.Uvarint(rest)
		if k1 <= 0 {
			return cells, 0, 0, false
		}
		x, k2 := binary.Uvarint(rest[k1:])
		if k2 <= 0 {
			return cells, 0, 0, false
		}
		rest = rest[k1+k2:]
		cells = append(cells, oldCell{index: i, blockCell: blockCell{client: c, server: c ^ x}})
	}
	if len(cells) == 0 {
		return cells, 0, 0, false
	}
	if len(rest) == 0 {
		return cells, first, last, true
	}
	return cells, first, last, readOldEstimates(rest, cells)
}

// readOldEstimates reads a block's estimates section into its cells, as
// readEstimates checks it: all of rest, none above its client count,
// not all zero.
func readOldEstimates(rest []byte, cells []oldCell) bool {
	anyEst := false
	for k := range cells {
		e, n := binary.Uvarint(rest)
		if n <= 0 || e > cells[k].client {
			return false
		}
		rest = rest[n:]
		cells[k].est = e
		anyEst = anyEst || e > 0
	}
	return anyEst && len(rest) == 0
}

// mergeValue encodes, in the arena, the block v (its content; nil when
// the file has none) with cells merged in, as decodeBlock, block.add for
// each cell and block.encode would, and seals it under key. Cells must be
// in index order, each estimate at most its client count. It returns the
// value and how many cells were new to the block; ok is false when v is
// not a block.
func (m *mergeBuf) mergeValue(key, v []byte, n int, cells []cellAt) (_ []byte, added int, ok bool) {
	old := m.old[:0]
	first, last := cells[0].first, cells[0].last
	if v != nil {
		var f, l uint64
		if old, f, l, ok = readCells(v, n, old); !ok {
			return nil, 0, false
		}
		first, last = int64(f), int64(l)
	}
	m.old = old
	for _, c := range cells {
		first, last = min(first, c.first), max(last, c.last)
	}
	nb := (n + 7) / 8
	out := m.room(nb + (2+3*(len(old)+len(cells)))*binary.MaxVarintLen64 + 4)
	out = append(out, make([]byte, nb)...)
	out = binary.AppendUvarint(out, uint64(first))
	out = binary.AppendUvarint(out, uint64(last))
	est, anyEst := m.est[:0], false
	for o, j := 0, 0; o < len(old) || j < len(cells); {
		var c blockCell
		var i int
		if j == len(cells) || (o < len(old) && old[o].index <= cells[j].index) {
			i, c = old[o].index, old[o].blockCell
			o++
		} else {
			i = cells[j].index
			added++
		}
		for ; j < len(cells) && cells[j].index == i; j++ {
			c.client = flow.AddCounts(c.client, cells[j].client)
			c.server = flow.AddCounts(c.server, cells[j].server)
			c.est = min(flow.AddCounts(c.est, cells[j].est), c.client)
		}
		out[i>>3] |= 1 << (i & 7)
		out = binary.AppendUvarint(out, c.client)
		out = binary.AppendUvarint(out, c.client^c.server)
		est = append(est, c.est)
		anyEst = anyEst || c.est > 0
	}
	m.est = est
	if anyEst {
		for _, e := range est {
			out = binary.AppendUvarint(out, e)
		}
	}
	out = seal(key, out)
	m.keep(out)
	return out, added, true
}

// blockCells returns the cells of puts to one block in index order: the
// one put's own when they are, else a sorted copy.
func (m *mergeBuf) blockCells(puts []blockPut) []cellAt {
	if len(puts) == 1 && slices.IsSortedFunc(puts[0].cells, byIndex) {
		return puts[0].cells
	}
	m.cells = m.cells[:0]
	for _, p := range puts {
		m.cells = append(m.cells, p.cells...)
	}
	slices.SortStableFunc(m.cells, byIndex)
	return m.cells
}

func byIndex(a, b cellAt) int { return cmp.Compare(a.index, b.index) }

// mergeBlock adds cells of one block to v, the value the file holds of
// it (nil for none).
func (m *mergeBuf) mergeBlock(b *bolt.Bucket, st *state, puts []blockPut, v []byte) error {
	p := puts[0]
	key := appendCellKey(m.key[:0], p.tier, p.start, p.id)
	n := st.cellsPerBlock(p.tier)
	var raw []byte
	if v != nil {
		var err error
		if raw, err = unseal(key, v); err != nil {
			return err
		}
	}
	out, added, ok := m.mergeValue(key, raw, n, m.blockCells(puts))
	if !ok {
		if _, err := decodeSealedBlock(key, v, n); err != nil {
			return err
		}
		return fmt.Errorf("%w: block %x", ErrCorrupt, key)
	}
	st.tiers[p.tier].cells += uint64(added)
	return b.Put(key, out)
}
