package workflows_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"abusedesk/domain/abuse"
	"abusedesk/domain/policy"
	"abusedesk/workflows"
)

const phishURL = "http://login.shop.example/verify"

// signalSeen delivers one report naming subjects, seen at seen (its event time).
func (h *harness) signalSeen(category abuse.Category, id string, seen time.Time, subjects ...string) {
	h.env.SignalWorkflow(workflows.SignalReports, workflows.NewReportsSignal([]workflows.ReportSummary{{
		ID: id, Format: "xarf", Category: category, Reporter: "reports@phishwatch.example", ReceivedAt: h.env.Now(), EventTime: seen,
		Subjects: abuse.ParseSubjects(subjects...), Summary: "phishing page",
	}}))
}

// runPhishing runs a phishing case opened by one report of phishURL on acct-standard.
func (h *harness) runPhishing() {
	h.caseID = workflows.CaseWorkflowID("acct-standard", abuse.Phishing)
	h.env.SetStartWorkflowOptions(testStartOptions(h.caseID))
	h.at(0, func() { h.signalSeen(abuse.Phishing, "p-0", h.env.Now(), "url:"+phishURL, "ip:192.0.2.10") })
	h.env.ExecuteWorkflow(workflows.CaseWorkflowType, workflows.CaseInput{AccountID: "acct-standard", Category: abuse.Phishing, Policy: h.pol.Snapshot(abuse.Phishing)})
}

// accept applies the accept_remediation macro (which answered the customer).
func (h *harness) accept(agent string) *updateOutcome {
	return h.decide(workflows.AgentDecision{Decision: workflows.DecisionAcceptRemediation, Agent: agent, Notified: true})
}

// internalNotes returns the internal comments of the case ticket.
func (h *harness) internalNotes() []string {
	var out []string
	for _, c := range h.ticket().Comments {
		if !c.Public {
			out = append(out, c.Body)
		}
	}
	return out
}

func (h *harness) ledgerEvents(kind string) []workflows.LedgerEvent {
	var out []workflows.LedgerEvent
	for _, r := range h.ledger.Rows() {
		if r.Event.Kind == kind {
			out = append(out, r.Event)
		}
	}
	return out
}

// TestRemediationVerified: the customer answers (the URL is checked at once and still answers,
// which the agent reads), takes the page down, the agent accepts the fix; the re-checks at +1h,
// +24h and +7d find it gone and nothing new reported, and the case closes remediated after
// the last — not before.
func TestRemediationVerified(t *testing.T) {
	h := newHarness(t)
	var started time.Time
	h.at(0, func() { started = h.env.Now() })
	h.at(2*time.Hour, func() { h.reply(workflows.ReplyKindAnswer, "m1") })
	var precheck workflows.CaseView
	h.at(2*time.Hour+time.Minute, func() { precheck = h.view() })
	h.at(3*time.Hour, func() { h.probes.Set(phishURL, workflows.VerdictFixed, "HTTP 404") })
	var accepted *updateOutcome
	h.at(4*time.Hour, func() { accepted = h.accept("agent@desk.example") })
	verifying := h.statusAt(5 * time.Hour)
	var dayLater workflows.CaseView
	h.at(4*time.Hour+25*time.Hour, func() { dayLater = h.view() })
	h.runPhishing()

	res := h.result()
	wantAccepted(t, "accept remediation", accepted)
	if !strings.Contains(accepted.result.Message, "checks it 3 time(s)") {
		t.Errorf("the agent was told %q", accepted.result.Message)
	}
	if res.Outcome != workflows.OutcomeRemediated || res.Status != workflows.StatusResolved {
		t.Fatalf("outcome %s/%s, want remediated/resolved", res.Outcome, res.Status)
	}
	if want := started.Add(4*time.Hour + 7*24*time.Hour); res.ClosedAt.Before(want) || res.ClosedAt.After(want.Add(time.Minute)) {
		t.Errorf("closed at %s, want at the last re-check, %s", res.ClosedAt, want)
	}
	if *verifying != workflows.StatusVerifying {
		t.Errorf("after the acceptance the case is %s, want verifying", *verifying)
	}
	if dayLater.Status != workflows.StatusVerifying || dayLater.Remediation == nil || dayLater.Remediation.Done != 2 || dayLater.DeadlineKind != "re-check of the fix" {
		t.Errorf("a day later: %s %+v deadline %q", dayLater.Status, dayLater.Remediation, dayLater.DeadlineKind)
	}
	if rm := precheck.Remediation; rm == nil || len(rm.Results) != 1 || rm.Results[0].Verdict != workflows.VerdictStill || !rm.AcceptedAt.IsZero() {
		t.Errorf("checked on the answer: %+v, want the URL still answering", precheck.Remediation)
	}
	notes := h.internalNotes()
	if countContaining(notes, "The customer answered on case") != 1 || countContaining(notes, "STILL THERE") != 1 {
		t.Errorf("the agent did not read the check on the answer: %q", notes)
	}
	if countContaining(notes, "agent@desk.example accepted the customer's fix") != 1 {
		t.Errorf("no note of the plan: %q", notes)
	}
	if checks := h.ledgerEvents(workflows.LedgerChecked); len(checks) != 3 || checks[2].Decision != workflows.VerdictFixed || checks[2].Count != 3 {
		t.Errorf("ledger re-checks %+v, want 3, all fixed", checks)
	}
	// One check on the answer and three re-checks of the URL; the address is not checked
	// (phishing's policy names http and feed only).
	if calls := h.probes.Calls(); len(calls) != 4 || slices.ContainsFunc(calls, func(c string) bool { return !strings.HasPrefix(c, "http") }) {
		t.Errorf("probes %q, want the URL 4 times", calls)
	}
	if len(h.enf.Actions()) != 0 {
		t.Error("an action although the fix held")
	}
	if tk := h.ticket(); tk.Status != workflows.TicketSolved {
		t.Errorf("ticket %s, want solved", tk.Status)
	}
	// The macro told the customer; the verified close sends no closing notice of its own.
	if n := countContaining(h.publicComments(), "closed"); n != 0 {
		t.Errorf("%d closing notices after a macro that answered", n)
	}
}

// TestRemediationFailsAndReopens: the page still answers at the first re-check: the case goes
// back to an agent (under_review) with the ticket open and a note that says why; nothing is
// done to the account; the agent asks the customer again.
func TestRemediationFailsAndReopens(t *testing.T) {
	h := newHarness(t)
	h.at(2*time.Hour, func() { h.reply(workflows.ReplyKindAnswer, "m1") })
	h.at(3*time.Hour, func() { h.accept("agent@desk.example") })
	var reopened workflows.CaseView
	h.at(4*time.Hour+time.Minute, func() { reopened = h.view() })
	var again *updateOutcome
	h.at(5*time.Hour, func() {
		again = h.agent("agent@desk.example", workflows.DecisionAcceptRemediation, "")
	})
	h.at(5*time.Hour+time.Minute, func() { h.agent("agent@desk.example", workflows.DecisionResolve, "page gone, checked by hand") })
	h.runPhishing()

	res := h.result()
	if reopened.Status != workflows.StatusUnderReview {
		t.Fatalf("after a failed re-check the case is %s, want under_review", reopened.Status)
	}
	rm := reopened.Remediation
	if rm == nil || rm.Outcome != workflows.RemediationReopened || rm.Reopened != 1 || !strings.Contains(rm.Reason, phishURL+" still (HTTP 200)") {
		t.Fatalf("remediation %+v", rm)
	}
	if !hasEvent(reopened, workflows.EventRemediation, "reopened for an agent: the problem is still there") {
		t.Errorf("timeline: %+v", reopened.Timeline)
	}
	if countContaining(h.internalNotes(), "is open again: the customer's fix did not hold") != 1 {
		t.Errorf("notes %q", h.internalNotes())
	}
	if ev := h.ledgerEvents(workflows.LedgerReopened); len(ev) != 1 {
		t.Errorf("ledger reopened events %+v, want 1", ev)
	}
	if ev := h.ledgerEvents(workflows.LedgerChecked); len(ev) != 1 || ev[0].Decision != workflows.VerdictStill {
		t.Errorf("ledger re-checks %+v, want one, still", ev)
	}
	if len(h.enf.Actions()) != 0 {
		t.Error("a failed re-check acted against the account")
	}
	// Accepting again starts a new verification (the second is a new plan); resolving overtakes it.
	wantAccepted(t, "accept again", again)
	if res.Outcome != workflows.OutcomeResolved {
		t.Errorf("outcome %s, want resolved (the agent closed it)", res.Outcome)
	}
}

// TestRemediationFeedFails: a spam fix (feed check only) fails when a report seen after the
// acceptance arrives; one seen before it and delivered late does not count.
func TestRemediationFeedFails(t *testing.T) {
	h := newHarness(t)
	h.at(2*time.Hour, func() { h.reply(workflows.ReplyKindAnswer, "m1") })
	h.at(3*time.Hour, func() { h.accept("agent@desk.example") })
	h.at(3*time.Hour+10*time.Minute, func() {
		h.signalSeen(abuse.Spam, "late", h.env.Now().Add(-2*time.Hour), "ip:192.0.2.10") // seen before the acceptance
	})
	var afterFirst workflows.Status
	h.at(4*time.Hour+time.Minute, func() { afterFirst = h.view().Status })
	h.at(10*time.Hour, func() { h.signalSeen(abuse.Spam, "new", h.env.Now(), "ip:192.0.2.10") })
	var reopened workflows.CaseView
	h.at(27*time.Hour+time.Minute, func() { reopened = h.view() })
	h.at(28*time.Hour, func() { h.agent("agent@desk.example", workflows.DecisionResolve, "") })
	h.run("acct-standard", abuse.Spam, 1)

	h.result()
	if afterFirst != workflows.StatusVerifying {
		t.Errorf("a late report seen before the acceptance failed the fix: %s", afterFirst)
	}
	if reopened.Status != workflows.StatusUnderReview || reopened.Remediation == nil || reopened.Remediation.NewReports != 1 ||
		!strings.Contains(reopened.Remediation.Reason, "reports seen after the fix was accepted still (1, the latest seen") {
		t.Errorf("after a new report: %s %+v", reopened.Status, reopened.Remediation)
	}
	if n := len(h.probes.Calls()); n != 0 {
		t.Errorf("%d outside checks for a feed-only fix", n)
	}
}

// TestRemediationCannotTell: a check that cannot tell does not reopen a case in the middle, but
// at the last re-check it does — a person decides, the case does not close unverified.
func TestRemediationCannotTell(t *testing.T) {
	h := newHarness(t)
	h.probes.Set(phishURL, workflows.VerdictUnknown, "no answer in time")
	h.at(2*time.Hour, func() { h.reply(workflows.ReplyKindAnswer, "m1") })
	h.at(3*time.Hour, func() { h.accept("agent@desk.example") })
	var dayLater workflows.Status
	h.at(28*time.Hour+time.Minute, func() { dayLater = h.view().Status })
	var end workflows.CaseView
	h.at(3*time.Hour+7*24*time.Hour+time.Minute, func() { end = h.view() })
	h.at(3*time.Hour+7*24*time.Hour+time.Hour, func() { h.agent("agent@desk.example", workflows.DecisionResolve, "") })
	h.runPhishing()

	h.result()
	if dayLater != workflows.StatusVerifying {
		t.Errorf("after two re-checks that could not tell: %s, want still verifying", dayLater)
	}
	if end.Status != workflows.StatusUnderReview || end.Remediation == nil || !strings.Contains(end.Remediation.Reason, "could not tell") {
		t.Errorf("after the last re-check: %s %+v, want under_review, could not tell", end.Status, end.Remediation)
	}
}

// TestRemediationOnTrust: a policy without re-checks closes at the acceptance, as before; and
// an agent may close a case while its fix is verified (the verification stops).
func TestRemediationOnTrust(t *testing.T) {
	h := newHarness(t)
	r := h.pol.Categories[abuse.Phishing]
	r.Remediation = policy.Remediation{}
	h.pol.Categories[abuse.Phishing] = r
	var started time.Time
	h.at(0, func() { started = h.env.Now() })
	h.at(2*time.Hour, func() { h.accept("agent@desk.example") })
	h.runPhishing()
	if res := h.result(); res.Outcome != workflows.OutcomeRemediated || res.ClosedAt.After(started.Add(3*time.Hour)) {
		t.Errorf("on trust: %+v, want remediated at the acceptance", res)
	}
	if n := len(h.probes.Calls()); n != 0 {
		t.Errorf("%d checks with none in the policy", n)
	}

	h = newHarness(t)
	h.at(2*time.Hour, func() { h.accept("agent@desk.example") })
	var extend, twice *updateOutcome
	h.at(3*time.Hour, func() {
		extend = h.agent("agent@desk.example", workflows.DecisionExtendDeadline, "")
		twice = h.agent("agent@desk.example", workflows.DecisionAcceptRemediation, "")
	})
	h.at(4*time.Hour+time.Minute, func() { h.agent("agent@desk.example", workflows.DecisionWithdraw, "reporter withdrew") })
	h.probes.Set(phishURL, workflows.VerdictFixed, "HTTP 404")
	h.runPhishing()
	res := h.result()
	wantRejected(t, "extend while verifying", extend, "being verified")
	wantRejected(t, "accept twice", twice, "being verified")
	if res.Outcome != workflows.OutcomeWithdrawn {
		t.Errorf("withdrawn while verifying: %+v", res)
	}
	if n := len(h.ledgerEvents(workflows.LedgerChecked)); n != 1 {
		t.Errorf("%d re-checks, want the one before the withdrawal", n)
	}
}

// TestAppealGrantRunsTheChecksFirst: a grant runs the category's checks over the reported URL
// first; while the page still answers the grant is refused, saying so; an explicit override
// with its reason grants it, and the timeline and ledger keep what the checks found and who
// overrode them.
func TestAppealGrantRunsTheChecksFirst(t *testing.T) {
	h := newHarness(t)
	ph := h.pol.Categories[abuse.Phishing]
	ph.Corroboration = policy.Corroboration{}
	h.pol.Categories[abuse.Phishing] = ph
	h.at(25*time.Hour, func() { h.reply(workflows.ReplyKindAnswer, "appeal-1") })
	var refused, bare, granted *updateOutcome
	h.at(26*time.Hour, func() {
		refused = h.agent("reviewer@desk.example", workflows.DecisionGrantAppeal, "the customer says it is fixed")
	})
	h.at(26*time.Hour+time.Minute, func() { bare = h.agent("reviewer@desk.example", workflows.DecisionGrantAppeal, "override: yes") })
	h.at(27*time.Hour, func() {
		granted = h.agent("reviewer@desk.example", workflows.DecisionGrantAppeal, "override: the page is the bank's own warning page now; confirmed with the bank")
	})
	h.runPhishing()

	wantRefused(t, "a grant while the page still answers", refused, "still there")
	wantRefused(t, "an override without a reason", bare, "still there")
	wantAccepted(t, "a grant with an override", granted)
	res := h.result()
	if res.Outcome != workflows.OutcomeReinstated {
		t.Fatalf("outcome %s, want reinstated", res.Outcome)
	}
	tl := timelineOf(h.view())
	if !strings.Contains(tl, "checked after the customer's answer: "+phishURL+" still") {
		t.Errorf("the appeal did not run the checks for the reviewer to read:\n%s", tl)
	}
	if !strings.Contains(tl, "checks before the grant: "+phishURL+" still (HTTP 200)") || !strings.Contains(tl, "granted over a failing check by reviewer@desk.example: the page is the bank's own warning") {
		t.Errorf("the timeline does not keep the checks and the override:\n%s", tl)
	}
	if n := len(h.ledgerEvents(workflows.LedgerChecked)); n < 3 {
		t.Errorf("%d check results in the ledger, want one per attempt", n)
	}
}
