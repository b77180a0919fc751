package clickhouse

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"golang.org/x/sync/errgroup"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/topology"
)

// The embedded store's bounds on an edge's sets, kept here so that both
// answer the same.
const (
	maxPods    = 1024
	maxStrings = 16
	maxAddrs   = 256 // addresses per DNS name
)

// Window returns the edges seen in [from, to); see baseline.Store.
// ClickHouse adds the cells up, per edge: per cell the larger of client
// and server, then per block (for first and last seen at the embedded
// store's precision), then per edge; the edges' records, their names,
// the answers and the workloads come in queries of their own, all five
// at once.
func (s *Store) Window(ctx context.Context, from, to time.Time) (*topology.Window, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	w, err := s.window(ctx, from, to)
	if err != nil {
		return nil, fmt.Errorf("read window from %s: %w", s.URL(), err)
	}
	return w, nil
}

func (s *Store) window(ctx context.Context, from, to time.Time) (*topology.Window, error) {
	st, err := s.state(ctx)
	if err != nil {
		return nil, err
	}
	spans := baseline.WindowSpans(st.tiers, st.cuts, from, to)
	w := &topology.Window{Workloads: map[topology.WorkloadRef]topology.Workload{}, Edges: []topology.EdgeStats{}}
	baseline.SetBounds(w, st.tiers, spans, from, to)
	fromMS, toMS := w.From.UnixMilli(), w.To.UnixMilli()
	// Each query fills fields of its own.
	g, gctx := errgroup.WithContext(ctx)
	if len(spans) > 0 {
		g.Go(func() (err error) {
			w.Edges, err = s.windowEdges(gctx, st, spans, fromMS, toMS)
			return err
		})
	}
	g.Go(func() (err error) {
		w.Resolved, err = s.windowResolved(gctx, st, fromMS, toMS)
		return err
	})
	g.Go(func() error { return s.readInventory(gctx, w) })
	if err := g.Wait(); err != nil {
		return nil, err
	}
	slices.SortFunc(w.Edges, func(a, b topology.EdgeStats) int { return a.Edge.Compare(b.Edge) })
	return w, nil
}

// blockQuery sums one tier's part of a window per edge and block. A
// block's first and last seen are exact when they fall in the first and
// last cells counted, else those cells' starts.
func (s *Store) blockQuery(st *state, sp baseline.TierSpan, valid string) string {
	span := st.tiers.BlockSpan(sp.Tier)
	blo, bhi := max(0, baseline.FloorTo(sp.From, span)), min(maxCellSecs+1, baseline.CeilTo(sp.To, span))
	lo, hi := max(0, sp.From), min(maxCellSecs+1, sp.To)
	cells := fmt.Sprintf(`SELECT edge, toInt64(start) AS cs, greatest(sum(client), sum(server)) AS c, %s AS e,
		cs * 1000 + min(first_ms) AS cf, cs * 1000 + max(last_ms) AS cl
		FROM %s WHERE cluster = %s AND tier = %d AND start >= %d AND start < %d AND commit GLOBAL IN (%s)
		GROUP BY edge, start`, estimatedPart(sp.Tier), s.db.table(tableCells), quoteString(s.cluster), sp.Tier, blo, bhi, valid)
	in := fmt.Sprintf("cs >= %d AND cs < %d", lo, hi)
	return fmt.Sprintf(`SELECT edge, sumIf(c, %[2]s) AS cnt, sumIf(e, %[2]s) AS est, min(cf) AS bf, max(cl) AS bl,
		minIf(cs, %[2]s) AS wf, maxIf(cs, %[2]s) AS wl
		FROM (%[1]s) GROUP BY edge, intDiv(cs, %[3]d) HAVING countIf(%[2]s) > 0`, cells, in, span)
}

// estimatedPart is the SQL of the estimated part of a cell's count,
// its rows summed, as baseline.EstimatedPart has it; a coarser tier's
// cells keep that part.
func estimatedPart(tier int) string {
	if tier > 0 {
		return "least(sum(estimated), sum(client))"
	}
	return "if(sum(client) > sum(server), least(sum(estimated), toUInt64(sum(client) - sum(server))), toUInt64(0))"
}

// windowEdges adds the spans' blocks up per edge and joins the edges'
// records and names, in the records' order.
func (s *Store) windowEdges(ctx context.Context, st *state, spans []baseline.TierSpan, fromMS, toMS int64) ([]topology.EdgeStats, error) {
	var sums map[uint64]edgeSum
	var recs []*edgeRecord
	var names map[uint64][]string
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		sums, err = s.edgeSums(gctx, st, spans)
		return err
	})
	g.Go(func() (err error) {
		recs, err = s.edgeRecords(gctx, spans)
		return err
	})
	g.Go(func() (err error) {
		names, err = s.windowNames(gctx, st, fromMS, toMS)
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out := make([]topology.EdgeStats, 0, len(sums))
	for _, r := range recs {
		a, ok := sums[r.id]
		if !ok {
			continue // cells of no valid commit
		}
		es := r.stats
		es.Count, es.First, es.Last, es.Days = a.count, time.UnixMilli(a.first).UTC(), time.UnixMilli(a.last).UTC(), a.days
		es.Estimated = min(a.est, a.count)
		es.Names = names[r.id]
		out = append(out, es)
	}
	if len(out) < len(sums) {
		return nil, noRecord(sums, recs)
	}
	return out, nil
}

// noRecord names an edge with cells but no record.
func noRecord(sums map[uint64]edgeSum, recs []*edgeRecord) error {
	have := make(map[uint64]bool, len(recs))
	for _, r := range recs {
		have[r.id] = true
	}
	var ids []uint64
	for id := range sums {
		if !have[id] {
			ids = append(ids, id)
		}
	}
	return fmt.Errorf("edge %d has cells but no record", slices.Min(ids))
}

// edgeSum is an edge's cells added up.
type edgeSum struct {
	count, est  uint64
	first, last int64
	days        []int64
}

// edgeSums adds the spans' cells up per edge.
func (s *Store) edgeSums(ctx context.Context, st *state, spans []baseline.TierSpan) (map[uint64]edgeSum, error) {
	valid := s.valid(st)
	parts := make([]string, len(spans))
	for i, sp := range spans {
		w := st.tiers.Width(sp.Tier)
		parts[i] = fmt.Sprintf(`SELECT edge, cnt, est, if(bf >= wf * 1000, bf, wf * 1000) AS f, if(bl < (wl + %d) * 1000, bl, wl * 1000) AS l FROM (%s)`,
			w, s.blockQuery(st, sp, valid))
	}
	// Days are, as the embedded store has them, the UTC days of each
	// block's first and last moment.
	q := fmt.Sprintf(`SELECT edge, sum(cnt), sum(est), min(f), max(l),
		arraySort(groupUniqArrayArray([intDiv(f, 86400000), intDiv(l, 86400000)]))
		FROM (%s) GROUP BY edge`, strings.Join(parts, "\nUNION ALL\n"))
	sums := map[uint64]edgeSum{}
	err := s.db.query(ctx, q, func(r driver.Rows) error {
		var id uint64
		var a edgeSum
		if err := r.Scan(&id, &a.count, &a.est, &a.first, &a.last, &a.days); err != nil {
			return err
		}
		sums[id] = a
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sum the cells: %w", err)
	}
	return sums, nil
}

// edgeRecord is an edge's record, by its id.
type edgeRecord struct {
	id    uint64
	stats topology.EdgeStats
}

// edgeRecords reads the records of the edges with cells in the spans:
// their ends, and the union of their pods, nodes and processes; ordered
// by their ends' columns, close to topology.Edge.Compare's order, so that
// sorting the window's edges has little left to do.
func (s *Store) edgeRecords(ctx context.Context, spans []baseline.TierSpan) ([]*edgeRecord, error) {
	conds := make([]string, len(spans))
	for i, sp := range spans {
		conds[i] = fmt.Sprintf("(tier = %d AND start >= %d AND start < %d)", sp.Tier, max(0, sp.From), min(maxCellSecs+1, sp.To))
	}
	cl := quoteString(s.cluster)
	ends := make([]string, 0, 14)
	for _, p := range []string{"src", "dst"} {
		for _, c := range endColumns(p) {
			ends = append(ends, "any("+c.name+")")
		}
	}
	endList := strings.Join(ends, ", ")
	q := fmt.Sprintf(`SELECT edge, %[1]s, any(port), any(proto),
		uniqExactArray(arrayFilter(p -> p != 0, src_pods)), uniqExactArray(arrayFilter(p -> p != 0, dst_pods)),
		%[2]s, %[3]s, %[4]s
		FROM %[5]s WHERE cluster = %[6]s AND edge GLOBAL IN (SELECT edge FROM %[7]s WHERE cluster = %[6]s AND (%[8]s)) GROUP BY edge
		ORDER BY %[1]s, any(proto), any(port)`,
		endList, joinedSet("nodes"), joinedSet("src_comms"), joinedSet("dst_comms"), s.db.table(tableEdges), cl, s.db.table(tableCells), strings.Join(conds, " OR "))
	var out []*edgeRecord // by pointer: appending copies less
	rs := newRecordScan()
	err := s.db.query(ctx, q, func(r driver.Rows) error {
		rec, err := rs.scan(r)
		if err != nil {
			return err
		}
		out = append(out, rec)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the edges: %w", err)
	}
	return out, nil
}

// windowNames reads, per edge, the DNS names seen in [from, to), unix
// ms: of each edge's first maxStrings names, those whose first and last
// moments overlap it, sorted, as the embedded store answers.
func (s *Store) windowNames(ctx context.Context, st *state, from, to int64) (map[uint64][]string, error) {
	q := fmt.Sprintf("SELECT edge, name, min(first), max(last) FROM %s WHERE cluster = %s GROUP BY edge, name%s ORDER BY edge, name",
		s.db.table(tableNames), quoteString(s.cluster), st.seenSince())
	out := map[uint64][]string{}
	var prev uint64
	kept := 0
	err := s.db.query(ctx, q, func(r driver.Rows) error {
		var id uint64
		var name string
		var first, last int64
		if err := r.Scan(&id, &name, &first, &last); err != nil {
			return err
		}
		if id != prev {
			prev, kept = id, 0
		}
		if kept++; kept <= maxStrings && last >= from && first < to {
			out[id] = append(out[id], name)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the names: %w", err)
	}
	return out, nil
}

// windowResolved reads, per name answered in [from, to), unix ms, the
// addresses it resolved to then (of its first maxAddrs), sorted; nil when
// there are none, as the embedded store answers.
func (s *Store) windowResolved(ctx context.Context, st *state, from, to int64) (map[string][]netip.Addr, error) {
	q := fmt.Sprintf("SELECT name, addr, min(first), max(last) FROM %s WHERE cluster = %s GROUP BY name, addr%s ORDER BY name, addr",
		s.db.table(tableAnswers), quoteString(s.cluster), st.seenSince())
	var out map[string][]netip.Addr
	prev, kept := "", 0
	err := s.db.query(ctx, q, func(r driver.Rows) error {
		var name, addr string
		var first, last int64
		if err := r.Scan(&name, &addr, &first, &last); err != nil {
			return err
		}
		if name != prev {
			prev, kept = name, 0
		}
		if kept++; kept > maxAddrs || last < from || first >= to {
			return nil
		}
		a, err := netip.ParseAddr(addr)
		if err != nil {
			return fmt.Errorf("answer of %q: %w", name, err)
		}
		if out == nil {
			out = map[string][]netip.Addr{}
		}
		out[name] = append(out[name], a)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the dns answers: %w", err)
	}
	for _, addrs := range out {
		slices.SortFunc(addrs, netip.Addr.Compare)
	}
	return out, nil
}

// seenSince is the HAVING clause that leaves out the names and answers
// last seen before the last tier's cut: past it, the embedded store
// prunes them (and retention drops their rows, a month at a time).
func (st *state) seenSince() string {
	cut := st.cuts[len(st.cuts)-1]
	if cut == baseline.NoCut {
		return ""
	}
	return fmt.Sprintf(" HAVING max(last) >= %d", cut*1000)
}

// endScan receives one end's columns.
type endScan struct {
	kind, reason                uint8
	ns, wkind, name, node, addr string
}

func (e *endScan) dest() []any {
	return []any{&e.kind, &e.ns, &e.wkind, &e.name, &e.node, &e.addr, &e.reason}
}

func (e *endScan) end() (topology.End, error) {
	end := topology.End{Kind: topology.Kind(e.kind), Workload: topology.WorkloadRef{Namespace: e.ns, Kind: e.wkind, Name: e.name},
		Node: e.node, Reason: topology.Reason(e.reason)}
	if e.addr != "" {
		a, err := netip.ParseAddr(e.addr)
		if err != nil {
			return end, fmt.Errorf("end address %q: %w", e.addr, err)
		}
		end.Addr = a
	}
	return end, nil
}

// recordScan receives an edge record's columns, one row after another.
type recordScan struct {
	id                        uint64
	src, dst                  endScan
	port                      uint16
	proto                     uint8
	srcPods, dstPods          uint64
	nodes, srcComms, dstComms string
	dest                      []any
}

func newRecordScan() *recordScan {
	rs := &recordScan{}
	rs.dest = append(append([]any{&rs.id}, rs.src.dest()...), rs.dst.dest()...)
	rs.dest = append(rs.dest, &rs.port, &rs.proto, &rs.srcPods, &rs.dstPods, &rs.nodes, &rs.srcComms, &rs.dstComms)
	return rs
}

// scan reads the next row as a record.
func (rs *recordScan) scan(r driver.Rows) (*edgeRecord, error) {
	if err := r.Scan(rs.dest...); err != nil {
		return nil, err
	}
	rec := &edgeRecord{id: rs.id}
	es := &rec.stats
	var err error
	if es.Src, err = rs.src.end(); err != nil {
		return nil, err
	}
	if es.Dst, err = rs.dst.end(); err != nil {
		return nil, err
	}
	es.Port, es.Proto = rs.port, flow.Proto(rs.proto)
	es.SrcPods, es.DstPods = min(maxPods, int(rs.srcPods)), min(maxPods, int(rs.dstPods))
	es.Nodes, es.SrcComms, es.DstComms = splitSet(rs.nodes), splitSet(rs.srcComms), splitSet(rs.dstComms)
	return rec, nil
}

// joinedSet is the SQL of an edge's set of strings in one value: the
// union of its rows' arrays, without empty strings, sorted, at most
// maxStrings, joined by NUL (which neither node nor process names hold),
// so that the client reads one string rather than an array. (The arrays
// concatenated and then made distinct cost the server about half what
// groupUniqArrayArray's set per edge does.)
func joinedSet(col string) string {
	return fmt.Sprintf(`arrayStringConcat(arraySlice(arraySort(arrayDistinct(arrayFilter(x -> x != '', groupArrayArray(%s)))), 1, %d), '\0')`, col, maxStrings)
}

// splitSet reads a joinedSet: nil when empty, as the embedded store
// answers.
func splitSet(v string) []string {
	if v == "" {
		return nil
	}
	return strings.Split(v, "\x00")
}

// readInventory reads the latest of each workload and the cluster facts.
func (s *Store) readInventory(ctx context.Context, w *topology.Window) error {
	cl := quoteString(s.cluster)
	q := fmt.Sprintf("SELECT argMax(spec, version) FROM %s WHERE cluster = %s GROUP BY namespace, kind, name", s.db.table(tableWorkloads), cl)
	err := s.db.query(ctx, q, func(r driver.Rows) error {
		var spec string
		if err := r.Scan(&spec); err != nil {
			return err
		}
		var wl topology.Workload
		if err := json.Unmarshal([]byte(spec), &wl); err != nil {
			return fmt.Errorf("workload: %w", err)
		}
		w.Workloads[wl.Ref] = wl
		return nil
	})
	if err != nil {
		return fmt.Errorf("read the workloads: %w", err)
	}
	var spec string
	var n uint64
	q = fmt.Sprintf("SELECT argMax(spec, version), count() FROM %s WHERE cluster = %s", s.db.table(tableClusterFacts), cl)
	if err := s.db.conn.QueryRow(s.db.ctx(ctx), q).Scan(&spec, &n); err != nil {
		return fmt.Errorf("read the cluster facts: %w", err)
	}
	if n == 0 {
		return nil
	}
	if err := json.Unmarshal([]byte(spec), &w.Cluster); err != nil {
		return fmt.Errorf("cluster facts: %w", err)
	}
	return nil
}
