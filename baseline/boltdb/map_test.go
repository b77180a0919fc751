package boltdb

import (
	"context"
	"testing"
	"time"

	"github.com/flowpol/flowpol/baseline"
)

// TestFileGrowsByItsNeed: as commits add to a new baseline, from a few
// pages to several MiB, its file is never more than growStep larger than
// the pages in use (and a page), though bbolt maps 1 GiB of it. If it
// failed, every baseline would take bbolt's 16 MiB step past its need,
// or grow to its map's size, up to twice its need.
func TestFileGrowsByItsNeed(t *testing.T) {
	s := openTest(t, Options{Retention: baseline.Retention{{Bucket: time.Minute}}})
	for h := range 12 {
		apply(t, s, hourDelta(day0.Add(time.Duration(h)*time.Hour), 3000, uint64(h)))
		used := usedBytes(t, s.path)
		step := int64(growStep + s.db.Info().PageSize) // bbolt counts a page past the last in use
		if file := fileSize(s.path); file < used || file-used > step {
			t.Fatalf("after %d commits: file of %d bytes, %d in use; want at most %d more", h+1, file, used, step)
		}
		if h == 11 && used < 4<<20 {
			t.Fatalf("%d bytes in use after the last commit; want several MiB, for the file to grow past bbolt's first maps", used)
		}
	}
}

// TestCommitDoesNotWaitForReaders: a commit that grows the file past
// what it had goes through while a read transaction is open, and the
// reader still sees the file as it was. If it failed, bbolt would map the
// file anew for the commit, which waits for every reader to end: an
// aggregator's commits would stall behind long window queries.
func TestCommitDoesNotWaitForReaders(t *testing.T) {
	s := openTest(t, Options{Retention: baseline.Retention{{Bucket: time.Minute}}})
	apply(t, s, hourDelta(day0, 10, 0))
	rd, err := s.db.Begin(false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rd.Rollback() }) // before the store closes, which waits for it
	before, grew := rd.Size(), fileSize(s.path)
	done := make(chan error, 1)
	go func() {
		_, err := s.Apply(context.Background(), hourDelta(day0.Add(time.Hour), 5000, 1))
		done <- err
	}()
	select {
	case err = <-done:
	case <-time.After(time.Minute): // only bounds the failure
		rd.Rollback()
		t.Fatalf("the commit waits for the open read transaction: %v once it ends", <-done)
	}
	if err != nil {
		t.Fatal(err)
	}
	if grew = fileSize(s.path) - grew; grew < 1<<20 || rd.Size() != before {
		t.Errorf("the file grew %d bytes; the reader sees %d bytes in use, had %d; want past 1 MiB, more than bbolt maps of a new file, and the same", grew, rd.Size(), before)
	}
	if err := rd.Rollback(); err != nil {
		t.Fatal(err)
	}
}
