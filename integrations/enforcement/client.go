// Package enforcement is the client of the provider's enforcement API (contract:
// openapi.yaml next to this file): account lookup by IP at a time, domain, sender or CFBL
// feedback ID; accounts; and enforcement actions applied and lifted with idempotency keys.
// Every failure comes back as a *fault.Error.
package enforcement

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"abusedesk/domain/abuse"
	"abusedesk/domain/fault"
	"abusedesk/integrations/enforcement/wire"
	"abusedesk/platform/httpx"
)

const service = "enforcement"

// Client talks to one enforcement API.
type Client struct {
	base  string
	token string
	http  *http.Client
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient replaces the HTTP client (default: 15 s timeout, retrying transport).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// New makes a client for the API at baseURL, authenticating with token.
func New(baseURL, token string, opts ...Option) *Client {
	c := &Client{base: strings.TrimRight(baseURL, "/"), token: token, http: httpx.Client(15 * time.Second)}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Query asks who an address belongs to; set exactly one of IP, Domain, Sender, FeedbackID.
type Query struct {
	IP         string
	At         time.Time
	Domain     string
	Sender     string
	FeedbackID string
	// Phone is an E.164 number; SenderID an SMS sender ID or short code.
	Phone    string
	SenderID string
}

// Match is a lookup's answer.
type Match struct {
	AccountID  string    `json:"account_id"`
	Kind       string    `json:"kind"`
	Value      string    `json:"value"`
	ValidFrom  time.Time `json:"valid_from,omitzero"`
	ValidUntil time.Time `json:"valid_until,omitzero"`
}

// Lookup finds the account behind an address. An address that belongs to no account is a
// fault.NotFound error.
func (c *Client) Lookup(ctx context.Context, q Query) (*Match, error) {
	v := url.Values{}
	switch {
	case q.IP != "":
		v.Set("ip", q.IP)
		if !q.At.IsZero() {
			v.Set("at", q.At.UTC().Format(time.RFC3339))
		}
	case q.Domain != "":
		v.Set("domain", q.Domain)
	case q.Sender != "":
		v.Set("sender", q.Sender)
	case q.FeedbackID != "":
		v.Set("feedback_id", q.FeedbackID)
	case q.Phone != "":
		v.Set("phone", q.Phone)
	case q.SenderID != "":
		v.Set("sender_id", q.SenderID)
	default:
		return nil, &fault.Error{Kind: fault.Invalid, Service: service, Op: "lookup", Message: "the query names no address"}
	}
	var out wire.LookupResult
	if err := c.do(ctx, "lookup", http.MethodGet, "/v1/lookup?"+v.Encode(), "", nil, &out); err != nil {
		return nil, err
	}
	return &Match{AccountID: out.AccountId, Kind: string(out.Matched.Kind), Value: out.Matched.Value, ValidFrom: deref(out.ValidFrom), ValidUntil: deref(out.ValidUntil)}, nil
}

// LookupRange finds every account that held an address of a range (CIDR) at a time: a
// blocklist listing a /26 is about each customer in it. None is an empty list, not an error.
func (c *Client) LookupRange(ctx context.Context, cidr string, at time.Time) ([]Match, error) {
	v := url.Values{"cidr": {cidr}}
	if !at.IsZero() {
		v.Set("at", at.UTC().Format(time.RFC3339))
	}
	var out wire.RangeLookupResult
	if err := c.do(ctx, "lookup range", http.MethodGet, "/v1/lookup/range?"+v.Encode(), "", nil, &out); err != nil {
		return nil, err
	}
	ms := make([]Match, 0, len(out.Accounts))
	for _, a := range out.Accounts {
		ms = append(ms, Match{AccountID: a.AccountId, Kind: "range", Value: a.Prefix, ValidFrom: deref(a.ValidFrom), ValidUntil: deref(a.ValidUntil)})
	}
	return ms, nil
}

// stateOf is what the activities keep of an action.
func stateOf(a wire.Action) *abuse.ActionState {
	s := &abuse.ActionState{ID: a.Id, AccountID: a.AccountId, Type: abuse.ActionType(a.Type), Level: deref(a.Level), State: string(a.State),
		Error: deref(a.Error), AppliedAt: deref(a.AppliedAt), ExpiresAt: deref(a.ExpiresAt), LiftedAt: deref(a.LiftedAt)}
	if a.Scope != nil {
		s.Scope = &abuse.Scope{Kind: string(a.Scope.Kind), Value: a.Scope.Value}
	}
	return s
}

// deref is *p, or the zero value for nil.
func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// ptr is a pointer to v, nil for the zero value: an optional field left out.
func ptr[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

// GetAccount implements the activities' Accounts.
func (c *Client) GetAccount(ctx context.Context, id string) (*abuse.Account, error) {
	var out wire.Account
	if err := c.do(ctx, "get account "+id, http.MethodGet, "/v1/accounts/"+url.PathEscape(id), "", nil, &out); err != nil {
		return nil, err
	}
	acct := &abuse.Account{ID: out.Id, Name: out.Name, ContactEmail: out.ContactEmail, Locale: out.Locale, Tier: string(out.Tier), PriorViolations: out.PriorViolations}
	for _, r := range out.Restrictions {
		acct.Restrictions = append(acct.Restrictions, abuse.ActionType(r.Type).Describe(deref(r.Level))+" ("+r.Id+")")
	}
	return acct, nil
}

// Apply implements the activities' Enforcement: the same key never applies twice.
func (c *Client) Apply(ctx context.Context, req abuse.ActionRequest, key string) (*abuse.ActionState, error) {
	if key == "" {
		return nil, &fault.Error{Kind: fault.Invalid, Service: service, Op: "apply", Message: "no idempotency key"}
	}
	body := wire.ActionRequest{Type: wire.ActionRequestType(req.Type), Reason: req.Reason, CaseId: ptr(req.CaseID)}
	if req.Level > 0 && req.Type == abuse.ActionThrottle {
		body.Level = &req.Level // only a throttle has a level (the contract refuses one elsewhere)
	}
	if req.Scope != nil {
		body.Scope = &wire.Scope{Kind: wire.ScopeKind(req.Scope.Kind), Value: req.Scope.Value}
	}
	if !req.ExpiresAt.IsZero() {
		at := req.ExpiresAt.UTC().Truncate(time.Second)
		body.ExpiresAt = &at
	}
	var out wire.Action
	if err := c.do(ctx, "apply "+string(req.Type), http.MethodPost, "/v1/accounts/"+url.PathEscape(req.AccountID)+"/actions", key, body, &out); err != nil {
		return nil, err
	}
	return stateOf(out), nil
}

// GetAction implements the activities' Enforcement.
func (c *Client) GetAction(ctx context.Context, id string) (*abuse.ActionState, error) {
	var out wire.Action
	if err := c.do(ctx, "get action "+id, http.MethodGet, "/v1/actions/"+url.PathEscape(id), "", nil, &out); err != nil {
		return nil, err
	}
	return stateOf(out), nil
}

// Lift implements the activities' Enforcement.
func (c *Client) Lift(ctx context.Context, req abuse.LiftRequest, key string) (*abuse.ActionState, error) {
	if key == "" {
		return nil, &fault.Error{Kind: fault.Invalid, Service: service, Op: "lift", Message: "no idempotency key"}
	}
	body := wire.LiftActionJSONRequestBody{Reason: req.Reason, Overturned: ptr(req.Overturned)}
	var out wire.Action
	if err := c.do(ctx, "lift action "+req.ActionID, http.MethodPost, "/v1/actions/"+url.PathEscape(req.ActionID)+"/lift", key, body, &out); err != nil {
		return nil, err
	}
	return stateOf(out), nil
}

// Actions lists an account's actions, newest first.
func (c *Client) Actions(ctx context.Context, accountID string) ([]abuse.ActionState, error) {
	var out struct {
		Actions []wire.Action `json:"actions"`
	}
	if err := c.do(ctx, "list actions of "+accountID, http.MethodGet, "/v1/accounts/"+url.PathEscape(accountID)+"/actions", "", nil, &out); err != nil {
		return nil, err
	}
	res := make([]abuse.ActionState, len(out.Actions))
	for i, a := range out.Actions {
		res[i] = *stateOf(a)
	}
	return res, nil
}

// do sends one request and decodes the JSON answer into out; any failure is a *fault.Error.
func (c *Client) do(ctx context.Context, op, method, path, idemKey string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return &fault.Error{Kind: fault.Invalid, Service: service, Op: op, Message: err.Error()}
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return &fault.Error{Kind: fault.Invalid, Service: service, Op: op, Message: err.Error()}
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json, application/problem+json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if idemKey != "" {
		req.Header.Set("Idempotency-Key", idemKey)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return httpx.Classify(service, op, nil, nil, err)
	}
	b, err := httpx.ReadBody(resp, 4<<20)
	if err != nil {
		return httpx.Classify(service, op, nil, nil, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		fe := httpx.Classify(service, op, resp, nil, nil).(*fault.Error)
		fe.Message = problemDetail(b)
		return fe
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return &fault.Error{Kind: fault.Transient, Service: service, Op: op, Status: resp.StatusCode, Message: "undecodable answer: " + err.Error()}
		}
	}
	return nil
}

// problemDetail reads a problem+json body into one line; other bodies are kept short.
func problemDetail(b []byte) string {
	var p struct {
		Title  string `json:"title"`
		Detail string `json:"detail"`
	}
	if err := json.Unmarshal(b, &p); err == nil && (p.Title != "" || p.Detail != "") {
		if p.Detail == "" {
			return p.Title
		}
		if p.Title == "" {
			return p.Detail
		}
		return p.Title + ": " + p.Detail
	}
	s := strings.TrimSpace(string(b))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// ErrNotOurs reports whether a lookup error means the address is no customer's.
func ErrNotOurs(err error) bool { return fault.Is(err, fault.NotFound) }
