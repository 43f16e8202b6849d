package enforcement_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"abusedesk/devenv/enforcementapi"
	"abusedesk/domain/abuse"
	"abusedesk/domain/fault"
	"abusedesk/integrations/enforcement"
	"abusedesk/platform/httpx"
)

func setup(t *testing.T) (*enforcementapi.Server, *enforcement.Client) {
	t.Helper()
	api := enforcementapi.NewDemo("secret")
	// Every exchange is checked against openapi.yaml, both ways (contract_test.go).
	c := loadContract(t)
	srv := httptest.NewServer(c.check(api.Handler()))
	t.Cleanup(func() { srv.Close(); c.verify(t) })
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &httpx.Retry{Backoff: 10 * time.Millisecond}}
	return api, enforcement.New(srv.URL, "secret", enforcement.WithHTTPClient(hc))
}

func TestLookup(t *testing.T) {
	_, c := setup(t)
	ctx := context.Background()
	tests := []struct {
		name    string
		q       enforcement.Query
		account string
		kind    string
	}{
		{"ip", enforcement.Query{IP: "192.0.2.1"}, "acct-shop", "ip"},
		{"ip in the customer's /24 inside the hoster's /8", enforcement.Query{IP: "10.17.18.26"}, "acct-blaster", "ip"},
		{"ip of the hoster", enforcement.Query{IP: "10.0.2.150"}, "acct-hosting", "ip"},
		{"ip before it moved", enforcement.Query{IP: "192.0.2.200", At: time.Date(2023, 6, 1, 0, 0, 0, 0, time.UTC)}, "acct-again", "ip"},
		{"ip after it moved", enforcement.Query{IP: "192.0.2.200", At: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)}, "acct-shop", "ip"},
		{"ipv6", enforcement.Query{IP: "2001:db8:b::25"}, "acct-bank", "ip"},
		{"domain below a customer's domain", enforcement.Query{Domain: "www.shop.example"}, "acct-shop", "domain"},
		{"sender", enforcement.Query{Sender: "Newsletter@shop.example"}, "acct-shop", "sender"},
		{"sender by its domain", enforcement.Query{Sender: "x@bank.example"}, "acct-bank", "domain"},
		{"feedback id", enforcement.Query{FeedbackID: "shop-campaign-1"}, "acct-shop", "feedback_id"},
		{"phone number", enforcement.Query{Phone: "+447700900123"}, "acct-shop", "phone"},
		{"sender ID", enforcement.Query{SenderID: "shopnews"}, "acct-shop", "sender_id"},
		{"short code", enforcement.Query{SenderID: "55123"}, "acct-texts", "sender_id"},
		{"campaign", enforcement.Query{Campaign: "cx7k2pq"}, "acct-texts", "campaign"},
		{"brand", enforcement.Query{Brand: "BQ4RT7Z"}, "acct-texts", "brand"},
		{"messaging service", enforcement.Query{Service: "MG-TEXTBLAST-PROMO"}, "acct-texts", "messaging_service"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := c.Lookup(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if m.AccountID != tc.account || m.Kind != tc.kind {
				t.Errorf("got %+v, want %s by %s", m, tc.account, tc.kind)
			}
		})
	}
	_, err := c.Lookup(ctx, enforcement.Query{IP: "1.2.3.4"})
	if !enforcement.ErrNotOurs(err) {
		t.Errorf("1.2.3.4: %v, want not found (not ours)", err)
	}
	_, err = c.Lookup(ctx, enforcement.Query{IP: "not-an-ip"})
	if !fault.Is(err, fault.Invalid) {
		t.Errorf("bad ip: %v, want Invalid", err)
	}
	if _, err := c.Lookup(ctx, enforcement.Query{}); !fault.Is(err, fault.Invalid) {
		t.Errorf("empty query: %v, want Invalid", err)
	}
	if _, err := c.Lookup(ctx, enforcement.Query{Phone: "07700 900123"}); !fault.Is(err, fault.Invalid) {
		t.Errorf("a number not in E.164: %v, want Invalid", err)
	}
	if _, err := c.Lookup(ctx, enforcement.Query{Phone: "+15550000000"}); !enforcement.ErrNotOurs(err) {
		t.Errorf("a number nobody owns: %v, want not ours", err)
	}
}

// TestLookupRange: a range names every account that held part of it at the time.
func TestLookupRange(t *testing.T) {
	_, c := setup(t)
	ctx := context.Background()
	accounts := func(cidr string, at time.Time) []string {
		t.Helper()
		ms, err := c.LookupRange(ctx, cidr, at)
		if err != nil {
			t.Fatalf("%s: %v", cidr, err)
		}
		var out []string
		for _, m := range ms {
			out = append(out, m.AccountID+" "+m.Value)
		}
		return out
	}
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	if got := accounts("192.0.2.64/26", now); !slices.Equal(got, []string{"acct-shop 192.0.2.0/25"}) {
		t.Errorf("192.0.2.64/26: %v", got)
	}
	if got := accounts("192.0.2.0/24", now); !slices.Equal(got, []string{"acct-shop 192.0.2.0/25", "acct-shop 192.0.2.128/25"}) {
		t.Errorf("192.0.2.0/24 now: %v", got)
	}
	if got := accounts("192.0.2.0/24", time.Date(2023, 6, 1, 0, 0, 0, 0, time.UTC)); !slices.Equal(got, []string{"acct-again 192.0.2.128/25", "acct-shop 192.0.2.0/25"}) {
		t.Errorf("192.0.2.0/24 in 2023: %v", got)
	}
	if got := accounts("10.17.18.0/23", now); !slices.Equal(got, []string{"acct-blaster 10.17.18.0/24", "acct-hosting 10.0.0.0/8"}) {
		t.Errorf("10.17.18.0/23: %v", got)
	}
	if got := accounts("1.2.3.0/24", now); len(got) != 0 {
		t.Errorf("a range nobody holds: %v", got)
	}
	if _, err := c.LookupRange(ctx, "10.0.0.0/8", now); !fault.Is(err, fault.Invalid) {
		t.Errorf("a /8: %v, want Invalid (too wide)", err)
	}
	if _, err := c.LookupRange(ctx, "banana", now); !fault.Is(err, fault.Invalid) {
		t.Errorf("not a range: %v, want Invalid", err)
	}
}

func TestApplyIsIdempotentAndVerifiable(t *testing.T) {
	api, c := setup(t)
	api.ApplyDelay = 50 * time.Millisecond
	ctx := context.Background()
	req := abuse.ActionRequest{AccountID: "acct-shop", Type: abuse.ActionThrottle, Level: 2, Reason: "TS-1 spam", CaseID: "case/acct-shop/spam"}
	a1, err := c.Apply(ctx, req, "k1")
	if err != nil {
		t.Fatal(err)
	}
	if a1.State != abuse.StatePending {
		t.Errorf("new action is %s, want pending", a1.State)
	}
	a2, err := c.Apply(ctx, req, "k1")
	if err != nil || a2.ID != a1.ID {
		t.Fatalf("replay: %+v %v, want the same action %s", a2, err, a1.ID)
	}
	if n := len(api.Actions("acct-shop")); n != 1 {
		t.Fatalf("%d actions after a replay, want 1", n)
	}
	other := req
	other.Level = 3
	if _, err := c.Apply(ctx, other, "k1"); !fault.Is(err, fault.Invalid) {
		t.Errorf("key reused for another body: %v, want Invalid (422)", err)
	}
	time.Sleep(60 * time.Millisecond)
	got, err := c.GetAction(ctx, a1.ID)
	if err != nil || got.State != abuse.StateActive || got.AppliedAt.IsZero() {
		t.Fatalf("after the delay: %+v %v, want active", got, err)
	}
	acct, err := c.GetAccount(ctx, "acct-shop")
	if err != nil {
		t.Fatal(err)
	}
	if acct.PriorViolations != 1 || len(acct.Restrictions) != 1 || acct.ContactEmail != "ops@shop.example" || acct.Tier != abuse.TierStandard {
		t.Errorf("account %+v, want one violation and one restriction", acct)
	}
	grant := abuse.LiftRequest{ActionID: a1.ID, Reason: "appeal granted", Overturned: true}
	lifted, err := c.Lift(ctx, grant, "lift-1")
	if err != nil || lifted.State != abuse.StateLifting {
		t.Fatalf("lift: %+v %v, want lifting", lifted, err)
	}
	time.Sleep(60 * time.Millisecond)
	if again, err := c.Lift(ctx, grant, "lift-1"); err != nil || again.State != abuse.StateLifted {
		t.Errorf("lift replay: %+v %v, want lifted", again, err)
	}
	if acts, err := c.Actions(ctx, "acct-shop"); err != nil || len(acts) != 1 || acts[0].State != abuse.StateLifted {
		t.Errorf("actions: %+v %v", acts, err)
	}
	// Overturned, the action is no violation any more.
	if acct, err := c.GetAccount(ctx, "acct-shop"); err != nil || acct.PriorViolations != 0 {
		t.Errorf("after the overturn: %+v %v, want no prior violation", acct, err)
	}
	// A lift that is not an overturn (the action ran its course) still counts.
	a2, err2 := c.Apply(ctx, abuse.ActionRequest{AccountID: "acct-shop", Type: abuse.ActionThrottle, Level: 1, Reason: "again"}, "k2")
	if err2 != nil {
		t.Fatal(err2)
	}
	if _, err := c.Lift(ctx, abuse.LiftRequest{ActionID: a2.ID, Reason: "fixed"}, "lift-2"); err != nil {
		t.Fatal(err)
	}
	if acct, err := c.GetAccount(ctx, "acct-shop"); err != nil || acct.PriorViolations != 1 {
		t.Errorf("after a plain lift: %+v %v, want one prior violation", acct, err)
	}
}

func TestErrorsAreClassified(t *testing.T) {
	ctx := context.Background()
	req := abuse.ActionRequest{AccountID: "acct-shop", Type: abuse.ActionThrottle, Level: 1, Reason: "r"}

	t.Run("4xx is invalid with the problem detail", func(t *testing.T) {
		_, c := setup(t)
		_, err := c.Apply(ctx, abuse.ActionRequest{AccountID: "acct-shop", Type: abuse.ActionThrottle, Level: 9, Reason: "r"}, "k")
		var fe *fault.Error
		if !fault.Is(err, fault.Invalid) || !errors.As(err, &fe) || fe.Status != 400 || fe.Message != "Bad Request: level: a throttle needs a level of 1 to 3" {
			t.Errorf("got %v", err)
		}
	})
	t.Run("unknown account is not found", func(t *testing.T) {
		_, c := setup(t)
		if _, err := c.GetAccount(ctx, "nobody"); !fault.Is(err, fault.NotFound) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("wrong token is unauthorized", func(t *testing.T) {
		api, _ := setup(t)
		srv := httptest.NewServer(api.Handler())
		defer srv.Close()
		c := enforcement.New(srv.URL, "wrong")
		if _, err := c.GetAccount(ctx, "acct-shop"); !fault.Is(err, fault.Unauthorized) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("429 with a short Retry-After is waited out", func(t *testing.T) {
		api, c := setup(t)
		api.Inject("/v1/accounts", 429, "1", 1)
		start := time.Now()
		if _, err := c.GetAccount(ctx, "acct-shop"); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < time.Second {
			t.Errorf("answered after %v; the client did not wait the 1s Retry-After", d)
		}
	})
	t.Run("429 with a long Retry-After is returned with the delay", func(t *testing.T) {
		api, c := setup(t)
		api.Inject("/v1/accounts", 429, "120", 1)
		_, err := c.GetAccount(ctx, "acct-shop")
		if !fault.Is(err, fault.RateLimited) || fault.RetryAfter(err) != 120*time.Second {
			t.Errorf("got %v (retry after %v), want rate limited for 120s", err, fault.RetryAfter(err))
		}
	})
	t.Run("429 without Retry-After backs off, then gives up rate limited", func(t *testing.T) {
		api, c := setup(t)
		api.Inject("/v1/accounts", 429, "", 3)
		_, err := c.GetAccount(ctx, "acct-shop")
		if !fault.Is(err, fault.RateLimited) || fault.RetryAfter(err) != 0 {
			t.Errorf("got %v, want rate limited with no delay given", err)
		}
		if api.Requests() != 3 {
			t.Errorf("%d requests, want 3 (two retries)", api.Requests())
		}
	})
	t.Run("5xx then success", func(t *testing.T) {
		api, c := setup(t)
		api.Inject("/v1/accounts/acct-shop/actions", 503, "", 2)
		a, err := c.Apply(ctx, req, "k-5xx")
		if err != nil || a.ID == "" {
			t.Fatalf("got %+v %v, want success after two 503s", a, err)
		}
		if n := len(api.Actions("acct-shop")); n != 1 {
			t.Errorf("%d actions, want 1", n)
		}
	})
	t.Run("5xx that persists is transient", func(t *testing.T) {
		api, c := setup(t)
		api.Inject("/v1/actions", 500, "", 5)
		if _, err := c.GetAction(ctx, "act_000001"); !fault.Is(err, fault.Transient) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("timeout is transient", func(t *testing.T) {
		api, _ := setup(t)
		srv := httptest.NewServer(api.Handler())
		defer srv.Close()
		c := enforcement.New(srv.URL, "secret", enforcement.WithHTTPClient(&http.Client{Timeout: 100 * time.Millisecond}))
		api.InjectDelay("/v1/accounts", time.Second, 1)
		_, err := c.GetAccount(ctx, "acct-shop")
		var fe *fault.Error
		if !fault.Is(err, fault.Transient) || !errors.As(err, &fe) || !strings.Contains(fe.Message, "timed out") {
			t.Errorf("got %v, want a transient timeout", err)
		}
	})
}

// TestReferenceProtocol checks the reference implementation against the contract's small print,
// with raw requests as another client would send them: a 401 names its scheme, a reordered
// retry is the same request, and a level is refused on anything but a throttle (the desk's
// client never sends one there).
func TestReferenceProtocol(t *testing.T) {
	api := enforcementapi.NewDemo("secret")
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()
	send := func(method, path, token, key, body string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := send("GET", "/v1/accounts/acct-shop", "", "", ""); r.StatusCode != 401 || r.Header.Get("WWW-Authenticate") != `Bearer realm="enforcement"` {
		t.Errorf("no token: %d %q", r.StatusCode, r.Header.Get("WWW-Authenticate"))
	}
	if r := send("GET", "/v1/accounts/acct-shop", "wrong", "", ""); r.StatusCode != 401 || !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("wrong token: %d %q", r.StatusCode, r.Header.Get("WWW-Authenticate"))
	}
	first := send("POST", "/v1/accounts/acct-shop/actions", "secret", "k-1", `{"type":"throttle","level":2,"reason":"spam"}`)
	again := send("POST", "/v1/accounts/acct-shop/actions", "secret", "k-1", "{\n  \"reason\": \"spam\",\n  \"level\": 2, \"type\": \"throttle\"\n}")
	other := send("POST", "/v1/accounts/acct-shop/actions", "secret", "k-1", `{"type":"throttle","level":3,"reason":"spam"}`)
	if first.StatusCode != 201 || again.StatusCode != 200 || other.StatusCode != 422 {
		t.Errorf("idempotency: first %d, reordered retry %d (want 200), different body %d (want 422)", first.StatusCode, again.StatusCode, other.StatusCode)
	}
	if r := send("POST", "/v1/accounts/acct-shop/actions", "secret", "k-2", `{"type":"suspend_sending","level":2,"reason":"phishing"}`); r.StatusCode != 400 {
		t.Errorf("a level on suspend_sending: %d, want 400", r.StatusCode)
	}
	// The desk's client leaves the level out where the contract has none.
	c := enforcement.New(srv.URL, "secret")
	st, err := c.Apply(context.Background(), abuse.ActionRequest{AccountID: "acct-shop", Type: abuse.ActionSuspendSending, Level: 2, Reason: "phishing"}, "k-3")
	if err != nil || st.Level != 0 {
		t.Errorf("suspend_sending through the client: %+v %v", st, err)
	}
}

// TestScopedActions: an action on one of the account's numbers or sender IDs; a number the
// account does not hold is refused, as is a scope on a suspension of the whole account.
func TestScopedActions(t *testing.T) {
	_, c := setup(t)
	ctx := context.Background()
	st, err := c.Apply(ctx, abuse.ActionRequest{AccountID: "acct-shop", Type: abuse.ActionSuspendSending, Reason: "sms spam",
		Scope: &abuse.Scope{Kind: abuse.ScopeSenderID, Value: "SHOPNEWS"}}, "s-1")
	if err != nil || st.Scope == nil || st.Scope.Value != "SHOPNEWS" {
		t.Fatalf("scoped action: %+v %v", st, err)
	}
	got, err := c.GetAction(ctx, st.ID)
	if err != nil || got.Scope == nil || got.Scope.Kind != abuse.ScopeSenderID {
		t.Errorf("read back: %+v %v", got, err)
	}
	if _, err := c.Apply(ctx, abuse.ActionRequest{AccountID: "acct-shop", Type: abuse.ActionThrottle, Level: 1, Reason: "r",
		Scope: &abuse.Scope{Kind: abuse.ScopePhone, Value: "+15555550100"}}, "s-2"); !fault.Is(err, fault.Invalid) {
		t.Errorf("a number the account does not hold: %v, want refused", err)
	}
	if _, err := c.Apply(ctx, abuse.ActionRequest{AccountID: "acct-shop", Type: abuse.ActionSuspendAccount, Reason: "r",
		Scope: &abuse.Scope{Kind: abuse.ScopePhone, Value: "+447700900123"}}, "s-3"); !fault.Is(err, fault.Invalid) {
		t.Errorf("a scope on suspend_account: %v, want refused", err)
	}
}

// TestTakedownOfOneResource: a takedown removes the one resource its scope names, on a host or
// an address of the account; a resource elsewhere, a takedown without its resource and a
// resource scope on another action are refused.
func TestTakedownOfOneResource(t *testing.T) {
	_, c := setup(t)
	ctx := context.Background()
	for i, u := range []string{"https://www.shop.example/gallery/x.jpg", "http://192.0.2.10/share/y.png"} {
		st, err := c.Apply(ctx, abuse.ActionRequest{AccountID: "acct-shop", Type: abuse.ActionTakedown, Reason: "CSAM notice",
			Scope: &abuse.Scope{Kind: abuse.ScopeResource, Value: u}}, fmt.Sprintf("t-%d", i))
		if err != nil || st.Type != abuse.ActionTakedown || st.Scope == nil || st.Scope.Value != u {
			t.Errorf("takedown of %s: %+v %v", u, st, err)
		}
	}
	for _, tc := range []struct {
		what string
		req  abuse.ActionRequest
	}{
		{"a resource on another customer's host", abuse.ActionRequest{Type: abuse.ActionTakedown, Scope: &abuse.Scope{Kind: abuse.ScopeResource, Value: "https://bank.example/a"}}},
		{"a resource on another customer's address", abuse.ActionRequest{Type: abuse.ActionTakedown, Scope: &abuse.Scope{Kind: abuse.ScopeResource, Value: "http://198.51.100.7/a"}}},
		{"a takedown without its resource", abuse.ActionRequest{Type: abuse.ActionTakedown}},
		{"a takedown of a phone number", abuse.ActionRequest{Type: abuse.ActionTakedown, Scope: &abuse.Scope{Kind: abuse.ScopePhone, Value: "+447700900123"}}},
		{"a resource scope on a suspension", abuse.ActionRequest{Type: abuse.ActionSuspendSending, Scope: &abuse.Scope{Kind: abuse.ScopeResource, Value: "https://shop.example/a"}}},
		{"a resource that is no URL", abuse.ActionRequest{Type: abuse.ActionTakedown, Scope: &abuse.Scope{Kind: abuse.ScopeResource, Value: "shop.example/a"}}},
	} {
		tc.req.AccountID, tc.req.Reason = "acct-shop", "r"
		if _, err := c.Apply(ctx, tc.req, "bad-"+tc.what); !fault.Is(err, fault.Invalid) {
			t.Errorf("%s: %v, want refused", tc.what, err)
		}
	}
}

// TestMessagingRecords: the records of a sending identity add up hour by hour, come with a few
// redacted messages, and show the traffic stopped once a suspension of the campaign took
// effect; a period too long, a subject of no kind and an identity of another account are refused.
func TestMessagingRecords(t *testing.T) {
	api, c := setup(t)
	ctx := context.Background()
	now := time.Date(2026, 12, 7, 12, 30, 0, 0, time.UTC)
	api.Now = func() time.Time { return now }
	campaign := abuse.Scope{Kind: abuse.ScopeCampaign, Value: "CX7K2PQ"}
	tr, raw, err := c.Messaging(ctx, "acct-texts", campaign, now.Add(-24*time.Hour), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var sum abuse.MessagingCounts
	for _, h := range tr.Hours {
		sum.Sent, sum.Complaints, sum.OptOuts = sum.Sent+h.Sent, sum.Complaints+h.Complaints, sum.OptOuts+h.OptOuts
	}
	if len(tr.Hours) != 25 || tr.Sent == 0 || sum.Sent != tr.Sent || sum.Complaints != tr.Complaints || sum.OptOuts != tr.OptOuts || !tr.Until.Equal(now) {
		t.Errorf("24 hours from half past: %d hours, totals %+v, the hours add up to %+v, until %v", len(tr.Hours), tr.MessagingCounts, sum, tr.Until)
	}
	if len(tr.Samples) == 0 || !strings.Contains(tr.Samples[0].To, "**") || len(raw) == 0 || !strings.Contains(string(raw), `"subject":"campaign:CX7K2PQ"`) {
		t.Errorf("samples %+v (recipients masked?), raw %s", tr.Samples, raw)
	}
	again, _, _ := c.Messaging(ctx, "acct-texts", campaign, now.Add(-24*time.Hour), now)
	if again.MessagingCounts != tr.MessagingCounts {
		t.Errorf("the same period read twice: %+v, then %+v", tr.MessagingCounts, again.MessagingCounts)
	}
	// The campaign is suspended: nothing is sent after it took effect; the number goes on.
	if _, err := c.Apply(ctx, abuse.ActionRequest{AccountID: "acct-texts", Type: abuse.ActionSuspendSending, Reason: "carrier notice", Scope: &campaign}, "m-1"); err != nil {
		t.Fatal(err)
	}
	later := now.Add(3 * time.Hour)
	api.Now = func() time.Time { return later }
	after, _, err := c.Messaging(ctx, "acct-texts", campaign, now.Add(time.Minute), later)
	if err != nil || after.Sent != 0 {
		t.Errorf("after the campaign's suspension: %+v %v, want nothing sent", after, err)
	}
	if other, _, err := c.Messaging(ctx, "acct-texts", abuse.Scope{Kind: abuse.ScopePhone, Value: "+18335550199"}, now.Add(time.Minute), later); err != nil || other.Sent == 0 {
		t.Errorf("another number of the account: %+v %v, want its traffic going on", other, err)
	}
	for name, tc := range map[string]struct {
		account string
		id      abuse.Scope
		since   time.Time
	}{
		"a period over 31 days":      {"acct-texts", campaign, later.Add(-40 * 24 * time.Hour)},
		"a kind that sends nothing":  {"acct-texts", abuse.Scope{Kind: abuse.ScopeResource, Value: "https://x.example/"}, now},
		"another account's campaign": {"acct-shop", campaign, now},
		"a number the account lacks": {"acct-texts", abuse.Scope{Kind: abuse.ScopePhone, Value: "+15550000000"}, now},
	} {
		if _, _, err := c.Messaging(ctx, tc.account, tc.id, tc.since, later); !fault.Is(err, fault.Invalid) {
			t.Errorf("%s: %v, want refused as invalid", name, err)
		}
	}
}

// TestAccountOpened: an account says when it was opened when the API knows; otherwise the time
// is zero, not the epoch.
func TestAccountOpened(t *testing.T) {
	_, c := setup(t)
	ctx := context.Background()
	texts, err := c.GetAccount(ctx, "acct-texts")
	if err != nil || texts.CreatedAt.IsZero() || !texts.NewAt(time.Now()) {
		t.Errorf("acct-texts: %+v %v, want opened days ago (a new account)", texts, err)
	}
	shop, err := c.GetAccount(ctx, "acct-shop")
	if err != nil || !shop.CreatedAt.IsZero() || shop.NewAt(time.Now()) {
		t.Errorf("acct-shop: %+v %v, want no opening time", shop, err)
	}
}
