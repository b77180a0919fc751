package client

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/flowpol/flowpol/ingest/wire"
)

// A client of several aggregators moves on to the next when one does not
// answer or answers 503, and stays with one that works; a batch sent
// again carries the header saying so.
func TestFailover(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // nothing listens there any more
	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "store unavailable", http.StatusServiceUnavailable)
	}))
	defer busy.Close()
	var resent []string
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resent = append(resent, r.Header.Get(wire.HeaderResent))
		w.Write([]byte(`{"agent":"a","seq":1,"records":0}`))
	}))
	defer ok.Close()
	c, err := New(Options{Servers: []string{down.URL, busy.URL, ok.URL}})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{busy.URL, ok.URL, ok.URL} {
		_, err := c.Send(context.Background(), []byte("x"), i > 0)
		if i < 2 && err == nil {
			t.Fatalf("send %d succeeded on a server that is down or busy", i)
		}
		if c.Server() != want {
			t.Errorf("after send %d the client is on %s, want %s", i, c.Server(), want)
		}
	}
	if _, err := c.Send(context.Background(), []byte("x"), false); err != nil {
		t.Fatal(err)
	}
	if len(resent) != 2 || resent[0] != "1" || resent[1] != "" {
		t.Errorf("the working server saw %q as the resent header, want [1 \"\"]", resent)
	}
}
