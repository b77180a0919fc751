package boltdb

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/flowpol/flowpol/generator"
	"github.com/flowpol/flowpol/topology"
)

// The fixture: testdata/v1.db.gz is testdata/example learned by the release
// that wrote schema 1, and the goldens are what that release's generate
// and topology said of it for this window.
var (
	v1Until = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	v1From  = v1Until.Add(-3 * time.Hour)
)

// copyFixture copies the schema-1 fixture into a temporary directory.
func copyFixture(tb testing.TB) string {
	tb.Helper()
	return copyGzip(tb, "testdata/v1.db.gz", "v1.db")
}

// copyGzip copies a gzipped fixture into a temporary directory as name.
func copyGzip(tb testing.TB, fixture, name string) string {
	tb.Helper()
	data, err := readGzip(fixture)
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// TestMigrateV1: opening a schema-1 file, read-only or not, migrates it,
// keeps the original beside it and says so; the migrated file gives the
// policies and the window (edges, counts, first and last seen) the old
// release gave. If it failed, upgrading would change an existing
// baseline's policies or lose the original.
func TestMigrateV1(t *testing.T) {
	for _, readOnly := range []bool{false, true} {
		t.Run(fmt.Sprintf("read-only=%v", readOnly), func(t *testing.T) {
			path := copyFixture(t)
			orig, _ := os.ReadFile(path)
			var notes []string
			s, err := Open(path, Options{ReadOnly: readOnly, Log: func(m string) { notes = append(notes, m) }})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			want := path + ": migrated baseline schema 1 → 3; the original is " + path + ".v1.bak"
			if len(notes) != 1 || notes[0] != want {
				t.Errorf("notices %q, want %q", notes, want)
			}
			if bak, err := os.ReadFile(path + ".v1.bak"); err != nil || !bytes.Equal(bak, orig) {
				t.Errorf("backup: %v, same as the original: %v", err, bytes.Equal(bak, orig))
			}
			w, err := s.Window(context.Background(), v1From, v1Until)
			if err != nil {
				t.Fatal(err)
			}
			checkPolicies(t, w, "testdata/v1.generate.golden.yaml")
			checkTopology(t, w, "testdata/v1.topology.golden.txt")
		})
	}
}

// TestMigrateOnce: a migrated file opens as schema 3 with no second
// migration. If it failed, every open would rewrite the file.
func TestMigrateOnce(t *testing.T) {
	path := copyFixture(t)
	for i := range 2 {
		var notes []string
		s, err := Open(path, Options{Log: func(m string) { notes = append(notes, m) }})
		if err != nil {
			t.Fatal(err)
		}
		st, err := s.Status(context.Background())
		s.Close()
		if err != nil || st.Schema != 3 || st.Edges != 12 || (i == 1) != (len(notes) == 0) {
			t.Errorf("open %d: status %+v (%v), notices %q; want schema 3, 12 edges, a notice only the first time", i, st, err, notes)
		}
	}
}

// TestMigrateNeedsWrite: a read-only open of a schema-1 file that cannot
// be written is an error naming the file and saying why, and the file is
// left as it was.
func TestMigrateNeedsWrite(t *testing.T) {
	if os.Getuid() == 0 {
		t.Skip("root writes any file: the permission cannot be denied")
	}
	path := copyFixture(t)
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path, Options{ReadOnly: true})
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "needs write access") {
		t.Errorf("error %v, want one naming %s and saying it needs write access", err, path)
	}
}

// The schema-2 fixture: testdata/v2.db.gz is testdata/example learned by
// the release that wrote schema 2 (flowpol learn --from
// testdata/example/flows.jsonl --inventory testdata/example/cluster.yaml
// --retain 1m:400d,1h:800d, minutes kept whatever the clock), and the
// goldens are what that release's generate and topology said of it for
// the schema-1 fixture's window.
func copyV2Fixture(tb testing.TB) string {
	tb.Helper()
	return copyGzip(tb, "testdata/v2.db.gz", "v2.db")
}

// TestMigrateV2: a writable open of a schema-2 file migrates it to 3,
// keeps the original beside it and says so, once; a read-only open reads
// it as it is, leaving the file unchanged. Either way the window and the
// policies are the release's, with no estimated counts. If it failed,
// upgrading would change an existing baseline's policies, lose the
// original, or make read-only commands write.
func TestMigrateV2(t *testing.T) {
	for _, readOnly := range []bool{false, true} {
		t.Run(fmt.Sprintf("read-only=%v", readOnly), func(t *testing.T) {
			path := copyV2Fixture(t)
			orig, _ := os.ReadFile(path)
			for i := range 2 {
				var notes []string
				s, err := Open(path, Options{ReadOnly: readOnly, Log: func(m string) { notes = append(notes, m) }})
				if err != nil {
					t.Fatal(err)
				}
				wantNotes, wantSchema := []string{}, 2
				if !readOnly {
					wantSchema = 3
					if i == 0 {
						wantNotes = []string{path + ": migrated baseline schema 2 → 3; the original is " + path + ".v2.bak"}
					}
				}
				if fmt.Sprint(notes) != fmt.Sprint(wantNotes) {
					t.Errorf("open %d: notices %q, want %q", i, notes, wantNotes)
				}
				st, err := s.Status(context.Background())
				if err != nil || st.Schema != wantSchema || st.Edges != 12 {
					t.Errorf("open %d: status %+v (%v), want schema %d and 12 edges", i, st, err, wantSchema)
				}
				w, err := s.Window(context.Background(), v1From, v1Until)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range w.Edges {
					if e.Estimated != 0 {
						t.Errorf("%v: %d estimated, the file has none", e.Edge, e.Estimated)
					}
				}
				checkPolicies(t, w, "testdata/v2.generate.golden.yaml")
				checkTopology(t, w, "testdata/v2.topology.golden.txt")
				s.Close()
			}
			_, bakErr := os.Stat(path + ".v2.bak")
			if now, _ := os.ReadFile(path); readOnly != bytes.Equal(now, orig) || readOnly != os.IsNotExist(bakErr) {
				t.Errorf("read-only=%v: file unchanged %v, backup: %v", readOnly, bytes.Equal(now, orig), bakErr)
			}
			if bak, err := os.ReadFile(path + ".v2.bak"); !readOnly && (err != nil || !bytes.Equal(bak, orig)) {
				t.Errorf("backup: %v, same as the original: %v", err, bytes.Equal(bak, orig))
			}
		})
	}
}

var windowLine = regexp.MustCompile(`(?m)^    flowpol\.io/window: .*$`)

// observedDays is the annotation releases after schema 1 added: the
// release's policies have none.
var observedDays = regexp.MustCompile(`(?m)^    flowpol\.io/observed-days: .*\n`)

func checkPolicies(t *testing.T, w *topology.Window, golden string) {
	t.Helper()
	res := generator.Generate(w, generator.Options{SkipNamespaces: []string{"kube-system"}})
	var got bytes.Buffer
	if err := generator.WriteStream(&got, res.Policies); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	strip := func(b []byte) string {
		return windowLine.ReplaceAllString(observedDays.ReplaceAllString(string(b), ""), "    flowpol.io/window: -")
	}
	if !observedDays.Match(got.Bytes()) {
		t.Errorf("policies have no %s annotation", generator.AnnotationObservedDays)
	}
	if strip(got.Bytes()) != strip(want) {
		t.Errorf("policies differ from the old release's:\n%s\nwant:\n%s", got.String(), want)
	}
}

// checkTopology compares the window's edges with the rows of the old
// release's topology table: an edge from a workload is its source's
// egress row, any other its destination's ingress row.
func checkTopology(t *testing.T, w *topology.Window, golden string) {
	t.Helper()
	f, err := os.Open(golden)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want, err := topologyRows(f)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range w.Edges {
		key := fmt.Sprintf("%s -> %s %d/%s", e.Src, e.Dst, e.Port, e.Proto)
		got[key] = fmt.Sprintf("%d %s %s", e.Count, e.First.Format(time.RFC3339), e.Last.Format(time.RFC3339))
	}
	if len(got) != len(want) {
		t.Errorf("%d edges, the old release had %d", len(got), len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, the old release had %q", k, got[k], v)
		}
	}
}

var columns = regexp.MustCompile(`\s{2,}`)

func topologyRows(r io.Reader) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := columns.Split(sc.Text(), -1)
		if len(f) < 7 || (f[1] != "egress" && f[1] != "ingress") {
			if strings.HasPrefix(sc.Text(), "external and unresolved") {
				break
			}
			continue
		}
		src, dst := f[0], f[2]
		if f[1] == "ingress" {
			if isWorkloadText(dst) {
				continue // the peer's egress row
			}
			src, dst = dst, src
		}
		out[src+" -> "+dst+" "+f[3]] = f[4] + " " + f[5] + " " + f[6]
	}
	if len(out) == 0 {
		return nil, errors.New("no rows in the topology golden")
	}
	return out, sc.Err()
}

func isWorkloadText(s string) bool {
	return strings.Count(s, "/") == 2 && !strings.HasPrefix(s, "host/") && !strings.HasPrefix(s, "unresolved/")
}

// readGzip reads a gzipped file whole: the fixture is 16 MiB of mostly
// empty pages as bbolt grew it, and 19 KiB gzipped.
func readGzip(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return io.ReadAll(zr)
}
