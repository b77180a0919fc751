package ingest_test

import (
	"context"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flowpol/flowpol/baseline/boltdb"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/ingest"
	"github.com/flowpol/flowpol/inventory"
	"github.com/flowpol/flowpol/learn"
	"github.com/flowpol/flowpol/resolve"
	"github.com/flowpol/flowpol/topology"
)

const testToken = "s3cret-token"

// aggregatorEnv is a real aggregator on loopback: a bbolt baseline, a
// learner on the example cluster, a sink and the HTTP server.
type aggregatorEnv struct {
	url, tokenFile string
	store          *boltdb.Store
	reg            *prometheus.Registry
}

func startAggregator(t testing.TB, opts ingest.ServerOptions) *aggregatorEnv {
	t.Helper()
	dir := t.TempDir()
	inv, err := inventory.LoadFile("../testdata/example/cluster.yaml")
	if err != nil {
		t.Fatal(err)
	}
	store, err := boltdb.Open(filepath.Join(dir, "f.db"), boltdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := learn.New(resolve.New(inv, resolve.Options{}), learn.Options{Bucket: store.Bucket(), KeepWaiting: true})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	m := ingest.NewAggregatorMetrics(reg)
	sink, err := ingest.NewSink(context.Background(), store, l, ingest.SinkOptions{Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sink.Run(ctx) }()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(testToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tokens, err := ingest.NewTokenFile(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	opts.Sink, opts.Tokens, opts.Gatherer, opts.Metrics = sink, tokens, reg, m
	opts.Window = func(from, to time.Time) (*topology.Window, error) {
		return store.Window(context.Background(), from, to)
	}
	srv := httptest.NewServer(ingest.NewServer(opts))
	t.Cleanup(func() {
		srv.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("sink: %v", err)
		}
		store.Close()
	})
	return &aggregatorEnv{url: srv.URL, tokenFile: tokenFile, store: store, reg: reg}
}

func (e *aggregatorEnv) client(t testing.TB, tokenFile string) *ingest.Client {
	t.Helper()
	c, err := ingest.NewClient(ingest.ClientOptions{Server: e.url, TokenFile: tokenFile, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// connections adds up every count in the baseline.
func (e *aggregatorEnv) connections(t testing.TB) uint64 {
	t.Helper()
	w, err := e.store.Window(context.Background(), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, es := range w.Edges {
		n += es.Count
	}
	return n
}

// frontendToAPI is a client-side record from the example's frontend to
// the api Service.
func frontendToAPI(sec int, count uint64) flow.Record {
	return flow.Record{Time: time.Date(2026, 11, 22, 10, 0, sec, 0, time.UTC), Node: "node-a", Proto: flow.TCP,
		Src: netip.MustParseAddrPort("10.244.1.10:40000"), Dst: netip.MustParseAddrPort("10.96.10.20:80"), Observer: flow.Client, Count: count}
}

func encode(t testing.TB, b *ingest.Batch) []byte {
	t.Helper()
	data, err := ingest.AppendBatch(nil, b)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
