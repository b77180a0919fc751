package clickhouse

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/flowpol/flowpol/baseline"
)

// Retain moves each tier's cut to its keep as of now, finest first: the
// cells before it are rolled into the next tier by one INSERT … SELECT
// (per cell the larger of client and server, one coarser cell per block)
// and a rollup commit moves the cut, or past the last tier the commit
// alone does. Then the partitions wholly before a cut are dropped.
func (s *Store) Retain(ctx context.Context, now time.Time) (baseline.Retained, error) {
	if err := ctx.Err(); err != nil {
		return baseline.Retained{}, err
	}
	out, err := s.retain(ctx, baseline.ClampUnix(now))
	if err != nil {
		return out, fmt.Errorf("retain in %s: %w", s.URL(), err)
	}
	return out, nil
}

// retainIfDue runs retention before an Apply when a finest bucket width
// of data time passed since it last ran, as the embedded store does: as
// of the end of the newest cell held or applied, never later than the
// clock.
func (s *Store) retainIfDue(ctx context.Context, d *baseline.Delta) error {
	width := int64(s.tiers[0].Bucket / time.Second)
	s.mu.Lock()
	newest := s.newest
	for i := range d.Edges {
		for _, c := range d.Edges[i].Cells {
			newest = max(newest, c.Start+width)
		}
	}
	asOf := min(newest, baseline.ClampUnix(s.opts.Now()))
	due := newest != baseline.NoCut && (s.retained == baseline.NoCut || asOf-s.retained >= width)
	s.mu.Unlock()
	if !due {
		return nil
	}
	_, err := s.retain(ctx, asOf)
	return err
}

func (s *Store) retain(ctx context.Context, now int64) (baseline.Retained, error) {
	var out baseline.Retained
	st, err := s.state(ctx)
	if err != nil {
		return out, err
	}
	for i, t := range st.tiers {
		if t.Keep == 0 {
			break
		}
		cut := st.tiers.Cut(i, now)
		if cut <= st.cuts[i] {
			continue
		}
		n, err := s.cutTier(ctx, st, i, cut)
		if err != nil {
			return out, err
		}
		if i+1 < len(st.tiers) {
			out.RolledUp += n
		} else {
			out.Deleted += n
		}
		if st, err = s.state(ctx); err != nil { // the next tier's rollup counts now
			return out, err
		}
	}
	s.mu.Lock()
	s.retained = now
	s.mu.Unlock()
	if err := s.dropPartitions(ctx, st); err != nil {
		return out, err
	}
	return out, s.trim(ctx, st)
}

// cutTier rolls a tier's cells before cut into the next tier (none past
// the last) and commits the new cut. It returns the cells taken.
func (s *Store) cutTier(ctx context.Context, st *state, tier int, cut int64) (int, error) {
	prev := st.cuts[tier]
	lo := max(0, prev)
	cl, valid := quoteString(s.cluster), s.valid(st)
	cells := fmt.Sprintf(`SELECT cluster, edge, toInt64(start) AS cs, greatest(sum(client), sum(server)) AS c,
		min(toInt64(start) * 1000 + first_ms) AS cf, max(toInt64(start) * 1000 + last_ms) AS cl
		FROM %s WHERE cluster = %s AND tier = %d AND start >= %d AND start < %d AND commit GLOBAL IN (%s)
		GROUP BY cluster, edge, start`, s.db.table(tableCells), cl, tier, lo, min(cut, maxCellSecs+1), valid)
	var n uint64
	if err := s.db.conn.QueryRow(s.db.ctx(ctx), "SELECT count() FROM ("+cells+")").Scan(&n); err != nil {
		return 0, fmt.Errorf("count tier %d's cells: %w", tier, err)
	}
	commit := newCommitID()
	if tier+1 < len(st.tiers) && n > 0 {
		span := st.tiers.BlockSpan(tier)
		q := fmt.Sprintf(`INSERT INTO %s (%s) SELECT cluster, toUInt8(%d), toDateTime(b), edge, %s, s, s, toUInt32(bf - b * 1000), toUInt32(bl - b * 1000)
			FROM (SELECT cluster, edge, intDiv(cs, %d) * %d AS b, sum(c) AS s, min(cf) AS bf, max(cl) AS bl FROM (%s) GROUP BY cluster, edge, b)`,
			s.db.table(tableCells), tableCells.names(), tier+1, quoteString(commit), span, span, cells)
		if err := s.db.conn.Exec(s.db.ctx(ctx), q); err != nil {
			return 0, fmt.Errorf("roll tier %d up: %w", tier, err)
		}
	}
	now := s.db.now()
	row := []any{s.cluster, commit, now, uint8(kindRollup), "tier/" + strconv.Itoa(tier), uint64(cut), prev, s.writer, now, int64(-1), uint8(0)}
	if err := s.db.insert(ctx, tableCommits, [][]any{row}); err != nil {
		return 0, err
	}
	return int(n), nil
}

// partitionRE reads a cells partition's text in system.parts: (tier,'day').
var partitionRE = regexp.MustCompile(`^\((\d+),'(\d{4}-\d{2}-\d{2})'\)$`)

// dropPartitions drops, on every shard, the cells partitions (a tier's
// day) that end before the tier's cut: nothing in them counts any more.
func (s *Store) dropPartitions(ctx context.Context, st *state) error {
	local := tableCells.name
	if s.db.opts.shards != "" {
		local += "_local"
	}
	return s.db.onShards(ctx, func(ctx context.Context, c shardConn) error {
		var drop []string
		q := fmt.Sprintf("SELECT DISTINCT partition FROM system.parts WHERE database = %s AND table = %s AND active",
			quoteString(s.db.opts.database), quoteString(local))
		rows, err := c.conn.Query(ctx, q)
		if err != nil {
			return fmt.Errorf("list partitions on %s: %w", c.addr, err)
		}
		err = eachRow(rows, func(r driver.Rows) error {
			var p string
			if err := r.Scan(&p); err != nil {
				return err
			}
			m := partitionRE.FindStringSubmatch(p)
			if m == nil {
				return nil
			}
			tier, _ := strconv.Atoi(m[1])
			day, err := time.Parse(time.DateOnly, m[2])
			if err == nil && tier < len(st.cuts) && day.Unix()+86400 <= st.cuts[tier] {
				drop = append(drop, p)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, p := range drop {
			if err := c.exec(ctx, fmt.Sprintf("ALTER TABLE %s.%s DROP PARTITION %s", quoteIdent(s.db.opts.database), quoteIdent(local), p)); err != nil {
				return err
			}
		}
		return nil
	})
}
