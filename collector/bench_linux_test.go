//go:build linux && (386 || amd64 || arm64)

package collector_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
// order alternates (FLOWPOL_BENCH_PAIRS, 5 by default). It reports the
// medians, and logs the spreads, of the rates and their ratio, of the
// kernel time the capture's programs took per connection (the kernel's
// run-time statistics, which the machine's other load does not blur) and
// of the collector's own CPU per 1,000 connections.
func BenchmarkCaptureWrk(b *testing.B) {
	testpods.RequireRoot(b)
	for _, tool := range []string{"nginx", "wrk"} {
		if _, err := exec.LookPath(tool); err != nil {
			b.Fatalf("%s is needed: apt-get install nginx-light wrk (make bench installs them as root)", tool)
		}
	}
	pairs := 5
	if s := os.Getenv("FLOWPOL_BENCH_PAIRS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("FLOWPOL_BENCH_PAIRS=%q: want a positive number", s)
		}
		pairs = n
	}
	stats, err := ebpf.EnableStats(unix.BPF_STATS_RUN_TIME)
	if err != nil {
		b.Fatalf("enable program run-time statistics: %v", err)
	}
	defer stats.Close()
	cl := testpods.New(b, "/sys/fs/cgroup/unified")
	server := cl.AddPod("server", testpods.NewUID(), netip.MustParsePrefix("10.199.10.2/24"))
	startNginx(b, server, "10.199.10.2:8080")
	w := &wrkRuns{cl: cl, url: "http://10.199.10.2:8080/"}
	var without, with, kernelNS, cpuMS []float64
	for b.Loop() {
		for i := range pairs {
			capture := func() {
				r := w.withCollector(b)
				with, kernelNS, cpuMS = append(with, r.rate), append(kernelNS, r.kernelNS), append(cpuMS, r.cpuMS)
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
	ratio := make([]float64, len(with))
	for i := range with {
		ratio[i] = with[i] / without[i]
	}
	for _, f := range []struct {
		name string
		v    []float64
	}{
		{"conn/s-without", without}, {"conn/s-with", with}, {"ratio", ratio},
		{"kernel-ns/conn", kernelNS}, {"collector-ms/1000conn", cpuMS},
	} {
		med, lo, hi := spread(f.v)
		b.ReportMetric(med, f.name)
		b.Logf("%-22s median %10.3f  (%.3f–%.3f over %d)", f.name, med, lo, hi, len(f.v))
	}
}

// startNginx runs nginx in the pod, answering every request with a few
// bytes and closing the connection, until the test ends.
func startNginx(b *testing.B, pod *testpods.Pod, addr string) {
	dir := b.TempDir()
	conf := fmt.Sprintf(`daemon off;
worker_processes 2;
pid %[1]s/nginx.pid;
error_log stderr error;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	keepalive_timeout 0;
	server {
		listen %[2]s backlog=4096;
		location / { return 200 "ok\n"; }
	}
}
`, dir, addr)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		b.Fatal(err)
	}
	cmd := pod.Command("nginx", "-p", dir, "-e", "stderr", "-c", path)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for range 100 {
		if _, err := os.Stat(filepath.Join(dir, "nginx.pid")); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.Fatalf("nginx did not start on %s", addr)
}

// wrkRuns runs wrk from a new client pod each time: connections left in
// TIME_WAIT would slow the next run's choice of ports.
type wrkRuns struct {
	cl      *testpods.Cluster
	url     string
	clients int
}

var wrkRate = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)

// run is the connections per second of one 3 s run.
func (w *wrkRuns) run(b *testing.B) float64 {
	w.clients++
	client := w.cl.AddPod("client"+strconv.Itoa(w.clients), testpods.NewUID(),
		netip.MustParsePrefix("10.199.10."+strconv.Itoa(10+w.clients%200)+"/24"))
	defer client.Delete()
	client.Run("sysctl", "-q", "-w", "net.ipv4.ip_local_port_range=1024 65000")
	out := client.Run("wrk", "-t", "2", "-c", "32", "-d", "3s", "-H", "Connection: close", w.url)
	m := wrkRate.FindStringSubmatch(out)
	if m == nil {
		b.Fatalf("wrk printed no rate:\n%s", out)
	}
	rate, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		b.Fatal(err)
	}
	return rate
}

type captured struct{ rate, kernelNS, cpuMS float64 }

// withCollector is one run with the collector attached.
func (w *wrkRuns) withCollector(b *testing.B) captured {
	c, err := collector.New(collector.Options{FlushInterval: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
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
