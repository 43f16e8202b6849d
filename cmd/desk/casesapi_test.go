package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"abusedesk/devenv/devserver"
	"abusedesk/domain/abuse"
	"abusedesk/platform/tclient"
	"abusedesk/workflows"
)

// TestCasesAPI: on the demo, the cases API lets in the API token or the dashboard's password
// and nothing else; finds cases by case number, domain, address and account name; filters and
// pages; returns a case's view with durations as text; keeps a legal case out (404, never
// listed); and names a bad parameter.
func TestCasesAPI(t *testing.T) {
	t.Parallel()
	skipShort(t)
	dir := t.TempDir()
	// The leads' policy, with the spam desk below a trusted flagger.
	pol := fastPolicy(t, t.TempDir(), map[string]string{
		approverPolicy:         "  users: []\n  groups: [SLEADS]",
		"response_window: 24h": "response_window: 3s",
		"reminders: [12h]":     "reminders: [1s]",
		"sample_rate: 0.05":    "sample_rate: 1",
		"trusted_flaggers: []": `trusted_flaggers: ["@isp.example"]`,
	})
	d := startDevIn(t, dir, pol, map[string]string{"DESK_DASHBOARD_PASSWORD": "s3cret"}, "--demo")
	d.mail(plainMail("Det. Jane Roe <jane.roe@police.example>", "Preservation request - reference 2026-7001", "pres-api@police.example",
		"Pursuant to 18 U.S.C. 2703(f) we request that you preserve all records associated with the IP address 192.0.2.10\n"+
			"for the period 1 to 28 February 2026, pending legal process. Please do NOT disclose this request to the subscriber."))
	legal := d.waitStatus(workflows.CaseIDFor("acct-shop", "legal-request", workflows.MatterKey("jane.roe@police.example", "")), workflows.StatusLegalReview, 30*time.Second)
	bank := d.waitStatus(workflows.CaseWorkflowID("acct-bank", "phishing"), workflows.StatusPendingApproval, 60*time.Second)
	var shop *workflows.CaseView
	for i := 0; shop == nil && i < 300; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		shop, _ = d.cases.Status(ctx, workflows.CaseWorkflowID("acct-shop", "phishing"))
		cancel()
		time.Sleep(100 * time.Millisecond)
	}
	if shop == nil {
		t.Fatal("the demo's shop phishing case never opened")
	}

	get := func(path string, auth func(*http.Request), out any) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, d.ep.HTTP+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if auth != nil {
			auth(req)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if out != nil && resp.StatusCode == http.StatusOK {
			if err := json.Unmarshal(b, out); err != nil {
				t.Fatalf("GET %s: %v in %s", path, err, b)
			}
		}
		if resp.StatusCode != http.StatusOK {
			t.Logf("GET %s: HTTP %d %s", path, resp.StatusCode, b)
		}
		return resp.StatusCode
	}
	token := func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+d.ep.API.Token) }
	basic := func(r *http.Request) { r.SetBasicAuth("lead", "s3cret") }
	wrong := func(r *http.Request) { r.Header.Set("Authorization", "Bearer nope") }
	for name, auth := range map[string]func(*http.Request){"nothing": nil, "a wrong token": wrong} {
		if code := get("/api/v1/cases", auth, nil); code != http.StatusUnauthorized {
			t.Errorf("with %s: HTTP %d, want 401", name, code)
		}
	}
	type list struct {
		Cases []struct {
			CaseNumber string `json:"case_number"`
			Account    string `json:"account"`
			Category   string `json:"category"`
			Track      string `json:"track"`
			Status     string `json:"status"`
		} `json:"cases"`
		Next   string `json:"next"`
		Search string `json:"search"`
	}
	numbers := func(l list) []string {
		var out []string
		for _, c := range l.Cases {
			out = append(out, c.CaseNumber)
		}
		return out
	}
	// Search: the ledger takes each case's events as it waits, so poll briefly.
	search := func(q, kind string, want ...string) {
		t.Helper()
		var l list
		for i := 0; i < 600; i++ { // up to a minute: the tests run side by side
			l = list{}
			if code := get("/api/v1/cases?state=all&"+url.Values{"q": {q}}.Encode(), token, &l); code != http.StatusOK {
				t.Fatalf("search %q: HTTP %d", q, code)
			}
			got := numbers(l)
			ok := l.Search == kind
			for _, w := range want {
				ok = ok && slices.Contains(got, w)
			}
			if ok {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		got := numbers(l)
		for _, w := range want {
			if !slices.Contains(got, w) || l.Search != kind {
				t.Errorf("search %q read as %q found %v, want %s in it (read as %s)", q, l.Search, got, w, kind)
			}
		}
		if slices.Contains(got, legal.CaseNumber) {
			t.Errorf("search %q lists the legal case %s", q, legal.CaseNumber)
		}
	}
	search(bank.CaseNumber, "case_number", bank.CaseNumber)
	search("login.consumer.example", "domain", bank.CaseNumber, shop.CaseNumber)
	search("http://LOGIN.consumer.example/verify", "domain", bank.CaseNumber, shop.CaseNumber)
	search("big bank", "account", bank.CaseNumber)
	search("192.0.2.0/24", "range", shop.CaseNumber)
	search("192.0.2.10", "ip") // only the legal case names it

	var page1, page2 list
	if code := get("/api/v1/cases?category=phishing&limit=1", basic, &page1); code != http.StatusOK || len(page1.Cases) != 1 || page1.Cases[0].Category != "phishing" || page1.Next == "" {
		t.Fatalf("page 1 of phishing, by the dashboard's password: HTTP %d %+v", code, page1)
	}
	if code := get("/api/v1/cases?category=phishing&limit=1&cursor="+url.QueryEscape(page1.Next), token, &page2); code != http.StatusOK || len(page2.Cases) != 1 || page2.Cases[0].CaseNumber == page1.Cases[0].CaseNumber {
		t.Errorf("page 2: HTTP %d %+v, want the other phishing case", code, page2)
	}
	var legalList list
	if get("/api/v1/cases?state=all&limit=200", token, &legalList); slices.Contains(numbers(legalList), legal.CaseNumber) {
		t.Errorf("the list shows the legal case %s", legal.CaseNumber)
	}
	if code := get("/api/v1/cases?track=legal", token, &legalList); code != http.StatusOK || len(legalList.Cases) != 0 {
		t.Errorf("track=legal: HTTP %d, %d cases, want none", code, len(legalList.Cases))
	}

	var view map[string]any
	if code := get("/api/v1/cases/"+strings.ToLower(bank.CaseNumber), token, &view); code != http.StatusOK || view["case_number"] != bank.CaseNumber {
		t.Fatalf("the bank's case: HTTP %d %v", code, view["case_number"])
	}
	if rules, _ := view["policy_rules"].(map[string]any); rules == nil || rules["response_window"] != "3s" {
		t.Errorf("policy_rules %v, want durations as text (response_window 3s)", view["policy_rules"])
	}
	if code := get("/api/v1/cases/"+legal.CaseNumber, token, nil); code != http.StatusNotFound {
		t.Errorf("the legal case: HTTP %d, want 404", code)
	}
	for path, want := range map[string]int{
		"/api/v1/cases?status=bogus": http.StatusBadRequest,
		"/api/v1/cases?limit=5000":   http.StatusBadRequest,
		"/api/v1/cases?cursor=!!!":   http.StatusBadRequest,
		"/api/v1/cases?cursor=eyJ9":  http.StatusBadRequest, // base64, but no cursor of ours
		"/api/v1/cases?category=spam&limit=1&cursor=" + url.QueryEscape(page1.Next): http.StatusBadRequest, // another search's
		"/api/v1/nothing-here":        http.StatusNotFound,
		"/api/v1/cases/not-a-number":  http.StatusBadRequest,
		"/api/v1/cases/TS-0000000000": http.StatusNotFound,
	} {
		if code := get(path, token, nil); code != want {
			t.Errorf("GET %s: HTTP %d, want %d", path, code, want)
		}
	}

	// The work queue: the bank's approval waits on a lead, the legal request on the legal team,
	// a Zendesk webhook that failed for good on an operator; soonest due first.
	failed := filepath.Join(dir, "inbox", "zendesk", "failed")
	if err := os.MkdirAll(failed, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(failed, "0001.json"), []byte(`{}`), 0o600); err != nil {
		t.Fatal(err)
	}
	var queue struct {
		Items []struct {
			CaseNumber string    `json:"case_number"`
			Due        time.Time `json:"due"`
			WaitingOn  string    `json:"waiting_on"`
		} `json:"items"`
	}
	if code := get("/api/v1/queue", token, nil); code != http.StatusUnauthorized {
		t.Errorf("the queue takes the dashboard's password, not the API token: HTTP %d", code)
	}
	if code := get("/api/v1/queue", basic, &queue); code != http.StatusOK {
		t.Fatalf("queue: HTTP %d", code)
	}
	on := map[string]string{}
	var operator bool
	for i, it := range queue.Items {
		on[it.CaseNumber] = it.WaitingOn
		operator = operator || strings.Contains(it.WaitingOn, "zendesk messages the desk could not act on")
		if i > 0 && !it.Due.IsZero() && (queue.Items[i-1].Due.IsZero() || it.Due.Before(queue.Items[i-1].Due)) {
			t.Errorf("the queue is not in due order at %d: %+v", i, queue.Items)
		}
	}
	if !strings.Contains(on[bank.CaseNumber], "a lead") || !strings.Contains(on[legal.CaseNumber], "the legal team") || !operator {
		t.Errorf("queue %+v: want the bank's case on a lead, the legal request on the legal team and the failed webhook on an operator", queue.Items)
	}

	// The account page: who the customer is, its incidents, and nothing for an unknown account.
	page := d.dashboard("s3cret")
	if body := page.get("/accounts/acct-bank"); !strings.Contains(body, "Big Bank") || !strings.Contains(body, `data-case="`+bank.CaseNumber+`"`) {
		t.Errorf("the account page of acct-bank lacks its name or its case:\n%s", body)
	}
	if code, _, _ := page.do(http.MethodGet, "/accounts/acct-nobody", nil); code != http.StatusNotFound {
		t.Errorf("an unknown account: HTTP %d, want 404", code)
	}

	// The dashboard's search box is the cases API's search: a domain, a range, a customer's
	// name; it says how it read the text, marks what matched, and says so when nothing does.
	// (Who may see legal cases there is the sign-in's roles: signin_test.go.)
	for q, want := range map[string][]string{
		"login.consumer.example": {bank.CaseNumber, shop.CaseNumber, "for the domain (and its subdomains) login.consumer.example"},
		"192.0.2.0/24":           {shop.CaseNumber, "for the range 192.0.2.0/24"},
		"big bank":               {bank.CaseNumber, "for the account (ID or name) big bank", "<mark><a href=\"/accounts/acct-bank\">"},
		"nothing-here.example":   {"No open case matches the domain (and its subdomains) nothing-here.example", "search closed cases too"},
	} {
		body := page.get("/?" + url.Values{"q": {q}}.Encode())
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("the dashboard's search for %q lacks %q", q, w)
			}
		}
	}

	// The demo's unreadable message went to a person, its report about a stranger's address was
	// answered "not ours": both are listed.
	var intake string
	for i := 0; i < 600; i++ { // up to a minute: the demo is fed while other tests run
		if intake = page.get("/intake"); strings.Contains(intake, `data-kind="triage"`) && strings.Contains(intake, `data-kind="not_ours"`) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(intake, `data-kind="triage"`) || !strings.Contains(intake, `data-kind="not_ours"`) || !strings.Contains(intake, "/agent/tickets/") {
		t.Errorf("the intake page lacks the demo's triage ticket or its not-ours answer (with their Zendesk links):\n%s", intake)
	}

	// The reports API: a request sent again under its Idempotency-Key takes nothing twice;
	// GET /api/v1/reports/{id} follows the report to its case, and says nothing of a legal one.
	post := func(key string, body []byte) (int, string, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, d.ep.API.URL, bytes.NewReader(body))
		token(req)
		req.Header.Set("Idempotency-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	// An unclear report (category other: a person triages it) from the spam desk, a trusted
	// flagger under this policy.
	spam := plainMail("Spam Desk <spamdesk@isp.example>", "Odd traffic from 192.0.2.10", "api-spam-1@isp.example",
		"Something odd keeps coming from 192.0.2.10 since this morning. Could you have a look at it?")
	code1, first, _ := post(`"api-spam-1"`, spam)
	code2, again, h := post(`"api-spam-1"`, spam)
	if code1 != http.StatusOK || code2 != code1 || again != first || h.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("the same request twice under its Idempotency-Key: HTTP %d then %d (replayed %q)\n%s\n%s", code1, code2, h.Get("Idempotent-Replayed"), first, again)
	}
	var answer struct {
		Reports []struct {
			ReportID string `json:"report_id"`
			Category string `json:"category"`
		} `json:"reports"`
	}
	if err := json.Unmarshal([]byte(first), &answer); err != nil || len(answer.Reports) != 1 {
		t.Fatalf("the answer %s: %v, want one report", first, err)
	}
	if code, _, _ := post(`"api-spam-1"`, append(slices.Clip(spam), "\nAnother line."...)); code != http.StatusUnprocessableEntity {
		t.Errorf("the key with another body: HTTP %d, want 422", code)
	}
	type status struct {
		Status string `json:"status"`
		Cases  []struct {
			CaseNumber string `json:"case_number"`
		} `json:"cases"`
	}
	var st status
	for i := 0; i < 300 && st.Status != "open"; i++ {
		st = status{}
		if code := get("/api/v1/reports/"+url.PathEscape(answer.Reports[0].ReportID), token, &st); code != http.StatusOK {
			t.Fatalf("the report's status: HTTP %d", code)
		}
		time.Sleep(100 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	// 192.0.2.10 is the shop's (the answer names no customer).
	spamCase, err := d.cases.Status(ctx, workflows.CaseWorkflowID("acct-shop", abuse.Category(answer.Reports[0].Category)))
	cancel()
	if err != nil || st.Status != "open" || len(st.Cases) != 1 || st.Cases[0].CaseNumber != spamCase.CaseNumber {
		t.Errorf("the report's status %+v (%v), want open in %s", st, err, spamCase.CaseNumber)
	}
	// The spam desk is a trusted flagger: its case, waiting for triage, is due within the
	// policy's trusted_sla (1h, not 4h) and leads the work queue after the overdue.
	if spamCase.Status == workflows.StatusNeedsTriage {
		if spamCase.Triage == nil || spamCase.Triage.Due.After(time.Now().Add(time.Hour)) || !strings.Contains(spamCase.Triage.Reason, "trusted flagger") {
			t.Errorf("the trusted flagger's case in triage: %+v, want due within the hour, saying why", spamCase.Triage)
		}
		var q struct {
			Items []struct {
				CaseNumber     string `json:"case_number"`
				Overdue        bool   `json:"overdue"`
				TrustedFlagger bool   `json:"trusted_flagger"`
			} `json:"items"`
		}
		if code := get("/api/v1/queue", basic, &q); code != http.StatusOK {
			t.Fatalf("queue: HTTP %d", code)
		}
		first := -1
		for i, it := range q.Items {
			if it.CaseNumber == spamCase.CaseNumber && it.TrustedFlagger {
				first = i
			}
			if first < 0 && !it.Overdue && it.CaseNumber != spamCase.CaseNumber {
				t.Errorf("the queue has %s (not overdue) before the trusted flagger's case: %+v", it.CaseNumber, q.Items)
				break
			}
		}
		if first < 0 {
			t.Errorf("the queue does not mark the trusted flagger's case %s: %+v", spamCase.CaseNumber, q.Items)
		}
	} else {
		t.Errorf("the spam desk's unclear report: case %s (%s), want needs_triage", spamCase.Status, spamCase.Category)
	}
	police := plainMail("Det. Jane Roe <jane.roe@police.example>", "Preservation request - reference 2026-7002", "pres-api-2@police.example",
		"Pursuant to 18 U.S.C. 2703(f) we request that you preserve all records associated with the IP address 192.0.2.10\n"+
			"for the period 1 to 28 March 2026, pending legal process. Please do NOT disclose this request to the subscriber.")
	code, body, _ := post(`"api-police-1"`, police)
	if err := json.Unmarshal([]byte(body), &answer); code != http.StatusOK || err != nil || len(answer.Reports) != 1 {
		t.Fatalf("the police request through the API: HTTP %d %s", code, body)
	}
	time.Sleep(2 * time.Second) // its case opens and reaches the ledger meanwhile
	st = status{}
	if code := get("/api/v1/reports/"+url.PathEscape(answer.Reports[0].ReportID), token, &st); code != http.StatusOK || st.Status != "received" || len(st.Cases) != 0 {
		t.Errorf("the police request's status: HTTP %d %+v, want received and nothing more", code, st)
	}

	// Temporal's database holds no report text in clear: the payloads are encrypted. (Its
	// write-ahead log is read too: recent writes are there.)
	stored := temporalBytes(t, dir)
	for _, clear := range []string{"Pursuant to 18 U.S.C", "jane.roe@police.example", "login.consumer.example"} {
		if bytes.Contains(stored, []byte(clear)) {
			t.Errorf("Temporal's database holds %q in clear", clear)
		}
	}
	if !bytes.Contains(stored, []byte(tclient.MetadataEncodingEncrypted)) {
		t.Error("Temporal's database holds no encrypted payload: is this the desk's database?")
	}
}

// temporalBytes is everything the embedded Temporal server keeps in the data dir's database
// files (the database and its write-ahead log).
func temporalBytes(t *testing.T, dir string) []byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, devserver.DatabaseFile+"*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Temporal database in %s (%v)", dir, err)
	}
	var all []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}
