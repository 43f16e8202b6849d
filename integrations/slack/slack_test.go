package slack_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"abusedesk/devenv/slacksandbox"
	"abusedesk/domain/abuse"
	"abusedesk/domain/approval"
	"abusedesk/domain/fault"
	deskslack "abusedesk/integrations/slack"
	"abusedesk/platform/httpx"
)

const (
	botToken = "xoxb-test"
	appToken = "xapp-test"
	secret   = "signing-secret"
	lead     = "ULEAD1"
	grouped  = "UGROUPED"
	stranger = "USTRANGER"
)

// decider records decisions; it refuses a second one like a case does.
type decider struct {
	mu      sync.Mutex
	got     []approval.Decision
	decided bool
	// down makes it fail as an unreachable Temporal would.
	down bool
}

type refused string

func (r refused) Error() string   { return string(r) }
func (r refused) Refused() string { return string(r) }

func (d *decider) DecideApproval(_ context.Context, caseID string, dec approval.Decision) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if caseID != "case/acct-1/spam" {
		return "", errors.New("unexpected case " + caseID)
	}
	if d.down {
		return "", errors.New("temporal unavailable")
	}
	if d.decided {
		return "", refused("already decided: approve by lead one")
	}
	d.decided = true
	d.got = append(d.got, dec)
	return "Approved. Applying the throttle.", nil
}

func (d *decider) decisions() []approval.Decision {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]approval.Decision(nil), d.got...)
}

type env struct {
	fake   *slacksandbox.Server
	client *deskslack.Client
	h      *deskslack.Interactions
	dec    *decider
	hook   *httptest.Server
	ch     string
}

func setup(t *testing.T) *env {
	t.Helper()
	fake := slacksandbox.New(botToken, appToken, secret, "abuse-leads")
	fake.AddUser(slacksandbox.User{ID: lead, Name: "lead1", RealName: "Lee Lead", Email: "Lee@desk.example"})
	fake.AddUser(slacksandbox.User{ID: grouped, Name: "grp", RealName: "Gro Up", Email: "gro@desk.example"})
	fake.AddUser(slacksandbox.User{ID: stranger, Name: "str", RealName: "Stran Ger", Email: "s@desk.example"})
	fake.AddGroup("SLEADS", grouped)
	srv := httptest.NewServer(fake.Handler())
	t.Cleanup(srv.Close)
	fake.SetBaseURL(srv.URL)
	c, err := deskslack.New(deskslack.Config{BotToken: botToken, AppToken: appToken, Channel: "abuse-leads", APIURL: srv.URL + "/api/",
		Mention: "<!subteam^SLEADS>", HTTP: &http.Client{Timeout: 2 * time.Second, Transport: &httpx.Retry{Backoff: 10 * time.Millisecond}}})
	if err != nil {
		t.Fatal(err)
	}
	dec := &decider{}
	h := &deskslack.Interactions{API: c.API(), Decider: dec, Approvers: approval.Approvers{Users: []string{lead}, Groups: []string{"SLEADS"}}}
	hook := httptest.NewServer(h.HTTPHandler(secret))
	t.Cleanup(hook.Close)
	fake.InteractionURL = hook.URL
	return &env{fake: fake, client: c, h: h, dec: dec, hook: hook, ch: fake.ChannelID("abuse-leads")}
}

func post() approval.Post {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	return approval.Post{
		Step: "approval-1", CaseID: "case/acct-1/spam", CaseNumber: "TS-ABCD1234", CaseURL: "http://desk.test/cases/case/acct-1/spam",
		Account:  abuse.Account{ID: "acct-1", Name: "Big Bank", Tier: abuse.TierStrategic, PriorViolations: 1},
		Category: abuse.Spam, Reports: approval.Reports{Count: 12, FirstSeen: t0, LastSeen: t0.Add(time.Hour)},
		Action: "outbound traffic throttled (level 2)", Reason: "strategic account", Deadline: t0.Add(8 * time.Hour), Text: "Approval needed",
	}
}

func TestApprovalMessageLifecycle(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	m, err := e.client.PostApproval(ctx, post())
	if err != nil {
		t.Fatal(err)
	}
	if m.Channel != e.ch || m.TS == "" || !strings.Contains(m.Permalink, m.Channel) {
		t.Errorf("message ref %+v", m)
	}
	msgs := e.fake.Messages(e.ch)
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	blocks := string(msgs[0].Blocks)
	for _, want := range []string{"TS-ABCD1234", "Big Bank", "strategic", "12 (2026-03-01 09:00", "throttled", "2026-03-01 17:00 UTC",
		deskslack.ActionApprove, deskslack.ActionDeny, deskslack.ActionExtend, "http://desk.test/cases/case/acct-1/spam"} {
		if !strings.Contains(blocks, want) {
			t.Errorf("approval blocks lack %q: %s", want, blocks)
		}
	}
	found, err := e.client.FindApproval(ctx, "", "approval-1")
	if err != nil || found == nil || found.TS != m.TS {
		t.Errorf("find by step: %+v %v", found, err)
	}
	if none, err := e.client.FindApproval(ctx, "", "approval-2"); err != nil || none != nil {
		t.Errorf("unknown step: %+v %v", none, err)
	}
	p := post()
	p.Ping = 1
	if err := e.client.PingApproval(ctx, *m, p); err != nil {
		t.Fatal(err)
	}
	msgs = e.fake.Messages(e.ch)
	if len(msgs) != 2 || msgs[1].ThreadTS != m.TS || !strings.Contains(msgs[1].Text, "<!subteam^SLEADS> Reminder 1") {
		t.Errorf("re-ping %+v", msgs[len(msgs)-1])
	}
	err = e.client.ShowDecision(ctx, *m, approval.Show{CaseNumber: "TS-ABCD1234", Text: "Approval needed", Decision: approval.Approve,
		DecidedBy: "Lee Lead", DecidedAt: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	after := e.fake.Messages(e.ch)[0]
	if strings.Contains(string(after.Blocks), deskslack.ActionApprove) || !strings.Contains(string(after.Blocks), "Approved by Lee Lead at 2026-03-01 10:00 UTC") {
		t.Errorf("decided message still has buttons or lacks who decided: %s", after.Blocks)
	}
	if _, err := e.fake.Click(e.ch, m.TS, deskslack.ActionApprove, lead); !errors.Is(err, slacksandbox.ErrNoButton) {
		t.Errorf("click on a decided message: %v", err)
	}
}

func TestClicksOverHTTP(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	m, err := e.client.PostApproval(ctx, post())
	if err != nil {
		t.Fatal(err)
	}
	// A stranger is refused without reaching the case.
	if _, err := e.fake.Click(e.ch, m.TS, deskslack.ActionApprove, stranger); err != nil {
		t.Fatal(err)
	}
	if len(e.dec.decisions()) != 0 {
		t.Fatal("a stranger's click reached the case")
	}
	eph := e.fake.Ephemerals()
	if len(eph) != 1 || eph[0].User != stranger || !strings.Contains(eph[0].Text, "not one of the approvers") {
		t.Errorf("ephemeral refusal %+v", eph)
	}
	// The lead's click counts, with their email for keeping appeal reviewers apart.
	resp, err := e.fake.Click(e.ch, m.TS, deskslack.ActionApprove, lead)
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("click: %+v %v", resp, err)
	}
	got := e.dec.decisions()
	if len(got) != 1 || got[0].Decision != approval.Approve || got[0].UserID != lead || got[0].UserEmail != "lee@desk.example" || got[0].UserName != "Lee Lead" {
		t.Fatalf("decisions %+v", got)
	}
	// A second click (by a group member) is answered, not applied.
	if _, err := e.fake.Click(e.ch, m.TS, deskslack.ActionApprove, grouped); err != nil {
		t.Fatal(err)
	}
	eph = e.fake.Ephemerals()
	if last := eph[len(eph)-1]; last.User != grouped || !strings.Contains(last.Text, "Not applied: already decided") {
		t.Errorf("second click answered with %+v", last)
	}
	if len(e.dec.decisions()) != 1 {
		t.Error("the second click was applied")
	}
}

func TestDenyAsksForAReason(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	m, err := e.client.PostApproval(ctx, post())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.fake.Click(e.ch, m.TS, deskslack.ActionDeny, grouped); err != nil {
		t.Fatal(err)
	}
	views := e.fake.Views()
	if len(views) != 1 || views[0].User != grouped || !strings.Contains(string(views[0].Raw), deskslack.CallbackDeny) {
		t.Fatalf("views %+v", views)
	}
	resp, err := e.fake.SubmitView(views[0].ID, map[string]map[string]string{"reason": {"reason_input": "  "}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(resp.Body), `"response_action":"errors"`) || len(e.dec.decisions()) != 0 {
		t.Errorf("empty reason accepted: %s", resp.Body)
	}
	resp, err = e.fake.SubmitView(views[0].ID, map[string]map[string]string{"reason": {"reason_input": "They are migrating"}})
	if err != nil || len(resp.Body) != 0 {
		t.Fatalf("submit: %+v %v", resp, err)
	}
	got := e.dec.decisions()
	if len(got) != 1 || got[0].Decision != approval.Deny || got[0].Reason != "They are migrating" || got[0].UserID == "" {
		t.Errorf("decisions %+v", got)
	}
}

func TestForgedOrStaleRequestsAreRejected(t *testing.T) {
	e := setup(t)
	payload := `{"type":"block_actions","user":{"id":"` + lead + `"},"channel":{"id":"C0LEADS"},"actions":[{"action_id":"abusedesk_approve","value":"case/acct-1/spam"}]}`
	body := url.Values{"payload": {payload}}.Encode()
	now := time.Now().Unix()
	tests := []struct {
		name string
		ts   int64
		sig  func(ts string) string
	}{
		{"no signature", now, func(string) string { return "" }},
		{"wrong secret", now, func(ts string) string { return slacksandbox.Sign("guess", ts, []byte(body)) }},
		{"stale timestamp", now - 600, func(ts string) string { return slacksandbox.Sign(secret, ts, []byte(body)) }},
		{"signature for another body", now, func(ts string) string { return slacksandbox.Sign(secret, ts, []byte(body+"x")) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := strconv.FormatInt(tc.ts, 10)
			req, _ := http.NewRequest("POST", e.hook.URL, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Slack-Request-Timestamp", ts)
			if s := tc.sig(ts); s != "" {
				req.Header.Set("X-Slack-Signature", s)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("status %d, want 401", resp.StatusCode)
			}
		})
	}
	if len(e.dec.decisions()) != 0 {
		t.Error("a rejected request reached the case")
	}
}

func TestClicksOverSocketMode(t *testing.T) {
	e := setup(t)
	e.fake.InteractionURL = "" // no public endpoint: Socket Mode only
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- e.h.RunSocketMode(ctx, e.client.API()) }()
	deadline := time.Now().Add(5 * time.Second)
	for !e.fake.Connected() {
		if time.Now().After(deadline) {
			t.Fatal("the bot did not connect over Socket Mode")
		}
		time.Sleep(10 * time.Millisecond)
	}
	m, err := e.client.PostApproval(ctx, post())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.fake.Click(e.ch, m.TS, deskslack.ActionDeny, lead); err != nil {
		t.Fatal(err)
	}
	views := e.fake.Views()
	if len(views) != 1 {
		t.Fatalf("no deny modal over Socket Mode: %+v", views)
	}
	resp, err := e.fake.SubmitView(views[0].ID, map[string]map[string]string{"reason": {"reason_input": "not yet"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.dec.decisions(); len(got) != 1 || got[0].Decision != approval.Deny || got[0].Reason != "not yet" {
		t.Fatalf("decisions %+v (ack %s)", got, resp.Body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("socket mode ended with %v", err)
	}
}

func TestErrorsAreClassified(t *testing.T) {
	ctx := context.Background()
	t.Run("429 with a short Retry-After is waited out", func(t *testing.T) {
		e := setup(t)
		e.fake.Inject("chat.postMessage", "1", "")
		start := time.Now()
		if _, err := e.client.PostApproval(ctx, post()); err != nil {
			t.Fatal(err)
		}
		if time.Since(start) < time.Second {
			t.Error("did not wait the Retry-After")
		}
	})
	t.Run("429 with a long Retry-After is rate limited with the delay", func(t *testing.T) {
		e := setup(t)
		e.fake.Inject("chat.postMessage", "120", "")
		_, err := e.client.PostApproval(ctx, post())
		if !fault.Is(err, fault.RateLimited) || fault.RetryAfter(err) != 120*time.Second {
			t.Errorf("got %v (retry after %v)", err, fault.RetryAfter(err))
		}
	})
	t.Run("429 without Retry-After is rate limited", func(t *testing.T) {
		e := setup(t)
		for range 3 {
			e.fake.Inject("chat.update", "0", "")
		}
		err := e.client.ShowDecision(ctx, approval.Message{Channel: e.ch, TS: "1.1"}, approval.Show{Decision: "approve"})
		if !fault.Is(err, fault.RateLimited) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("a Slack error is classified", func(t *testing.T) {
		e := setup(t)
		e.fake.Inject("chat.postMessage", "", "invalid_auth")
		if _, err := e.client.PostApproval(ctx, post()); !fault.Is(err, fault.Unauthorized) {
			t.Errorf("invalid_auth: %v", err)
		}
		err := e.client.ShowDecision(ctx, approval.Message{Channel: e.ch, TS: "9.9"}, approval.Show{Decision: "approve"})
		if !fault.Is(err, fault.NotFound) {
			t.Errorf("message_not_found: %v", err)
		}
	})
	t.Run("5xx then success", func(t *testing.T) {
		e := setup(t)
		e.fake.InjectStatus("conversations.history", 503, 2)
		if _, err := e.client.FindApproval(ctx, "", "x"); err != nil {
			t.Errorf("got %v", err)
		}
	})
	t.Run("timeout is transient", func(t *testing.T) {
		e := setup(t)
		srv := httptest.NewServer(e.fake.Handler())
		defer srv.Close()
		c, _ := deskslack.New(deskslack.Config{BotToken: botToken, Channel: "abuse-leads", APIURL: srv.URL + "/api/", HTTP: &http.Client{Timeout: 100 * time.Millisecond}})
		for range 3 {
			e.fake.InjectDelay("conversations.history", time.Second)
		}
		_, err := c.FindApproval(ctx, "", "x")
		if !fault.Is(err, fault.Transient) {
			t.Errorf("got %v", err)
		}
	})
}

// memQueue keeps payloads as a durable inbox would.
type memQueue struct {
	mu   sync.Mutex
	kept [][]byte
}

func (q *memQueue) Put(p []byte) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.kept = append(q.kept, append([]byte(nil), p...))
	return nil
}

func (q *memQueue) take(t *testing.T) []byte {
	t.Helper()
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.kept) != 1 {
		t.Fatalf("%d interactions kept, want 1", len(q.kept))
	}
	p := q.kept[0]
	q.kept = nil
	return p
}

// TestQueuedClicks: with a Queue, an Approve is answered at once and only kept; Process decides
// it, with a request ID naming the click, and tells the lead. While the case cannot be
// reached, Process fails without a word to the lead (it is tried again), and GiveUp tells the
// lead the click was not applied. Deny still opens its dialog at once; the reason submitted
// is kept and decided like a click.
func TestQueuedClicks(t *testing.T) {
	e := setup(t)
	q := &memQueue{}
	e.h.Queue = q
	ctx := context.Background()
	m, err := e.client.PostApproval(ctx, post())
	if err != nil {
		t.Fatal(err)
	}
	e.dec.mu.Lock()
	e.dec.down = true
	e.dec.mu.Unlock()
	resp, err := e.fake.Click(e.ch, m.TS, deskslack.ActionApprove, lead)
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("click: %+v %v", resp, err)
	}
	payload := q.take(t)
	if len(e.dec.decisions()) != 0 || len(e.fake.Ephemerals()) != 0 {
		t.Fatal("a kept click was handled before Slack was answered")
	}
	if err := e.h.Process(ctx, payload); err == nil {
		t.Fatal("Process succeeded while the case could not be reached")
	}
	if eph := e.fake.Ephemerals(); len(eph) != 0 {
		t.Errorf("the lead was told %q while the click is still being tried", eph[0].Text)
	}
	e.dec.mu.Lock()
	e.dec.down = false
	e.dec.mu.Unlock()
	if err := e.h.Process(ctx, payload); err != nil {
		t.Fatal(err)
	}
	got := e.dec.decisions()
	if len(got) != 1 || got[0].Decision != approval.Approve || got[0].UserID != lead || !strings.HasPrefix(got[0].RequestID, "slack/"+lead+"/") || strings.HasSuffix(got[0].RequestID, "/") {
		t.Fatalf("decisions %+v, want one approve with the click's request ID", got)
	}
	if eph := e.fake.Ephemerals(); len(eph) != 1 || !strings.Contains(eph[0].Text, "Approved") {
		t.Errorf("ephemerals after the kept click was done: %+v", eph)
	}
	// A second processing of a kept click (a crash before its entry was removed) is answered
	// by the case's refusal, and done with.
	if err := e.h.Process(ctx, payload); err != nil {
		t.Errorf("a refused click is done with, not tried again: %v", err)
	}
	e.h.GiveUp(ctx, payload, errors.New("temporal unavailable"))
	if eph := e.fake.Ephemerals(); !strings.Contains(eph[len(eph)-1].Text, "was not applied") {
		t.Errorf("giving up told the lead %q", eph[len(eph)-1].Text)
	}
	if err := e.h.Process(ctx, []byte("{")); err == nil || !strings.Contains(err.Error(), "unreadable") {
		t.Errorf("an unreadable entry: %v", err)
	}

	// Deny: the dialog opens at once (Slack allows it only then); the reason is kept.
	e2 := setup(t)
	e2.h.Queue = q
	m2, err := e2.client.PostApproval(ctx, post())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e2.fake.Click(e2.ch, m2.TS, deskslack.ActionDeny, grouped); err != nil {
		t.Fatal(err)
	}
	views := e2.fake.Views()
	if len(views) != 1 {
		t.Fatalf("views %+v", views)
	}
	if resp, err := e2.fake.SubmitView(views[0].ID, map[string]map[string]string{"reason": {"reason_input": "They are migrating"}}); err != nil || len(resp.Body) != 0 {
		t.Fatalf("submit: %+v %v", resp, err)
	}
	if err := e2.h.Process(ctx, q.take(t)); err != nil {
		t.Fatal(err)
	}
	if got := e2.dec.decisions(); len(got) != 1 || got[0].Decision != approval.Deny || got[0].Reason != "They are migrating" || got[0].RequestID == "" {
		t.Errorf("decisions %+v", got)
	}
}

// TestTextFromOutsideIsInert: an account name, a reason or an alert carrying Slack mark-up
// (a disguised link, @channel, a user mention) is posted as written, not as mark-up; the links
// the desk builds stay links.
func TestTextFromOutsideIsInert(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	const evil = "<https://evil.example/approve|Approve TS-ABCD1234> <!channel> <@" + lead + "> & co"
	p := post()
	p.Account.Name, p.Reason, p.Text = evil, evil, "Approval needed for "+evil
	m, err := e.client.PostApproval(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.client.ShowDecision(ctx, *m, approval.Show{CaseNumber: "TS-ABCD1234", Text: p.Text, Decision: approval.Deny, DecidedBy: evil, Reason: evil,
		DecidedAt: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), CaseURL: "http://desk.test/cases/case/acct-1/spam"}); err != nil {
		t.Fatal(err)
	}
	if err := e.client.PostAlert(ctx, "Spike from reporter "+evil); err != nil {
		t.Fatal(err)
	}
	unJSON := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&") // blocks are JSON, which escapes these
	for _, msg := range e.fake.Messages(e.ch) {
		all := msg.Text + unJSON.Replace(string(msg.Blocks))
		for _, bad := range []string{"<https://evil.example", "<!channel>", "<@" + lead + ">", "& co"} {
			if strings.Contains(all, bad) {
				t.Errorf("a message carries %q as mark-up: %s", bad, all)
			}
		}
		if !strings.Contains(all, "&lt;!channel&gt;") {
			t.Errorf("the outside text is not shown as written: %s", all)
		}
	}
	if msgs := e.fake.Messages(e.ch); len(msgs) < 2 || !strings.Contains(unJSON.Replace(string(msgs[0].Blocks)), "<http://desk.test/cases/case/acct-1/spam|Open the case>") {
		t.Errorf("the desk's own link to the case is gone: %+v", msgs)
	}
	// A page mentions the people the policy names, as mark-up; the text stays inert.
	if err := e.client.PostAlertTo(ctx, "", "EMERGENCY on "+evil, approval.Approvers{Users: []string{"UONCALL"}, Groups: []string{"SLEGAL"}}); err != nil {
		t.Fatal(err)
	}
	msgs := e.fake.Messages(e.ch)
	if last := msgs[len(msgs)-1].Text; !strings.HasPrefix(last, "<@UONCALL> <!subteam^SLEGAL> EMERGENCY on &lt;https://evil.example") || strings.Contains(last, "<!channel>") {
		t.Errorf("a page: %q; want the on-call mentioned, the text inert", last)
	}
}

// TestApprovalInAnotherChannel: a request with its own channel (a legal matter's, in the legal
// channel) is posted there, found there by its step, and not in the leads' channel.
func TestApprovalInAnotherChannel(t *testing.T) {
	e := setup(t)
	e.fake.AddChannel("abuse-legal", "C0LEGAL")
	ctx := context.Background()
	p := post()
	p.Channel, p.Step = "abuse-legal", "approval-legal-1"
	m, err := e.client.PostApproval(ctx, p)
	if err != nil || m.Channel != "C0LEGAL" {
		t.Fatalf("posted %+v %v, want the legal channel", m, err)
	}
	if n := len(e.fake.Messages(e.ch)); n != 0 {
		t.Errorf("%d messages in the leads' channel, want none", n)
	}
	if found, err := e.client.FindApproval(ctx, "abuse-legal", "approval-legal-1"); err != nil || found == nil || found.TS != m.TS {
		t.Errorf("find in the legal channel: %+v %v", found, err)
	}
	if found, err := e.client.FindApproval(ctx, "", "approval-legal-1"); err != nil || found != nil {
		t.Errorf("found in the leads' channel: %+v %v", found, err)
	}
}
