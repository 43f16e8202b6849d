// Package enforcement is the client of the provider's enforcement API (contract:
// openapi.yaml next to this file): account lookup by IP at a time, domain, sender or CFBL
// feedback ID; accounts; and enforcement actions applied and lifted with idempotency keys.
// Every failure comes back as a *fault.Error.
package enforcement

import (
	"context"
	"encoding/json"
	"net/http"
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
	// Campaign is a messaging campaign's ID (10DLC), Brand a messaging brand's, Service a
	// messaging service's (a pool of senders on the platform).
	Campaign string
	Brand    string
	Service  string
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
	var params wire.LookupParams
	switch {
	case q.IP != "":
		params.Ip, params.At = &q.IP, second(q.At)
	case q.Domain != "":
		params.Domain = &q.Domain
	case q.Sender != "":
		params.Sender = &q.Sender
	case q.FeedbackID != "":
		params.FeedbackId = &q.FeedbackID
	case q.Phone != "":
		params.Phone = &q.Phone
	case q.SenderID != "":
		params.SenderId = &q.SenderID
	case q.Campaign != "":
		params.Campaign = &q.Campaign
	case q.Brand != "":
		params.Brand = &q.Brand
	case q.Service != "":
		params.MessagingService = &q.Service
	default:
		return nil, &fault.Error{Kind: fault.Invalid, Service: service, Op: "lookup", Message: "the query names no address"}
	}
	var out wire.LookupResult
	req, err := wire.NewLookupRequest(c.base, &params)
	if err := c.send(ctx, "lookup", req, err, "", &out); err != nil {
		return nil, err
	}
	return &Match{AccountID: out.AccountId, Kind: string(out.Matched.Kind), Value: out.Matched.Value, ValidFrom: wire.Value(out.ValidFrom), ValidUntil: wire.Value(out.ValidUntil)}, nil
}

// LookupRange finds every account that held an address of a range (CIDR) at a time: a
// blocklist listing a /26 is about each customer in it. None is an empty list, not an error.
func (c *Client) LookupRange(ctx context.Context, cidr string, at time.Time) ([]Match, error) {
	var out wire.RangeLookupResult
	req, err := wire.NewLookupRangeRequest(c.base, &wire.LookupRangeParams{Cidr: cidr, At: second(at)})
	if err := c.send(ctx, "lookup range", req, err, "", &out); err != nil {
		return nil, err
	}
	ms := make([]Match, 0, len(out.Accounts))
	for _, a := range out.Accounts {
		ms = append(ms, Match{AccountID: a.AccountId, Kind: "range", Value: a.Prefix, ValidFrom: wire.Value(a.ValidFrom), ValidUntil: wire.Value(a.ValidUntil)})
	}
	return ms, nil
}

// stateOf is what the activities keep of an action.
func stateOf(a wire.Action) *abuse.ActionState {
	s := &abuse.ActionState{ID: a.Id, AccountID: a.AccountId, Type: abuse.ActionType(a.Type), Level: wire.Value(a.Level), State: string(a.State),
		Error: wire.Value(a.Error), AppliedAt: wire.Value(a.AppliedAt), ExpiresAt: wire.Value(a.ExpiresAt), LiftedAt: wire.Value(a.LiftedAt)}
	if a.Scope != nil {
		s.Scope = &abuse.Scope{Kind: string(a.Scope.Kind), Value: a.Scope.Value}
	}
	return s
}

// second is t in UTC to the second, as the contract writes a time (nil for the zero time).
func second(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC().Truncate(time.Second)
	return &t
}

// GetAccount implements the activities' Accounts.
func (c *Client) GetAccount(ctx context.Context, id string) (*abuse.Account, error) {
	var out wire.Account
	req, err := wire.NewGetAccountRequest(c.base, id)
	if err := c.send(ctx, "get account "+id, req, err, "", &out); err != nil {
		return nil, err
	}
	acct := &abuse.Account{ID: out.Id, Name: out.Name, ContactEmail: out.ContactEmail, Locale: out.Locale, Tier: string(out.Tier), PriorViolations: out.PriorViolations,
		CreatedAt: wire.Value(out.CreatedAt)}
	for _, r := range out.Restrictions {
		acct.Restrictions = append(acct.Restrictions, abuse.ActionType(r.Type).Describe(wire.Value(r.Level))+" ("+r.Id+")")
	}
	return acct, nil
}

// Apply implements the activities' Enforcement: the same key never applies twice.
func (c *Client) Apply(ctx context.Context, req abuse.ActionRequest, key string) (*abuse.ActionState, error) {
	if key == "" {
		return nil, &fault.Error{Kind: fault.Invalid, Service: service, Op: "apply", Message: "no idempotency key"}
	}
	body := wire.ActionRequest{Type: wire.ActionRequestType(req.Type), Reason: req.Reason, CaseId: wire.Optional(req.CaseID)}
	if req.Level > 0 && req.Type == abuse.ActionThrottle {
		body.Level = &req.Level // only a throttle has a level (the contract refuses one elsewhere)
	}
	if req.Scope != nil {
		body.Scope = &wire.Scope{Kind: wire.ScopeKind(req.Scope.Kind), Value: req.Scope.Value}
	}
	body.ExpiresAt = second(req.ExpiresAt)
	var out wire.Action
	hr, err := wire.NewApplyActionRequest(c.base, req.AccountID, &wire.ApplyActionParams{IdempotencyKey: key}, body)
	if err := c.send(ctx, "apply "+string(req.Type), hr, err, key, &out); err != nil {
		return nil, err
	}
	return stateOf(out), nil
}

// GetAction implements the activities' Enforcement.
func (c *Client) GetAction(ctx context.Context, id string) (*abuse.ActionState, error) {
	var out wire.Action
	req, err := wire.NewGetActionRequest(c.base, id)
	if err := c.send(ctx, "get action "+id, req, err, "", &out); err != nil {
		return nil, err
	}
	return stateOf(out), nil
}

// Lift implements the activities' Enforcement.
func (c *Client) Lift(ctx context.Context, req abuse.LiftRequest, key string) (*abuse.ActionState, error) {
	if key == "" {
		return nil, &fault.Error{Kind: fault.Invalid, Service: service, Op: "lift", Message: "no idempotency key"}
	}
	body := wire.LiftActionJSONRequestBody{Reason: req.Reason, Overturned: wire.Optional(req.Overturned)}
	var out wire.Action
	hr, err := wire.NewLiftActionRequest(c.base, req.ActionID, &wire.LiftActionParams{IdempotencyKey: key}, body)
	if err := c.send(ctx, "lift action "+req.ActionID, hr, err, key, &out); err != nil {
		return nil, err
	}
	return stateOf(out), nil
}

// Actions lists an account's actions, newest first.
func (c *Client) Actions(ctx context.Context, accountID string) ([]abuse.ActionState, error) {
	var out struct {
		Actions []wire.Action `json:"actions"`
	}
	req, err := wire.NewListActionsRequest(c.base, accountID)
	if err := c.send(ctx, "list actions of "+accountID, req, err, "", &out); err != nil {
		return nil, err
	}
	res := make([]abuse.ActionState, len(out.Actions))
	for i, a := range out.Actions {
		res[i] = *stateOf(a)
	}
	return res, nil
}

// send sends one request the contract's generated builder made (built: its error) and decodes
// the JSON answer into out; any failure is a *fault.Error.
func (c *Client) send(ctx context.Context, op string, req *http.Request, built error, idemKey string, out any) error {
	if built != nil {
		return &fault.Error{Kind: fault.Invalid, Service: service, Op: op, Message: built.Error()}
	}
	req = req.WithContext(ctx)
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json, application/problem+json")
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

// Messaging implements the activities' Messaging: the records of one of the account's sending
// identities (a number, sender ID, campaign or messaging service, as a scope names it) from
// since until until (zero: now), and the records as JSON, to keep as evidence.
func (c *Client) Messaging(ctx context.Context, account string, id abuse.Scope, since, until time.Time) (*abuse.Traffic, []byte, error) {
	params := wire.GetMessagingParams{Subject: id.Kind + ":" + id.Value, Since: since.UTC().Truncate(time.Second), Until: second(until)}
	var out wire.MessagingRecords
	req, err := wire.NewGetMessagingRequest(c.base, account, &params)
	if err := c.send(ctx, "messaging records of "+id.String(), req, err, "", &out); err != nil {
		return nil, nil, err
	}
	raw, err := json.Marshal(out)
	if err != nil {
		return nil, nil, err
	}
	counts := func(c wire.MessagingCounts) abuse.MessagingCounts {
		return abuse.MessagingCounts{Sent: c.Sent, Delivered: c.Delivered, Failed: c.Failed, Filtered: c.Filtered, OptOuts: c.OptOuts, Complaints: c.Complaints}
	}
	t := &abuse.Traffic{Identity: id, Since: out.Since, Until: out.Until, MessagingCounts: counts(out.Totals)}
	for _, h := range out.Hours {
		t.Hours = append(t.Hours, abuse.MessagingHour{Start: h.Start, MessagingCounts: abuse.MessagingCounts{Sent: h.Sent, Delivered: h.Delivered,
			Failed: h.Failed, Filtered: h.Filtered, OptOuts: h.OptOuts, Complaints: h.Complaints}})
	}
	for _, s := range out.Samples {
		t.Samples = append(t.Samples, abuse.MessagingSample{At: s.At, To: s.To, Body: s.Body})
	}
	return t, raw, nil
}
