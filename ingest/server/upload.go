package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/flowpol/flowpol/ingest/wire"
)

// A request refused before its body is read is answered with
// "Connection: close": the connection is closed after the answer, where
// net/http would otherwise read what is left of the body, with no
// deadline, before it answers, and a client could hold it for ever.

// acquire takes a slot for reading a request body, or refuses the request
// with 503 and Retry-After when none is free.
func (s *Server) acquire(w http.ResponseWriter, r *http.Request) bool {
	select {
	case s.uploads <- struct{}{}:
		if m := s.opts.Metrics; m != nil {
			m.uploads.Inc()
		}
		return true
	default:
	}
	w.Header().Set("Retry-After", "1")
	w.Header().Set("Connection", "close") // the body is not read
	s.refuse(w, r, http.StatusServiceUnavailable, "busy",
		fmt.Errorf("%w: %d uploads in progress, the most taken at once", ErrBusy, cap(s.uploads)))
	return false
}

func (s *Server) release() {
	<-s.uploads
	if m := s.opts.Metrics; m != nil {
		m.uploads.Dec()
	}
}

// readBody reads r's body into buf, at most limit bytes, growing buf as
// bytes arrive, and at least at the minimum rate (Options.MinBodyRate);
// on failure it says which status refuses the request.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, buf *bytes.Buffer, limit int64) (int, error) {
	if r.ContentLength > limit {
		w.Header().Set("Connection", "close") // the body is not read
		return http.StatusRequestEntityTooLarge, fmt.Errorf("%w: %d bytes, at most %d accepted", wire.ErrTooLarge, r.ContentLength, limit)
	}
	rc := http.NewResponseController(w)
	body := &pacedReader{r: r.Body, rc: rc, start: time.Now(), grace: s.opts.BodyTimeout, rate: s.opts.MinBodyRate}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, body, limit))
	if derr := rc.SetReadDeadline(time.Time{}); err == nil && derr != nil {
		return http.StatusInternalServerError, fmt.Errorf("clear read deadline: %w", derr)
	}
	var mbe *http.MaxBytesError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, fmt.Errorf("%w: more than %d bytes", wire.ErrTooLarge, limit)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return http.StatusRequestTimeout, fmt.Errorf("%w: %d bytes in %v, slower than %d bytes a second after %v",
			ErrSlow, body.n, time.Since(body.start).Round(time.Millisecond), body.rate, body.grace)
	case errors.Is(err, errDeadline):
		return http.StatusInternalServerError, err
	}
	return http.StatusBadRequest, err
}

// errDeadline says a connection's read deadline could not be set.
var errDeadline = errors.New("set read deadline")

// pacedReader reads a request body that must arrive at a minimum rate:
// before each read, the connection's read deadline is set to the start,
// plus the grace, plus the time the bytes read so far take at the rate. A
// trickle falls behind and is cut off; a body that keeps up never is.
type pacedReader struct {
	r     io.ReadCloser
	rc    *http.ResponseController
	start time.Time
	grace time.Duration
	rate  int64 // bytes a second
	n     int64 // bytes read
}

func (p *pacedReader) Read(b []byte) (int, error) {
	if err := p.rc.SetReadDeadline(p.deadline()); err != nil {
		return 0, fmt.Errorf("%w: %w", errDeadline, err)
	}
	n, err := p.r.Read(b)
	p.n += int64(n)
	return n, err
}

func (p *pacedReader) Close() error { return p.r.Close() }

func (p *pacedReader) deadline() time.Time {
	return p.start.Add(p.grace + time.Duration(float64(p.n)/float64(p.rate)*float64(time.Second)))
}

// writeJSON answers v as JSON. The client must read the answer at the
// minimum rate, as it sends bodies; one that does not is cut off.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encode answer: "+err.Error(), http.StatusInternalServerError)
		return
	}
	took := s.opts.BodyTimeout + time.Duration(float64(len(data))/float64(s.opts.MinBodyRate)*float64(time.Second))
	if err := http.NewResponseController(w).SetWriteDeadline(time.Now().Add(took)); err != nil {
		http.Error(w, "set write deadline: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, err = w.Write(append(data, '\n'))
	s.written(r, err)
}

// written logs a failure to answer: the client's connection broke or
// was too slow, and there is no one left to tell.
func (s *Server) written(r *http.Request, err error) {
	if err != nil {
		s.opts.Logger.Debug("answer not delivered", "from", r.RemoteAddr, "path", r.URL.Path, "error", err)
	}
}
