package boltdb

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/flowpol/flowpol/baseline"
)

// buildFile learns a baseline of edges × hours, every edge every minute,
// into path, and returns the time its data ends.
func buildFile(tb testing.TB, path string, edges, hours int) time.Time {
	tb.Helper()
	s, err := Open(path, Options{Retention: baseline.Retention{{Bucket: time.Minute}}})
	if err != nil {
		tb.Fatal(err)
	}
	defer s.Close()
	for h := range hours {
		apply(tb, s, hourDelta(day0.Add(time.Duration(h)*time.Hour), edges, uint64(h)))
	}
	return day0.Add(time.Duration(hours) * time.Hour)
}

// hourDelta is an hour of cells, every edge every minute, with counts
// that vary by edge, minute and salt.
func hourDelta(start time.Time, edges int, salt uint64) *baseline.Delta {
	d := &baseline.Delta{Edges: make([]baseline.EdgeDelta, edges)}
	for i := range edges {
		e := baseline.EdgeDelta{Edge: simEdge(i), Cells: make([]baseline.Cell, 60), SrcPods: []uint64{uint64(i + 1)}, Nodes: []string{"node-a"}}
		for m := range 60 {
			n := 1 + (uint64(i*7+m)+salt)%5
			e.Cells[m] = baseline.Cell{Start: start.Unix() + int64(m*60), Client: n, Server: n - 1 + uint64(m%2), FirstMS: uint32(i % 1000), LastMS: uint32(1000 + i%50000)}
		}
		d.Edges[i] = e
	}
	return d
}

// usedBytes is what the file's meta page says its pages take.
func usedBytes(tb testing.TB, path string) int64 {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	m, ok := readMeta(f, 0)
	if m1, ok1 := readMeta(f, int64(m.pageSize)); !ok || (ok1 && m1.txid > m.txid) {
		m = m1
	}
	return int64(m.pgid) * int64(m.pageSize)
}

// TestTruncated: a file cut to half its pages is refused on open with an
// error naming the file and both lengths, and one cut while open gives
// errors from window and status, never a crash. If it failed, a cut-off
// download of a baseline would kill the reading command with a fault.
func TestTruncated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.db")
	end := buildFile(t, path, 3000, 6)
	used := usedBytes(t, path)
	if used < 2<<20 {
		t.Fatalf("baseline uses %d bytes, want a few MiB", used)
	}
	open, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	if err := os.Truncate(path, used/2); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%s is truncated: %d bytes, the baseline needs %d", path, used/2, used)
	for _, ro := range []bool{true, false} {
		s, err := Open(path, Options{ReadOnly: ro, Timeout: 100 * time.Millisecond})
		if err == nil {
			s.Close()
		}
		if !errors.Is(err, ErrTruncated) || !containsStr(err.Error(), want) {
			t.Errorf("open (read-only %v): %v, want %q", ro, err, want)
		}
	}
	ctx := context.Background()
	if _, err := open.Window(ctx, day0, end); !errors.Is(err, ErrCorrupt) || !containsStr(err.Error(), path) {
		t.Errorf("window of the file cut while open: %v, want an ErrCorrupt naming it", err)
	}
	if _, err := open.Status(ctx); !errors.Is(err, ErrCorrupt) || !containsStr(err.Error(), path) {
		t.Errorf("status of the file cut while open: %v, want an ErrCorrupt naming it", err)
	}
}

// TestFlippedBytes: 16 bytes flipped at random in a baseline of many
// pages give, in each of 24 seeded runs, the same window or an error,
// never different evidence. If it failed, a damaged file would silently
// change the policies generated from it.
func TestFlippedBytes(t *testing.T) {
	dir := t.TempDir()
	clean := filepath.Join(dir, "clean.db")
	end := buildFile(t, clean, 2000, 4)
	want := readWindow(t, clean, end)
	if want.err != nil {
		t.Fatal(want.err)
	}
	data, err := os.ReadFile(clean)
	if err != nil {
		t.Fatal(err)
	}
	used := usedBytes(t, clean)
	errs := 0
	for seed := range 24 {
		rng := rand.New(rand.NewPCG(uint64(seed), 13))
		bad := append([]byte(nil), data...)
		for range 16 {
			bad[rng.Int64N(used)] ^= byte(1 + rng.IntN(255))
		}
		path := filepath.Join(dir, fmt.Sprintf("bad%d.db", seed))
		if err := os.WriteFile(path, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		got := readWindow(t, path, end)
		switch {
		case got.err != nil:
			errs++
			if !containsStr(got.err.Error(), path) {
				t.Errorf("seed %d: error %v does not name the file", seed, got.err)
			}
		case !reflect.DeepEqual(got.edges, want.edges):
			t.Errorf("seed %d: the window differs from the undamaged file's, with no error", seed)
		}
	}
	t.Logf("%d of 24 damaged files gave an error, the others the same window", errs)
}

type windowResult struct {
	edges any
	err   error
}

func readWindow(tb testing.TB, path string, end time.Time) windowResult {
	tb.Helper()
	s, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		return windowResult{err: err}
	}
	defer s.Close()
	w, err := s.Window(context.Background(), day0, end)
	if err != nil {
		return windowResult{err: err}
	}
	if _, err := s.Status(context.Background()); err != nil {
		return windowResult{err: err}
	}
	return windowResult{edges: w.Edges}
}
