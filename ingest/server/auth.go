package server

import (
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// TokenFileOptions tune NewTokenFile. The zero value is ready to use.
type TokenFileOptions struct {
	// Recheck is how often the file is looked at again; zero means 1 s.
	Recheck time.Duration
	// Logger is told when the file cannot be read again, and when it can
	// once more; zero means slog.Default().
	Logger *slog.Logger
}

// TokenFile is a file of bearer tokens, one a line, read again when it
// changes (a Secret the kubelet updates, a rotated token). While it cannot
// be read, or holds no token, the tokens read last stay, and the logger is
// told. It is safe for concurrent use.
type TokenFile struct {
	path string
	opts TokenFileOptions

	mu      sync.Mutex
	mod     time.Time
	size    int64
	tokens  [][]byte
	checked time.Time
	failing string // the last failure to read the file again, told once
}

// NewTokenFile reads the tokens in path; a file with none is an error.
func NewTokenFile(path string, opts TokenFileOptions) (*TokenFile, error) {
	if opts.Recheck <= 0 {
		opts.Recheck = time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	t := &TokenFile{path: path, opts: opts}
	if err := t.load(); err != nil {
		return nil, err
	}
	return t, nil
}

// load reads the file when it changed; on error the tokens stay as they
// were.
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
	if len(tokens) == 0 {
		return fmt.Errorf("token file %s: no token in it", t.path)
	}
	t.mod, t.size, t.tokens = st.ModTime(), st.Size(), tokens
	return nil
}

// reload looks at the file again, and tells the logger when reading it
// starts or stops failing.
func (t *TokenFile) reload() {
	err := t.load()
	switch {
	case err != nil && err.Error() != t.failing:
		t.failing = err.Error()
		t.opts.Logger.Error("token file cannot be read again; the tokens read last stay", "error", err)
	case err == nil && t.failing != "":
		t.failing = ""
		t.opts.Logger.Info("token file read again", "path", t.path, "tokens", len(t.tokens))
	}
}

// Valid says whether tok is one of the tokens. The file is looked at again
// at most every Recheck.
func (t *TokenFile) Valid(tok string) bool {
	if tok == "" {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if now := time.Now(); now.Sub(t.checked) >= t.opts.Recheck {
		t.checked = now
		t.reload()
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
