package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"abusedesk/platform/ingress"
	"abusedesk/workflows"
)

// leadsPolicy is the fast test policy with the sandbox leads as approvers and phishing and
// malware windows of seconds too.
func leadsPolicy(t *testing.T) string {
	t.Helper()
	return fastPolicy(t, t.TempDir(), map[string]string{
		approverPolicy:         "  users: []\n  groups: [SLEADS]",
		"response_window: 24h": "response_window: 3s",
		"reminders: [12h]":     "reminders: [1s]",
		"sample_rate: 0.05":    "sample_rate: 1",
	})
}

// page is a browser-less visitor of the dashboard: GETs pages and submits its forms (without
// following the redirect, so the test sees where the dashboard sends the browser).
type page struct {
	t        *testing.T
	base     string
	password string
	client   *http.Client
}

func (d *devDesk) dashboard(password string) *page {
	jar, _ := cookiejar.New(nil)
	return &page{t: d.t, base: d.ep.HTTP, password: password, client: &http.Client{
		Timeout:       30 * time.Second,
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// do sends a request as the dashboard's pages would: a form goes with this browser's CSRF
// token, asked for first, as desk.js does (send sends it as it is).
func (p *page) do(method, path string, form url.Values) (int, string, http.Header) {
	p.t.Helper()
	if form != nil {
		code, body, _ := p.send(http.MethodGet, ingress.CSRFPath, nil)
		var tok struct{ Token string }
		if err := json.Unmarshal([]byte(body), &tok); code != http.StatusOK || err != nil || tok.Token == "" {
			p.t.Fatalf("GET %s: %d %s", ingress.CSRFPath, code, body)
		}
		form = maps.Clone(form)
		form.Set(ingress.CSRFField, tok.Token)
	}
	return p.send(method, path, form)
}

func (p *page) send(method, path string, form url.Values) (int, string, http.Header) {
	p.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, p.base+path, body)
	if err != nil {
		p.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if p.password != "" {
		req.SetBasicAuth("someone", p.password)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func (p *page) get(path string) string {
	p.t.Helper()
	code, body, _ := p.do(http.MethodGet, path, nil)
	if code != http.StatusOK {
		p.t.Fatalf("GET %s: %d\n%s", path, code, body)
	}
	return body
}

// waitFor polls a page until it contains want (the list reads the visibility store, which
// follows the case's own state by a moment).
func (p *page) waitFor(path, want string, timeout time.Duration) string {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		body := p.get(path)
		if strings.Contains(body, want) {
			return body
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s does not show %q after %v:\n%s", path, want, timeout, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// submit posts a form and returns the flash message of the page it is sent back to.
func (p *page) submit(path string, form url.Values) (location, flash string) {
	p.t.Helper()
	code, body, h := p.do(http.MethodPost, path, form)
	if code != http.StatusSeeOther {
		p.t.Fatalf("POST %s: %d, want a redirect\n%s", path, code, body)
	}
	loc, err := url.Parse(h.Get("Location"))
	if err != nil {
		p.t.Fatal(err)
	}
	return loc.Path, loc.Query().Get("flash")
}

// TestDashboardTakesACaseFromReportToReinstatement plays every party from the dashboard's
// sandbox forms — a reporter drops a sample, a non-approver and then a lead click in Slack, the
// customer appeals by email, an agent grants with the Zendesk macro — and checks the pages
// show each step: counts, filters, the timeline, the account's enforcement state.
func TestDashboardTakesACaseFromReportToReinstatement(t *testing.T) {
	t.Parallel()
	d := startDevIn(t, t.TempDir(), leadsPolicy(t), map[string]string{"DESK_DASHBOARD_PASSWORD": "open sesame"})
	if code, _, h := d.dashboard("").do(http.MethodGet, "/", nil); code != http.StatusUnauthorized || !strings.Contains(h.Get("WWW-Authenticate"), "Basic") {
		t.Fatalf("dashboard without the password: %d %v", code, h)
	}
	if code, _, _ := d.dashboard("wrong").do(http.MethodGet, "/sandbox", nil); code != http.StatusUnauthorized {
		t.Fatalf("sandbox with a wrong password: %d", code)
	}
	p := d.dashboard("open sesame")
	if body := p.get("/"); !strings.Contains(body, "No open cases") {
		t.Fatalf("a fresh desk lists cases:\n%s", body)
	}
	if code, body, _ := p.do(http.MethodGet, "/cases/case/acct-nobody/spam", nil); code != http.StatusNotFound || !strings.Contains(body, "no case case/acct-nobody/spam") {
		t.Fatalf("unknown case: %d", code)
	}

	// A reporter's X-ARF 4 phishing report, sent to the reports API from the sandbox page.
	sandboxPage := p.get("/sandbox")
	for _, want := range []string{"02-bank-phishing-xarf4", "acct-bank", "acct-shop"} {
		if !strings.Contains(sandboxPage, want) {
			t.Fatalf("the sandbox page lacks %q", want)
		}
	}
	// A form without this browser's CSRF token changes nothing, even with the password (a page
	// elsewhere gets the browser to send that much).
	if code, body, _ := p.send(http.MethodPost, "/sandbox/report", url.Values{"sample": {"02-bank-phishing-xarf4"}}); code != http.StatusForbidden || !strings.Contains(body, "CSRF token") {
		t.Fatalf("a form without its CSRF token: %d %s", code, body)
	}
	if loc, flash := p.submit("/sandbox/report", url.Values{"sample": {"02-bank-phishing-xarf4"}}); loc != "/" || !strings.Contains(flash, "reports API") {
		t.Fatalf("drop sample: back to %s with %q", loc, flash)
	}
	caseID := workflows.CaseWorkflowID("acct-bank", "phishing")
	d.waitStatus(caseID, workflows.StatusPendingApproval, 30*time.Second)
	p.waitFor("/", `data-case="`+caseID+`" data-status="pending_approval"`, 10*time.Second)
	if !strings.Contains(p.get("/?status=pending_approval"), `data-case="`+caseID+`"`) || strings.Contains(p.get("/?category=spam"), `data-case="`+caseID+`"`) {
		t.Error("the status and category filters do not select the case")
	}
	// The status chips link to those filters (their "=" not escaped away).
	if list := p.get("/"); !strings.Contains(list, `href="/?status=pending_approval"`) {
		t.Error("the pending_approval chip does not link to its filter")
	}
	if body := p.get("/cases/" + caseID); !strings.Contains(body, `id="btn-approve"`) || !strings.Contains(body, "approval requested") {
		t.Fatalf("the case page offers no approval:\n%s", body)
	}
	// The latest reports name what they are about, as "kind:value".
	if body := p.get("/cases/" + caseID); !strings.Contains(body, "<td>url:http") && !strings.Contains(body, "<td>ip:") {
		t.Errorf("the case page's reports do not name their subjects:\n%s", body)
	}
	// Labels a person reads: the status in words, which deadline the countdown is, the category
	// once.
	if list := p.get("/"); !strings.Contains(list, ">waiting for a lead</span>") || !strings.Contains(list, "lead&#39;s answer") {
		t.Error("the list shows the status or its deadline in internal words")
	}
	if page := p.get("/cases/" + caseID); strings.Contains(page, "phishing (phishing)") || !strings.Contains(page, "Next deadline") {
		t.Error("the case page repeats the category or does not say which deadline")
	}

	// Someone who is no approver clicks Approve: Slack answers them, the case does not move.
	act := "/sandbox/cases/" + caseID
	// The page says so as a refusal, with the desk's reason, not as a success.
	if _, flash := p.submit(act, url.Values{"do": {"approve"}, "lead": {"UAGENT1"}}); !strings.HasPrefix(flash, "Refused: Alex Agent clicked approve in Slack, and the desk refused it: You are not one of the approvers") {
		t.Fatalf("bystander click: %q", flash)
	}
	if v := d.waitStatus(caseID, workflows.StatusPendingApproval, time.Second); v.Approval == nil || v.Approval.Decision != "" {
		t.Fatalf("a non-approver decided: %+v", v.Approval)
	}
	if _, flash := p.submit(act, url.Values{"do": {"approve"}, "lead": {"ULEAD1"}}); !strings.HasPrefix(flash, "Lee Lead clicked approve in Slack; the desk took it: the case is ") {
		t.Fatalf("lead click: %q", flash)
	}
	enforced := d.waitStatus(caseID, workflows.StatusEnforced, 30*time.Second)
	if enforced.Enforcement == nil || enforced.Enforcement.ApprovedBy != "ULEAD1" {
		t.Fatalf("enforcement %+v, want approved by ULEAD1", enforced.Enforcement)
	}
	if page := p.get("/cases/" + caseID); !strings.Contains(page, "approved by Lee Lead") || strings.Contains(page, "approved by ULEAD1") {
		t.Error("the enforcement names the approver by Slack ID, not by name")
	}
	if body := p.get("/sandbox"); !strings.Contains(body, `s-active">active</span> suspend_sending`) {
		t.Errorf("the sandbox page does not show acct-bank's active suspension")
	}

	// The customer takes the page down and appeals by email; a reviewer grants it with the
	// macro in Zendesk (the desk checks the page first: it is gone).
	if _, flash := p.submit(act, url.Values{"do": {"takedown"}}); !strings.HasPrefix(flash, "Done on the sandbox's stand-in") {
		t.Fatalf("takedown: %q", flash)
	}
	// An empty box sends nothing in anyone's name: no canned reply, no canned reason.
	if _, flash := p.submit(act, url.Values{"do": {"reply_email"}}); !strings.Contains(flash, "Type the customer's reply in the box first") {
		t.Errorf("an empty reply: %q", flash)
	}
	if _, flash := p.submit(act, url.Values{"do": {"deny"}, "lead": {"ULEAD1"}}); !strings.Contains(flash, "Type the reason for the deny in the box first") {
		t.Errorf("a deny without a reason: %q", flash)
	}
	if _, flash := p.submit(act, url.Values{"do": {"reply_email"}, "text": {"We removed the page; please lift it."}}); !strings.Contains(flash, "abuse mailbox") {
		t.Fatalf("appeal: %q", flash)
	}
	d.waitStatus(caseID, workflows.StatusAppealReview, 30*time.Second)
	// The lead who approved the enforcement may not review its appeal: refused, in words.
	if _, flash := p.submit(act, url.Values{"do": {"macro"}, "agent": {"lee.lead@desk.example"}, "macro": {"abusedesk: Grant appeal"}, "text": {"Looks fine."}}); !strings.HasPrefix(flash, `Refused: lee.lead@desk.example applied "abusedesk: Grant appeal" in Zendesk, and the desk refused it: "grant_appeal": `) {
		t.Fatalf("self-review: %q", flash)
	}
	if v := d.waitStatus(caseID, workflows.StatusAppealReview, time.Second); v.Appeal == nil || v.Appeal.Decision != "" {
		t.Fatalf("a self-review decided the appeal: %+v", v.Appeal)
	}
	if _, flash := p.submit(act, url.Values{"do": {"macro"}, "agent": {"reviewer@desk.example"}, "macro": {"abusedesk: Grant appeal"}, "text": {"Checked: the page is gone."}}); flash != `reviewer@desk.example applied "abusedesk: Grant appeal" in Zendesk; the desk took it.` {
		t.Fatalf("macro: %q", flash)
	}
	done := d.waitStatus(caseID, workflows.StatusReinstated, 30*time.Second)
	if done.Enforcement == nil || done.Enforcement.LiftedAt.IsZero() {
		t.Fatalf("reinstated without lifting: %+v", done.Enforcement)
	}
	// A closed case leaves the open list for the closed one, its page shows the whole story.
	p.waitFor("/?state=closed", `data-case="`+caseID+`"`, 10*time.Second)
	if strings.Contains(p.get("/"), `data-case="`+caseID+`"`) {
		t.Error("the closed case stays in the open list")
	}
	story := p.get("/cases/" + caseID)
	for _, step := range []string{"violation notice sent", "approved by Lee Lead", "applied and verified", "appeal received", "grant_appeal by reviewer@desk.example", "closed: reinstated"} {
		if !strings.Contains(story, step) {
			t.Errorf("the case page lacks %q", step)
		}
	}
	if strings.Contains(story, `id="act"`) {
		t.Error("a closed case still offers sandbox actions")
	}
	if _, flash := p.submit(act, url.Values{"do": {"dance"}}); !strings.Contains(flash, `unknown action "dance"`) {
		t.Errorf("unknown action: %q", flash)
	}

	// A new report about the same account and category is a new incident; the earlier one
	// stays reachable from the account history on the case page.
	first := done
	p.submit("/sandbox/report", url.Values{"sample": {"02-bank-phishing-xarf4"}})
	d.waitStatus(caseID, workflows.StatusPendingApproval, 30*time.Second)
	runs, err := d.cases.History(context.Background(), "acct-bank")
	if err != nil || len(runs) != 2 || runs[1].Running || runs[1].Status != workflows.StatusReinstated {
		t.Fatalf("history %+v %v, want the new incident and the reinstated one", runs, err)
	}
	if runs[0].CaseNumber == runs[1].CaseNumber || runs[1].CaseNumber != first.CaseNumber {
		t.Fatalf("incident numbers %s and %s; want two, the earlier %s", runs[0].CaseNumber, runs[1].CaseNumber, first.CaseNumber)
	}
	page := p.get("/cases/" + runs[0].CaseNumber)
	if !strings.Contains(page, `id="history"`) || !strings.Contains(page, `href="/cases/`+runs[0].CaseNumber+`"`) || !strings.Contains(page, `href="/cases/`+first.CaseNumber+`"`) {
		t.Fatalf("the new incident's page does not link both incidents by number:\n%s", page)
	}
	earlier := p.get("/cases/" + first.CaseNumber)
	if !strings.Contains(earlier, "closed: reinstated") || strings.Contains(earlier, `id="act"`) || !strings.Contains(earlier, first.CaseNumber) {
		t.Errorf("the earlier incident's page does not show it:\n%s", earlier)
	}
}

// TestSandboxCarriesOnAfterARestart: a case waits for a lead when desk dev stops; started again
// on the same data dir, the sandbox has the same credentials, ticket and Slack message, and the
// lead's click then enforces the case.
func TestSandboxCarriesOnAfterARestart(t *testing.T) {
	t.Parallel()
	dir, pol := t.TempDir(), leadsPolicy(t)
	d := startDevIn(t, dir, pol, nil)
	caseID := d.submitReports("acct-bank", "spam", "before-restart")
	v := d.waitStatus(caseID, workflows.StatusPendingApproval, 30*time.Second)
	_, before := d.approvalMessage(v.CaseNumber)
	zBefore, mBefore, tokenBefore := d.sandbox["zendesk"], d.sandbox["imap"], d.ep.API.Token
	d.stop()

	d2 := startDevIn(t, dir, pol, nil)
	z := d2.sandbox["zendesk"]
	if z["url"] != zBefore["url"] || z["api_token"] != zBefore["api_token"] {
		t.Errorf("the sandbox Zendesk moved: %v → %v", zBefore["url"], z["url"])
	}
	// The mailbox and the reports API keep their address and secrets, so scripts keep working.
	if m := d2.sandbox["imap"]; m["addr"] != mBefore["addr"] || m["password"] != mBefore["password"] {
		t.Errorf("the sandbox mailbox moved: %v → %v", mBefore, m)
	}
	if d2.ep.API.Token != tokenBefore {
		t.Error("the reports API token changed over the restart")
	}
	var ticket struct {
		Ticket struct {
			Subject string   `json:"subject"`
			Tags    []string `json:"tags"`
		} `json:"ticket"`
	}
	zendeskAPI(t, z, "agent@desk.example", http.MethodGet, fmt.Sprintf("/api/v2/tickets/%s.json", v.Ticket.ID), nil, &ticket)
	if !strings.Contains(ticket.Ticket.Subject, v.CaseNumber) {
		t.Fatalf("the case's ticket did not survive: %+v", ticket)
	}
	ch, after := d2.approvalMessage(v.CaseNumber)
	if after.TS != before.TS {
		t.Fatalf("the approval request changed over the restart: %s → %s", before.TS, after.TS)
	}
	d2.slackSandbox("POST", "click", map[string]string{"channel": ch, "ts": after.TS, "action_id": "abusedesk_approve", "user": "ULEAD2"}, nil)
	enforced := d2.waitStatus(caseID, workflows.StatusEnforced, 30*time.Second)
	if enforced.Enforcement == nil || enforced.Enforcement.ApprovedBy != "ULEAD2" {
		t.Fatalf("enforcement %+v", enforced.Enforcement)
	}
	if acts := d2.enforcementActions("acct-bank"); len(acts) != 1 || acts[0]["state"] != "active" {
		t.Fatalf("enforcement API after the restart: %v", acts)
	}
}
