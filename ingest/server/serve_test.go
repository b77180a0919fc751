package server_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/flowpol/flowpol/ingest/server"
)

// A server that cannot serve makes Serve return an error naming its
// address, and the others stop: an aggregator that lost its listener
// must not go on without it.
func TestServeFails(t *testing.T) {
	good := listener(t)
	broken := listener(t)
	brokenAddr := broken.Addr().String()
	if err := broken.Close(); err != nil {
		t.Fatal(err)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	done := make(chan error, 1)
	go func() {
		done <- server.Serve(context.Background(), time.Second,
			server.Endpoint{Server: server.HTTPServer(ok, nil), Listener: good},
			server.Endpoint{Server: server.HTTPServer(ok, nil), Listener: broken})
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), brokenAddr) {
			t.Fatalf("Serve with a closed listener: %v, want an error naming %s", err, brokenAddr)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Serve with a closed listener was still serving after 20 s")
	}
	if _, err := http.Get("http://" + good.Addr().String()); err == nil {
		t.Error("the other server still answers after Serve returned")
	}
}

// When ctx ends, Serve shuts the servers down and returns nil.
func TestServeStops(t *testing.T) {
	ln := listener(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- server.Serve(ctx, time.Second, server.Endpoint{Server: server.HTTPServer(http.NotFoundHandler(), nil), Listener: ln})
	}()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve after ctx ended: %v, want nil", err)
	}
	if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		c.Close()
		t.Error("the listener still accepts after Serve returned")
	}
}

func listener(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			t.Error(err)
		}
	})
	return ln
}
