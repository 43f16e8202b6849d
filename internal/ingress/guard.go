package ingress

import (
	"net/http"
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
