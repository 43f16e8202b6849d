package ingress

import (
	"net/http"
	"strings"

	"abusedesk/platform/httpx"
)

// ContentSecurityPolicy is what every answer allows a browser to do with it: scripts and
// styles from the desk itself only (inline style attributes stay: the server-drawn SVG charts
// use them), no frames around it, no plugins, no <base> rewriting.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

// guard wraps every route: strict security headers on every answer, and no state-changing
// request from another origin. A browser says where a request comes from (Sec-Fetch-Site, or
// Origin); one from another site, or from another port of this host, is refused with 403
// before any handler runs. Requests that no browser made (webhooks, the reports API, scripts)
// carry neither header and pass: they are authenticated by their signatures and tokens.
// trusted are origins besides the request's own host that may post (the desk's public URL,
// when a proxy in front of it changes the Host header).
func guard(next http.Handler, trusted ...string) http.Handler {
	cop := http.NewCrossOriginProtection()
	for _, o := range trusted {
		_ = cop.AddTrustedOrigin(o) // checked by TrustOrigin
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "refused: a cross-origin request may not change anything here (it came from "+origin(r)+")", http.StatusForbidden)
	}))
	checked := cop.Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		checked.ServeHTTP(w, r)
	})
}

// origin names where a browser says a request came from.
func origin(r *http.Request) string {
	if o := r.Header.Get("Origin"); o != "" {
		return o
	}
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" {
		return "a " + s + " page"
	}
	return "an unknown page"
}

// apiProblems answers a request under /api/ that no route takes (no such path: 404; another
// method: 405, with Allow) as problem+json, like every other API error, instead of the mux's
// plain text.
func apiProblems(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			mux.ServeHTTP(w, r)
			return
		}
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		rec := &statusOnly{header: http.Header{}}
		h.ServeHTTP(rec, r)
		if allow := rec.header.Get("Allow"); allow != "" {
			w.Header().Set("Allow", allow)
		}
		status := rec.status
		if status == 0 || status == http.StatusOK {
			status = http.StatusNotFound
		}
		detail := "no such API path: " + r.URL.Path
		if status == http.StatusMethodNotAllowed {
			detail = r.Method + " is not allowed on " + r.URL.Path + " (allowed: " + rec.header.Get("Allow") + ")"
		}
		httpx.Problem(w, status, detail)
	})
}

// statusOnly keeps what the mux's own not-found or not-allowed answer would have been.
type statusOnly struct {
	header http.Header
	status int
}

func (s *statusOnly) Header() http.Header         { return s.header }
func (s *statusOnly) Write(b []byte) (int, error) { return len(b), nil }
func (s *statusOnly) WriteHeader(code int)        { s.status = code }
