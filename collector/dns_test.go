package collector

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/flowpol/flowpol/flow"
)

// rr is a resource record for a test message.
type rr struct {
	name  string
	ttl   uint32
	a     string // an A or AAAA record's address
	cname string
}

func message(t testing.TB, resp bool, rcode dnsmessage.RCode, qtype dnsmessage.Type, qname string, answers ...rr) []byte {
	t.Helper()
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: 7, Response: resp, RCode: rcode})
	b.EnableCompression()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(b.StartQuestions())
	must(b.Question(dnsmessage.Question{Name: dnsmessage.MustNewName(qname), Type: qtype, Class: dnsmessage.ClassINET}))
	must(b.StartAnswers())
	for _, r := range answers {
		h := dnsmessage.ResourceHeader{Name: dnsmessage.MustNewName(r.name), Class: dnsmessage.ClassINET, TTL: r.ttl}
		switch {
		case r.cname != "":
			must(b.CNAMEResource(h, dnsmessage.CNAMEResource{CNAME: dnsmessage.MustNewName(r.cname)}))
		case netip.MustParseAddr(r.a).Is4():
			must(b.AResource(h, dnsmessage.AResource{A: netip.MustParseAddr(r.a).As4()}))
		default:
			must(b.AAAAResource(h, dnsmessage.AAAAResource{AAAA: netip.MustParseAddr(r.a).As16()}))
		}
	}
	msg, err := b.Finish()
	must(err)
	return msg
}

func addrs(s ...string) []netip.Addr {
	out := make([]netip.Addr, len(s))
	for i, a := range s {
		out[i] = netip.MustParseAddr(a)
	}
	return out
}

// parseAnswer must give the name asked, every address reached from it
// (through CNAMEs too) and the smallest TTL on the way, and nothing for
// what is no usable answer: a wrong parse would put names on the wrong
// peers.
func TestParseAnswer(t *testing.T) {
	ok := dnsmessage.RCodeSuccess
	chain := message(t, true, ok, dnsmessage.TypeA, "API.Example.com.",
		rr{name: "api.example.com.", ttl: 300, cname: "edge.cdn.example."},
		rr{name: "edge.cdn.example.", ttl: 20, a: "203.0.113.7"},
		rr{name: "other.example.", ttl: 1, a: "198.51.100.1"}, // not on the chain
		rr{name: "edge.cdn.example.", ttl: 60, a: "203.0.113.5"},
		rr{name: "edge.cdn.example.", ttl: 60, a: "203.0.113.5"})
	tcp := binary.BigEndian.AppendUint16(nil, uint16(len(chain)))
	tcp = append(tcp, chain...)
	tests := []struct {
		name    string
		payload []byte
		tcp     bool
		want    *flow.DNS
	}{
		{"A", message(t, true, ok, dnsmessage.TypeA, "api.example.com.", rr{name: "api.example.com.", ttl: 60, a: "203.0.113.5"}), false,
			&flow.DNS{Name: "api.example.com", Answers: addrs("203.0.113.5"), TTL: 60}},
		{"AAAA", message(t, true, ok, dnsmessage.TypeAAAA, "v6.example.", rr{name: "v6.example.", ttl: 30, a: "2001:db8::5"}, rr{name: "v6.example.", ttl: 10, a: "2001:db8::1"}), false,
			&flow.DNS{Name: "v6.example", Answers: addrs("2001:db8::1", "2001:db8::5"), TTL: 10}},
		{"CNAME chain", chain, false, &flow.DNS{Name: "api.example.com", Answers: addrs("203.0.113.5", "203.0.113.7"), TTL: 20}},
		{"over TCP", tcp, true, &flow.DNS{Name: "api.example.com", Answers: addrs("203.0.113.5", "203.0.113.7"), TTL: 20}},
		{"cut after the first address", chain[:len(chain)-30], false, &flow.DNS{Name: "api.example.com", Answers: addrs("203.0.113.7"), TTL: 20}},
		{"a query", message(t, false, ok, dnsmessage.TypeA, "api.example.com."), false, nil},
		{"NXDOMAIN", message(t, true, dnsmessage.RCodeNameError, dnsmessage.TypeA, "nope.example."), false, nil},
		{"no address", message(t, true, ok, dnsmessage.TypeA, "api.example.com.", rr{name: "api.example.com.", ttl: 5, cname: "x.example."}), false, nil},
		{"a TXT question", message(t, true, ok, dnsmessage.TypeTXT, "api.example.com."), false, nil},
		{"not DNS", []byte("HTTP/1.1 200 OK\r\n"), false, nil},
		{"TCP without its length", []byte{0}, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseAnswer(tt.payload, tt.tcp)
			if tt.want == nil {
				if ok {
					t.Fatalf("parsed %+v from what is no answer", got)
				}
				return
			}
			if !ok || !got.Equal(tt.want) {
				t.Fatalf("got %+v (%v), want %+v", got, ok, *tt.want)
			}
		})
	}
}

// The cache lets an answer through when it is news: first seen, other
// addresses, or half its TTL after the last one emitted; per cgroup.
func TestAnswerCache(t *testing.T) {
	c := newAnswerCache(2)
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	a := &flow.DNS{Name: "api.example.com", Answers: addrs("203.0.113.5"), TTL: 60}
	b := &flow.DNS{Name: "api.example.com", Answers: addrs("203.0.113.6"), TTL: 60}
	steps := []struct {
		cgroup uint64
		d      *flow.DNS
		at     time.Duration
		fresh  bool
	}{
		{1, a, 0, true},
		{1, a, 10 * time.Second, false},
		{2, a, 10 * time.Second, true},
		{1, b, 20 * time.Second, true},
		{1, b, 49 * time.Second, false},
		{1, b, 50 * time.Second, true},
		{3, a, 200 * time.Second, true}, // full: the expired are pruned
	}
	for i, s := range steps {
		if got := c.fresh(s.cgroup, s.d, t0.Add(s.at)); got != s.fresh {
			t.Errorf("step %d: fresh %v, want %v", i, got, s.fresh)
		}
	}
	if len(c.m) != 1 || !slices.Equal(c.m[answerKey{3, a.Name}].answers, a.Answers) {
		t.Errorf("cache holds %v, want only cgroup 3's answer", c.m)
	}
}
