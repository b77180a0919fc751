package learn

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowpol/flowpol/baseline"
	"github.com/flowpol/flowpol/flow"
)

// answer is the frontend pod at src receiving, through kube-dns, an
// answer for name.
func answer(at time.Time, src, name string, ttl uint32, addrs ...string) *flow.Record {
	d := &flow.DNS{Name: name, TTL: ttl}
	for _, a := range addrs {
		d.Answers = append(d.Answers, netip.MustParseAddr(a))
	}
	return &flow.Record{Time: at, Proto: flow.UDP, Src: netip.MustParseAddrPort(src + ":40000"),
		Dst: netip.MustParseAddrPort("10.96.0.10:53"), Observer: flow.Client, DNS: d}
}

// connect is the frontend pod at src connecting to dst.
func connect(at time.Time, src, dst string) *flow.Record {
	return &flow.Record{Time: at, Proto: flow.TCP, Src: netip.MustParseAddrPort(src + ":41000"),
		Dst: netip.MustParseAddrPort(dst), Observer: flow.Client, Count: 1}
}

// A name goes on an external edge only when the same pod received an
// answer giving that address before it connected, and the answer still
// held (TTL plus the grace): a name on the wrong edge would allow the
// wrong peer under that name.
func TestNamesOnExternalEdges(t *testing.T) {
	const pod1, pod2 = "10.244.1.10", "10.244.2.10" // both frontend's
	s := time.Second
	tests := []struct {
		name string
		recs []*flow.Record
		want map[string][]baseline.NameSeen // edge destination → names
	}{
		{"answer then connection",
			[]*flow.Record{answer(t0, pod1, "api.example.com", 60, "203.0.113.5", "203.0.113.6"), connect(t0.Add(10*s), pod1, "203.0.113.5:443")},
			map[string][]baseline.NameSeen{"external/203.0.113.5": {{Name: "api.example.com", First: t0.Add(10 * s).UnixMilli(), Last: t0.Add(10 * s).UnixMilli()}}}},
		{"within the grace",
			[]*flow.Record{answer(t0, pod1, "api.example.com", 60, "203.0.113.5"), connect(t0.Add(119*s), pod1, "203.0.113.5:443")},
			map[string][]baseline.NameSeen{"external/203.0.113.5": {{Name: "api.example.com", First: t0.Add(119 * s).UnixMilli(), Last: t0.Add(119 * s).UnixMilli()}}}},
		{"past TTL and grace",
			[]*flow.Record{answer(t0, pod1, "api.example.com", 60, "203.0.113.5"), connect(t0.Add(121*s), pod1, "203.0.113.5:443")},
			map[string][]baseline.NameSeen{"external/203.0.113.5": nil}},
		{"connection before the answer",
			[]*flow.Record{connect(t0, pod1, "203.0.113.5:443"), answer(t0.Add(s), pod1, "api.example.com", 60, "203.0.113.5")},
			map[string][]baseline.NameSeen{"external/203.0.113.5": nil}},
		{"another pod's answer",
			[]*flow.Record{answer(t0, pod2, "api.example.com", 60, "203.0.113.5"), connect(t0.Add(s), pod1, "203.0.113.5:443")},
			map[string][]baseline.NameSeen{"external/203.0.113.5": nil}},
		{"another address",
			[]*flow.Record{answer(t0, pod1, "api.example.com", 60, "203.0.113.5"), connect(t0.Add(s), pod1, "203.0.113.9:443")},
			map[string][]baseline.NameSeen{"external/203.0.113.9": nil}},
		{"two names, one address, over time",
			[]*flow.Record{answer(t0, pod1, "b.example.com", 60, "203.0.113.5"), answer(t0, pod1, "a.example.com", 60, "203.0.113.5"),
				connect(t0.Add(s), pod1, "203.0.113.5:443"), connect(t0.Add(5*s), pod1, "203.0.113.5:443")},
			map[string][]baseline.NameSeen{"external/203.0.113.5": {
				{Name: "a.example.com", First: t0.Add(s).UnixMilli(), Last: t0.Add(5 * s).UnixMilli()},
				{Name: "b.example.com", First: t0.Add(s).UnixMilli(), Last: t0.Add(5 * s).UnixMilli()}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := exampleLearner(t, Options{})
			for _, r := range tt.recs {
				l.Add(r)
			}
			d := l.Take()
			got := map[string][]baseline.NameSeen{}
			for _, e := range d.Edges {
				if e.Edge.Dst.Kind.String() == "external" {
					names := slices.Clone(e.Names)
					slices.SortFunc(names, func(a, b baseline.NameSeen) int { return strings.Compare(a.Name, b.Name) })
					got[e.Edge.Dst.String()] = names
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("external edges %v, want %v", got, tt.want)
			}
			for dst, want := range tt.want {
				if !slices.Equal(got[dst], want) {
					t.Errorf("edge to %s: names %+v, want %+v", dst, got[dst], want)
				}
			}
		})
	}
}

// An answer alone makes no edge and counts no connection, but goes to the
// store as the addresses its name resolved to; a later take hands out only
// what changed.
func TestAnswersTaken(t *testing.T) {
	l := exampleLearner(t, Options{})
	l.Add(answer(t0, "10.244.1.10", "api.example.com", 60, "203.0.113.5", "203.0.113.6"))
	d := l.Take()
	if d == nil || len(d.Edges) != 0 {
		t.Fatalf("delta %+v: want no edges", d)
	}
	want := []baseline.Answer{
		{Name: "api.example.com", Addr: netip.MustParseAddr("203.0.113.5"), First: t0.UnixMilli(), Last: t0.UnixMilli()},
		{Name: "api.example.com", Addr: netip.MustParseAddr("203.0.113.6"), First: t0.UnixMilli(), Last: t0.UnixMilli()},
	}
	if !slices.Equal(d.Answers, want) {
		t.Errorf("answers %+v, want %+v", d.Answers, want)
	}
	if r := l.Run(); r.Connections != 0 || r.Records != 1 {
		t.Errorf("run %+v: an answer is a record, not a connection", r)
	}
	l.Add(answer(t0, "10.244.1.10", "api.example.com", 60, "203.0.113.5"))
	if d := l.Take(); d != nil {
		t.Errorf("the same answer again gave %+v", d)
	}
	l.Add(answer(t0.Add(time.Minute), "10.244.2.10", "api.example.com", 60, "203.0.113.6"))
	d = l.Take()
	want = []baseline.Answer{{Name: "api.example.com", Addr: netip.MustParseAddr("203.0.113.6"), First: t0.UnixMilli(), Last: t0.Add(time.Minute).UnixMilli()}}
	if d == nil || !slices.Equal(d.Answers, want) {
		t.Errorf("a later answer gave %+v, want answers %+v", d, want)
	}
}
