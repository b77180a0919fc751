package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/flowpol/flowpol/ingest/tlsconfig"
	"github.com/flowpol/flowpol/ingest/wire"
	"github.com/flowpol/flowpol/topology"
)

// Options configure New.
type Options struct {
	// Server is the aggregator's base URL, http:// or https://; required.
	Server string
	// TokenFile holds the bearer token; it is read for every request, so
	// a rotated token is used at once. Zero sends none (mTLS).
	TokenFile string
	// CAFile verifies the aggregator's certificate; zero means the
	// system's roots.
	CAFile string
	// CertFile and KeyFile are a client certificate for mTLS; zero means
	// none.
	CertFile, KeyFile string
	// Timeout bounds one request; zero means 30 s.
	Timeout time.Duration
}

// Client talks to an aggregator.
type Client struct {
	base      *url.URL
	tokenFile string
	http      *http.Client
}

// New checks the options and builds a client.
func New(opts Options) (*Client, error) {
	u, err := url.Parse(opts.Server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("server %q: want an http:// or https:// URL", opts.Server)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if u.Scheme == "https" {
		if tr.TLSClientConfig, err = tlsconfig.Client(opts.CAFile, opts.CertFile, opts.KeyFile); err != nil {
			return nil, err
		}
	}
	tr.MaxIdleConnsPerHost = 4
	return &Client{base: u, tokenFile: opts.TokenFile, http: &http.Client{Transport: tr, Timeout: opts.Timeout}}, nil
}

// StatusError is an aggregator's refusal. A 401 wraps ErrUnauthorized.
type StatusError struct {
	Code    int
	Message string
	// RetryAfter is how long the aggregator asked to wait before sending
	// again (Retry-After, in seconds); zero when it did not say.
	RetryAfter time.Duration
	// Token is the fingerprint of the token sent (see TokenFingerprint).
	Token string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("aggregator answered %d %s: %s", e.Code, http.StatusText(e.Code), e.Message)
}

func (e *StatusError) Unwrap() error {
	if e.Code == http.StatusUnauthorized {
		return ErrUnauthorized
	}
	return nil
}

// Permanent says sending the same request again cannot succeed.
func (e *StatusError) Permanent() bool {
	return e.Code == http.StatusBadRequest || e.Code == http.StatusRequestEntityTooLarge
}

func (c *Client) do(ctx context.Context, method, path string, query url.Values, contentType string, body []byte) ([]byte, error) {
	u := c.base.JoinPath(path)
	u.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	tok, err := c.token()
	if err != nil {
		return nil, err
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<30))
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, u.Redacted(), err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, &StatusError{Code: resp.StatusCode, Message: strings.TrimSpace(string(data)),
			RetryAfter: retryAfter(resp.Header.Get("Retry-After")), Token: fingerprint(tok)}
	}
	return data, nil
}

// token reads the token file; with none, it returns "".
func (c *Client) token() (string, error) {
	if c.tokenFile == "" {
		return "", nil
	}
	tok, err := os.ReadFile(c.tokenFile)
	if err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	return strings.TrimSpace(string(tok)), nil
}

// TokenFingerprint identifies the token the client would send now without
// revealing it: a hash of its token file's content ("" with no token file).
// It changes when the file does.
func (c *Client) TokenFingerprint() (string, error) {
	tok, err := c.token()
	return fingerprint(tok), err
}

func fingerprint(tok string) string {
	if tok == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:8])
}

// retryAfter reads a Retry-After header given in seconds; anything else is
// zero.
func retryAfter(h string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(h))
	if err != nil || n < 0 {
		return 0
	}
	return time.Duration(min(n, 3600)) * time.Second
}

// SendBatch sends an encoded batch.
func (c *Client) SendBatch(ctx context.Context, batch []byte) (wire.BatchResponse, error) {
	var res wire.BatchResponse
	data, err := c.do(ctx, http.MethodPost, wire.PathBatches, nil, wire.ContentType, batch)
	if err != nil {
		return res, err
	}
	if err := json.Unmarshal(data, &res); err != nil {
		return res, fmt.Errorf("aggregator's answer: %w", err)
	}
	return res, nil
}

// Window reads the window [from, until) of the aggregator's baseline, as
// Store.Window would.
func (c *Client) Window(ctx context.Context, from, until time.Time) (*topology.Window, error) {
	q := url.Values{"from": {from.UTC().Format(time.RFC3339Nano)}, "until": {until.UTC().Format(time.RFC3339Nano)}}
	data, err := c.do(ctx, http.MethodGet, wire.PathWindow, q, "", nil)
	if err != nil {
		return nil, fmt.Errorf("read window from %s: %w", c.base.Redacted(), err)
	}
	var j wire.Window
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, fmt.Errorf("read window from %s: %w", c.base.Redacted(), err)
	}
	return j.Topology(), nil
}

// Report tells the aggregator how a recommendation run went.
func (c *Client) Report(ctx context.Context, r wire.Report) error {
	body, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if _, err := c.do(ctx, http.MethodPost, wire.PathReports, nil, "application/json", body); err != nil {
		return fmt.Errorf("report to %s: %w", c.base.Redacted(), err)
	}
	return nil
}

// Staged reads the aggregator's record of the staged policies.
func (c *Client) Staged(ctx context.Context) (*wire.Staged, error) {
	data, err := c.do(ctx, http.MethodGet, wire.PathStaged, nil, "", nil)
	if err != nil {
		return nil, fmt.Errorf("read staged policies from %s: %w", c.base.Redacted(), err)
	}
	var st wire.Staged
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("read staged policies from %s: %w", c.base.Redacted(), err)
	}
	return &st, nil
}
