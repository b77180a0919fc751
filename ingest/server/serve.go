package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Connection limits of HTTPServer's servers.
const (
	// headerTimeout bounds the time to send a request's headers.
	headerTimeout = 10 * time.Second
	// idleTimeout closes a keep-alive connection idle this long.
	idleTimeout = 2 * time.Minute
	// maxHeaderBytes bounds a request's headers.
	maxHeaderBytes = 64 << 10
)

// HTTPServer is an http.Server for h, over TLS when tlsCfg is set, that
// bounds what a client may hold: its request headers must arrive within
// 10 s, an idle connection is closed after 2 minutes, and headers are at
// most 64 KiB. A Server paces the bodies itself (Options.MinBodyRate).
func HTTPServer(h http.Handler, tlsCfg *tls.Config) *http.Server {
	return &http.Server{Handler: h, TLSConfig: tlsCfg, ReadHeaderTimeout: headerTimeout,
		IdleTimeout: idleTimeout, MaxHeaderBytes: maxHeaderBytes}
}

// Endpoint is an http.Server and the listener it serves, over TLS when
// the server has a TLSConfig.
type Endpoint struct {
	Server   *http.Server
	Listener net.Listener
}

// Serve serves every endpoint until ctx ends or one of them fails; then it
// shuts them all down, letting the requests in flight finish for up to
// grace before it cuts them off. It returns why a server failed, naming
// its address, or nil when ctx ended.
func Serve(ctx context.Context, grace time.Duration, eps ...Endpoint) error {
	errs := make(chan error, len(eps))
	for _, ep := range eps {
		go func() { errs <- ep.serve() }()
	}
	var failed error
	running := len(eps)
	select {
	case <-ctx.Done():
	case failed = <-errs:
		running--
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	for _, ep := range eps {
		failed = errors.Join(failed, ep.shutdown(shutdownCtx))
	}
	for range running {
		failed = errors.Join(failed, <-errs)
	}
	return failed
}

// serve serves until the server is shut down (nil) or fails.
func (ep Endpoint) serve() error {
	var err error
	if ep.Server.TLSConfig != nil {
		err = ep.Server.ServeTLS(ep.Listener, "", "")
	} else {
		err = ep.Server.Serve(ep.Listener)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("serve %s: %w", ep.Listener.Addr(), err)
}

// shutdown lets the requests in flight finish until ctx ends, then cuts
// them off: agents send their batches again.
func (ep Endpoint) shutdown(ctx context.Context) error {
	err := ep.Server.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = ep.Server.Close()
	}
	if err != nil {
		return fmt.Errorf("shut down %s: %w", ep.Listener.Addr(), err)
	}
	return nil
}
