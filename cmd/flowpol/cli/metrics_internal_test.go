package cli

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A metrics server whose listener fails says so: Failed closes and Err
// names the flag and the address, so that the agent can exit non-zero
// rather than run on unwatched.
func TestMetricsServerFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	m := &metricsServer{srv: &http.Server{}, flag: "--metrics-addr", log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		failed: make(chan struct{}), done: make(chan struct{})}
	go m.serve(addr, func() error { return m.srv.Serve(ln) })
	select {
	case <-m.Failed():
	case <-time.After(20 * time.Second):
		t.Fatal("a metrics server on a closed listener did not report its failure within 20 s")
	}
	if err := m.Err(); err == nil || !strings.Contains(err.Error(), "--metrics-addr "+addr) {
		t.Errorf("Err: %v, want an error naming --metrics-addr %s", err, addr)
	}
	m.Close()
}

// An agent whose --metrics-addr is taken says so and exits non-zero.
func TestServeMetricsPortInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	m, err := serveMetrics(busy.Addr().String(), "--metrics-addr", nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), "--metrics-addr") {
		m.Close()
		t.Fatalf("serveMetrics on a port in use: %v, want an error naming --metrics-addr", err)
	}
}
