package server_test

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/ingest/client"
	"github.com/flowpol/flowpol/ingest/internal/testagg"
	"github.com/flowpol/flowpol/ingest/server"
	"github.com/flowpol/flowpol/ingest/wire"
)

// A chunked body that trickles in a byte at a time is cut off with 408
// once it falls behind the minimum rate; if it were not, a client could
// hold a connection and an upload slot for ever.
func TestServerCutsOffSlowBody(t *testing.T) {
	env := testagg.Start(t, server.Options{BodyTimeout: 200 * time.Millisecond, MinBodyRate: 1024})
	c := env.Upload(t, testagg.Token, -1, []byte("F"))
	answered := make(chan *http.Response, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Error(err)
		}
		answered <- resp
	}()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	giveUp := time.After(20 * time.Second)
	for {
		select {
		case resp := <-answered:
			if resp != nil && resp.StatusCode != http.StatusRequestTimeout {
				t.Errorf("the trickle was answered %d, want 408", resp.StatusCode)
			}
			if n := env.Metric(t, "flowpol_aggregator_batches_total", "result", "slow"); n != 1 {
				t.Errorf("%v slow batches counted, want 1", n)
			}
			return
		case <-tick.C:
			if _, err := c.Write([]byte("1\r\nP\r\n")); err != nil {
				t.Logf("write: %v", err) // the server hung up; its answer is read above
			}
		case <-giveUp:
			t.Fatal("a body trickling in a byte every 20 ms was still being read after 20 s")
		}
	}
}

// A client refused for its token must not hold the connection by
// trickling a body the server will never use: the 401 comes at once, and
// the connection is closed rather than the body read to its end.
func TestServerRefusesWithoutReadingBody(t *testing.T) {
	env := testagg.Start(t, server.Options{})
	c := env.Upload(t, "not-the-token", -1, []byte("F"))
	answered := make(chan *http.Response, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Error(err)
		}
		answered <- resp
	}()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	giveUp := time.After(20 * time.Second)
	for {
		select {
		case resp := <-answered:
			if resp != nil && (resp.StatusCode != http.StatusUnauthorized || !resp.Close) {
				t.Errorf("answered %d, close %v; want 401 and the connection closed", resp.StatusCode, resp.Close)
			}
			return
		case <-tick.C:
			if _, err := c.Write([]byte("1\r\nP\r\n")); err != nil {
				t.Logf("write: %v", err) // the server hung up; its answer is read above
			}
		case <-giveUp:
			t.Fatal("a refused upload trickling its body had no answer after 20 s")
		}
	}
}

// Connections that declare a large body and send 4 bytes of it do not
// make the aggregator reserve what they declared.
func TestServerDoesNotReserveDeclaredSize(t *testing.T) {
	const conns, declared = 40, 8388000
	env := testagg.Start(t, server.Options{MaxUploads: 2 * conns})
	before := heapInUse()
	for range conns {
		env.Upload(t, testagg.Token, declared, []byte("FPB1"))
	}
	env.WaitMetric(t, conns, "flowpol_aggregator_uploads_in_progress")
	grown := int64(heapInUse()) - int64(before)
	if limit := int64(conns * declared / 8); grown > limit {
		t.Errorf("the heap grew by %d MiB for %d uploads of 4 bytes declaring %d bytes each; want at most %d MiB",
			grown>>20, conns, declared, limit>>20)
	}
}

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// Past MaxUploads, an upload is refused with 503 and Retry-After, and
// counted; once a slot is free, it goes through.
func TestServerBoundsUploads(t *testing.T) {
	env := testagg.Start(t, server.Options{MaxUploads: 2})
	held := []interface{ Close() error }{env.Upload(t, testagg.Token, 1000, []byte("FPB1")), env.Upload(t, testagg.Token, 1000, []byte("FPB1"))}
	env.WaitMetric(t, 2, "flowpol_aggregator_uploads_in_progress")
	batch := testagg.Encode(t, &wire.Batch{Agent: "a", Seq: 1, Records: []flow.Record{testagg.FrontendToAPI(1, 1)}})
	c := env.Client(t, env.TokenFile)
	_, err := c.SendBatch(context.Background(), batch)
	var se *client.StatusError
	if !errors.As(err, &se) || se.Code != http.StatusServiceUnavailable || se.RetryAfter != time.Second {
		t.Fatalf("a third upload with two slots: %v, want 503 with Retry-After: 1", err)
	}
	if n := env.Metric(t, "flowpol_aggregator_batches_total", "result", "busy"); n != 1 {
		t.Errorf("%v busy refusals counted, want 1", n)
	}
	if err := held[0].Close(); err != nil {
		t.Fatal(err)
	}
	env.WaitMetric(t, 1, "flowpol_aggregator_uploads_in_progress")
	if _, err := c.SendBatch(context.Background(), batch); err != nil {
		t.Fatalf("with a slot free: %v", err)
	}
	if n := env.Connections(t); n != 1 {
		t.Errorf("the baseline holds %d connections, want 1", n)
	}
}
