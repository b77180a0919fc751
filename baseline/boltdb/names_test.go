package boltdb

import (
	"context"
	"net/netip"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/topology"
)

var (
	saas     = topology.End{Kind: topology.KindExternal, Addr: netip.MustParseAddr("203.0.113.5")}
	saasEdge = topology.Edge{Src: frontend, Dst: saas, Port: 443, Proto: flow.TCP}
)

func ms(t time.Time) int64 { return t.UnixMilli() }

func namesDelta(at time.Time, names ...string) *baseline.Delta {
	d := &baseline.Delta{Edges: []baseline.EdgeDelta{{Edge: saasEdge, Cells: []baseline.Cell{cell(at, 1, 0)}}}}
	for _, n := range names {
		d.Edges[0].Names = append(d.Edges[0].Names, baseline.NameSeen{Name: n, First: ms(at), Last: ms(at)})
		for _, a := range []string{"203.0.113.5", "203.0.113.6"} {
			d.Answers = append(d.Answers, baseline.Answer{Name: n, Addr: netip.MustParseAddr(a), First: ms(at), Last: ms(at)})
		}
	}
	return d
}

// An edge's names and the names' addresses are stored and given back by
// the windows they were seen in, and only by those; reopened read-only
// too. If it failed, generate would name peers with names no longer used,
// or lose them.
func TestNamesWindow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	apply(t, s, namesDelta(t0, "b.example.com", "a.example.com"))
	apply(t, s, namesDelta(t0.Add(2*time.Hour), "c.example.com"))
	apply(t, s, namesDelta(t0.Add(2*time.Hour+time.Minute), "a.example.com")) // seen again: widened, not repeated
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tests := []struct {
		name     string
		from, to time.Time
		names    []string
		resolved []string
	}{
		{"first hour", t0, t0.Add(time.Hour), []string{"a.example.com", "b.example.com"}, []string{"a.example.com", "b.example.com"}},
		{"third hour", t0.Add(2 * time.Hour), t0.Add(3 * time.Hour), []string{"a.example.com", "c.example.com"}, []string{"a.example.com", "c.example.com"}},
		{"both", t0, t0.Add(3 * time.Hour), []string{"a.example.com", "b.example.com", "c.example.com"}, []string{"a.example.com", "b.example.com", "c.example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := window(t, s, tt.from, tt.to)
			if len(w.Edges) != 1 || !slices.Equal(w.Edges[0].Names, tt.names) {
				t.Fatalf("edges %+v, want one named %v", w.Edges, tt.names)
			}
			var got []string
			for n, addrs := range w.Resolved {
				got = append(got, n)
				if want := []netip.Addr{netip.MustParseAddr("203.0.113.5"), netip.MustParseAddr("203.0.113.6")}; !slices.Equal(addrs, want) {
					t.Errorf("%s resolved to %v, want %v", n, addrs, want)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.resolved) {
				t.Errorf("names resolved %v, want %v", got, tt.resolved)
			}
		})
	}
}

// A file written before names existed (no names or answers buckets) reads
// as having none, and a writable open adds the buckets.
func TestNamesBucketsAdded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	apply(t, s, &baseline.Delta{Edges: []baseline.EdgeDelta{{Edge: saasEdge, Cells: []baseline.Cell{cell(t0, 1, 0)}}}})
	err = s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range optionalBuckets {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if w := window(t, ro, t0, t0.Add(time.Hour)); len(w.Edges) != 1 || w.Edges[0].Names != nil || w.Resolved != nil {
		t.Errorf("window of an older file: %+v", w)
	}
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	apply(t, s, namesDelta(t0, "a.example.com"))
	if w := window(t, s, t0, t0.Add(time.Hour)); !slices.Equal(w.Edges[0].Names, []string{"a.example.com"}) || len(w.Resolved) != 1 {
		t.Errorf("window after names were added: %+v", w)
	}
}

// Names and answers past the last tier go with the counts.
func TestNamesRetained(t *testing.T) {
	r, _ := baseline.ParseRetention("1m:1h,1h:24h")
	s := openTest(t, Options{Retention: r, Now: func() time.Time { return t0 }})
	apply(t, s, namesDelta(t0, "a.example.com"))
	if _, err := s.Retain(context.Background(), t0.Add(50*time.Hour)); err != nil {
		t.Fatal(err)
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, b := range optionalBuckets {
			if k, _ := tx.Bucket(b).Cursor().First(); k != nil {
				t.Errorf("bucket %s still holds %x", b, k)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
