package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"

	"abusedesk/devenv/imapsandbox"
	"abusedesk/platform/config"
	"abusedesk/platform/httpx"
	"abusedesk/workflows"
)

var updateHistories = flag.Bool("update-histories", false, "write the histories of the end-to-end case to workflows/testdata/histories for the replay test")

// sandboxIMAP appends mail to the sandbox mailbox of a running desk dev.
func (d *devDesk) mail(msgs ...[]byte) {
	d.t.Helper()
	m := d.sandbox["imap"]
	if err := imapsandbox.Append(m["addr"].(string), m["username"].(string), m["password"].(string), "INBOX", msgs...); err != nil {
		d.t.Fatal(err)
	}
}

// enforcementActions lists an account's actions in the sandbox enforcement API.
func (d *devDesk) enforcementActions(account string) []map[string]any {
	d.t.Helper()
	e := d.sandbox["enforcement"]
	req, _ := http.NewRequest(http.MethodGet, e["url"].(string)+"/v1/accounts/"+account+"/actions", nil)
	req.Header.Set("Authorization", "Bearer "+e["token"].(string))
	var out struct {
		Actions []map[string]any `json:"actions"`
	}
	d.do(req, &out)
	return out.Actions
}

// priorViolations reads an account's count of prior violations from the sandbox enforcement API.
func (d *devDesk) priorViolations(account string) int {
	d.t.Helper()
	e := d.sandbox["enforcement"]
	req, _ := http.NewRequest(http.MethodGet, e["url"].(string)+"/v1/accounts/"+account, nil)
	req.Header.Set("Authorization", "Bearer "+e["token"].(string))
	var out struct {
		PriorViolations int `json:"prior_violations"`
	}
	d.do(req, &out)
	return out.PriorViolations
}

// TestEndToEndThrottleAppealReinstate is the whole life of a case through the real protocol
// paths: a report arrives by IMAP → the notice goes out → no answer → escalation → a lead
// approves in Slack → the throttle is applied and verified → the customer appeals by email →
// an agent grants it with the Zendesk macro → the action is lifted → the case closes reinstated.
func TestEndToEndThrottleAppealReinstate(t *testing.T) {
	t.Parallel()
	p := fastPolicy(t, t.TempDir(), map[string]string{approverPolicy: "  users: []\n  groups: [SLEADS]"})
	d := startDev(t, p)
	d.mail([]byte("From: fbl@isp.example\r\nTo: abuse@provider.example\r\nSubject: Complaint\r\nMessage-ID: <e2e-1@isp.example>\r\n" +
		"Date: " + mailDate + "\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=feedback-report; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nSource-IP: 198.51.100.7\r\n\r\n--b--\r\n"))
	caseID := workflows.CaseWorkflowID("acct-bank", "spam")
	v := d.waitStatus(caseID, workflows.StatusAwaitingResponse, 30*time.Second)
	if v.Ticket.ID == "" || v.Reports.Count != 1 {
		t.Fatalf("case opened without a ticket or its report: %+v", v)
	}
	pending := d.waitStatus(caseID, workflows.StatusPendingApproval, 30*time.Second)
	if !strings.Contains(timelineText(pending), "reminder 1 sent") {
		t.Errorf("no reminder before the deadline:\n%s", timelineText(pending))
	}
	ch, msg := d.approvalMessage(pending.CaseNumber)
	d.slackSandbox("POST", "click", map[string]string{"channel": ch, "ts": msg.TS, "action_id": "abusedesk_approve", "user": "ULEAD1"}, nil)
	enforced := d.waitStatus(caseID, workflows.StatusEnforced, 30*time.Second)
	if enforced.Enforcement == nil || enforced.Enforcement.VerifiedAt.IsZero() {
		t.Fatalf("enforcement not verified: %+v", enforced.Enforcement)
	}
	acts := d.enforcementActions("acct-bank")
	if len(acts) != 1 || acts[0]["state"] != "active" || acts[0]["type"] != "throttle" {
		t.Fatalf("enforcement API shows %v, want one active throttle", acts)
	}
	if n := d.priorViolations("acct-bank"); n != 1 {
		t.Errorf("prior violations while the throttle stands: %d, want 1", n)
	}

	// The customer appeals by email, quoting the case number.
	d.mail(fmt.Appendf(nil, "From: noc@bank.example\r\nTo: abuse@provider.example\r\nSubject: Re: [%s] we fixed it\r\nMessage-ID: <appeal-1@bank.example>\r\n"+
		"Date: Mon, 2 Mar 2026 12:00:00 +0000\r\n\r\nThe relay was misconfigured; it is closed now. Please lift the throttle.\r\n", enforced.CaseNumber))
	d.waitStatus(caseID, workflows.StatusAppealReview, 30*time.Second)

	// The lead who approved may not decide the appeal; a reviewer does, with the macro.
	z := d.sandbox["zendesk"]
	applyMacro(t, z, "lee.lead@desk.example", enforced.Ticket.ID, "abusedesk: Grant appeal")
	time.Sleep(500 * time.Millisecond)
	if st, _ := d.cases.Status(context.Background(), caseID); st == nil || st.Status != workflows.StatusAppealReview {
		t.Fatalf("the approving lead's grant was applied: %+v", st)
	}
	applyMacro(t, z, "reviewer@desk.example", enforced.Ticket.ID, "abusedesk: Grant appeal")
	final := d.waitStatus(caseID, workflows.StatusReinstated, 30*time.Second)
	if final.Outcome != workflows.OutcomeReinstated || final.Appeal == nil || final.Appeal.Reviewer != "reviewer@desk.example" {
		t.Errorf("final view: outcome %s appeal %+v", final.Outcome, final.Appeal)
	}
	if acts := d.enforcementActions("acct-bank"); acts[0]["state"] != "lifted" || acts[0]["overturned"] != true {
		t.Errorf("action after the grant: %v, want lifted and overturned", acts[0])
	}
	// A granted appeal overturns the action: it no longer counts against the account.
	if n := d.priorViolations("acct-bank"); n != 0 {
		t.Errorf("prior violations after the appeal was granted: %d, want 0", n)
	}
	// The refusal of the lead's own grant is on the ticket for the agents.
	var refusal, statement bool
	granted := 0
	for _, c := range ticketComments(t, z, enforced.Ticket.ID) {
		refusal = refusal || (!c.Public && strings.Contains(c.Body, "may not decide its appeal"))
		statement = statement || (c.Public && strings.Contains(c.Body, "Statement of reasons"))
		if c.Public && strings.Contains(c.Body, "granted it") {
			granted++
		}
	}
	if !refusal || !statement {
		t.Errorf("ticket lacks the refusal note (%v) or the statement of reasons (%v)", refusal, statement)
	}
	// The refused grant told the customer nothing; the accepted one, once, in the desk's words.
	if granted != 1 {
		t.Errorf("%d public messages say the appeal was granted, want 1 (the desk's, after it took the decision)", granted)
	}
	// The ledger has the case's story, who decided included: `desk ledger events` prints it.
	var events string
	for deadline := time.Now().Add(10 * time.Second); ; {
		var out bytes.Buffer
		err := run(context.Background(), []string{"ledger", "events", "--data-dir", d.dir, final.CaseNumber}, &out, io.Discard, config.MapLookup(nil))
		events = out.String()
		if err == nil && strings.Contains(events, "closed") || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, want := range [][]string{{"opened"}, {"reports"}, {"noticed", "violation"}, {"reminded"}, {"escalated", "no answer"}, {"approval_asked"},
		{"approval_decided", "approve", "lee.lead@desk.example"}, {"enforced", "throttle"}, {"appealed", "noc@bank.example"},
		{"appeal_decided", "granted", "reviewer@desk.example"}, {"lifted"}, {"closed", "reinstated"}} {
		if !slices.ContainsFunc(strings.Split(events, "\n"), func(line string) bool {
			return slices.Equal(slices.DeleteFunc(slices.Clone(want), func(w string) bool { return strings.Contains(line, " "+w+" ") }), nil)
		}) {
			t.Errorf("the ledger has no event with %q:\n%s", want, events)
		}
	}
	// The case recorded its own events: a backfill leaves it alone.
	var out bytes.Buffer
	if err := run(context.Background(), []string{"ledger", "backfill", "--data-dir", d.dir}, &out, io.Discard, config.MapLookup(nil)); err != nil {
		t.Errorf("ledger backfill: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "0 case(s) rebuilt from Temporal, 1 had recorded their own events, 0 failed") {
		t.Errorf("backfill says %q", out.String())
	}
	if *updateHistories {
		saveHistory(t, d.tc, caseID, "", "case-reinstated.json")
		saveHistory(t, d.tc, final.Appeal.ChildID, "", "appeal-granted.json")
	}
}

// TestEndToEndReportStorm: hundreds of reports about one account through the reports API at
// once become one case with every report counted.
func TestEndToEndReportStorm(t *testing.T) {
	t.Parallel()
	d := startDev(t, fastPolicy(t, t.TempDir(), map[string]string{"response_window: 72h": "response_window: 1h"}))
	const n = 400
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 64)
	var retried atomic.Int64
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			body := fmt.Appendf(nil, "From: fbl@isp.example\r\nSubject: storm %d\r\nMessage-ID: <storm-%d@isp.example>\r\nContent-Type: multipart/report; report-type=feedback-report; boundary=b\r\n\r\n"+
				"--b\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nSource-IP: 192.0.2.%d\r\n\r\n--b--\r\n", i, i, 1+i%120)
			// A 503 means "send it again" (intake holds reports back while the worker is
			// behind); postReport honours its Retry-After, as a client should.
			status, answer, again, err := httpx.PostUntilAccepted(context.Background(), http.DefaultClient, d.ep.API.URL, d.ep.API.Token, "message/rfc822", body, time.Now().Add(time.Minute))
			retried.Add(int64(again))
			if err != nil {
				errs <- err
				return
			}
			var out struct {
				Reports []struct {
					Category  string `json:"category"`
					StatusURL string `json:"status_url"`
				} `json:"reports"`
			}
			_ = json.Unmarshal(answer, &out)
			// The answer names neither the customer nor the case.
			if status != http.StatusOK || len(out.Reports) != 1 || out.Reports[0].Category != "spam" || !strings.HasPrefix(out.Reports[0].StatusURL, "/api/v1/reports/") ||
				strings.Contains(string(answer), "acct-shop") {
				errs <- fmt.Errorf("report %d: HTTP %d %s", i, status, answer)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	caseID := workflows.CaseWorkflowID("acct-shop", "spam")
	deadline := time.Now().Add(30 * time.Second)
	for {
		v, err := d.cases.Status(context.Background(), caseID)
		if err == nil && v.Reports.Count == n {
			t.Logf("%d reports in one case, %d duplicates, %d run(s), %d posts answered 503 and sent again", v.Reports.Count, v.Reports.Duplicates, v.Runs, retried.Load())
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("case counts %+v, want %d", v, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	list, _, err := d.cases.List(context.Background(), "", 100, nil)
	if err != nil || len(list) != 1 {
		t.Errorf("%d cases (%v), want one", len(list), err)
	}

	// One more through `desk report submit`, which finds the desk by its data dir and prints
	// the report's case.
	file := filepath.Join(t.TempDir(), "one-more.eml")
	if err := os.WriteFile(file, []byte("From: fbl@isp.example\r\nSubject: one more\r\nMessage-ID: <storm-more@isp.example>\r\nContent-Type: multipart/report; report-type=feedback-report; boundary=b\r\n\r\n"+
		"--b\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nSource-IP: 192.0.2.7\r\n\r\n--b--\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"report", "submit", "--data-dir", d.dir, file}, &stdout, &stderr, config.MapLookup(nil)); err != nil {
		t.Fatalf("report submit: %v\n%s", err, stderr.String())
	}
	var submitted struct {
		File    string `json:"file"`
		Reports []struct {
			ReportID string `json:"report_id"`
		} `json:"reports"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &submitted); err != nil || submitted.File != file || len(submitted.Reports) != 1 || submitted.Reports[0].ReportID == "" ||
		strings.Contains(stdout.String(), "acct-") {
		t.Fatalf("report submit printed %q (%v), want the report's ID and no customer", stdout.String(), err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if v, err := d.cases.Status(context.Background(), caseID); err == nil && v.Reports.Count == n+1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the submitted report is not counted in its case after 30 s")
		}
	}
}

// saveHistory writes the history of a workflow's run (the latest for runID "") as JSON for the
// replay test.
func saveHistory(t *testing.T, tc client.Client, id, runID, name string) {
	t.Helper()
	it := tc.GetWorkflowHistory(context.Background(), id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		h.Events = append(h.Events, ev)
	}
	b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "..", "workflows", "testdata", "histories", name)
	if _, err := os.Stat(path); err == nil {
		// A saved history is the shape of cases that ran under older code: it stays as it is,
		// so the replay test keeps proving that they still replay. A new path gets a new name.
		t.Logf("kept %s (saved histories are never overwritten)", path)
		return
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	indexPath := filepath.Join(filepath.Dir(path), "index.json")
	index := map[string]string{}
	if b, err := os.ReadFile(indexPath); err == nil {
		_ = json.Unmarshal(b, &index)
	}
	index[name] = id
	ib, _ := json.MarshalIndent(index, "", "  ")
	if err := os.WriteFile(indexPath, append(ib, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d events)", path, len(h.Events))
}
