package workflows_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"

	"abusedesk/domain/abuse"
	"abusedesk/domain/policy"
	"abusedesk/domain/ticket"
	"abusedesk/workflows"
)

// reinstatementInput is a closed phishing case of acct-standard whose suspension still stands,
// approved by lead1's email, with an open ticket.
func (h *harness) reinstatementInput() workflows.ReinstatementInput {
	h.t.Helper()
	st, err := h.enf.Apply(context.Background(), abuse.ActionRequest{AccountID: "acct-standard", Type: abuse.ActionSuspendSending}, "k1")
	if err != nil {
		h.t.Fatal(err)
	}
	tk, err := h.tickets.CreateTicket(context.Background(), ticket.New{ExternalID: "case/acct-standard/phishing@1", Subject: "case", Comment: ticket.Comment{Body: "notice", Public: true}, RequesterEmail: "ops@shop.example"})
	if err != nil {
		h.t.Fatal(err)
	}
	return workflows.ReinstatementInput{
		CaseID: "case/acct-standard/phishing", CaseNumber: "TS-REIN00001", ExternalID: "case/acct-standard/phishing@1", OpenedAt: h.env.Now().Add(-30 * 24 * time.Hour),
		Account: abuse.Account{ID: "acct-standard", Name: "Example Shop", Tier: "standard"}, Category: abuse.Phishing,
		Ticket: tk.Ref, Enforcement: workflows.Enforcement{ActionID: st.ID, Type: abuse.ActionSuspendSending, ApprovedByEmail: "lee.lead@desk.example"},
		Approver: "lee.lead@desk.example",
		Rules:    policy.Reinstatement{SLA: policy.Duration(72 * time.Hour), Reminders: []policy.Duration{policy.Duration(48 * time.Hour)}, Probation: policy.Duration(90 * 24 * time.Hour)},
	}
}

func (h *harness) runReinstatement(in workflows.ReinstatementInput) {
	h.caseID = workflows.ReinstatementWorkflowID(in.CaseNumber)
	h.env.SetStartWorkflowOptions(testStartOptions(h.caseID))
	h.at(0, func() {
		h.env.SignalWorkflow(workflows.SignalReinstatementRequest, workflows.CustomerReply{ID: "req-1", Kind: workflows.ReplyKindAnswer, From: "ops@shop.example",
			ReceivedAt: h.env.Now(), Channel: workflows.ChannelEmail, Excerpt: "We closed the compromised account, rotated every password and added 2FA. Please lift the suspension."})
	})
	h.env.ExecuteWorkflow(workflows.ReinstatementWorkflowType, in)
}

func (h *harness) reinstatementView() workflows.ReinstatementView {
	h.t.Helper()
	v, err := h.env.QueryWorkflow(workflows.QueryStatus, workflows.StatusQuery{})
	if err != nil {
		h.t.Fatalf("status query: %v", err)
	}
	var rv workflows.ReinstatementView
	if err := v.Get(&rv); err != nil {
		h.t.Fatal(err)
	}
	return rv
}

func (h *harness) decideAs(agent string, d workflows.Decision, note string) *updateOutcome {
	return h.decide(workflows.AgentDecision{Decision: d, Agent: agent, Note: note})
}

// TestReinstatementGrantedThenReoffence: the customer asks after the window; the approver may
// not decide, a denial needs reasons; another reviewer grants: the action is lifted (not
// overturned), the customer is told of the probation; a new case on the account within the
// probation is a re-offence (once, however often it is told), and the probation ends after
// 90 days.
func TestReinstatementGrantedThenReoffence(t *testing.T) {
	h := newHarness(t)
	in := h.reinstatementInput()
	var review workflows.ReinstatementView
	h.at(time.Hour, func() { review = h.reinstatementView() })
	var byApprover, noReason, appealMacro, granted, again *updateOutcome
	h.at(2*time.Hour, func() {
		byApprover = h.decideAs("Lee.Lead@desk.example", workflows.DecisionGrantReinstatement, "")
		noReason = h.decideAs("reviewer@desk.example", workflows.DecisionDenyReinstatement, "")
		appealMacro = h.decideAs("reviewer@desk.example", workflows.DecisionGrantAppeal, "")
	})
	h.at(3*time.Hour, func() {
		granted = h.decideAs("reviewer@desk.example", workflows.DecisionGrantReinstatement, "the plan of action is credible")
	})
	h.at(4*time.Hour, func() { again = h.decideAs("other@desk.example", workflows.DecisionDenyReinstatement, "no") })
	var probation workflows.ReinstatementView
	h.at(5*time.Hour, func() { probation = h.reinstatementView() })
	reoffend := workflows.Reoffence{CaseID: "case/acct-standard/spam", CaseNumber: "TS-NEW0000001", Category: abuse.Spam}
	h.at(10*24*time.Hour, func() {
		h.env.SignalWorkflow(workflows.SignalReoffence, reoffend)
		h.env.SignalWorkflow(workflows.SignalReoffence, reoffend) // told twice: one re-offence
	})
	h.runReinstatement(in)

	if !h.env.IsWorkflowCompleted() || h.env.GetWorkflowError() != nil {
		t.Fatalf("completed %v, error %v", h.env.IsWorkflowCompleted(), h.env.GetWorkflowError())
	}
	var res workflows.ReinstatementResult
	if err := h.env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if review.Status != workflows.ReinstatementReview || review.Due.Sub(review.RequestedAt) != 72*time.Hour {
		t.Errorf("under review: %+v", review)
	}
	wantRejected(t, "the approver's grant", byApprover, "approved the action and may not decide")
	wantRejected(t, "a denial without reasons", noReason, "needs the reasons")
	wantRejected(t, "an appeal macro", appealMacro, "does not apply to a request for reinstatement")
	wantAccepted(t, "the reviewer's grant", granted)
	wantRejected(t, "a second decision", again, "already decided")
	acts := h.enf.Actions()
	if len(acts) != 1 || acts[0].State != abuse.StateLifted || acts[0].Overturned {
		t.Errorf("action %+v, want lifted and not overturned", acts)
	}
	if probation.Status != workflows.ReinstatementProbation || probation.Reviewer != "reviewer@desk.example" {
		t.Errorf("after the grant: %+v", probation)
	}
	if res.Decision != "granted" || len(res.Reoffences) != 1 || res.Reoffences[0].CaseNumber != "TS-NEW0000001" {
		t.Errorf("result %+v, want granted with one re-offence", res)
	}
	pub := h.publicComments()
	if countContaining(pub, "we have received your request to lift the action") != 1 || countContaining(pub, "Your account is on probation until") != 1 {
		t.Errorf("customer notices: %q", pub)
	}
	if n := countContaining(h.internalNotes(), "during the probation that followed this reinstatement"); n != 1 {
		t.Errorf("%d notes of the re-offence, want 1: %q", n, h.internalNotes())
	}
	if n := countContaining(h.alerts.Texts(), "Re-offence: TS-NEW0000001"); n != 1 {
		t.Errorf("leads alerted %d times of the re-offence: %q", n, h.alerts.Texts())
	}
	var kinds []string
	for _, r := range h.ledger.Rows() {
		if r.Case.Number == "TS-REIN00001" {
			kinds = append(kinds, r.Event.Kind+":"+r.Event.Decision)
		}
	}
	if got := strings.Join(kinds, " "); got != "reinstatement_asked: reinstatement_decided:granted lifted:reinstatement reoffended:" {
		t.Errorf("ledger %q", got)
	}
}

// TestReinstatementDeniedAfterTheSLA: nobody decides: a reminder at 48 h, at 72 h the breach is
// recorded and the leads are alerted; a denial with reasons leaves the action in place and
// tells the customer why.
func TestReinstatementDeniedAfterTheSLA(t *testing.T) {
	h := newHarness(t)
	in := h.reinstatementInput()
	h.at(80*time.Hour, func() {
		h.decideAs("reviewer@desk.example", workflows.DecisionDenyReinstatement, "reports continued after the change")
	})
	h.runReinstatement(in)
	var res workflows.ReinstatementResult
	if err := h.env.GetWorkflowResult(&res); err != nil || res.Decision != workflows.ReinstatementDenied {
		t.Fatalf("result %+v, %v", res, err)
	}
	if a := h.enf.Active("acct-standard"); len(a) != 1 {
		t.Errorf("active actions %+v, want the suspension still in place", a)
	}
	if countContaining(h.internalNotes(), "Reminder 1: the request to reinstate") != 1 {
		t.Errorf("no reminder: %q", h.internalNotes())
	}
	if countContaining(h.alerts.Texts(), "has had no decision since") != 1 {
		t.Errorf("no breach alert: %q", h.alerts.Texts())
	}
	if countContaining(h.publicComments(), "reports continued after the change") != 1 {
		t.Errorf("the customer was not told why: %q", h.publicComments())
	}
	breach := false
	for _, r := range h.ledger.Rows() {
		breach = breach || (r.Event.Kind == workflows.LedgerSLABreached && r.Event.Decision == workflows.SLAReinstatement)
	}
	if !breach {
		t.Error("the SLA breach is not in the ledger")
	}
}

// TestProbationPutsANewCaseOnTheStrictTrack: a new spam case on an account on probation goes
// on the strict track, needs a lead's approval, and tells the reinstatement.
func TestProbationPutsANewCaseOnTheStrictTrack(t *testing.T) {
	h := newHarness(t)
	h.probs.Put("acct-standard", workflows.ProbationResult{WorkflowID: "reinstatement/TS-REIN00001", CaseNumber: "TS-REIN00001", Until: time.Now().Add(80 * 24 * time.Hour)})
	var told workflows.Reoffence
	h.env.OnSignalExternalWorkflow(mock.Anything, "reinstatement/TS-REIN00001", "", workflows.SignalReoffence, mock.Anything).Return(
		func(_, _, _, _ string, arg any) error { told = arg.(workflows.Reoffence); return nil })
	var v workflows.CaseView
	h.at(time.Hour, func() { v = h.view() })
	h.at(2*time.Hour, func() { h.agent("agent@desk.example", workflows.DecisionResolve, "") })
	h.run("acct-standard", abuse.Spam, 1)
	h.result()
	if v.Track != policy.TrackStrict || !v.PolicyRules.Approval.Required {
		t.Errorf("track %s, approval required %v; want strict with approval", v.Track, v.PolicyRules.Approval.Required)
	}
	if !hasEvent(v, workflows.EventNote, "a re-offence: the account is on probation") {
		t.Errorf("timeline %+v", v.Timeline)
	}
	if told.CaseNumber != v.CaseNumber || told.Category != abuse.Spam {
		t.Errorf("the reinstatement was told %+v", told)
	}

	// Not on probation: the standard track.
	h = newHarness(t)
	var std workflows.CaseView
	h.at(time.Hour, func() { std = h.view() })
	h.at(2*time.Hour, func() { h.agent("agent@desk.example", workflows.DecisionResolve, "") })
	h.run("acct-standard", abuse.Spam, 1)
	h.result()
	if std.Track != policy.TrackStandard {
		t.Errorf("without probation: track %s", std.Track)
	}
}

// TestReinstatementGrantRunsTheChecksFirst: a grant runs the case's checks over the reported URL
// first; while the page still answers it is refused; an override with its reason grants it, and
// the review keeps what the checks found and who overrode them.
func TestReinstatementGrantRunsTheChecksFirst(t *testing.T) {
	h := newHarness(t)
	in := h.reinstatementInput()
	in.Checks = workflows.RemediationState{Checks: []string{policy.CheckHTTP}, URLs: []string{phishURL}}
	var refused, granted *updateOutcome
	var after workflows.ReinstatementView
	h.at(2*time.Hour, func() {
		refused = h.decideAs("reviewer@desk.example", workflows.DecisionGrantReinstatement, "they say it is fixed")
	})
	h.at(3*time.Hour, func() {
		granted = h.decideAs("reviewer@desk.example", workflows.DecisionGrantReinstatement, "override: the page is the bank's own warning page now")
	})
	h.at(3*time.Hour+time.Minute, func() { after = h.reinstatementView() })
	h.at(100*24*time.Hour, func() {})
	h.runReinstatement(in)

	wantRefused(t, "a grant while the page still answers", refused, "still there")
	wantAccepted(t, "a grant with an override", granted)
	if !strings.Contains(after.Checked, phishURL+" still (HTTP 200)") || !strings.HasPrefix(after.Override, "reviewer@desk.example: the page is") {
		t.Errorf("the review keeps checks %q and override %q", after.Checked, after.Override)
	}
	if acts := h.enf.Actions(); len(acts) != 1 || acts[0].State != abuse.StateLifted {
		t.Errorf("actions %+v, want the one lifted after the override", acts)
	}
}
