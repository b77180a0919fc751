package flow

import (
	"bytes"
	"net/netip"
	"testing"
	"time"
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
