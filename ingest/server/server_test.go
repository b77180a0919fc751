package server_test

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
	"github.com/flowpol/flowpol/ingest/client"
	"github.com/flowpol/flowpol/ingest/internal/testagg"
	"github.com/flowpol/flowpol/ingest/server"
	"github.com/flowpol/flowpol/ingest/wire"
)

// A batch is counted once however often it is sent, and each agent's
// batches are told apart.
func TestServerIdempotent(t *testing.T) {
	env := testagg.Start(t, server.Options{})
	c := env.Client(t, env.TokenFile)
	ctx := context.Background()
	one := testagg.Encode(t, &wire.Batch{Agent: "a", Seq: 1, Node: "node-a", Records: []flow.Record{testagg.FrontendToAPI(1, 3), testagg.FrontendToAPI(2, 4)}})
	for i := range 3 {
		res, err := c.SendBatch(ctx, one)
		if err != nil {
			t.Fatal(err)
		}
		if res.Duplicate != (i > 0) {
			t.Errorf("send %d: duplicate %v", i+1, res.Duplicate)
		}
	}
	other := testagg.Encode(t, &wire.Batch{Agent: "b", Seq: 1, Node: "node-b", Records: []flow.Record{testagg.FrontendToAPI(3, 5)}})
	if _, err := c.SendBatch(ctx, other); err != nil {
		t.Fatal(err)
	}
	if got := env.Connections(t); got != 12 {
		t.Errorf("baseline holds %d connections, want 3+4+5 = 12: a resent batch was counted again, or one was lost", got)
	}
}

// Refused requests: the status says why, and nothing is stored.
func TestServerRefuses(t *testing.T) {
	env := testagg.Start(t, server.Options{MaxBatchBytes: 4096, MaxBatchRecords: 50})
	wrong := filepath.Join(t.TempDir(), "wrong")
	if err := os.WriteFile(wrong, []byte("not-the-token"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := testagg.Encode(t, &wire.Batch{Agent: "a", Seq: 1, Records: []flow.Record{testagg.FrontendToAPI(1, 1)}})
	many := make([]flow.Record, 51)
	for i := range many {
		many[i] = testagg.FrontendToAPI(i%60, 1)
	}
	big := make([]flow.Record, 40)
	for i := range big {
		big[i] = testagg.FrontendToAPI(1, 1)
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
		{"not a batch", env.TokenFile, []byte(`{"time":"2026-11-22T10:00:00Z"}`), http.StatusBadRequest},
		{"truncated batch", env.TokenFile, good[:len(good)-3], http.StatusBadRequest},
		{"trailing bytes", env.TokenFile, append(bytes.Clone(good), 0), http.StatusBadRequest},
		{"a time no bucket can hold", env.TokenFile, testagg.EndOfTime(t), http.StatusBadRequest},
		{"more records than allowed", env.TokenFile, testagg.Encode(t, &wire.Batch{Agent: "a", Seq: 2, Records: many}), http.StatusRequestEntityTooLarge},
		{"more bytes than allowed", env.TokenFile, testagg.Encode(t, &wire.Batch{Agent: "a", Seq: 3, Records: big}), http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := env.Client(t, tt.tokenFile).SendBatch(context.Background(), tt.body)
			var se *client.StatusError
			if !errors.As(err, &se) || se.Code != tt.want {
				t.Fatalf("got %v, want status %d", err, tt.want)
			}
		})
	}
	if n := env.Connections(t); n != 0 {
		t.Errorf("refused batches stored %d connections", n)
	}
	if len(testagg.Encode(t, &wire.Batch{Agent: "a", Seq: 3, Records: big})) <= 4096 {
		t.Fatal("the oversized batch is not oversized: the test proves nothing")
	}
	// The agent's sequence was not advanced by the refusals: its first
	// batch still counts.
	if _, err := env.Client(t, env.TokenFile).SendBatch(context.Background(), good); err != nil {
		t.Fatal(err)
	}
	if n := env.Connections(t); n != 1 {
		t.Errorf("after the good batch the baseline holds %d connections, want 1", n)
	}
}

// A record whose time no bucket can hold is refused, and the answer names
// the record and the field.
func TestServerRefusesTimeOutOfRange(t *testing.T) {
	env := testagg.Start(t, server.Options{})
	_, err := env.Client(t, env.TokenFile).SendBatch(context.Background(), testagg.EndOfTime(t))
	var se *client.StatusError
	if !errors.As(err, &se) || se.Code != http.StatusBadRequest || !strings.Contains(se.Message, "record 1: field time") {
		t.Fatalf("got %v, want 400 naming record 1 and field time", err)
	}
	if n := env.Connections(t); n != 0 {
		t.Errorf("the refused batch stored %d connections", n)
	}
}

// A token without the Bearer scheme is refused: the Authorization header
// names its scheme, and a bare token is no credential.
func TestServerWantsBearerScheme(t *testing.T) {
	env := testagg.Start(t, server.Options{})
	body := testagg.Encode(t, &wire.Batch{Agent: "a", Seq: 1, Records: []flow.Record{testagg.FrontendToAPI(1, 1)}})
	tests := []struct {
		name, header string
		want         int
	}{
		{"bare token", testagg.Token, http.StatusUnauthorized},
		{"other scheme", "Basic " + testagg.Token, http.StatusUnauthorized},
		{"scheme without a space", "Bearer" + testagg.Token, http.StatusUnauthorized},
		{"bearer, lower case", "bearer " + testagg.Token, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, env.URL+wire.PathBatches, bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", tt.header)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if err := resp.Body.Close(); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.want {
				t.Errorf("Authorization: %s: %d, want %d", tt.header, resp.StatusCode, tt.want)
			}
		})
	}
}

// The read API gives the same window as the file.
func TestServerWindow(t *testing.T) {
	env := testagg.Start(t, server.Options{})
	c := env.Client(t, env.TokenFile)
	ctx := context.Background()
	if _, err := c.SendBatch(ctx, testagg.Encode(t, &wire.Batch{Agent: "a", Seq: 1, Records: []flow.Record{testagg.FrontendToAPI(1, 3)}})); err != nil {
		t.Fatal(err)
	}
	from, to := testagg.FrontendToAPI(0, 1).Time.Add(-time.Hour), testagg.FrontendToAPI(0, 1).Time.Add(time.Hour)
	got, err := c.Window(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	want, err := env.Store.Window(context.Background(), from, to)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("window over HTTP differs from the file's:\n got %+v\nwant %+v", got, want)
	}
	if len(want.Edges) != 1 {
		t.Errorf("%d edges, want 1", len(want.Edges))
	}
	if _, err := env.Client(t, "").Window(ctx, from, to); err == nil {
		t.Error("the read API answered without a token")
	}
}
