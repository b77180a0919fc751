package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/flowpol/flowpol/baseline"
)

// A store of a newer schema is refused, naming both versions; reopening
// one of this schema changes nothing.
func TestSchemaVersion(t *testing.T) {
	srv := startServers(t, 1)
	u := storeURL(srv, "schema", false, "")
	s := openCH(t, u, Options{})
	openCH(t, u, Options{}) // again: the same schema
	if err := s.db.setSchema(context.Background(), SchemaVersion+1); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), u, Options{})
	if !errors.Is(err, ErrSchema) {
		t.Fatalf("a newer schema opened: %v", err)
	}
	if want := fmt.Sprintf("schema %d, this build reads %d", SchemaVersion+1, SchemaVersion); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
}

// Retention rolls the minute cells past their keep into hours and drops
// the day partitions wholly before each cut; the window over the whole
// time still counts every connection.
func TestRetentionDropsPartitions(t *testing.T) {
	srv := startServers(t, 1)
	ret, err := baseline.ParseRetention("1m:1d,1h:2d")
	if err != nil {
		t.Fatal(err)
	}
	day0 := time.Date(2026, 11, 18, 0, 0, 0, 0, time.UTC)
	now := day0.Add(4 * 24 * time.Hour)
	s := openCH(t, storeURL(srv, "retention", false, ""), Options{Retention: ret, Now: func() time.Time { return now }})
	var want uint64
	for d := range 4 {
		delta := hourDelta(day0.Add(time.Duration(d)*24*time.Hour+12*time.Hour), 3)
		for _, e := range delta.Edges {
			for _, c := range e.Cells {
				if d >= 2 { // the first two days are past the last tier when retention runs
					want += c.Client
				}
			}
		}
		if _, err := s.Apply(context.Background(), delta); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Retain(context.Background(), now); err != nil {
		t.Fatal(err)
	}
	var parts []string
	err = eachRowQuery(s, "SELECT DISTINCT partition FROM system.parts WHERE active AND database = 'retention' AND table = 'cells' ORDER BY partition", func(p string) { parts = append(parts, p) })
	if err != nil {
		t.Fatal(err)
	}
	// Minutes are kept from the cut a day back (Nov 21 on), hours from two
	// days back (Nov 20 on).
	wantParts := []string{"(0,'2026-11-21')", "(1,'2026-11-20')"}
	if fmt.Sprint(parts) != fmt.Sprint(wantParts) {
		t.Errorf("partitions %v, want %v", parts, wantParts)
	}
	w, err := s.Window(context.Background(), day0, now)
	if err != nil {
		t.Fatal(err)
	}
	var got uint64
	for _, e := range w.Edges {
		got += e.Count
	}
	if got != want {
		t.Errorf("the window counts %d connections, want %d", got, want)
	}
}

func eachRowQuery(s *Store, q string, fn func(string)) error {
	rows, err := s.db.conn.Query(context.Background(), q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return err
		}
		fn(v)
	}
	return rows.Err()
}
