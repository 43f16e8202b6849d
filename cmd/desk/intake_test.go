package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"abusedesk/devenv/imapsandbox"
	"abusedesk/integrations/zendesk"
	"abusedesk/workflows"
)

// arfMail is an ARF complaint about a message from ip (one report, unique by its Message-ID).
func arfMail(i int, ip string) []byte {
	return fmt.Appendf(nil, "From: fbl@isp.example\r\nTo: abuse@provider.example\r\nSubject: complaint %d\r\nMessage-ID: <imap-%d@isp.example>\r\n"+
		"Date: "+mailDate+"\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=feedback-report; boundary=b\r\n\r\n"+
		"--b\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nSource-IP: %s\r\n\r\n--b--\r\n", i, i, ip)
}

// TestIMAPReportsLandOnceDespiteAKill: reports appended to a real IMAP server become cases on
// the embedded server; the desk is stopped while the watcher is mid-way and started again on
// the same data dir; every report ends up counted in exactly one case, once.
func TestIMAPReportsLandOnceDespiteAKill(t *testing.T) {
	t.Parallel()
	srv, err := imapsandbox.Start("abuse", "pw")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	const n = 240
	ips := []string{"192.0.2.10", "10.17.18.5", "203.0.113.9"} // acct-shop, acct-blaster, acct-again
	var msgs [][]byte
	for i := range n {
		msgs = append(msgs, arfMail(i, ips[i%len(ips)]))
	}
	if err := srv.Append("INBOX", msgs...); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"IMAP_ADDR": srv.Addr, "IMAP_SECURITY": "none", "IMAP_USERNAME": "abuse", "IMAP_PASSWORD": "pw", "IMAP_POLL": "1s"}
	p := fastPolicy(t, t.TempDir(), map[string]string{"response_window: 72h": "response_window: 1h"})
	dir := t.TempDir()
	d := startDevIn(t, dir, p, env)
	deadline := time.Now().Add(60 * time.Second)
	for srv.Count("abusedesk/processed") == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	d.stop()
	moved := srv.Count("abusedesk/processed")
	t.Logf("stopped with %d of %d processed", moved, n)
	if moved == 0 {
		t.Fatal("nothing processed before the stop")
	}

	d2 := startDevIn(t, dir, p, env)
	for srv.Count("abusedesk/processed") < n && time.Now().Before(deadline.Add(60*time.Second)) {
		time.Sleep(50 * time.Millisecond)
	}
	if got := srv.Count("abusedesk/processed"); got != n || srv.Count("INBOX") != 0 {
		t.Fatalf("%d processed, %d left in INBOX, want all %d processed", got, srv.Count("INBOX"), n)
	}
	// Reports accepted before the stop and read again after it (the stop came before their
	// messages moved) reach their cases as duplicates, possibly after the counts are complete:
	// read the cases once intake has delivered everything and the duplicates hold still.
	counts := func() (total, dups int, err error) {
		for _, acct := range []string{"acct-shop", "acct-blaster", "acct-again"} {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			v, err := d2.cases.Status(ctx, workflows.CaseWorkflowID(acct, "spam"))
			cancel()
			if err != nil {
				return 0, 0, err
			}
			total += v.Reports.Count
			dups += v.Reports.Duplicates
		}
		return total, dups, nil
	}
	total, dups, still := 0, -1, 0
	for still < 5 && time.Now().Before(deadline.Add(90*time.Second)) {
		time.Sleep(200 * time.Millisecond)
		t2, d, err := counts()
		if err != nil || t2 != n || d2.intakeQueued() != 0 {
			still = 0
			continue
		}
		if d == dups {
			still++
		} else {
			still = 0
		}
		total, dups = t2, d
	}
	if total != n {
		t.Errorf("%d reports counted across the cases, want %d", total, n)
	}
	t.Logf("%d reports counted once; %d redelivered duplicates ignored", total, dups)

	// The mail server delivers 30 of them again: they are recognised, not counted twice.
	if err := srv.Append("INBOX", msgs[:30]...); err != nil {
		t.Fatal(err)
	}
	for srv.Count("abusedesk/processed") < n+30 && time.Now().Before(deadline.Add(120*time.Second)) {
		time.Sleep(50 * time.Millisecond)
	}
	// Accepted means journaled: wait until the cases have seen the redelivered reports too.
	again := 0
	for time.Now().Before(deadline.Add(150 * time.Second)) {
		again = 0
		for _, acct := range []string{"acct-shop", "acct-blaster", "acct-again"} {
			v, err := d2.cases.Status(context.Background(), workflows.CaseWorkflowID(acct, "spam"))
			if err != nil {
				continue
			}
			if v.Reports.Count != n/len(ips) {
				t.Errorf("%s counts %d after the redelivery, want %d", acct, v.Reports.Count, n/len(ips))
			}
			again += v.Reports.Duplicates
		}
		if again >= dups+30 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if again != dups+30 {
		t.Errorf("%d duplicates recognised, want %d", again, dups+30)
	}
}

// TestZendeskWebhookRefusesForgeries: a forged or stale notification gets 401 and changes
// nothing; a properly signed one for a report ticket in the intake group opens a case.
func TestZendeskWebhookRefusesForgeries(t *testing.T) {
	t.Parallel()
	d := startDev(t, fastPolicy(t, t.TempDir(), nil))
	z := d.sandbox["zendesk"]
	secret := z["webhook_secret"].(string)
	url := d.ep.HTTP + "/webhooks/zendesk"
	body := []byte(`{"abusedesk_event":"report","ticket_id":"1"}`)
	post := func(h map[string]string) int {
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	now := time.Now().UTC()
	fresh, stale := now.Format(time.RFC3339), now.Add(-10*time.Minute).Format(time.RFC3339)
	for name, h := range map[string]map[string]string{
		"unsigned":     {},
		"wrong secret": {zendesk.HeaderTimestamp: fresh, zendesk.HeaderSignature: zendesk.Sign("guess", fresh, body)},
		"stale":        {zendesk.HeaderTimestamp: stale, zendesk.HeaderSignature: zendesk.Sign(secret, stale, body)},
	} {
		if code := post(h); code != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", name, code)
		}
	}
	ctx := context.Background()
	if list, _, err := d.cases.List(ctx, "", 10, nil); err != nil || len(list) != 0 {
		t.Fatalf("cases after forged webhooks: %v %v", list, err)
	}

	// A report mailed to the Zendesk intake group: the provisioned trigger calls the desk.
	var created struct {
		Ticket struct{ ID int64 } `json:"ticket"`
	}
	zendeskAPI(t, z, "desk-bot@abusedesk.example", "POST", "/api/v2/tickets.json", map[string]any{"ticket": map[string]any{
		"subject": "Spam from 192.0.2.44", "group_id": 360000002,
		"requester": map[string]string{"email": "victim@mail.example", "name": "Victim"},
		"comment":   map[string]any{"body": "I keep getting spam sent from 192.0.2.44 advertising watches."},
	}}, &created)
	caseID := workflows.CaseWorkflowID("acct-shop", "spam")
	// A free-form complaint from one person is uncertain: the case waits for triage with
	// nothing sent, until an agent confirms it with the macro.
	v := d.waitTriage(caseID, 20*time.Second)
	if v.Reports.Count != 1 || v.Reports.Recent[0].ID != fmt.Sprintf("zendesk:%d", created.Ticket.ID) {
		t.Errorf("case from the intake ticket: %+v", v.Reports)
	}
	applyMacro(t, z, "agent@desk.example", v.Ticket.ID, "abusedesk: Triage: confirm and notify")
	if after := d.waitStatus(caseID, workflows.StatusAwaitingResponse, 20*time.Second); after.Ticket.ID == v.Ticket.ID || after.Triage.DecidedBy != "agent@desk.example" {
		t.Errorf("after confirm: ticket #%s (triage #%s), decided by %q; want the customer's own ticket, the agent", after.Ticket.ID, v.Ticket.ID, after.Triage.DecidedBy)
	}
}

// TestCustomerReplyAndMacroThroughZendesk: the customer answers the notice by email (a
// requester comment in Zendesk), the trigger tells the desk, the case goes to review; an agent
// submits the "Accept remediation" macro and the case resolves, without a second message to
// the customer.
func TestCustomerReplyAndMacroThroughZendesk(t *testing.T) {
	t.Parallel()
	d := startDev(t, fastPolicy(t, t.TempDir(), map[string]string{"response_window: 72h": "response_window: 1h"}))
	caseID := d.submitReports("acct-shop", "spam", "z1")
	v := d.waitStatus(caseID, workflows.StatusAwaitingResponse, 20*time.Second)
	z := d.sandbox["zendesk"]
	zendeskAPI(t, z, "ops@shop.example", "PUT", fmt.Sprintf("/api/v2/requests/%s.json", v.Ticket.ID),
		map[string]any{"request": map[string]any{"comment": map[string]any{"body": "We removed the infected plugin."}}}, nil)
	review := d.waitStatus(caseID, workflows.StatusUnderReview, 20*time.Second)
	if review.Replies != 1 {
		t.Errorf("replies %d, want 1", review.Replies)
	}
	applyMacro(t, z, "agent@desk.example", v.Ticket.ID, "abusedesk: Accept remediation")
	res := d.waitStatus(caseID, workflows.StatusResolved, 20*time.Second)
	if res.Outcome != workflows.OutcomeRemediated {
		t.Errorf("outcome %s", res.Outcome)
	}
	// The customer got the notice and the agent's macro answer — not also the bot's closing text.
	// Wait for the ticket to be solved and the macro's answer to be on it (a busy machine runs
	// the tests side by side), then count the closing messages.
	deadline := time.Now().Add(30 * time.Second)
	closing := 0
	for {
		comments := ticketComments(t, z, v.Ticket.ID)
		var status struct {
			Ticket struct{ Status string } `json:"ticket"`
		}
		zendeskAPI(t, z, "agent@desk.example", "GET", fmt.Sprintf("/api/v2/tickets/%s.json", v.Ticket.ID), nil, &status)
		closing = 0
		for _, c := range comments {
			if c.Public && strings.Contains(strings.ToLower(c.Body), "no action was taken on your account") {
				closing++
			}
		}
		if (status.Ticket.Status == "solved" && closing > 0) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if closing != 1 {
		t.Errorf("%d closing messages to the customer, want exactly the macro's", closing)
	}
}

// zendeskAPI calls the sandbox Zendesk as a user (API-token auth works for any user).
func zendeskAPI(t *testing.T, z map[string]any, user, method, path string, in, out any) {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, z["url"].(string)+path, body)
	req.SetBasicAuth(user+"/token", z["api_token"].(string))
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

// zendeskAgent is the decision an agent of the sandbox Zendesk takes, with the agent's user
// ID as Zendesk's audits give it (the desk takes decisions from the desk's agents only).
func zendeskAgent(t *testing.T, z map[string]any, email string, d workflows.Decision) workflows.AgentDecision {
	t.Helper()
	var found struct {
		Users []struct {
			ID int64 `json:"id"`
		} `json:"users"`
	}
	zendeskAPI(t, z, email, "GET", "/api/v2/users/search.json?query="+url.QueryEscape("email:"+email), nil, &found)
	if len(found.Users) != 1 {
		t.Fatalf("no Zendesk user %s", email)
	}
	return workflows.AgentDecision{Decision: d, Agent: email, AgentID: strconv.FormatInt(found.Users[0].ID, 10)}
}

// applyMacro does what an agent's click does: apply the macro (Zendesk computes the result)
// and submit the ticket with it.
func applyMacro(t *testing.T, z map[string]any, agent string, ticket string, title string, edit ...func(string) string) {
	t.Helper()
	var macros struct {
		Macros []struct {
			ID    int64  `json:"id"`
			Title string `json:"title"`
		} `json:"macros"`
	}
	zendeskAPI(t, z, agent, "GET", "/api/v2/macros.json", nil, &macros)
	var id int64
	for _, m := range macros.Macros {
		if m.Title == title {
			id = m.ID
		}
	}
	if id == 0 {
		t.Fatalf("no macro %q", title)
	}
	var applied struct {
		Result struct {
			Ticket  map[string]any `json:"ticket"`
			Comment map[string]any `json:"comment"`
		} `json:"result"`
	}
	zendeskAPI(t, z, agent, "GET", fmt.Sprintf("/api/v2/tickets/%s/macros/%d/apply.json", ticket, id), nil, &applied)
	update := map[string]any{"tags": applied.Result.Ticket["tags"]}
	if c := applied.Result.Comment; c != nil {
		// The agent edits the macro's text before submitting it.
		for _, e := range edit {
			body, _ := c["body"].(string)
			c["body"] = e(body)
		}
		update["comment"] = c
	}
	zendeskAPI(t, z, agent, "PUT", fmt.Sprintf("/api/v2/tickets/%s.json", ticket), map[string]any{"ticket": update}, nil)
}

// TestDecisionSurvivesALostWebhook: the webhook that would carry an agent's "Request more
// information" is lost (the desk's webhook is off in Zendesk); the decision tag stays on the
// ticket, the export poll finds it and the case applies the decision once — then the webhook
// comes back and the poll runs again, and nothing is applied twice.
func TestDecisionSurvivesALostWebhook(t *testing.T) {
	t.Parallel()
	// The customer's windows outlast the test; the sandbox's export leaves out the last five
	// seconds' changes (Zendesk: a minute), so the poll sees the decision after them.
	d := startDevIn(t, t.TempDir(), fastPolicy(t, t.TempDir(), map[string]string{"response_window: 72h": "response_window: 1h", "more_info_window: 48h": "more_info_window: 1h"}),
		map[string]string{"ZENDESK_POLL_INTERVAL": "1s"}, "--sandbox-export-lag", "5s")
	caseID := d.submitReports("acct-shop", "spam", "lost-1")
	v := d.waitStatus(caseID, workflows.StatusAwaitingResponse, 20*time.Second)
	z := d.sandbox["zendesk"]
	var hooks struct {
		Webhooks []struct {
			ID string `json:"id"`
		} `json:"webhooks"`
	}
	zendeskAPI(t, z, "desk-bot@abusedesk.example", "GET", "/api/v2/webhooks", nil, &hooks)
	if len(hooks.Webhooks) != 1 {
		t.Fatalf("%d webhooks, want the desk's", len(hooks.Webhooks))
	}
	setHook := func(status string) {
		zendeskAPI(t, z, "desk-bot@abusedesk.example", "PUT", "/api/v2/webhooks/"+hooks.Webhooks[0].ID,
			map[string]any{"webhook": map[string]any{"status": status}}, nil)
	}
	setHook("inactive")
	applyMacro(t, z, "agent@desk.example", v.Ticket.ID, "abusedesk: Request more information")
	// The export leaves out the last changes: the poll sees the ticket after the lag.
	var after *workflows.CaseView
	deadline := time.Now().Add(45 * time.Second)
	for time.Now().Before(deadline) {
		after, _ = d.cases.Status(context.Background(), caseID)
		if after != nil && strings.Contains(timelineText(after), "request_info by") {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if after == nil || !strings.Contains(timelineText(after), "request_info by") {
		t.Fatalf("the lost decision never reached the case: %+v", after)
	}
	// The poll removed the decision tags; turning the webhook on again and touching the ticket
	// sends nothing more.
	waitTags := func() []string {
		var tk struct {
			Ticket struct{ Tags []string } `json:"ticket"`
		}
		for range 300 {
			zendeskAPI(t, z, "agent@desk.example", "GET", fmt.Sprintf("/api/v2/tickets/%s.json", v.Ticket.ID), nil, &tk)
			if !slices.ContainsFunc(tk.Ticket.Tags, func(s string) bool { return strings.HasPrefix(s, "abusedesk_decision_") }) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		return tk.Ticket.Tags
	}
	if tags := waitTags(); slices.ContainsFunc(tags, func(s string) bool {
		return strings.HasPrefix(s, "abusedesk_decision_") || strings.HasPrefix(s, "abusedesk_sent_")
	}) {
		t.Errorf("decision tags left after the poll applied it: %v", tags)
	}
	setHook("active")
	zendeskAPI(t, z, "agent@desk.example", "PUT", fmt.Sprintf("/api/v2/tickets/%s.json", v.Ticket.ID),
		map[string]any{"ticket": map[string]any{"comment": map[string]any{"body": "checked again", "public": false}}}, nil)
	time.Sleep(2500 * time.Millisecond) // two more polls
	final, err := d.cases.Status(context.Background(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	decisions := strings.Count(timelineText(final), "request_info by")
	if final.Status != workflows.StatusAwaitingResponse || decisions != 1 {
		t.Errorf("%s with %d request_info decisions, want awaiting_response and exactly one:\n%s", final.Status, decisions, timelineText(final))
	}
}
