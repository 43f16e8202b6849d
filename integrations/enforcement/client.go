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

	"abusedesk/internal/domain/abuse"
	"abusedesk/internal/domain/fault"
	"abusedesk/internal/platform/httpx"
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
	var out struct {
		AccountID string `json:"account_id"`
		Matched   struct {
			Kind  string `json:"kind"`
			Value string `json:"value"`
		} `json:"matched"`
		ValidFrom  time.Time `json:"valid_from"`
		ValidUntil time.Time `json:"valid_until"`
	}
	if err := c.do(ctx, "lookup", http.MethodGet, "/v1/lookup?"+v.Encode(), "", nil, &out); err != nil {
		return nil, err
	}
	return &Match{AccountID: out.AccountID, Kind: out.Matched.Kind, Value: out.Matched.Value, ValidFrom: out.ValidFrom, ValidUntil: out.ValidUntil}, nil
}

// LookupRange finds every account that held an address of a range (CIDR) at a time: a
// blocklist listing a /26 is about each customer in it. None is an empty list, not an error.
func (c *Client) LookupRange(ctx context.Context, cidr string, at time.Time) ([]Match, error) {
	v := url.Values{"cidr": {cidr}}
	if !at.IsZero() {
		v.Set("at", at.UTC().Format(time.RFC3339))
	}
	var out struct {
		Accounts []struct {
			AccountID  string    `json:"account_id"`
			Prefix     string    `json:"prefix"`
			ValidFrom  time.Time `json:"valid_from"`
			ValidUntil time.Time `json:"valid_until"`
		} `json:"accounts"`
	}
	if err := c.do(ctx, "lookup range", http.MethodGet, "/v1/lookup/range?"+v.Encode(), "", nil, &out); err != nil {
		return nil, err
	}
	ms := make([]Match, 0, len(out.Accounts))
	for _, a := range out.Accounts {
		ms = append(ms, Match{AccountID: a.AccountID, Kind: "range", Value: a.Prefix, ValidFrom: a.ValidFrom, ValidUntil: a.ValidUntil})
	}
	return ms, nil
}

// action is the wire form of an Action.
type action struct {
	ID        string           `json:"id"`
	AccountID string           `json:"account_id"`
	Type      abuse.ActionType `json:"type"`
	Level     int              `json:"level,omitempty"`
	State     string           `json:"state"`
	Reason    string           `json:"reason,omitempty"`
	CaseID    string           `json:"case_id,omitempty"`
	CreatedAt time.Time        `json:"created_at"`
	AppliedAt *time.Time       `json:"applied_at,omitempty"`
	ExpiresAt *time.Time       `json:"expires_at,omitempty"`
	LiftedAt  *time.Time       `json:"lifted_at,omitempty"`
	Error     string           `json:"error,omitempty"`
	Scope     *abuse.Scope     `json:"scope,omitempty"`
}

func (a action) state() *abuse.ActionState {
	s := &abuse.ActionState{ID: a.ID, AccountID: a.AccountID, Type: a.Type, Level: a.Level, State: a.State, Error: a.Error, Scope: a.Scope}
	if a.AppliedAt != nil {
		s.AppliedAt = *a.AppliedAt
	}
	if a.ExpiresAt != nil {
		s.ExpiresAt = *a.ExpiresAt
	}
	if a.LiftedAt != nil {
		s.LiftedAt = *a.LiftedAt
	}
	return s
}

// GetAccount implements the activities' Accounts.
func (c *Client) GetAccount(ctx context.Context, id string) (*abuse.Account, error) {
	var out struct {
		ID              string   `json:"id"`
		Name            string   `json:"name"`
		ContactEmail    string   `json:"contact_email"`
		Locale          string   `json:"locale"`
		Tier            string   `json:"tier"`
		PriorViolations int      `json:"prior_violations"`
		Restrictions    []action `json:"restrictions"`
	}
	if err := c.do(ctx, "get account "+id, http.MethodGet, "/v1/accounts/"+url.PathEscape(id), "", nil, &out); err != nil {
		return nil, err
	}
	acct := &abuse.Account{ID: out.ID, Name: out.Name, ContactEmail: out.ContactEmail, Locale: out.Locale, Tier: out.Tier, PriorViolations: out.PriorViolations}
	for _, r := range out.Restrictions {
		acct.Restrictions = append(acct.Restrictions, r.Type.Describe(r.Level)+" ("+r.ID+")")
	}
	return acct, nil
}

// Apply implements the activities' Enforcement: the same key never applies twice.
func (c *Client) Apply(ctx context.Context, req abuse.ActionRequest, key string) (*abuse.ActionState, error) {
	if key == "" {
		return nil, &fault.Error{Kind: fault.Invalid, Service: service, Op: "apply", Message: "no idempotency key"}
	}
	body := map[string]any{"type": req.Type, "reason": req.Reason}
	if req.Level > 0 && req.Type == abuse.ActionThrottle {
		body["level"] = req.Level // only a throttle has a level (the contract refuses one elsewhere)
	}
	if req.CaseID != "" {
		body["case_id"] = req.CaseID
	}
	if req.Scope != nil {
		body["scope"] = req.Scope
	}
	if !req.ExpiresAt.IsZero() {
		body["expires_at"] = req.ExpiresAt.UTC().Format(time.RFC3339)
	}
	var out action
	if err := c.do(ctx, "apply "+string(req.Type), http.MethodPost, "/v1/accounts/"+url.PathEscape(req.AccountID)+"/actions", key, body, &out); err != nil {
		return nil, err
	}
	return out.state(), nil
}

// GetAction implements the activities' Enforcement.
func (c *Client) GetAction(ctx context.Context, id string) (*abuse.ActionState, error) {
	var out action
	if err := c.do(ctx, "get action "+id, http.MethodGet, "/v1/actions/"+url.PathEscape(id), "", nil, &out); err != nil {
		return nil, err
	}
	return out.state(), nil
}

// Lift implements the activities' Enforcement.
func (c *Client) Lift(ctx context.Context, req abuse.LiftRequest, key string) (*abuse.ActionState, error) {
	if key == "" {
		return nil, &fault.Error{Kind: fault.Invalid, Service: service, Op: "lift", Message: "no idempotency key"}
	}
	body := map[string]any{"reason": req.Reason}
	if req.Overturned {
		body["overturned"] = true
	}
	var out action
	if err := c.do(ctx, "lift action "+req.ActionID, http.MethodPost, "/v1/actions/"+url.PathEscape(req.ActionID)+"/lift", key, body, &out); err != nil {
		return nil, err
	}
	return out.state(), nil
}

// Actions lists an account's actions, newest first.
func (c *Client) Actions(ctx context.Context, accountID string) ([]abuse.ActionState, error) {
	var out struct {
		Actions []action `json:"actions"`
	}
	if err := c.do(ctx, "list actions of "+accountID, http.MethodGet, "/v1/accounts/"+url.PathEscape(accountID)+"/actions", "", nil, &out); err != nil {
		return nil, err
	}
	res := make([]abuse.ActionState, len(out.Actions))
	for i, a := range out.Actions {
		res[i] = *a.state()
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
