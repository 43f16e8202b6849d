package signin_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"abusedesk/app/signin"
	"abusedesk/devenv/idp"
)

// desk is a desk behind sign-in: /whoami answers who is signed in.
func desk(t *testing.T) (*httptest.Server, *idp.Server) {
	t.Helper()
	provider, err := idp.New("desk", "s3cret", []idp.Person{
		{Email: "agent@desk.example", Name: "Alex Agent", Groups: []string{"abuse-agents"}},
		{Email: "lead@desk.example", Name: "Lee Lead", Groups: []string{"abuse-agents", "abuse-leads"}},
		{Email: "legal@desk.example", Name: "Lou Legal", Groups: []string{"legal"}},
		{Email: "visitor@desk.example", Name: "Vic Visitor", Groups: []string{"marketing"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := provider.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = provider.Close() })
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	roles := map[string][]string{"agent": {"abuse-agents"}, "lead": {"abuse-leads"}, "legal": {"legal"}}
	s, err := signin.New(context.Background(), signin.Config{Issuer: provider.Issuer(), ClientID: "desk", ClientSecret: "s3cret",
		RedirectURL: srv.URL + "/auth/callback", Roles: roles, SessionKey: []byte(strings.Repeat("k", 32))})
	if err != nil {
		t.Fatal(err)
	}
	s.Routes(mux.Handle)
	mux.Handle("GET /whoami", s.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := signin.From(r.Context())
		_, _ = io.WriteString(w, p.Email+" "+strings.Join(p.Roles, ","))
	})))
	mux.Handle("GET /api/v1/x", s.Require(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})))
	return srv, provider
}

func browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar}
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestSignInGivesRolesFromGroups: each person signs in through the IdP and comes back to the
// page they wanted with the roles their groups give; one with no role is refused; without a
// session a page sends to sign-in and the API answers 401; a forged cookie is not a session.
func TestSignInGivesRolesFromGroups(t *testing.T) {
	srv, _ := desk(t)
	for email, want := range map[string]string{
		"agent@desk.example": "agent@desk.example agent",
		"lead@desk.example":  "lead@desk.example agent,lead",
		"legal@desk.example": "legal@desk.example legal",
	} {
		c := browser()
		code, body := get(t, c, srv.URL+"/login?"+url.Values{"login_hint": {email}, "next": {"/whoami"}}.Encode())
		if code != http.StatusOK || body != want {
			t.Errorf("%s: HTTP %d %q, want %q", email, code, body, want)
		}
	}
	c := browser()
	if code, body := get(t, c, srv.URL+"/login?login_hint=visitor@desk.example"); code != http.StatusForbidden || !strings.Contains(body, "none of the groups") {
		t.Errorf("a person with no role: HTTP %d %s", code, body)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(srv.URL + "/whoami")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=%2Fwhoami") {
		t.Errorf("a page without a session: HTTP %d to %s, want the sign-in", resp.StatusCode, resp.Header.Get("Location"))
	}
	if code, _ := get(t, noRedirect, srv.URL+"/api/v1/x"); code != http.StatusUnauthorized {
		t.Errorf("the API without a session: HTTP %d, want 401", code)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/whoami", nil)
	req.AddCookie(&http.Cookie{Name: "desk_session", Value: "eyJlbWFpbCI6ImV2ZUBldmlsLmV4YW1wbGUiLCJyb2xlcyI6WyJsZWdhbCJdLCJleHAiOiIyMDk5LTAxLTAxVDAwOjAwOjAwWiJ9.forged"})
	if resp, err := noRedirect.Do(req); err != nil || resp.StatusCode != http.StatusFound {
		t.Errorf("a forged session cookie was taken: %v %v", resp.StatusCode, err)
	}
	// A callback that no sign-in here started is refused.
	if code, _ := get(t, browser(), srv.URL+"/auth/callback?code=x&state=y"); code != http.StatusBadRequest {
		t.Errorf("a stray callback: HTTP %d, want 400", code)
	}
	// An offsite next is not followed.
	c = browser()
	if code, body := get(t, c, srv.URL+"/login?"+url.Values{"login_hint": {"agent@desk.example"}, "next": {"//evil.example/"}}.Encode()); code != http.StatusNotFound && !strings.Contains(body, "404") {
		t.Errorf("an offsite next: HTTP %d %q, want the desk's own /queue (404 here)", code, body)
	}
}

func TestAdminIsNotLegal(t *testing.T) {
	if (signin.Person{Roles: []string{signin.Admin}}).Has(signin.Legal) {
		t.Error("an admin sees legal matters")
	}
}

// TestSafeNext: after signing in the browser goes to a path of this site, never elsewhere,
// however the path is disguised.
func TestSafeNext(t *testing.T) {
	for next, want := range map[string]string{
		"/cases/case/acct-bank/phishing?run=r1": "/cases/case/acct-bank/phishing?run=r1",
		"/":                                     "/",
		"":                                      "/queue",
		"https://evil.example/":                 "/queue",
		"//evil.example":                        "/queue",
		"/\\evil.example":                       "/queue",
		"/\\/evil.example":                      "/queue",
		"/\t/evil.example":                      "/queue",
		"/\n/evil.example":                      "/queue",
		"\\\\evil.example":                      "/queue",
		"javascript:alert(1)":                   "/queue",
		"/%09/evil.example":                     "/%09/evil.example", // percent-encoded: a path on this site
	} {
		if got := signin.SafeNext(next); got != want {
			t.Errorf("SafeNext(%q) = %q, want %q", next, got, want)
		}
	}
}

// TestSignOutEndsTheSession: after signing out, the session's cookie (copied before, say) is no
// session any more; signing in again gives a new one.
func TestSignOutEndsTheSession(t *testing.T) {
	srv, _ := desk(t)
	c := browser()
	if code, body := get(t, c, srv.URL+"/login?"+url.Values{"login_hint": {"agent@desk.example"}, "next": {"/whoami"}}.Encode()); code != http.StatusOK || !strings.HasPrefix(body, "agent@desk.example") {
		t.Fatalf("sign in: HTTP %d %q", code, body)
	}
	u, _ := url.Parse(srv.URL)
	copied := c.Jar.Cookies(u)
	resp, err := c.Post(srv.URL+"/logout", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	thief := browser()
	thief.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	thief.Jar.SetCookies(u, copied)
	if code, body := get(t, thief, srv.URL+"/whoami"); code == http.StatusOK {
		t.Errorf("a copied cookie after sign-out: HTTP %d %q, want sent to sign in", code, body)
	}
	if code, _ := get(t, thief, srv.URL+"/api/v1/x"); code != http.StatusUnauthorized {
		t.Errorf("the API with a copied cookie after sign-out: HTTP %d, want 401", code)
	}
}
