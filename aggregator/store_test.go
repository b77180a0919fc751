package aggregator

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/resolve"
)

func openTemp(t testing.TB, opts StoreOptions) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "f.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestOpenRefuses(t *testing.T) {
	dir := t.TempDir()
	foreign := filepath.Join(dir, "foreign.db")
	db, err := bolt.Open(foreign, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("other")); return err })
	db.Close()

	future := filepath.Join(dir, "future.db")
	s, err := Open(future, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keySchema, []byte("99")) })
	s.Close()

	tests := []struct {
		name string
		path string
		opts StoreOptions
		want error
	}{
		{"a bbolt file of something else", foreign, StoreOptions{}, ErrNotBaseline},
		{"a newer schema", future, StoreOptions{}, ErrSchema},
		{"a newer schema, read-only", future, StoreOptions{ReadOnly: true}, ErrSchema},
		{"a bucket width that is not whole seconds", filepath.Join(dir, "w.db"), StoreOptions{Bucket: 1500 * time.Millisecond}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(tt.path, tt.opts)
			if err == nil {
				s.Close()
				t.Fatal("opened; want an error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.path) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestOpenKeepsBucketWidth(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.db")
	s, err := Open(path, StoreOptions{Bucket: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(path, StoreOptions{Bucket: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Bucket() != 5*time.Minute {
		t.Errorf("bucket width %v after reopening, want the 5m it was created with", s.Bucket())
	}
}

func rec(ts string, src, dst string, obs flow.Observer, count uint64) *flow.Record {
	t, err := time.Parse(time.RFC3339, ts)
	if err != nil {
		panic(err)
	}
	return &flow.Record{Time: t, Node: "node-a", Proto: flow.TCP, Src: netip.MustParseAddrPort(src),
		Dst: netip.MustParseAddrPort(dst), Observer: obs, Count: count}
}

// learnRecords commits records, each batch of them in one transaction.
func learnRecords(t testing.TB, s *Store, r *resolve.Static, batches ...[]*flow.Record) {
	t.Helper()
	l := NewLearner(s, r, LearnOptions{BatchRecords: 1 << 30})
	for _, b := range batches {
		for i, rc := range b {
			if err := l.Add(rc, i+1); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.Commit(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestWindowCounts(t *testing.T) {
	s := openTemp(t, StoreOptions{})
	r := exampleResolver(t)
	const api = "10.244.1.20:8080"
	learnRecords(t, s, r,
		[]*flow.Record{
			rec("2026-11-22T10:00:10Z", "10.244.1.10:1", "10.96.10.20:80", flow.Client, 7),
			rec("2026-11-22T10:00:20Z", "10.244.1.10:1", api, flow.Server, 5), // the same connections, seen by fewer servers
			rec("2026-11-22T10:59:59Z", "10.244.1.10:1", api, flow.Server, 3),
		},
		[]*flow.Record{
			rec("2026-11-22T10:00:30Z", "10.244.1.10:1", api, flow.Server, 4), // a later batch, same bucket
			rec("2026-11-22T11:00:00Z", "10.244.1.10:1", api, flow.Client, 100),
		},
	)
	tests := []struct {
		name        string
		from, to    string
		count       uint64
		first, last string
	}{
		{"whole hour: max(7 client, 9 server) + 3", "2026-11-22T10:00:00Z", "2026-11-22T11:00:00Z", 12, "2026-11-22T10:00:10Z", "2026-11-22T10:59:59Z"},
		{"rounded out to the bucket", "2026-11-22T10:00:45Z", "2026-11-22T10:00:50Z", 9, "2026-11-22T10:00:10Z", "2026-11-22T10:00:30Z"},
		{"the last bucket only", "2026-11-22T10:59:00Z", "2026-11-22T11:00:00Z", 3, "2026-11-22T10:59:59Z", "2026-11-22T10:59:59Z"},
		{"end is exclusive", "2026-11-22T10:30:00Z", "2026-11-22T10:59:00Z", 0, "", ""},
		{"the next hour", "2026-11-22T11:00:00Z", "2026-11-22T12:00:00Z", 100, "2026-11-22T11:00:00Z", "2026-11-22T11:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, _ := time.Parse(time.RFC3339, tt.from)
			to, _ := time.Parse(time.RFC3339, tt.to)
			w, err := s.Window(from, to)
			if err != nil {
				t.Fatal(err)
			}
			if tt.count == 0 {
				if len(w.Edges) != 0 {
					t.Fatalf("edges %v, want none", w.Edges)
				}
				return
			}
			if len(w.Edges) != 1 {
				t.Fatalf("%d edges, want 1: %v", len(w.Edges), w.Edges)
			}
			e := w.Edges[0]
			if e.Count != tt.count || stampOf(e.First) != tt.first || stampOf(e.Last) != tt.last {
				t.Errorf("count %d, first %s, last %s; want %d, %s, %s", e.Count, stampOf(e.First), stampOf(e.Last), tt.count, tt.first, tt.last)
			}
			if e.SrcPods != 1 || e.DstPods != 1 || len(e.Nodes) != 1 {
				t.Errorf("src pods %d, dst pods %d, nodes %v; want 1, 1, [node-a]", e.SrcPods, e.DstPods, e.Nodes)
			}
		})
	}
}

func stampOf(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func TestLearnStopsOnMalformedWithoutCommitting(t *testing.T) {
	s := openTemp(t, StoreOptions{})
	l := NewLearner(s, exampleResolver(t), LearnOptions{BatchRecords: 2})
	in := `{"time":"2026-11-22T10:00:00Z","proto":"TCP","src_ip":"10.244.1.10","dst_ip":"10.244.1.20","dst_port":8080,"observer":"client"}
{"time":"2026-11-22T10:00:00Z","proto":"TCP","src_ip":"10.244.1.10","dst_ip":"10.244.1.20","dst_port":8080,"observer":"client"}
{"time":"2026-11-22T10:00:00Z","proto":"TCP","src_ip":"10.244.1.10","dst_ip":"10.244.1.20","dst_port":8080,"observer":"client"}
{"time":"2026-11-22T10:00:00Z","proto":"TCP"}
`
	err := Learn(context.Background(), flow.NewReader(strings.NewReader(in), "in.jsonl"), l)
	if !errors.Is(err, flow.ErrMalformed) {
		t.Fatalf("error %v, want a malformed record", err)
	}
	if sum := l.Summary(); sum.Stored != 2 || sum.StoredLines != 2 || sum.Batches != 1 {
		t.Errorf("summary %+v, want 2 records through line 2 in 1 batch", sum)
	}
	w, err := s.Window(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Edges) != 1 || w.Edges[0].Count != 2 {
		t.Fatalf("edges %+v, want the first batch's 2 connections only", w.Edges)
	}
}

// A baseline whose pages were overwritten gives an error that names the
// file, not a crash.
func TestCorruptFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.db")
	s, err := Open(path, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := exampleResolver(t)
	var recs []*flow.Record
	for i := range 2000 {
		recs = append(recs, rec("2026-11-22T10:00:00Z", "10.244.1.10:1", netip.AddrPortFrom(netip.AddrFrom4([4]byte{203, 0, byte(i >> 8), byte(i)}), 443).String(), flow.Client, 1))
	}
	learnRecords(t, s, r, recs)
	s.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const page = 4096
	for i := 4 * page; i < len(data); i++ { // keep the meta pages, wreck the rest
		data[i] = byte(i * 7)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, StoreOptions{ReadOnly: true})
	if err == nil {
		_, err = s.Window(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC))
		s.Close()
	}
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v, want one that names %s", err, path)
	}
	t.Logf("error: %v", err)
}
