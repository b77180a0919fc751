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
	err := s.update(func(tx *bolt.Tx) error {
		st, err := readState(tx)
		if err != nil {
			return err
		}
		if retained, err = s.retainIfDue(tx, st, d); err != nil {
			return err
		}
		if out, err = applyTx(tx, st, d); err != nil {
			return err
		}
		return writeState(tx, st)
	})
	if err != nil {
		return baseline.Applied{}, fmt.Errorf("apply to %s: %w", s.path, err)
	}
	if retained {
		return out, s.compactIfFree(ctx)
	}
	return out, nil
}

func applyTx(tx *bolt.Tx, st *state, d *baseline.Delta) (baseline.Applied, error) {
	var out baseline.Applied
	ids := make([]uint64, len(d.Edges))
	for i := range d.Edges {
		id, isNew, err := putEdge(tx, &d.Edges[i])
		if err != nil {
			return out, fmt.Errorf("edge %s: %w", d.Edges[i].Edge, err)
		}
		ids[i] = id
		if isNew {
			out.NewEdges++
		}
	}
	if err := putCells(tx, st, d.Edges, ids); err != nil {
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
	return out, putInventory(tx, d.Workloads, d.Cluster)
}

// putEdge finds or makes an edge's id and merges its pods, nodes,
// processes and moments seen into the file.
func putEdge(tx *bolt.Tx, e *baseline.EdgeDelta) (uint64, bool, error) {
	index, edges := tx.Bucket(bucketEdgeIndex), tx.Bucket(bucketEdges)
	key := edgeKey(e.Edge)
	var id uint64
	var rec edgeRecord
	isNew := false
	if v := index.Get(key); v != nil {
		raw, err := unseal(key, v)
		if err != nil || len(raw) != 8 {
			return 0, false, fmt.Errorf("%w: index entry", cmp.Or(err, ErrCorrupt))
		}
		id = binary.BigEndian.Uint64(raw)
		if rec, err = getEdge(edges, id); err != nil {
			return 0, false, err
		}
	} else {
		var err error
		if id, err = edges.NextSequence(); err != nil {
			return 0, false, err
		}
		if err := index.Put(key, seal(key, idKey(id))); err != nil {
			return 0, false, err
		}
		rec, isNew = edgeRecord{key: key, edge: e.Edge}, true
	}
	if rec.merge(e) || isNew {
		k := idKey(id)
		if err := edges.Put(k, seal(k, rec.encode())); err != nil {
			return 0, false, err
		}
	}
	return id, isNew, putSeen(tx, id, e.Cells)
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
func putSeen(tx *bolt.Tx, id uint64, cells []baseline.Cell) error {
	if len(cells) == 0 {
		return nil
	}
	b, k := tx.Bucket(bucketSeen), idKey(id)
	sn, known, err := getSeen(b, k)
	if err != nil {
		return err
	}
	old := sn
	for i, c := range cells {
		first, last := c.Start*1000+int64(c.FirstMS), c.Start*1000+int64(c.LastMS)
		if (i == 0 && !known) || first < sn.first {
			sn.first = first
		}
		if (i == 0 && !known) || last > sn.last {
			sn.last = last
		}
	}
	if known && sn == old {
		return nil
	}
	return b.Put(k, seal(k, sn.encode()))
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

// cellPut is a cell to merge into a block.
type cellPut struct {
	key            []byte // the block's
	tier, index    int    // the cell's index in the block
	client, server uint64
	first, last    int64 // milliseconds after the block's start
}

// putCells merges the delta's cells into their blocks, in key order so
// bbolt's pages fill from the left. A cell goes to the tier that holds its
// time; a cell older than the last tier keeps is dropped.
func putCells(tx *bolt.Tx, st *state, edges []baseline.EdgeDelta, ids []uint64) error {
	var puts []cellPut
	for i := range edges {
		for _, c := range edges[i].Cells {
			if p, ok := st.place(c, ids[i]); ok {
				puts = append(puts, p)
			}
			st.newest = max(st.newest, c.Start+st.tiers[0].width())
		}
	}
	return mergePuts(tx.Bucket(bucketCells), st, puts)
}

// mergePuts merges cells into their blocks, in key order.
func mergePuts(b *bolt.Bucket, st *state, puts []cellPut) error {
	slices.SortFunc(puts, func(x, y cellPut) int { return bytes.Compare(x.key, y.key) })
	for len(puts) > 0 {
		n := 1
		for n < len(puts) && bytes.Equal(puts[n].key, puts[0].key) {
			n++
		}
		if err := mergeBlock(b, st, puts[:n]); err != nil {
			return err
		}
		puts = puts[n:]
	}
	return nil
}

// place finds a finest-width cell's block and index in the tier that holds
// its time.
func (st *state) place(c baseline.Cell, id uint64) (cellPut, bool) {
	tier := st.tierAt(c.Start)
	if tier < 0 {
		return cellPut{}, false
	}
	span := st.span(tier)
	start := floorTo(c.Start, span)
	off := (c.Start - start) * 1000
	return cellPut{
		key: cellKey(tier, start, id), tier: tier, index: int((floorTo(c.Start, st.tiers[tier].width()) - start) / st.tiers[tier].width()),
		client: c.Client, server: c.Server, first: off + int64(c.FirstMS), last: off + int64(c.LastMS),
	}, true
}

// mergeBlock adds cells of one block to what the file holds.
func mergeBlock(b *bolt.Bucket, st *state, puts []cellPut) error {
	key, tier := puts[0].key, puts[0].tier
	blk, err := getBlock(b, key, st.cellsPerBlock(tier))
	if err != nil {
		return err
	}
	for _, p := range puts {
		if blk.add(p.index, p.client, p.server, p.first, p.last) {
			st.tiers[tier].cells++
		}
	}
	return b.Put(key, seal(key, blk.encode()))
}

// getBlock reads a block, or gives an empty one when the file has none.
func getBlock(b *bolt.Bucket, key []byte, n int) (*block, error) {
	v := b.Get(key)
	if v == nil {
		return newBlock(n), nil
	}
	return decodeSealedBlock(key, v, n)
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
