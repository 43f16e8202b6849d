// Package idp is the sandbox's identity provider: a stand-in on loopback that speaks OpenID
// Connect as an organisation's IdP does — discovery, the authorization code flow, an RS256-signed
// ID token with the person's groups, the JSON Web Key Set — with one demo person per role, so
// `desk dev --signin` signs people in exactly as production does against a real IdP.
//
// The sign-in page lists the people to sign in as (no passwords: it is a sandbox); a login_hint
// naming one of them signs them in at once, as an IdP with a session would.
package idp

import (
	"abusedesk/platform/httpx"
	"cmp"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Person is someone the IdP signs in.
type Person struct {
	Email, Name string
	Groups      []string
}

// Server is the stand-in IdP.
type Server struct {
	ClientID, ClientSecret string
	People                 []Person
	// RedirectURIs are the client's registered redirect URIs: a code goes to one of them only
	// (none registered: any absolute URI, for tests).
	RedirectURIs []string

	key    *rsa.PrivateKey
	kid    string
	issuer string
	ln     net.Listener
	srv    *http.Server

	mu    sync.Mutex
	codes map[string]grant
	// tokens are the access tokens given out, for UserInfo.
	tokens map[string]accessToken
}

// accessToken is who an access token was given for, until when.
type accessToken struct {
	person  Person
	expires time.Time
}

// grant is an authorization code waiting to be exchanged.
type grant struct {
	person             Person
	clientID, redirect string
	nonce              string
	// challenge is the PKCE code challenge (S256) the code was issued with, if any.
	challenge string
	expires   time.Time
}

// New makes an IdP for one client with the given people; Start serves it.
func New(clientID, clientSecret string, people []Person) (*Server, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(key.PublicKey.N.Bytes())
	return &Server{ClientID: clientID, ClientSecret: clientSecret, People: people, key: key,
		kid: base64.RawURLEncoding.EncodeToString(sum[:8]), codes: map[string]grant{}}, nil
}

// Start listens on addr (e.g. 127.0.0.1:0) and serves; the issuer is http://<address>.
func (s *Server) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s.ln, s.issuer = ln, "http://"+ln.Addr().String()
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return nil
}

// Issuer is the IdP's issuer URL (its discovery document is under it).
func (s *Server) Issuer() string { return s.issuer }

// Close stops the IdP.
func (s *Server) Close() error {
	if s.srv == nil {
		return nil
	}
	return s.srv.Close()
}

// Handler serves the IdP's endpoints.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", s.discovery)
	mux.HandleFunc("GET /authorize", s.authorize)
	mux.HandleFunc("POST /authorize", s.authorize)
	mux.HandleFunc("POST /token", s.token)
	mux.HandleFunc("GET /jwks", s.jwks)
	mux.HandleFunc("GET /userinfo", s.userinfo)
	return mux
}

func (s *Server) discovery(w http.ResponseWriter, _ *http.Request) {
	httpx.WriteJSON(w, http.StatusOK, map[string]any{
		"issuer":                                s.issuer,
		"authorization_endpoint":                s.issuer + "/authorize",
		"token_endpoint":                        s.issuer + "/token",
		"jwks_uri":                              s.issuer + "/jwks",
		"userinfo_endpoint":                     s.issuer + "/userinfo",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid", "email", "profile", "groups"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"claims_supported":                      []string{"sub", "email", "email_verified", "name", "groups", "nonce"},
		"code_challenge_methods_supported":      []string{"S256"},
	})
}

var chooser = template.Must(template.New("choose").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in · sandbox identity provider</title>
<style>body{font:15px system-ui,sans-serif;margin:3em auto;max-width:32em;color:#1d2330}button{display:block;width:100%;margin:.4em 0;padding:.6em;font:inherit;text-align:left;border:1px solid #c9ced8;border-radius:6px;background:#fff;cursor:pointer}small{color:#525b6b}</style></head>
<body><h1>Sign in to abusedesk</h1><p><small>Sandbox identity provider: pick who you are. A real IdP asks for a password and a second factor here.</small></p>
<form method="post" action="/authorize">{{range $k, $v := .Params}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}
{{range .People}}<button name="person" value="{{.Email}}">{{.Name}} <small>&lt;{{.Email}}&gt; · {{range $i, $g := .Groups}}{{if $i}}, {{end}}{{$g}}{{end}}</small></button>{{end}}
</form></body></html>`))

// authorize is the authorization endpoint: it checks the client and redirect, shows who to sign
// in as (or takes login_hint or the person chosen), and sends the browser back with a code.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	q := r.Form
	redirect := q.Get("redirect_uri")
	u, err := url.Parse(redirect)
	if q.Get("client_id") != s.ClientID || redirect == "" || err != nil || !u.IsAbs() ||
		(len(s.RedirectURIs) > 0 && !slices.Contains(s.RedirectURIs, redirect)) {
		// Never redirect to a URI the client did not register: the code would go there.
		http.Error(w, "unknown client_id, or a redirect_uri the client did not register", http.StatusBadRequest)
		return
	}
	fail := func(code, why string) {
		v := u.Query()
		v.Set("error", code)
		v.Set("error_description", why)
		v.Set("state", q.Get("state"))
		u.RawQuery = v.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	}
	if q.Get("response_type") != "code" {
		fail("unsupported_response_type", "only the authorization code flow")
		return
	}
	if !strings.Contains(" "+q.Get("scope")+" ", " openid ") {
		fail("invalid_scope", "openid is required")
		return
	}
	who := cmp.Or(q.Get("person"), q.Get("login_hint"))
	var person *Person
	for i := range s.People {
		if strings.EqualFold(s.People[i].Email, who) {
			person = &s.People[i]
		}
	}
	if person == nil && q.Get("prompt") == "none" {
		// No one may be asked (prompt=none), and the stand-in keeps no session of its own.
		fail("login_required", "prompt=none, and nobody is signed in here")
		return
	}
	if person == nil {
		params := map[string]string{}
		for _, k := range []string{"response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge", "code_challenge_method"} {
			params[k] = q.Get(k)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = chooser.Execute(w, map[string]any{"Params": params, "People": s.People})
		return
	}
	if m := q.Get("code_challenge_method"); q.Get("code_challenge") != "" && m != "S256" {
		fail("invalid_request", "code_challenge_method must be S256")
		return
	}
	code := randomString()
	s.mu.Lock()
	s.codes[code] = grant{person: *person, clientID: s.ClientID, redirect: redirect, nonce: q.Get("nonce"), challenge: q.Get("code_challenge"),
		expires: time.Now().Add(time.Minute)}
	s.mu.Unlock()
	v := u.Query()
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	u.RawQuery = v.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// token is the token endpoint: a code (once, within a minute, for the client and redirect it
// was issued to) for an ID token.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != s.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(s.ClientSecret)) != 1 {
		httpx.WriteJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		httpx.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	s.mu.Lock()
	g, found := s.codes[r.PostForm.Get("code")]
	delete(s.codes, r.PostForm.Get("code"))
	s.mu.Unlock()
	if !found || time.Now().After(g.expires) || g.redirect != r.PostForm.Get("redirect_uri") {
		httpx.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
		return
	}
	if g.challenge != "" {
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
			httpx.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "the code verifier does not match the challenge"})
			return
		}
	}
	now := time.Now()
	claims := map[string]any{
		"iss": s.issuer, "sub": g.person.Email, "aud": s.ClientID, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"email": g.person.Email, "email_verified": true, "name": g.person.Name, "groups": g.person.Groups,
	}
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	idToken, err := s.sign(claims)
	if err != nil {
		httpx.WriteJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error", "error_description": err.Error()})
		return
	}
	access := randomString()
	s.mu.Lock()
	if s.tokens == nil {
		s.tokens = map[string]accessToken{}
	}
	for k, v := range s.tokens {
		if now.After(v.expires) {
			delete(s.tokens, k)
		}
	}
	s.tokens[access] = accessToken{person: g.person, expires: now.Add(time.Hour)}
	s.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": 3600, "id_token": idToken})
}

// userinfo is the UserInfo endpoint (OIDC Core 5.3): the claims of whoever an access token was
// given for.
func (s *Server) userinfo(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	a, found := s.tokens[strings.TrimSpace(tok)]
	s.mu.Unlock()
	if !ok || !found || time.Now().After(a.expires) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		httpx.WriteJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"sub": a.person.Email, "email": a.person.Email, "email_verified": true,
		"name": a.person.Name, "groups": a.person.Groups})
}

func (s *Server) sign(claims map[string]any) (string, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: s.key, KeyID: s.kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

func (s *Server) jwks(w http.ResponseWriter, _ *http.Request) {
	httpx.WriteJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &s.key.PublicKey, KeyID: s.kid, Algorithm: string(jose.RS256), Use: "sig"}}})
}

func randomString() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
