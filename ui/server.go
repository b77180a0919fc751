package ui

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"sync"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/flowpol/flowpol/generator"
	"github.com/flowpol/flowpol/topology"
)

// TokenHeader carries the token on every write.
const TokenHeader = "X-Flowpol-Token"

// maxBody bounds a request's body: the edits of a page.
const maxBody = 16 << 20

// Options configure a Server.
type Options struct {
	// Window is what the page shows and generates from.
	Window *topology.Window
	// Generate are the generator's options without the overrides, which
	// the server reads from OverridesPath for every answer.
	Generate generator.Options
	// OverridesPath is the overrides file the page edits; it need not
	// exist yet. Empty: the page can preview, but not save.
	OverridesPath string
	// Policies, with HavePolicies, are the policies there: the page shows
	// the flows they would deny, and the diff of what generate gives
	// against them.
	Policies     []networkingv1.NetworkPolicy
	HavePolicies bool
	// Token is what every request must carry; empty makes a random one.
	Token string
}

// Server is the review page and its API.
type Server struct {
	opts   Options
	token  string
	assets fs.FS
	mux    *http.ServeMux
	// saving serialises the writes of the overrides file.
	saving sync.Mutex
}

// New makes a Server.
func New(opts Options) (*Server, error) {
	if opts.Window == nil {
		return nil, errors.New("ui: no window")
	}
	a, err := assets()
	if err != nil {
		return nil, err
	}
	if _, err := fs.Stat(a, "index.html"); err != nil {
		return nil, fmt.Errorf("ui: the built page is missing (make ui): %w", err)
	}
	s := &Server{opts: opts, token: opts.Token, assets: a, mux: http.NewServeMux()}
	if s.token == "" {
		b := make([]byte, 24)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		s.token = hex.EncodeToString(b)
	}
	s.mux.HandleFunc("GET /api/model", s.handleModel)
	s.mux.HandleFunc("POST /api/preview", s.handlePreview)
	s.mux.HandleFunc("POST /api/save", s.handleSave)
	s.mux.Handle("GET /", http.FileServerFS(a))
	return s, nil
}

// Token is the token requests must carry.
func (s *Server) Token() string { return s.token }

// URL is the page's address for a listener's address, with the token.
func (s *Server) URL(addr net.Addr) string {
	return "http://" + addr.String() + "/?token=" + s.token
}

// ServeHTTP checks the token, then serves the page or the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !loopbackHost(r.Host) && !s.sameHost(r) {
		http.Error(w, "unexpected Host", http.StatusForbidden)
		return
	}
	if code := s.authorize(w, r); code != 0 {
		http.Error(w, http.StatusText(code), code)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; frame-ancestors 'none'")
	s.mux.ServeHTTP(w, r)
}

// authorize returns 0 when the request may go on, else the status to
// answer: 401 without a token, 403 with a wrong one or a write without
// the header. A page address with the right token sets a cookie, per
// port, for the assets the page loads.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) int {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h := r.Header.Get(TokenHeader)
		switch {
		case h == "":
			return http.StatusForbidden // a cookie alone never writes
		case !s.valid(h):
			return http.StatusForbidden
		}
		return 0
	}
	if q := r.URL.Query().Get("token"); q != "" {
		if !s.valid(q) {
			return http.StatusForbidden
		}
		http.SetCookie(w, &http.Cookie{Name: s.cookieName(r), Value: s.token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		return 0
	}
	if h := r.Header.Get(TokenHeader); h != "" {
		if !s.valid(h) {
			return http.StatusForbidden
		}
		return 0
	}
	c, err := r.Cookie(s.cookieName(r))
	if err != nil {
		return http.StatusUnauthorized
	}
	if !s.valid(c.Value) {
		return http.StatusForbidden
	}
	return 0
}

func (s *Server) valid(t string) bool {
	return subtle.ConstantTimeCompare([]byte(t), []byte(s.token)) == 1
}

// cookieName is per port: cookies do not tell ports apart, and two pages
// may be open at once.
func (s *Server) cookieName(r *http.Request) string {
	_, port, err := net.SplitHostPort(r.Host)
	if err != nil {
		port = "80"
	}
	return "flowpol-ui-" + port
}

// loopbackHost reports whether a Host header names this machine's loopback,
// so that a name rebound to 127.0.0.1 by another site is refused.
func loopbackHost(host string) bool {
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		h = host
	}
	h = strings.Trim(h, "[]")
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// sameHost accepts the address the server was reached at when it listens
// on another address than loopback, as --listen may ask.
func (s *Server) sameHost(r *http.Request) bool {
	local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	return ok && local.String() == r.Host
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		// The client went away; nothing to tell it.
		return
	}
}

// apiError is an error the page shows as it is.
type apiError struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if err := json.NewEncoder(w).Encode(apiError{Error: err.Error()}); err != nil {
		return
	}
}
