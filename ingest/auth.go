package ingest

import (
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"errors"
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

func bearer(r *http.Request) string {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return strings.TrimSpace(tok)
}

// ServerTLS is the aggregator's TLS configuration: its certificate and key
// and, when clientCA is set, client certificates verified against it
// (asked for, not required, so that probes and scrapes need none; the
// Server decides which requests need one).
func ServerTLS(certFile, keyFile, clientCA string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("server certificate %s: %w", certFile, err)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if clientCA != "" {
		pool, err := certPool(clientCA)
		if err != nil {
			return nil, err
		}
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.VerifyClientCertIfGiven
	}
	return cfg, nil
}

// ClientTLS is a client's TLS configuration: the CA that signed the
// aggregator's certificate (zero: the system's), and a client certificate
// for mTLS (zero: none).
func ClientTLS(caFile, certFile, keyFile string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pool, err := certPool(caFile)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	if (certFile == "") != (keyFile == "") {
		return nil, errors.New("a client certificate needs both its certificate and its key")
	}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("client certificate %s: %w", certFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

func certPool(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA file %s: no PEM certificate in it", path)
	}
	return pool, nil
}
