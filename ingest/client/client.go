package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/flowpol/flowpol/ingest/tlsconfig"
	"github.com/flowpol/flowpol/ingest/wire"
	"github.com/flowpol/flowpol/topology"
)

// Options configure New.
type Options struct {
	// Server is the aggregator's base URL, http:// or https://.
	Server string
	// Servers are more aggregators' URLs, tried in turn: a request that
	// fails to reach one, or that it answers 502, 503 or 504, moves the
	// client on to the next for the requests after it. Server, when set,
	// is the first. One of the two is required.
	Servers []string
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
	bases     []*url.URL
	current   atomic.Int64 // index into bases of the aggregator in use
	base      *url.URL     // the first, for messages
	tokenFile string
	http      *http.Client
}

// New checks the options and builds a client.
func New(opts Options) (*Client, error) {
	servers := opts.Servers
	if opts.Server != "" {
		servers = append([]string{opts.Server}, servers...)
	}
	if len(servers) == 0 {
		return nil, fmt.Errorf("no aggregator URL")
	}
	c := &Client{tokenFile: opts.TokenFile}
	https := false
	for _, s := range servers {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("server %q: want an http:// or https:// URL", s)
		}
		https = https || u.Scheme == "https"
		c.bases = append(c.bases, u)
	}
	c.base = c.bases[0]
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	var err error
	if https {
		if tr.TLSClientConfig, err = tlsconfig.Client(opts.CAFile, opts.CertFile, opts.KeyFile); err != nil {
			return nil, err
		}
	}
	tr.MaxIdleConnsPerHost = 4
	c.http = &http.Client{Transport: tr, Timeout: opts.Timeout}
	return c, nil
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

// Server is the aggregator the next request goes to.
func (c *Client) Server() string { return c.bases[c.current.Load()].Redacted() }

// failover moves on to the next aggregator after the one at i failed.
func (c *Client) failover(i int64) {
	c.current.CompareAndSwap(i, (i+1)%int64(len(c.bases)))
}

func (c *Client) do(ctx context.Context, method, path string, query url.Values, contentType string, body []byte, header ...string) ([]byte, error) {
	i := c.current.Load()
	data, err := c.doAt(ctx, c.bases[i], method, path, query, contentType, body, header)
	var se *StatusError
	if err != nil && (!errors.As(err, &se) || se.Code == http.StatusBadGateway || se.Code == http.StatusServiceUnavailable || se.Code == http.StatusGatewayTimeout) {
		c.failover(i)
	}
	return data, err
}

func (c *Client) doAt(ctx context.Context, base *url.URL, method, path string, query url.Values, contentType string, body []byte, header []string) ([]byte, error) {
	u := base.JoinPath(path)
	u.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
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
	return c.Send(ctx, batch, false)
}

// Send sends an encoded batch; resent says it was sent before without an
// answer (wire.HeaderResent).
func (c *Client) Send(ctx context.Context, batch []byte, resent bool) (wire.BatchResponse, error) {
	var res wire.BatchResponse
	var header []string
	if resent {
		header = []string{wire.HeaderResent, "1"}
	}
	data, err := c.do(ctx, http.MethodPost, wire.PathBatches, nil, wire.ContentType, batch, header...)
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
