package ingress

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/http"
	"strings"
)

// Every state-changing request a browser sends with the person's credentials carries a token
// the desk gave this browser: the dashboard's script asks for it (GET CSRFPath) when a form is
// submitted and sends it as the form's CSRFField. The token is a MAC of this browser's own
// cookie (desk_csrf, HttpOnly, minted by the desk) and of its session, under a key only the desk
// has: a page elsewhere can neither read it (the answer is same-origin only) nor compute it,
// not even a page on another port of this host that can set cookies here. This stands beside
// the Origin check (guard), so a browser that sends no Origin is covered too.
const (
	// CSRFPath answers {"token": "…"} for this browser.
	CSRFPath = "/auth/csrf"
	// CSRFField is the form field, and CSRFHeader the header, that carry the token.
	CSRFField  = "csrf"
	CSRFHeader = "X-CSRF-Token"

	csrfCookie    = "desk_csrf"
	sessionCookie = "desk_session" // signin's: a token is good for one session only
)

// csrf checks the token of state-changing requests that carry ambient credentials (cookies
// or HTTP basic auth, which a browser adds by itself) in a body a page elsewhere could send
// without asking (a form's, or text/plain). Requests with neither (webhooks, the reports and
// cases APIs with their bearer tokens, JSON a page elsewhere cannot send unasked) pass: they
// are authenticated otherwise.
type csrf struct {
	key []byte
	// public are the paths of public forms (Server.HandlePublic): no token asked.
	public map[string]bool
}

func (c csrf) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bound, hasCookie := c.binding(r)
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			if !hasCookie {
				bound = c.mint(w, r)
			}
			if r.Method == http.MethodGet && r.URL.Path == CSRFPath {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Cache-Control", "no-store")
				_ = json.NewEncoder(w).Encode(map[string]string{"token": c.token(r, bound)})
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		if !ambient(r) || !simpleBody(r) || c.public[r.URL.Path] {
			next.ServeHTTP(w, r)
			return
		}
		got := r.Header.Get(CSRFHeader)
		if got == "" && formBody(r) {
			got = r.PostFormValue(CSRFField) // parses the form; the handler reads it from there
		}
		switch {
		case !hasCookie:
			http.Error(w, "refused: this browser has no desk_csrf cookie yet; reload the page and try again", http.StatusForbidden)
		case got == "":
			http.Error(w, "refused: the request carries no CSRF token ("+CSRFField+" field or "+CSRFHeader+" header); reload the page and try again", http.StatusForbidden)
		case subtle.ConstantTimeCompare([]byte(got), []byte(c.token(r, bound))) != 1:
			http.Error(w, "refused: the request's CSRF token is not this browser's; reload the page and try again", http.StatusForbidden)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// binding is what a token is bound to: the browser's desk_csrf cookie and its session.
func (c csrf) binding(r *http.Request) (string, bool) {
	k, err := r.Cookie(csrfCookie)
	if err != nil || k.Value == "" {
		return "", false
	}
	return k.Value, true
}

// mint gives the browser its desk_csrf cookie.
func (c csrf) mint(w http.ResponseWriter, r *http.Request) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: v, Path: "/", HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	return v
}

func (c csrf) token(r *http.Request, bound string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte("abusedesk csrf\x00" + bound + "\x00"))
	if s, err := r.Cookie(sessionCookie); err == nil {
		m.Write([]byte(s.Value))
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// ambient: the browser added credentials by itself.
func ambient(r *http.Request) bool {
	if r.Header.Get("Cookie") != "" {
		return true
	}
	a := r.Header.Get("Authorization")
	return len(a) > 6 && strings.EqualFold(a[:6], "basic ")
}

// simpleBody: a body a page elsewhere may send without the browser asking the desk first (a
// CORS "simple" content type, or none).
func simpleBody(r *http.Request) bool {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "", "application/x-www-form-urlencoded", "multipart/form-data", "text/plain":
		return true
	}
	return false
}

func formBody(r *http.Request) bool {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return ct == "application/x-www-form-urlencoded"
}

// newCSRFKey is a key for this process alone.
func newCSRFKey() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}

// CSRFKeyFrom derives the token key from a secret every desk process shares (the session key,
// or the dashboard password), so a token one ingress gave is good at another.
func CSRFKeyFrom(secret string) []byte {
	k := sha256.Sum256([]byte("abusedesk csrf key\x00" + secret))
	return k[:]
}
