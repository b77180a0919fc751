//go:build linux && (386 || amd64 || arm64)

package enforce

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/ringbuf"
	"golang.org/x/sys/unix"
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

// TestRecentConnection runs packets of two connections on one CPU and
// checks the CPU's cache of recent connections: each packet leaves its
// connection there with the verdict it got under the tables in force; a
// packet of a cached connection takes the cached verdict; and after a rule
// update that no longer allows a connection, its cached verdict is not
// used: the connection is decided again, cut, and its later packets
// dropped.
func TestRecentConnection(t *testing.T) {
	testpods.RequireRoot(t)
	runtime.LockOSThread() // never unlocked: the thread ends with the test
	var cpu0 unix.CPUSet
	cpu0.Set(0)
	if err := unix.SchedSetaffinity(0, &cpu0); err != nil {
		t.Fatal(err)
	}
	e, client, server := benchEnforcer(t)
	ack := func(sport uint16) []byte { return packet(client, server, sport, 8080, 6, 0x10) }
	reply := packet(server, client, 8080, 20001, 6, 0x10)
	steps := []struct {
		name   string
		prog   *ebpf.Program
		pkt    []byte
		update bool // first put tables in force that no longer allow the client
		want   int32
		port   uint16 // the client's port
	}{
		{"A's SYN", e.objs.ToPod, packet(client, server, 20001, 8080, 6, 0x02), false, tcActUnspec, 20001},
		{"A's reply", e.objs.FromPod, reply, false, tcActUnspec, 20001},
		{"B's SYN", e.objs.ToPod, packet(client, server, 20002, 8080, 6, 0x02), false, tcActUnspec, 20002},
		{"A's ACK", e.objs.ToPod, ack(20001), false, tcActUnspec, 20001},
		{"A's ACK after the update", e.objs.ToPod, ack(20001), true, tcActShot, 20001},
		{"A's reply after the cut", e.objs.FromPod, reply, false, tcActShot, 20001},
		{"B's ACK after the update", e.objs.ToPod, ack(20002), false, tcActShot, 20002},
	}
	for _, s := range steps {
		if s.update {
			if err := e.Update(benchTables(t, 10, "10.199.12.99")); err != nil {
				t.Fatal(err)
			}
		}
		if ret := run(t, s.prog, s.pkt); ret != s.want {
			t.Errorf("%s: %d, want %d", s.name, ret, s.want)
		}
		c, ok := recentEntry(t, e, 0, s.port)
		switch {
		case !ok:
			t.Errorf("%s: the connection from port %d is not in the CPU's cache", s.name, s.port)
		case c.Revision != revision(t, e) || (c.Denied != 0) != (s.want == tcActShot):
			t.Errorf("%s: cached as revision %d, denied %d; want revision %d, denied %t",
				s.name, c.Revision, c.Denied, revision(t, e), s.want == tcActShot)
		}
	}
	var kinds []Kind
	for _, v := range waitingVerdicts(t, e) {
		kinds = append(kinds, Kind(v.Kind))
	}
	if want := []Kind{Allowed, Allowed, Cut, Cut}; !slices.Equal(kinds, want) {
		t.Errorf("verdicts %v, want %v", kinds, want)
	}
	if s, err := e.Stats(); err != nil {
		t.Fatal(err)
	} else if want := (Stats{New: 2, Tracked: 5, Dropped: 3, Redecided: 2}); s != want {
		t.Errorf("stats %+v, want %+v", s, want)
	}

	// A cached verdict is taken as it is: B, denied in its conntrack
	// entry, passes once its cache entry says allowed.
	setRecent(t, e, 0, 20002, func(c *bpf.EnforceCached) { c.Denied = 0 })
	if ret := run(t, e.objs.ToPod, ack(20002)); ret != tcActUnspec {
		t.Errorf("B's ACK with an allowing cache entry: %d, want %d", ret, tcActUnspec)
	}
}

// recentEntry is what a CPU's cache holds for the connection whose client
// (the higher port) is at port.
func recentEntry(t *testing.T, e *Enforcer, cpu int, port uint16) (bpf.EnforceCached, bool) {
	t.Helper()
	c := recentCache(t, e)
	i, ok := recentSlot(&c[cpu], port)
	if !ok {
		return bpf.EnforceCached{}, false
	}
	return c[cpu].Slot[i], true
}

// setRecent changes, with change, what a CPU's cache holds for the
// connection whose client is at port.
func setRecent(t *testing.T, e *Enforcer, cpu int, port uint16, change func(*bpf.EnforceCached)) {
	t.Helper()
	c := recentCache(t, e)
	i, ok := recentSlot(&c[cpu], port)
	if !ok {
		t.Fatalf("the connection from port %d is not in CPU %d's cache", port, cpu)
	}
	change(&c[cpu].Slot[i])
	if err := e.objs.Recent.Put(uint32(0), c); err != nil {
		t.Fatal(err)
	}
}

// recentSlot finds the slot of a cache that holds the connection whose
// client is at port.
func recentSlot(c *bpf.EnforceCache, port uint16) (int, bool) {
	for i, s := range c.Slot {
		if s.Key.Proto != 0 && max(ntohs(s.Key.Sport), ntohs(s.Key.Dport)) == port {
			return i, true
		}
	}
	return 0, false
}

// recentCache is each CPU's cache of recent connections.
func recentCache(t *testing.T, e *Enforcer) []bpf.EnforceCache {
	t.Helper()
	var per []bpf.EnforceCache
	if err := e.objs.Recent.Lookup(uint32(0), &per); err != nil {
		t.Fatal(err)
	}
	return per
}

func revision(t *testing.T, e *Enforcer) uint32 {
	t.Helper()
	var st bpf.EnforceState
	if err := e.objs.Current.Lookup(uint32(0), &st); err != nil {
		t.Fatal(err)
	}
	return st.Revision
}

func ntohs(n uint16) uint16 {
	var b [2]byte
	binary.NativeEndian.PutUint16(b[:], n)
	return binary.BigEndian.Uint16(b[:])
}
