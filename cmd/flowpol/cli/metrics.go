package cli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metricsServer serves a registry on /metrics (and /healthz). A nil one
// serves nothing.
type metricsServer struct {
	srv    *http.Server
	flag   string
	log    *slog.Logger
	failed chan struct{} // closed when it stops serving on its own
	done   chan struct{} // closed when Serve returned
	err    error         // why it stopped, once done
}

// serveMetrics serves reg at addr, named by its flag in errors; with no
// address, it serves nothing and returns nil. A failure to serve is logged
// when it happens, and Failed and Err report it.
func serveMetrics(addr, flag string, reg *prometheus.Registry, log *slog.Logger) (*metricsServer, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := listen(addr, flag)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if _, err := io.WriteString(w, "ok\n"); err != nil {
			log.Debug("healthz answer not delivered", "error", err)
		}
	})
	m := &metricsServer{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute},
		flag: flag, log: log, failed: make(chan struct{}), done: make(chan struct{})}
	go m.serve(ln.Addr().String(), func() error { return m.srv.Serve(ln) })
	return m, nil
}

func (m *metricsServer) serve(addr string, serve func() error) {
	defer close(m.done)
	if err := serve(); !errors.Is(err, http.ErrServerClosed) {
		m.err = fmt.Errorf("%s %s: metrics server stopped: %w", m.flag, addr, err)
		m.log.Error("metrics server stopped", "addr", addr, "error", err)
		close(m.failed)
	}
}

// Failed is closed when the server stops serving on its own.
func (m *metricsServer) Failed() <-chan struct{} {
	if m == nil {
		return nil
	}
	return m.failed
}

// Err says why the server stopped serving on its own; nil while it serves.
func (m *metricsServer) Err() error {
	select {
	case <-m.Failed():
		return m.err
	default:
		return nil
	}
}

// Close stops the server; a failure to close its listener is logged.
func (m *metricsServer) Close() {
	if m == nil {
		return
	}
	if err := m.srv.Close(); err != nil {
		m.log.Warn("close the metrics server", "flag", m.flag, "error", err)
	}
	<-m.done
}
