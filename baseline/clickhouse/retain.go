package clickhouse

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
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
	cells := fmt.Sprintf(`SELECT cluster, edge, toInt64(start) AS cs, greatest(sum(client), sum(server)) AS c, %s AS e,
		min(toInt64(start) * 1000 + first_ms) AS cf, max(toInt64(start) * 1000 + last_ms) AS cl
		FROM %s WHERE cluster = %s AND tier = %d AND start >= %d AND start < %d AND commit GLOBAL IN (%s)
		GROUP BY cluster, edge, start`, estimatedPart(tier), s.db.table(tableCells), cl, tier, lo, min(cut, maxCellSecs+1), valid)
	var n uint64
	if err := s.db.conn.QueryRow(s.db.ctx(ctx), "SELECT count() FROM ("+cells+")").Scan(&n); err != nil {
		return 0, fmt.Errorf("count tier %d's cells: %w", tier, err)
	}
	commit := newCommitID()
	if tier+1 < len(st.tiers) && n > 0 {
		span := st.tiers.BlockSpan(tier)
		q := fmt.Sprintf(`INSERT INTO %s (%s) SELECT cluster, toUInt8(%d), toDateTime(b), edge, %s, s, s, toUInt32(bf - b * 1000), toUInt32(bl - b * 1000), es
			FROM (SELECT cluster, edge, intDiv(cs, %d) * %d AS b, sum(c) AS s, sum(e) AS es, min(cf) AS bf, max(cl) AS bl FROM (%s) GROUP BY cluster, edge, b)`,
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

// dropPartitions removes, on every shard, the cells of this cluster in
// the day partitions (a tier's day) that end before the tier's cut:
// nothing of it in them counts any more. The partitions hold every
// cluster's rows, so a partition is dropped only when it ends before the
// tier's cut of every cluster in the store (settings); in one that
// another cluster still reads, this cluster's rows of the days before its
// cut are deleted by a mutation instead (one at a time per shard).
func (s *Store) dropPartitions(ctx context.Context, st *state) error {
	others, err := s.clusterCuts(ctx)
	if err != nil {
		return err
	}
	return s.db.onShards(ctx, func(ctx context.Context, c shardConn) error {
		drop, held, err := s.deadPartitions(ctx, c, st, others)
		if err != nil {
			return err
		}
		for _, p := range drop {
			if err := c.exec(ctx, fmt.Sprintf("ALTER TABLE %s DROP PARTITION %s", s.db.local(tableCells), p)); err != nil {
				return err
			}
		}
		return s.deleteDead(ctx, c, held)
	})
}

// deadPartitions lists a shard's cells partitions that end before this
// cluster's cut of their tier: those every cluster is past (drop), and,
// per tier, the end of the last day that another cluster still reads
// (held).
func (s *Store) deadPartitions(ctx context.Context, c shardConn, st *state, cuts map[string][]int64) (drop []string, held map[int]int64, err error) {
	held = map[int]int64{}
	q := fmt.Sprintf("SELECT DISTINCT partition FROM system.parts WHERE database = %s AND table = %s AND active",
		quoteString(s.db.opts.database), quoteString(s.db.localName(tableCells)))
	rows, err := c.conn.Query(ctx, q)
	if err != nil {
		return nil, nil, fmt.Errorf("list partitions on %s: %w", c.addr, err)
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
		end := day.Unix() + 86400
		if err != nil || tier >= len(st.cuts) || end > st.cuts[tier] {
			return nil
		}
		if pastEvery(cuts, tier, end) {
			drop = append(drop, p)
		} else {
			held[tier] = max(held[tier], end)
		}
		return nil
	})
	return drop, held, err
}

// pastEvery says whether every cluster's cut of a tier is at end or later
// (a cluster without the tier holds nothing in it).
func pastEvery(cuts map[string][]int64, tier int, end int64) bool {
	for _, c := range cuts {
		if tier < len(c) && c[tier] < end {
			return false
		}
	}
	return true
}

// deleteDead deletes on a shard this cluster's cells of each tier before
// the end given, when it holds some and the shard runs no mutation of
// the cells already (a mutation is asynchronous: the rows stay visible
// until it is done, and need not be deleted twice).
func (s *Store) deleteDead(ctx context.Context, c shardConn, held map[int]int64) error {
	if len(held) == 0 {
		return nil
	}
	tiers := make([]string, 0, len(held))
	for tier, end := range held {
		tiers = append(tiers, fmt.Sprintf("(tier = %d AND start < %d)", tier, end))
	}
	slices.Sort(tiers)
	where := fmt.Sprintf("cluster = %s AND (%s)", quoteString(s.cluster), strings.Join(tiers, " OR "))
	var rows, running uint64
	q := fmt.Sprintf("SELECT (SELECT count() FROM %s WHERE %s), (SELECT count() FROM system.mutations WHERE database = %s AND table = %s AND NOT is_done)",
		s.db.local(tableCells), where, quoteString(s.db.opts.database), quoteString(s.db.localName(tableCells)))
	if err := c.conn.QueryRow(ctx, q).Scan(&rows, &running); err != nil {
		return fmt.Errorf("count the cells past the cuts on %s: %w", c.addr, err)
	}
	if rows == 0 || running > 0 {
		return nil
	}
	return c.exec(ctx, fmt.Sprintf("ALTER TABLE %s DELETE WHERE %s", s.db.local(tableCells), where))
}

// clusterCuts reads the cuts of every cluster in the store, per tier.
func (s *Store) clusterCuts(ctx context.Context) (map[string][]int64, error) {
	out := map[string][]int64{}
	q := fmt.Sprintf("SELECT cluster, argMax(tiers, version) FROM %s GROUP BY cluster", s.db.table(tableSettings))
	err := s.db.query(ctx, q, func(r driver.Rows) error {
		var cl, raw string
		if err := r.Scan(&cl, &raw); err != nil {
			return err
		}
		tiers, err := baseline.ParseRetention(raw)
		if err != nil {
			return fmt.Errorf("retention of cluster %q: %w", cl, err)
		}
		out[cl] = make([]int64, len(tiers))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the clusters' retention: %w", err)
	}
	rs, err := s.rollups(ctx, "")
	if err != nil {
		return nil, err
	}
	for cl, cuts := range out {
		copy(cuts, chainCuts(len(cuts), rs[cl]).cuts)
	}
	return out, nil
}
