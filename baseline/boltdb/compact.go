package boltdb

import (
	"context"
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
	return s.Compact(ctx)
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
	before, after, err := s.compactLocked()
	if err != nil {
		return fmt.Errorf("compact %s: %w", s.path, err)
	}
	s.opts.Log(fmt.Sprintf("%s: compacted %d → %d bytes", s.path, before, after))
	return nil
}

func (s *Store) compactLocked() (before, after int64, err error) {
	tmp := s.path + ".compact-tmp"
	before = fileSize(s.path)
	if err := os.Remove(tmp); err != nil && !os.IsNotExist(err) {
		return 0, 0, err
	}
	dst, err := openBolt(tmp, false, s.opts.Timeout)
	if err != nil {
		return 0, 0, err
	}
	if err := s.copyInto(dst); err != nil {
		dst.Close()
		os.Remove(tmp)
		return 0, 0, err
	}
	if err := os.Rename(tmp, s.path); err != nil {
		dst.Close()
		os.Remove(tmp)
		return 0, 0, err
	}
	if err := syncDir(filepath.Dir(s.path)); err != nil {
		return 0, 0, err
	}
	old := s.db
	s.db = dst
	after = fileSize(s.path)
	if err := old.Close(); err != nil {
		return before, after, err
	}
	return before, after, nil
}

// copyInto copies every bucket into dst and makes it durable.
func (s *Store) copyInto(dst *bolt.DB) (err error) {
	defer corrupt(&err)
	if err := bolt.Compact(dst, s.db, 64<<20); err != nil {
		return err
	}
	return dst.Sync()
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
	defer d.Close()
	return d.Sync()
}
