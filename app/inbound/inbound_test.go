package inbound

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"abusedesk/app/cases"
	"abusedesk/app/intake"
	"abusedesk/devenv/zendesksandbox"
	"abusedesk/domain/fault"
	"abusedesk/domain/ticket"
	"abusedesk/integrations/mailbox"
	"abusedesk/integrations/reports"
	"abusedesk/integrations/zendesk"
	"abusedesk/templates"
	"abusedesk/workflows"
)

// ingester answers what the test says and records what it got.
type ingester struct {
	out *intake.Outcome
	err error
	got []intake.Source
}

func (f *ingester) Ingest(_ context.Context, _ []byte, src intake.Source) (*intake.Outcome, error) {
	f.got = append(f.got, src)
	return f.out, f.err
}

func TestReportsAPIAnswers(t *testing.T) {
	accepted := &intake.Outcome{Kind: reports.KindReport, Accepted: []intake.Accepted{{ReportID: "r1", CaseID: "case/a/spam"}}}
	triaged := &intake.Outcome{Kind: reports.KindUnparseable, Triaged: []intake.Triaged{{Reason: "unreadable"}}}
	tests := []struct {
		name       string
		auth, body string
		in         *ingester
		status     int
		retryAfter string
		ingested   int
	}{
		{"accepted", "Bearer tok", "report", &ingester{out: accepted}, http.StatusOK, "", 1},
		{"only triage", "Bearer tok", "report", &ingester{out: triaged}, http.StatusAccepted, "", 1},
		{"no token", "", "report", &ingester{out: accepted}, http.StatusUnauthorized, "", 0},
		{"wrong token", "Bearer nope", "report", &ingester{out: accepted}, http.StatusUnauthorized, "", 0},
		{"empty body", "Bearer tok", "  \n", &ingester{out: accepted}, http.StatusBadRequest, "", 0},
		{"too large", "Bearer tok", strings.Repeat("x", 65), &ingester{out: accepted}, http.StatusRequestEntityTooLarge, "", 0},
		{"held back", "Bearer tok", "report", &ingester{err: intake.ErrSlowDown}, http.StatusServiceUnavailable, "1", 1},
		{"service down", "Bearer tok", "report", &ingester{err: errors.New("enforcement API unavailable")}, http.StatusServiceUnavailable, "5", 1},
		{"scheme in lower case (RFC 9110)", "bearer tok", "report", &ingester{out: accepted}, http.StatusOK, "", 1},
		{"JSON that is no X-ARF", "Bearer tok", `{"category":"x"}`, &ingester{out: &intake.Outcome{Kind: reports.KindUnparseable,
			Triaged: []intake.Triaged{{Reason: "unparseable: not a mail, and not an X-ARF 4 report: no xarf_version"}}}}, http.StatusUnprocessableEntity, "", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(ReportsAPI(tc.in, "tok", 64, APIOptions{}, slog.New(slog.NewTextHandler(io.Discard, nil))))
			defer srv.Close()
			req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(tc.body))
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.status || resp.Header.Get("Retry-After") != tc.retryAfter {
				t.Fatalf("HTTP %d Retry-After %q, want %d %q", resp.StatusCode, resp.Header.Get("Retry-After"), tc.status, tc.retryAfter)
			}
			if len(tc.in.got) != tc.ingested {
				t.Fatalf("intake got %d messages, want %d", len(tc.in.got), tc.ingested)
			}
			if tc.ingested > 0 && tc.in.got[0].Channel != "api" {
				t.Errorf("channel %q, want api", tc.in.got[0].Channel)
			}
			var body map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("the answer is not JSON: %v", err)
			}
			if tc.status >= 400 {
				if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" || body["detail"] == "" {
					t.Errorf("error answer: %s %v, want problem+json with a detail", ct, body)
				}
			} else if body["accepted"] != true {
				t.Errorf("answer %v does not say accepted", body)
			}
		})
	}
}

func TestMailboxDisposition(t *testing.T) {
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		in   *ingester
		want mailbox.Disposition
		err  bool
	}{
		{"a report is processed", &ingester{out: &intake.Outcome{Kind: reports.KindReport}}, mailbox.Processed, false},
		{"a reply is processed", &ingester{out: &intake.Outcome{Kind: reports.KindReply}}, mailbox.Processed, false},
		{"unreadable mail goes to the failed folder", &ingester{out: &intake.Outcome{Kind: reports.KindUnparseable}}, mailbox.Failed, false},
		{"not accepted stays in the mailbox", &ingester{err: intake.ErrBusy}, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Mailbox(tc.in)(context.Background(), []byte("mail"), at)
			if (err != nil) != tc.err || got != tc.want {
				t.Fatalf("disposition %v, error %v; want %v, error %v", got, err, tc.want, tc.err)
			}
			if src := tc.in.got[0]; src.Channel != "imap" || !src.ReceivedAt.Equal(at) {
				t.Errorf("source %+v, want imap at %s", src, at)
			}
		})
	}
}

// TestReportsAPIProtocol: methods, encodings and what an API client reads back.
func TestReportsAPIProtocol(t *testing.T) {
	in := &ingester{out: &intake.Outcome{Kind: reports.KindReport, Accepted: []intake.Accepted{{ReportID: "r1"}}}}
	srv := httptest.NewServer(ReportsAPI(in, "tok", 1<<20, APIOptions{}, slog.New(slog.NewTextHandler(io.Discard, nil))))
	defer srv.Close()
	do := func(method, encoding string, body []byte) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer tok")
		if encoding != "" {
			req.Header.Set("Content-Encoding", encoding)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	if resp := do(http.MethodGet, "", nil); resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" ||
		resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("GET: %d, Allow %q, %s; want 405 problem+json allowing POST", resp.StatusCode, resp.Header.Get("Allow"), resp.Header.Get("Content-Type"))
	}
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	_, _ = zw.Write([]byte("From: a@b.example\n\nspam from 192.0.2.1\n"))
	_ = zw.Close()
	if resp := do(http.MethodPost, "gzip", zipped.Bytes()); resp.StatusCode != http.StatusOK || len(in.got) != 1 {
		t.Errorf("gzip body: %d, %d messages", resp.StatusCode, len(in.got))
	}
	if resp := do(http.MethodPost, "gzip", []byte("not gzip")); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a body that is not gzip: %d, want 400", resp.StatusCode)
	}
	if resp := do(http.MethodPost, "br", []byte("x")); resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("Content-Encoding br: %d, want 415", resp.StatusCode)
	}
}

// gate is an ingester that admits or refuses before the body is read, and holds each Ingest
// until released.
type gate struct {
	refuse  error
	release chan struct{}
	started chan struct{}
}

func (g *gate) Admit() error { return g.refuse }

func (g *gate) Ingest(ctx context.Context, _ []byte, src intake.Source) (*intake.Outcome, error) {
	if !src.Admitted {
		return nil, errors.New("ingested without admission")
	}
	g.started <- struct{}{}
	<-g.release
	return &intake.Outcome{Kind: reports.KindReport}, nil
}

// countingBody records how much of a request body the server read.
type countingBody struct {
	n    int
	left int
}

func (b *countingBody) Read(p []byte) (int, error) {
	if b.left == 0 {
		return 0, io.EOF
	}
	n := min(len(p), b.left)
	for i := range n {
		p[i] = 'x'
	}
	b.n += n
	b.left -= n
	return n, nil
}

// TestReportsAPIBounds: a refused request is answered before its body is read; uploads beyond
// the memory budget are answered 503 at once; a body that stalls is cut off with 408.
func TestReportsAPIBounds(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	post := func(url string, body io.Reader) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, url, body)
		req.Header.Set("Authorization", "Bearer tok")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}

	t.Run("admission before the body", func(t *testing.T) {
		g := &gate{refuse: intake.ErrSlowDown}
		srv := httptest.NewServer(ReportsAPI(g, "tok", 25<<20, APIOptions{}, log))
		defer srv.Close()
		body := &countingBody{left: 20 << 20}
		resp := post(srv.URL, body)
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" {
			t.Errorf("refused: %d %q, want 503 Retry-After: 1", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		// The client may push a few MB into the sockets' buffers before the answer comes; the
		// server read none of it (it would have read all 20 MB before answering).
		if body.n >= 10<<20 {
			t.Errorf("%d bytes of the refused 20 MB body were sent, want only what the connection buffers", body.n)
		}
	})

	t.Run("budget", func(t *testing.T) {
		// Room for one upload's least reservation and not two: the second waits for the first.
		g := &gate{release: make(chan struct{}), started: make(chan struct{}, 2)}
		srv := httptest.NewServer(ReportsAPI(g, "tok", 1<<20, APIOptions{Budget: MinReservation * 3 / 2}, log))
		defer srv.Close()
		done := make(chan *http.Response)
		go func() { done <- post(srv.URL, strings.NewReader("From: a@b.example\r\n\r\nspam from 192.0.2.1\r\n")) }()
		<-g.started
		if resp := post(srv.URL, strings.NewReader("second")); resp.StatusCode != 503 || resp.Close {
			t.Errorf("an upload while the budget is taken: %d (close %v), want 503 on a connection kept for the next try", resp.StatusCode, resp.Close)
		}
		// Refused too, a body that trickles: the connection is cut soon after the answer,
		// not held while the client dawdles.
		c, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok\r\nContent-Length: 1000\r\n\r\nFrom: ")
		start := time.Now()
		_ = c.SetReadDeadline(start.Add(10 * time.Second))
		br := bufio.NewReader(c)
		if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != 503 {
			t.Fatalf("a trickling upload while the budget is taken: %v %v", resp, err)
		}
		if _, err := io.Copy(io.Discard, br); err != nil || time.Since(start) > 5*time.Second {
			t.Errorf("the trickling client's connection ended after %v (%v), want closed within a few seconds", time.Since(start), err)
		}
		close(g.release)
		if resp := <-done; resp.StatusCode != 200 {
			t.Errorf("the upload within the budget: %d", resp.StatusCode)
		}
	})

	t.Run("small uploads pass a large one", func(t *testing.T) {
		// A 1 MiB budget: a large upload in progress (its Content-Length reserved) leaves room
		// for small ones, not for a second large one.
		g := &gate{release: make(chan struct{}), started: make(chan struct{}, 3)}
		srv := httptest.NewServer(ReportsAPI(g, "tok", 1<<20, APIOptions{Budget: 1 << 20}, log))
		defer srv.Close()
		large := "From: a@b.example\r\n\r\nspam from 192.0.2.1\r\n" + strings.Repeat("x", 700<<10)
		done := make(chan *http.Response, 2)
		go func() { done <- post(srv.URL, strings.NewReader(large)) }()
		<-g.started
		if resp := post(srv.URL, strings.NewReader(large)); resp.StatusCode != 503 {
			t.Errorf("a second 700 KiB upload in a 1 MiB budget: %d, want 503", resp.StatusCode)
		}
		go func() { done <- post(srv.URL, strings.NewReader("From: a@b.example\r\n\r\nspam from 192.0.2.2\r\n")) }()
		<-g.started // the small one is being handled while the large one still is
		close(g.release)
		for range 2 {
			if resp := <-done; resp.StatusCode != 200 {
				t.Errorf("an upload within the budget: %d", resp.StatusCode)
			}
		}
	})

	t.Run("one client cannot starve the others", func(t *testing.T) {
		// A 4 MiB budget with a 1 MiB limit: one client holds at most 1 MiB at once. Its
		// trickling uploads beyond that are refused; another client's report goes through.
		g := &gate{release: make(chan struct{}), started: make(chan struct{}, 8)}
		close(g.release)
		srv := httptest.NewServer(ReportsAPI(g, "tok", 1<<20, APIOptions{Budget: 4 << 20, BodyTimeout: 5 * time.Second}, log))
		defer srv.Close()
		addr := strings.TrimPrefix(srv.URL, "http://")
		var refused int
		for range 4 {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok\r\nContent-Length: %d\r\n\r\nFrom: ", 1<<20)
			_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil && resp.StatusCode == 503 {
				refused++
			}
		}
		if refused != 3 {
			t.Errorf("%d of the trickler's 4 uploads refused at once, want 3 (it holds its share with the first)", refused)
		}
		other := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).DialContext}}
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("From: a@b.example\r\n\r\nspam from 192.0.2.1\r\n"))
		req.Header.Set("Authorization", "Bearer tok")
		resp, err := other.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("another client's report while the first trickles: %d, want 200", resp.StatusCode)
		}
	})

	t.Run("slow body", func(t *testing.T) {
		g := &gate{release: make(chan struct{}), started: make(chan struct{}, 1)}
		close(g.release)
		srv := httptest.NewServer(ReportsAPI(g, "tok", 1<<20, APIOptions{BodyTimeout: 300 * time.Millisecond}, log))
		defer srv.Close()
		pr, pw := io.Pipe()
		defer pw.Close()
		go func() { _, _ = pw.Write([]byte("From: a@b.example\r\n")) }() // then nothing more
		start := time.Now()
		resp := post(srv.URL, pr)
		if resp.StatusCode != http.StatusRequestTimeout || time.Since(start) > 5*time.Second {
			t.Errorf("a stalled body: %d after %v, want 408 after about 300ms", resp.StatusCode, time.Since(start))
		}
	})
}

func TestBudget(t *testing.T) {
	for _, tc := range []struct {
		limit int64
		want  int64
	}{{768 << 20, 192 << 20}, {0, 400 << 20}, {10 << 20, 50 << 20}, {4 << 30, 1 << 30}} {
		if got := Budget(tc.limit, 25<<20); got != tc.want {
			t.Errorf("Budget(%d MiB) = %d MiB, want %d MiB", tc.limit>>20, got>>20, tc.want>>20)
		}
	}
}

// missingTickets is a Zendesk whose every ticket read fails with err; it fails the test if the
// webhook reaches it before answering.
type missingTickets struct {
	ZendeskAPI
	err   error
	reads int
}

func (m *missingTickets) Ticket(context.Context, int64) (*zendesk.TicketInfo, error) {
	m.reads++
	return nil, m.err
}

type keptBodies struct{ kept [][]byte }

func (k *keptBodies) Put(p []byte) error { k.kept = append(k.kept, p); return nil }

// TestZendeskWebhookKeepsThenProcesses: with a Queue, a signed notification is kept and
// answered at once, before any Zendesk read; Process then does it, and an event about a
// ticket that does not exist comes back Permanent (the inbox sets it aside) while an outage
// does not (it is tried again).
func TestZendeskWebhookKeepsThenProcesses(t *testing.T) {
	api := &missingTickets{err: &fault.Error{Kind: fault.NotFound, Service: "zendesk", Op: "show ticket", Status: 404}}
	q := &keptBodies{}
	z := &Zendesk{API: api, Secret: "whsec", Queue: q, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	srv := httptest.NewServer(z.WebhookHandler())
	defer srv.Close()
	body := []byte(`{"abusedesk_event":"report","ticket_id":"999"}`)
	ts := time.Now().UTC().Format(time.RFC3339)
	req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
	req.Header.Set(zendesk.HeaderTimestamp, ts)
	req.Header.Set(zendesk.HeaderSignature, zendesk.Sign("whsec", ts, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(q.kept) != 1 || api.reads != 0 {
		t.Fatalf("webhook: %d, %d kept, %d ticket reads; want 200, kept, none read", resp.StatusCode, len(q.kept), api.reads)
	}
	var p interface{ Permanent() bool }
	if err := z.Process(context.Background(), q.kept[0]); !errors.As(err, &p) || !p.Permanent() {
		t.Errorf("a notification about a ticket that does not exist: %v, want a permanent error", err)
	}
	api.err = &fault.Error{Kind: fault.Transient, Service: "zendesk", Op: "show ticket", Status: 503}
	if err := z.Process(context.Background(), q.kept[0]); err == nil || errors.As(err, &p) {
		t.Errorf("a notification while Zendesk is down: %v, want an error to try again", err)
	}
}

// decisions records the decisions delivered to cases.
type decisions struct{ got []workflows.AgentDecision }

func (d *decisions) Decide(_ context.Context, _ string, a workflows.AgentDecision) (*workflows.DecisionResult, error) {
	d.got = append(d.got, a)
	return &workflows.DecisionResult{Status: workflows.StatusAppealReview}, nil
}

func (d *decisions) DecideReinstatement(context.Context, string, workflows.AgentDecision) (*workflows.DecisionResult, error) {
	return nil, errors.New("not in this test")
}

// sandboxZendesk is a sandbox Zendesk with a bot, a lead and an agent, and a client as each.
func sandboxZendesk(t *testing.T) (*zendesksandbox.Server, func(email string) *zendesk.Client) {
	t.Helper()
	fake := zendesksandbox.New("tok", "bot@desk.example", "lead@desk.example", "agent@desk.example")
	srv := httptest.NewServer(fake.Handler())
	t.Cleanup(srv.Close)
	fake.SetBaseURL(srv.URL)
	return fake, func(email string) *zendesk.Client {
		c, err := zendesk.New(zendesk.Config{URL: srv.URL, Email: email, Token: "tok"})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
}

// TestDecisionAuthorFromTheAudit: a decision is credited to whoever made the update that added
// the macro's tag (the ticket's audits), never to the author of a later comment, whether the
// export poll recovers it (no actor) or a webhook names someone else; a tag no update added
// by an agent is refused with a note, not guessed.
func TestDecisionAuthorFromTheAudit(t *testing.T) {
	fake, as := sandboxZendesk(t)
	bot, lead, agent := as("bot@desk.example"), as("lead@desk.example"), as("agent@desk.example")
	ctx := context.Background()
	tk, err := bot.CreateTicket(ctx, ticket.New{ExternalID: "case/acct-bank/phishing", Subject: "Case", RequesterEmail: "customer@bank.example", Comment: ticket.Comment{Body: "notice"}})
	if err != nil {
		t.Fatal(err)
	}
	tkID, _ := tk.Number()
	grant := workflows.DecisionGrantAppeal
	if err := lead.Update(ctx, tkID, zendesk.Update{Comment: &ticket.Comment{Body: "Checked: the page is gone."}, AddTags: []string{zendesk.TagDecisionPrefix + string(grant)}}); err != nil {
		t.Fatal(err)
	}
	if err := agent.Update(ctx, tkID, zendesk.Update{Comment: &ticket.Comment{Body: "fyi, customer called"}}); err != nil {
		t.Fatal(err)
	}
	dec := &decisions{}
	r, err := templates.New()
	if err != nil {
		t.Fatal(err)
	}
	z := &Zendesk{API: bot, Decider: dec, Templates: r, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	leadUser, _ := fake.UserByEmail("lead@desk.example")
	agentUser, _ := fake.UserByEmail("agent@desk.example")

	// The poll: no actor known.
	if err := z.Handle(ctx, zendesk.Event{Kind: zendesk.EventDecision, Decision: string(grant)}, tkID); err != nil {
		t.Fatal(err)
	}
	// A webhook naming the later commenter.
	if err := z.Handle(ctx, zendesk.Event{Kind: zendesk.EventDecision, Decision: string(grant), ActorID: fmt.Sprint(agentUser.ID), Actor: "agent@desk.example"}, tkID); err != nil {
		t.Fatal(err)
	}
	if len(dec.got) != 2 {
		t.Fatalf("%d decisions delivered, want 2", len(dec.got))
	}
	for i, d := range dec.got {
		if d.Agent != "lead@desk.example" || d.AgentID != fmt.Sprint(leadUser.ID) || d.Note != "Checked: the page is gone." {
			t.Errorf("decision %d credited to %s (%s) with note %q; want lead@desk.example, who applied the macro, and their comment", i, d.Agent, d.AgentID, d.Note)
		}
	}
	if dec.got[0].RequestID != dec.got[1].RequestID {
		t.Errorf("the poll and the webhook keyed the decision %q and %q: it would apply twice", dec.got[0].RequestID, dec.got[1].RequestID)
	}

	// A decision tag that no update of the ticket added (here: never there at all).
	if err := z.Handle(ctx, zendesk.Event{Kind: zendesk.EventDecision, Decision: string(workflows.DecisionDenyAppeal)}, tkID); err != nil {
		t.Fatal(err)
	}
	if len(dec.got) != 2 {
		t.Errorf("a decision nobody can be credited with was delivered: %+v", dec.got[2:])
	}
	comments, err := bot.Comments(ctx, tkID)
	if err != nil || len(comments) == 0 || !strings.Contains(comments[0].Body, "cannot tell who applied the macro") {
		t.Errorf("no note saying who applied the macro is unknown: %+v %v", comments, err)
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

// TestReportsAPIRefusesIncompleteXARF: an X-ARF 4 document that lacks a required field, or names
// a category X-ARF 4 does not have, is answered 422 naming what is wrong, and nothing is taken;
// a whole one is taken.
func TestReportsAPIRefusesIncompleteXARF(t *testing.T) {
	whole := map[string]any{"xarf_version": "4.2.0", "report_id": "r-1", "timestamp": "2026-12-01T10:00:00Z",
		"reporter":          map[string]any{"org": "Watch", "contact": "reports@watch.example", "domain": "watch.example"},
		"source_identifier": "192.0.2.10", "category": "connection", "type": "login_attack"}
	without := func(k string) map[string]any {
		m := maps.Clone(whole)
		delete(m, k)
		return m
	}
	with := func(k string, v any) map[string]any {
		m := maps.Clone(whole)
		m[k] = v
		return m
	}
	for name, tc := range map[string]struct {
		doc  map[string]any
		want string
	}{
		"no reporter":      {without("reporter"), "reporter.contact"},
		"no timestamp":     {without("timestamp"), "timestamp"},
		"no report_id":     {without("report_id"), "report_id"},
		"unknown category": {with("category", "spam"), "is not an X-ARF 4 category"},
		"a bad timestamp":  {with("timestamp", "yesterday"), "is not an RFC 3339 date"},
		"whole":            {whole, ""},
	} {
		in := &ingester{out: &intake.Outcome{Kind: reports.KindReport, Accepted: []intake.Accepted{{ReportID: "r-1", CaseID: "case/a/brute-force"}}}}
		srv := httptest.NewServer(ReportsAPI(in, "tok", 1<<20, APIOptions{}, slog.New(slog.NewTextHandler(io.Discard, nil))))
		b, _ := json.Marshal(tc.doc)
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer tok")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		srv.Close()
		switch {
		case tc.want == "" && (resp.StatusCode != http.StatusOK || len(in.got) != 1):
			t.Errorf("%s: HTTP %d, %d taken; want 200 and taken", name, resp.StatusCode, len(in.got))
		case tc.want != "" && (resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(body), tc.want) || len(in.got) != 0):
			t.Errorf("%s: HTTP %d %s, %d taken; want 422 naming %q, nothing taken", name, resp.StatusCode, body, len(in.got), tc.want)
		}
	}
}

// owners is the cases as the assignee sync reads them: each case number's owner.
type owners struct {
	intake.Cases
	owner map[string]string
}

func (o owners) FindByNumber(_ context.Context, number string) (*cases.Summary, error) {
	return &cases.Summary{CaseNumber: number, Running: true, Status: workflows.StatusAwaitingResponse, Assignee: o.owner[number]}, nil
}

// TestAssigneeFromTheTicket: an agent who assigns a case's ticket in Zendesk assigns the case,
// credited to who changed it as the ticket's audit says (not the webhook's word); the desk's own
// assignment echoed back is no decision; the export poll finds a change whose notification was
// missed.
func TestAssigneeFromTheTicket(t *testing.T) {
	fake, as := sandboxZendesk(t)
	bot, agent := as("bot@desk.example"), as("agent@desk.example")
	ctx := context.Background()
	tk, err := bot.CreateTicket(ctx, ticket.New{ExternalID: "case/acct-bank/phishing", Subject: "Case", RequesterEmail: "customer@bank.example", Comment: ticket.Comment{Body: "notice"}})
	if err != nil {
		t.Fatal(err)
	}
	tkID, _ := tk.Number()
	leadUser, _ := fake.UserByEmail("lead@desk.example")
	agentUser, _ := fake.UserByEmail("agent@desk.example")
	number := workflows.CaseNumber("case/acct-bank/phishing")
	dec := &decisions{}
	r, err := templates.New()
	if err != nil {
		t.Fatal(err)
	}
	cs := owners{owner: map[string]string{}}
	z := &Zendesk{API: bot, Cases: cs, Decider: dec, Templates: r, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}

	lead := leadUser.ID
	if err := agent.Update(ctx, tkID, zendesk.Update{Assign: &lead}); err != nil {
		t.Fatal(err)
	}
	// A webhook naming someone else: the audit decides.
	if err := z.Handle(ctx, zendesk.Event{Kind: zendesk.EventAssigned, ActorID: fmt.Sprint(leadUser.ID)}, tkID); err != nil {
		t.Fatal(err)
	}
	if len(dec.got) != 1 {
		t.Fatalf("%d decisions delivered, want 1", len(dec.got))
	}
	if d := dec.got[0]; d.Decision != workflows.DecisionAssign || d.Assignee != fmt.Sprint(leadUser.ID) || d.AgentID != fmt.Sprint(agentUser.ID) || d.Agent != "agent@desk.example" || d.RequestID == "" {
		t.Errorf("the assignment delivered: %+v; want the lead assigned, by the agent", d)
	}
	// The case has that owner now: the same notification again, or the poll, delivers nothing.
	cs.owner[number] = fmt.Sprint(leadUser.ID)
	if err := z.Handle(ctx, zendesk.Event{Kind: zendesk.EventAssigned}, tkID); err != nil {
		t.Fatal(err)
	}
	info := zendesk.TicketInfo{ID: tkID, ExternalID: "case/acct-bank/phishing", AssigneeID: leadUser.ID, Fields: map[string]string{ticket.FieldCaseNumber: number}}
	if err := z.catchUp(ctx, info); err != nil {
		t.Fatal(err)
	}
	if len(dec.got) != 1 {
		t.Errorf("an assignment the case already has was delivered again: %+v", dec.got[1:])
	}
	// Unassigned in Zendesk with the notification lost: the poll finds it.
	if err := agent.Update(ctx, tkID, zendesk.Update{Assign: new(int64)}); err != nil {
		t.Fatal(err)
	}
	info.AssigneeID = 0
	if err := z.catchUp(ctx, info); err != nil {
		t.Fatal(err)
	}
	if len(dec.got) != 2 || dec.got[1].Assignee != "" || dec.got[1].Agent != "agent@desk.example" {
		t.Errorf("the missed unassignment: %+v; want nobody, by the agent", dec.got[1:])
	}
}
