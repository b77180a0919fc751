package flow

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"testing"
	"time"
)

// BenchmarkReader is parsing alone: records/s from a buffer of typical
// records.
func BenchmarkReader(b *testing.B) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	base := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	const n = 100_000
	for i := range n {
		r := Record{Time: base.Add(time.Duration(i) * time.Millisecond), Node: "node-a", Proto: TCP,
			Src: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 244, byte(i >> 8), byte(i)}), uint16(30000+i%20000)),
			Dst: netip.MustParseAddrPort("10.96.14.3:7070"), Observer: Client, Comm: "curl", Count: 1}
		if err := w.Write(&r); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		r := NewReader(bytes.NewReader(data), "bench")
		for {
			if _, err := r.Next(); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
}
