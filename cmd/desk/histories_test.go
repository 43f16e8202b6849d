package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"abusedesk/activities"
	"abusedesk/app/cases"
	"abusedesk/devenv/devserver"
	"abusedesk/domain/abuse"
	"abusedesk/domain/approval"
	"abusedesk/domain/policy"
	"abusedesk/platform/tclient"
	"abusedesk/templates"
	"abusedesk/testenv/memfake"
	"abusedesk/workflows"
)

// pathsDesk runs the Case workflow on the embedded Temporal server with the real activities over
// in-memory fakes: the main paths of a case, each checked for where it ends. With
// -update-histories their histories are saved for the replay test in workflows/.
type pathsDesk struct {
	t   *testing.T
	c   client.Client
	enf *memfake.Enforcement
}

func startPathsDesk(t *testing.T) *pathsDesk {
	t.Helper()
	ctx := context.Background()
	srv, err := devserver.Start(ctx, devserver.Options{Namespace: "default", UIPort: -1, SearchAttributes: workflows.SearchAttributes()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	c, err := client.Dial(client.Options{HostPort: srv.HostPort(), Namespace: srv.Namespace(), Logger: tclient.SDKLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	r, err := templates.New()
	if err != nil {
		t.Fatal(err)
	}
	d := &pathsDesk{t: t, c: c, enf: &memfake.Enforcement{}}
	w := worker.New(c, workflows.TaskQueue, worker.Options{})
	workflows.Register(w)
	(&activities.Activities{
		Tickets: legalTickets(), Accounts: memfake.NewAccounts(memfake.DemoAccounts()...), Enforcement: d.enf,
		Approvals: &memfake.Approvals{}, Evidence: &memfake.Evidence{}, Incidents: &cases.Client{T: c}, Templates: r, VerifyWait: 10 * time.Millisecond,
		Alerts: &memfake.Alerts{},
	}).Register(w)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return d
}

// legalTickets is a ticketing system whose desk group (the legal group when none is set) has
// one agent, 9003: legal@desk.example.
func legalTickets() *memfake.Tickets {
	t := memfake.NewTickets()
	for id, email := range pathAgents {
		t.AddAgent(0, id, email)
	}
	return t
}

// pathAgents are the desk's agents (ticketing user IDs), legal@ among them: its legal group is
// the desk's.
var pathAgents = map[int64]string{9001: "agent@desk.example", 9002: "reviewer@desk.example", 9003: "legal@desk.example"}

// rules are windows of a second or two, so a whole case runs in seconds.
func pathRules(category abuse.Category) policy.Snapshot {
	p := policy.Default()
	p.Approvers = approval.Approvers{Users: []string{"ULEAD1"}}
	s := p.Snapshot(category)
	s.Rules.ResponseWindow = policy.Duration(1500 * time.Millisecond)
	s.Rules.Reminders = []policy.Duration{policy.Duration(500 * time.Millisecond)}
	s.Rules.Surge.Reports = 0
	s.Rules.Corroboration = policy.Corroboration{} // one report ends in an action, as these paths need
	s.Rules.Approval.FirstEnforcement = false
	s.Rules.Approval.Timeout = policy.Duration(time.Second)
	s.Rules.Approval.Repings = 1
	s.Rules.Appeal.Window = policy.Duration(2 * time.Second)
	s.Rules.Appeal.SLA = policy.Duration(30 * time.Second)
	s.Rules.Appeal.Reminders = nil
	// An accepted fix is re-checked (the feed: no report since) twice within two seconds.
	s.Rules.Remediation.Verify = []policy.Duration{policy.Duration(time.Second), policy.Duration(2 * time.Second)}
	return s
}

// open starts the case for account and category with one report, as intake does.
func (d *pathsDesk) open(account string, category abuse.Category, policy policy.Snapshot) string {
	return d.openWith(account, category, policy, 0)
}

// openWith opens the case with a report the parser was as sure of as confidence (0: not said).
func (d *pathsDesk) openWith(account string, category abuse.Category, policy policy.Snapshot, confidence float64) string {
	d.t.Helper()
	id := workflows.CaseWorkflowID(account, category)
	batch := []workflows.ReportSummary{{ID: "r-" + id, Format: "arf", Category: category, Reporter: "fbl@isp.example",
		ReceivedAt: time.Now().UTC(), Subjects: []abuse.Subject{{Kind: abuse.SubjectIP, Value: "192.0.2.10"}}, Summary: "complaint", Confidence: confidence}}
	_, err := d.c.SignalWithStartWorkflow(context.Background(), id, workflows.SignalReports, workflows.NewReportsSignal(batch),
		client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue},
		workflows.CaseWorkflowType, workflows.CaseInput{AccountID: account, Category: category, Policy: policy})
	if err != nil {
		d.t.Fatal(err)
	}
	return id
}

func (d *pathsDesk) view(id string) workflows.CaseView {
	d.t.Helper()
	v, err := d.c.QueryWorkflow(context.Background(), id, "", workflows.QueryStatus, workflows.StatusQuery{})
	if err != nil {
		d.t.Fatalf("query %s: %v", id, err)
	}
	var cv workflows.CaseView
	if err := v.Get(&cv); err != nil {
		d.t.Fatal(err)
	}
	return cv
}

// waitStatus polls the case until it reaches want (queries answer from the worker's cache).
func (d *pathsDesk) waitStatus(id string, want workflows.Status) workflows.CaseView {
	d.t.Helper()
	return d.waitView(id, "status "+string(want), func(v workflows.CaseView) bool { return v.Status == want })
}

// waitView polls the case until ok says its view is as wanted (30 s at most).
func (d *pathsDesk) waitView(id, want string, ok func(workflows.CaseView) bool) workflows.CaseView {
	d.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		v := d.view(id)
		if ok(v) {
			return v
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("%s: status %s, want %s\n%s", id, v.Status, want, timelineText(&v))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (d *pathsDesk) update(id, name string, arg any) error {
	h, err := d.c.UpdateWorkflow(context.Background(), client.UpdateWorkflowOptions{
		WorkflowID: id, UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return err
	}
	return h.Get(context.Background(), nil)
}

// result waits for the case to end and returns how.
func (d *pathsDesk) result(id string) workflows.CaseResult {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var res workflows.CaseResult
	if err := d.c.GetWorkflow(ctx, id, "").Get(ctx, &res); err != nil {
		d.t.Fatalf("%s: %v", id, err)
	}
	return res
}

// save writes the history of one run (the latest for runID "") when -update-histories is set.
func (d *pathsDesk) save(id, runID, file string) {
	d.t.Helper()
	if *updateHistories {
		saveHistory(d.t, d.c, id, runID, file)
	}
}

// TestCasePathsOnTheServer runs the approval, denial, approval-timeout, appeal and
// continue-as-new paths of a case on the embedded server and checks where each ends.
func TestCasePathsOnTheServer(t *testing.T) {
	t.Parallel()
	skipShort(t)
	d := startPathsDesk(t)

	t.Run("approved", func(t *testing.T) {
		id := d.open("acct-strategic", abuse.Spam, pathRules(abuse.Spam))
		d.waitStatus(id, workflows.StatusPendingApproval)
		if err := d.update(id, workflows.UpdateApproval, approval.Decision{Decision: approval.Approve, UserID: "ULEAD1", UserName: "Lee Lead"}); err != nil {
			t.Fatalf("approve: %v", err)
		}
		if res := d.result(id); res.Outcome != workflows.OutcomeEnforced {
			t.Fatalf("outcome %s, want enforced", res.Outcome)
		}
		d.save(id, "", "case-approved.json")
	})

	t.Run("resent report", func(t *testing.T) {
		// The same report again after the approved case closed: no new incident.
		r := pathRules(abuse.Spam)
		r.Rules.DedupeWindow = policy.Duration(time.Hour)
		id := d.open("acct-strategic", abuse.Spam, r)
		if res := d.result(id); res.Outcome != workflows.OutcomeDuplicate || res.Status != workflows.StatusClosed {
			t.Fatalf("the resent report: %+v, want closed as a duplicate", res)
		}
	})

	t.Run("denied", func(t *testing.T) {
		id := d.open("acct-strategic", abuse.Phishing, pathRules(abuse.Phishing))
		d.waitStatus(id, workflows.StatusPendingApproval)
		if err := d.update(id, workflows.UpdateApproval, approval.Decision{Decision: approval.Deny, UserID: "ULEAD1", Reason: "shared hosting, not the customer"}); err != nil {
			t.Fatalf("deny: %v", err)
		}
		d.waitStatus(id, workflows.StatusUnderReview)
		if err := d.update(id, workflows.UpdateAgentDecision, workflows.AgentDecision{Decision: workflows.DecisionResolve, Agent: "agent@desk.example", AgentID: "9001"}); err != nil {
			t.Fatalf("resolve: %v", err)
		}
		if res := d.result(id); res.Outcome != workflows.OutcomeResolved {
			t.Fatalf("outcome %s, want resolved", res.Outcome)
		}
		d.save(id, "", "case-denied.json")
	})

	t.Run("approval chain", func(t *testing.T) {
		// A standard account whose category needs approval: the leads are re-pinged, the
		// managers asked, then the request holds until a manager approves. (The saved
		// case-approval-timeout.json predates the chain: it enforced at the timeout.)
		r := pathRules(abuse.DoS)
		r.Rules.Approval.Required = true
		r.Managers = approval.Approvers{Users: []string{"UMANAGER"}}
		id := d.open("acct-standard", abuse.DoS, r)
		v := d.waitView(id, "the approval holding", func(v workflows.CaseView) bool { return v.Approval != nil && v.Approval.Holding })
		if v.Status != workflows.StatusPendingApproval || !v.Approval.Holding || !v.Approval.Managers {
			t.Fatalf("after the timeouts: %s, approval %+v; want pending_approval holding after asking the managers", v.Status, v.Approval)
		}
		if err := d.update(id, workflows.UpdateApproval, approval.Decision{Decision: approval.Approve, UserID: "UMANAGER", UserName: "manager"}); err != nil {
			t.Fatalf("the manager's approval: %v", err)
		}
		if res := d.result(id); res.Outcome != workflows.OutcomeEnforced {
			t.Fatalf("outcome %s, want enforced", res.Outcome)
		}
		d.save(id, "", "case-approval-chain.json")
	})

	t.Run("triage confirmed", func(t *testing.T) {
		// An uncertain report: the case waits for triage, an agent confirms, the notice goes out.
		id := d.openWith("acct-standard", abuse.BruteForce, pathRules(abuse.BruteForce), 0.3)
		held := d.waitStatus(id, workflows.StatusNeedsTriage)
		if err := d.update(id, workflows.UpdateAgentDecision, workflows.AgentDecision{Decision: workflows.DecisionConfirm, Agent: "agent@desk.example", AgentID: "9001"}); err != nil {
			t.Fatalf("confirm: %v", err)
		}
		v := d.waitStatus(id, workflows.StatusAwaitingResponse)
		if v.Ticket.ID == held.Ticket.ID {
			t.Fatalf("the notice went to the triage ticket #%s", held.Ticket.ID)
		}
		if err := d.update(id, workflows.UpdateAgentDecision, workflows.AgentDecision{Decision: workflows.DecisionResolve, Agent: "agent@desk.example", AgentID: "9001"}); err != nil {
			t.Fatalf("resolve: %v", err)
		}
		if res := d.result(id); res.Outcome != workflows.OutcomeResolved || res.CaseNumber == workflows.CaseNumber(id) {
			t.Fatalf("outcome %s number %s, want resolved with an incident number", res.Outcome, res.CaseNumber)
		}
		d.save(id, "", "case-triage-confirmed.json")
	})

	t.Run("legal matter", func(t *testing.T) {
		// A preservation request: legal review, a reminder, past due; then validated,
		// preserved, released and closed.
		r := pathRules(abuse.LegalRequest)
		r.Legal = policy.Legal{Due: policy.Duration(2 * time.Second), Reminders: []policy.Duration{policy.Duration(time.Second)}}
		id := d.openWith("acct-standard", abuse.LegalRequest, r, 0.4)
		v := d.waitView(id, "the legal matter past due", func(v workflows.CaseView) bool { return v.Legal != nil && v.Legal.Breached })
		if v.Status != workflows.StatusLegalReview || !v.Legal.Breached || v.Legal.RemindersSent != 1 {
			t.Fatalf("legal matter: %s %+v; want legal_review, one reminder, past due", v.Status, v.Legal)
		}
		for _, dec := range []workflows.Decision{workflows.DecisionValidate, workflows.DecisionPreserve, workflows.DecisionReleasePreservation, workflows.DecisionCloseMatter} {
			if err := d.update(id, workflows.UpdateAgentDecision, workflows.AgentDecision{Decision: dec, Agent: "legal@desk.example", AgentID: "9003"}); err != nil {
				t.Fatalf("%s: %v", dec, err)
			}
		}
		if res := d.result(id); res.Outcome != workflows.OutcomePreserved {
			t.Fatalf("outcome %s, want preserved", res.Outcome)
		}
		d.save(id, "", "case-legal-lifecycle.json")
	})

	t.Run("csam takedown", func(t *testing.T) {
		// A hotline's CSAM notice naming two URLs: a legal matter, the takedown to a lead; the
		// approval takes down each URL (one action each), the account untouched.
		id := workflows.CaseWorkflowID("acct-standard", abuse.CSAM)
		batch := []workflows.ReportSummary{{ID: "csam-" + id, Format: "freeform", Category: abuse.CSAM, Reporter: "analyst@hotline.example",
			ReceivedAt: time.Now().UTC(), Subjects: []abuse.Subject{{Kind: abuse.SubjectURL, Value: "http://www.shop.example/g/1.jpg"}, {Kind: abuse.SubjectURL, Value: "http://www.shop.example/g/2.jpg"}},
			Summary: "CSAM notice", Confidence: 0.9}}
		_, err := d.c.SignalWithStartWorkflow(context.Background(), id, workflows.SignalReports, workflows.NewReportsSignal(batch),
			client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue},
			workflows.CaseWorkflowType, workflows.CaseInput{AccountID: "acct-standard", Category: abuse.CSAM, Policy: pathRules(abuse.CSAM)})
		if err != nil {
			t.Fatal(err)
		}
		d.waitStatus(id, workflows.StatusPendingApproval)
		if err := d.update(id, workflows.UpdateApproval, approval.Decision{Decision: approval.Approve, UserID: "ULEAD1", UserName: "Lee Lead"}); err != nil {
			t.Fatalf("approve: %v", err)
		}
		v := d.waitStatus(id, workflows.StatusEnforced)
		if e := v.Enforcement; e == nil || e.Type != abuse.ActionTakedown || len(e.Also) != 1 {
			t.Fatalf("enforcement %+v, want a takedown of each URL", v.Enforcement)
		}
		if res := d.result(id); res.Outcome != workflows.OutcomeEnforced {
			t.Fatalf("outcome %s, want enforced", res.Outcome)
		}
		d.save(id, "", "case-csam-takedown.json")
	})

	t.Run("advisory quiet", func(t *testing.T) {
		// Advice, then no further report: closed after the quiet period.
		r := pathRules(abuse.Vulnerable)
		r.Advisory = policy.Advisory{Renotify: policy.Duration(time.Second), Quiet: policy.Duration(2 * time.Second)}
		id := d.openWith("acct-standard", abuse.Vulnerable, r, 0.9)
		d.waitStatus(id, workflows.StatusMonitoring)
		if res := d.result(id); res.Outcome != workflows.OutcomeQuiet {
			t.Fatalf("outcome %s, want quiet", res.Outcome)
		}
		d.save(id, "", "case-advisory-quiet.json")
	})

	t.Run("appeal denied", func(t *testing.T) {
		r := pathRules(abuse.PortScan)
		r.Rules.Appeal.Window = policy.Duration(time.Minute)
		id := d.open("acct-standard", abuse.PortScan, r)
		d.waitStatus(id, workflows.StatusEnforced)
		if err := d.c.SignalWorkflow(context.Background(), id, "", workflows.SignalAppeal, workflows.Appeal{ID: "appeal-1", From: "ops@shop.example", ReceivedAt: time.Now().UTC(), Channel: "email", Excerpt: "we closed the scanner"}); err != nil {
			t.Fatal(err)
		}
		v := d.waitStatus(id, workflows.StatusAppealReview)
		// The child starts with the status; wait until it takes decisions.
		var err error
		for range 1200 { // up to a minute on a busy machine
			if err = d.update(id, workflows.UpdateAgentDecision, workflows.AgentDecision{Decision: workflows.DecisionDenyAppeal, Agent: "reviewer@desk.example", AgentID: "9002", Note: "the scans went on after the notice"}); err == nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("deny the appeal: %v", err)
		}
		if res := d.result(id); res.Outcome != workflows.OutcomeUpheld {
			t.Fatalf("outcome %s, want upheld", res.Outcome)
		}
		d.save(id, "", "case-appeal-denied.json")
		d.save(fmt.Sprintf("%s/appeal/%d", v.CaseID, 1), "", "appeal-denied.json")
	})

	t.Run("continued as new", func(t *testing.T) {
		r := pathRules(abuse.Malware)
		r.Rules.ResponseWindow = policy.Duration(time.Hour)
		id := d.open("acct-standard", abuse.Malware, r)
		first := d.c.GetWorkflow(context.Background(), id, "").GetRunID()
		d.waitStatus(id, workflows.StatusAwaitingResponse)
		// Single-report signals one by one until the history passes the case's bound.
		for i := 0; ; i++ {
			batch := []workflows.ReportSummary{{ID: fmt.Sprintf("storm-%d", i), Format: "arf", Category: abuse.Malware, ReceivedAt: time.Now().UTC()}}
			err := d.c.SignalWorkflow(context.Background(), id, first, workflows.SignalReports, workflows.NewReportsSignal(batch))
			if err != nil {
				break // the first run continued as new
			}
			if i > 5000 {
				t.Fatal("the case never continued as new")
			}
		}
		v := d.view(id)
		if v.Runs < 2 || v.Status != workflows.StatusAwaitingResponse {
			t.Fatalf("after continue-as-new: runs %d status %s", v.Runs, v.Status)
		}
		if err := d.update(id, workflows.UpdateAgentDecision, workflows.AgentDecision{Decision: workflows.DecisionAcceptRemediation, Agent: "agent@desk.example", AgentID: "9001"}); err != nil {
			t.Fatal(err)
		}
		if res := d.result(id); res.Outcome != workflows.OutcomeRemediated || res.ReportCount != v.Reports.Count {
			t.Fatalf("result %+v, want remediated with %d reports", res, v.Reports.Count)
		}
		d.save(id, first, "case-continued-run1.json")
	})
}
