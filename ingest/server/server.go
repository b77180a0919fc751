package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/flowpol/flowpol/ingest/wire"
	"github.com/flowpol/flowpol/staged"
	"github.com/flowpol/flowpol/topology"
)

// Options configure New.
type Options struct {
	// Sink takes the batches; required.
	Sink *Sink
	// Window reads a window of the baseline for the read API; nil leaves
	// the read API out.
	Window func(from, to time.Time) (*topology.Window, error)
	// Staged, when set, serves its record on GET /api/v1/staged; without
	// it that is a 404 saying nothing is staged.
	Staged *staged.Tracker
	// Tokens, when set, accepts requests with one of its bearer tokens.
	Tokens *TokenFile
	// ClientCerts accepts requests over TLS with a client certificate the
	// server's TLS configuration verified (see ServerTLS).
	ClientCerts bool
	// MaxBatchBytes bounds a batch's encoding; zero means 8 MiB.
	MaxBatchBytes int64
	// MaxBatchRecords bounds a batch's records; zero means 100,000.
	MaxBatchRecords int
	// MaxUploads bounds the request bodies (batches, reports) being read
	// at once, and so the memory they hold; past it a request is refused
	// with 503 and Retry-After, and the agent sends it again later. Zero
	// means 32.
	MaxUploads int
	// BodyTimeout is the grace a request body has: its first bytes, and
	// all of it beyond what MinBodyRate allows, must arrive within it.
	// Zero means 10 s.
	BodyTimeout time.Duration
	// MinBodyRate is the slowest a request body may arrive, in bytes a
	// second: a body must be whole within BodyTimeout plus its size at
	// this rate, or it is cut off (408). The same bounds how long a client
	// may take to read an answer. Zero means 64 KiB/s.
	MinBodyRate int64
	// Gatherer is served on /metrics; nil leaves it out.
	Gatherer prometheus.Gatherer
	// Metrics, when set, count the batches refused and the reads served.
	Metrics *AggregatorMetrics
	// Ready says whether the aggregator is ready (/readyz); nil means it is.
	Ready func() error
	// Logger receives refused batches; zero means slog.Default().
	Logger *slog.Logger
}

// Server is the aggregator's HTTP API: batches in, windows out, metrics
// and health. /metrics, /healthz and /readyz need no authentication;
// everything else does.
type Server struct {
	opts Options
	mux  *http.ServeMux
	bufs sync.Pool // of *bytes.Buffer, for bodies
	// batches holds decoded batches the sink is done with, for their
	// records' memory: under load, most of what a request allocates.
	batches sync.Pool
	decoder wire.Decoder
	uploads chan struct{} // a slot for each body being read
}

var _ http.Handler = (*Server)(nil)

// New builds the handler.
func New(opts Options) *Server {
	if opts.MaxBatchBytes <= 0 {
		opts.MaxBatchBytes = 8 << 20
	}
	if opts.MaxBatchRecords <= 0 {
		opts.MaxBatchRecords = 100_000
	}
	if opts.MaxUploads <= 0 {
		opts.MaxUploads = 32
	}
	if opts.BodyTimeout <= 0 {
		opts.BodyTimeout = 10 * time.Second
	}
	if opts.MinBodyRate <= 0 {
		opts.MinBodyRate = 64 << 10
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Server{opts: opts, mux: http.NewServeMux(), uploads: make(chan struct{}, opts.MaxUploads)}
	s.bufs.New = func() any { return new(bytes.Buffer) }
	s.batches.New = func() any { return new(wire.Batch) }
	s.mux.HandleFunc("POST "+wire.PathBatches, s.postBatch)
	s.mux.HandleFunc("POST "+wire.PathReports, s.reports)
	if opts.Window != nil {
		s.mux.HandleFunc("GET "+wire.PathWindow, s.window)
	}
	s.mux.HandleFunc("GET "+wire.PathStaged, s.staged)
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	if opts.Gatherer != nil {
		s.mux.Handle("GET /metrics", promhttp.HandlerFor(opts.Gatherer, promhttp.HandlerOpts{}))
	}
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// HealthHandler serves only /metrics, /healthz and /readyz, for a listener
// of their own.
func (s *Server) HealthHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	if s.opts.Gatherer != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(s.opts.Gatherer, promhttp.HandlerOpts{}))
	}
	return mux
}

func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	if s.opts.ClientCerts && r.TLS != nil && len(r.TLS.VerifiedChains) > 0 {
		return true
	}
	if s.opts.Tokens != nil && s.opts.Tokens.Valid(bearer(r)) {
		return true
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="flowpol"`)
	w.Header().Set("Connection", "close") // the body is not read: see upload.go
	http.Error(w, "unauthorized: a valid bearer token or client certificate is required", http.StatusUnauthorized)
	return false
}

func (s *Server) postBatch(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if !s.authorized(w, r) {
		s.count("unauthorized")
		return
	}
	if !s.acquire(w, r) {
		return
	}
	b, code, err := s.readBatch(w, r)
	s.release()
	if err != nil {
		s.refuse(w, r, code, "", err)
		return
	}
	res, done, err := s.opts.Sink.deliver(r.Context(), b, r.Header.Get(wire.HeaderResent) == "1")
	if done {
		defer s.batches.Put(b)
	}
	if err != nil {
		s.refuse(w, r, http.StatusServiceUnavailable, "", fmt.Errorf("batch %s: %w", b.ID(), err))
		return
	}
	if m := s.opts.Metrics; m != nil {
		m.batchSeconds.Observe(time.Since(start).Seconds())
	}
	s.writeJSON(w, r, wire.BatchResponse{Agent: b.Agent, Seq: b.Seq, Records: len(b.Records), Duplicate: res.Duplicate})
}

// readBatch reads and decodes a batch, or says which status refuses it.
func (s *Server) readBatch(w http.ResponseWriter, r *http.Request) (*wire.Batch, int, error) {
	buf := s.bufs.Get().(*bytes.Buffer)
	defer s.bufs.Put(buf)
	buf.Reset()
	if code, err := s.readBody(w, r, buf, s.opts.MaxBatchBytes); err != nil {
		return nil, code, fmt.Errorf("read batch: %w", err)
	}
	b := s.batches.Get().(*wire.Batch)
	err := s.decoder.Decode(b, buf.Bytes(), s.opts.MaxBatchRecords) // copies what it keeps
	switch {
	case errors.Is(err, wire.ErrTooLarge):
		s.batches.Put(b)
		return nil, http.StatusRequestEntityTooLarge, err
	case err != nil:
		s.batches.Put(b)
		return nil, http.StatusBadRequest, err
	}
	return b, 0, nil
}

// results name the refusals in the batches metric, by status.
var results = map[int]string{
	http.StatusBadRequest:            "malformed",
	http.StatusRequestEntityTooLarge: "too_large",
	http.StatusRequestTimeout:        "slow",
	http.StatusInternalServerError:   "failed",
}

// refuse answers a refused batch with code and counts it under result
// ("": the status's, see results).
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, code int, result string, err error) {
	if result == "" {
		result = results[code]
	}
	if result == "" {
		result = "unavailable"
	}
	s.count(result)
	s.opts.Logger.Warn("batch refused", "from", r.RemoteAddr, "status", code, "error", err)
	http.Error(w, err.Error(), code)
}

func (s *Server) count(result string) {
	if m := s.opts.Metrics; m != nil {
		m.batches.WithLabelValues(result).Inc()
	}
}

func (s *Server) window(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	start := time.Now()
	from, err1 := time.Parse(time.RFC3339Nano, r.URL.Query().Get("from"))
	until, err2 := time.Parse(time.RFC3339Nano, r.URL.Query().Get("until"))
	if err := errors.Join(err1, err2); err != nil || !from.Before(until) {
		http.Error(w, "want from and until, RFC 3339 times, from before until", http.StatusBadRequest)
		return
	}
	win, err := s.opts.Window(from, until)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s.writeJSON(w, r, wire.FromTopology(win))
	if m := s.opts.Metrics; m != nil {
		m.windowSeconds.Observe(time.Since(start).Seconds())
	}
}

func (s *Server) staged(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	if s.opts.Staged == nil {
		http.Error(w, "nothing is staged: the aggregator stages policies with --staged DIR or --staged-configmap NAMESPACE/NAME", http.StatusNotFound)
		return
	}
	s.writeJSON(w, r, StagedJSON(s.opts.Staged.Report()))
}

// StagedJSON is a staged record as GET /api/v1/staged sends it.
func StagedJSON(r staged.Report) wire.Staged {
	out := wire.Staged{Since: r.Since, Now: r.Now, Flows: make([]wire.DeniedFlow, len(r.Denials)), Policies: make([]wire.StagedPolicy, len(r.Policies))}
	for i, d := range r.Denials {
		out.Flows[i] = wire.FromDenial(d)
	}
	for i, p := range r.Policies {
		clean := p.CleanSince()
		out.Policies[i] = wire.StagedPolicy{Policy: p.Policy, Fingerprint: p.Fingerprint, StagedSince: p.StagedSince,
			FirstWouldDeny: p.FirstDeny, LastWouldDeny: p.LastDeny, WouldDeny: p.Connections, Flows: p.Flows,
			CleanSince: clean, CleanSeconds: max(0, r.Now.Sub(clean).Seconds())}
	}
	return out
}

func (s *Server) reports(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	if !s.acquire(w, r) {
		return
	}
	var buf bytes.Buffer
	code, err := s.readBody(w, r, &buf, 1<<16)
	s.release()
	if err != nil {
		http.Error(w, "report: "+err.Error(), code)
		return
	}
	var rep wire.Report
	dec := json.NewDecoder(&buf)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		http.Error(w, "report: "+err.Error(), http.StatusBadRequest)
		return
	}
	if m := s.opts.Metrics; m != nil {
		m.generate.WithLabelValues("generate_seconds").Set(rep.GenerateSeconds)
		m.generate.WithLabelValues("policies").Set(float64(rep.Policies))
		m.generate.WithLabelValues("changes").Set(float64(rep.Changes))
		m.generateLastOK.SetToCurrentTime()
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	err := s.opts.Sink.Err()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	_, err = io.WriteString(w, "ok\n")
	s.written(r, err)
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	err := s.opts.Sink.Err()
	if err == nil && s.opts.Ready != nil {
		err = s.opts.Ready()
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	_, err = io.WriteString(w, "ok\n")
	s.written(r, err)
}
