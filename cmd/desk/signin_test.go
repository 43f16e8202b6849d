package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"abusedesk/platform/config"
	"abusedesk/platform/ingress"
	"abusedesk/platform/tclient"
	"abusedesk/workflows"
)

// TestSignInRoles: `desk dev --signin` signs people in through the stand-in identity provider;
// each role sees and does what it may: a legal case is 404 to an agent, a lead and an admin and
// shown to the legal team (the look on record); a quality review needs a lead; without a session
// pages send to sign-in and the API answers 401; someone in no role's group is refused.
func TestSignInRoles(t *testing.T) {
	t.Parallel()
	d := startDevIn(t, t.TempDir(), leadsPolicy(t), nil, "--demo", "--signin")
	d.mail(plainMail("Det. Jane Roe <jane.roe@police.example>", "Preservation request - reference 2026-7002", "pres-signin@police.example",
		"Pursuant to 18 U.S.C. 2703(f) we request that you preserve all records associated with the IP address 192.0.2.10\n"+
			"for the period 1 to 28 February 2026, pending legal process. Please do NOT disclose this request to the subscriber."))
	legal := d.waitStatus(workflows.CaseIDFor("acct-shop", "legal-request", workflows.MatterKey("jane.roe@police.example", "")), workflows.StatusLegalReview, 30*time.Second)
	bank := d.waitStatus(workflows.CaseWorkflowID("acct-bank", "phishing"), workflows.StatusPendingApproval, 60*time.Second)

	type session struct{ c *http.Client }
	signIn := func(email string) (session, int, string) {
		t.Helper()
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
		resp, err := c.Get(d.ep.HTTP + "/login?" + url.Values{"login_hint": {email}, "next": {"/queue"}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return session{c}, resp.StatusCode, string(b)
	}
	do := func(s session, method, path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, d.ep.HTTP+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := s.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	// Nobody signed in.
	anon := session{&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if code, _ := do(anon, http.MethodGet, "/queue", ""); code != http.StatusFound {
		t.Errorf("the queue without a session: HTTP %d, want a redirect to sign in", code)
	}
	if code, _ := do(anon, http.MethodGet, "/api/v1/queue", ""); code != http.StatusUnauthorized {
		t.Errorf("the queue's JSON without a session: HTTP %d, want 401", code)
	}
	if _, code, body := signIn("visitor@desk.example"); code != http.StatusForbidden || !strings.Contains(body, "none of the groups") {
		t.Errorf("someone in no role's group: HTTP %d %s", code, body)
	}

	waiting := func(s session) []struct {
		ID, Decider string
	} {
		t.Helper()
		var out struct {
			Items []struct {
				ID      string `json:"id"`
				Decider string `json:"decider"`
			} `json:"items"`
		}
		for i := 0; i < 300; i++ {
			code, body := do(s, http.MethodGet, "/api/v1/qa", "")
			if code != http.StatusOK {
				t.Fatalf("QA queue: HTTP %d %s", code, body)
			}
			_ = json.Unmarshal([]byte(body), &out)
			if len(out.Items) > 0 {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		var list []struct{ ID, Decider string }
		for _, it := range out.Items {
			list = append(list, struct{ ID, Decider string }{it.ID, it.Decider})
		}
		return list
	}

	for _, who := range []string{"agent@desk.example", "lee.lead@desk.example", "admin@desk.example"} {
		s, code, body := signIn(who)
		if code != http.StatusOK || !strings.Contains(body, "Work queue") {
			t.Fatalf("%s signs in: HTTP %d, not back on the queue", who, code)
		}
		if strings.Contains(body, legal.CaseNumber) {
			t.Errorf("%s's queue lists the legal case", who)
		}
		code, page := do(s, http.MethodGet, "/cases/"+legal.CaseNumber, "")
		if code != http.StatusNotFound {
			t.Errorf("%s opens the legal case: HTTP %d, want 404", who, code)
		}
		// The 404 reads like that of a number no incident has: nothing of the case behind it.
		for _, leak := range []string{legal.CaseID, "acct-shop", "legal", "police"} {
			if strings.Contains(strings.ToLower(page), strings.ToLower(leak)) {
				t.Errorf("%s's 404 for the legal case names %q", who, leak)
			}
		}
		_, none := do(s, http.MethodGet, "/cases/TS-00000000", "")
		if strings.ReplaceAll(page, legal.CaseNumber, "N") != strings.ReplaceAll(none, "TS-00000000", "N") {
			t.Errorf("%s tells a legal case's 404 from a missing number's", who)
		}
		if code, body := do(s, http.MethodGet, "/accounts/acct-shop", ""); code != http.StatusOK || strings.Contains(body, legal.CaseNumber) {
			t.Errorf("%s's account page of acct-shop: HTTP %d, lists the legal case: %v", who, code, strings.Contains(body, legal.CaseNumber))
		}
		if code, _ := do(s, http.MethodGet, "/cases/"+bank.CaseNumber, ""); code != http.StatusOK {
			t.Errorf("%s opens the bank's case: HTTP %d", who, code)
		}
		if code, _ := do(s, http.MethodGet, "/api/v1/cases?state=all", ""); code != http.StatusOK {
			t.Errorf("%s reads the cases API with the session: HTTP %d", who, code)
		}
		// Every page and export the dashboard serves, read as this person: no trace of the
		// legal matter (its number, its ID, the police force, the request's words).
		for _, path := range []string{"/", "/?state=closed", "/?state=all", "/queue", "/reporters", "/intake", "/operations", "/trends", "/qa", "/reputation",
			"/accounts/acct-shop", "/api/v1/cases?state=all", "/api/v1/cases?q=192.0.2.10&state=all", "/api/v1/cases?q=police.example&state=all",
			"/api/v1/queue", "/api/v1/metrics", "/api/v1/metrics?track=legal", "/api/v1/qa", "/api/v1/reputation", "/api/v1/cases/" + legal.CaseNumber} {
			_, body := do(s, http.MethodGet, path, "")
			if strings.HasSuffix(path, legal.CaseNumber) { // answered as a number no incident has
				_, none := do(s, http.MethodGet, "/api/v1/cases/TS-00000000", "")
				if strings.ReplaceAll(body, legal.CaseNumber, "N") != strings.ReplaceAll(none, "TS-00000000", "N") {
					t.Errorf("%s's cases API tells the legal case from a missing number: %s", who, body)
				}
				body = strings.ReplaceAll(body, legal.CaseNumber, "N")
			}
			for _, leak := range []string{legal.CaseNumber, legal.CaseID, "police.example", "Preservation request", "2703(f)"} {
				if strings.Contains(body, leak) {
					t.Errorf("%s's %s names %q", who, path, leak)
				}
			}
		}
	}

	// A quality review needs a lead; the lead's review is by the lead signed in.
	agent, _, _ := signIn("agent@desk.example")
	items := waiting(agent)
	if len(items) == 0 {
		t.Fatal("no sampled decision to review (the policy samples every one)")
	}
	if code, body := do(agent, http.MethodPost, "/api/v1/qa/"+items[0].ID, `{"verdict":"agree","reviewer":"lee.lead@desk.example"}`); code != http.StatusForbidden || !strings.Contains(body, "lead role") {
		t.Errorf("an agent's review: HTTP %d %s, want 403 naming the lead role", code, body)
	}
	lead, _, _ := signIn("lee.lead@desk.example")
	code, body := do(lead, http.MethodPost, "/api/v1/qa/"+items[0].ID, `{"verdict":"agree","reviewer":"someone@else.example"}`)
	if code != http.StatusOK || !strings.Contains(body, `"reviewer": "lee.lead@desk.example"`) {
		t.Errorf("the lead's review: HTTP %d %s, want it recorded as the lead's", code, body)
	}
	// The review is counted on /metrics (the agreement rate per category and decider).
	if code, metrics := do(anon, http.MethodGet, "/metrics", ""); code != http.StatusOK || !strings.Contains(metrics, `desk_qa_reviews_total{`) || !strings.Contains(metrics, `verdict="agree"} 1`) {
		t.Errorf("/metrics: HTTP %d, no desk_qa_reviews_total with the lead's agreement", code)
	}

	// The legal team sees the legal case, and each look is on record.
	lawyer, code, _ := signIn("legal@desk.example")
	if code != http.StatusOK {
		t.Fatalf("legal signs in: HTTP %d", code)
	}
	do(lawyer, http.MethodGet, "/cases/"+legal.CaseNumber, "")
	code, body = do(lawyer, http.MethodGet, "/cases/"+legal.CaseNumber, "")
	// Two looks in a row (the page refreshes itself) are one look on record.
	if code != http.StatusOK || !strings.Contains(body, `id="accesses"`) || strings.Count(body, "</span> legal@desk.example</li>") != 1 {
		t.Errorf("legal opens the legal case twice: HTTP %d; want one look on record:\n%s", code, body)
	}
	// Aggregates: the legal team's figures and counts include the legal matter; an agent's
	// leave it out entirely (not a zero: no legal category, track or status at all).
	legalFigures := func(s session) (inMetrics, inCounts bool) {
		t.Helper()
		_, body := do(s, http.MethodGet, "/api/v1/metrics", "")
		var m struct {
			By map[string][]struct {
				Key string `json:"key"`
			} `json:"by"`
		}
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			t.Fatalf("metrics: %v in %s", err, body)
		}
		for _, f := range m.By["category"] {
			inMetrics = inMetrics || f.Key == "legal-request"
		}
		for _, f := range m.By["track"] {
			inMetrics = inMetrics || f.Key == "legal"
		}
		_, list := do(s, http.MethodGet, "/", "")
		return inMetrics, strings.Contains(list, "s-legal_review")
	}
	var lawMetrics, lawCounts bool
	for i := 0; i < 100 && !(lawMetrics && lawCounts); i++ {
		if lawMetrics, lawCounts = legalFigures(lawyer); !(lawMetrics && lawCounts) {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if !lawMetrics || !lawCounts {
		t.Errorf("the legal team's figures lack the legal matter: metrics %v, status counts %v", lawMetrics, lawCounts)
	}
	agentSession, _, _ := signIn("agent@desk.example")
	if inMetrics, inCounts := legalFigures(agentSession); inMetrics || inCounts {
		t.Errorf("an agent's figures show the legal matter: metrics %v, status counts %v", inMetrics, inCounts)
	}
	if _, ops := do(agentSession, http.MethodGet, "/operations", ""); strings.Contains(ops, "legal-request") || strings.Contains(ops, `value="legal"`) {
		t.Error("an agent's /operations offers the legal category or track")
	}
	// The police force is a reporter the legal team sees, and nobody else.
	if _, rep := do(lawyer, http.MethodGet, "/reporters", ""); !strings.Contains(rep, "police.example") {
		t.Error("the legal team's /reporters lacks the police force")
	}
	for _, path := range []string{"/reporters", "/intake", "/queue", "/"} {
		if _, page := do(agentSession, http.MethodGet, path, ""); strings.Contains(page, "police.example") {
			t.Errorf("an agent's %s names the police force", path)
		}
	}
	if _, m := do(anon, http.MethodGet, "/metrics", ""); strings.Contains(m, "police.example") {
		t.Error("/metrics names the police force")
	}

	// The legal team's own view lists the matter with its clock; to anyone else it is a page
	// that does not exist.
	for _, path := range []string{"/legal", "/api/v1/legal"} {
		if code, body := do(agentSession, http.MethodGet, path, ""); code != http.StatusNotFound || strings.Contains(body, legal.CaseNumber) {
			t.Errorf("an agent's %s: HTTP %d, want 404", path, code)
		}
	}
	var matters struct {
		Matters []struct {
			CaseNumber string    `json:"case_number"`
			Authority  string    `json:"authority"`
			AnswerDue  time.Time `json:"answer_due"`
			Next       time.Time `json:"next"`
		} `json:"matters"`
	}
	if code, body := do(lawyer, http.MethodGet, "/api/v1/legal", ""); code != http.StatusOK || json.Unmarshal([]byte(body), &matters) != nil {
		t.Errorf("the legal team's /api/v1/legal: HTTP %d %s", code, body)
	} else if m := matters.Matters; len(m) != 1 || m[0].CaseNumber != legal.CaseNumber || m[0].Authority != "jane.roe@police.example" || m[0].AnswerDue.IsZero() || !m[0].Next.Equal(m[0].AnswerDue) {
		t.Errorf("the legal team's matters: %+v; want the preservation request, its answer due", m)
	}
	if code, page := do(lawyer, http.MethodGet, "/legal", ""); code != http.StatusOK || !strings.Contains(page, legal.CaseNumber) || !strings.Contains(page, "the answer to the authority") {
		t.Errorf("the legal team's /legal: HTTP %d, lacks the matter and its clock", code)
	}

	// An agent moves a case into legal from its page, in their own name; someone signed in who
	// is no agent of the desk in Zendesk is refused, and nothing moves.
	form := func(s session, path string, v url.Values) string {
		t.Helper()
		var tok struct{ Token string }
		if _, body := do(s, http.MethodGet, ingress.CSRFPath, ""); json.Unmarshal([]byte(body), &tok) != nil {
			t.Fatalf("no CSRF token: %s", body)
		}
		v.Set(ingress.CSRFField, tok.Token)
		req, _ := http.NewRequest(http.MethodPost, d.ep.HTTP+path, strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := s.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	admin, _, _ := signIn("admin@desk.example")
	if _, page := do(admin, http.MethodGet, "/cases/"+bank.CaseNumber, ""); !strings.Contains(page, "/act/move-to-legal/"+bank.CaseNumber) {
		t.Error("the bank's case page offers no 'Move to legal' to a signed-in person")
	}
	if page := form(admin, "/act/move-to-legal/"+bank.CaseNumber, url.Values{"note": {"a police matter"}}); !strings.Contains(page, "admin@desk.example is not an agent of the desk") {
		t.Errorf("someone who is no agent moves a case to legal; the page says:\n%s", page)
	}
	if v, err := d.cases.Status(context.Background(), bank.CaseID); err != nil || v.Status.Final() {
		t.Fatalf("the bank's case after a refused move: %v %v", v, err)
	}
	// Assignment and bulk actions (issue 34 item 3): the agent takes a case from its page, finds
	// it under "my cases", and extends two cases' deadlines in one go, each case answering for
	// itself; a legal matter's number in the selection reads as a number no open case has.
	agent, _, _ = signIn("agent@desk.example")
	type queued struct {
		CaseNumber string           `json:"case_number"`
		Status     workflows.Status `json:"status"`
		Assignee   string           `json:"assignee"`
	}
	queueOf := func(s session, query string) []queued {
		t.Helper()
		var q struct{ Items []queued }
		if code, body := do(s, http.MethodGet, "/api/v1/queue"+query, ""); code != http.StatusOK || json.Unmarshal([]byte(body), &q) != nil {
			t.Fatalf("the queue%s: HTTP %d %s", query, code, body)
		}
		return q.Items
	}
	var two []string
	for deadline := time.Now().Add(90 * time.Second); len(two) < 2 && time.Now().Before(deadline); time.Sleep(time.Second) {
		two = nil
		for _, it := range queueOf(agent, "") {
			switch it.Status {
			case workflows.StatusPendingApproval, workflows.StatusAwaitingResponse, workflows.StatusUnderReview:
				if len(two) < 2 {
					two = append(two, it.CaseNumber)
				}
			}
		}
	}
	if len(two) < 2 {
		t.Fatalf("fewer than two cases whose deadline an agent may extend: %+v", queueOf(agent, ""))
	}
	if page := form(agent, "/act/assign/"+two[0], url.Values{"assignee": {"me"}}); !strings.Contains(page, "You own this case now.") || !strings.Contains(page, `id="owner"><b>Alex Agent</b> &lt;agent@desk.example&gt;`) {
		t.Errorf("the agent takes %s: the page says\n%s", two[0], page)
	}
	if mine := queueOf(agent, "?owner=me"); len(mine) != 1 || mine[0].CaseNumber != two[0] || mine[0].Assignee != "agent@desk.example" {
		t.Errorf("the agent's cases: %+v; want %s alone, theirs", mine, two[0])
	}
	// The owner is the ticket's assignee in Zendesk, and the other way round: a colleague who
	// assigns the ticket to themselves in Zendesk owns the case.
	z := d.sandbox["zendesk"]
	owned, err := d.cases.FindByNumber(context.Background(), two[0])
	if err != nil || owned == nil {
		t.Fatalf("find %s: %v", two[0], err)
	}
	var tk struct {
		Ticket struct {
			AssigneeID int64 `json:"assignee_id"`
		} `json:"ticket"`
	}
	var agentUser, reviewer struct {
		User struct {
			ID int64 `json:"id"`
		} `json:"user"`
	}
	zendeskAPI(t, z, "agent@desk.example", http.MethodGet, "/api/v2/users/me.json", nil, &agentUser)
	zendeskAPI(t, z, "reviewer@desk.example", http.MethodGet, "/api/v2/users/me.json", nil, &reviewer)
	ticketPath := fmt.Sprintf("/api/v2/tickets/%s.json", owned.Ticket.ID)
	if zendeskAPI(t, z, "agent@desk.example", http.MethodGet, ticketPath, nil, &tk); tk.Ticket.AssigneeID != agentUser.User.ID {
		t.Errorf("the ticket of %s is assigned to %d, want the agent (%d)", two[0], tk.Ticket.AssigneeID, agentUser.User.ID)
	}
	zendeskAPI(t, z, "reviewer@desk.example", http.MethodPut, ticketPath, map[string]any{"ticket": map[string]any{"assignee_id": reviewer.User.ID}}, nil)
	var now *workflows.CaseView
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if now, err = d.cases.Status(context.Background(), owned.CaseID); err == nil && now.Assignee != nil && now.Assignee.Email == "reviewer@desk.example" {
			break
		}
	}
	if now == nil || now.Assignee == nil || now.Assignee.Email != "reviewer@desk.example" || now.Assignee.By != "reviewer@desk.example" {
		t.Errorf("after the reviewer took the ticket in Zendesk, the case's owner is %+v; want reviewer@, by reviewer@", now)
	}
	if page := form(agent, "/act/assign/"+two[0], url.Values{"assignee": {"me"}}); !strings.Contains(page, "You own this case now.") {
		t.Errorf("the agent takes %s back: the page says\n%s", two[0], page)
	}
	if _, page := do(agent, http.MethodGet, "/queue?owner=none", ""); strings.Contains(page, `data-case="`+two[0]+`"`) || !strings.Contains(page, `data-case="`+two[1]+`"`) {
		t.Errorf("nobody's cases list %s (owned) or lack %s (nobody's)", two[0], two[1])
	}
	page := form(agent, "/act/bulk", url.Values{"action": {"extend"}, "case": {two[0], two[1], legal.CaseNumber}})
	if !strings.Contains(page, "Extend the deadline: 2 of 3 done.") || strings.Count(page, "Deadline extended to") != 2 ||
		!strings.Contains(page, legal.CaseNumber+": not done — case "+legal.CaseNumber+" is not open") {
		t.Errorf("the bulk extension: the page says\n%s", page)
	}
	for _, leak := range []string{"legal team", "legal matter", "police"} {
		if strings.Contains(page, leak) {
			t.Errorf("the bulk answer about a legal matter's number names %q", leak)
		}
	}
	if page := form(agent, "/act/bulk", url.Values{"action": {"resolve"}, "case": {two[0]}}); !strings.Contains(page, "say why the cases close") {
		t.Errorf("closing without a note: the page says\n%s", page)
	}

	if page := form(agent, "/act/move-to-legal/"+bank.CaseNumber, url.Values{"note": {"the reporter is a police force"}}); !strings.Contains(page, "Moved to legal") {
		t.Errorf("the agent's move to legal: the page says\n%s", page)
	}
	if moved := d.waitStatus(bank.CaseID, workflows.StatusResolved, 30*time.Second); moved.Outcome != workflows.OutcomeReclassified || len(moved.Reports.Recent) != 0 {
		t.Errorf("the moved case: %s, %d reports shown; want reclassified, none", moved.Outcome, len(moved.Reports.Recent))
	}

	// The codec endpoint decodes what the desk keeps in Temporal for the legal team alone.
	keys, err := tclient.DevKeys(d.dir)
	if err != nil {
		t.Fatal(err)
	}
	opts, _ := tclient.Options(config.Temporal{PayloadKeys: keys})
	p, err := opts.DataConverter.ToPayload("Please do NOT disclose this request to the subscriber.")
	if err != nil {
		t.Fatal(err)
	}
	encrypted, _ := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{p}})
	agent, _, _ = signIn("agent@desk.example")
	if code, _ := do(agent, http.MethodPost, "/codec/decode", string(encrypted)); code != http.StatusForbidden {
		t.Errorf("an agent decodes a payload: HTTP %d, want 403", code)
	}
	if code, body := do(lawyer, http.MethodPost, "/codec/decode", string(encrypted)); code != http.StatusOK || !strings.Contains(body, base64.StdEncoding.EncodeToString([]byte("json/plain"))) {
		t.Errorf("legal decodes a payload: HTTP %d %s, want the payload in clear", code, body)
	}
	// Signing out is a form: without this browser's CSRF token (a page elsewhere could send
	// that much) it is refused, with it the session ends.
	if code, body := do(lawyer, http.MethodPost, "/logout", ""); code != http.StatusForbidden || !strings.Contains(body, "CSRF token") {
		t.Errorf("sign out without the CSRF token: HTTP %d %s, want 403", code, body)
	}
	var tok struct{ Token string }
	if code, body := do(lawyer, http.MethodGet, ingress.CSRFPath, ""); code != http.StatusOK || json.Unmarshal([]byte(body), &tok) != nil {
		t.Fatalf("GET %s: HTTP %d %s", ingress.CSRFPath, code, body)
	}
	if code, _ := do(lawyer, http.MethodPost, "/logout?"+url.Values{ingress.CSRFField: {tok.Token}}.Encode(), ""); code != http.StatusForbidden {
		t.Errorf("sign out with the token in the URL: HTTP %d, want 403 (only the form or the header carries it)", code)
	}
	req, _ := http.NewRequest(http.MethodPost, d.ep.HTTP+"/logout", strings.NewReader(url.Values{ingress.CSRFField: {tok.Token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, err := lawyer.c.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("sign out with the token: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if code, _ := do(lawyer, http.MethodGet, "/api/v1/queue", ""); code != http.StatusUnauthorized {
		t.Errorf("after signing out: HTTP %d, want 401", code)
	}
}
