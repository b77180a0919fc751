package boltdb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
)

// compactMinBytes is the smallest file worth compacting on its own.
const compactMinBytes = 8 << 20

// compactIfFree compacts the file when more than half its pages are free.
func (s *Store) compactIfFree(ctx context.Context) error {
	s.mu.RLock()
	st := s.db.Stats()
	var size int64
	err := s.db.View(func(tx *bolt.Tx) error { size = tx.Size(); return nil })
	pageSize := int64(s.db.Info().PageSize)
	s.mu.RUnlock()
	if err != nil {
		return fmt.Errorf("compact %s: %w", s.path, err)
	}
	free := int64(st.FreePageN+st.PendingPageN) * pageSize
	if size < compactMinBytes || free*2 < size {
		return nil
	}
	before := fileSize(s.path)
	if err := s.Compact(ctx); err != nil {
		return err
	}
	s.opts.Log(fmt.Sprintf("%s: compacted, %d → %d bytes", s.path, before, fileSize(s.path)))
	return nil
}

// Compact copies the baseline into a fresh file and renames it over the
// old one, writers blocked meanwhile: the file then holds no free pages.
// A crash at any moment leaves the old file or the new one, whole.
func (s *Store) Compact(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.opts.ReadOnly {
		return fmt.Errorf("compact %s: %w", s.path, ErrReadOnly)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.compactLocked(); err != nil {
		return fmt.Errorf("compact %s: %w", s.path, err)
	}
	return nil
}

func (s *Store) compactLocked() error {
	tmp := s.path + ".compact-tmp"
	if err := os.Remove(tmp); err != nil && !os.IsNotExist(err) {
		return err
	}
	dst, err := openBolt(tmp, false, s.opts.Timeout)
	if err != nil {
		return err
	}
	if err := s.copyInto(dst); err != nil {
		return errors.Join(err, dst.Close(), os.Remove(tmp))
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return errors.Join(err, dst.Close(), os.Remove(tmp))
	}
	old := s.db
	s.db = dst
	if err := old.Close(); err != nil {
		return err
	}
	return syncDir(filepath.Dir(s.path))
}

// copyInto copies every bucket into dst, in key order with pages filled,
// and makes it durable. Each of dst's transactions writes at most
// compactTxBytes.
func (s *Store) copyInto(dst *bolt.DB) (err error) {
	defer corrupt(&err)
	err = s.db.View(func(src *bolt.Tx) error {
		return src.ForEach(func(name []byte, b *bolt.Bucket) error {
			return copyBucket(dst, name, b)
		})
	})
	if err != nil {
		return err
	}
	return dst.Sync()
}

const compactTxBytes = 64 << 20

// copyBucket copies one top-level bucket (this schema nests none).
func copyBucket(dst *bolt.DB, name []byte, src *bolt.Bucket) error {
	c := src.Cursor()
	k, v := c.First()
	first := true
	for first || k != nil {
		err := dst.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists(name)
			if err != nil {
				return err
			}
			b.FillPercent = 1
			if first {
				first = false
				if err := b.SetSequence(src.Sequence()); err != nil {
					return err
				}
			}
			for size := 0; k != nil && size < compactTxBytes; k, v = c.Next() {
				if v == nil {
					return fmt.Errorf("%w: nested bucket %s/%x", ErrNotBaseline, name, k)
				}
				if err := b.Put(k, v); err != nil {
					return err
				}
				size += len(k) + len(v)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}
