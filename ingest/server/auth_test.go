package server_test

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowpol/flowpol/ingest/server"
)

// A token file that cannot be read again, or is emptied, keeps the tokens
// read last, and the log says so once; a new token is taken when the file
// is whole again. Without this a half-written Secret would lock every
// agent out, silently.
func TestTokenFileReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens")
	write := func(content string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("old-token\n")
	var log bytes.Buffer
	tf, err := server.NewTokenFile(path, server.TokenFileOptions{Recheck: time.Nanosecond, Logger: slog.New(slog.NewTextHandler(&log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name  string
		apply func()
		valid map[string]bool
		logs  int // lines logged so far
	}{
		{"read", func() {}, map[string]bool{"old-token": true, "other": false}, 0},
		{"removed", func() {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}, map[string]bool{"old-token": true}, 1},
		{"emptied", func() { write("\n") }, map[string]bool{"old-token": true}, 2},
		{"rotated", func() { write("new-token\n") }, map[string]bool{"new-token": true, "old-token": false}, 3},
	}
	for _, st := range steps {
		st.apply()
		for range 3 { // the same failure is told once
			for tok, want := range st.valid {
				if got := tf.Valid(tok); got != want {
					t.Errorf("%s: Valid(%q) = %v, want %v", st.name, tok, got, want)
				}
			}
		}
		if n := strings.Count(log.String(), "\n"); n != st.logs {
			t.Errorf("%s: %d lines logged, want %d:\n%s", st.name, n, st.logs, log.String())
		}
	}
}
