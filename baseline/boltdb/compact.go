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
		dst.Close()
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, s.path); err != nil {
		dst.Close()
		os.Remove(tmp)
		return err
	}
	old := s.db
	s.db = dst
	if err := old.Close(); err != nil {
		return err
	}
	return syncDir(filepath.Dir(s.path))
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
