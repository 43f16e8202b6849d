package zendesk_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"abusedesk/app/provision"
	"abusedesk/devenv/zendesksandbox"
	"abusedesk/domain/fault"
	"abusedesk/domain/ticket"
	"abusedesk/integrations/zendesk"
	"abusedesk/platform/httpx"
	"abusedesk/templates"
	"abusedesk/workflows"
)

const (
	token = "zd-token"
	bot   = "bot@desk.example"
)

type env struct {
	fake   *zendesksandbox.Server
	srv    *httptest.Server
	client *zendesk.Client
	hooks  *receiver
}

// receiver collects the webhook notifications the fake sends.
type receiver struct {
	mu   sync.Mutex
	reqs []received
	srv  *httptest.Server
}

type received struct {
	header http.Header
	body   []byte
}

func (r *receiver) all() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.reqs...)
}

func setup(t *testing.T) *env {
	t.Helper()
	fake := zendesksandbox.New(token, bot, "agent@desk.example", "reviewer@desk.example")
	srv := httptest.NewServer(fake.Handler())
	t.Cleanup(srv.Close)
	fake.SetBaseURL(srv.URL)
	rec := &receiver{}
	rec.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, received{r.Header.Clone(), b})
		rec.mu.Unlock()
	}))
	t.Cleanup(rec.srv.Close)
	c, err := zendesk.New(zendesk.Config{URL: srv.URL, Email: bot, Token: token, GroupID: zendesksandbox.GroupAbuse,
		HTTP: &http.Client{Timeout: 2 * time.Second, Transport: &httpx.Retry{Backoff: 10 * time.Millisecond}}})
	if err != nil {
		t.Fatal(err)
	}
	return &env{fake: fake, srv: srv, client: c, hooks: rec}
}

func (e *env) provision(t *testing.T, dry bool) *zendesk.ProvisionResult {
	t.Helper()
	r, err := templates.New()
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.client.Provision(context.Background(), zendesk.ProvisionOptions{
		WebhookURL: e.hooks.srv.URL + "/webhooks/zendesk", WebhookSecret: "whsec", IntakeGroupID: zendesksandbox.GroupIntake,
		Fields: provision.Fields(), Macros: provision.Macros(r, 48*time.Hour, 48*time.Hour), DryRun: dry,
	})
	if err != nil {
		t.Fatalf("provision: %v", err)
	}
	return res
}

func TestProvisionIsIdempotent(t *testing.T) {
	e := setup(t)
	plan := e.provision(t, true)
	if plan.Changed() == 0 {
		t.Fatal("dry run on an empty account plans nothing")
	}
	if n := e.fake.Requests(); n > 5 {
		// a dry run only reads
		t.Logf("%d requests in the dry run", n)
	}
	first := e.provision(t, false)
	if first.Changed() != plan.Changed() {
		t.Errorf("applied %d changes, the dry run planned %d", first.Changed(), plan.Changed())
	}
	second := e.provision(t, false)
	if second.Changed() != 0 {
		for _, s := range second.Steps {
			t.Log(s)
		}
		t.Fatalf("second run changed %d things, want none", second.Changed())
	}
	// fields, the webhook, a macro per decision, and the triggers: the customer's reply, the
	// assignee, one per decision, the report received
	want := len(ticket.CaseFields) + 1 + len(workflows.AgentDecisions) + 2 + len(workflows.AgentDecisions) + 1
	if len(second.Steps) != want {
		t.Errorf("%d steps, want %d (fields, webhook, macros, triggers)", len(second.Steps), want)
	}
	if first.Secret != "" {
		t.Error("provisioning reported a secret although one was given")
	}
	// An admin deactivates one of the desk's fields: the next run puts it back, and changes
	// nothing else.
	type field struct {
		ID     int64  `json:"id"`
		Type   string `json:"type"`
		Active bool   `json:"active"`
	}
	var fields struct {
		Fields []field `json:"ticket_fields"`
	}
	doJSONInto(t, e.srv.URL, "bot@desk.example", "GET", "/api/v2/ticket_fields.json", "", &fields)
	if len(fields.Fields) == 0 {
		t.Fatal("no fields after provisioning")
	}
	before := fields.Fields[0]
	doJSON(t, e.srv.URL, "bot@desk.example", "PUT", "/api/v2/ticket_fields/"+itoa(before.ID)+".json", `{"ticket_field":{"active":false}}`)
	third := e.provision(t, false)
	if third.Changed() != 1 || !slices.ContainsFunc(third.Steps, func(s zendesk.Step) bool { return s.Action == "update" && s.Kind == "field" }) {
		t.Errorf("after a field was deactivated: %d changes %v; want the field updated", third.Changed(), third.Steps)
	}
	doJSONInto(t, e.srv.URL, "bot@desk.example", "GET", "/api/v2/ticket_fields.json", "", &fields)
	if f := fields.Fields[0]; f.ID != before.ID || !f.Active || f.Type != before.Type {
		t.Errorf("the field after the run: %+v; want active, its type kept (%s)", f, before.Type)
	}
}

func TestCaseTicketRoundTrip(t *testing.T) {
	e := setup(t)
	e.provision(t, false)
	ctx := context.Background()
	tok, err := e.client.Upload(ctx, "report.eml", "message/rfc822", []byte("From: x\r\n\r\nspam"))
	if err != nil {
		t.Fatal(err)
	}
	created, err := e.client.CreateTicket(ctx, ticket.New{
		ExternalID: "case/acct-1/spam@1", Subject: "[TS-1] Abuse", RequesterEmail: "ops@shop.example", RequesterName: "Ops",
		Comment: ticket.Comment{Body: "notice", Public: true, Uploads: []string{tok}}, Status: "pending",
		Tags: []string{"abusedesk"}, Fields: map[string]string{ticket.FieldCaseNumber: "TS-1", ticket.FieldReportCount: "3"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(created.URL, "/agent/tickets/"+created.ID) {
		t.Errorf("agent URL %q", created.URL)
	}
	// The sandbox's agent view lists its tickets (readable on a phone) and shows each.
	for path, want := range map[string]string{
		"/agent/tickets":               `<a href="/agent/tickets/` + created.ID + `">#` + created.ID + `</a></td><td>[TS-1] Abuse`,
		"/agent/tickets/" + created.ID: `<a href="/agent/tickets">All tickets</a>`,
	} {
		resp, err := http.Get(strings.TrimSuffix(created.URL, "/agent/tickets/"+created.ID) + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) || !strings.Contains(string(b), `name="viewport"`) {
			t.Errorf("GET %s: HTTP %d, want %s with a viewport:\n%s", path, resp.StatusCode, want, b)
		}
	}
	found, err := e.client.FindTicket(ctx, "case/acct-1/spam@1")
	if err != nil || found == nil || found.ID != created.ID {
		t.Fatalf("find by external id: %+v %v", found, err)
	}
	if none, err := e.client.FindTicket(ctx, "case/other"); err != nil || none != nil {
		t.Errorf("unknown external id: %+v %v, want nil", none, err)
	}
	err = e.client.UpdateTicket(ctx, created.Ref, ticket.Update{
		Comment: &ticket.Comment{Body: "internal evidence"}, AddTags: []string{"abusedesk_step_evidence"},
		Status: "open", Fields: map[string]string{ticket.FieldReportCount: "5"},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.client.GetTicket(ctx, created.Ref)
	if err != nil || got.Status != "open" || !slices.Contains(got.Tags, "abusedesk") || !slices.Contains(got.Tags, "abusedesk_step_evidence") {
		t.Fatalf("after update: %+v %v", got, err)
	}
	info, err := e.client.Ticket(ctx, num(created.Ref))
	if err != nil || info.Fields[ticket.FieldReportCount] != "5" || info.Fields[ticket.FieldCaseNumber] != "TS-1" {
		t.Errorf("case fields read back: %+v %v", info.Fields, err)
	}
	tk, comments, _ := e.fake.Ticket(num(created.Ref))
	if len(comments) != 2 || !comments[0].Public || comments[1].Public || len(comments[0].Attachments) != 1 {
		t.Errorf("comments %+v, want a public notice with the attachment and a private note", comments)
	}
	if tk.GroupID == nil || *tk.GroupID != zendesksandbox.GroupAbuse {
		t.Errorf("group %v, want the abuse group", tk.GroupID)
	}
	cs, err := e.client.Comments(ctx, num(created.Ref))
	if err != nil || len(cs) != 2 || cs[0].Body != "internal evidence" || len(cs[1].Attachments) != 1 {
		t.Fatalf("comments newest first: %+v %v", cs, err)
	}
	data, err := e.client.Download(ctx, cs[1].Attachments[0].ContentURL, 1<<20)
	if err != nil || string(data) != "From: x\r\n\r\nspam" {
		t.Errorf("attachment content %q %v", data, err)
	}
	req, _ := e.client.User(ctx, tk.RequesterID)
	if req == nil || req.Email != "ops@shop.example" || req.Role != "end-user" {
		t.Errorf("requester %+v", req)
	}
}

// The fake's JSON has Zendesk's documented shape, custom field values as strings included.
func TestTicketJSONShape(t *testing.T) {
	e := setup(t)
	e.provision(t, false)
	ctx := context.Background()
	created, err := e.client.CreateTicket(ctx, ticket.New{
		ExternalID: "x", Subject: "s", RequesterEmail: "a@b.example", Comment: ticket.Comment{Body: "b", Public: true},
		Fields: map[string]string{ticket.FieldReportCount: "7"},
	})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", e.srv.URL+"/api/v2/tickets/"+created.ID+".json", nil)
	req.SetBasicAuth(bot+"/token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	tk := out["ticket"]
	for _, k := range []string{"id", "url", "external_id", "subject", "raw_subject", "description", "status", "requester_id",
		"submitter_id", "assignee_id", "group_id", "tags", "custom_fields", "fields", "via", "created_at", "updated_at"} {
		if _, ok := tk[k]; !ok {
			t.Errorf("ticket JSON lacks %q", k)
		}
	}
	for _, cf := range tk["custom_fields"].([]any) {
		if v := cf.(map[string]any)["value"]; v != nil {
			if _, ok := v.(string); !ok {
				t.Errorf("custom field value %v is %T, want a string", v, v)
			}
		}
	}
	// A client that sends a number for a text field is refused, as Zendesk would.
	body := `{"ticket":{"custom_fields":[{"id":` + firstFieldID(t, tk) + `,"value":7}]}}`
	put, _ := http.NewRequest("PUT", e.srv.URL+"/api/v2/tickets/"+created.ID+".json", strings.NewReader(body))
	put.SetBasicAuth(bot+"/token", token)
	put.Header.Set("Content-Type", "application/json")
	r2, err := http.DefaultClient.Do(put)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != 422 {
		t.Errorf("number for a text field: %d, want 422", r2.StatusCode)
	}
}

func firstFieldID(t *testing.T, tk map[string]any) string {
	cfs := tk["custom_fields"].([]any)
	if len(cfs) == 0 {
		t.Fatal("no custom fields")
	}
	return strconv.FormatInt(int64(cfs[0].(map[string]any)["id"].(float64)), 10)
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("4xx is invalid with Zendesk's description", func(t *testing.T) {
		e := setup(t)
		_, err := e.client.CreateTicket(ctx, ticket.New{Subject: "s", RequesterEmail: "not-an-email", Comment: ticket.Comment{Body: "b"}})
		var fe *fault.Error
		if !errors.As(err, &fe) || fe.Kind != fault.Invalid || fe.Status != 422 || !strings.Contains(fe.Message, "Email is invalid") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("unknown ticket is not found", func(t *testing.T) {
		e := setup(t)
		if _, err := e.client.GetTicket(ctx, e.client.Ref(999999)); !fault.Is(err, fault.NotFound) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("another system's ticket is invalid input", func(t *testing.T) {
		e := setup(t)
		for _, ref := range []ticket.Ref{{System: "memory", ID: "mem-1"}, {System: ticket.Zendesk, ID: "abc"}, {}} {
			if _, err := e.client.GetTicket(ctx, ref); !fault.Is(err, fault.Invalid) {
				t.Errorf("GetTicket(%+v): %v, want invalid input", ref, err)
			}
			if err := e.client.UpdateTicket(ctx, ref, ticket.Update{Status: "open"}); !fault.Is(err, fault.Invalid) {
				t.Errorf("UpdateTicket(%+v): %v, want invalid input", ref, err)
			}
		}
	})
	t.Run("wrong token is unauthorized", func(t *testing.T) {
		e := setup(t)
		c, _ := zendesk.New(zendesk.Config{URL: e.srv.URL, Email: bot, Token: "nope"})
		if _, err := c.GetTicket(ctx, c.Ref(1)); !fault.Is(err, fault.Unauthorized) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("429 with a short Retry-After is waited out", func(t *testing.T) {
		e := setup(t)
		e.fake.Inject("/api/v2/tickets.json", 429, "1", 1)
		start := time.Now()
		if _, err := e.client.FindTicket(ctx, "x"); err != nil {
			t.Fatal(err)
		}
		if time.Since(start) < time.Second {
			t.Error("did not wait the Retry-After")
		}
	})
	t.Run("429 with a long Retry-After is returned with the delay", func(t *testing.T) {
		e := setup(t)
		e.fake.Inject("/api/v2/tickets", 429, "60", 1)
		_, err := e.client.GetTicket(ctx, e.client.Ref(1))
		if !fault.Is(err, fault.RateLimited) || fault.RetryAfter(err) != time.Minute {
			t.Errorf("got %v (retry after %v)", err, fault.RetryAfter(err))
		}
	})
	t.Run("429 without Retry-After backs off then reports rate limited", func(t *testing.T) {
		e := setup(t)
		e.fake.Inject("/api/v2/tickets", 429, "", 3)
		_, err := e.client.FindTicket(ctx, "x")
		if !fault.Is(err, fault.RateLimited) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("the account's rate limit answers 429 with Retry-After", func(t *testing.T) {
		e := setup(t)
		e.fake.RateLimit = 2
		c, _ := zendesk.New(zendesk.Config{URL: e.srv.URL, Email: bot, Token: token, HTTP: &http.Client{}})
		var err error
		for range 3 {
			_, err = c.FindTicket(ctx, "x")
		}
		if !fault.Is(err, fault.RateLimited) || fault.RetryAfter(err) <= 0 {
			t.Errorf("third request in a minute with a limit of 2: %v", err)
		}
	})
	t.Run("5xx then success", func(t *testing.T) {
		e := setup(t)
		e.fake.Inject("/api/v2/tickets.json", 503, "", 2)
		if _, err := e.client.FindTicket(ctx, "x"); err != nil {
			t.Errorf("got %v, want success after two 503s", err)
		}
	})
	t.Run("timeout is transient", func(t *testing.T) {
		e := setup(t)
		c, _ := zendesk.New(zendesk.Config{URL: e.srv.URL, Email: bot, Token: token, HTTP: &http.Client{Timeout: 100 * time.Millisecond}})
		e.fake.InjectDelay("/api/v2/tickets", time.Second, 1)
		if _, err := c.GetTicket(ctx, c.Ref(1)); !fault.Is(err, fault.Transient) {
			t.Errorf("got %v", err)
		}
	})
}

// The provisioned triggers notify the desk, signed as Zendesk signs, when the requester answers
// and when an agent submits a decision macro; the decision tag is removed again.
func TestTriggersSendSignedWebhooks(t *testing.T) {
	e := setup(t)
	e.provision(t, false)
	ctx := context.Background()
	tk, err := e.client.CreateTicket(ctx, ticket.New{ExternalID: "case/a/spam@1", Subject: "s", RequesterEmail: "ops@shop.example",
		Comment: ticket.Comment{Body: "notice", Public: true}, Tags: []string{"abusedesk"}, Fields: map[string]string{ticket.FieldCaseNumber: "TS-9"}})
	if err != nil {
		t.Fatal(err)
	}
	// The customer answers by email (the Requests API, as the end user).
	doJSON(t, e.srv.URL, "ops@shop.example", "PUT", "/api/v2/requests/"+tk.ID+".json", `{"request":{"comment":{"body":"fixed it"}}}`)
	// An agent applies the "Accept remediation" macro and submits it.
	var macros struct {
		Macros []struct {
			ID    int64  `json:"id"`
			Title string `json:"title"`
		} `json:"macros"`
	}
	doJSONInto(t, e.srv.URL, "agent@desk.example", "GET", "/api/v2/macros.json", "", &macros)
	var macroID int64
	for _, m := range macros.Macros {
		if m.Title == "abusedesk: Accept remediation" {
			macroID = m.ID
		}
	}
	var applied struct {
		Result struct {
			Ticket  map[string]any `json:"ticket"`
			Comment map[string]any `json:"comment"`
		} `json:"result"`
	}
	doJSONInto(t, e.srv.URL, "agent@desk.example", "GET", "/api/v2/tickets/"+tk.ID+"/macros/"+itoa(macroID)+"/apply.json", "", &applied)
	if body, _ := applied.Result.Comment["body"].(string); !strings.Contains(body, "TS-9") {
		t.Errorf("the macro's text does not carry the case number from the case field: %q", body)
	}
	submit, _ := json.Marshal(map[string]any{"ticket": map[string]any{"comment": applied.Result.Comment, "tags": applied.Result.Ticket["tags"]}})
	doJSON(t, e.srv.URL, "agent@desk.example", "PUT", "/api/v2/tickets/"+tk.ID+".json", string(submit))
	e.fake.Flush()

	got := e.hooks.all()
	if len(got) != 2 {
		t.Fatalf("%d webhook notifications, want 2 (reply, decision)", len(got))
	}
	events := map[string]zendesk.Event{}
	for _, r := range got {
		if err := zendesk.Verify("whsec", r.header, r.body, time.Now()); err != nil {
			t.Errorf("signature check failed: %v", err)
		}
		ev, id, err := zendesk.ParseEvent(r.body)
		if err != nil || id != num(tk.Ref) {
			t.Fatalf("event %s: %v", r.body, err)
		}
		events[ev.Kind] = ev
	}
	if ev := events[zendesk.EventCustomerReply]; ev.Actor != "ops@shop.example" {
		t.Errorf("reply event %+v", ev)
	}
	if ev := events[zendesk.EventDecision]; ev.Decision != string(workflows.DecisionAcceptRemediation) || ev.Actor != "agent@desk.example" {
		t.Errorf("decision event %+v", ev)
	}
	// The trigger leaves the decision tag (the desk removes it once the case has the
	// decision; a lost webhook leaves it for the export poll) and marks it sent, so another
	// update of the ticket does not call the desk again.
	after, _, _ := e.fake.Ticket(num(tk.Ref))
	d := string(workflows.DecisionAcceptRemediation)
	if !slices.Contains(after.Tags, zendesk.TagDecisionPrefix+d) || !slices.Contains(after.Tags, zendesk.TagDecisionSent+d) {
		t.Errorf("tags after the trigger %v, want the decision tag kept and marked sent", after.Tags)
	}
	doJSON(t, e.srv.URL, "agent@desk.example", "PUT", "/api/v2/tickets/"+tk.ID+".json", `{"ticket":{"comment":{"body":"an internal remark","public":false}}}`)
	e.fake.Flush()
	if n := len(e.hooks.all()); n != 2 {
		t.Errorf("%d webhook notifications after another update, want still 2", n)
	}
}

func TestVerify(t *testing.T) {
	body := []byte(`{"abusedesk_event":"report","ticket_id":"5"}`)
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	ts := now.Format(time.RFC3339)
	good := http.Header{}
	good.Set(zendesk.HeaderTimestamp, ts)
	good.Set(zendesk.HeaderSignature, zendesk.Sign("s3cret", ts, body))
	if err := zendesk.Verify("s3cret", good, body, now); err != nil {
		t.Fatalf("good signature: %v", err)
	}
	tests := []struct {
		name   string
		secret string
		header func() http.Header
		body   []byte
		now    time.Time
		want   error
	}{
		{"unsigned", "s3cret", func() http.Header { return http.Header{} }, body, now, zendesk.ErrUnsigned},
		{"wrong secret", "other", func() http.Header { return good }, body, now, zendesk.ErrForged},
		{"body changed", "s3cret", func() http.Header { return good }, []byte(`{"abusedesk_event":"report","ticket_id":"6"}`), now, zendesk.ErrForged},
		{"stale", "s3cret", func() http.Header { return good }, body, now.Add(6 * time.Minute), zendesk.ErrStale},
		{"from the future", "s3cret", func() http.Header { return good }, body, now.Add(-6 * time.Minute), zendesk.ErrStale},
		{"signature of another timestamp", "s3cret", func() http.Header {
			h := good.Clone()
			h.Set(zendesk.HeaderTimestamp, now.Add(time.Second).Format(time.RFC3339))
			return h
		}, body, now, zendesk.ErrForged},
		{"not base64", "s3cret", func() http.Header {
			h := good.Clone()
			h.Set(zendesk.HeaderSignature, base64.StdEncoding.EncodeToString([]byte("x"))+"!")
			return h
		}, body, now, zendesk.ErrForged},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := zendesk.Verify(tc.secret, tc.header(), tc.body, tc.now); !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// TestExportPages: the incremental export as Zendesk serves it — the last minute's changes
// are left for a later request, a start time in the future is refused, and cursors are
// standard base64 ("+", "/", "="), which the client must escape in the query.
func TestExportPages(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	clock := time.Now()
	e.fake.Now = func() time.Time { return clock }
	start := clock.Add(-time.Minute)
	for i := range 3 {
		if _, err := e.client.CreateTicket(ctx, ticket.New{Subject: "t" + itoa(int64(i)), RequesterEmail: "r@x.example", Comment: ticket.Comment{Body: "b"}}); err != nil {
			t.Fatal(err)
		}
	}
	if p, err := e.client.Export(ctx, "", start); err != nil || len(p.Tickets) != 0 {
		t.Fatalf("changes of the last minute: %+v %v, want none yet", p, err)
	}
	if _, err := e.client.Export(ctx, "", clock.Add(time.Hour)); !fault.Is(err, fault.Invalid) {
		t.Errorf("a start time in the future: %v, want refused", err)
	}
	clock = clock.Add(61 * time.Second)
	p, err := e.client.Export(ctx, "", start)
	if err != nil || len(p.Tickets) != 3 || !p.EndOfStream || !strings.ContainsAny(p.Cursor, "+/=") {
		t.Fatalf("first page: %+v %v (the cursor should need escaping)", p, err)
	}
	p2, err := e.client.Export(ctx, p.Cursor, time.Time{})
	if err != nil || len(p2.Tickets) != 0 {
		t.Fatalf("nothing changed since: %+v %v", p2, err)
	}
	if err := e.client.UpdateTicket(ctx, e.client.Ref(p.Tickets[0].ID), ticket.Update{Status: "open"}); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(61 * time.Second)
	p3, err := e.client.Export(ctx, p2.Cursor, time.Time{})
	if err != nil || len(p3.Tickets) != 1 || p3.Tickets[0].ID != p.Tickets[0].ID {
		t.Fatalf("after one update: %+v %v", p3, err)
	}
}

func doJSON(t *testing.T, base, user, method, path, body string) {
	t.Helper()
	doJSONInto(t, base, user, method, path, body, nil)
}

func doJSONInto(t *testing.T, base, user, method, path, body string, out any) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, base+path, r)
	req.SetBasicAuth(user+"/token", token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s as %s: %d %s", method, path, user, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatal(err)
		}
	}
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

// TestGroupMembers: a group's agents are read from the group's own memberships (not every
// group's), group 0 is the desk's group, and an unknown group is an error naming it.
func TestGroupMembers(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	e.fake.AddAgent("legal@desk.example", "Lou Legal", zendesksandbox.GroupLegal)
	e.fake.AddAgent("agent@desk.example", "agent", zendesksandbox.GroupAbuse)
	legal, err := e.client.GroupMembers(ctx, zendesksandbox.GroupLegal)
	if err != nil || len(legal) != 1 {
		t.Fatalf("legal group: %v %v, want its one agent", legal, err)
	}
	u, err := e.client.User(ctx, legal[0])
	if err != nil || u.Email != "legal@desk.example" {
		t.Fatalf("the legal group's member is %+v (%v), want legal@desk.example", u, err)
	}
	desk, err := e.client.GroupMembers(ctx, 0)
	if err != nil || len(desk) != 1 || desk[0] == legal[0] {
		t.Errorf("group 0 (the desk's abuse group): %v %v, want the abuse agent alone", desk, err)
	}
	_, err = e.client.GroupMembers(ctx, 999)
	if fault.KindOf(err) != fault.NotFound || !strings.Contains(err.Error(), "999") {
		t.Errorf("unknown group: %v, want not found naming it", err)
	}
}

// TestSandboxKeepsFilesOnDisk: with FilesDir set, the sandbox Zendesk keeps an attachment's bytes
// in a file, not in memory nor in its saved state, and serves them whole.
func TestSandboxKeepsFilesOnDisk(t *testing.T) {
	e := setup(t)
	e.fake.FilesDir = t.TempDir()
	ctx := context.Background()
	raw := []byte("From: x\r\n\r\n" + strings.Repeat("a large report ", 10000))
	tok, err := e.client.Upload(ctx, "large.eml", "message/rfc822", raw)
	if err != nil {
		t.Fatal(err)
	}
	created, err := e.client.CreateTicket(ctx, ticket.New{ExternalID: "case/acct-1/spam@1", Subject: "s", RequesterEmail: "ops@shop.example",
		Comment: ticket.Comment{Body: "notice", Public: true, Uploads: []string{tok}}})
	if err != nil {
		t.Fatal(err)
	}
	files, _ := os.ReadDir(e.fake.FilesDir)
	if len(files) != 1 {
		t.Fatalf("%d files kept, want the attachment's", len(files))
	}
	state, err := e.fake.Save()
	if err != nil {
		t.Fatal(err)
	}
	if len(state) > len(raw)/2 {
		t.Errorf("the saved state is %d bytes: it holds the %d-byte attachment", len(state), len(raw))
	}
	cs, err := e.client.Comments(ctx, num(created.Ref))
	if err != nil || len(cs) == 0 || len(cs[0].Attachments) != 1 {
		t.Fatalf("comments %+v %v", cs, err)
	}
	got, err := e.client.Download(ctx, cs[0].Attachments[0].ContentURL, 1<<20)
	if err != nil || string(got) != string(raw) {
		t.Errorf("downloaded %d bytes (%v), want the %d uploaded", len(got), err, len(raw))
	}
}

// TestRedact: the texts leave every comment that held them (as ▇s, the rest of the comment
// kept), the desk's raw reports become empty redacted.txt files while another file stays, and
// texts too short to say anything are left alone.
func TestRedact(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	evidence, err := e.client.Upload(ctx, ticket.EvidencePrefix+"0123456789ab.eml", "message/rfc822", []byte("From: det@police.example\r\n\r\npreserve"))
	if err != nil {
		t.Fatal(err)
	}
	other, err := e.client.Upload(ctx, "screenshot.png", "image/png", []byte("png"))
	if err != nil {
		t.Fatal(err)
	}
	created, err := e.client.CreateTicket(ctx, ticket.New{Subject: "s", RequesterEmail: "ops@shop.example",
		Comment: ticket.Comment{Body: "Notice about 192.0.2.10.", Public: true}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.client.UpdateTicket(ctx, created.Ref, ticket.Update{Comment: &ticket.Comment{Body: "Reports: from det@police.example: Preservation request 2026-7003 for 192.0.2.10", Uploads: []string{evidence, other}}}); err != nil {
		t.Fatal(err)
	}
	n, err := e.client.Redact(ctx, created.Ref, []string{"Preservation request 2026-7003", "det@police.example", "192.0"})
	if err != nil || n != 3 {
		t.Fatalf("redact: %d removed, %v; want the two texts and the raw report", n, err)
	}
	comments, err := e.client.Comments(ctx, num(created.Ref))
	if err != nil {
		t.Fatal(err)
	}
	note := comments[0]
	if strings.Contains(note.Body, "police") || strings.Contains(note.Body, "2026-7003") || !strings.Contains(note.Body, "▇") || !strings.Contains(note.Body, "192.0.2.10") {
		t.Errorf("the note after redaction: %q; want the texts blotted out, the short one kept", note.Body)
	}
	var names []string
	for _, a := range note.Attachments {
		names = append(names, a.FileName)
	}
	if strings.Join(names, " ") != "redacted.txt screenshot.png" {
		t.Errorf("attachments %v; want the raw report redacted, the other file kept", names)
	}
	if comments[1].Body != "Notice about 192.0.2.10." {
		t.Errorf("a comment without the texts changed: %q", comments[1].Body)
	}
}

// num is the Zendesk ticket a reference names.
func num(ref ticket.Ref) int64 {
	n, _ := ref.Number()
	return n
}
