// Package enforcementapi is the reference implementation of the enforcement API contract
// (integrations/enforcement/openapi.yaml): accounts owning IP ranges (over time), domains,
// sender addresses and CFBL feedback IDs; actions that go pending → active and lifting →
// lifted; idempotency keys; bearer auth; problem+json errors and 429 with Retry-After. The
// sandbox serves it with demo accounts, and the client's tests run against it.
package enforcementapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"abusedesk/devenv/faults"
	"abusedesk/integrations/enforcement/wire"
)

// Account is a customer account in the fake.
type Account struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	ContactEmail    string `json:"contact_email"`
	Locale          string `json:"locale"`
	Tier            string `json:"tier"`
	PriorViolations int    `json:"prior_violations"`
	// CreatedAt is when the account was opened (zero: not said).
	CreatedAt   time.Time `json:"created_at,omitzero"`
	Ranges      []Range   `json:"ranges,omitempty"`
	Domains     []string  `json:"domains,omitempty"`
	Senders     []string  `json:"senders,omitempty"`
	FeedbackIDs []string  `json:"feedback_ids,omitempty"`
	// Phones are the account's phone numbers (E.164), SenderIDs its SMS sender IDs and short
	// codes.
	Phones    []string `json:"phones,omitempty"`
	SenderIDs []string `json:"sender_ids,omitempty"`
	// Campaigns are its messaging campaigns (10DLC IDs), Brands its registered brands,
	// Services its messaging services (pools of senders).
	Campaigns []string `json:"campaigns,omitempty"`
	Brands    []string `json:"brands,omitempty"`
	Services  []string `json:"messaging_services,omitempty"`
}

// held is the account's IDs of a kind of sending identity: phone, sender_id, campaign, brand or
// messaging_service (none for another kind).
func (a *Account) held(kind string) []string {
	switch kind {
	case "phone":
		return a.Phones
	case "sender_id":
		return a.SenderIDs
	case "campaign":
		return a.Campaigns
	case "brand":
		return a.Brands
	case "messaging_service":
		return a.Services
	}
	return nil
}

// Scope is one sending identity of an account.
type Scope struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

// Range is an IP range an account held from From until Until (zero: open-ended).
type Range struct {
	Prefix string    `json:"prefix"`
	From   time.Time `json:"from,omitzero"`
	Until  time.Time `json:"until,omitzero"`
}

// Action is an enforcement action in the fake.
type Action struct {
	ID        string     `json:"id"`
	AccountID string     `json:"account_id"`
	Type      string     `json:"type"`
	Level     int        `json:"level,omitempty"`
	State     string     `json:"state"`
	Reason    string     `json:"reason,omitempty"`
	CaseID    string     `json:"case_id,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	AppliedAt *time.Time `json:"applied_at,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	LiftedAt  *time.Time `json:"lifted_at,omitempty"`
	Error     string     `json:"error,omitempty"`
	// Overturned: lifted because it was wrong; it no longer counts as a violation.
	Overturned bool `json:"overturned,omitempty"`
	// Scope narrows the action to one phone number or sender ID of the account.
	Scope *Scope `json:"scope,omitempty"`

	liftRequested time.Time
}

type idem struct {
	hash     string
	actionID string
}

// Server is the fake enforcement API. The zero value is not usable; call New.
type Server struct {
	Token string
	// ApplyDelay is how long an action stays pending (and lifting) before it takes effect.
	ApplyDelay time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time

	mu       sync.Mutex
	accounts map[string]*Account
	actions  map[string]*Action
	order    []string
	keys     map[string]idem
	index    map[netip.Prefix][]owned // built on the first IP look-up
	faults   faults.Queue
	requests int
}

// New makes an empty API that accepts token.
func New(token string) *Server {
	return &Server{Token: token, Now: time.Now, accounts: map[string]*Account{}, actions: map[string]*Action{}, keys: map[string]idem{}}
}

// AddAccount adds or replaces an account.
func (s *Server) AddAccount(a Account) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := a
	s.accounts[a.ID] = &c
	s.index = nil
}

// Accounts lists the accounts by ID.
func (s *Server) Accounts() []Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Account, 0, len(s.accounts))
	for _, a := range s.accounts {
		out = append(out, *a)
	}
	slices.SortFunc(out, func(a, b Account) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Actions returns the account's actions (all accounts when ""), oldest first, states current.
func (s *Server) Actions(account string) []Action {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Action
	for _, id := range s.order {
		a := s.actions[id]
		s.advance(a)
		if account == "" || a.AccountID == account {
			out = append(out, *a)
		}
	}
	return out
}

// Requests counts the requests served.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Inject makes the next n requests whose path starts with prefix answer status (with a
// Retry-After header when retryAfter is not empty).
func (s *Server) Inject(prefix string, status int, retryAfter string, n int) {
	s.faults.Add(faults.Fault{Prefix: prefix, Status: status, RetryAfter: retryAfter}, n)
}

// InjectDelay makes the next n requests under prefix wait d before being served.
func (s *Server) InjectDelay(prefix string, d time.Duration, n int) {
	s.faults.Add(faults.Fault{Prefix: prefix, Delay: d}, n)
}

// Handler serves the API.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/lookup", s.lookup)
	mux.HandleFunc("GET /v1/lookup/range", s.lookupRange)
	mux.HandleFunc("GET /v1/accounts/{id}", s.getAccount)
	mux.HandleFunc("POST /v1/accounts/{id}/actions", s.apply)
	mux.HandleFunc("GET /v1/accounts/{id}/actions", s.listActions)
	mux.HandleFunc("GET /v1/accounts/{id}/messaging", s.messaging)
	mux.HandleFunc("GET /v1/actions/{id}", s.getAction)
	mux.HandleFunc("POST /v1/actions/{id}/lift", s.lift)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if auth := r.Header.Get("Authorization"); auth != "Bearer "+s.Token {
			// RFC 6750: a 401 says which scheme to use, and whether the token was wrong.
			challenge := `Bearer realm="enforcement"`
			if auth != "" {
				challenge += `, error="invalid_token"`
			}
			w.Header().Set("WWW-Authenticate", challenge)
			problem(w, http.StatusUnauthorized, "Unauthorized", "missing or wrong bearer token")
			return
		}
		s.mu.Lock()
		s.requests++
		s.mu.Unlock()
		if !s.faults.Serve(w, r, func(w http.ResponseWriter, status int) {
			problem(w, status, http.StatusText(status), "injected failure")
		}) {
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (s *Server) lookup(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	given := 0
	keys := []string{"ip", "domain", "sender", "feedback_id", "phone", "sender_id", "campaign", "brand", "messaging_service"}
	for _, k := range keys {
		if q.Get(k) != "" {
			given++
		}
	}
	if given != 1 {
		problem(w, http.StatusBadRequest, "Bad Request", "give exactly one of "+strings.Join(keys, ", "))
		return
	}
	at, ok := s.atOf(w, q)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	answer := func(acct, kind, value string, from, until time.Time) {
		out := wire.LookupResult{AccountId: acct, ValidFrom: wire.Optional(from), ValidUntil: wire.Optional(until)}
		out.Matched.Kind, out.Matched.Value = wire.LookupResultMatchedKind(kind), value
		writeJSON(w, http.StatusOK, out)
	}
	switch {
	case q.Get("ip") != "":
		ip, err := netip.ParseAddr(strings.TrimSpace(q.Get("ip")))
		if err != nil {
			problem(w, http.StatusBadRequest, "Bad Request", fmt.Sprintf("ip: %q is not an IP address", q.Get("ip")))
			return
		}
		ip = ip.Unmap()
		if best, rg, ok := s.ownerOf(ip, at); ok {
			answer(best.ID, "ip", rg.Prefix, rg.From, rg.Until)
			return
		}
	case q.Get("domain") != "":
		if a, d := s.byDomain(q.Get("domain")); a != nil {
			answer(a.ID, "domain", d, time.Time{}, time.Time{})
			return
		}
	case q.Get("sender") != "":
		sender := strings.ToLower(strings.TrimSpace(q.Get("sender")))
		for _, a := range s.sortedAccounts() {
			if slices.Contains(a.Senders, sender) {
				answer(a.ID, "sender", sender, time.Time{}, time.Time{})
				return
			}
		}
		if _, domain, ok := strings.Cut(sender, "@"); ok {
			if a, d := s.byDomain(domain); a != nil {
				answer(a.ID, "domain", d, time.Time{}, time.Time{})
				return
			}
		}
	case q.Get("feedback_id") != "":
		for _, a := range s.sortedAccounts() {
			if slices.Contains(a.FeedbackIDs, q.Get("feedback_id")) {
				answer(a.ID, "feedback_id", q.Get("feedback_id"), time.Time{}, time.Time{})
				return
			}
		}
	case q.Get("phone") != "":
		phone := strings.TrimSpace(q.Get("phone"))
		if !validE164(phone) {
			problem(w, http.StatusBadRequest, "Bad Request", fmt.Sprintf("phone: %q is not an E.164 number like +447700900123", phone))
			return
		}
		for _, a := range s.sortedAccounts() {
			if slices.Contains(a.Phones, phone) {
				answer(a.ID, "phone", phone, time.Time{}, time.Time{})
				return
			}
		}
	default:
		for _, kind := range []string{"sender_id", "campaign", "brand", "messaging_service"} {
			if id := strings.TrimSpace(q.Get(kind)); id != "" {
				if a, held := s.holderOf(kind, id); a != nil {
					answer(a.ID, kind, held, time.Time{}, time.Time{})
					return
				}
			}
		}
	}
	problem(w, http.StatusNotFound, "Not Found", "the address belongs to no account")
}

// atOf reads a look-up's "at" (default now); it answers 400 itself when the time is wrong.
func (s *Server) atOf(w http.ResponseWriter, q url.Values) (time.Time, bool) {
	v := q.Get("at")
	if v == "" {
		return s.Now(), true
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		problem(w, http.StatusBadRequest, "Bad Request", fmt.Sprintf("at: %q is not an RFC 3339 time", v))
		return time.Time{}, false
	}
	return t, true
}

// validE164 reports whether s is "+" and 8 to 15 digits, not starting with 0.
func validE164(s string) bool {
	if len(s) < 9 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// minRangeBits are the widest ranges a range look-up answers: wider ones are refused (400).
const minRangeBits4, minRangeBits6 = 16, 32

// lookupRange answers every account that held an address of a range at a time: a listing of
// a /26 is about every customer in it.
func (s *Server) lookupRange(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p, err := netip.ParsePrefix(strings.TrimSpace(q.Get("cidr")))
	if err != nil {
		problem(w, http.StatusBadRequest, "Bad Request", fmt.Sprintf("cidr: %q is not a range like 192.0.2.64/26", q.Get("cidr")))
		return
	}
	p = p.Masked()
	if (p.Addr().Is4() && p.Bits() < minRangeBits4) || (p.Addr().Is6() && p.Bits() < minRangeBits6) {
		problem(w, http.StatusBadRequest, "Bad Request", fmt.Sprintf("cidr: %s is wider than /%d (IPv4) or /%d (IPv6)", p, minRangeBits4, minRangeBits6))
		return
	}
	at, ok := s.atOf(w, q)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := wire.RangeLookupResult{Cidr: p.String(), Accounts: []wire.RangeHeld{}}
	for _, a := range s.sortedAccounts() {
		for _, rg := range a.Ranges {
			rp, err := netip.ParsePrefix(rg.Prefix)
			if err != nil || !rp.Overlaps(p) {
				continue
			}
			if (!rg.From.IsZero() && at.Before(rg.From)) || (!rg.Until.IsZero() && !at.Before(rg.Until)) {
				continue
			}
			out.Accounts = append(out.Accounts, wire.RangeHeld{AccountId: a.ID, Prefix: rp.Masked().String(), ValidFrom: wire.Optional(rg.From), ValidUntil: wire.Optional(rg.Until)})
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) byDomain(d string) (*Account, string) {
	d = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
	for d != "" {
		for _, a := range s.sortedAccounts() {
			if slices.Contains(a.Domains, d) {
				return a, d
			}
		}
		_, rest, ok := strings.Cut(d, ".")
		if !ok || !strings.Contains(rest, ".") {
			return nil, ""
		}
		d = rest
	}
	return nil, ""
}

// holderOf is the account holding a sending identity's ID — a sender ID, campaign, brand or
// messaging service (the look-up's kinds), matched without regard to case — and the ID as the
// account holds it; nil when none does. The caller holds s.mu.
func (s *Server) holderOf(kind, id string) (*Account, string) {
	for _, a := range s.sortedAccounts() {
		held := a.held(kind)
		if i := slices.IndexFunc(held, func(v string) bool { return strings.EqualFold(v, id) }); i >= 0 {
			return a, held[i]
		}
	}
	return nil, ""
}

// HolderOf is the ID of the account holding a sending identity (kind sender_id, campaign,
// brand or messaging_service), "" for none.
func (s *Server) HolderOf(kind, id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, _ := s.holderOf(kind, id); a != nil {
		return a.ID
	}
	return ""
}

// OwnerOf returns the account that held ip at the time (longest prefix wins), "" for none.
func (s *Server) OwnerOf(ip string, at time.Time) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	if at.IsZero() {
		at = s.Now()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, _, ok := s.ownerOf(addr.Unmap(), at); ok {
		return a.ID
	}
	return ""
}

// owned is one range of one account in the prefix index.
type owned struct {
	account *Account
	rng     Range
}

// ownerOf finds the longest prefix holding ip at the time: one map look-up per prefix length,
// so twenty thousand accounts cost no more than five.
func (s *Server) ownerOf(ip netip.Addr, at time.Time) (*Account, Range, bool) {
	if s.index == nil {
		s.index = map[netip.Prefix][]owned{}
		for _, a := range s.sortedAccounts() {
			for _, rg := range a.Ranges {
				if p, err := netip.ParsePrefix(rg.Prefix); err == nil {
					s.index[p.Masked()] = append(s.index[p.Masked()], owned{a, rg})
				}
			}
		}
	}
	for bits := ip.BitLen(); bits >= 0; bits-- {
		p, err := ip.Prefix(bits)
		if err != nil {
			continue
		}
		for _, o := range s.index[p] {
			if (!o.rng.From.IsZero() && at.Before(o.rng.From)) || (!o.rng.Until.IsZero() && !at.Before(o.rng.Until)) {
				continue
			}
			return o.account, o.rng, true
		}
	}
	return nil, Range{}, false
}

func (s *Server) sortedAccounts() []*Account {
	out := make([]*Account, 0, len(s.accounts))
	for _, a := range s.accounts {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b *Account) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func (s *Server) getAccount(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[r.PathValue("id")]
	if !ok {
		problem(w, http.StatusNotFound, "Not Found", "no account "+r.PathValue("id"))
		return
	}
	restrictions := []wire.Action{}
	prior := a.PriorViolations
	for _, id := range s.order {
		act := s.actions[id]
		if act.AccountID != a.ID {
			continue
		}
		s.advance(act)
		if act.State != "failed" && !act.Overturned {
			prior++
		}
		if act.State == "active" || act.State == "lifting" {
			restrictions = append(restrictions, act.wire())
		}
	}
	writeJSON(w, http.StatusOK, wire.Account{Id: a.ID, Name: a.Name, ContactEmail: a.ContactEmail, Locale: a.Locale, Tier: wire.AccountTier(a.Tier),
		PriorViolations: prior, Restrictions: restrictions, CreatedAt: wire.Optional(a.CreatedAt)})
}

// keyAndBody reads what every state-changing call needs: its Idempotency-Key (required, at
// most 255 characters) and its body; it answers 400 itself when either is wrong.
func keyAndBody(w http.ResponseWriter, r *http.Request) (string, []byte, bool) {
	key := r.Header.Get("Idempotency-Key")
	if key == "" || len(key) > 255 {
		problem(w, http.StatusBadRequest, "Bad Request", "an Idempotency-Key header (at most 255 characters) is required")
		return "", nil, false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err != nil {
		problem(w, http.StatusBadRequest, "Bad Request", err.Error())
		return "", nil, false
	}
	return key, body, true
}

func (s *Server) apply(w http.ResponseWriter, r *http.Request) {
	key, body, ok := keyAndBody(w, r)
	if !ok {
		return
	}
	var in wire.ActionRequest
	if err := json.Unmarshal(body, &in); err != nil {
		problem(w, http.StatusBadRequest, "Bad Request", "body: "+err.Error())
		return
	}
	req := struct {
		Type, Reason, CaseID string
		Level                int
		ExpiresAt            *time.Time
		Scope                *Scope
	}{Type: string(in.Type), Reason: in.Reason, CaseID: wire.Value(in.CaseId), Level: wire.Value(in.Level), ExpiresAt: in.ExpiresAt}
	if in.Scope != nil {
		req.Scope = &Scope{Kind: string(in.Scope.Kind), Value: in.Scope.Value}
	}
	switch req.Type {
	case "throttle":
		if req.Level < 1 || req.Level > 3 {
			problem(w, http.StatusBadRequest, "Bad Request", "level: a throttle needs a level of 1 to 3")
			return
		}
	case "suspend_sending", "suspend_account", "takedown":
		if req.Level != 0 {
			problem(w, http.StatusBadRequest, "Bad Request", fmt.Sprintf("level: only a throttle has a level; %s takes none", req.Type))
			return
		}
	default:
		problem(w, http.StatusBadRequest, "Bad Request", fmt.Sprintf("type: %q is not takedown, throttle, suspend_sending or suspend_account", req.Type))
		return
	}
	if strings.TrimSpace(req.Reason) == "" {
		problem(w, http.StatusBadRequest, "Bad Request", "reason: required")
		return
	}
	var resourceHost string
	if sc := req.Scope; sc != nil {
		switch {
		case !slices.Contains([]string{"phone", "sender_id", "campaign", "messaging_service", "resource"}, sc.Kind):
			problem(w, http.StatusBadRequest, "Bad Request", fmt.Sprintf("scope.kind: %q is not phone, sender_id, campaign, messaging_service or resource", sc.Kind))
			return
		case sc.Kind == "resource" && req.Type != "takedown":
			problem(w, http.StatusBadRequest, "Bad Request", fmt.Sprintf("scope: a resource scope goes with takedown; %s acts on sending or the account", req.Type))
			return
		case sc.Kind != "resource" && req.Type == "takedown":
			problem(w, http.StatusBadRequest, "Bad Request", "scope: a takedown removes one resource: its scope must be of kind resource")
			return
		case req.Type == "suspend_account":
			problem(w, http.StatusBadRequest, "Bad Request", "scope: suspend_account acts on the whole account; a scope takes throttle or suspend_sending")
			return
		}
		if sc.Kind == "resource" {
			u, err := url.Parse(sc.Value)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
				problem(w, http.StatusBadRequest, "Bad Request", fmt.Sprintf("scope.value: %q is not an absolute http(s) URL", sc.Value))
				return
			}
			resourceHost = strings.ToLower(u.Hostname())
		}
	} else if req.Type == "takedown" {
		problem(w, http.StatusBadRequest, "Bad Request", "scope: a takedown needs the resource it removes (scope kind resource)")
		return
	}
	accountID := r.PathValue("id")
	hash := digest(accountID, canonicalJSON(body))
	s.mu.Lock()
	defer s.mu.Unlock()
	acct, ok := s.accounts[accountID]
	if !ok {
		problem(w, http.StatusNotFound, "Not Found", "no account "+accountID)
		return
	}
	if sc := req.Scope; sc != nil && sc.Kind == "resource" {
		if !hostsResource(acct, resourceHost, s.Now()) {
			problem(w, http.StatusUnprocessableEntity, "Unprocessable Entity", fmt.Sprintf("scope: %s is on no host of account %s", sc.Value, accountID))
			return
		}
	} else if sc != nil {
		owned := acct.held(sc.Kind)
		if !slices.ContainsFunc(owned, func(v string) bool { return strings.EqualFold(v, sc.Value) }) {
			problem(w, http.StatusUnprocessableEntity, "Unprocessable Entity", fmt.Sprintf("scope: account %s has no %s %s", accountID, sc.Kind, sc.Value))
			return
		}
	}
	scoped := "apply:" + key
	if prev, ok := s.keys[scoped]; ok {
		if prev.hash != hash {
			problem(w, http.StatusUnprocessableEntity, "Idempotency key reused", "the key was used for a different request")
			return
		}
		a := s.actions[prev.actionID]
		s.advance(a)
		writeJSON(w, http.StatusOK, a.wire())
		return
	}
	now := s.Now().UTC()
	a := &Action{
		ID: fmt.Sprintf("act_%06d", len(s.order)+1), AccountID: accountID, Type: req.Type, Level: req.Level,
		State: "pending", Reason: req.Reason, CaseID: req.CaseID, CreatedAt: now, ExpiresAt: req.ExpiresAt, Scope: req.Scope,
	}
	if req.Type != "throttle" {
		a.Level = 0
	}
	s.actions[a.ID] = a
	s.order = append(s.order, a.ID)
	s.keys[scoped] = idem{hash: hash, actionID: a.ID}
	s.advance(a)
	writeJSON(w, http.StatusCreated, a.wire())
}

func (s *Server) listActions(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := r.PathValue("id")
	if _, ok := s.accounts[id]; !ok {
		problem(w, http.StatusNotFound, "Not Found", "no account "+id)
		return
	}
	out := []wire.Action{}
	for i := len(s.order) - 1; i >= 0; i-- {
		a := s.actions[s.order[i]]
		if a.AccountID == id {
			s.advance(a)
			out = append(out, a.wire())
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"actions": out})
}

func (s *Server) getAction(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.actions[r.PathValue("id")]
	if !ok {
		problem(w, http.StatusNotFound, "Not Found", "no action "+r.PathValue("id"))
		return
	}
	s.advance(a)
	writeJSON(w, http.StatusOK, a.wire())
}

func (s *Server) lift(w http.ResponseWriter, r *http.Request) {
	key, body, ok := keyAndBody(w, r)
	if !ok {
		return
	}
	var req wire.LiftActionJSONRequestBody
	if err := json.Unmarshal(body, &req); err != nil || strings.TrimSpace(req.Reason) == "" {
		problem(w, http.StatusBadRequest, "Bad Request", "reason: required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.actions[r.PathValue("id")]
	if !ok {
		problem(w, http.StatusNotFound, "Not Found", "no action "+r.PathValue("id"))
		return
	}
	scoped := "lift:" + key
	hash := digest(a.ID, canonicalJSON(body))
	if prev, ok := s.keys[scoped]; ok && prev.hash != hash {
		problem(w, http.StatusUnprocessableEntity, "Idempotency key reused", "the key was used for a different request")
		return
	}
	s.keys[scoped] = idem{hash: hash, actionID: a.ID}
	s.advance(a)
	switch a.State {
	case "failed":
		problem(w, http.StatusUnprocessableEntity, "Not liftable", "the action failed and is not in force")
		return
	case "pending", "active":
		a.State = "lifting"
		a.liftRequested = s.Now().UTC()
		s.advance(a)
	}
	if wire.Value(req.Overturned) {
		a.Overturned = true
	}
	writeJSON(w, http.StatusOK, a.wire())
}

// advance moves an action along its states as time passes.
func (s *Server) advance(a *Action) {
	now := s.Now().UTC()
	if a.State == "pending" && !now.Before(a.CreatedAt.Add(s.ApplyDelay)) {
		t := a.CreatedAt.Add(s.ApplyDelay)
		a.State, a.AppliedAt = "active", &t
	}
	if a.State == "active" && a.ExpiresAt != nil && !now.Before(*a.ExpiresAt) {
		t := *a.ExpiresAt
		a.State, a.LiftedAt = "lifted", &t
	}
	if a.State == "lifting" && !now.Before(a.liftRequested.Add(s.ApplyDelay)) {
		t := a.liftRequested.Add(s.ApplyDelay)
		a.State, a.LiftedAt = "lifted", &t
	}
}

func digest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func problem(w http.ResponseWriter, status int, title, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"type": "about:blank", "title": title, "status": status, "detail": detail,
	})
}

// canonicalJSON is a request body with its keys sorted and spacing removed, so a retry that
// sends the same request with its fields in another order is the same request.
func canonicalJSON(body []byte) string {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return string(body)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return string(body)
	}
	return string(b)
}

// hostsResource says whether a resource on host (a name or an address) is the account's: the
// host is one of its domains or below one, or an address in a range it holds at now.
func hostsResource(acct *Account, host string, now time.Time) bool {
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		for _, r := range acct.Ranges {
			p, err := netip.ParsePrefix(r.Prefix)
			if err == nil && p.Contains(ip.Unmap()) && (r.From.IsZero() || !now.Before(r.From)) && (r.Until.IsZero() || now.Before(r.Until)) {
				return true
			}
		}
		return false
	}
	return slices.ContainsFunc(acct.Domains, func(d string) bool {
		d = strings.ToLower(d)
		return host == d || strings.HasSuffix(host, "."+d)
	})
}

// wire is the action as the contract writes it.
func (a *Action) wire() wire.Action {
	out := wire.Action{Id: a.ID, AccountId: a.AccountID, Type: wire.ActionType(a.Type), State: wire.ActionState(a.State), CreatedAt: a.CreatedAt,
		Level: wire.Optional(a.Level), Reason: wire.Optional(a.Reason), CaseId: wire.Optional(a.CaseID), Error: wire.Optional(a.Error), Overturned: wire.Optional(a.Overturned),
		AppliedAt: a.AppliedAt, ExpiresAt: a.ExpiresAt, LiftedAt: a.LiftedAt}
	if a.Scope != nil {
		out.Scope = &wire.Scope{Kind: wire.ScopeKind(a.Scope.Kind), Value: a.Scope.Value}
	}
	return out
}
