package cli_test

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/baseline/boltdb"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/topology"
)

// withFreePages makes a baseline of a few MiB and ages most of it out, so
// much of the file is free pages.
func withFreePages(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "flowpol.db")
	s, err := boltdb.Open(db, boltdb.Options{Retention: baseline.Retention{{Bucket: time.Minute, Keep: time.Hour}}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	ctx := context.Background()
	for h := range 3 {
		d := &baseline.Delta{}
		for i := range 1500 {
			e := baseline.EdgeDelta{Edge: topology.Edge{
				Src:  topology.End{Kind: topology.KindWorkload, Workload: topology.WorkloadRef{Namespace: "ns", Kind: "Deployment", Name: fmt.Sprint("w", i)}},
				Dst:  topology.End{Kind: topology.KindExternal},
				Port: 443, Proto: flow.TCP,
			}}
			for m := range 60 {
				e.Cells = append(e.Cells, baseline.Cell{Start: start.Add(time.Duration(h*60+m) * time.Minute).Unix(), Client: uint64(1 + m%3)})
			}
			d.Edges = append(d.Edges, e)
		}
		if _, err := s.Apply(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Retain(ctx, start.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	return db
}

// schema1Copy copies the schema-1 baseline fixture into a temporary file.
func schema1Copy(t *testing.T) string {
	t.Helper()
	f, err := os.Open(repoFile("baseline", "boltdb", "testdata", "v1.db.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "flowpol.db")
	if err := os.WriteFile(db, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return db
}

// status --format json has exactly the documented keys and says what the
// file holds; the schema-1 file it reads is migrated first, with a notice
// on standard error. If it failed, scripts reading the status would break
// or an upgrade would go unannounced.
func TestStatusJSON(t *testing.T) {
	db := schema1Copy(t)
	r := mustRun(t, "status", "--db", db, "--format", "json")
	if want := db + ": migrated baseline schema 1 → 3; the original is " + db + ".v1.bak\n"; r.err != want {
		t.Errorf("stderr %q, want %q", r.err, want)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(r.out), &raw); err != nil {
		t.Fatalf("%v:\n%s", err, r.out)
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range raw {
			if !yield(k) {
				return
			}
		}
	})
	if want := []string{"edges", "file_bytes", "runs", "schema", "tiers"}; !slices.Equal(keys, want) {
		t.Errorf("keys %v, want %v", keys, want)
	}
	var st struct {
		Schema    int   `json:"schema"`
		FileBytes int64 `json:"file_bytes"`
		Edges     int   `json:"edges"`
		Tiers     []map[string]any
		Runs      []map[string]any
	}
	if err := json.Unmarshal([]byte(r.out), &st); err != nil {
		t.Fatal(err)
	}
	tiers := fmt.Sprint(st.Tiers)
	want := "[map[bucket:1m cells:14 keep:48h oldest:2026-11-22T05:30:00Z] map[bucket:1h cells:0 keep:90d]]"
	if st.Schema != 3 || st.FileBytes <= 0 || st.Edges != 12 || tiers != want || len(st.Runs) != 1 || st.Runs[0]["records"] != 23.0 {
		t.Errorf("status %s\nwant schema 3, bytes, 12 edges, tiers %s, the one run of 23 records", r.out, want)
	}
}

// The text form is a table of the tiers and the runs, and a bad --format
// is an error.
func TestStatusText(t *testing.T) {
	db := schema1Copy(t)
	r := mustRun(t, "status", "--db", db)
	for _, w := range []string{db + ": schema 3,", "12 edges", "BUCKET  KEEP  CELLS  OLDEST", "1m      48h   14     2026-11-22T05:30:00Z", "1h      90d   0      -", "1 learning runs"} {
		if !strings.Contains(r.out, w) {
			t.Errorf("output lacks %q:\n%s", w, r.out)
		}
	}
	if r := run(t, "", "status", "--db", db, "--format", "yaml"); r.code == 0 || !strings.Contains(r.err, "--format") {
		t.Errorf("--format yaml: exit %d, %q; want an error", r.code, r.err)
	}
	if r := run(t, "", "status", "--db", db+".none"); r.code == 0 || !strings.Contains(r.err, db+".none") {
		t.Errorf("a missing file: exit %d, %q; want an error naming it", r.code, r.err)
	}
}

// compact shrinks a file with free pages and says by how much; the file
// then gives the same status. If it failed, retention would never give
// space back.
func TestCompact(t *testing.T) {
	db := withFreePages(t)
	before := mustRun(t, "status", "--db", db, "--format", "json").out
	r := mustRun(t, "compact", "--db", db)
	var from, to int64
	if _, err := fmt.Sscanf(strings.TrimPrefix(r.out, db+": "), "%d → %d bytes", &from, &to); err != nil || to >= from {
		t.Fatalf("compact said %q (%v), want FILE: N → M bytes with M < N", r.out, err)
	}
	if fi, err := os.Stat(db); err != nil || fi.Size() != to {
		t.Errorf("file is %v bytes (%v), compact said %d", fi.Size(), err, to)
	}
	after := mustRun(t, "status", "--db", db, "--format", "json").out
	strip := func(s string) string {
		return strings.Join(slices.DeleteFunc(strings.Split(s, "\n"), func(l string) bool { return strings.Contains(l, "file_bytes") }), "\n")
	}
	if strip(before) != strip(after) {
		t.Errorf("status changed by compaction:\n%s\nwas:\n%s", after, before)
	}
	if _, err := os.Stat(db + ".compact-tmp"); !os.IsNotExist(err) {
		t.Errorf("compaction left its temporary file: %v", err)
	}
}
