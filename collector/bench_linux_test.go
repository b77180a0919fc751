//go:build linux && (386 || amd64 || arm64)

package collector_test

import (
	"context"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flowpol/flowpol/collector"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/internal/testpods"
)

// BenchmarkCaptureOverhead measures short TCP connections per second
// between two test pods, without and with the collector attached, side by
// side: the ratio, the collector's CPU time per 1,000 connections, and the
// events it lost.
func BenchmarkCaptureOverhead(b *testing.B) {
	testpods.RequireRoot(b)
	cl := testpods.New(b, "/sys/fs/cgroup/unified")
	server := cl.AddPod("server", testpods.NewUID(), netip.MustParsePrefix("10.199.9.2/24"))
	server.StartServer(b, "tcp-serve", "10.199.9.2:8080")
	const d = "3s"
	// Each run's client is a new pod: connections left in TIME_WAIT would
	// slow the next run's choice of ports.
	clients := 0
	rate := func() float64 {
		clients++
		client := cl.AddPod("client"+strconv.Itoa(clients), testpods.NewUID(), netip.MustParsePrefix("10.199.9."+strconv.Itoa(10+clients)+"/24"))
		defer client.Delete()
		n, err := strconv.Atoi(strings.TrimSpace(client.RunClientOutput(b, "tcp-rate", "10.199.9.2:8080", d)))
		if err != nil {
			b.Fatal(err)
		}
		return float64(n) / 3
	}
	var without, with, cpuPer1000 float64
	var lost uint64
	for b.Loop() {
		without = rate()
		c, err := collector.New(collector.Options{FlushInterval: time.Second})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		var records int
		go func() { done <- c.Run(ctx, func(*flow.Record) error { records++; return nil }) }()
		before := cpuTime(b)
		with = rate()
		cpu := cpuTime(b) - before
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		st, err := c.Stats()
		if err != nil {
			b.Fatal(err)
		}
		c.Close()
		lost = st.Lost
		cpuPer1000 = cpu.Seconds() * 1000 / (with * 3) * 1000
	}
	b.ReportMetric(without, "conn/s-without")
	b.ReportMetric(with, "conn/s-with")
	b.ReportMetric(with/without, "ratio")
	b.ReportMetric(cpuPer1000, "collector-ms/1000conn")
	b.ReportMetric(float64(lost), "lost")
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
