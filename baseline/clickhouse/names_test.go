package clickhouse

import (
	"bytes"
	"context"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/baseline/boltdb"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/topology"
)

// namesDeltas are three deltas of DNS traffic: an external edge whose
// names arrive over two deltas (one name widened, one new), the answers of
// those names (one address answered twice, one rotated in later, one name
// answered in IPv4-mapped form), and a name answered but never
// connected to.
func namesDeltas(day time.Time) []*baseline.Delta {
	ms := func(d time.Duration) int64 { return day.Add(d).UnixMilli() }
	e := topology.Edge{
		Src: topology.End{Kind: topology.KindWorkload, Workload: topology.WorkloadRef{Namespace: "shop", Kind: "Deployment", Name: "api"}},
		Dst: topology.End{Kind: topology.KindExternal, Addr: netip.MustParseAddr("203.0.113.10")}, Port: 443, Proto: flow.TCP,
	}
	cell := func(d time.Duration) []baseline.Cell {
		return []baseline.Cell{{Start: day.Add(d).Unix(), Client: 3, FirstMS: 100, LastMS: 200}}
	}
	pay, cdn := "payments.example.com", "cdn.example.net"
	return []*baseline.Delta{
		{
			Edges: []baseline.EdgeDelta{{Edge: e, Cells: cell(time.Hour), Nodes: []string{"n"},
				Names: []baseline.NameSeen{{Name: pay, First: ms(time.Hour), Last: ms(time.Hour + time.Second)}}}},
			Answers: []baseline.Answer{
				{Name: pay, Addr: netip.MustParseAddr("203.0.113.10"), First: ms(time.Hour - time.Second), Last: ms(time.Hour - time.Second)},
				{Name: "unused.example.org", Addr: netip.MustParseAddr("2001:db8::1"), First: ms(30 * time.Minute), Last: ms(30 * time.Minute)},
			},
		},
		{
			Edges: []baseline.EdgeDelta{{Edge: e, Cells: cell(5 * time.Hour), Nodes: []string{"n"},
				Names: []baseline.NameSeen{
					{Name: pay, First: ms(5 * time.Hour), Last: ms(5 * time.Hour)},
					{Name: cdn, First: ms(5 * time.Hour), Last: ms(5*time.Hour + time.Minute)},
				}}},
			Answers: []baseline.Answer{
				{Name: pay, Addr: netip.MustParseAddr("203.0.113.10"), First: ms(5 * time.Hour), Last: ms(5 * time.Hour)},
				{Name: pay, Addr: netip.MustParseAddr("::ffff:203.0.113.11"), First: ms(5 * time.Hour), Last: ms(5 * time.Hour)},
				{Name: cdn, Addr: netip.MustParseAddr("203.0.113.10"), First: ms(5 * time.Hour), Last: ms(5 * time.Hour)},
			},
		},
		{Edges: []baseline.EdgeDelta{{Edge: e, Cells: cell(8 * time.Hour), Nodes: []string{"n"}}}},
	}
}

// DNS names and answers from ClickHouse are the embedded store's, window
// for window, deep-equal: a name is in a window when its first-to-last
// span overlaps it, an answer likewise, on one server and on two shards.
// If it failed, generate --format cilium would write other toFQDNs rules
// from ClickHouse than from a file.
func TestNamesParity(t *testing.T) {
	srv := startServers(t, 2)
	day := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return day.Add(10 * time.Hour) }
	for _, sharded := range []bool{false, true} {
		db := map[bool]string{false: "names_single", true: "names_sharded"}[sharded]
		bolt := openBolt(t, boltdb.Options{Now: clock})
		ch := openCH(t, storeURL(srv, db, sharded, ""), Options{Now: clock})
		for _, st := range []baseline.Store{bolt, ch} {
			for _, d := range namesDeltas(day) {
				if _, err := st.Apply(context.Background(), d); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, w := range []struct {
			from, to time.Duration
			names    bool // the edge has a name in the window
		}{
			{0, 10 * time.Hour, true},
			{2 * time.Hour, 3 * time.Hour, false}, // inside the name's span, but no cells: no edge
			{30 * time.Minute, 2 * time.Hour, true},
			{4 * time.Hour, 6 * time.Hour, true},
			{7 * time.Hour, 9 * time.Hour, false},
		} {
			from, to := day.Add(w.from), day.Add(w.to)
			want, err := bolt.Window(context.Background(), from, to)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ch.Window(context.Background(), from, to)
			if err != nil {
				t.Fatal(err)
			}
			compareWindows(t, from, to, got, want)
			if has := len(want.Edges) > 0 && len(want.Edges[0].Names) > 0; has != w.names {
				t.Errorf("window %s to %s: names %v, want %v: the case shows nothing", w.from, w.to, has, w.names)
			}
			if len(got.Edges) > 0 {
				t.Logf("window %s to %s: names %v, resolved %v", w.from, w.to, got.Edges[0].Names, got.Resolved)
			}
		}
		// Past the last tier (90 days of hours), the names and answers go
		// with the cells: a window of that day resolves nothing in either.
		later := day.Add(92 * 24 * time.Hour)
		for _, st := range []baseline.Store{bolt, ch} {
			if _, err := st.Retain(context.Background(), later); err != nil {
				t.Fatal(err)
			}
		}
		want, err := bolt.Window(context.Background(), day, day.Add(10*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		got, err := ch.Window(context.Background(), day, day.Add(10*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if want.Resolved != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("after retention: resolved %v, want %v (none)\n got %+v\nwant %+v", got.Resolved, want.Resolved, got, want)
		}
	}
}

// Attachments are kept with the commit that wrote them: read back as
// written, replaced by a later delta, removed by an empty value; a value
// whose commit never landed (a writer killed between its rows and its
// commit) is not read; a value too large is refused, writing nothing.
// If it failed, an aggregator restarted on ClickHouse with --staged would
// start from a record that is not what the baseline holds.
func TestAttachments(t *testing.T) {
	srv := startServers(t, 1)
	ctx := context.Background()
	s := openCH(t, storeURL(srv, "attach", false, ""), Options{})
	read := func() []byte {
		t.Helper()
		v, err := s.Attachment(ctx, "staged")
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := read(); v != nil {
		t.Fatalf("an empty store has attachment %q", v)
	}
	steps := []struct {
		name string
		put  []byte
		want []byte
	}{
		{"written", []byte("first\x00record"), []byte("first\x00record")},
		{"replaced", []byte("second"), []byte("second")},
		{"removed", []byte{}, nil},
		{"written again", []byte("third"), []byte("third")},
	}
	for _, st := range steps {
		if _, err := s.Apply(ctx, &baseline.Delta{Attachments: map[string][]byte{"staged": st.put}}); err != nil {
			t.Fatal(err)
		}
		if got := read(); !bytes.Equal(got, st.want) {
			t.Errorf("%s: attachment %q, want %q", st.name, got, st.want)
		}
	}
	if err := s.putAttachments(ctx, map[string][]byte{"staged": []byte("never committed")}, s.nextVersion(), newCommitID()); err != nil {
		t.Fatal(err)
	}
	if got := read(); string(got) != "third" {
		t.Errorf("a value whose commit never landed is read: %q", got)
	}
	big := &baseline.Delta{Attachments: map[string][]byte{"staged": make([]byte, baseline.MaxAttachmentBytes+1)}}
	if _, err := s.Apply(ctx, big); err == nil {
		t.Error("an attachment over MaxAttachmentBytes was taken")
	}
	if _, err := s.Apply(ctx, &baseline.Delta{Attachments: map[string][]byte{"": []byte("x")}}); err == nil {
		t.Error("an attachment without a name was taken")
	}
	if got := read(); string(got) != "third" {
		t.Errorf("after the refused deltas: %q", got)
	}
}
