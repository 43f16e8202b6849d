// Package signin signs people into the dashboard through the organisation's identity provider
// (OpenID Connect, the authorization code flow, with github.com/coreos/go-oidc) and gives them
// the desk's roles from the groups in their ID token: agent, lead, legal, admin.
//
// A signed-in person carries a session cookie: their address, name and roles, signed with
// HMAC-SHA256 under the session key and valid for a working day. Nothing is kept on the server,
// so any desk process with the same key accepts it.
package signin

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"abusedesk/platform/httpx"
)

// Roles.
const (
	Agent = "agent" // works cases: triage, decisions, replies
	Lead  = "lead"  // approves escalations, reviews decisions (QA)
	Legal = "legal" // sees legal-track cases and their evidence
	Admin = "admin" // runs the desk
)

// AllRoles are the roles, in order.
var AllRoles = []string{Agent, Lead, Legal, Admin}

// Config says which IdP to use and how its groups map onto roles.
type Config struct {
	Issuer, ClientID, ClientSecret string
	// RedirectURL is the desk's callback as the IdP knows it: <public URL>/auth/callback.
	RedirectURL string
	// GroupsClaim names the ID token claim holding the person's groups ("groups").
	GroupsClaim string
	// Roles maps each role to the IdP groups that give it.
	Roles map[string][]string
	// SessionKey signs session cookies (at least 32 bytes).
	SessionKey []byte
	// SessionFor is how long a session lasts (a working day when 0).
	SessionFor time.Duration
	// Sessions keeps the sessions on the server, shared by every desk process (the ledger); nil
	// keeps them in this process (one desk process, or sessions lost at a restart).
	Sessions Sessions
	Log      *slog.Logger
}

// Sessions keeps signed-in sessions on the server: the cookie carries only the session's ID, so
// a session ends for good at sign-out (or when an admin deletes it), whoever copied the cookie.
type Sessions interface {
	PutSession(ctx context.Context, id string, p Person) error
	// Session returns the session, or false when there is none (ended, or never begun).
	Session(ctx context.Context, id string) (Person, bool, error)
	DeleteSession(ctx context.Context, id string) error
}

// MemorySessions keeps sessions in this process.
type MemorySessions struct {
	mu sync.Mutex
	m  map[string]Person
}

// PutSession implements Sessions.
func (m *MemorySessions) PutSession(_ context.Context, id string, p Person) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[string]Person{}
	}
	now := time.Now()
	for k, v := range m.m { // forget the expired
		if now.After(v.Expires) {
			delete(m.m, k)
		}
	}
	m.m[id] = p
	return nil
}

// Session implements Sessions.
func (m *MemorySessions) Session(_ context.Context, id string) (Person, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.m[id]
	return p, ok, nil
}

// DeleteSession implements Sessions.
func (m *MemorySessions) DeleteSession(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, id)
	return nil
}

// Person is who is signed in.
type Person struct {
	Email   string    `json:"email"`
	Name    string    `json:"name"`
	Roles   []string  `json:"roles"`
	Expires time.Time `json:"exp"`
}

// Has says whether the person has a role (an admin has every role but legal: legal matters stay
// with the legal team).
func (p Person) Has(role string) bool {
	return slices.Contains(p.Roles, role) || (role != Legal && slices.Contains(p.Roles, Admin))
}

// SignIn is the sign-in of one desk.
type SignIn struct {
	cfg      Config
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
}

// New discovers the IdP and checks the configuration.
func New(ctx context.Context, cfg Config) (*SignIn, error) {
	if len(cfg.SessionKey) < 32 {
		return nil, errors.New("sign-in: the session key must be at least 32 bytes (DESK_SESSION_KEY)")
	}
	if cfg.GroupsClaim == "" {
		cfg.GroupsClaim = "groups"
	}
	if cfg.SessionFor == 0 {
		cfg.SessionFor = 10 * time.Hour
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Sessions == nil {
		cfg.Sessions = &MemorySessions{}
	}
	p, err := oidc.NewProvider(ctx, cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("sign-in: the identity provider %s: %w (DESK_OIDC_ISSUER)", cfg.Issuer, err)
	}
	return &SignIn{cfg: cfg, verifier: p.Verifier(&oidc.Config{ClientID: cfg.ClientID}),
		oauth: oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Endpoint: p.Endpoint(), RedirectURL: cfg.RedirectURL,
			Scopes: []string{oidc.ScopeOpenID, "email", "profile", "groups"}}}, nil
}

// Routes mounts /login, /auth/callback and /logout.
func (s *SignIn) Routes(handle func(pattern string, h http.Handler)) {
	handle("GET /login", http.HandlerFunc(s.login))
	handle("GET /auth/callback", http.HandlerFunc(s.callback))
	handle("POST /logout", http.HandlerFunc(s.logout))
}

const (
	sessionCookie = "desk_session"
	flowCookie    = "desk_signin"
	whoCookie     = "desk_who"
)

// flow is what the browser carries from /login to the callback.
type flow struct {
	State, Nonce, Next string
	// Verifier is the PKCE code verifier (RFC 7636): the code is worth nothing without it.
	Verifier string
	Expires  time.Time
}

// SafeNext is where a sign-in may send the browser afterwards: a path of this site, else the
// work queue. Browsers read a backslash as a slash and drop tabs and newlines, so "/\evil",
// "/%09/evil" and the like, which look like paths, would leave the site: anything but a plain
// absolute path with no scheme and no host is refused.
func SafeNext(next string) string {
	const home = "/queue"
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		return home
	}
	if strings.ContainsFunc(next, func(r rune) bool { return r == '\\' || r < 0x20 || r == 0x7f }) {
		return home
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return home
	}
	return next
}

func (s *SignIn) login(w http.ResponseWriter, r *http.Request) {
	f := flow{State: random(), Nonce: random(), Next: SafeNext(r.URL.Query().Get("next")), Verifier: oauth2.GenerateVerifier(), Expires: time.Now().Add(10 * time.Minute)}
	s.setCookie(w, r, flowCookie, f, f.Expires)
	opts := []oauth2.AuthCodeOption{oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)}
	if hint := r.URL.Query().Get("login_hint"); hint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", hint))
	}
	http.Redirect(w, r, s.oauth.AuthCodeURL(f.State, opts...), http.StatusFound)
}

func (s *SignIn) callback(w http.ResponseWriter, r *http.Request) {
	var f flow
	if !s.readCookie(r, flowCookie, &f) || time.Now().After(f.Expires) || r.URL.Query().Get("state") != f.State {
		http.Error(w, "sign-in: this answer does not belong to a sign-in started here (or it took over ten minutes); start again at /login", http.StatusBadRequest)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: flowCookie, Path: "/", MaxAge: -1})
	if e := r.URL.Query().Get("error"); e != "" {
		http.Error(w, "sign-in: the identity provider said "+e+": "+r.URL.Query().Get("error_description"), http.StatusForbidden)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
	defer cancel()
	tok, err := s.oauth.Exchange(ctx, r.URL.Query().Get("code"), oauth2.VerifierOption(f.Verifier))
	if err != nil {
		s.cfg.Log.Warn("sign-in: code exchange failed", "error", err)
		http.Error(w, "sign-in: the identity provider did not exchange the code: "+err.Error(), http.StatusBadGateway)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := s.verifier.Verify(ctx, raw)
	if err != nil {
		s.cfg.Log.Warn("sign-in: ID token refused", "error", err)
		http.Error(w, "sign-in: the ID token is not valid: "+err.Error(), http.StatusForbidden)
		return
	}
	if idt.Nonce != f.Nonce {
		http.Error(w, "sign-in: the ID token's nonce is not this sign-in's", http.StatusForbidden)
		return
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		http.Error(w, "sign-in: the ID token's claims: "+err.Error(), http.StatusForbidden)
		return
	}
	if why := s.strictClaims(claims); why != "" {
		s.cfg.Log.Warn("sign-in: ID token refused", "why", why)
		http.Error(w, "sign-in: "+why, http.StatusForbidden)
		return
	}
	p := s.person(claims, idt.Subject)
	if len(p.Roles) == 0 {
		s.cfg.Log.Info("sign-in refused: no role", "email", p.Email)
		http.Error(w, fmt.Sprintf("sign-in: %s is signed in at the identity provider but is in none of the groups that give a role here (%s)", p.Email, strings.Join(AllRoles, ", ")), http.StatusForbidden)
		return
	}
	p.Expires = time.Now().Add(s.cfg.SessionFor)
	// A new session at every sign-in (a session ID planted before it is worth nothing); the
	// one this browser had ends.
	var old string
	if s.readCookie(r, sessionCookie, &old) && old != "" {
		_ = s.cfg.Sessions.DeleteSession(ctx, old)
	}
	id := random()
	if err := s.cfg.Sessions.PutSession(ctx, id, p); err != nil {
		s.cfg.Log.Error("sign-in: session not kept", "error", err)
		http.Error(w, "sign-in: the session could not be kept; try again", http.StatusServiceUnavailable)
		return
	}
	s.setCookie(w, r, sessionCookie, id, p.Expires)
	// For the page header only (the signed session is the cookie above).
	http.SetCookie(w, &http.Cookie{Name: whoCookie, Value: url.QueryEscape(cmp.Or(p.Name, p.Email) + " (" + strings.Join(p.Roles, ", ") + ")"),
		Path: "/", Expires: p.Expires, SameSite: http.SameSiteLaxMode})
	s.cfg.Log.Info("signed in", "email", p.Email, "roles", p.Roles)
	http.Redirect(w, r, f.Next, http.StatusFound)
}

// person reads who signed in and their roles from the ID token's claims.
func (s *SignIn) person(claims map[string]any, sub string) Person {
	p := Person{Email: sub}
	if e, ok := claims["email"].(string); ok && e != "" {
		p.Email = strings.ToLower(e)
	}
	p.Name, _ = claims["name"].(string)
	var groups []string
	switch g := claims[s.cfg.GroupsClaim].(type) {
	case []any:
		for _, x := range g {
			if x, ok := x.(string); ok {
				groups = append(groups, x)
			}
		}
	case string:
		groups = strings.Fields(strings.ReplaceAll(g, ",", " "))
	}
	for _, role := range AllRoles {
		for _, g := range s.cfg.Roles[role] {
			if slices.Contains(groups, g) && !slices.Contains(p.Roles, role) {
				p.Roles = append(p.Roles, role)
			}
		}
	}
	return p
}

// strictClaims says what is wrong with an ID token's claims beyond the signature, issuer,
// audience and expiry go-oidc checks ("" when nothing): an address the IdP says it has not
// verified (email_verified must be the boolean true when present: "false" as a string is not
// true), and a token for several audiences that does not name this desk as its authorised
// party (azp).
func (s *SignIn) strictClaims(claims map[string]any) string {
	if v, present := claims["email_verified"]; present && v != true {
		return fmt.Sprintf("the identity provider has not verified this person's address (email_verified is %v)", v)
	}
	if auds, ok := claims["aud"].([]any); ok && len(auds) > 1 {
		if azp, _ := claims["azp"].(string); azp != s.cfg.ClientID {
			return fmt.Sprintf("the ID token is for several audiences and names %q, not this desk, as its authorised party (azp)", azp)
		}
	}
	return ""
}

func (s *SignIn) logout(w http.ResponseWriter, r *http.Request) {
	var id string
	if s.readCookie(r, sessionCookie, &id) && id != "" {
		if err := s.cfg.Sessions.DeleteSession(r.Context(), id); err != nil {
			s.cfg.Log.Error("sign-out: the session could not be ended", "error", err)
			http.Error(w, "sign-out: the session could not be ended; try again", http.StatusServiceUnavailable)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Path: "/", MaxAge: -1})
	http.SetCookie(w, &http.Cookie{Name: whoCookie, Path: "/", MaxAge: -1})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// Require lets a signed-in person through, with them in the request's context; others are sent
// to sign in (pages) or answered 401 (the JSON API).
func (s *SignIn) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var id string
		var p Person
		found := s.readCookie(r, sessionCookie, &id) && id != ""
		if found {
			var err error
			if p, found, err = s.cfg.Sessions.Session(r.Context(), id); err != nil {
				s.cfg.Log.Error("sign-in: sessions unreadable", "error", err)
				httpx.Problem(w, http.StatusServiceUnavailable, "the sessions cannot be read now; try again")
				return
			}
		}
		if !found || time.Now().After(p.Expires) {
			if strings.HasPrefix(r.URL.Path, "/api/") || r.Method != http.MethodGet {
				httpx.Problem(w, http.StatusUnauthorized, "sign in first (/login)")
				return
			}
			http.Redirect(w, r, "/login?"+url.Values{"next": {r.URL.RequestURI()}}.Encode(), http.StatusFound)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), personKey{}, p)))
	})
}

type personKey struct{}

// From returns who is signed in, when a Require let the request through.
func From(ctx context.Context) (Person, bool) {
	p, ok := ctx.Value(personKey{}).(Person)
	return p, ok
}

// setCookie writes v, signed, as an HttpOnly cookie.
func (s *SignIn) setCookie(w http.ResponseWriter, r *http.Request, name string, v any, expires time.Time) {
	b, _ := json.Marshal(v)
	payload := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: name, Value: payload + "." + s.mac(name, payload), Path: "/", Expires: expires,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil || strings.HasPrefix(s.cfg.RedirectURL, "https://")})
}

// readCookie reads a cookie setCookie wrote, refusing one whose signature does not hold.
func (s *SignIn) readCookie(r *http.Request, name string, v any) bool {
	c, err := r.Cookie(name)
	if err != nil {
		return false
	}
	payload, sig, ok := strings.Cut(c.Value, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(s.mac(name, payload))) {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	return err == nil && json.Unmarshal(b, v) == nil
}

func (s *SignIn) mac(name, payload string) string {
	m := hmac.New(sha256.New, s.cfg.SessionKey)
	m.Write([]byte(name + "\x00" + payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func random() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
