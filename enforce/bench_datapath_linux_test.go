//go:build linux && (386 || amd64 || arm64)

package enforce

import (
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/flowpol/flowpol/internal/testpods"
)

// datapathCase is one kind of packet the datapath benchmark runs.
type datapathCase struct {
	name string
	prog func(*Enforcer) *ebpf.Program
	// pkt is the i-th packet of the case; tracked cases return one packet
	// of a connection opened before.
	pkt func(i int) []byte
	// tracked says whether one packet is run repeat times, or each run
	// is another connection's first packet.
	tracked bool
	// empty says the program only returns: what a test run run the same
	// way costs of its own.
	empty bool
}

// BenchmarkDatapath measures the enforcer's kernel run time per packet
// with BPF_PROG_TEST_RUN, which the machine's other load blurs less than
// wall time: a new connection's first packet (from a pod, and from an
// outside address the policy's CIDRs hold) and a packet of a tracked
// connection (the client's way and the reply), with 10, 1,000 and 10,000
// rules. New connections are each run once (FLOWPOL_BENCH_CONNS of them,
// zero means 4,000), tracked packets FLOWPOL_BENCH_REPEAT times in the
// kernel (zero means 200,000). It prints a table of the mean ns per
// packet; tracked-once is the tracked packet run once at a time, as new
// connections are, so that the two methods' figures can be compared; empty
// and empty-once are a program that only returns, run the same two ways:
// what the test run itself costs. The program's own cost is a figure less
// its empty one, reported as the -net metrics.
func BenchmarkDatapath(b *testing.B) {
	testpods.RequireRoot(b)
	conns, repeat := envInt(b, "FLOWPOL_BENCH_CONNS", 4000), envInt(b, "FLOWPOL_BENCH_REPEAT", 200000)
	client, server := netip.MustParseAddr("10.199.12.11"), netip.MustParseAddr("10.199.12.2")
	outside := netip.MustParseAddr(benchPeer(0))
	toPod := func(e *Enforcer) *ebpf.Program { return e.objs.ToPod }
	fromPod := func(e *Enforcer) *ebpf.Program { return e.objs.FromPod }
	trackedPkt := func(int) []byte { return packet(client, server, 10000, 8080, 6, 0x10) }
	emptyProg := emptyProgram(b)
	empty := func(*Enforcer) *ebpf.Program { return emptyProg }
	cases := []datapathCase{
		{"new-pod", toPod, func(i int) []byte { return packet(client, server, uint16(20000+i), 8080, 6, 0x02) }, false, false},
		{"new-cidr", toPod, func(i int) []byte { return packet(outside, server, uint16(20000+i), 8080, 6, 0x02) }, false, false},
		{"tracked", toPod, trackedPkt, true, false},
		{"tracked-reply", fromPod, func(int) []byte { return packet(server, client, 8080, 10000, 6, 0x10) }, true, false},
		// The tracked packet run once at a time, as new connections are:
		// what a single run's timing adds to their figures.
		{"tracked-once", toPod, trackedPkt, false, false},
		{"empty", empty, trackedPkt, true, true},
		{"empty-once", empty, trackedPkt, false, true},
	}
	floor := map[bool]int{} // by tracked: the empty case run the same way
	for j, c := range cases {
		if c.empty {
			floor[c.tracked] = j
		}
	}
	ruleCounts := []int{10, 1000, 10000}
	ns := make([][]float64, len(ruleCounts))
	for b.Loop() {
		for i, n := range ruleCounts {
			ns[i] = datapathRun(b, n, client.String(), cases, conns, repeat)
		}
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "rules\t")
	for _, c := range cases {
		fmt.Fprintf(tw, "%s ns\t", c.name)
	}
	fmt.Fprintln(tw)
	for i, n := range ruleCounts {
		fmt.Fprintf(tw, "%d\t", n)
		for j, c := range cases {
			fmt.Fprintf(tw, "%.1f\t", ns[i][j])
			b.ReportMetric(ns[i][j], fmt.Sprintf("ns/%s-%d", c.name, n))
			if !c.empty {
				b.ReportMetric(ns[i][j]-ns[i][floor[c.tracked]], fmt.Sprintf("ns/%s-net-%d", c.name, n))
			}
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}

// datapathRun loads the enforcer with n rules and returns each case's mean
// ns per packet.
func datapathRun(b *testing.B, n int, clientIP string, cases []datapathCase, conns, repeat int) []float64 {
	e, err := load(Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	if err := e.Update(benchTables(b, n, clientIP)); err != nil {
		b.Fatal(err)
	}
	// The tracked connection, opened once.
	if ret := run(b, e.objs.ToPod, packet(netip.MustParseAddr(clientIP), netip.MustParseAddr("10.199.12.2"), 10000, 8080, 6, 0x02)); ret != tcActUnspec {
		b.Fatalf("%d rules: the client's SYN was dropped (%d)", n, ret)
	}
	out := make([]float64, len(cases))
	for j, c := range cases {
		prog := c.prog(e)
		var total time.Duration
		runs := 0
		if c.tracked {
			total = benchProg(b, prog, c.pkt(0), repeat) * time.Duration(repeat)
			runs = repeat
		} else {
			for i := range conns {
				total += benchProg(b, prog, c.pkt(i), 1)
			}
			runs = conns
		}
		out[j] = float64(total.Nanoseconds()) / float64(runs)
	}
	return out
}

// benchProg runs prog on pkt repeat times in the kernel and returns the
// mean run time, failing when the packet is dropped.
func benchProg(b *testing.B, prog *ebpf.Program, pkt []byte, repeat int) time.Duration {
	ret, d, err := prog.Benchmark(pkt, repeat, nil)
	if err != nil {
		b.Fatalf("test run: %v", err)
	}
	if int32(ret) != tcActUnspec {
		b.Fatalf("packet dropped (%d)", int32(ret))
	}
	return d
}

func envInt(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return n
}

// emptyProgram is a program that returns at once, the way the benchmarks'
// cases return: what running a program costs of its own.
func emptyProgram(b *testing.B) *ebpf.Program {
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:         ebpf.SchedCLS,
		License:      "Dual MIT/GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, tcActUnspec), asm.Return()},
	})
	if err != nil {
		b.Fatalf("load an empty program: %v", err)
	}
	b.Cleanup(func() { prog.Close() })
	return prog
}
