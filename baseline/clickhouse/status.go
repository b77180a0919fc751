package clickhouse

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/internal/duration"
)

func eachRow(rows driver.Rows, fn func(driver.Rows) error) error {
	for rows.Next() {
		if err := fn(rows); err != nil {
			return errors.Join(err, rows.Close())
		}
	}
	return errors.Join(rows.Err(), rows.Close())
}

// Delivered returns each sender's last batch held: the highest sequence a
// commit names.
func (s *Store) Delivered(ctx context.Context) (map[string]uint64, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := map[string]uint64{}
	q := fmt.Sprintf("SELECT sender, max(seq) FROM %s WHERE cluster = %s AND kind IN (%d, %d) AND sender != '' GROUP BY sender",
		s.db.table(tableCommits), quoteString(s.cluster), kindDelta, kindResent)
	err := s.db.query(ctx, q, func(r driver.Rows) error {
		var sender string
		var seq uint64
		if err := r.Scan(&sender, &seq); err != nil {
			return err
		}
		out[sender] = seq
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read delivered batches from %s: %w", s.URL(), err)
	}
	return out, nil
}

// Waiting returns the records this writer last stored as waiting.
func (s *Store) Waiting(ctx context.Context) ([]flow.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var raw string
	q := fmt.Sprintf("SELECT argMax(records, version) FROM %s WHERE cluster = %s AND writer = %s",
		s.db.table(tableWaiting), quoteString(s.cluster), quoteString(s.writer))
	if err := s.db.conn.QueryRow(s.db.ctx(ctx), q).Scan(&raw); err != nil {
		return nil, fmt.Errorf("read waiting records from %s: %w", s.URL(), err)
	}
	var out []flow.Record
	r := flow.NewReader(bytes.NewReader([]byte(raw)), s.URL()+" (waiting records)")
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read waiting records from %s: %w", s.URL(), err)
		}
		out = append(out, *rec)
	}
}

// RecordRun records a learning run.
func (s *Store) RecordRun(ctx context.Context, r baseline.Run) error {
	spec, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode run: %w", err)
	}
	if s.opts.ReadOnly {
		return fmt.Errorf("record run in %s: opened read-only", s.URL())
	}
	if err := s.db.insert(ctx, tableRuns, [][]any{{s.cluster, r.Started.UTC(), s.nextVersion(), string(spec)}}); err != nil {
		return fmt.Errorf("record run in %s: %w", s.URL(), err)
	}
	return nil
}

// Status describes the cluster's baseline: schema, bytes on disk (the
// whole database, every shard), edges, tiers and runs.
func (s *Store) Status(ctx context.Context) (baseline.Status, error) {
	if err := ctx.Err(); err != nil {
		return baseline.Status{}, err
	}
	out, err := s.status(ctx)
	if err != nil {
		return out, fmt.Errorf("status of %s: %w", s.URL(), err)
	}
	return out, nil
}

func (s *Store) status(ctx context.Context) (baseline.Status, error) {
	out := baseline.Status{Schema: SchemaVersion, Runs: []baseline.Run{}}
	err := s.db.onShards(ctx, func(ctx context.Context, c shardConn) error {
		var n uint64
		q := "SELECT sum(bytes_on_disk) FROM system.parts WHERE active AND database = " + quoteString(s.db.opts.database)
		if err := c.conn.QueryRow(ctx, q).Scan(&n); err != nil {
			return err
		}
		out.FileBytes += int64(n)
		return nil
	})
	if err != nil {
		return out, err
	}
	cl := quoteString(s.cluster)
	var edges uint64
	if err := s.db.conn.QueryRow(s.db.ctx(ctx), fmt.Sprintf("SELECT uniqExact(edge) FROM %s WHERE cluster = %s", s.db.table(tableEdges), cl)).Scan(&edges); err != nil {
		return out, err
	}
	out.Edges = int(edges)
	if out.Tiers, err = s.tierStatus(ctx); err != nil {
		return out, err
	}
	q := fmt.Sprintf("SELECT spec FROM %s WHERE cluster = %s ORDER BY started, version", s.db.table(tableRuns), cl)
	err = s.db.query(ctx, q, func(r driver.Rows) error {
		var spec string
		if err := r.Scan(&spec); err != nil {
			return err
		}
		var run baseline.Run
		if err := json.Unmarshal([]byte(spec), &run); err != nil {
			return fmt.Errorf("run: %w", err)
		}
		out.Runs = append(out.Runs, run)
		return nil
	})
	return out, err
}

func (s *Store) tierStatus(ctx context.Context) ([]baseline.TierStatus, error) {
	st, err := s.state(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]baseline.TierStatus, len(st.tiers))
	for i, t := range st.tiers {
		out[i] = baseline.TierStatus{Bucket: duration.Format(t.Bucket), Keep: baseline.KeepString(t.Keep)}
		var n uint64
		var oldest int64
		q := fmt.Sprintf("SELECT count(), min(s) FROM (SELECT edge, toInt64(start) AS s FROM %s WHERE cluster = %s AND tier = %d AND start >= %d AND commit GLOBAL IN (%s) GROUP BY edge, start)",
			s.db.table(tableCells), quoteString(s.cluster), i, max(0, st.cuts[i]), s.valid(st))
		if err := s.db.conn.QueryRow(s.db.ctx(ctx), q).Scan(&n, &oldest); err != nil {
			return nil, fmt.Errorf("tier %d: %w", i, err)
		}
		out[i].Cells = int(n)
		if n > 0 {
			out[i].Oldest = time.Unix(oldest, 0).UTC()
		}
	}
	return out, nil
}

// DiskBytes is what the store's database takes on disk, on every shard.
func (s *Store) DiskBytes(ctx context.Context) (int64, error) {
	var total int64
	err := s.db.onShards(ctx, func(ctx context.Context, c shardConn) error {
		var n uint64
		q := "SELECT sum(bytes_on_disk) FROM system.parts WHERE active AND database = " + quoteString(s.db.opts.database)
		if err := c.conn.QueryRow(ctx, q).Scan(&n); err != nil {
			return fmt.Errorf("on %s: %w", c.addr, err)
		}
		total += int64(n)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("disk used by %s: %w", s.URL(), err)
	}
	return total, nil
}
