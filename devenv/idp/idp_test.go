package idp

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestCodeIsOneUseAndBoundToItsVerifier: a code is exchanged once, only by its client, only with
// the PKCE verifier whose challenge it was issued with.
func TestCodeIsOneUseAndBoundToItsVerifier(t *testing.T) {
	s := start(t, nil)
	verifier := "a-verifier-that-is-long-enough-for-pkce-0123456789"
	sum := sha256.Sum256([]byte(verifier))
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	code := func() string {
		t.Helper()
		resp, err := noFollow.Get(s.Issuer() + "/authorize?" + url.Values{"response_type": {"code"}, "client_id": {"desk"}, "redirect_uri": {"http://desk.example/cb"},
			"scope": {"openid email"}, "state": {"st"}, "login_hint": {"a@desk.example"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])},
			"code_challenge_method": {"S256"}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if loc.Query().Get("state") != "st" || loc.Query().Get("code") == "" {
			t.Fatalf("authorize answered %d to %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		return loc.Query().Get("code")
	}
	exchange := func(c, verifier, secret string) (int, map[string]any) {
		t.Helper()
		return answer(t)(http.PostForm(s.Issuer()+"/token", url.Values{"grant_type": {"authorization_code"}, "code": {c}, "redirect_uri": {"http://desk.example/cb"},
			"client_id": {"desk"}, "client_secret": {secret}, "code_verifier": {verifier}}))
	}
	if status, _ := exchange(code(), verifier, "wrong"); status != http.StatusUnauthorized {
		t.Errorf("a wrong client secret: HTTP %d", status)
	}
	if status, out := exchange(code(), "another-verifier-0123456789-0123456789-0123456789", "secret"); status != http.StatusBadRequest || out["error"] != "invalid_grant" {
		t.Errorf("a wrong verifier: HTTP %d %v", status, out)
	}
	c := code()
	status, out := exchange(c, verifier, "secret")
	if id, _ := out["id_token"].(string); status != http.StatusOK || strings.Count(id, ".") != 2 {
		t.Fatalf("the right verifier: HTTP %d %v", status, out)
	}
	if status, _ := exchange(c, verifier, "secret"); status != http.StatusBadRequest {
		t.Errorf("the same code again: HTTP %d, want 400", status)
	}
}

// TestAuthorizeRefusals: a plain PKCE challenge is refused (and the IdP still answers the next
// request: it used to stay locked), and a redirect URI the client did not register gets no code.
func TestAuthorizeRefusals(t *testing.T) {
	s := start(t, []string{"http://desk.example/cb"})
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	authorize := func(redirect, method string) *http.Response {
		t.Helper()
		resp, err := noFollow.Get(s.Issuer() + "/authorize?" + url.Values{"response_type": {"code"}, "client_id": {"desk"}, "redirect_uri": {redirect},
			"scope": {"openid"}, "state": {"st"}, "login_hint": {"a@desk.example"}, "code_challenge": {"abc"}, "code_challenge_method": {method}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for i := 0; i < 2; i++ {
		resp := authorize("http://desk.example/cb", "plain")
		if loc, _ := url.Parse(resp.Header.Get("Location")); resp.StatusCode != http.StatusFound || loc.Query().Get("error") != "invalid_request" {
			t.Fatalf("plain PKCE (try %d): %d %s, want an invalid_request answer", i+1, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if resp := authorize("https://evil.example/cb", "S256"); resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
		t.Errorf("an unregistered redirect URI: %d to %q, want 400 and no redirect", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp := authorize("http://desk.example/cb", "S256"); resp.StatusCode != http.StatusFound || !strings.Contains(resp.Header.Get("Location"), "code=") {
		t.Errorf("the registered redirect URI: %d %s, want a code", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestUserInfoAndPromptNone: an access token reads its person's claims at the UserInfo
// endpoint (another token does not); prompt=none without a person is login_required.
func TestUserInfoAndPromptNone(t *testing.T) {
	s := start(t, nil)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	authorize := func(extra url.Values) *url.URL {
		t.Helper()
		v := url.Values{"response_type": {"code"}, "client_id": {"desk"}, "redirect_uri": {"http://desk.example/cb"}, "scope": {"openid"}, "state": {"st"}}
		for k, x := range extra {
			v[k] = x
		}
		resp, err := noFollow.Get(s.Issuer() + "/authorize?" + v.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		return loc
	}
	if loc := authorize(url.Values{"prompt": {"none"}}); loc == nil || loc.Query().Get("error") != "login_required" {
		t.Errorf("prompt=none with nobody: %v, want login_required", loc)
	}
	code := authorize(url.Values{"login_hint": {"a@desk.example"}}).Query().Get("code")
	resp, err := http.PostForm(s.Issuer()+"/token", url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"http://desk.example/cb"},
		"client_id": {"desk"}, "client_secret": {"secret"}})
	if err != nil {
		t.Fatal(err)
	}
	var tok map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	info := func(token string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodGet, s.Issuer()+"/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		return answer(t)(http.DefaultClient.Do(req))
	}
	access, _ := tok["access_token"].(string)
	if code, out := info(access); code != http.StatusOK || out["email"] != "a@desk.example" {
		t.Errorf("userinfo: %d %v", code, out)
	}
	if code, _ := info("not-a-token"); code != http.StatusUnauthorized {
		t.Errorf("userinfo with a wrong token: %d, want 401", code)
	}
}

// start runs an IdP for client "desk" (secret "secret") with one person, a@desk.example, until
// the test ends; redirects, when given, are the client's registered redirect URIs.
func start(t *testing.T, redirects []string) *Server {
	t.Helper()
	s, err := New("desk", "secret", []Person{{Email: "a@desk.example", Name: "A", Groups: []string{"g"}}})
	if err != nil {
		t.Fatal(err)
	}
	s.RedirectURIs = redirects
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// answer reads a JSON answer: its status and its object (a failed request fails the test).
func answer(t *testing.T) func(*http.Response, error) (int, map[string]any) {
	return func(resp *http.Response, err error) (int, map[string]any) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
}
