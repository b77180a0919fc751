package flow

import (
	"bytes"
	"math"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// TestFastPathTakesWriterLines checks that the lines AppendJSON writes, DNS
// answers apart, are read by the fast path, to the record written.
func TestFastPathTakesWriterLines(t *testing.T) {
	at := time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.UTC)
	for _, rec := range []Record{
		{Time: at, Proto: TCP, Src: netip.MustParseAddrPort("10.244.1.12:43122"), Dst: netip.MustParseAddrPort("10.96.14.3:7070"), Observer: Client, Count: 1},
		{Time: at.Truncate(time.Second), Node: "node-a", Proto: UDP, Src: netip.MustParseAddrPort("[fd00::1]:0"), Dst: netip.MustParseAddrPort("[fd00::53]:53"), Observer: Server, Count: 7,
			PID: 4242, Comm: "coredns", CgroupID: 1 << 40, PodUID: "7d0c7f4e-1b1a-4c3e-9d47-2b0a4f0e9a11", ContainerID: "containerd://abc", Netns: 4026532000},
		{Time: at.Add(-time.Millisecond * 123), Node: "n", Proto: SCTP, Src: netip.MustParseAddrPort("1.2.3.4:1"), Dst: netip.MustParseAddrPort("5.6.7.8:65535"), Observer: Client, Count: 1, Comm: "a b"},
	} {
		line := AppendJSON(nil, &rec)
		r := NewReader(nil, "t")
		if !r.fastParse(line) {
			t.Fatalf("fast path refused %s", line)
		}
		if !r.rec.Equal(&rec) {
			t.Fatalf("fast path read %s as\n %+v, want\n %+v", line, r.rec, rec)
		}
	}
}

// TestFastPathRefuses lists lines the fast path must leave to the general
// parser: each differs from the writer's layout or holds a value that is
// not plainly valid.
func TestFastPathRefuses(t *testing.T) {
	const head = `{"time":"2026-11-22T10:00:00Z","node":"n","proto":"TCP","src_ip":"10.0.0.1","src_port":1,"dst_ip":"10.0.0.2","dst_port":80,"observer":"client"`
	for _, line := range []string{
		head + `,"dns":{"name":"a","answers":["1.2.3.4"],"ttl":1}}`,
		head + ` }`,
		head + `}` + " ",
		head + `,"count":0}`,
		head + `,"count":01}`,
		head + `,"pid":1.0}`,
		head + `,"pid":4294967296}`,
		head + `,"comm":"a\"b"}`,
		head + `,"comm":"é"}`,
		head + `,"netns":1,"pid":1}`,
		`{"time":"2026-02-30T10:00:00Z"` + head[len(`{"time":"2026-11-22T10:00:00Z"`):] + `}`,
		`{"time":"2026-11-22T10:00:60Z"` + head[len(`{"time":"2026-11-22T10:00:00Z"`):] + `}`,
		`{"time":"2026-11-22T10:00:00.1234567890Z"` + head[len(`{"time":"2026-11-22T10:00:00Z"`):] + `}`,
		`{"time":"2026-11-22T10:00:00+01:00"` + head[len(`{"time":"2026-11-22T10:00:00Z"`):] + `}`,
		`{"node":"n","time":"2026-11-22T10:00:00Z"}`,
		`{"time":"2026-11-22T10:00:00Z","node":"n","proto":"tcp ","src_ip":"10.0.0.1","src_port":1,"dst_ip":"10.0.0.2","dst_port":80,"observer":"client"}`,
		`{"time":"2026-11-22T10:00:00Z","node":"n","proto":"TCP","src_ip":"fe80::1%eth0","src_port":1,"dst_ip":"10.0.0.2","dst_port":80,"observer":"client"}`,
		`{"time":"2026-11-22T10:00:00Z","node":"n","proto":"TCP","src_ip":"10.0.0.1","src_port":1,"dst_ip":"10.0.0.2","dst_port":0,"observer":"client"}`,
		`{"time":"2026-11-22T10:00:00Z","node":"n","proto":"TCP","src_ip":"10.0.0.1","src_port":1,"dst_ip":"10.0.0.2","dst_port":80,"observer":"Client"}`,
	} {
		if NewReader(nil, "t").fastParse([]byte(line)) {
			t.Errorf("fast path took %s", line)
		}
	}
	if !NewReader(nil, "t").fastParse([]byte(head + `}`)) {
		t.Fatalf("fast path refused the lines' common head: %s}", head)
	}
}

// FuzzFastPath checks that the fast path changes nothing: a reader with it
// and one without give the same records and the same errors for any input.
func FuzzFastPath(f *testing.F) {
	f.Add([]byte(`{"time":"2026-11-22T10:00:00.123Z","node":"node-a","proto":"TCP","src_ip":"10.244.1.12","src_port":43122,"dst_ip":"10.96.14.3","dst_port":7070,"observer":"client"}`))
	f.Add([]byte(`{"time":"2026-11-22T10:00:00Z","node":"","proto":"UDP","src_ip":"::ffff:10.0.0.1","src_port":0,"dst_ip":"fd00::53","dst_port":53,"observer":"server","pid":1,"comm":"x","cgroup_id":9,"pod_uid":"u","container_id":"c","netns":3,"count":2}` + "\n\n{}"))
	f.Add([]byte(`{"time":"2024-02-29T23:59:59.999999999Z","node":"n","proto":"sctp","src_ip":"1.1.1.1","src_port":65535,"dst_ip":"2.2.2.2","dst_port":65535,"observer":"client","count":18446744073709551615}`))
	f.Add([]byte(`{"time":"2026-11-22T10:00:00Z","node":"n","proto":"TCP","src_ip":"10.0.0.1","src_port":1,"dst_ip":"10.0.0.2","dst_port":80,"observer":"client"}` + "\n" +
		`{"time":"2026-11-22T10:00:01.5Z","node":"n","proto":"TCP","src_ip":"10.0.0.01","src_port":1,"dst_ip":"10.0.0.256","dst_port":80,"observer":"server"}` + "\n" +
		`{"time":"2026-11-23T00:00:00Z","node":"n","proto":"TCP","src_ip":"255.255.255.255","src_port":1,"dst_ip":"0.0.0.0","dst_port":80,"observer":"client"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fast, general := NewReader(bytes.NewReader(data), "fuzz"), NewReader(bytes.NewReader(data), "fuzz")
		general.general = true
		for {
			a, aerr := fast.Next()
			b, berr := general.Next()
			if (aerr == nil) != (berr == nil) || (aerr != nil && aerr.Error() != berr.Error()) {
				t.Fatalf("fast path: %v, general parser: %v", aerr, berr)
			}
			if aerr != nil { // io.EOF, or the same error from both
				return
			}
			if !a.Equal(b) {
				t.Fatalf("fast path read\n %+v\ngeneral parser\n %+v", *a, *b)
			}
		}
	})
}

// TestIPv4LikeParseAddr: the fast path's IPv4 reader takes an address
// exactly when netip.ParseAddr reads it as IPv4, to the same address, and
// leaves the rest unread. If it failed, the fast path would accept an
// address the general parser rejects, or read one as another.
func TestIPv4LikeParseAddr(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"plain", "10.244.1.12"}, {"zeros", "0.0.0.0"}, {"max", "255.255.255.255"},
		{"past 255", "256.1.1.1"}, {"999", "1.1.1.999"}, {"leading zero", "01.1.1.1"},
		{"zero then digits", "1.1.1.00"}, {"four digits", "1.1.1.1000"}, {"three fields", "1.1.1"},
		{"five fields", "1.1.1.1.1"}, {"empty field", "1..1.1"}, {"trailing dot", "1.1.1.1."},
		{"empty", ""}, {"mapped", "::ffff:1.2.3.4"}, {"v6", "fd00::1"}, {"zone", "1.1.1.1%eth0"},
		{"sign", "+1.1.1.1"}, {"space", " 1.1.1.1"}, {"letters", "a.b.c.d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cursor{b: []byte(tt.in + `"rest`)}
			got, ok := c.ipv4()
			want, err := netip.ParseAddr(tt.in)
			wantOK := err == nil && want.Is4()
			if ok != wantOK || (ok && got != want) {
				t.Fatalf("ipv4(%q) = %v, %v; ParseAddr: %v, %v", tt.in, got, ok, want, err)
			}
			if rest := string(c.b[c.i:]); ok && rest != "rest" || !ok && c.i != 0 {
				t.Errorf("ipv4(%q) left %q unread", tt.in, rest)
			}
		})
	}
}

// TestFastTimeDays: the fast path's times, read by one reader from lines
// of the same day, of other days, of a day past a month's end and at the
// ends of the records' range, are what the general parser reads. If it
// failed, a record after another of the same day would carry the wrong
// moment, or an impossible date would be taken.
func TestFastTimeDays(t *testing.T) {
	const tail = `","node":"n","proto":"TCP","src_ip":"10.0.0.1","src_port":1,"dst_ip":"10.0.0.2","dst_port":80,"observer":"client"}`
	times := []string{
		"2026-11-22T10:00:00Z", "2026-11-22T23:59:59.999999999Z", "2026-11-22T00:00:00.5Z", "2026-11-23T00:00:00Z",
		"2026-11-22T12:34:56.789Z", "2024-02-29T01:02:03Z", "2024-02-29T23:00:00Z", "2023-02-29T01:00:00Z",
		"2261-12-31T23:59:59.999999999Z", "2262-01-01T00:00:00Z", "1678-01-01T00:00:00Z", "1677-12-31T23:59:59Z",
		"1678-01-01T12:00:00Z", "1970-01-01T00:00:00Z", "1969-12-31T23:59:59.1Z", "1969-12-31T00:00:01Z",
	}
	var in bytes.Buffer
	for _, tm := range times {
		in.WriteString(`{"time":"` + tm + tail + "\n")
	}
	fast, general := NewReader(bytes.NewReader(in.Bytes()), "t"), NewReader(bytes.NewReader(in.Bytes()), "t")
	general.general = true
	for _, tm := range times {
		a, aerr := fast.Next()
		b, berr := general.Next()
		if (aerr == nil) != (berr == nil) || aerr != nil && aerr.Error() != berr.Error() {
			t.Fatalf("%s: fast path %v, general parser %v", tm, aerr, berr)
		}
		if aerr == nil && (a.Time != b.Time || !a.Equal(b)) {
			t.Fatalf("%s: fast path read %v, general parser %v", tm, a.Time, b.Time)
		}
	}
}

// TestInternRecent: the reader's strings, through the cache of recent ones
// in front of its map, are the bytes read, and the same string each time
// for the same bytes, whichever strings shared the cache's slot between.
// If it failed, a record would carry another's node or process, or the
// learner would compare bytes it need not.
func TestInternRecent(t *testing.T) {
	tests := []struct {
		name   string
		values []string
	}{
		{"nodes", []string{"node-0001", "node-0002", "node-0101", "node-1001", "node-0001"}},
		{"slot mates", []string{"ab", "xab", "yab", "ab", "zab", "xab", ""}},
		{"empty and short", []string{"", "a", "", "b", "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(nil, "t")
			first := map[string]string{}
			for round := range 3 {
				for _, v := range tt.values {
					got := r.intern([]byte(v))
					if got != v {
						t.Fatalf("round %d: intern(%q) = %q", round, v, got)
					}
					if f, ok := first[v]; ok && v != "" && unsafe.StringData(f) != unsafe.StringData(got) {
						t.Fatalf("round %d: intern(%q) is a new string", round, v)
					}
					first[v] = got
				}
			}
		})
	}
}

// TestUintLikeParseUint: the fast path's integer reader takes a number
// exactly when strconv.ParseUint reads it, without a leading zero, to a
// value of at most the limit, and leaves the rest unread. If it failed,
// the fast path would accept a count, pid, cgroup id or namespace the
// general parser rejects as too large, or read one as another.
func TestUintLikeParseUint(t *testing.T) {
	inputs := []string{"0", "00", "01", "7", "", "x", "1.5", "1e3", "12,", "65535",
		"4294967295", "4294967296", "1844674407370955161", "9999999999999999999",
		"18446744073709551615", "18446744073709551616", "18446744073709551619", "18446744073709551620",
		"19999999999999999999", "99999999999999999999", "100000000000000000000", "184467440737095516150"}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		b := make([]byte, 1+rng.IntN(22))
		for i := range b {
			b[i] = byte('0' + rng.IntN(10))
		}
		inputs = append(inputs, string(b))
	}
	for _, in := range inputs {
		for _, limit := range []uint64{math.MaxUint32, math.MaxUint64} {
			digits := len(in) - len(strings.TrimLeft(in, "0123456789"))
			v, err := strconv.ParseUint(in[:digits], 10, 64)
			wantOK := err == nil && v <= limit && (in[0] != '0' || digits == 1) &&
				!strings.ContainsAny(in[digits:min(digits+1, len(in))], ".eE")
			c := cursor{b: []byte(in + `}`)}
			got, ok := c.uint(limit)
			if ok != wantOK || (ok && (got != v || c.i != digits)) {
				t.Errorf("uint(%q, limit %d) = %d, %v, at %d; want %d, %v, at %d", in, limit, got, ok, c.i, v, wantOK, digits)
			}
		}
	}
}
