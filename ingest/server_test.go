package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/flowpol/flowpol/flow"
	"github.com/flowpol/flowpol/ingest"
)

// A batch is counted once however often it is sent, and each agent's
// batches are told apart.
func TestServerIdempotent(t *testing.T) {
	env := startAggregator(t, ingest.ServerOptions{})
	c := env.client(t, env.tokenFile)
	ctx := context.Background()
	one := encode(t, &ingest.Batch{Agent: "a", Seq: 1, Node: "node-a", Records: []flow.Record{frontendToAPI(1, 3), frontendToAPI(2, 4)}})
	for i := range 3 {
		res, err := c.SendBatch(ctx, one)
		if err != nil {
			t.Fatal(err)
		}
		if res.Duplicate != (i > 0) {
			t.Errorf("send %d: duplicate %v", i+1, res.Duplicate)
		}
	}
	other := encode(t, &ingest.Batch{Agent: "b", Seq: 1, Node: "node-b", Records: []flow.Record{frontendToAPI(3, 5)}})
	if _, err := c.SendBatch(ctx, other); err != nil {
		t.Fatal(err)
	}
	if got := env.connections(t); got != 12 {
		t.Errorf("baseline holds %d connections, want 3+4+5 = 12: a resent batch was counted again, or one was lost", got)
	}
}

// Refused requests: the status says why, and nothing is stored.
func TestServerRefuses(t *testing.T) {
	env := startAggregator(t, ingest.ServerOptions{MaxBatchBytes: 4096, MaxBatchRecords: 50})
	wrong := filepath.Join(t.TempDir(), "wrong")
	if err := os.WriteFile(wrong, []byte("not-the-token"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := encode(t, &ingest.Batch{Agent: "a", Seq: 1, Records: []flow.Record{frontendToAPI(1, 1)}})
	many := make([]flow.Record, 51)
	for i := range many {
		many[i] = frontendToAPI(i%60, 1)
	}
	big := make([]flow.Record, 40)
	for i := range big {
		big[i] = frontendToAPI(1, 1)
		big[i].Comm = strings.Repeat("x", 100) + string(rune('a'+i%26)) + strings.Repeat("y", i) // distinct strings
	}
	tests := []struct {
		name      string
		tokenFile string
		body      []byte
		want      int
	}{
		{"no token", "", good, http.StatusUnauthorized},
		{"wrong token", wrong, good, http.StatusUnauthorized},
		{"not a batch", env.tokenFile, []byte(`{"time":"2026-11-22T10:00:00Z"}`), http.StatusBadRequest},
		{"truncated batch", env.tokenFile, good[:len(good)-3], http.StatusBadRequest},
		{"trailing bytes", env.tokenFile, append(bytes.Clone(good), 0), http.StatusBadRequest},
		{"more records than allowed", env.tokenFile, encode(t, &ingest.Batch{Agent: "a", Seq: 2, Records: many}), http.StatusRequestEntityTooLarge},
		{"more bytes than allowed", env.tokenFile, encode(t, &ingest.Batch{Agent: "a", Seq: 3, Records: big}), http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := env.client(t, tt.tokenFile).SendBatch(context.Background(), tt.body)
			var se *ingest.StatusError
			if !errors.As(err, &se) || se.Code != tt.want {
				t.Fatalf("got %v, want status %d", err, tt.want)
			}
		})
	}
	if n := env.connections(t); n != 0 {
		t.Errorf("refused batches stored %d connections", n)
	}
	if len(encode(t, &ingest.Batch{Agent: "a", Seq: 3, Records: big})) <= 4096 {
		t.Fatal("the oversized batch is not oversized: the test proves nothing")
	}
	// The agent's sequence was not advanced by the refusals: its first
	// batch still counts.
	if _, err := env.client(t, env.tokenFile).SendBatch(context.Background(), good); err != nil {
		t.Fatal(err)
	}
	if n := env.connections(t); n != 1 {
		t.Errorf("after the good batch the baseline holds %d connections, want 1", n)
	}
}

// The read API gives the same window as the file.
func TestServerWindow(t *testing.T) {
	env := startAggregator(t, ingest.ServerOptions{})
	c := env.client(t, env.tokenFile)
	ctx := context.Background()
	if _, err := c.SendBatch(ctx, encode(t, &ingest.Batch{Agent: "a", Seq: 1, Records: []flow.Record{frontendToAPI(1, 3)}})); err != nil {
		t.Fatal(err)
	}
	from, to := frontendToAPI(0, 1).Time.Add(-time.Hour), frontendToAPI(0, 1).Time.Add(time.Hour)
	got, err := c.Window(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	want, err := env.store.Window(context.Background(), from, to)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("window over HTTP differs from the file's:\n got %+v\nwant %+v", got, want)
	}
	if len(want.Edges) != 1 {
		t.Errorf("%d edges, want 1", len(want.Edges))
	}
	if _, err := env.client(t, "").Window(ctx, from, to); err == nil {
		t.Error("the read API answered without a token")
	}
}
