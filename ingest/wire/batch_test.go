package wire_test

import (
	"encoding/binary"
	"errors"
	"math"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/ingest/wire"
)

func sampleBatch() *wire.Batch {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.UTC)
	return &wire.Batch{Agent: "node-a-0123", Seq: 42, Node: "node-a", Dropped: 7, RingLost: 9, Records: []flow.Record{
		{Time: t0, Node: "node-a", Proto: flow.TCP, Src: netip.MustParseAddrPort("10.244.1.10:43122"), Dst: netip.MustParseAddrPort("10.96.14.3:7070"),
			Observer: flow.Client, PID: 4242, Comm: "curl", CgroupID: 1 << 40, PodUID: "1f4e6a2b-0003-4000-8000-000000000003", ContainerID: "abc", Netns: 4026531840, Count: 1},
		{Time: t0.Add(-time.Hour), Proto: flow.UDP, Src: netip.MustParseAddrPort("[fd00::1]:5353"), Dst: netip.MustParseAddrPort("[fd00::a]:53"), Observer: flow.Server, Count: 1 << 50},
		{Time: t0.Add(time.Millisecond), Node: "node-a", Proto: flow.SCTP, Src: netip.MustParseAddrPort("[::ffff:10.0.0.1]:1"), Dst: netip.MustParseAddrPort("10.0.0.2:2"), Observer: flow.Client, Comm: "curl", Count: 3},
		{Time: t0.Add(2 * time.Millisecond), Node: "node-a", Proto: flow.UDP, Src: netip.MustParseAddrPort("10.244.1.10:40000"), Dst: netip.MustParseAddrPort("10.96.0.10:53"),
			Observer: flow.Client, PodUID: "1f4e6a2b-0003-4000-8000-000000000003", DNS: &flow.DNS{Name: "api.example.com", TTL: 60,
				Answers: []netip.Addr{netip.MustParseAddr("203.0.113.5"), netip.MustParseAddr("::ffff:203.0.113.6"), netip.MustParseAddr("2001:db8::5")}}},
	}}
}

// Every field survives the round trip; IPv4-mapped addresses come back as
// IPv4, as the flow format reads them.
func TestBatchRoundTrip(t *testing.T) {
	b := sampleBatch()
	data, err := wire.AppendBatch(nil, b)
	if err != nil {
		t.Fatal(err)
	}
	got, err := wire.DecodeBatch(data, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := sampleBatch()
	for i := range want.Records {
		want.Records[i].Normalize()
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
	}
}

func TestAppendBatchRefuses(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*wire.Batch)
	}{
		{"no agent", func(b *wire.Batch) { b.Agent = "" }},
		{"count 0", func(b *wire.Batch) { b.Records[0].Count = 0 }},
		{"dns without answers", func(b *wire.Batch) { b.Records[3].DNS.Answers = nil }},
		{"dns without name", func(b *wire.Batch) { b.Records[3].DNS.Name = "" }},
		{"no protocol", func(b *wire.Batch) { b.Records[1].Proto = 0 }},
		{"no observer", func(b *wire.Batch) { b.Records[1].Observer = 0 }},
		{"no source address", func(b *wire.Batch) { b.Records[2].Src = netip.AddrPort{} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := sampleBatch()
			tt.mutate(b)
			if _, err := wire.AppendBatch(nil, b); err == nil {
				t.Fatal("encoded; want an error")
			}
		})
	}
}

// A malformed batch is an error that says where; a valid one with too many
// records is ErrTooLarge.
func TestDecodeBatchRefuses(t *testing.T) {
	good, err := wire.AppendBatch(nil, sampleBatch())
	if err != nil {
		t.Fatal(err)
	}
	one := encodeOne(t)
	set := func(i int, v byte) []byte { b := append([]byte(nil), one...); b[i] = v; return b }
	recordsStart := len(one) - minimalRecord
	tests := []struct {
		name  string
		data  []byte
		field string
	}{
		{"empty", nil, "magic"},
		{"JSON", []byte(`{"time":"x"}`), "magic"},
		{"truncated", good[:len(good)-1], "dns_answers"},
		{"trailing byte", append(append([]byte(nil), good...), 0), "end"},
		{"bad flags", set(recordsStart, 0xff), "proto"},
		{"observer 0", set(recordsStart, 1), "observer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := wire.DecodeBatch(tt.data, 0)
			var be *wire.BatchError
			if !errors.As(err, &be) || !errors.Is(err, wire.ErrMalformed) {
				t.Fatalf("got %v, want a *BatchError", err)
			}
			if be.Field != tt.field {
				t.Errorf("error %q names field %q, want %q", err, be.Field, tt.field)
			}
		})
	}
	if _, err := wire.DecodeBatch(good, 2); !errors.Is(err, wire.ErrTooLarge) {
		t.Errorf("4 records with a limit of 2: %v, want ErrTooLarge", err)
	}
}

// minimalRecord is the encoding's length of encodeOne's record: flags,
// time, two IPv4 addresses and ports, and eight one-byte numbers.
const minimalRecord = 1 + 1 + 4 + 1 + 4 + 1 + 8

// encodeOne encodes a batch of one minimal record, which ends it.
func encodeOne(t *testing.T) []byte {
	b := &wire.Batch{Agent: "a", Seq: 1, Records: []flow.Record{{Time: time.Unix(1, 0), Proto: flow.TCP, Observer: flow.Client,
		Src: netip.MustParseAddrPort("10.0.0.1:1"), Dst: netip.MustParseAddrPort("10.0.0.2:2"), Count: 1}}}
	data, err := wire.AppendBatch(nil, b)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// FuzzDecodeBatch: no input panics, and what decodes encodes back to
// something that decodes the same.
func FuzzDecodeBatch(f *testing.F) {
	good, err := wire.AppendBatch(nil, sampleBatch())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:20])
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := wire.DecodeBatch(data, 1000)
		if err != nil {
			return
		}
		again, err := wire.AppendBatch(nil, b)
		if err != nil {
			t.Fatalf("a decoded batch does not encode: %v", err)
		}
		b2, err := wire.DecodeBatch(again, 1000)
		if err != nil || !reflect.DeepEqual(b, b2) {
			t.Fatalf("re-encoded batch decodes differently: %v", err)
		}
	})
}

// A record whose time no bucket can hold is refused: by the encoder, so
// that an agent never sends one (UnixNano would wrap it to another
// century), and by the decoder, naming the record and the field.
func TestBatchTimeRange(t *testing.T) {
	tests := []struct {
		name string
		time time.Time
		ok   bool
	}{
		{"2300", time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"1600", time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"zero", time.Time{}, false},
		{"2262", time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"last moment", time.Date(2261, 12, 31, 23, 59, 59, 999999999, time.UTC), true},
		{"first moment", time.Date(1678, 1, 1, 0, 0, 0, 0, time.UTC), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := sampleBatch()
			b.Records[1].Time = tt.time
			data, err := wire.AppendBatch(nil, b)
			if !tt.ok {
				if !errors.Is(err, wire.ErrTime) || !strings.Contains(err.Error(), "record 2: field time") {
					t.Fatalf("encoded %v: error %v, want ErrTime naming record 2 and field time", tt.time, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := wire.DecodeBatch(data, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Records[1].Time.Equal(tt.time) {
				t.Errorf("%v came back as %v", tt.time, got.Records[1].Time)
			}
		})
	}
	// A far-off base time, with the record at it, decodes to the last
	// moment UnixNano holds: 2262-04-11, which no bucket can hold.
	one := encodeOne(t)
	at := len(one) - minimalRecord - 2 // the base time ends before the string table's and the records' counts
	baseLen := len(binary.AppendVarint(nil, time.Unix(1, 0).UnixNano()))
	bad := slices.Concat(one[:at-baseLen], binary.AppendVarint(nil, math.MaxInt64), one[at:])
	_, err := wire.DecodeBatch(bad, 0)
	var be *wire.BatchError
	if !errors.As(err, &be) || be.Record != 1 || be.Field != "time" || !errors.Is(err, wire.ErrTime) {
		t.Fatalf("a record at 2262-04-11: %v, want record 1, field time, ErrTime", err)
	}
}
