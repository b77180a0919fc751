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

// A store of schema 1 (no names, answers or attachments tables, commits
// without what trimming reads) is migrated on open: what it held still
// counts, and the new tables and columns take names, answers and
// attachments. If it failed, upgrading flowpol would lose a baseline or
// refuse it.
func TestMigrateFromSchema1(t *testing.T) {
	srv := startServers(t, 2)
	ctx := context.Background()
	day := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return day.Add(10 * time.Hour) }
	for _, sharded := range []bool{false, true} {
		db := map[bool]string{false: "v1_single", true: "v1_sharded"}[sharded]
		u := storeURL(srv, db, sharded, "")
		s := openCH(t, u, Options{Now: clock})
		if _, err := s.Apply(ctx, onceDelta("a", 1, false, 5)); err != nil {
			t.Fatal(err)
		}
		toSchema1(t, s)
		if v, _, err := s.db.schemaVersion(ctx); err != nil || v != 1 {
			t.Fatalf("made schema %d, %v; want 1", v, err)
		}
		m := openCH(t, u, Options{Now: clock})
		if v, _, err := m.db.schemaVersion(ctx); err != nil || v != SchemaVersion {
			t.Fatalf("migrated to schema %d, %v; want %d", v, err, SchemaVersion)
		}
		if got := total(t, m); got != 5 {
			t.Errorf("sharded=%v: after migrating, the window counts %d, want 5", sharded, got)
		}
		d := onceDelta("a", 2, false, 2)
		d.Edges[0].Names = []baseline.NameSeen{{Name: "example.com", First: 1, Last: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC).UnixMilli()}}
		d.Attachments = map[string][]byte{"staged": []byte("record")}
		if _, err := m.Apply(ctx, d); err != nil {
			t.Fatal(err)
		}
		w, err := m.Window(ctx, day, day.Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(w.Edges) != 1 || w.Edges[0].Count != 7 || fmt.Sprint(w.Edges[0].Names) != "[example.com]" {
			t.Errorf("sharded=%v: after migrating, edges %+v; want one of 7 connections named example.com", sharded, w.Edges)
		}
		if v, err := m.Attachment(ctx, "staged"); err != nil || string(v) != "record" {
			t.Errorf("sharded=%v: attachment %q, %v", sharded, v, err)
		}
	}
}

// A store of schema 2 (cells without estimated counts) is migrated on
// open: what it held still counts, none of it estimated, and the new
// column takes estimated counts. If it failed, upgrading would lose a
// baseline, or estimates would not be kept.
func TestMigrateFromSchema2(t *testing.T) {
	srv := startServers(t, 2)
	ctx := context.Background()
	day := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return day.Add(10 * time.Hour) }
	for _, sharded := range []bool{false, true} {
		db := map[bool]string{false: "v2_single", true: "v2_sharded"}[sharded]
		u := storeURL(srv, db, sharded, "")
		s := openCH(t, u, Options{Now: clock})
		if _, err := s.Apply(ctx, onceDelta("a", 1, false, 5)); err != nil {
			t.Fatal(err)
		}
		toSchema2(t, s)
		if err := s.db.setSchema(ctx, 2); err != nil {
			t.Fatal(err)
		}
		m := openCH(t, u, Options{Now: clock})
		if v, _, err := m.db.schemaVersion(ctx); err != nil || v != SchemaVersion {
			t.Fatalf("migrated to schema %d, %v; want %d", v, err, SchemaVersion)
		}
		w, err := m.Window(ctx, day, day.Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(w.Edges) != 1 || w.Edges[0].Count != 5 || w.Edges[0].Estimated != 0 {
			t.Errorf("sharded=%v: after migrating, edges %+v; want one of 5 connections, none estimated", sharded, w.Edges)
		}
		d := onceDelta("a", 2, false, 3)
		d.Edges[0].Cells[0].Estimated = 3
		if _, err := m.Apply(ctx, d); err != nil {
			t.Fatal(err)
		}
		if w, err = m.Window(ctx, day, day.Add(24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if len(w.Edges) != 1 || w.Edges[0].Count != 8 || w.Edges[0].Estimated != 3 {
			t.Errorf("sharded=%v: after migrating, edges %+v; want one of 8 connections, 3 estimated", sharded, w.Edges)
		}
	}
}

// toSchema2 takes away what schema 3 added, leaving the schema table as
// it is.
func toSchema2(t *testing.T, s *Store) {
	t.Helper()
	var qs []string
	if s.db.opts.shards != "" {
		qs = append(qs, "ALTER TABLE "+s.db.table(tableCells)+" DROP COLUMN "+colEstimated.name)
	}
	qs = append(qs, "ALTER TABLE "+s.db.local(tableCells)+" DROP COLUMN "+colEstimated.name, "TRUNCATE TABLE "+s.db.local(tableSchema))
	err := s.db.onShards(context.Background(), func(ctx context.Context, c shardConn) error { return c.execAll(ctx, qs) })
	if err != nil {
		t.Fatal(err)
	}
}

// toSchema1 takes away what schemas 2 and 3 added and records schema 1.
func toSchema1(t *testing.T, s *Store) {
	t.Helper()
	toSchema2(t, s)
	ctx := context.Background()
	var qs []string
	for _, tb := range []table{tableNames, tableAnswers, tableAttachments} {
		if s.db.opts.shards != "" {
			qs = append(qs, "DROP TABLE "+s.db.table(tb))
		}
		qs = append(qs, "DROP TABLE "+s.db.local(tb))
	}
	for _, c := range []column{colNewest, colCoarsest} {
		if s.db.opts.shards != "" {
			qs = append(qs, "ALTER TABLE "+s.db.table(tableCommits)+" DROP COLUMN "+c.name)
		}
		qs = append(qs, "ALTER TABLE "+s.db.local(tableCommits)+" DROP COLUMN "+c.name)
	}
	qs = append(qs, "TRUNCATE TABLE "+s.db.local(tableSchema))
	err := s.db.onShards(ctx, func(ctx context.Context, c shardConn) error { return c.execAll(ctx, qs) })
	if err != nil {
		t.Fatal(err)
	}
	if err := s.db.setSchema(ctx, 1); err != nil {
		t.Fatal(err)
	}
}
