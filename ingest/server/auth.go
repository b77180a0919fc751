package server

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// TokenFile is a file of bearer tokens, one a line, read again when it
// changes (a Secret the kubelet updates, a rotated token). It is safe for
// concurrent use.
type TokenFile struct {
	path string

	mu      sync.Mutex
	mod     time.Time
	size    int64
	tokens  [][]byte
	checked time.Time
}

// NewTokenFile reads the tokens in path; a file with none is an error.
func NewTokenFile(path string) (*TokenFile, error) {
	t := &TokenFile{path: path}
	if err := t.load(); err != nil {
		return nil, err
	}
	if len(t.tokens) == 0 {
		return nil, fmt.Errorf("token file %s: no token in it", path)
	}
	return t, nil
}

func (t *TokenFile) load() error {
	st, err := os.Stat(t.path)
	if err != nil {
		return fmt.Errorf("token file: %w", err)
	}
	if st.ModTime().Equal(t.mod) && st.Size() == t.size {
		return nil
	}
	data, err := os.ReadFile(t.path)
	if err != nil {
		return fmt.Errorf("token file: %w", err)
	}
	var tokens [][]byte
	for _, line := range strings.Split(string(data), "\n") {
		if tok := strings.TrimSpace(line); tok != "" {
			tokens = append(tokens, []byte(tok))
		}
	}
	t.mod, t.size, t.tokens = st.ModTime(), st.Size(), tokens
	return nil
}

// Valid says whether tok is one of the tokens. The file is looked at again
// at most once a second; while it cannot be read, the tokens read last stay.
func (t *TokenFile) Valid(tok string) bool {
	if tok == "" {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if now := time.Now(); now.Sub(t.checked) >= time.Second {
		t.checked = now
		t.load() // keeps the last tokens on error
	}
	ok := false
	for _, want := range t.tokens {
		ok = subtle.ConstantTimeCompare([]byte(tok), want) == 1 || ok
	}
	return ok
}

// bearer returns the request's bearer token: the Authorization header's
// credentials when its scheme is Bearer (in any case), else "".
func bearer(r *http.Request) string {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}
