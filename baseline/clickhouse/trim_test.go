package clickhouse

import (
	"context"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/topology"
)

// trimDelta is a batch (sender, seq) of one external edge with one cell
// at start, and a DNS name seen from first to last.
func trimDelta(sender string, seq uint64, start time.Time, client uint64, name string, first, last time.Time) *baseline.Delta {
	e := topology.Edge{
		Src: topology.End{Kind: topology.KindWorkload, Workload: topology.WorkloadRef{Namespace: "shop", Kind: "Deployment", Name: "web"}},
		Dst: topology.End{Kind: topology.KindExternal, Addr: netip.MustParseAddr("203.0.113.10")}, Port: 443, Proto: flow.TCP,
	}
	d := &baseline.Delta{
		Edges:     []baseline.EdgeDelta{{Edge: e, Cells: []baseline.Cell{{Start: start.Unix(), Client: client, FirstMS: 10, LastMS: 20}}, Nodes: []string{"n"}}},
		Delivered: map[string]uint64{sender: seq},
	}
	if name != "" {
		d.Edges[0].Names = []baseline.NameSeen{{Name: name, First: first.UnixMilli(), Last: last.UnixMilli()}}
		d.Answers = []baseline.Answer{{Name: name, Addr: e.Dst.Addr, First: first.UnixMilli(), Last: last.UnixMilli()}}
	}
	return d
}

// Retention trims the commits, names, answers and attachments of a month
// once it is over: what October wrote is gone from its partitions, and
// what is still needed was copied out. Kept: each sender's last batch (so
// a batch sent again is still known), a commit whose cells still count, the
// commit of the attachment read, the names seen since the last tier's
// cut. Dropped: earlier batches whose cells were rolled up or are past the
// last tier, an attachment replaced, names past the last tier. Every window and read answers as
// before, on one server and on two shards. If it failed, the commits table
// would grow for ever, or trimming would change what counts.
func TestTrim(t *testing.T) {
	srv := startServers(t, 2)
	ctx := context.Background()
	ret, err := baseline.ParseRetention("1m:1d,1h:2d")
	if err != nil {
		t.Fatal(err)
	}
	oct := time.Date(2026, 10, 20, 12, 0, 0, 0, time.UTC)
	nov := time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)
	for _, sharded := range []bool{false, true} {
		t.Run(fmt.Sprintf("sharded=%v", sharded), func(t *testing.T) {
			db := map[bool]string{false: "trim_single", true: "trim_sharded"}[sharded]
			now := oct
			s := openCH(t, storeURL(srv, db, sharded, ""), Options{Retention: ret, Now: func() time.Time { return now }})
			// Another Kubernetes cluster in the same tables: trimming
			// this one leaves its rows alone.
			other := openCH(t, strings.Replace(storeURL(srv, db, sharded, ""), "cluster=test", "cluster=testx", 1), Options{Retention: ret, Now: func() time.Time { return now }})
			live := nov.Add(-20 * time.Hour) // in the minutes kept on Nov 10
			for _, d := range []*baseline.Delta{
				trimDelta("a", 1, oct, 1, "old.example.com", oct, oct),
				trimDelta("a", 2, oct.Add(time.Minute), 2, "", oct, oct),
				trimDelta("b", 1, oct, 4, "", oct, oct),
				trimDelta("c", 1, live, 8, "live.example.com", oct, live),
				trimDelta("c", 2, oct, 16, "", oct, oct),
				{Attachments: map[string][]byte{"staged": []byte("replaced")}},
				{Attachments: map[string][]byte{"staged": []byte("read")}},
			} {
				if _, err := s.Apply(ctx, d); err != nil {
					t.Fatal(err)
				}
			}
			resent := trimDelta("a", 2, oct.Add(time.Minute), 2, "", oct, oct)
			resent.Resent = true
			if _, err := s.Apply(ctx, resent); err != nil {
				t.Fatal(err)
			}
			if _, err := other.Apply(ctx, trimDelta("z", 1, oct, 32, "", oct, oct)); err != nil {
				t.Fatal(err)
			}
			now = nov
			if _, err := s.Apply(ctx, trimDelta("a", 3, nov, 64, "", nov, nov)); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Retain(ctx, nov); err != nil {
				t.Fatal(err)
			}
			for _, tb := range []table{tableCommits, tableNames, tableAnswers, tableAttachments} {
				months, err := s.monthsBefore(ctx, tb, monthOf(nov))
				if err != nil {
					t.Fatal(err)
				}
				if len(months) > 0 {
					t.Errorf("%s still holds months %v", tb.name, months)
				}
			}
			var got []string
			q := fmt.Sprintf("SELECT concat(toString(kind), ' ', sender, ' ', toString(seq)) AS c FROM %s WHERE cluster = 'test' AND kind != %d ORDER BY c", s.db.table(tableCommits), kindRollup)
			if err := eachRowQuery(s, q, func(v string) { got = append(got, v) }); err != nil {
				t.Fatal(err)
			}
			// The attachment's commit names no batch: "0  0". November's
			// first Apply trimmed before it wrote a 3, when a 2 was a's
			// last batch: a 2 is kept with the resent commit of the same
			// batch ("1 a 2"), so that which of them counts stays.
			if want := []string{"0  0", "0 a 2", "0 a 3", "0 b 1", "0 c 1", "0 c 2", "1 a 2"}; !reflect.DeepEqual(got, want) {
				t.Errorf("commits kept %q, want %q", got, want)
			}
			delivered, err := s.Delivered(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if want := map[string]uint64{"a": 3, "b": 1, "c": 2}; !reflect.DeepEqual(delivered, want) {
				t.Errorf("delivered %v, want %v", delivered, want)
			}
			if v, err := s.Attachment(ctx, "staged"); err != nil || string(v) != "read" {
				t.Errorf("attachment %q, %v; want \"read\"", v, err)
			}
			w, err := s.Window(ctx, nov.Add(-2*24*time.Hour), nov.Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if len(w.Edges) != 1 || w.Edges[0].Count != 8+64 || fmt.Sprint(w.Edges[0].Names) != "[live.example.com]" || len(w.Resolved) != 1 {
				t.Errorf("after trimming: edges %+v, resolved %v; want 72 connections (c 1 and a 3), live.example.com only", w.Edges, w.Resolved)
			}
			// b's batch sent again after trimming is still known: it does
			// not count a second time.
			again := trimDelta("b", 1, nov, 4, "", nov, nov)
			again.Resent = true
			if _, err := s.Apply(ctx, again); err != nil {
				t.Fatal(err)
			}
			if w, err = s.Window(ctx, nov.Add(-2*24*time.Hour), nov.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if len(w.Edges) != 1 || w.Edges[0].Count != 72 {
				t.Errorf("b's batch sent again counted: %+v", w.Edges)
			}
			var others uint64
			q = fmt.Sprintf("SELECT count() FROM %s WHERE cluster = 'testx' AND kind != %d", s.db.table(tableCommits), kindRollup)
			if err := s.db.conn.QueryRow(ctx, q).Scan(&others); err != nil || others != 1 {
				t.Errorf("the other cluster's commits: %d, %v; want its one, untouched", others, err)
			}
		})
	}
}

// Retention trims the rollup commits with the rest: of each tier's
// chain, only the commits whose cells still count (for the last tier, the
// one that moved the cut to where it is) outlive their month, and the
// cuts, the windows and the next rollups are what they would be without
// trimming. If it failed, the commits table would gain two rollups a day
// for ever, or trimming them would move a cut or stop a rollup's cells
// counting.
func TestTrimRollups(t *testing.T) {
	srv := startServers(t, 2)
	ctx := context.Background()
	ret, err := baseline.ParseRetention("1m:1d,1h:2d")
	if err != nil {
		t.Fatal(err)
	}
	oct := time.Date(2026, 10, 10, 12, 0, 0, 0, time.UTC)
	nov := time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)
	hour := uint64(2 * dayCount / 3) // what hourDelta(…, 2) counts
	for _, sharded := range []bool{false, true} {
		t.Run(fmt.Sprintf("sharded=%v", sharded), func(t *testing.T) {
			db := map[bool]string{false: "trimroll_single", true: "trimroll_sharded"}[sharded]
			now := oct
			s := openCH(t, storeURL(srv, db, sharded, ""), Options{Retention: ret, Now: func() time.Time { return now }})
			for d := range 5 { // October: a rollup of each tier each day
				now = oct.Add(time.Duration(d) * 24 * time.Hour)
				if _, err := s.Apply(ctx, hourDelta(now.Add(-time.Hour), 2)); err != nil {
					t.Fatal(err)
				}
				if _, err := s.Retain(ctx, now); err != nil {
					t.Fatal(err)
				}
			}
			// November: the first Apply trims October; the hour of Nov 8
			// is rolled into hours by a rollup whose chain went through
			// October.
			now = nov
			for _, h := range []time.Duration{54, 30, 3} {
				if _, err := s.Apply(ctx, hourDelta(nov.Add(-h*time.Hour), 2)); err != nil {
					t.Fatal(err)
				}
			}
			checkRollups(t, s, nov, []int64{ret.Cut(0, nov.Unix()), ret.Cut(1, nov.Unix())}, 3*hour)
			var old uint64
			q := fmt.Sprintf("SELECT count() FROM %s WHERE cluster = 'test' AND kind = %d AND at < '2026-11-01 00:00:00'", s.db.table(tableCommits), kindRollup)
			if err := s.db.conn.QueryRow(ctx, q).Scan(&old); err != nil || old != 0 {
				t.Errorf("%d rollup commits of October kept (%v), want none: their cells no longer count", old, err)
			}
			// The chain goes on from where it was trimmed: a day later
			// the hour of Nov 9 is rolled up, that of Nov 8 is past.
			now = nov.Add(24 * time.Hour)
			checkRollups(t, s, now, []int64{ret.Cut(0, now.Unix()), ret.Cut(1, now.Unix())}, 2*hour)
		})
	}
}

// checkRollups retains as of now and checks the cuts and what a window
// of the last three days counts.
func checkRollups(t *testing.T, s *Store, now time.Time, cuts []int64, count uint64) {
	t.Helper()
	if _, err := s.Retain(context.Background(), now); err != nil {
		t.Fatal(err)
	}
	st, err := s.state(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(st.cuts, cuts) {
		t.Errorf("as of %s: cuts %v, want %v", now, st.cuts, cuts)
	}
	if n := windowCount(t, s, now.Add(-3*24*time.Hour), now); n != count {
		t.Errorf("as of %s: the window counts %d, want %d", now, n, count)
	}
}
