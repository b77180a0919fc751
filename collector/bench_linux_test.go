//go:build linux && (386 || amd64 || arm64)

package collector_test

import (
	"context"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/flowpol/flowpol/collector"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/internal/testpods"
)

// BenchmarkCaptureWrk drives nginx in a server pod with wrk in a client
// pod, a new connection for every request (Connection: close), as fast as
// the machine goes: without the collector and with it, in pairs whose
// order alternates (FLOWPOL_BENCH_PAIRS, 5 by default). Each pair's run
// with the collector is followed by another with the kernel's run-time
// statistics on, which measure the kernel time the capture's programs
// take per connection (which the machine's other load does not blur) but
// cost time of their own on every program run: the rates and the ratio
// are those of the first run, as in production, where they are off; the
// second's ratio is reported as ratio-stats. It reports the medians, and
// logs the spreads, of the rates, the ratios, the kernel time and the
// collector's own CPU per 1,000 connections.
func BenchmarkCaptureWrk(b *testing.B) {
	testpods.RequireRoot(b)
	testpods.RequireHTTPTools(b)
	pairs := 5
	if s := os.Getenv("FLOWPOL_BENCH_PAIRS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("FLOWPOL_BENCH_PAIRS=%q: want a positive number", s)
		}
		pairs = n
	}
	cl := testpods.New(b, "/sys/fs/cgroup/unified")
	server := cl.AddPod("server", testpods.NewUID(), netip.MustParsePrefix("10.199.10.2/24"))
	server.StartNginx(b, "10.199.10.2:8080")
	w := &wrkRuns{cl: cl, url: "http://10.199.10.2:8080/"}
	var without, with, withStats, kernelNS, cpuMS []float64
	for b.Loop() {
		for i := range pairs {
			capture := func() {
				r := w.withCollector(b, false)
				with, cpuMS = append(with, r.rate), append(cpuMS, r.cpuMS)
				r = w.withCollector(b, true)
				withStats, kernelNS = append(withStats, r.rate), append(kernelNS, r.kernelNS)
			}
			if i%2 == 1 {
				capture()
			}
			without = append(without, w.run(b))
			if i%2 == 0 {
				capture()
			}
		}
	}
	ratio, ratioStats := make([]float64, len(with)), make([]float64, len(with))
	for i := range with {
		ratio[i], ratioStats[i] = with[i]/without[i], withStats[i]/without[i]
	}
	for _, f := range []struct {
		name string
		v    []float64
	}{
		{"conn/s-without", without}, {"conn/s-with", with}, {"ratio", ratio},
		{"conn/s-with-stats", withStats}, {"ratio-stats", ratioStats}, {"kernel-ns/conn", kernelNS}, {"collector-ms/1000conn", cpuMS},
	} {
		med, lo, hi := spread(f.v)
		b.ReportMetric(med, f.name)
		b.Logf("%-22s median %10.3f  (%.3f–%.3f over %d)", f.name, med, lo, hi, len(f.v))
	}
}

// wrkRuns runs wrk from a new client pod each time: connections left in
// TIME_WAIT would slow the next run's choice of ports.
type wrkRuns struct {
	cl      *testpods.Cluster
	url     string
	clients int
}

// run is the connections per second of one 3 s run.
func (w *wrkRuns) run(b *testing.B) float64 {
	w.clients++
	client := w.cl.AddPod("client"+strconv.Itoa(w.clients), testpods.NewUID(),
		netip.MustParsePrefix("10.199.10."+strconv.Itoa(10+w.clients%200)+"/24"))
	defer client.Delete()
	return client.RunWrk(b, w.url, 3*time.Second)
}

type captured struct{ rate, kernelNS, cpuMS float64 }

// withCollector is one run with the collector attached, with the kernel's
// run-time statistics on when stats says so (kernelNS is zero without).
func (w *wrkRuns) withCollector(b *testing.B, stats bool) captured {
	c, err := collector.New(collector.Options{FlushInterval: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if stats {
		st, err := ebpf.EnableStats(unix.BPF_STATS_RUN_TIME)
		if err != nil {
			b.Fatalf("enable program run-time statistics: %v", err)
		}
		defer st.Close()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, func(*flow.Record) error { return nil }) }()
	st0, err := c.Stats()
	if err != nil {
		b.Fatal(err)
	}
	cpu0 := cpuTime(b)
	rate := w.run(b)
	cpu := cpuTime(b) - cpu0
	st1, err := c.Stats()
	if err != nil {
		b.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	conns := rate * 3
	return captured{
		rate:     rate,
		kernelNS: float64((st1.KernelTime - st0.KernelTime).Nanoseconds()) / conns,
		cpuMS:    cpu.Seconds() * 1000 / conns * 1000,
	}
}

// spread is the median, least and greatest of v.
func spread(v []float64) (med, lo, hi float64) {
	s := slices.Sorted(slices.Values(v))
	return s[len(s)/2], s[0], s[len(s)-1]
}

// cpuTime is this process's user and system CPU time: the collector's, as
// the traffic runs in other processes.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
