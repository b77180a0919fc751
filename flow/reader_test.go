package flow

import (
	"errors"
	"io"
	"math"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestReaderParses(t *testing.T) {
	in := `{"time":"2026-11-22T10:00:00.123Z","node":"node-a","proto":"TCP","src_ip":"10.244.1.12","src_port":43122,"dst_ip":"10.96.14.3","dst_port":7070,"observer":"client"}

{"time":"2026-11-22T10:00:01Z","proto":"udp","src_ip":"::ffff:10.0.0.1","dst_ip":"fd00::53","dst_port":53,"observer":"server","count":7,"pid":12,"comm":"curl","cgroup_id":99,"pod_uid":"u-1","extra":{"x":[1]}}
{"time":"2026-11-22T10:00:02Z","proto":"UDP","src_ip":"10.0.0.1","src_port":40000,"dst_ip":"10.96.0.10","dst_port":53,"observer":"client","count":0,"dns":{"name":"api.example.com","answers":["203.0.113.5","::ffff:203.0.113.6","2001:db8::5"],"ttl":60}}
`
	r := NewReader(strings.NewReader(in), "flows.jsonl")
	got := readAll(t, r)
	want := []Record{
		{
			Time: time.Date(2026, 11, 22, 10, 0, 0, 123e6, time.UTC), Node: "node-a", Proto: TCP,
			Src: netip.MustParseAddrPort("10.244.1.12:43122"), Dst: netip.MustParseAddrPort("10.96.14.3:7070"),
			Observer: Client, Count: 1,
		},
		{
			Time: time.Date(2026, 11, 22, 10, 0, 1, 0, time.UTC), Proto: UDP,
			Src: netip.MustParseAddrPort("10.0.0.1:0"), Dst: netip.MustParseAddrPort("[fd00::53]:53"),
			Observer: Server, Count: 7, PID: 12, Comm: "curl", CgroupID: 99, PodUID: "u-1",
		},
		{
			Time: time.Date(2026, 11, 22, 10, 0, 2, 0, time.UTC), Proto: UDP,
			Src: netip.MustParseAddrPort("10.0.0.1:40000"), Dst: netip.MustParseAddrPort("10.96.0.10:53"), Observer: Client,
			DNS: &DNS{Name: "api.example.com", TTL: 60, Answers: []netip.Addr{
				netip.MustParseAddr("203.0.113.5"), netip.MustParseAddr("203.0.113.6"), netip.MustParseAddr("2001:db8::5")}},
		},
	}
	if len(got) != len(want) {
		t.Fatalf("read %d records, want %d", len(got), len(want))
	}
	for i := range want {
		if !got[i].Time.Equal(want[i].Time) {
			t.Errorf("record %d: time %v, want %v", i, got[i].Time, want[i].Time)
		}
		got[i].Time = want[i].Time
		if !got[i].Equal(&want[i]) {
			t.Errorf("record %d:\n got %+v %+v\nwant %+v %+v", i, got[i], got[i].DNS, want[i], want[i].DNS)
		}
	}
	if r.Line() != 4 {
		t.Errorf("Line() = %d after the last record, want 4", r.Line())
	}
}

func readAll(t testing.TB, r *Reader) []Record {
	t.Helper()
	var out []Record
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, *rec)
	}
}

func TestReaderErrors(t *testing.T) {
	good := `{"time":"2026-11-22T10:00:00Z","proto":"TCP","src_ip":"10.0.0.1","src_port":1,"dst_ip":"10.0.0.2","dst_port":80,"observer":"client"}`
	tests := []struct {
		name string
		line string
		want string
	}{
		{"not json", `{"time":`, `f.jsonl:2: invalid JSON`},
		{"not an object", `[1,2]`, `f.jsonl:2: not a JSON object`},
		{"missing time", strings.Replace(good, `"time":"2026-11-22T10:00:00Z",`, "", 1), `f.jsonl:2: field "time": missing`},
		{"bad time", strings.Replace(good, `2026-11-22T10:00:00Z`, `yesterday`, 1), `f.jsonl:2: field "time": not an RFC 3339 time`},
		{"bad proto", strings.Replace(good, `"TCP"`, `"ICMP"`, 1), `f.jsonl:2: field "proto": unknown protocol: "ICMP"`},
		{"bad observer", strings.Replace(good, `"client"`, `"both"`, 1), `f.jsonl:2: field "observer": unknown observer`},
		{"bad src ip", strings.Replace(good, `"10.0.0.1"`, `"10.0.0.300"`, 1), `f.jsonl:2: field "src_ip": not an IP address`},
		{"src ip not a string", strings.Replace(good, `"10.0.0.1"`, `7`, 1), `f.jsonl:2: field "src_ip": not a string`},
		{"missing dst port", strings.Replace(good, `,"dst_port":80`, ``, 1), `f.jsonl:2: field "dst_port": missing`},
		{"zero dst port", strings.Replace(good, `"dst_port":80`, `"dst_port":0`, 1), `f.jsonl:2: field "dst_port": must be 1 to 65535`},
		{"port too large", strings.Replace(good, `"dst_port":80`, `"dst_port":70000`, 1), `f.jsonl:2: field "dst_port": 70000 is out of range`},
		{"negative port", strings.Replace(good, `"src_port":1`, `"src_port":-1`, 1), `f.jsonl:2: field "src_port": not a non-negative integer`},
		{"zero count", strings.Replace(good, `}`, `,"count":0}`, 1), `f.jsonl:2: field "count": must be at least 1`},
		{"zero count without dns", strings.Replace(good, `}`, `,"count":0}`, 1), `(0 only with a dns answer)`},
		{"dns not an object", strings.Replace(good, `}`, `,"dns":[]}`, 1), `f.jsonl:2: field "dns": not an object`},
		{"dns without name", strings.Replace(good, `}`, `,"dns":{"answers":["1.2.3.4"]}}`, 1), `f.jsonl:2: field "dns.name": missing`},
		{"dns empty name", strings.Replace(good, `}`, `,"dns":{"name":"","answers":["1.2.3.4"]}}`, 1), `field "dns.name": must be 1 to 253 bytes`},
		{"dns without answers", strings.Replace(good, `}`, `,"dns":{"name":"a.b"}}`, 1), `field "dns.answers": missing`},
		{"dns no answers", strings.Replace(good, `}`, `,"dns":{"name":"a.b","answers":[]}}`, 1), `field "dns.answers": must hold 1 to 64 addresses`},
		{"dns bad answer", strings.Replace(good, `}`, `,"dns":{"name":"a.b","answers":["1.2.3.400"]}}`, 1), `field "dns.answers": not an IP address: "1.2.3.400"`},
		{"dns zoned answer", strings.Replace(good, `}`, `,"dns":{"name":"a.b","answers":["fe80::1%eth0"]}}`, 1), `zones are not allowed`},
		{"dns negative ttl", strings.Replace(good, `}`, `,"dns":{"name":"a.b","answers":["1.2.3.4"],"ttl":-1}}`, 1), `field "dns.ttl": not a non-negative integer`},
		{"node not a string", strings.Replace(good, `}`, `,"node":1}`, 1), `f.jsonl:2: field "node": not a string`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(good+"\n"+tt.line+"\n"+good+"\n"), "f.jsonl")
			if _, err := r.Next(); err != nil {
				t.Fatalf("first line: %v", err)
			}
			_, err := r.Next()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("error %v is not ErrMalformed", err)
			}
		})
	}
}

func TestReaderLineTooLong(t *testing.T) {
	r := NewReader(strings.NewReader(strings.Repeat(" ", MaxLineBytes+1)), "big.jsonl")
	_, err := r.Next()
	if err == nil || !strings.Contains(err.Error(), "big.jsonl:1: line longer than") {
		t.Fatalf("error %v, want a line-length error on line 1", err)
	}
}

func TestWriterRoundTrip(t *testing.T) {
	recs := []Record{
		{Time: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), Node: "n\"1\x01", Proto: SCTP,
			Src: netip.MustParseAddrPort("[2001:db8::1]:5"), Dst: netip.MustParseAddrPort("[2001:db8::2]:38412"),
			Observer: Server, PID: 4, Comm: "ngap é", CgroupID: 77, PodUID: "abc", ContainerID: "c1", Netns: 4026531840, Count: 3},
		{Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Proto: TCP,
			Src: netip.MustParseAddrPort("10.0.0.1:0"), Dst: netip.MustParseAddrPort("10.0.0.2:80"), Observer: Client, Count: 1},
		{Time: time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC), Proto: TCP,
			Src: netip.MustParseAddrPort("10.0.0.1:3000"), Dst: netip.MustParseAddrPort("10.0.0.53:53"), Observer: Client,
			DNS: &DNS{Name: "x\"y.example", Answers: []netip.Addr{netip.MustParseAddr("2001:db8::9")}, TTL: 4294967295}},
	}
	var sb strings.Builder
	w := NewWriter(&sb)
	for i := range recs {
		if err := w.Write(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	got := readAll(t, NewReader(strings.NewReader(sb.String()), "rt"))
	for i := range recs {
		if !got[i].Equal(&recs[i]) {
			t.Errorf("record %d did not survive a round trip:\n got %+v\nwant %+v", i, got[i], recs[i])
		}
	}
}

// TestReaderTimeRange fails if a time outside what a bucket can hold (one
// whose UnixNano overflows) is read, or a time just inside is refused.
func TestReaderTimeRange(t *testing.T) {
	rec := func(ts string) string {
		return `{"time":"` + ts + `","proto":"TCP","src_ip":"10.0.0.1","dst_ip":"10.0.0.2","dst_port":80,"observer":"client"}`
	}
	tests := []struct {
		name, time string
		ok         bool
	}{
		{"2300", "2300-01-01T00:00:00Z", false},
		{"year 9999", "9999-12-31T23:59:59Z", false},
		{"1600", "1600-01-01T00:00:00Z", false},
		{"last moment", "2261-12-31T23:59:59.999999999Z", true},
		{"first moment", "1678-01-01T00:00:00Z", true},
		{"first moment, in another zone", "1678-01-01T00:30:00+01:00", false},
		{"end", "2262-01-01T00:00:00Z", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NewReader(strings.NewReader(rec(tt.time)), "f.jsonl").Next()
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				if back := time.Unix(0, got.Time.UnixNano()); !back.Equal(got.Time) {
					t.Errorf("%v read back through UnixNano as %v", got.Time, back)
				}
				return
			}
			want := `f.jsonl:1: field "time": time outside the years 1678 to 2261: ` + tt.time
			if err == nil || err.Error() != want {
				t.Fatalf("error %v, want %q", err, want)
			}
			if !errors.Is(err, ErrMalformed) || !errors.Is(err, ErrTimeRange) {
				t.Errorf("error %v is not ErrMalformed and ErrTimeRange", err)
			}
		})
	}
}

// TestReaderLargestCount fails if the largest count a record can carry is
// refused or changed: it is representable, and adding it is the reader's
// callers' business.
func TestReaderLargestCount(t *testing.T) {
	in := `{"time":"2026-11-22T10:00:00Z","proto":"TCP","src_ip":"10.0.0.1","dst_ip":"10.0.0.2","dst_port":80,"observer":"client","count":18446744073709551615}
{"time":"2026-11-22T10:00:00Z","proto":"TCP","src_ip":"10.0.0.1","dst_ip":"10.0.0.2","dst_port":80,"observer":"client","count":18446744073709551616}`
	r := NewReader(strings.NewReader(in), "f.jsonl")
	rec, err := r.Next()
	if err != nil || rec.Count != math.MaxUint64 {
		t.Fatalf("count %v, %v: want 2^64-1", rec, err)
	}
	if _, err := r.Next(); err == nil || !strings.Contains(err.Error(), `f.jsonl:2: field "count"`) {
		t.Fatalf("2^64: error %v, want one on field count, line 2", err)
	}
}
