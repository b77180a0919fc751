package boltdb

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/topology"
)

// Apply adds a delta in one transaction; see baseline.Store. When
// retention is due (a finest bucket width of data time since it last ran)
// it runs first, in the same transaction, and a file then mostly free is
// compacted after it.
func (s *Store) Apply(ctx context.Context, d *baseline.Delta) (baseline.Applied, error) {
	if err := ctx.Err(); err != nil {
		return baseline.Applied{}, err
	}
	var out baseline.Applied
	var retained bool
	var et *edgeTx
	s.edges.mu.Lock()
	err := s.update(func(tx *bolt.Tx) error {
		st, err := readState(tx)
		if err != nil {
			return err
		}
		if retained, err = s.retainIfDue(tx, st, d); err != nil {
			return err
		}
		et = newEdgeTx(&s.edges)
		if retained { // edges may be gone: read them from the file
			et.cache = nil
		}
		if out, err = applyTx(tx, st, et, d); err != nil {
			return err
		}
		return writeState(tx, st)
	})
	if err == nil {
		s.edges.commit(et, retained)
	}
	s.edges.mu.Unlock()
	if err != nil {
		return baseline.Applied{}, fmt.Errorf("apply to %s: %w", s.path, err)
	}
	if retained {
		return out, s.compactIfFree(ctx)
	}
	return out, nil
}

func applyTx(tx *bolt.Tx, st *state, et *edgeTx, d *baseline.Delta) (baseline.Applied, error) {
	var out baseline.Applied
	if err := checkCells(st, d); err != nil {
		return out, err
	}
	b := et.buf
	ids := resize(b.ids, len(d.Edges))
	keys := resize(b.keys, len(d.Edges))
	buf := slices.Grow(b.keyBuf[:0], 64*len(d.Edges)) // the keys, one after another
	for i := range d.Edges {
		n := len(buf)
		buf = appendEdgeKey(buf, d.Edges[i].Edge)
		keys[i] = buf[n:len(buf):len(buf)]
	}
	b.ids, b.keys, b.keyBuf = ids, keys, buf
	b.order = keyOrder(b.order, keys)
	for _, i := range b.order {
		id, isNew, err := putEdge(tx, st, et, keys[i], &d.Edges[i])
		if err != nil {
			return out, fmt.Errorf("edge %s: %w", d.Edges[i].Edge, err)
		}
		ids[i] = id
		if isNew {
			out.NewEdges++
		}
		if err := putNames(tx, id, d.Edges[i].Names); err != nil {
			return out, fmt.Errorf("edge %s: names: %w", d.Edges[i].Edge, err)
		}
	}
	if err := putAnswers(tx, d.Answers); err != nil {
		return out, fmt.Errorf("dns answers: %w", err)
	}
	if err := putCells(tx, st, &b.merge, d.Edges, ids); err != nil {
		return out, err
	}
	if err := putDelivered(tx, d.Delivered); err != nil {
		return out, err
	}
	if d.ReplaceWaiting {
		if err := putWaiting(tx, d.Waiting); err != nil {
			return out, err
		}
	}
	if err := putAttachments(tx, d.Attachments); err != nil {
		return out, err
	}
	return out, putInventory(tx, d.Workloads, d.Cluster)
}

// putAttachments replaces the values named; an empty one removes its
// name.
func putAttachments(tx *bolt.Tx, as map[string][]byte) error {
	if len(as) == 0 {
		return nil
	}
	b, err := tx.CreateBucketIfNotExists(bucketAttachments)
	if err != nil {
		return err
	}
	for name, v := range as {
		k := []byte(name)
		switch {
		case name == "":
			return fmt.Errorf("attachment without a name")
		case len(v) > baseline.MaxAttachmentBytes:
			return fmt.Errorf("attachment %q: %d bytes, more than %d", name, len(v), baseline.MaxAttachmentBytes)
		case len(v) == 0:
			err = b.Delete(k)
		default:
			err = b.Put(k, seal(k, v))
		}
		if err != nil {
			return fmt.Errorf("attachment %q: %w", name, err)
		}
	}
	return nil
}

// maxCellSecs bounds a cell's start, unix seconds, either side of 1970:
// about 34,000 years, far past what a record's time can say, and far
// from where milliseconds overflow.
const maxCellSecs = 1 << 40

// checkCells refuses cells no block can hold: a start out of range, or
// moments outside the bucket or out of order.
func checkCells(st *state, d *baseline.Delta) error {
	widthMS := st.ret.Width(0) * 1000
	for i := range d.Edges {
		for _, c := range d.Edges[i].Cells {
			if c.Start < -maxCellSecs || c.Start > maxCellSecs || c.FirstMS > c.LastMS || int64(c.LastMS) >= widthMS {
				return fmt.Errorf("edge %s: %w: start %d s, first %d ms, last %d ms in a %s bucket", d.Edges[i].Edge, ErrBadCell, c.Start, c.FirstMS, c.LastMS, st.tiers[0].Bucket)
			}
		}
	}
	return nil
}

// keyOrder returns the indexes of keys in key order. Edges are put in that
// order: a bbolt node inserts a key by moving the ones after it, so new
// keys put in order go at the end and cost nothing to insert.
func keyOrder(order []int, keys [][]byte) []int {
	order = resize(order, len(keys))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return bytes.Compare(keys[a], keys[b]) })
	return order
}

// putEdge finds or makes an edge's id and merges its pods, nodes,
// processes and moments seen into the file.
func putEdge(tx *bolt.Tx, st *state, et *edgeTx, key []byte, e *baseline.EdgeDelta) (uint64, bool, error) {
	es, cached, known, err := findEdge(tx, et, key, e.Edge)
	if err != nil {
		return 0, false, err
	}
	isNew, changed := es.rec == nil, !known
	if isNew || es.rec.adds(e) {
		rec := &edgeRecord{key: bytes.Clone(key), edge: e.Edge} // the key's buffer is reused
		if !isNew {
			rec = es.rec.clone()
		}
		rec.merge(e)
		k := idKey(es.id)
		if err := tx.Bucket(bucketEdges).Put(k, seal(k, rec.encode())); err != nil {
			return 0, false, err
		}
		es.rec, changed = rec, true
	}
	seenChanged, err := putSeen(tx, st, &es, e.Cells)
	if changed || seenChanged {
		et.note(key, es, cached)
	}
	return es.id, isNew, err
}

// findEdge returns an edge's state as the transaction or the cache holds
// it (known, with the cache's entry), else as the file holds it, else a
// new id and no record.
func findEdge(tx *bolt.Tx, et *edgeTx, key []byte, edge topology.Edge) (es edgeState, cached *edgeState, known bool, err error) {
	if es, cached, ok := et.lookup(key); ok {
		return es, cached, true, nil
	}
	index, edges := tx.Bucket(bucketEdgeIndex), tx.Bucket(bucketEdges)
	if v := index.Get(key); v != nil {
		raw, err := unseal(key, v)
		if err != nil || len(raw) != 8 {
			return es, nil, false, fmt.Errorf("%w: index entry", cmp.Or(err, ErrCorrupt))
		}
		id := binary.BigEndian.Uint64(raw)
		rec, err := getEdge(edges, id)
		if err != nil {
			return es, nil, false, err
		}
		return edgeState{id: id, rec: &rec}, nil, false, nil
	}
	id, err := edges.NextSequence()
	if err != nil {
		return es, nil, false, err
	}
	if err := index.Put(key, seal(key, idKey(id))); err != nil {
		return es, nil, false, err
	}
	return edgeState{id: id}, nil, false, nil
}

func getEdge(edges *bolt.Bucket, id uint64) (edgeRecord, error) {
	k := idKey(id)
	v := edges.Get(k)
	if v == nil {
		return edgeRecord{}, fmt.Errorf("%w: edge %d has no record", ErrCorrupt, id)
	}
	raw, err := unseal(k, v)
	if err != nil {
		return edgeRecord{}, err
	}
	rec, err := decodeEdgeRecord(raw)
	if err != nil {
		return rec, fmt.Errorf("edge %d: %w", id, err)
	}
	return rec, nil
}

// putSeen widens an edge's first and last moments seen to its cells'.
// The last is stored as the last millisecond of the last tier's block
// that holds it: an edge is removed only when the last tier's cut, which
// moves a block at a time, passes it, so this is as exact as the true
// moment for that, and an edge seen in every commit has its value
// rewritten once a block rather than every time. It says whether es
// changed.
func putSeen(tx *bolt.Tx, st *state, es *edgeState, cells []baseline.Cell) (bool, error) {
	if len(cells) == 0 {
		return false, nil
	}
	b, k := tx.Bucket(bucketSeen), idKey(es.id)
	sn, known, read := es.seen, es.hasSeen, false
	if !known {
		var err error
		if sn, known, err = getSeen(b, k); err != nil {
			return false, err
		}
		read = true
	}
	old, grain := sn, st.ret.BlockSpan(len(st.tiers)-1)*1000
	for i, c := range cells {
		first, last := c.Start*1000+int64(c.FirstMS), c.Start*1000+int64(c.LastMS)
		if (i == 0 && !known) || first < sn.first {
			sn.first = first
		}
		if (i == 0 && !known) || last > sn.last {
			sn.last = baseline.FloorTo(last, grain) + grain - 1
		}
	}
	es.seen, es.hasSeen = sn, true
	if known && sn == old {
		return read, nil
	}
	return true, b.Put(k, seal(k, sn.encode()))
}

func getSeen(b *bolt.Bucket, k []byte) (seen, bool, error) {
	v := b.Get(k)
	if v == nil {
		return seen{}, false, nil
	}
	raw, err := unseal(k, v)
	if err != nil {
		return seen{}, false, err
	}
	sn, err := decodeSeen(raw)
	return sn, true, err
}

// cellAt is a cell to merge into a block: its index in the block, its
// counts (est: of client, estimated; in a coarser tier, the estimated
// part of the count, see baseline.EstimatedPart), and its moments as milliseconds
// after the block's start.
type cellAt struct {
	index               int
	client, server, est uint64
	first, last         int64
}

// blockPut is cells to merge into one block: the block of edge id at
// start in tier.
type blockPut struct {
	tier  int
	start int64
	id    uint64
	cells []cellAt
}

// compareBlocks orders puts as their blocks' keys are.
func compareBlocks(x, y blockPut) int {
	return cmp.Or(cmp.Compare(x.tier, y.tier), cmp.Compare(x.start, y.start), cmp.Compare(x.id, y.id))
}

// putCells merges the delta's cells into their blocks. A cell goes to the
// tier that holds its time; a cell older than the last tier keeps is
// dropped.
func putCells(tx *bolt.Tx, st *state, m *mergeBuf, edges []baseline.EdgeDelta, ids []uint64) error {
	total := 0
	for i := range edges {
		total += len(edges[i].Cells)
	}
	buf := slices.Grow(m.cellBuf[:0], total) // every put's cells, one after another
	puts := slices.Grow(m.puts[:0], len(edges))
	for i := range edges {
		cells := edges[i].Cells
		if !slices.IsSortedFunc(cells, byStart) {
			m.sorted = append(m.sorted[:0], cells...)
			slices.SortFunc(m.sorted, byStart)
			cells = m.sorted
		}
		first := len(puts)
		for _, c := range cells {
			st.newest = max(st.newest, c.Start+st.ret.Width(0))
			tier := baseline.TierAt(st.cuts, c.Start)
			if tier < 0 {
				continue
			}
			bstart := baseline.FloorTo(c.Start, st.ret.BlockSpan(tier))
			if n := len(puts); n == first || puts[n-1].tier != tier || puts[n-1].start != bstart {
				puts = append(puts, blockPut{tier: tier, start: bstart, id: ids[i], cells: buf[len(buf):len(buf)]})
			}
			buf = append(buf, st.cellAt(tier, bstart, c))
			p := &puts[len(puts)-1]
			p.cells = p.cells[:len(p.cells)+1]
		}
	}
	m.cellBuf, m.puts = buf, puts
	return mergePuts(tx, st, m, puts)
}

func byStart(a, b baseline.Cell) int { return cmp.Compare(a.Start, b.Start) }

// cellAt places a finest-width cell in a block of a tier.
func (st *state) cellAt(tier int, bstart int64, c baseline.Cell) cellAt {
	w := st.ret.Width(tier)
	off := (c.Start - bstart) * 1000
	client, server, est := c.Client, c.Server, min(c.Estimated, c.Client)
	if tier > 0 { // counted as rollups count: the larger of the two
		est = baseline.EstimatedPart(client, server, est)
		client, server = max(client, server), max(client, server)
	}
	return cellAt{index: int((baseline.FloorTo(c.Start, w) - bstart) / w), client: client, server: server, est: est,
		first: off + int64(c.FirstMS), last: off + int64(c.LastMS)}
}

// mergePuts merges cells into their blocks, in key order: new blocks then
// go after the last, so pages can be filled.
func mergePuts(tx *bolt.Tx, st *state, m *mergeBuf, puts []blockPut) error {
	slices.SortFunc(puts, compareBlocks)
	starts := m.starts[:0] // where each block's puts start
	for i := range puts {
		if i == 0 || compareBlocks(puts[i], puts[i-1]) != 0 {
			starts = append(starts, i)
		}
	}
	b := tx.Bucket(bucketCells)
	b.FillPercent = 0.95
	olds := readBlocks(b, puts, starts, resize(m.olds, len(starts)))
	m.starts, m.olds = starts, olds
	defer clear(olds) // the next transaction's are its own
	added := map[string]int{}
	for g, i := range starts {
		end := len(puts)
		if g+1 < len(starts) {
			end = starts[g+1]
		}
		if err := m.mergeBlock(b, st, puts[i:end], olds[g]); err != nil {
			return err
		}
		if olds[g] == nil {
			added[string(tierPrefix(puts[i].tier, puts[i].start))]++
		}
	}
	return addBlockCounts(tx, added)
}

// readBlocks returns the value the file holds of each block that puts
// start at (nil for none), read before any is written, with one cursor
// in key order: a block a few keys on is reached by Next, one further by
// Seek. bbolt keeps a value for the life of the transaction.
func readBlocks(b *bolt.Bucket, puts []blockPut, starts []int, out [][]byte) [][]byte {
	const maxSteps = 4
	c := b.Cursor()
	var key [17]byte
	var k, v []byte
	sought := false
	for g, i := range starts {
		want := appendCellKey(key[:0], puts[i].tier, puts[i].start, puts[i].id)
		for step := 0; sought && k != nil && bytes.Compare(k, want) < 0 && step < maxSteps; step++ {
			k, v = c.Next()
		}
		if !sought || (k != nil && bytes.Compare(k, want) < 0) {
			k, v = c.Seek(want)
			sought = true
		}
		if k != nil && bytes.Equal(k, want) {
			out[g] = v
		}
	}
	return out
}

// decodeSealedBlock checks and decodes a block's value.
func decodeSealedBlock(key, v []byte, n int) (*block, error) {
	raw, err := unseal(key, v)
	if err != nil {
		return nil, err
	}
	blk, err := decodeBlock(raw, n)
	if err != nil {
		return nil, fmt.Errorf("block %x: %w", key, err)
	}
	return blk, nil
}

func putDelivered(tx *bolt.Tx, delivered map[string]uint64) error {
	b := tx.Bucket(bucketDelivered)
	for sender, seq := range delivered {
		k := []byte(sender)
		if err := b.Put(k, seal(k, binary.BigEndian.AppendUint64(nil, seq))); err != nil {
			return fmt.Errorf("delivered %q: %w", sender, err)
		}
	}
	return nil
}

// putWaiting replaces the stored waiting records.
func putWaiting(tx *bolt.Tx, recs []flow.Record) error {
	if err := tx.DeleteBucket(bucketWaiting); err != nil {
		return err
	}
	b, err := tx.CreateBucket(bucketWaiting)
	if err != nil {
		return err
	}
	for i := range recs {
		k := idKey(uint64(i))
		if err := b.Put(k, seal(k, flow.AppendJSON(nil, &recs[i]))); err != nil {
			return err
		}
	}
	return nil
}

// putInventory replaces the workloads named and, when given, the cluster
// facts.
func putInventory(tx *bolt.Tx, ws map[topology.WorkloadRef]topology.Workload, c *topology.Cluster) error {
	b := tx.Bucket(bucketWorkloads)
	for ref, w := range ws {
		if err := putJSON(b, workloadKey(ref), w); err != nil {
			return fmt.Errorf("workload %s: %w", ref, err)
		}
	}
	if c == nil {
		return nil
	}
	return putJSON(tx.Bucket(bucketMeta), keyCluster, c)
}

func workloadKey(ref topology.WorkloadRef) []byte {
	return appendString(appendString(appendString(nil, ref.Namespace), ref.Kind), ref.Name)
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	return b.Put(key, seal(key, data))
}

func getJSON(key, v []byte, into any) error {
	raw, err := unseal(key, v)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, into); err != nil {
		return fmt.Errorf("%w: value of key %x: %w", ErrCorrupt, key, err)
	}
	return nil
}

// RecordRun records a learning run.
func (s *Store) RecordRun(ctx context.Context, r baseline.Run) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRuns)
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		return putJSON(b, idKey(seq), r)
	})
	if err != nil {
		return fmt.Errorf("record run in %s: %w", s.path, err)
	}
	return nil
}
