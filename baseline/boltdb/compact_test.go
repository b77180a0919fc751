package boltdb

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/flowpol/flowpol/baseline"
)

// TestOnlineCompaction: when retention leaves most of a large file free,
// the store compacts it itself, says so, and keeps serving the same
// window from the smaller file, which another process cannot open while
// the store holds it. If it failed, an aggregator's volume would fill up
// with free pages, or the swap would lose data or the lock.
func TestOnlineCompaction(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.db")
	end := buildFile(t, path, 5000, 8) // kept for ever
	var notes []string
	s, err := Open(path, Options{Retention: baseline.Retention{{Bucket: time.Minute, Keep: time.Hour}}, Log: func(m string) { notes = append(notes, m) }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	before := fileSize(path)
	want := window(t, s, end.Add(-time.Hour), end)
	if before < compactMinBytes || len(notes) != 0 {
		t.Fatalf("file of %d bytes, notices %q before retention; want ≥ %d and none", before, notes, compactMinBytes)
	}
	if _, err := s.Retain(ctx, end); err != nil {
		t.Fatal(err)
	}
	after := fileSize(path)
	if len(notes) != 1 || !strings.Contains(notes[0], path+": compacted") || after*2 > before {
		t.Errorf("notices %q, %d → %d bytes; want one compaction notice and less than half the size", notes, before, after)
	}
	got := window(t, s, end.Add(-time.Hour), end)
	if !reflect.DeepEqual(got.Edges, want.Edges) {
		t.Errorf("window after compaction differs")
	}
	if _, err := os.Stat(path + ".compact-tmp"); !os.IsNotExist(err) {
		t.Errorf("temporary file left: %v", err)
	}
	if other, err := Open(path, Options{Timeout: 50 * time.Millisecond}); err == nil {
		other.Close()
		t.Error("a second store opened the compacted file while the first holds it")
	}
	if _, err := s.Apply(ctx, hourDelta(end, 10, 99)); err != nil {
		t.Errorf("apply after compaction: %v", err)
	}
}
