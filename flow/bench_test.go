package flow

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"testing"
	"time"
)

// BenchmarkReader is parsing alone: records/s from a buffer of typical
// records, each naming, as a collector's do, the pod that observed it (one
// of 20,000, a large cluster's): its uid, container id, cgroup and network
// namespace.
func BenchmarkReader(b *testing.B) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	base := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	const n = 100_000
	for i := range n {
		pod := i * 7919 % 20_000
		r := Record{Time: base.Add(time.Duration(i) * time.Millisecond), Node: "node-a", Proto: TCP,
			Src: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 244, byte(pod >> 8), byte(pod)}), uint16(30000+i%20000)),
			Dst: netip.MustParseAddrPort("10.96.14.3:7070"), Observer: Client, Comm: "curl", Count: 1, PID: 4242,
			CgroupID: 1<<16 + uint64(pod), PodUID: fmt.Sprintf("%08x-6a1e-4c3e-9d47-%012x", pod, pod*31),
			ContainerID: fmt.Sprintf("%064x", pod*7), Netns: 4026532000 + uint32(pod)}
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
