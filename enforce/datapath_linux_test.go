//go:build linux && (386 || amd64 || arm64)

package enforce

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/ringbuf"
	corev1 "k8s.io/api/core/v1"

	"github.com/flowpol/flowpol/bpf"
	"github.com/flowpol/flowpol/internal/randnet"
	"github.com/flowpol/flowpol/internal/testpods"
	"github.com/flowpol/flowpol/rules"
)

func TestMain(m *testing.M) {
	testpods.MaybeRunHelper()
	os.Exit(m.Run())
}

const (
	tcActUnspec = -1 // pass (no opinion)
	tcActShot   = 2  // drop
)

// packet is an Ethernet frame with an IPv4 or IPv6 header and the first
// bytes of a TCP (flags as given), UDP or SCTP header.
func packet(src, dst netip.Addr, sport, dport uint16, proto uint8, tcpFlags byte) []byte {
	var b []byte
	b = append(b, make([]byte, 12)...) // MAC addresses
	l4 := make([]byte, 20)
	binary.BigEndian.PutUint16(l4[0:], sport)
	binary.BigEndian.PutUint16(l4[2:], dport)
	l4[12] = 5 << 4
	l4[13] = tcpFlags
	if src.Is4() {
		b = binary.BigEndian.AppendUint16(b, 0x0800)
		ip := make([]byte, 20)
		ip[0], ip[8], ip[9] = 0x45, 64, proto
		binary.BigEndian.PutUint16(ip[2:], uint16(20+len(l4)))
		s, d := src.As4(), dst.As4()
		copy(ip[12:], s[:])
		copy(ip[16:], d[:])
		b = append(b, ip...)
	} else {
		b = binary.BigEndian.AppendUint16(b, 0x86dd)
		ip := make([]byte, 40)
		ip[0], ip[6], ip[7] = 0x60, proto, 64
		binary.BigEndian.PutUint16(ip[4:], uint16(len(l4)))
		s, d := src.As16(), dst.As16()
		copy(ip[8:], s[:])
		copy(ip[24:], d[:])
		b = append(b, ip...)
	}
	return append(b, l4...)
}

func run(t testing.TB, prog *ebpf.Program, pkt []byte) int32 {
	t.Helper()
	ret, err := prog.Run(&ebpf.RunOptions{Data: pkt})
	if err != nil {
		t.Fatalf("test run: %v", err)
	}
	return int32(ret)
}

func protoNumber(p corev1.Protocol) uint8 {
	return map[corev1.Protocol]uint8{corev1.ProtocolTCP: 6, corev1.ProtocolUDP: 17, corev1.ProtocolSCTP: 132}[p]
}

// TestDatapathMatchesEvaluator runs the loaded programs on crafted first
// packets (BPF_PROG_TEST_RUN) for random clusters: leaving the source pod,
// then entering the destination, for every ordered pair of pods over IPv4
// and IPv6 and every pod with every outside address both ways, on each
// port and protocol. A connection passes both hooks exactly when the
// evaluator allows it; this is the kernel code deciding, not a model of it.
func TestDatapathMatchesEvaluator(t *testing.T) {
	testpods.RequireRoot(t)
	e, err := load(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	cases := 150
	if testing.Short() {
		cases = 30
	}
	sport := uint16(10000)
	var probes, allowed int
	for i := range cases {
		b := bind(t, randnet.New(20261124, i).World())
		if err := e.Update(b.Tables); err != nil {
			t.Fatal(err)
		}
		for _, pr := range b.Pairs() {
			for _, port := range randnet.Ports() {
				for _, proto := range randnet.Protocols() {
					sport++ // a new connection each time, never a tracked one
					pkt := packet(pr[0].Addr, pr[1].Addr, sport, port, protoNumber(proto), 0x02)
					got := run(t, e.objs.FromPod, pkt) == tcActUnspec && run(t, e.objs.ToPod, pkt) == tcActUnspec
					want := b.Engine.Check(pr[0].Peer, pr[1].Peer, port, proto)
					if got != want.Allowed {
						y, _ := rules.Marshal(b.Tables.Set)
						t.Fatalf("case %d: %s -> %s %d/%s: datapath allowed=%v, evaluator %v (%s)\n%s",
							i, pr[0], pr[1], port, proto, got, want.Allowed, want.Reason, y)
					}
					probes++
					if got {
						allowed++
					}
				}
			}
		}
	}
	t.Logf("%d cases, %d probes through the kernel programs, %d allowed", cases, probes, allowed)
	if allowed < probes/10 || probes-allowed < probes/10 {
		t.Errorf("%d of %d allowed: too lax or too strict to compare", allowed, probes)
	}
}

// bind binds a world, failing the test when it cannot.
func bind(t testing.TB, w *randnet.World) *randnet.Bound {
	t.Helper()
	b, err := randnet.Bind(w)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// benchEnforcer loads an enforcer, closed when the test ends, with the
// benchmark's policy allowing client to reach server.
func benchEnforcer(t *testing.T) (e *Enforcer, client, server netip.Addr) {
	t.Helper()
	e, err := load(Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	client, server = netip.MustParseAddr("10.199.12.11"), netip.MustParseAddr("10.199.12.2")
	if err := e.Update(benchTables(t, 10, client.String())); err != nil {
		t.Fatal(err)
	}
	return e, client, server
}

// waitingVerdicts reads the verdicts waiting in the ring buffer, until
// none comes within 100 ms.
func waitingVerdicts(t *testing.T, e *Enforcer) []bpf.EnforceVerdict {
	t.Helper()
	var out []bpf.EnforceVerdict
	for {
		var rec ringbuf.Record
		e.ring.SetDeadline(time.Now().Add(100 * time.Millisecond))
		if err := e.ring.ReadInto(&rec); errors.Is(err, os.ErrDeadlineExceeded) {
			return out
		} else if err != nil {
			t.Fatal(err)
		}
		var v bpf.EnforceVerdict
		if err := decodeVerdict(rec.RawSample, &v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
}

// TestVerdictWakeups checks that the datapath wakes a reader waiting for
// verdicts once 128 of them wait, not for each one, and that the reader
// then reads them all.
func TestVerdictWakeups(t *testing.T) {
	testpods.RequireRoot(t)
	e, client, server := benchEnforcer(t)
	sport := uint16(20000)
	connect := func(n int) { // n new connections, a verdict each
		for range n {
			sport++
			if ret := run(t, e.objs.ToPod, packet(client, server, sport, 8080, 6, 0x02)); ret != tcActUnspec {
				t.Fatalf("connection from port %d dropped (%d)", sport, ret)
			}
		}
	}
	woken := make(chan error, 1)
	go func() { // waits in epoll, as Enforcer.Run does, with an empty ring
		var rec ringbuf.Record
		e.ring.SetDeadline(time.Now().Add(30 * time.Second))
		woken <- e.ring.ReadInto(&rec)
	}()
	time.Sleep(200 * time.Millisecond) // let it wait
	connect(127)
	select {
	case err := <-woken:
		t.Fatalf("the reader returned (%v) with 127 verdicts waiting: woken for fewer than 128", err)
	case <-time.After(500 * time.Millisecond):
	}
	connect(1)
	select {
	case err := <-woken:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the 128th verdict did not wake the reader")
	}
	if read := 1 + len(waitingVerdicts(t, e)); read != 128 {
		t.Errorf("read %d verdicts, want 128", read)
	}
}

// TestRepeatedSyn checks the datapath with a SYN of a connection already
// tracked, as a retransmission or a client reusing its port sends: it is
// a packet of the tracked connection, not decided and reported again; and
// after a rule update that no longer allows the connection, it is decided
// again and dropped, with the connection cut, as a new connection is.
func TestRepeatedSyn(t *testing.T) {
	testpods.RequireRoot(t)
	e, client, server := benchEnforcer(t)
	syn := packet(client, server, 20001, 8080, 6, 0x02)
	for i := range 3 {
		if ret := run(t, e.objs.ToPod, syn); ret != tcActUnspec {
			t.Fatalf("SYN %d dropped (%d)", i+1, ret)
		}
	}
	if s, err := e.Stats(); err != nil {
		t.Fatal(err)
	} else if s.New != 1 || s.Tracked != 2 {
		t.Errorf("three SYNs of one connection: %d new, %d tracked; want 1 and 2", s.New, s.Tracked)
	}
	if err := e.Update(benchTables(t, 10, "10.199.12.99")); err != nil { // the client no longer allowed
		t.Fatal(err)
	}
	if ret := run(t, e.objs.ToPod, syn); ret != tcActShot {
		t.Fatalf("SYN after the update: %d, want dropped", ret)
	}
	if ret := run(t, e.objs.ToPod, packet(client, server, 20002, 8080, 6, 0x02)); ret != tcActShot {
		t.Fatalf("a new connection after the update: %d, want dropped", ret)
	}
	var kinds []Kind
	for _, v := range waitingVerdicts(t, e) {
		kinds = append(kinds, Kind(v.Kind))
	}
	if want := []Kind{Allowed, Cut, Denied}; !slices.Equal(kinds, want) {
		t.Errorf("verdicts %v, want %v", kinds, want)
	}
	if s, err := e.Stats(); err != nil {
		t.Fatal(err)
	} else if s.Redecided != 1 || s.Dropped != 2 {
		t.Errorf("after the update: %d redecided, %d dropped; want 1 and 2", s.Redecided, s.Dropped)
	}
}
