package clickhouse

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/flowpol/flowpol/baseline"
)

// Trimming. The commits, names, answers and attachments tables are
// partitioned by the month their rows were written in (the writer's
// clock). Once a month is over by more than inFlight, retention copies
// what is still needed out of it into the current month, unchanged but
// for the day, and then drops the month on every shard:
//
//   - commits: of each tier's chain of rollup commits, those whose cells
//     still count (their next tier's cut is before their cut) and, past
//     the last tier, the one that moved the cut to where it is; the first
//     of them is written again as moving the cut on from none, so that the
//     chain starts there once those before it are gone (commits off the
//     chain never count, and the writer that made one is past inFlight);
//     a delta's commit while one of its cells
//     still counts (its newest cell is not yet before the cut of the
//     coarsest tier it wrote to); any commit of a batch (sender, sequence)
//     one of whose commits is kept so, so that which of them counts does
//     not change; each sender's last batch, which Delivered answers and
//     an aggregator checks before taking a batch sent again; and the
//     commits of the attachments read. What is dropped can no longer
//     make a row count or stop counting: its cells are past their tier's
//     cut, and an agent only sends again its last batch.
//   - names and answers: those seen since the last tier's cut, each
//     summed into one row (the embedded store prunes the others).
//   - attachments: the value read under each name.
//
// The rows of the other Kubernetes clusters in the month are copied whole:
// their own stores trim them. A writer killed between the copy and the
// drop leaves rows twice, which changes nothing: every read takes sets,
// minima and maxima of them.

// inFlight bounds how long an Apply takes from its first row to its
// commit: a month is trimmed only once it is over by more than that.
const inFlight = time.Hour

// trimmed are the tables trimmed, with what is copied out of a month.
var trimmed = []struct {
	t    table
	keep func(s *Store, st *state, month uint32, day string) string
}{
	{tableAttachments, (*Store).keepAttachments},
	{tableNames, (*Store).keepNames},
	{tableAnswers, (*Store).keepAnswers},
	{tableCommits, (*Store).keepCommits},
}

// trim copies out and drops the months of the trimmed tables that ended
// more than inFlight before the clock, once per month.
func (s *Store) trim(ctx context.Context, st *state) error {
	now := s.db.now()
	cutoff := monthOf(now.Add(-inFlight))
	s.mu.Lock()
	due := cutoff > s.trimmedTo
	s.mu.Unlock()
	if !due {
		return nil
	}
	day := now.Format(time.DateOnly)
	for _, tr := range trimmed {
		months, err := s.monthsBefore(ctx, tr.t, cutoff)
		if err != nil {
			return fmt.Errorf("trim %s: %w", tr.t.name, err)
		}
		if tr.t.name == tableCommits.name && len(months) > 0 {
			if err := s.anchorRollups(ctx, st); err != nil {
				return fmt.Errorf("trim %s: %w", tr.t.name, err)
			}
		}
		for _, m := range months {
			if err := s.trimMonth(ctx, tr.t, m, tr.keep(s, st, m, day)); err != nil {
				return fmt.Errorf("trim %s of %d: %w", tr.t.name, m, err)
			}
		}
	}
	s.mu.Lock()
	s.trimmedTo = cutoff
	s.mu.Unlock()
	return nil
}

// monthOf is t's month as toYYYYMM writes it.
func monthOf(t time.Time) uint32 { return uint32(t.Year()*100 + int(t.Month())) }

// monthsBefore lists the months of a table's rows before the month given.
func (s *Store) monthsBefore(ctx context.Context, t table, month uint32) ([]uint32, error) {
	var out []uint32
	q := fmt.Sprintf("SELECT DISTINCT toYYYYMM(day) AS m FROM %s WHERE m < %d ORDER BY m", s.db.table(t), month)
	err := s.db.query(ctx, q, func(r driver.Rows) error {
		var m uint32
		if err := r.Scan(&m); err != nil {
			return err
		}
		out = append(out, m)
		return nil
	})
	return out, err
}

// trimMonth copies the rows keep selects into the current month, then
// drops the month on every shard.
func (s *Store) trimMonth(ctx context.Context, t table, month uint32, keep string) error {
	if err := s.db.conn.Exec(s.db.ctx(ctx), fmt.Sprintf("INSERT INTO %s (%s) %s", s.db.table(t), t.names(), keep)); err != nil {
		return fmt.Errorf("copy what is kept: %w", err)
	}
	return s.db.onShards(ctx, func(ctx context.Context, c shardConn) error {
		return c.exec(ctx, fmt.Sprintf("ALTER TABLE %s DROP PARTITION %d", s.db.local(t), month))
	})
}

// inMonth selects a month's rows.
func inMonth(month uint32) string { return fmt.Sprintf("toYYYYMM(day) = %d", month) }

// keepAttachments selects, of a month, the values read under each name.
func (s *Store) keepAttachments(st *state, month uint32, day string) string {
	a := s.db.table(tableAttachments)
	return fmt.Sprintf(`SELECT cluster, name, version, commit, value, toDate('%s') FROM %s WHERE %s AND (cluster != %s OR (name, version) GLOBAL IN (%s))`,
		day, a, inMonth(month), quoteString(s.cluster), s.readAttachments(st, "name, max(version)"))
}

// readAttachments selects, per name, what of the version Attachment reads.
func (s *Store) readAttachments(st *state, what string) string {
	return fmt.Sprintf("SELECT %s FROM %s WHERE cluster = %s AND commit GLOBAL IN (%s) GROUP BY name",
		what, s.db.table(tableAttachments), quoteString(s.cluster), s.valid(st))
}

// keepNames selects, of a month, the names seen since the last tier's
// cut, one row each.
func (s *Store) keepNames(st *state, month uint32, day string) string {
	return s.keepSeen(st, tableNames, "edge, name", month, day)
}

// keepAnswers selects, of a month, the answers seen since the last tier's
// cut, one row each.
func (s *Store) keepAnswers(st *state, month uint32, day string) string {
	return s.keepSeen(st, tableAnswers, "name, addr", month, day)
}

func (s *Store) keepSeen(st *state, t table, key string, month uint32, day string) string {
	tb, cl := s.db.table(t), quoteString(s.cluster)
	return fmt.Sprintf(`SELECT cluster, %[1]s, min(first), max(last), toDate('%[2]s') FROM %[3]s WHERE %[4]s GROUP BY cluster, %[1]s
		HAVING cluster != %[5]s OR (%[1]s) GLOBAL IN (SELECT %[1]s FROM %[3]s WHERE cluster = %[5]s GROUP BY %[1]s%[6]s)`,
		key, day, tb, inMonth(month), cl, st.seenSince())
}

// keepCommits selects, of a month, the commits still needed (see the
// trimming note above).
func (s *Store) keepCommits(st *state, month uint32, day string) string {
	c, cl := s.db.table(tableCommits), quoteString(s.cluster)
	live := "NOT " + st.deadCells()
	batches := fmt.Sprintf("cluster = %s AND kind IN (%d, %d) AND sender != ''", cl, kindDelta, kindResent)
	cols := tableCommits.namesWith("day", fmt.Sprintf("toDate('%s')", day))
	return fmt.Sprintf(`SELECT %[1]s FROM %[2]s WHERE %[3]s AND (cluster != %[4]s OR (kind = %[5]d AND commit IN (%[9]s)) OR %[6]s
		OR (sender, seq) GLOBAL IN (SELECT sender, seq FROM %[2]s WHERE %[7]s AND %[6]s)
		OR (sender, seq) GLOBAL IN (SELECT sender, max(seq) FROM %[2]s WHERE %[7]s GROUP BY sender)
		OR commit GLOBAL IN (%[8]s))`,
		cols, c, inMonth(month), cl, kindRollup, live, batches, s.readAttachments(st, "argMax(commit, version)"), liveRollupIDs(st))
}

// liveRollupIDs lists the live rollup commits, quoted, for an IN.
func liveRollupIDs(st *state) string {
	ids := []string{"''"} // no commit has it: IN () is not SQL
	for _, ch := range st.liveRollups() {
		for _, r := range ch {
			ids = append(ids, quoteString(r.commit))
		}
	}
	return strings.Join(ids, ", ")
}

// anchorRollups writes again the first live rollup commit of each tier
// as moving the cut on from none, when it does not already: the chain
// then starts at it, and the commits before it can go. While those are
// still there, the chain from none reaches the same cut either way.
func (s *Store) anchorRollups(ctx context.Context, st *state) error {
	now := s.db.now()
	var rows [][]any
	for i, ch := range st.liveRollups() {
		if len(ch) > 0 && ch[0].prev != baseline.NoCut {
			r := ch[0]
			rows = append(rows, []any{s.cluster, r.commit, now, uint8(kindRollup), "tier/" + strconv.Itoa(i), uint64(r.cut), int64(baseline.NoCut), s.writer, now, int64(-1), uint8(0)})
		}
	}
	return s.db.insert(ctx, tableCommits, rows)
}

// deadCells is the condition of a commit row whose cells no longer count:
// it has none, or its newest is before the cut of the coarsest tier it
// wrote to (a commit of schema 1 says the last tier).
func (st *state) deadCells() string {
	before := func(i int) string {
		if st.cuts[i] == baseline.NoCut {
			return "0"
		}
		return fmt.Sprintf("newest < %d", st.cuts[i])
	}
	last := len(st.cuts) - 1
	expr := before(last)
	if last > 0 {
		var parts []string
		for i := range last {
			parts = append(parts, fmt.Sprintf("coarsest = %d", i), before(i))
		}
		expr = fmt.Sprintf("multiIf(%s, %s)", strings.Join(parts, ", "), expr)
	}
	return "(newest < 0 OR " + expr + ")"
}
