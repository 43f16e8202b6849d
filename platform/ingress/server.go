// Package ingress is abusedesk's HTTP server: health and readiness probes, Prometheus metrics,
// and the routes other components mount on it (the reports API, Zendesk and Slack webhooks, the
// dashboard).
package ingress

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"abusedesk/platform/httpx"
	"abusedesk/platform/metrics"
)

// ReadyCheck reports whether one dependency is ready; a non-nil error says why not.
type ReadyCheck struct {
	Name  string
	Check func(ctx context.Context) error
}

// Server serves the process's HTTP routes on one listener.
type Server struct {
	mux     *http.ServeMux
	log     *slog.Logger
	metrics *metrics.Metrics

	mu       sync.Mutex
	checks   []ReadyCheck
	patterns []string
	trusted  []string
	// metricsToken guards /metrics ("": open).
	metricsToken string
	// csrfKey keys the CSRF tokens (csrf.go).
	csrfKey []byte
	// public are the exact paths of forms anyone may post without credentials (HandlePublic).
	public map[string]bool

	srv *http.Server
	ln  net.Listener
}

// New makes a server with /healthz, /readyz and /metrics mounted.
func New(log *slog.Logger, m *metrics.Metrics) *Server {
	s := &Server{mux: http.NewServeMux(), log: log, metrics: m, csrfKey: newCSRFKey()}
	metricsHandler := promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	s.mux.HandleFunc("GET /readyz", s.ready)
	s.mux.Handle("GET /metrics", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		token := s.metricsToken
		s.mu.Unlock()
		if token != "" && !httpx.HasBearer(r, token) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="abusedesk metrics"`)
			http.Error(w, "/metrics needs its bearer token (DESK_METRICS_TOKEN)", http.StatusUnauthorized)
			return
		}
		metricsHandler.ServeHTTP(w, r)
	}))
	return s
}

// RequireMetricsToken makes /metrics answer only requests that carry token as a bearer token.
func (s *Server) RequireMetricsToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.metricsToken = token
}

// Handle mounts a handler on a ServeMux pattern such as "POST /api/v1/reports".
func (s *Server) Handle(pattern string, h http.Handler) {
	s.mux.Handle(pattern, h)
	s.mu.Lock()
	s.patterns = append(s.patterns, pattern)
	s.mu.Unlock()
}

// HandlePublic mounts the handler of a public form at pattern ("POST /notice"): one that acts
// with no one's credentials (it ignores the session and cookies), so it takes posts without the
// CSRF token a browser's session would need. The Origin check (guard) still holds; the handler
// must do nothing a visitor's session allows.
func (s *Server) HandlePublic(pattern string, h http.Handler) {
	s.Handle(pattern, h)
	_, path, ok := strings.Cut(pattern, " ")
	if !ok {
		path = pattern
	}
	s.mu.Lock()
	if s.public == nil {
		s.public = map[string]bool{}
	}
	s.public[path] = true
	s.mu.Unlock()
}

// Patterns lists the patterns mounted so far, in the order they were.
func (s *Server) Patterns() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.patterns)
}

// SetCSRFKey keys the CSRF tokens (see CSRFKeyFrom); without it each process has its own.
// Call it before Serve.
func (s *Server) SetCSRFKey(key []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.csrfKey = key
}

// TrustOrigin lets pages of another origin (scheme://host[:port]) post to the desk: its public
// URL when a proxy in front of it changes the Host header. Call it before Serve.
func (s *Server) TrustOrigin(origin string) error {
	if err := http.NewCrossOriginProtection().AddTrustedOrigin(origin); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trusted = append(s.trusted, origin)
	return nil
}

// AddReadyCheck makes /readyz fail while check fails.
func (s *Server) AddReadyCheck(c ReadyCheck) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checks = append(s.checks, c)
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	checks := append([]ReadyCheck(nil), s.checks...)
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	var failed bool
	var body []byte
	for _, c := range checks {
		if err := c.Check(ctx); err != nil {
			failed = true
			body = fmt.Appendf(body, "%s: not ready: %v\n", c.Name, err)
		} else {
			body = fmt.Appendf(body, "%s: ok\n", c.Name)
		}
	}
	if failed {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_, _ = w.Write(body)
}

// Listen binds addr (":0" picks a free port) without serving yet, so the caller learns the
// address before anything can reach it.
func (s *Server) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	s.ln = ln
	return nil
}

// Addr is the bound address (after Listen).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve serves until Shutdown; it returns nil after a clean shutdown.
func (s *Server) Serve() error {
	s.srv = &http.Server{
		Handler:           s.instrument(guard(csrf{key: s.csrfKey, public: s.public}.wrap(apiProblems(s.mux)), s.trusted...)),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http server: %w", err)
	}
	return nil
}

// Shutdown stops accepting requests and waits (bounded by ctx) for running ones.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.srv == nil {
		if s.ln != nil {
			return s.ln.Close()
		}
		return nil
	}
	return s.srv.Shutdown(ctx)
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(sw, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		s.metrics.HTTPRequests.WithLabelValues(route, strconv.Itoa(sw.code)).Inc()
	})
}
