package zendesk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"abusedesk/devenv/zendesksandbox"
	"abusedesk/domain/fault"
	"abusedesk/domain/ticket"
)

// missingTickets is a Zendesk whose every ticket read fails with err; it fails the test if the
// webhook reaches it before answering.
type missingTickets struct {
	ChannelAPI
	err   error
	reads int
}

func (m *missingTickets) Ticket(context.Context, int64) (*TicketInfo, error) {
	m.reads++
	return nil, m.err
}

type keptBodies struct{ kept [][]byte }

func (k *keptBodies) Put(p []byte) error { k.kept = append(k.kept, p); return nil }

// fakeDesk is the desk's side of the port: it records what the channel hands it, says of each
// case what owners holds, and refuses what refuse names.
type fakeDesk struct {
	decisions []ticket.Decision
	replies   []ticket.Reply
	owners    map[string]string // case ID → owner; a case absent is not listed
	refuse    map[string]string // decision → reason
}

func (f *fakeDesk) TakeReport(context.Context, ticket.Report) (string, error) {
	return "taken", nil
}

func (f *fakeDesk) TakeReply(_ context.Context, r ticket.Reply) (string, error) {
	f.replies = append(f.replies, r)
	return "", nil
}

func (f *fakeDesk) TakeDecision(_ context.Context, d ticket.Decision) error {
	if reason, ok := f.refuse[d.Decision]; ok {
		return &ticket.Refused{Reason: reason, Note: "Refused: " + reason}
	}
	f.decisions = append(f.decisions, d)
	return nil
}

func (f *fakeDesk) CaseOf(_ context.Context, link ticket.CaseLink) (ticket.CaseState, error) {
	owner, ok := f.owners[link.CaseID]
	return ticket.CaseState{Listed: ok, Open: ok, Owner: owner}, nil
}

func (f *fakeDesk) RefusalNote(decision, reason string) (string, error) {
	return "Not taken: " + decision + ": " + reason, nil
}

const caseID = "case/acct-bank/phishing"

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestWebhookKeepsThenProcesses: with a Queue, a signed notification is kept and answered at
// once, before any Zendesk read; Process then does it, and an event about a ticket that does not
// exist comes back Permanent (the inbox sets it aside) while an outage does not (it is tried
// again).
func TestWebhookKeepsThenProcesses(t *testing.T) {
	api := &missingTickets{err: &fault.Error{Kind: fault.NotFound, Service: "zendesk", Op: "show ticket", Status: 404}}
	q := &keptBodies{}
	z := &Channel{API: api, Desk: &fakeDesk{}, Secret: "whsec", Queue: q, Log: quiet()}
	srv := httptest.NewServer(z.WebhookHandler())
	defer srv.Close()
	send := func(body []byte, secret string) int {
		ts := time.Now().UTC().Format(time.RFC3339)
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		req.Header.Set(HeaderTimestamp, ts)
		req.Header.Set(HeaderSignature, Sign(secret, ts, body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	body := []byte(`{"abusedesk_event":"report","ticket_id":"999"}`)
	if code := send(body, "forged"); code != http.StatusUnauthorized || len(q.kept) != 0 {
		t.Fatalf("a forged notification: %d, %d kept; want 401, none", code, len(q.kept))
	}
	if code := send(body, "whsec"); code != http.StatusOK || len(q.kept) != 1 || api.reads != 0 {
		t.Fatalf("webhook: %d, %d kept, %d ticket reads; want 200, kept, none read", code, len(q.kept), api.reads)
	}
	if err := z.Process(context.Background(), q.kept[0]); !Permanent(err) {
		t.Errorf("a notification about a ticket that does not exist: %v, want a permanent error", err)
	}
	if err := z.Process(context.Background(), []byte(`{"abusedesk_event":"nonsense"}`)); !Permanent(err) {
		t.Errorf("a kept body that is no event: %v, want a permanent error", err)
	}
	api.err = &fault.Error{Kind: fault.Transient, Service: "zendesk", Op: "show ticket", Status: 503}
	if err := z.Process(context.Background(), q.kept[0]); err == nil || Permanent(err) {
		t.Errorf("a notification while Zendesk is down: %v, want an error to try again", err)
	}
}

// sandboxZendesk is a sandbox Zendesk with a bot, a lead and an agent, and a client as each.
func sandboxZendesk(t *testing.T) (*zendesksandbox.Server, func(email string) *Client) {
	t.Helper()
	fake := zendesksandbox.New("tok", "bot@desk.example", "lead@desk.example", "agent@desk.example")
	srv := httptest.NewServer(fake.Handler())
	t.Cleanup(srv.Close)
	fake.SetBaseURL(srv.URL)
	return fake, func(email string) *Client {
		c, err := New(Config{URL: srv.URL, Email: email, Token: "tok"})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
}

// caseTicket opens a case ticket as the bot (its external ID names the case) and returns its
// ID.
func caseTicket(t *testing.T, bot *Client) int64 {
	t.Helper()
	tk, err := bot.CreateTicket(context.Background(), ticket.New{ExternalID: caseID, Subject: "Case", RequesterEmail: "customer@bank.example",
		Comment: ticket.Comment{Body: "notice"}})
	if err != nil {
		t.Fatal(err)
	}
	id, ok := tk.Number()
	if !ok || tk.System != ticket.Zendesk {
		t.Fatalf("the ticket's reference %+v names no Zendesk ticket", tk.Ref)
	}
	return id
}

// TestDecisionAuthorFromTheAudit: a decision is credited to whoever made the update that added
// the macro's tag (the ticket's audits), never to the author of a later comment, whether the
// export poll recovers it (no actor) or a webhook names someone else; a tag no update added is
// refused with a note, not guessed; a decision the desk refuses leaves its note and loses its
// tags.
func TestDecisionAuthorFromTheAudit(t *testing.T) {
	fake, as := sandboxZendesk(t)
	bot, lead, agent := as("bot@desk.example"), as("lead@desk.example"), as("agent@desk.example")
	ctx := context.Background()
	id := caseTicket(t, bot)
	const grant = "grant_appeal"
	if err := lead.Update(ctx, id, Update{Comment: &ticket.Comment{Body: "Checked: the page is gone."}, AddTags: []string{TagDecisionPrefix + grant}}); err != nil {
		t.Fatal(err)
	}
	if err := agent.Update(ctx, id, Update{Comment: &ticket.Comment{Body: "fyi, customer called"}}); err != nil {
		t.Fatal(err)
	}
	desk := &fakeDesk{}
	z := &Channel{API: bot, Desk: desk, Log: quiet()}
	leadUser, _ := fake.UserByEmail("lead@desk.example")
	agentUser, _ := fake.UserByEmail("agent@desk.example")

	// The poll: no actor known.
	if err := z.Handle(ctx, Event{Kind: EventDecision, Decision: grant}, id); err != nil {
		t.Fatal(err)
	}
	// A webhook naming the later commenter.
	if err := z.Handle(ctx, Event{Kind: EventDecision, Decision: grant, ActorID: fmt.Sprint(agentUser.ID), Actor: "agent@desk.example"}, id); err != nil {
		t.Fatal(err)
	}
	if len(desk.decisions) != 2 {
		t.Fatalf("%d decisions delivered, want 2", len(desk.decisions))
	}
	for i, d := range desk.decisions {
		if d.AgentEmail != "lead@desk.example" || d.AgentID != fmt.Sprint(leadUser.ID) || d.Text != "Checked: the page is gone." {
			t.Errorf("decision %d credited to %s (%s) with text %q; want lead@desk.example, who applied the macro, and their comment", i, d.AgentEmail, d.AgentID, d.Text)
		}
		if d.Ticket != bot.Ref(id) || d.Case != (ticket.CaseLink{CaseID: caseID}) {
			t.Errorf("decision %d names ticket %+v, case %+v", i, d.Ticket, d.Case)
		}
	}
	if desk.decisions[0].RequestID != desk.decisions[1].RequestID {
		t.Errorf("the poll and the webhook keyed the decision %q and %q: it would apply twice", desk.decisions[0].RequestID, desk.decisions[1].RequestID)
	}

	// A decision tag that no update of the ticket added (here: never there at all).
	if err := z.Handle(ctx, Event{Kind: EventDecision, Decision: "deny_appeal"}, id); err != nil {
		t.Fatal(err)
	}
	if len(desk.decisions) != 2 {
		t.Errorf("a decision nobody can be credited with was delivered: %+v", desk.decisions[2:])
	}
	comments, err := bot.Comments(ctx, id)
	if err != nil || len(comments) == 0 || !strings.Contains(comments[0].Body, "cannot tell who applied the macro") {
		t.Errorf("no note saying who applied the macro is unknown: %+v %v", comments, err)
	}

	// The desk refuses a decision: its note goes on the ticket, the macro's tags come off.
	desk.refuse = map[string]string{"resolve": "the case waits for a lead"}
	if err := agent.Update(ctx, id, Update{AddTags: []string{TagDecisionPrefix + "resolve"}}); err != nil {
		t.Fatal(err)
	}
	if err := z.Handle(ctx, Event{Kind: EventDecision, Decision: "resolve"}, id); err != nil {
		t.Fatal(err)
	}
	info, err := bot.Ticket(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	comments, _ = bot.Comments(ctx, id)
	if len(comments) == 0 || comments[0].Body != "Refused: the case waits for a lead" || comments[0].Public || strings.Contains(strings.Join(info.Tags, " "), TagDecisionPrefix+"resolve") {
		t.Errorf("a refused decision: latest comment %+v, tags %v; want the desk's note, internal, and the tag gone", comments[0], info.Tags)
	}
}

// TestAssigneeFromTheTicket: an agent who assigns a case's ticket in Zendesk assigns the case,
// credited to who changed it as the ticket's audit says (not the webhook's word); the desk's own
// assignment echoed back is no decision; the export poll finds a change whose notification was
// missed.
func TestAssigneeFromTheTicket(t *testing.T) {
	fake, as := sandboxZendesk(t)
	bot, agent := as("bot@desk.example"), as("agent@desk.example")
	ctx := context.Background()
	const number = "TS-ASSIGN001"
	id := caseTicket(t, bot)
	leadUser, _ := fake.UserByEmail("lead@desk.example")
	agentUser, _ := fake.UserByEmail("agent@desk.example")
	desk := &fakeDesk{owners: map[string]string{caseID: ""}}
	z := &Channel{API: bot, Desk: desk, Log: quiet()}

	lead := leadUser.ID
	if err := agent.Update(ctx, id, Update{Assign: &lead}); err != nil {
		t.Fatal(err)
	}
	// A webhook naming someone else: the audit decides.
	if err := z.Handle(ctx, Event{Kind: EventAssigned, ActorID: fmt.Sprint(leadUser.ID)}, id); err != nil {
		t.Fatal(err)
	}
	if len(desk.decisions) != 1 {
		t.Fatalf("%d decisions delivered, want 1", len(desk.decisions))
	}
	if d := desk.decisions[0]; d.Decision != ticket.DecisionAssign || d.Assignee != fmt.Sprint(leadUser.ID) || d.AgentID != fmt.Sprint(agentUser.ID) || d.AgentEmail != "agent@desk.example" || d.RequestID == "" {
		t.Errorf("the assignment delivered: %+v; want the lead assigned, by the agent", d)
	}
	// The case has that owner now: the same notification again, or the poll, delivers nothing.
	desk.owners[caseID] = fmt.Sprint(leadUser.ID)
	if err := z.Handle(ctx, Event{Kind: EventAssigned}, id); err != nil {
		t.Fatal(err)
	}
	info := TicketInfo{ID: id, ExternalID: caseID, AssigneeID: leadUser.ID, Fields: map[string]string{ticket.FieldCaseNumber: number}}
	if err := z.catchUp(ctx, info); err != nil {
		t.Fatal(err)
	}
	if len(desk.decisions) != 1 {
		t.Errorf("an assignment the case already has was delivered again: %+v", desk.decisions[1:])
	}
	// Unassigned in Zendesk with the notification lost: the poll finds it.
	if err := agent.Update(ctx, id, Update{Assign: new(int64)}); err != nil {
		t.Fatal(err)
	}
	info.AssigneeID = 0
	if err := z.catchUp(ctx, info); err != nil {
		t.Fatal(err)
	}
	if len(desk.decisions) != 2 || desk.decisions[1].Assignee != "" || desk.decisions[1].AgentEmail != "agent@desk.example" {
		t.Errorf("the missed unassignment: %+v; want nobody, by the agent", desk.decisions[1:])
	}
	// A case the desk does not list as under way: its ticket's assignee changes nothing.
	delete(desk.owners, caseID)
	if err := agent.Update(ctx, id, Update{Assign: &lead}); err != nil {
		t.Fatal(err)
	}
	info.AssigneeID = lead
	if err := z.catchUp(ctx, info); err != nil || len(desk.decisions) != 2 {
		t.Errorf("a case not listed: %v, %d decisions; want none more", err, len(desk.decisions))
	}
}

// TestPollWaitHonoursRetryAfter: the export poll waits its interval, 6 s between the pages of a
// stream, and never less than a refusal's Retry-After.
func TestPollWaitHonoursRetryAfter(t *testing.T) {
	limited := &fault.Error{Kind: fault.RateLimited, Service: "zendesk", Op: "incremental export", Status: 429, RetryAfter: 7 * time.Second}
	for _, tc := range []struct {
		interval time.Duration
		end      bool
		err      error
		want     time.Duration
	}{
		{3 * time.Second, true, nil, 3 * time.Second},
		{3 * time.Second, false, nil, 6 * time.Second},
		{3 * time.Second, false, limited, 7 * time.Second},
		{time.Minute, true, limited, time.Minute},
		{3 * time.Second, false, errors.New("connection refused"), 3 * time.Second},
	} {
		if got := pollWait(tc.interval, tc.end, tc.err); got != tc.want {
			t.Errorf("pollWait(%v, end=%v, %v) = %v, want %v", tc.interval, tc.end, tc.err, got, tc.want)
		}
	}
}
