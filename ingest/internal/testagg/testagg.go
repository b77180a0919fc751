package testagg

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flowpol/flowpol/baseline/boltdb"
	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/ingest/client"
	"github.com/flowpol/flowpol/ingest/server"
	"github.com/flowpol/flowpol/ingest/wire"
	"github.com/flowpol/flowpol/inventory"
	"github.com/flowpol/flowpol/learn"
	"github.com/flowpol/flowpol/resolve"
	"github.com/flowpol/flowpol/topology"
)

// Token is the token Start accepts.
const Token = "s3cret-token"

// Env is a real aggregator on loopback: a bbolt baseline, a learner on
// the example cluster, a sink and the HTTP server.
type Env struct {
	// URL is the server's; TokenFile holds Token.
	URL, TokenFile string
	Store          *boltdb.Store
	Reg            *prometheus.Registry
}

// Start runs an aggregator with opts, its sink, window, tokens, gatherer
// and metrics filled in, until the test ends.
func Start(t testing.TB, opts server.Options) *Env {
	t.Helper()
	dir := t.TempDir()
	inv, err := inventory.LoadFile(exampleCluster())
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
	m := server.NewAggregatorMetrics(reg)
	sink, err := server.NewSink(context.Background(), store, l, server.SinkOptions{Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sink.Run(ctx) }()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(Token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tokens, err := server.NewTokenFile(tokenFile, server.TokenFileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	opts.Sink, opts.Tokens, opts.Gatherer, opts.Metrics = sink, tokens, reg, m
	opts.Window = func(from, to time.Time) (*topology.Window, error) {
		return store.Window(context.Background(), from, to)
	}
	srv := httptest.NewServer(server.New(opts))
	t.Cleanup(func() {
		srv.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("sink: %v", err)
		}
		if err := store.Close(); err != nil {
			t.Errorf("close the baseline: %v", err)
		}
	})
	return &Env{URL: srv.URL, TokenFile: tokenFile, Store: store, Reg: reg}
}

// Client is a client of the aggregator that sends the token in tokenFile
// ("" for none).
func (e *Env) Client(t testing.TB, tokenFile string) *client.Client {
	t.Helper()
	c, err := client.New(client.Options{Server: e.URL, TokenFile: tokenFile, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Connections adds up every count in the baseline.
func (e *Env) Connections(t testing.TB) uint64 {
	t.Helper()
	w, err := e.Store.Window(context.Background(), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, es := range w.Edges {
		n += es.Count
	}
	return n
}

// FrontendToAPI is a client-side record from the example's frontend to
// the api Service.
func FrontendToAPI(sec int, count uint64) flow.Record {
	return flow.Record{Time: time.Date(2026, 11, 22, 10, 0, sec, 0, time.UTC), Node: "node-a", Proto: flow.TCP,
		Src: netip.MustParseAddrPort("10.244.1.10:40000"), Dst: netip.MustParseAddrPort("10.96.10.20:80"), Observer: flow.Client, Count: count}
}

// Encode encodes b, failing the test if it cannot.
func Encode(t testing.TB, b *wire.Batch) []byte {
	t.Helper()
	data, err := wire.AppendBatch(nil, b)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// exampleCluster is the path of the example's inventory.
func exampleCluster() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "testdata", "example", "cluster.yaml")
}

// Metric adds up the samples of the counter or gauge name whose labels
// include labels (name, value, name, value...).
func (e *Env) Metric(t testing.TB, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := e.Reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			if hasLabels(have, labels) {
				sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return sum
}

func hasLabels(have map[string]string, want []string) bool {
	for i := 0; i+1 < len(want); i += 2 {
		if v, ok := have[want[i]]; !ok || v != want[i+1] {
			return false
		}
	}
	return true
}

// WaitMetric waits until Metric gives want, and fails the test if it
// does not within 20 s.
func (e *Env) WaitMetric(t testing.TB, want float64, name string, labels ...string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for e.Metric(t, name, labels...) != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s%v is %v after 20 s, want %v", name, labels, e.Metric(t, name, labels...), want)
		}
		time.Sleep(5 * time.Millisecond) // polling the condition, with a deadline
	}
}

// Upload opens a connection to the aggregator and sends a batch upload's
// headers, with token (Token for the good one), and the first bytes of its
// body; it leaves the rest unsent. contentLength < 0 sends the body
// chunked.
func (e *Env) Upload(t testing.TB, token string, contentLength int, first []byte) net.Conn {
	t.Helper()
	u, err := url.Parse(e.URL)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			t.Errorf("close the upload: %v", err)
		}
	})
	head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\n", wire.PathBatches, u.Host, token, wire.ContentType)
	if contentLength < 0 {
		head += "Transfer-Encoding: chunked\r\n\r\n"
		first = fmt.Appendf(nil, "%x\r\n%s\r\n", len(first), first)
	} else {
		head += fmt.Sprintf("Content-Length: %d\r\n\r\n", contentLength)
	}
	if _, err := c.Write(append([]byte(head), first...)); err != nil {
		t.Fatal(err)
	}
	return c
}

// EndOfTime is a batch of one record whose time decodes to 2262-04-11,
// the last moment UnixNano holds and one no bucket can hold: its base
// time is the largest the encoding carries. No encoder makes it.
func EndOfTime(t testing.TB) []byte {
	t.Helper()
	rec := FrontendToAPI(0, 1)
	rec.Time, rec.Node = time.Unix(1, 0), ""        // no strings: the table is empty
	rec.Src = netip.AddrPortFrom(rec.Src.Addr(), 1) // numbers of one byte each
	one := Encode(t, &wire.Batch{Agent: "a", Seq: 1, Records: []flow.Record{rec}})
	const record = 1 + 1 + 4 + 1 + 4 + 1 + 8                // flags, time, addresses and ports, eight numbers
	at := len(one) - record - 2                             // the base time ends before the table's and the records' counts
	n := len(binary.AppendVarint(nil, rec.Time.UnixNano())) // the base time's length
	return slices.Concat(one[:at-n], binary.AppendVarint(nil, math.MaxInt64), one[at:])
}
