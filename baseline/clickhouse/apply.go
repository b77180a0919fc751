package clickhouse

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"time"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/topology"
)

// maxCellSecs bounds a cell's start: ClickHouse's DateTime holds 1970 to
// 2106.
const maxCellSecs = 1<<32 - 1

// Apply adds a delta; see baseline.Store and the package doc for how it
// is made all or nothing. Retention runs first when it is due.
func (s *Store) Apply(ctx context.Context, d *baseline.Delta) (baseline.Applied, error) {
	if err := ctx.Err(); err != nil {
		return baseline.Applied{}, err
	}
	if s.opts.ReadOnly {
		return baseline.Applied{}, fmt.Errorf("apply to %s: opened read-only", s.URL())
	}
	out, err := s.apply(ctx, d)
	if err != nil {
		return baseline.Applied{}, fmt.Errorf("apply to %s: %w", s.URL(), err)
	}
	return out, nil
}

func (s *Store) apply(ctx context.Context, d *baseline.Delta) (baseline.Applied, error) {
	var out baseline.Applied
	if err := s.checkCells(d); err != nil {
		return out, err
	}
	if err := checkAttachments(d.Attachments); err != nil {
		return out, err
	}
	if err := s.retainIfDue(ctx, d); err != nil {
		return out, err
	}
	st, err := s.state(ctx)
	if err != nil {
		return out, err
	}
	commit := newCommitID()
	ids := make([]uint64, len(d.Edges))
	for i := range d.Edges {
		ids[i] = edgeID(d.Edges[i].Edge)
	}
	if out.NewEdges, err = s.countNew(ctx, ids); err != nil {
		return out, err
	}
	if err := s.putEdges(ctx, d.Edges, ids); err != nil {
		return out, err
	}
	cells, span := s.cellRows(st, commit, d.Edges, ids)
	if err := s.db.insert(ctx, tableCells, cells); err != nil {
		return out, err
	}
	if err := s.putNames(ctx, d, ids); err != nil {
		return out, err
	}
	if err := s.putInventory(ctx, d, commit); err != nil {
		return out, err
	}
	// The commit: its rows are one block, on one shard, and make
	// everything above count at once.
	return out, s.db.insert(ctx, tableCommits, s.commitRows(commit, d, span))
}

// checkAttachments refuses what the embedded store refuses: a value
// without a name, or one too large.
func checkAttachments(as map[string][]byte) error {
	for name, v := range as {
		switch {
		case name == "":
			return fmt.Errorf("attachment without a name")
		case len(v) > baseline.MaxAttachmentBytes:
			return fmt.Errorf("attachment %q: %d bytes, more than %d", name, len(v), baseline.MaxAttachmentBytes)
		}
	}
	return nil
}

// putNames writes the DNS names behind the delta's edges and the answers
// it holds. They are kept as first and last moments, min and max, so a
// batch written twice adds nothing and they need no commit: a writer
// killed before its commit leaves the names its batch brings again.
func (s *Store) putNames(ctx context.Context, d *baseline.Delta, ids []uint64) error {
	day := s.today()
	var rows [][]any
	for i := range d.Edges {
		for _, n := range d.Edges[i].Names {
			rows = append(rows, []any{s.cluster, ids[i], n.Name, n.First, n.Last, day})
		}
	}
	if err := s.db.insert(ctx, tableNames, rows); err != nil {
		return err
	}
	rows = rows[:0]
	for _, a := range d.Answers {
		rows = append(rows, []any{s.cluster, a.Name, a.Addr.Unmap().WithZone("").String(), a.First, a.Last, day})
	}
	return s.db.insert(ctx, tableAnswers, rows)
}

// today is the writer's day, for the tables partitioned by it.
func (s *Store) today() time.Time {
	return time.Unix(s.db.now().Unix()/86400*86400, 0).UTC()
}

func (s *Store) checkCells(d *baseline.Delta) error {
	widthMS := int64(s.tiers[0].Bucket / time.Millisecond)
	for i := range d.Edges {
		for _, c := range d.Edges[i].Cells {
			if c.Start < 0 || c.Start > maxCellSecs || c.FirstMS > c.LastMS || int64(c.LastMS) >= widthMS {
				return fmt.Errorf("edge %s: %w: start %d s, first %d ms, last %d ms in a %s bucket", d.Edges[i].Edge, ErrBadCell, c.Start, c.FirstMS, c.LastMS, s.tiers[0].Bucket)
			}
		}
	}
	return nil
}

// edgeID is an edge's id: a hash of its binary key.
func edgeID(e topology.Edge) uint64 {
	h := fnv.New64a()
	h.Write(edgeKey(e))
	return h.Sum64()
}

// edgeKey encodes an edge: each end's kind, identity and reason number,
// then protocol and port.
func edgeKey(e topology.Edge) []byte {
	var b bytes.Buffer
	for _, end := range []topology.End{e.Src, e.Dst} {
		b.WriteByte(byte(end.Kind))
		for _, s := range []string{end.Workload.Namespace, end.Workload.Kind, end.Workload.Name, end.Node} {
			b.Write(binary.AppendUvarint(nil, uint64(len(s))))
			b.WriteString(s)
		}
		a, _ := end.Addr.MarshalBinary() // never fails
		b.Write(binary.AppendUvarint(nil, uint64(len(a))))
		b.Write(a)
		b.WriteByte(byte(end.Reason))
	}
	b.WriteByte(byte(e.Proto))
	b.Write(binary.BigEndian.AppendUint16(nil, e.Port))
	return b.Bytes()
}

// countNew counts the edges the store did not hold.
func (s *Store) countNew(ctx context.Context, ids []uint64) (int, error) {
	var unknown []uint64
	s.mu.Lock()
	for _, id := range ids {
		if _, ok := s.edges[id]; !ok {
			unknown = append(unknown, id)
		}
	}
	s.mu.Unlock()
	if len(unknown) == 0 {
		return 0, nil
	}
	held := 0
	for chunk := range slices.Chunk(unknown, 5000) {
		var n uint64
		q := fmt.Sprintf("SELECT uniqExact(edge) FROM %s WHERE cluster = %s AND edge IN (%s)", s.db.table(tableEdges), quoteString(s.cluster), joinUints(chunk))
		if err := s.db.conn.QueryRow(s.db.ctx(ctx), q).Scan(&n); err != nil {
			return 0, fmt.Errorf("look up edges: %w", err)
		}
		held += int(n)
	}
	return len(unknown) - held, nil
}

// putEdges writes the records of the edges that bring a pod, node or
// process not written yet, or that were not written today: a day's rows
// hold every edge seen that day.
func (s *Store) putEdges(ctx context.Context, edges []baseline.EdgeDelta, ids []uint64) error {
	day := s.db.now().Unix() / 86400
	var rows [][]any
	marks := map[uint64]edgeMark{}
	s.mu.Lock()
	for i := range edges {
		e := &edges[i]
		m := edgeMark{day: day, sets: setsHash(e)}
		if s.edges[ids[i]] == m {
			continue
		}
		marks[ids[i]] = m
		rows = append(rows, edgeRow(s.cluster, ids[i], day, e))
	}
	s.mu.Unlock()
	if err := s.db.insert(ctx, tableEdges, rows); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	maps.Copy(s.edges, marks)
	return nil
}

// setsHash sums up an edge delta's pods, nodes and processes.
func setsHash(e *baseline.EdgeDelta) uint64 {
	h := fnv.New64a()
	for _, set := range [][]uint64{e.SrcPods, e.DstPods} {
		for _, p := range set {
			h.Write(binary.BigEndian.AppendUint64(nil, p))
		}
		h.Write([]byte{0})
	}
	for _, set := range [][]string{e.Nodes, e.SrcComms, e.DstComms} {
		for _, x := range set {
			h.Write(append([]byte(x), 0))
		}
		h.Write([]byte{1})
	}
	return h.Sum64()
}

func endRow(e topology.End) []any {
	addr := ""
	if e.Addr.IsValid() {
		addr = e.Addr.String()
	}
	return []any{uint8(e.Kind), e.Workload.Namespace, e.Workload.Kind, e.Workload.Name, e.Node, addr, uint8(e.Reason)}
}

// edgeRow is a row of the edges table, in tableEdges' column order.
func edgeRow(cluster string, id uint64, day int64, e *baseline.EdgeDelta) []any {
	row := append(endRow(e.Edge.Src), endRow(e.Edge.Dst)...)
	return append(row, cluster, id, time.Unix(day*86400, 0).UTC(), e.Edge.Port, uint8(e.Edge.Proto),
		nonNil(e.SrcPods), nonNil(e.DstPods), nonNil(e.Nodes), nonNil(e.SrcComms), nonNil(e.DstComms))
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// cellRows places the cells in the tiers that hold their times, as the
// embedded store does: a cell older than the finest tier keeps goes to
// the coarser one, counted as rollups count (the larger of client and
// server, and the estimated part of it), and one past the last tier is
// dropped.
func (s *Store) cellRows(st *state, commit string, edges []baseline.EdgeDelta, ids []uint64) ([][]any, cellSpan) {
	var rows [][]any
	span := cellSpan{newest: -1}
	for i := range edges {
		for _, c := range edges[i].Cells {
			tier := baseline.TierAt(st.cuts, c.Start)
			if tier < 0 {
				continue
			}
			start := baseline.FloorTo(c.Start, st.tiers.Width(tier))
			off := uint32((c.Start - start) * 1000)
			client, server, est := c.Client, c.Server, min(c.Estimated, c.Client)
			if tier > 0 {
				est = baseline.EstimatedPart(client, server, est)
				client, server = max(client, server), max(client, server)
			}
			rows = append(rows, []any{s.cluster, uint8(tier), time.Unix(start, 0).UTC(), ids[i], commit,
				client, server, off + c.FirstMS, off + c.LastMS, est})
			span.newest, span.coarsest = max(span.newest, start), max(span.coarsest, uint8(tier))
		}
	}
	s.mu.Lock()
	for i := range edges {
		for _, c := range edges[i].Cells {
			s.newest = max(s.newest, c.Start+st.tiers.Width(0))
		}
	}
	s.mu.Unlock()
	return rows, span
}

// cellSpan is what a commit's cells reach: the start of the newest and
// the coarsest tier; no cells is -1 and 0. Trimming reads it.
type cellSpan struct {
	newest   int64
	coarsest uint8
}

// putInventory writes the delta's workloads, cluster facts, waiting
// records and attachments (these valid with the commit).
func (s *Store) putInventory(ctx context.Context, d *baseline.Delta, commit string) error {
	v := s.nextVersion()
	if err := s.putAttachments(ctx, d.Attachments, v, commit); err != nil {
		return err
	}
	var rows [][]any
	for _, ref := range slices.SortedFunc(maps.Keys(d.Workloads), topology.WorkloadRef.Compare) {
		spec, err := json.Marshal(d.Workloads[ref])
		if err != nil {
			return fmt.Errorf("encode workload %s: %w", ref, err)
		}
		rows = append(rows, []any{s.cluster, ref.Namespace, ref.Kind, ref.Name, v, string(spec)})
	}
	if err := s.db.insert(ctx, tableWorkloads, rows); err != nil {
		return err
	}
	if d.Cluster != nil {
		spec, err := json.Marshal(d.Cluster)
		if err != nil {
			return fmt.Errorf("encode cluster facts: %w", err)
		}
		if err := s.db.insert(ctx, tableClusterFacts, [][]any{{s.cluster, v, string(spec)}}); err != nil {
			return err
		}
	}
	if !d.ReplaceWaiting {
		return nil
	}
	var buf []byte
	for i := range d.Waiting {
		buf = append(flow.AppendJSON(buf, &d.Waiting[i]), '\n')
	}
	return s.db.insert(ctx, tableWaiting, [][]any{{s.cluster, s.writer, v, string(buf)}})
}

// putAttachments writes a version of each value named; an empty one
// stands for none.
func (s *Store) putAttachments(ctx context.Context, as map[string][]byte, v uint64, commit string) error {
	var rows [][]any
	day := s.today()
	for _, name := range slices.Sorted(maps.Keys(as)) {
		rows = append(rows, []any{s.cluster, name, v, commit, string(as[name]), day})
	}
	return s.db.insert(ctx, tableAttachments, rows)
}

// commitRows are the commit's rows: one per batch it holds (sender and
// sequence), or one naming no batch.
func (s *Store) commitRows(commit string, d *baseline.Delta, span cellSpan) [][]any {
	now := s.db.now()
	kind := uint8(kindDelta)
	if d.Resent {
		kind = kindResent
	}
	row := func(sender string, seq uint64) []any {
		return []any{s.cluster, commit, now, kind, sender, seq, int64(0), s.writer, now, span.newest, span.coarsest}
	}
	if len(d.Delivered) == 0 {
		return [][]any{row("", 0)}
	}
	var rows [][]any
	for _, sender := range slices.Sorted(maps.Keys(d.Delivered)) {
		rows = append(rows, row(sender, d.Delivered[sender]))
	}
	return rows
}

func joinUints(v []uint64) string {
	var b []byte
	for i, x := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, "%d", x)
	}
	return string(b)
}

// Attachment returns the value last stored under name by a valid commit,
// or nil when there is none (or it was removed).
func (s *Store) Attachment(ctx context.Context, name string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out, err := s.attachment(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("read attachment %q from %s: %w", name, s.URL(), err)
	}
	return out, nil
}

func (s *Store) attachment(ctx context.Context, name string) ([]byte, error) {
	st, err := s.state(ctx)
	if err != nil {
		return nil, err
	}
	var v string
	var n uint64
	q := fmt.Sprintf("SELECT argMax(value, version), count() FROM %s WHERE cluster = %s AND name = %s AND commit GLOBAL IN (%s)",
		s.db.table(tableAttachments), quoteString(s.cluster), quoteString(name), s.valid(st))
	if err := s.db.conn.QueryRow(s.db.ctx(ctx), q).Scan(&v, &n); err != nil {
		return nil, err
	}
	if n == 0 || v == "" {
		return nil, nil
	}
	return []byte(v), nil
}
