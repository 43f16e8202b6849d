package ingress

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"abusedesk/platform/metrics"
)

// TestGuard: every answer carries the security headers; a state-changing request that a
// browser says comes from another site, or another port of this host, is refused before the
// handler runs; the same request from the desk's own pages, or from no browser at all (a
// webhook), goes through.
func TestGuard(t *testing.T) {
	s := New(slog.New(slog.NewTextHandler(io.Discard, nil)), metrics.New("test"))
	var posted int
	s.Handle("POST /cases/{id}/reply", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { posted++ }))
	if err := s.TrustOrigin("https://desk.example.com"); err != nil {
		t.Fatal(err)
	}
	if err := s.TrustOrigin("not a url"); err == nil {
		t.Error("TrustOrigin took a malformed origin")
	}
	if err := s.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve() }()
	t.Cleanup(func() { _ = s.srv.Close() })
	base := "http://" + s.Addr()

	post := func(header map[string]string) (int, http.Header, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, base+"/cases/c1/reply", strings.NewReader("text=hello"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	for _, tc := range []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"another site (fetch metadata)", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, http.StatusForbidden},
		{"another port of this host", map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "http://127.0.0.1:1"}, http.StatusForbidden},
		{"another site (an old browser: Origin only)", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"the desk's own page", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": base}, http.StatusOK},
		{"the desk's own page (Origin only)", map[string]string{"Origin": base}, http.StatusOK},
		{"the desk's public URL (a proxy in front)", map[string]string{"Origin": "https://desk.example.com"}, http.StatusOK},
		{"no browser (a webhook)", nil, http.StatusOK},
	} {
		before := posted
		code, h, body := post(tc.header)
		if code != tc.want {
			t.Errorf("%s: %d %q, want %d", tc.name, code, body, tc.want)
		}
		if ran := posted > before; ran != (tc.want == http.StatusOK) {
			t.Errorf("%s: the handler ran=%v", tc.name, ran)
		}
		for _, k := range []string{"Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options"} {
			if h.Get(k) == "" {
				t.Errorf("%s: no %s header", tc.name, k)
			}
		}
	}
	// An API path no route takes answers problem+json, like every other API error.
	s.mux.Handle("POST /api/v1/things", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for _, tc := range []struct {
		method, path string
		want         int
	}{{http.MethodGet, "/api/v1/nothing-here", http.StatusNotFound}, {http.MethodGet, "/api/v1/things", http.StatusMethodNotAllowed}} {
		req, _ := http.NewRequest(tc.method, base+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want || resp.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(string(b), `"status":`) {
			t.Errorf("%s %s: %d %s %s, want %d as problem+json", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), b, tc.want)
		}
		if tc.want == http.StatusMethodNotAllowed && !strings.Contains(resp.Header.Get("Allow"), "POST") {
			t.Errorf("405 without Allow: %v", resp.Header)
		}
	}

	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("a GET's headers: %v", resp.Header)
	}
}

// TestMetricsToken: with a token set, /metrics answers only Prometheus with it; without one it
// is open.
func TestMetricsToken(t *testing.T) {
	s := New(slog.New(slog.NewTextHandler(io.Discard, nil)), metrics.New("test"))
	if err := s.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve() }()
	t.Cleanup(func() { _ = s.srv.Close() })
	get := func(token string) int {
		req, _ := http.NewRequest(http.MethodGet, "http://"+s.Addr()+"/metrics", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(""); code != http.StatusOK {
		t.Errorf("no token set, none sent: %d, want 200", code)
	}
	s.RequireMetricsToken("scrape-me")
	for token, want := range map[string]int{"": http.StatusUnauthorized, "wrong": http.StatusUnauthorized, "scrape-me": http.StatusOK} {
		if code := get(token); code != want {
			t.Errorf("token %q: %d, want %d", token, code, want)
		}
	}
}

// TestCSRFToken: a form a browser sends with its credentials (a cookie, HTTP basic auth) is
// taken only with the token the desk gave that browser for its session: none, another
// browser's, one from before the session changed, or one a page could compute are refused; the
// token from GET /auth/csrf, as a field or a header, goes through. Requests without ambient
// credentials (webhooks, bearer-token APIs) and JSON bodies need none.
func TestCSRFToken(t *testing.T) {
	s := New(slog.New(slog.NewTextHandler(io.Discard, nil)), metrics.New("test"))
	s.SetCSRFKey(CSRFKeyFrom("shared secret"))
	var posted []string
	s.Handle("POST /qa/{id}", http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { posted = append(posted, r.FormValue("verdict")) }))
	if err := s.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve() }()
	t.Cleanup(func() { _ = s.srv.Close() })
	base := "http://" + s.Addr()

	browser := func() *http.Client {
		jar, _ := cookiejar.New(nil)
		return &http.Client{Jar: jar}
	}
	token := func(c *http.Client) string {
		t.Helper()
		resp, err := c.Get(base + CSRFPath)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct{ Token string }
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Token == "" || resp.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("GET %s: %v %+v %v", CSRFPath, err, out, resp.Header)
		}
		return out.Token
	}
	post := func(c *http.Client, contentType, body string, header map[string]string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, base+"/qa/1", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	const form = "application/x-www-form-urlencoded"
	alice, bob := browser(), browser()
	tokA, tokB := token(alice), token(bob)
	if tokA == tokB {
		t.Fatal("two browsers got one token")
	}
	u, _ := url.Parse(base)
	signIn := func(c *http.Client, session string) {
		c.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: session, Path: "/"}})
	}
	signIn(alice, "session-1")
	tokA1 := token(alice)
	for _, tc := range []struct {
		name   string
		c      *http.Client
		ct     string
		body   string
		header map[string]string
		want   int
		says   string
	}{
		{"no token", alice, form, "verdict=agree", nil, http.StatusForbidden, "carries no CSRF token"},
		{"another browser's token", alice, form, "verdict=agree&csrf=" + tokB, nil, http.StatusForbidden, "not this browser's"},
		{"a token from before sign-in", alice, form, "verdict=agree&csrf=" + tokA, nil, http.StatusForbidden, "not this browser's"},
		{"text/plain without a token", alice, "text/plain", `{"verdict":"agree"}`, nil, http.StatusForbidden, "carries no CSRF token"},
		{"basic auth, no cookie, no token", http.DefaultClient, form, "verdict=agree", map[string]string{"Authorization": "Basic c29tZW9uZTpwdw=="}, http.StatusForbidden, "no desk_csrf cookie"},
		{"the token as a field", alice, form, "verdict=agree&csrf=" + tokA1, nil, http.StatusOK, ""},
		{"the token as a header", alice, form, "verdict=header", map[string]string{CSRFHeader: tokA1}, http.StatusOK, ""},
		{"JSON (a page elsewhere cannot send it unasked)", alice, "application/json", `{}`, nil, http.StatusOK, ""},
		{"no ambient credentials (a webhook, a bearer token)", http.DefaultClient, form, "verdict=hook", map[string]string{"Authorization": "Bearer t"}, http.StatusOK, ""},
	} {
		before := len(posted)
		code, body := post(tc.c, tc.ct, tc.body, tc.header)
		if code != tc.want || !strings.Contains(body, tc.says) {
			t.Errorf("%s: %d %q, want %d saying %q", tc.name, code, body, tc.want, tc.says)
		}
		if ran := len(posted) > before; ran != (tc.want == http.StatusOK) {
			t.Errorf("%s: the handler ran=%v", tc.name, ran)
		}
	}
	if got := strings.Join(posted, " "); got != "agree header  hook" {
		t.Errorf("the handlers read %q; want the field-token form's verdict, the header one's, none from JSON, the webhook's", got)
	}
	// Another process with the same secret takes the token; one with another secret does not.
	if (csrf{key: CSRFKeyFrom("shared secret")}).token(withCookies(alice, u), mustCookie(t, alice, u)) != tokA1 {
		t.Error("a second ingress with the shared secret computes another token")
	}
	if (csrf{key: CSRFKeyFrom("other")}).token(withCookies(alice, u), mustCookie(t, alice, u)) == tokA1 {
		t.Error("another secret computes the same token")
	}
}

func withCookies(c *http.Client, u *url.URL) *http.Request {
	r, _ := http.NewRequest(http.MethodGet, u.String(), nil)
	for _, k := range c.Jar.Cookies(u) {
		r.AddCookie(k)
	}
	return r
}

func mustCookie(t *testing.T, c *http.Client, u *url.URL) string {
	t.Helper()
	for _, k := range c.Jar.Cookies(u) {
		if k.Name == csrfCookie {
			return k.Value
		}
	}
	t.Fatal("no desk_csrf cookie")
	return ""
}
