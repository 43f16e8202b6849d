package ingress

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"abusedesk/internal/metrics"
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
