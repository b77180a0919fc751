package clickhouse

import (
	"context"
	"fmt"
	"strings"
)

// SchemaVersion is the schema this build writes and reads. A store of an
// older version is migrated on open (migrations); a newer one is refused.
const SchemaVersion = 3

// column is one column of a table.
type column struct{ name, typ string }

// table is one of the store's tables. Adding a column is one line here and
// one migration step (addColumn) under the next SchemaVersion.
type table struct {
	name        string
	columns     []column
	partitionBy string // empty: one partition
	orderBy     string
	// shardKey spreads the rows of a Distributed table over the shards;
	// the rows one insert must keep together share it.
	shardKey string
}

// The tables. Every row names its Kubernetes cluster; the rows an Apply
// writes name its commit, and count only once the commit is in commits.
var (
	tableCells = table{name: "cells", columns: []column{
		{"cluster", "String"}, {"tier", "UInt8"}, {"start", "DateTime"}, {"edge", "UInt64"}, {"commit", "String"},
		{"client", "UInt64"}, {"server", "UInt64"}, {"first_ms", "UInt32"}, {"last_ms", "UInt32"}, colEstimated,
	}, partitionBy: "(tier, toDate(start))", orderBy: "(cluster, tier, start, edge)", shardKey: "edge"}

	tableEdges = table{name: "edges", columns: append(append(endColumns("src"), endColumns("dst")...),
		column{"cluster", "String"}, column{"edge", "UInt64"}, column{"day", "Date"},
		column{"port", "UInt16"}, column{"proto", "UInt8"},
		column{"src_pods", "Array(UInt64)"}, column{"dst_pods", "Array(UInt64)"}, column{"nodes", "Array(String)"},
		column{"src_comms", "Array(String)"}, column{"dst_comms", "Array(String)"},
	), partitionBy: "toYYYYMM(day)", orderBy: "(cluster, edge)", shardKey: "edge"}

	tableWorkloads = table{name: "workloads", columns: []column{
		{"cluster", "String"}, {"namespace", "String"}, {"kind", "String"}, {"name", "String"},
		{"version", "UInt64"}, {"spec", "String"},
	}, orderBy: "(cluster, namespace, kind, name)", shardKey: "cityHash64(namespace, kind, name)"}

	tableClusterFacts = table{name: "cluster_facts", columns: []column{
		{"cluster", "String"}, {"version", "UInt64"}, {"spec", "String"},
	}, orderBy: "(cluster, version)", shardKey: "cityHash64(cluster)"}

	tableCommits = table{name: "commits", columns: []column{
		{"cluster", "String"}, {"commit", "String"}, {"day", "Date"}, {"kind", "UInt8"},
		{"sender", "String"}, {"seq", "UInt64"}, {"prev", "Int64"}, {"writer", "String"}, {"at", "DateTime"},
		colNewest, colCoarsest,
	}, partitionBy: "toYYYYMM(day)", orderBy: "(cluster, kind, sender, seq, commit)", shardKey: "cityHash64(commit)"}

	// The commit's cells, for trimming (schema 2): the start of its newest
	// cell and the coarsest tier it wrote one to; no cells is -1 and 0. A
	// commit of schema 1 had its cells at most a day after it was made, in
	// any tier.
	colNewest   = column{"newest", "Int64 DEFAULT toInt64(at) + 86400"}
	colCoarsest = column{"coarsest", "UInt8 DEFAULT 255"}

	// Of a cell's client count, the connections a split among a Service's
	// workloads estimated (schema 3); in a coarser tier, the estimated part
	// of its count (see baseline.EstimatedPart).
	colEstimated = column{"estimated", "UInt64 DEFAULT 0"}

	// DNS names behind edges and the answers clients received (schema 2),
	// first and last moments in unix milliseconds. The day is the writer's.
	tableNames = table{name: "names", columns: []column{
		{"cluster", "String"}, {"edge", "UInt64"}, {"name", "String"}, {"first", "Int64"}, {"last", "Int64"}, {"day", "Date"},
	}, partitionBy: "toYYYYMM(day)", orderBy: "(cluster, edge, name)", shardKey: "edge"}

	tableAnswers = table{name: "answers", columns: []column{
		{"cluster", "String"}, {"name", "String"}, {"addr", "String"}, {"first", "Int64"}, {"last", "Int64"}, {"day", "Date"},
	}, partitionBy: "toYYYYMM(day)", orderBy: "(cluster, name, addr)", shardKey: "cityHash64(name)"}

	// Attachments (schema 2): each version of a value, valid once its
	// commit is.
	tableAttachments = table{name: "attachments", columns: []column{
		{"cluster", "String"}, {"name", "String"}, {"version", "UInt64"}, {"commit", "String"}, {"value", "String"}, {"day", "Date"},
	}, partitionBy: "toYYYYMM(day)", orderBy: "(cluster, name, version)", shardKey: "cityHash64(name)"}

	tableWaiting = table{name: "waiting", columns: []column{
		{"cluster", "String"}, {"writer", "String"}, {"version", "UInt64"}, {"records", "String"},
	}, orderBy: "(cluster, writer, version)", shardKey: "cityHash64(writer)"}

	tableRuns = table{name: "runs", columns: []column{
		{"cluster", "String"}, {"started", "DateTime"}, {"version", "UInt64"}, {"spec", "String"},
	}, orderBy: "(cluster, started, version)", shardKey: "cityHash64(cluster)"}

	tableSettings = table{name: "settings", columns: []column{
		{"cluster", "String"}, {"version", "UInt64"}, {"tiers", "String"},
	}, orderBy: "(cluster, version)", shardKey: "cityHash64(cluster)"}

	tableSchema = table{name: "schema", columns: []column{
		{"version", "UInt32"}, {"at", "DateTime"},
	}, orderBy: "version", shardKey: "version"}

	allTables = []table{tableCells, tableEdges, tableWorkloads, tableClusterFacts, tableCommits, tableWaiting, tableRuns, tableSettings,
		tableNames, tableAnswers, tableAttachments, tableSchema}
)

// endColumns are the columns of one end of an edge, prefixed.
func endColumns(p string) []column {
	return []column{
		{p + "_kind", "UInt8"}, {p + "_namespace", "String"}, {p + "_workload_kind", "String"}, {p + "_name", "String"},
		{p + "_node", "String"}, {p + "_addr", "String"}, {p + "_reason", "UInt8"},
	}
}

// names lists the table's columns, comma-separated, for an INSERT.
func (t table) names() string {
	n := make([]string, len(t.columns))
	for i, c := range t.columns {
		n[i] = c.name
	}
	return strings.Join(n, ", ")
}

// namesWith lists the table's columns as names does, with expr in place
// of the column col: an INSERT … SELECT of its own rows, one changed.
func (t table) namesWith(col, expr string) string {
	n := make([]string, len(t.columns))
	for i, c := range t.columns {
		n[i] = c.name
		if c.name == col {
			n[i] = expr
		}
	}
	return strings.Join(n, ", ")
}

// migration is what brings a store from the version before to its own.
type migration struct {
	version int
	steps   []step
}

// step is one change of a migration, made on one shard. A step made
// already (a migration cut short and run again) changes nothing.
type step func(ctx context.Context, db *database, c shardConn) error

// migrations are the schema's history, oldest first.
var migrations = []migration{
	// 2: DNS names and answers, attachments, and what trimming the
	// commits needs.
	{version: 2, steps: []step{
		createTable(tableNames), createTable(tableAnswers), createTable(tableAttachments),
		addColumn(tableCommits, colNewest), addColumn(tableCommits, colCoarsest),
	}},
	// 3: the estimated part of the cells' counts.
	{version: 3, steps: []step{addColumn(tableCells, colEstimated)}},
}

// addColumn is a migration step adding a column to a table: to its local
// table and, when sharded, its Distributed table. (18.16 has no ADD
// COLUMN IF NOT EXISTS: system.columns says whether it is there.)
func addColumn(t table, c column) step {
	return func(ctx context.Context, db *database, sc shardConn) error {
		names := []string{t.name}
		if db.opts.shards != "" {
			names = append(names, t.name+"_local")
		}
		for _, name := range names {
			var n uint64
			q := fmt.Sprintf("SELECT count() FROM system.columns WHERE database = %s AND table = %s AND name = %s",
				quoteString(db.opts.database), quoteString(name), quoteString(c.name))
			if err := sc.conn.QueryRow(ctx, q).Scan(&n); err != nil {
				return fmt.Errorf("on %s: %w", sc.addr, err)
			}
			if n > 0 {
				continue
			}
			alter := fmt.Sprintf("ALTER TABLE %s.%s ADD COLUMN %s %s", quoteIdent(db.opts.database), quoteIdent(name), c.name, c.typ)
			if err := sc.exec(ctx, alter); err != nil {
				return err
			}
		}
		return nil
	}
}

// createTable is a migration step making a table a new schema adds.
func createTable(t table) step {
	return func(ctx context.Context, db *database, c shardConn) error {
		return c.execAll(ctx, db.createStatements(t))
	}
}

// createStatements make a table: its MergeTree and, when sharded, its
// Distributed table.
func (db *database) createStatements(t table) []string {
	out := []string{db.createLocal(t)}
	if db.opts.shards != "" {
		out = append(out, db.createDistributed(t))
	}
	return out
}

// createLocal is the DDL of a table's MergeTree.
func (db *database) createLocal(t table) string {
	cols := make([]string, len(t.columns))
	for i, c := range t.columns {
		cols[i] = c.name + " " + c.typ
	}
	part := ""
	if t.partitionBy != "" {
		part = " PARTITION BY " + t.partitionBy
	}
	return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (%s) ENGINE = MergeTree()%s ORDER BY %s",
		db.local(t), strings.Join(cols, ", "), part, t.orderBy)
}

// createDistributed is the DDL of a sharded table's Distributed table.
func (db *database) createDistributed(t table) string {
	return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s AS %s ENGINE = Distributed(%s, %s, %s, %s)",
		db.table(t), db.local(t), db.opts.shards, quoteIdent(db.opts.database), quoteIdent(t.name+"_local"), t.shardKey)
}

// migrate creates the schema of a new store, or brings an older one to
// SchemaVersion; a newer one is an error wrapping ErrSchema.
func (db *database) migrate(ctx context.Context) error {
	if err := db.onShards(ctx, func(ctx context.Context, c shardConn) error {
		return c.exec(ctx, "CREATE DATABASE IF NOT EXISTS "+quoteIdent(db.opts.database))
	}); err != nil {
		return err
	}
	v, exists, err := db.schemaVersion(ctx)
	if err != nil {
		return err
	}
	switch {
	case !exists:
		return db.create(ctx)
	case v > SchemaVersion:
		return fmt.Errorf("%w: the store has schema %d, this build reads %d", ErrSchema, v, SchemaVersion)
	}
	for _, m := range migrations {
		if m.version <= v {
			continue
		}
		for _, s := range m.steps {
			if err := db.onShards(ctx, func(ctx context.Context, c shardConn) error { return s(ctx, db, c) }); err != nil {
				return fmt.Errorf("migrate to schema %d: %w", m.version, err)
			}
		}
		if err := db.setSchema(ctx, m.version); err != nil {
			return err
		}
	}
	return nil
}

// create makes every table and records the schema version.
func (db *database) create(ctx context.Context) error {
	err := db.onShards(ctx, func(ctx context.Context, c shardConn) error {
		for _, t := range allTables {
			if err := c.execAll(ctx, db.createStatements(t)); err != nil {
				return fmt.Errorf("create table %s: %w", t.name, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return db.setSchema(ctx, SchemaVersion)
}

func (db *database) setSchema(ctx context.Context, v int) error {
	return db.insert(ctx, tableSchema, [][]any{{uint32(v), db.now()}})
}

// schemaVersion reads the store's schema version; exists is false when
// the store has no schema table yet.
func (db *database) schemaVersion(ctx context.Context) (v int, exists bool, err error) {
	var n uint64
	q := fmt.Sprintf("SELECT count() FROM system.tables WHERE database = %s AND name = 'schema'", quoteString(db.opts.database))
	if err := db.conn.QueryRow(ctx, q).Scan(&n); err != nil {
		return 0, false, fmt.Errorf("read the schema: %w", err)
	}
	if n == 0 {
		return 0, false, nil
	}
	var raw uint32
	if err := db.conn.QueryRow(ctx, "SELECT max(version) FROM "+db.table(tableSchema)).Scan(&raw); err != nil {
		return 0, true, fmt.Errorf("read the schema version: %w", err)
	}
	if raw == 0 {
		return 0, false, nil // made, but not finished: make the rest
	}
	return int(raw), true, nil
}
