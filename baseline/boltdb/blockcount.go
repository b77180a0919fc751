package boltdb

import (
	"bytes"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// The blocks bucket counts, per tier and block start, the blocks the
// cells bucket holds: a window checks that it read each one, so a damaged
// page that hides blocks from a cursor is an error, not smaller counts.

// addBlockCounts adds to the counts of blocks, keyed by tier and start.
func addBlockCounts(tx *bolt.Tx, delta map[string]int) error {
	b := tx.Bucket(bucketBlocks)
	for key, d := range delta {
		k := []byte(key)
		n, err := blockCount(b, k)
		if err != nil {
			return err
		}
		n += int64(d)
		switch {
		case n < 0:
			return fmt.Errorf("%w: block count of %x below zero", ErrCorrupt, k)
		case n == 0:
			err = b.Delete(k)
		default:
			err = b.Put(k, seal(k, binary.AppendUvarint(nil, uint64(n))))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func blockCount(b *bolt.Bucket, k []byte) (int64, error) {
	v := b.Get(k)
	if v == nil {
		return 0, nil
	}
	return decodeBlockCount(k, v)
}

func decodeBlockCount(k, v []byte) (int64, error) {
	raw, err := unseal(k, v)
	if err != nil {
		return 0, err
	}
	d := decoder{b: raw}
	n := d.uvarint()
	if err := d.done(); err != nil {
		return 0, err
	}
	return int64(n), nil
}

// blockCounts reads the counts of a tier's blocks from start up to stop.
func blockCounts(tx *bolt.Tx, start, stop []byte) (map[string]int64, error) {
	out := map[string]int64{}
	c := tx.Bucket(bucketBlocks).Cursor()
	for k, v := c.Seek(start); k != nil && bytes.Compare(k, stop) < 0; k, v = c.Next() {
		n, err := decodeBlockCount(k, v)
		if err != nil {
			return nil, err
		}
		out[string(k)] = n
	}
	return out, nil
}

// checkBlockCounts compares the blocks a window read with those counted.
func checkBlockCounts(want, got map[string]int64) error {
	for k, n := range want {
		if got[k] != n {
			return fmt.Errorf("%w: %d blocks at %x, %d read", ErrCorrupt, n, k, got[k])
		}
	}
	for k, n := range got {
		if _, ok := want[k]; !ok {
			return fmt.Errorf("%w: %d blocks at %x, none counted", ErrCorrupt, n, k)
		}
	}
	return nil
}
