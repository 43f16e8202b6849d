package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"abusedesk/domain/abuse"
	"abusedesk/domain/approval"
	"abusedesk/domain/fault"
	"abusedesk/domain/policy"
	"abusedesk/domain/ticket"
	"abusedesk/testenv/memfake"
	"abusedesk/workflows"
)

// trackTicket returns the ticket tagged tag.
func (h *harness) trackTicket(t *testing.T, tag string) (tk struct {
	ID        string
	Requester string
	Group     int64
	Status    string
	Public    int
	Comments  int
}) {
	t.Helper()
	for _, x := range h.tickets.All() {
		if strings.Contains(strings.Join(x.Tags, " "), tag) {
			tk.ID, tk.Requester, tk.Group, tk.Status, tk.Comments = x.ID, x.RequesterEmail, x.GroupID, x.Status, len(x.Comments)
			for _, c := range x.Comments {
				if c.Public {
					tk.Public++
				}
			}
			return tk
		}
	}
	t.Fatalf("no ticket tagged %s", tag)
	return tk
}

// A police request: a restricted ticket in the legal group, the evidence held, the legal channel
// alerted, an acknowledgement of receipt to the authority, reminders and the due alert; the
// legal team asks for more, validates and preserves — the matter stays open; a production order
// 40 days later joins it (its own receipt and due time); the records are disclosed; the matter
// cannot close while records are preserved; released, it closes with the final answer to the
// authority. Who decided is recorded, and the customer never hears a word.
func TestLegalTrack(t *testing.T) {
	h := newHarness(t)
	var reviewing, preserved, joined workflows.CaseView
	var askMore, validate, preserve, moreInfo, closeEarly, disclose, closePreserved, release, closed *updateOutcome
	h.at(time.Hour, func() {
		moreInfo = h.agent("agent@desk.example", workflows.DecisionRequestInfo, "")
		askMore = h.agent("legal@desk.example", workflows.DecisionAskMore, "which period exactly?")
		closeEarly = h.agent("legal@desk.example", workflows.DecisionCloseMatter, "")
	})
	h.at(80*time.Hour, func() { reviewing = h.view() })
	h.at(81*time.Hour, func() {
		validate = h.agent("legal@desk.example", workflows.DecisionValidate, "Det. Roe, verified by phone; 18 U.S.C. 2703(f); US; subscriber records; no order needed to preserve")
		preserve = h.agent("legal@desk.example", workflows.DecisionPreserve, "records of 1-28 Feb kept")
	})
	h.at(82*time.Hour, func() { preserved = h.view() })
	h.at(40*24*time.Hour, func() {
		h.evidence.Put(fmt.Sprintf("%064x", 8), []byte("raw order"))
		h.env.SignalWorkflow(workflows.SignalReports, workflows.NewReportsSignal([]workflows.ReportSummary{{ID: "order-2", Format: "freeform", Category: abuse.LegalRequest,
			Reporter: "victim@example.org", ReceivedAt: h.env.Now(), Subjects: abuse.ParseSubjects("ip:192.0.2.10"), Evidence: fmt.Sprintf("%064x", 8), Summary: "production order", Language: "fr"}}))
	})
	h.at(40*24*time.Hour+time.Hour, func() { joined = h.view() })
	h.at(41*24*time.Hour, func() {
		disclose = h.agent("legal@desk.example", workflows.DecisionDisclose, "subscriber records produced under order 2026-7002")
		closePreserved = h.agent("legal@desk.example", workflows.DecisionCloseMatter, "done")
	})
	h.at(42*24*time.Hour, func() {
		release = h.agent("legal@desk.example", workflows.DecisionReleasePreservation, "the production is complete")
	})
	h.at(42*24*time.Hour+time.Hour, func() {
		closed = h.agent("legal@desk.example", workflows.DecisionCloseMatter, "The subscriber records were produced under your order 2026-7002.")
	})
	h.runUncertain("acct-standard", abuse.LegalRequest, unsure)

	wantRejected(t, "request info on a legal matter", moreInfo, "does not apply to a case on the legal track")
	wantAccepted(t, "ask for more", askMore)
	wantRejected(t, "close before anything was decided", closeEarly, "nothing was decided")
	wantAccepted(t, "validate", validate)
	wantAccepted(t, "preserve", preserve)
	wantAccepted(t, "disclose", disclose)
	wantRejected(t, "close while preserved", closePreserved, "release the preservation first")
	wantAccepted(t, "release", release)
	wantAccepted(t, "close", closed)
	if reviewing.Status != workflows.StatusLegalReview || reviewing.Legal == nil || reviewing.Legal.RemindersSent != 2 || !reviewing.Legal.Breached {
		t.Errorf("at 80h: %s %+v; want legal_review, 2 reminders, past due", reviewing.Status, reviewing.Legal)
	}
	if l := preserved.Legal; preserved.Status != workflows.StatusLegalReview || l.Stage != workflows.LegalPreserved || l.Preservation == nil ||
		!l.Preservation.Until.Equal(l.Preservation.Since.Add(90*24*time.Hour)) {
		t.Errorf("after preserve: %s %+v; want legal_review, preserved for 90 days", preserved.Status, l)
	}
	if l := joined.Legal; l.Requests != 2 || l.Answered || l.ReceiptsSent != 2 || l.Due.Sub(l.Since) != 72*time.Hour || len(l.Held) != 2 {
		t.Errorf("after the order joined: %+v; want 2 requests, unanswered, 2 receipts, due in 72h, both held", l)
	}
	res := h.result()
	if res.Outcome != workflows.OutcomeDisclosed {
		t.Errorf("outcome %s, want disclosed", res.Outcome)
	}
	tk := h.trackTicket(t, ticket.TagLegal)
	if tk.Group != 77 || tk.Requester != "victim@example.org" || tk.Status != workflows.TicketSolved {
		t.Errorf("legal ticket: group %d, requester %s, %s; want 77, the requester, solved", tk.Group, tk.Requester, tk.Status)
	}
	var public []string
	for _, c := range h.tickets.All()[0].Comments {
		if c.Public {
			public = append(public, c.Body)
		}
	}
	if len(public) != 3 || !strings.Contains(public[0], "acknowledge receipt") || !strings.Contains(public[1], "accusons réception") ||
		!strings.Contains(public[2], "produced under your order 2026-7002") {
		t.Errorf("public comments to the authority %q; want the receipt, the order's receipt in its language (French), the final answer", public)
	}
	if len(h.tickets.All()) != 1 {
		t.Errorf("%d tickets, want only the legal one (no customer ticket, no acknowledgement)", len(h.tickets.All()))
	}
	if held := h.evidence.Holds(h.caseID + " " + res.CaseNumber); len(held) != 2 {
		t.Errorf("evidence held: %v, want the request and the order", held)
	}
	alerts := strings.Join(h.alerts.Texts(), "\n")
	if !strings.HasPrefix(alerts, "#legal: New") || !strings.Contains(alerts, "past its due time") || !strings.Contains(alerts, "Request 2 joined") {
		t.Errorf("legal alerts %q, want opened, past due, the order joined — all to #legal", alerts)
	}
	v := h.view()
	var steps []string
	for _, d := range v.Legal.Decisions {
		steps = append(steps, string(d.Decision)+" by "+d.DecidedBy)
	}
	if got := strings.Join(steps, ", "); got != "ask_more by legal@desk.example, validate by legal@desk.example, preserve by legal@desk.example, disclose by legal@desk.example, release_preservation by legal@desk.example, close_matter by legal@desk.example" {
		t.Errorf("legal decisions: %s", got)
	}
	if n := len(h.enf.Actions()); n != 0 {
		t.Errorf("%d enforcement actions on a legal matter", n)
	}
}

// TestLegalPreservationClock: a preservation runs 90 days; the legal team is reminded 14 days
// before it lapses, and an extension moves both; once it lapses the matter may close, as
// preserved.
func TestLegalPreservationClock(t *testing.T) {
	h := newHarness(t)
	var extendEarly, extend, closed *updateOutcome
	var lapsed workflows.CaseView
	h.at(time.Hour, func() {
		extendEarly = h.agent("legal@desk.example", workflows.DecisionExtendPreservation, "")
		h.agent("legal@desk.example", workflows.DecisionPreserve, "kept")
	})
	h.at(80*24*time.Hour, func() {
		extend = h.agent("legal@desk.example", workflows.DecisionExtendPreservation, "the prosecutor asked for 90 more days")
	})
	h.at(181*24*time.Hour, func() { lapsed = h.view() })
	h.at(182*24*time.Hour, func() { closed = h.agent("legal@desk.example", workflows.DecisionCloseMatter, "") })
	h.runUncertain("acct-standard", abuse.LegalRequest, unsure)

	wantRejected(t, "extend before anything is preserved", extendEarly, "nothing is preserved")
	wantAccepted(t, "extend", extend)
	wantAccepted(t, "close after the preservation lapsed", closed)
	p := lapsed.Legal.Preservation
	start := p.Since
	if p.Extensions != 1 || !p.Until.Equal(start.Add(180*24*time.Hour)) || !p.LapsedAt.Equal(p.Until) {
		t.Errorf("preservation %+v; want extended once to 180 days, lapsed then", p)
	}
	var reminders []string
	for _, a := range h.alerts.Texts() {
		if strings.Contains(a, "lapses") || strings.Contains(a, "lapsed") {
			reminders = append(reminders, a)
		}
	}
	if len(reminders) != 3 || !strings.Contains(reminders[0], start.Add(90*24*time.Hour).Format("2006-01-02")) ||
		!strings.Contains(reminders[1], start.Add(180*24*time.Hour).Format("2006-01-02")) || !strings.Contains(reminders[2], "lapsed") {
		t.Errorf("preservation alerts %q; want a reminder before day 90, one before day 180 (after the extension), the lapse", reminders)
	}
	if res := h.result(); res.Outcome != workflows.OutcomePreserved {
		t.Errorf("outcome %s, want preserved", res.Outcome)
	}
}

// TestLegalDecisionsOnlyByTheLegalTeam: who is on the legal team is what the ticketing system
// lists in the legal group when the matter opens; another agent's legal decision is refused,
// whatever its payload says of the case, and so is any decision while the team is unknown.
func TestLegalDecisionsOnlyByTheLegalTeam(t *testing.T) {
	h := newHarness(t)
	var byAgent, closeByAgent, forgedID, byLegal *updateOutcome
	h.at(time.Hour, func() {
		byAgent = h.agent("agent@desk.example", workflows.DecisionDisclose, "disclosing")
		closeByAgent = h.agent("agent@desk.example", workflows.DecisionResolve, "")
		forgedID = h.update(workflows.UpdateAgentDecision, workflows.AgentDecision{Decision: workflows.DecisionDisclose, Agent: "legal@desk.example", AgentID: "424242", Note: "under order 1"})
	})
	h.at(2*time.Hour, func() { byLegal = h.agent("legal@desk.example", workflows.DecisionPreserve, "kept") })
	h.at(3*time.Hour, func() { h.agent("legal@desk.example", workflows.DecisionReleasePreservation, "") })
	h.at(4*time.Hour, func() { h.agent("legal@desk.example", workflows.DecisionCloseMatter, "") })
	h.runUncertain("acct-standard", abuse.LegalRequest, unsure)

	wantRejected(t, "disclose by an agent outside the legal group", byAgent, "agent@desk.example is not on the legal team")
	wantRejected(t, "close by an agent outside the legal group", closeByAgent, "is not on the legal team")
	wantRejected(t, "an ID outside the legal group", forgedID, "is not on the legal team")
	wantAccepted(t, "the legal team's decision", byLegal)
	if h.tickets.Calls("members") == 0 {
		t.Error("the desk never read the legal group's members")
	}
	if res := h.result(); res.Outcome != workflows.OutcomePreserved {
		t.Errorf("outcome %s, want preserved", res.Outcome)
	}
}

// TestLegalTeamUnknown: when the ticketing system cannot list the legal group, no decision is
// accepted, and the refusal says why.
func TestLegalTeamUnknown(t *testing.T) {
	h := newHarness(t)
	h.tickets.Fail("members", 100, &fault.Error{Kind: fault.Invalid, Service: "zendesk", Op: "list the members of group 77", Message: "no such group"})
	var byLegal *updateOutcome
	h.at(time.Hour, func() { byLegal = h.agent("legal@desk.example", workflows.DecisionPreserve, "kept") })
	h.at(15*24*time.Hour, func() {})
	h.runUncertain("acct-standard", abuse.LegalRequest, unsure)

	wantRejected(t, "a decision while the team is unknown", byLegal, "could not read who is on the legal team")
}

// A CSAM notice: the legal ticket and hold, and the takedown straight to the leads; after a
// lead's approval each reported URL is taken down (one action each, not the account), with a
// reason that is true of the case, and the customer is still told nothing. A notice that names
// no URL takes nothing down: a person decides.
func TestCSAMTakedown(t *testing.T) {
	h := newHarness(t)
	var approved *updateOutcome
	var enforced workflows.CaseView
	h.at(time.Minute, func() { approved = h.approve(lead1, approval.Approve, "") })
	h.at(2*time.Minute, func() { enforced = h.view() })
	h.at(15*24*time.Hour, func() {})
	urls := []string{"https://img.example.com/a/1.jpg", "https://img.example.com/a/2.jpg"}
	h.runUncertain("acct-standard", abuse.CSAM, func(r *workflows.ReportSummary) {
		r.Confidence, r.Reporter = 0.9, "report@hotline.example"
		for _, u := range urls {
			r.Subjects = append(r.Subjects, abuse.ParseSubject("url:"+u))
		}
	})

	wantAccepted(t, "the lead's approval", approved)
	e := enforced.Enforcement
	if enforced.Status != workflows.StatusEnforced || e == nil || e.Type != abuse.ActionTakedown || e.Scope == nil ||
		e.Scope.Kind != abuse.ScopeResource || e.Scope.Value != urls[0] || len(e.Also) != 1 || e.Also[0].Scope.Value != urls[1] {
		t.Fatalf("after approval: %s %+v, want enforced with each reported URL taken down", enforced.Status, e)
	}
	actions := h.enf.Actions()
	if len(actions) != 2 {
		t.Fatalf("%d actions, want one takedown per URL", len(actions))
	}
	for _, a := range actions {
		if a.Type != abuse.ActionTakedown || a.Scope == nil || a.Scope.Kind != abuse.ScopeResource {
			t.Errorf("action %+v, want a takedown of one resource", a)
		}
		if reason := a.Reason; strings.Contains(reason, "no answer") || !strings.Contains(reason, "CSAM notice from report@hotline.example") ||
			!strings.Contains(reason, "no notice to the customer") || !strings.Contains(reason, "approved by") {
			t.Errorf("the recorded reason %q is not what happened (a CSAM notice, no notice to the customer, a lead's approval)", reason)
		}
	}
	h.noPublicWord(t)
	if n := len(h.tickets.All()); n != 1 {
		t.Errorf("%d tickets, want the legal one only", n)
	}
	if !strings.Contains(timelineOf(enforced), "withheld: legal track") {
		t.Errorf("the enforcement notice was not withheld:\n%s", timelineOf(enforced))
	}
}

// With legal approvers in the policy, a CSAM takedown is asked of them in the legal channel: a
// lead (who cannot open the legal case) may not decide it; a legal approver does.
func TestCSAMTakedownByTheLegalApprovers(t *testing.T) {
	h := newHarness(t)
	h.pol.Legal.Approvers = approval.Approvers{Users: []string{"ULEGAL1"}}
	var byLead, byLegal *updateOutcome
	var enforced workflows.CaseView
	h.at(time.Minute, func() { byLead = h.approve(lead1, approval.Approve, "") })
	h.at(2*time.Minute, func() { byLegal = h.approve("ULEGAL1", approval.Approve, "") })
	h.at(3*time.Minute, func() { enforced = h.view() })
	h.at(15*24*time.Hour, func() {})
	h.runUncertain("acct-standard", abuse.CSAM, func(r *workflows.ReportSummary) {
		r.Confidence, r.Subjects = 0.9, append(r.Subjects, abuse.ParseSubject("url:https://img.example.com/a/1.jpg"))
	})
	wantRefused(t, "a lead's approval of a legal matter", byLead, "")
	wantAccepted(t, "the legal approver's approval", byLegal)
	if enforced.Status != workflows.StatusEnforced || enforced.Enforcement == nil || enforced.Enforcement.Type != abuse.ActionTakedown {
		t.Errorf("after the legal approver: %s %+v, want the takedown", enforced.Status, enforced.Enforcement)
	}
	if posts := h.appr.Posts; len(posts) == 0 || posts[0].Channel != "legal" {
		t.Errorf("approval requests %+v, want the first in the legal channel", posts)
	}
}

// A CSAM notice that names no URL: nothing is taken down, and a person decides.
func TestCSAMTakedownWithoutURL(t *testing.T) {
	h := newHarness(t)
	var after workflows.CaseView
	h.at(time.Minute, func() { h.approve(lead1, approval.Approve, "") })
	h.at(2*time.Minute, func() { after = h.view() })
	h.at(15*24*time.Hour, func() {})
	h.runUncertain("acct-standard", abuse.CSAM, func(r *workflows.ReportSummary) { r.Confidence = 0.9 })
	if n := len(h.enf.Actions()); n != 0 || after.Status != workflows.StatusUnderReview || !strings.Contains(timelineOf(after), "name no URL to take down") {
		t.Errorf("a CSAM notice naming no URL: %d actions, %s; want none, a person deciding, saying why:\n%s", n, after.Status, timelineOf(after))
	}
}

func timelineOf(v workflows.CaseView) string {
	var b strings.Builder
	for _, e := range v.Timeline {
		b.WriteString(e.Kind + " " + e.Text + "\n")
	}
	return b.String()
}

// An advisory: fix-it advice to the customer, one update per day while reports still list the
// host, closed after the quiet period; never enforced, and no response wait can be started.
func TestAdvisoryTrack(t *testing.T) {
	h := newHarness(t)
	more := func(id string) func() {
		return func() {
			h.env.SignalWorkflow(workflows.SignalReports, workflows.NewReportsSignal([]workflows.ReportSummary{{ID: id, Format: "table",
				Category: abuse.Vulnerable, Reporter: "feed@cert.example", ReceivedAt: h.env.Now(), Subjects: abuse.ParseSubjects("ip:192.0.2.10")}}))
		}
	}
	var monitoring workflows.CaseView
	var extend *updateOutcome
	h.at(2*time.Hour, more("day1-a"))
	h.at(3*time.Hour, more("day1-b"))
	h.at(30*time.Hour, more("day2"))
	h.at(31*time.Hour, func() {
		monitoring = h.view()
		extend = h.agent("agent@desk.example", workflows.DecisionExtendDeadline, "")
	})
	h.runUncertain("acct-standard", abuse.Vulnerable, func(r *workflows.ReportSummary) { r.Confidence = 0.9 })

	wantRejected(t, "extend on an advisory", extend, "does not apply to a case on the advisory track")
	if monitoring.Status != workflows.StatusMonitoring || monitoring.Advisory == nil || monitoring.Advisory.Updates != 1 {
		t.Errorf("at 31h: %s %+v; want monitoring after one update", monitoring.Status, monitoring.Advisory)
	}
	res := h.result()
	if res.Outcome != workflows.OutcomeQuiet {
		t.Errorf("outcome %s, want quiet", res.Outcome)
	}
	v := h.view()
	if want := 30*time.Hour + 7*24*time.Hour; v.Advisory.Updates != 2 || res.ClosedAt.Sub(v.OpenedAt) < want {
		t.Errorf("%d updates, closed %v after opening; want 2 updates (day 1, day 2) and a close 7 days after the last report (%v)",
			v.Advisory.Updates, res.ClosedAt.Sub(v.OpenedAt), want)
	}
	pub := h.publicComments()
	if len(pub) != 4 || !strings.Contains(pub[0], "security advisory, not a violation") || !strings.Contains(pub[1], "2 new reports") || !strings.Contains(pub[3], "no new report has listed the host") {
		t.Errorf("public comments %q; want the advice, two updates, the closing", pub)
	}
	if n := len(h.enf.Actions()); n != 0 {
		t.Errorf("%d enforcement actions on an advisory", n)
	}
}

// A blocklist listing that comes within monitoring.relisted of the account's previous
// blocklist incident closing delisted is a relisting: the case and its advice say so, and the
// ledger counts it. An older one, or one that closed otherwise, is a first listing.
func TestBlocklistRelisting(t *testing.T) {
	id := workflows.CaseWorkflowID("acct-standard", abuse.Blocklist)
	listed := func(closedAgo time.Duration, outcome workflows.Outcome) (workflows.CaseView, []string, *harness) {
		h := newHarness(t)
		h.incs.Closed(id, workflows.CaseResult{CaseNumber: "TS-PREVIOUS1", Outcome: outcome, ClosedAt: h.env.Now().Add(-closedAgo)})
		var v workflows.CaseView
		h.at(time.Hour, func() { v = h.view() })
		h.runUncertain("acct-standard", abuse.Blocklist, func(r *workflows.ReportSummary) {
			r.Confidence, r.Format, r.Reporter, r.Summary = 0.95, "xarf-4", "blocklist-monitor@abusedesk.invalid", "listed on dnsbl.example"
		})
		return v, h.publicComments(), h
	}
	v, pub, h := listed(10*24*time.Hour, workflows.OutcomeQuiet)
	if v.Status != workflows.StatusMonitoring || v.Advisory == nil || v.Advisory.Relisted == nil || v.Advisory.Relisted.Previous != "TS-PREVIOUS1" {
		t.Fatalf("listed 10 days after a delisting: %s %+v; want a relisting of TS-PREVIOUS1", v.Status, v.Advisory)
	}
	if len(pub) == 0 || !strings.Contains(pub[0], "This address was listed before: case TS-PREVIOUS1") {
		t.Errorf("the advice does not say it is a relisting: %q", pub)
	}
	if !slices.ContainsFunc(h.ledger.Rows(), func(r memfake.LedgerRow) bool {
		return r.Event.Kind == workflows.LedgerRelisted && r.Event.Text == "TS-PREVIOUS1"
	}) {
		t.Error("the ledger has no relisting")
	}
	for _, tc := range []struct {
		ago     time.Duration
		outcome workflows.Outcome
	}{{40 * 24 * time.Hour, workflows.OutcomeQuiet}, {24 * time.Hour, workflows.OutcomeNotAbuse}} {
		v, pub, _ := listed(tc.ago, tc.outcome)
		if v.Advisory == nil || v.Advisory.Relisted != nil || (len(pub) > 0 && strings.Contains(pub[0], "listed before")) {
			t.Errorf("previous incident closed %s ago (%s): %+v; want a first listing", tc.ago, tc.outcome, v.Advisory)
		}
	}
}

// A customer asking for help: a support ticket in the support group, the customer who wrote as
// requester, no bot text to them, closed by an agent; never enforced.
func TestCustomerTrack(t *testing.T) {
	h := newHarness(t)
	var extend, resolve *updateOutcome
	var open workflows.CaseView
	h.at(time.Hour, func() {
		open = h.view()
		extend = h.agent("agent@desk.example", workflows.DecisionRequestInfo, "")
		resolve = h.agent("support@desk.example", workflows.DecisionResolve, "delisted at the blocklist")
	})
	h.runUncertain("acct-standard", abuse.Deliverability, func(r *workflows.ReportSummary) { r.Reporter = "ops@shop.example" })

	wantRejected(t, "request info on a support matter", extend, "does not apply to a case on the customer track")
	wantAccepted(t, "resolve", resolve)
	if open.Status != workflows.StatusUnderReview {
		t.Errorf("at 1h: %s, want under_review (an agent answers)", open.Status)
	}
	if res := h.result(); res.Outcome != workflows.OutcomeResolved {
		t.Errorf("outcome %s, want resolved", res.Outcome)
	}
	tk := h.trackTicket(t, ticket.TagSupport)
	if tk.Group != 88 || tk.Requester != "ops@shop.example" || tk.Public != 0 || tk.Status != workflows.TicketSolved {
		t.Errorf("support ticket: group %d, requester %s, %d public comments, %s; want 88, the customer, none from the bot, solved", tk.Group, tk.Requester, tk.Public, tk.Status)
	}
	if n := len(h.enf.Actions()); n != 0 {
		t.Errorf("%d enforcement actions", n)
	}
}

// TestStrangerAsksForHelp: someone who writes as the customer from an address the account does
// not know is asked to write from the account's own, and their ticket names nothing of it.
func TestStrangerAsksForHelp(t *testing.T) {
	h := newHarness(t)
	h.at(time.Hour, func() { h.agent("support@desk.example", workflows.DecisionResolve, "") })
	h.runUncertain("acct-standard", abuse.Deliverability, func(r *workflows.ReportSummary) { r.Reporter = "someone@elsewhere.example" })
	h.result()
	for _, tk := range h.tickets.All() {
		if tk.RequesterEmail != "someone@elsewhere.example" {
			continue
		}
		var public []string
		for _, c := range tk.Comments {
			if c.Public {
				public = append(public, c.Body)
			}
		}
		acct := h.view().Account
		if strings.Contains(tk.Subject, acct.ID) || len(public) != 1 || !strings.Contains(public[0], "registered for your account") ||
			strings.Contains(public[0], acct.ID) || strings.Contains(public[0], acct.Name) {
			t.Errorf("the stranger's ticket %q, public %q; want a subject and an answer naming nothing of the account, asking them to write from its address", tk.Subject, public)
		}
		return
	}
	t.Fatal("no ticket for the stranger's request")
}

// SMS spam from one of the account's numbers: the throttle is on that number, not the account,
// and the notice says so; a case whose reports also name an address acts on the account.
func TestActionOnOneNumber(t *testing.T) {
	run := func(subjects ...[]string) (workflows.CaseView, []string) {
		h := newHarness(t)
		h.caseID = workflows.CaseWorkflowID("acct-standard", abuse.Spam)
		h.env.SetStartWorkflowOptions(testStartOptions(h.caseID))
		h.at(0, func() {
			var batch []workflows.ReportSummary
			for i, s := range subjects {
				batch = append(batch, workflows.ReportSummary{ID: "sms-" + string(rune('a'+i)), Format: "freeform", Category: abuse.Spam,
					Reporter: "7726@operator.example", ReceivedAt: h.env.Now(), Subjects: abuse.ParseSubjects(s...), Confidence: 0.9})
			}
			h.env.SignalWorkflow(workflows.SignalReports, workflows.NewReportsSignal(batch))
		})
		var v workflows.CaseView
		h.at(80*time.Hour, func() { v = h.view() })
		h.at(81*time.Hour, func() {})
		h.env.ExecuteWorkflow(workflows.CaseWorkflowType, workflows.CaseInput{AccountID: "acct-standard", Category: abuse.Spam, Policy: h.pol.Snapshot(abuse.Spam)})
		return v, h.publicComments()
	}
	v, pub := run([]string{"phone:+447700900123", "url:http://win.example/x"}, []string{"phone:+447700900123"})
	if e := v.Enforcement; e == nil || e.Scope == nil || e.Scope.Kind != abuse.ScopePhone || e.Scope.Value != "+447700900123" {
		t.Fatalf("enforcement %+v, want a throttle on the number", v.Enforcement)
	}
	if len(pub) < 2 || !strings.Contains(pub[0], "on the number +447700900123") || !strings.Contains(pub[len(pub)-1], "on the number +447700900123") {
		t.Errorf("the notice and the enforcement notice should name the number: %q", pub)
	}
	v, _ = run([]string{"phone:+447700900123"}, []string{"ip:192.0.2.10"})
	if e := v.Enforcement; e == nil || e.Scope != nil {
		t.Errorf("reports naming an address too: %+v, want an action on the account", v.Enforcement)
	}
}

// TestLegalRequestSaysWhatAndWhen: a request's stated deadline, when earlier than the policy's,
// is the matter's due time (no reminder after it); an emergency disclosure request pages the
// legal on-call at once and is due within the emergency window.
func TestLegalRequestSaysWhatAndWhen(t *testing.T) {
	t.Run("stated deadline", func(t *testing.T) {
		h := newHarness(t)
		var v workflows.CaseView
		h.at(time.Minute, func() { v = h.view() })
		h.at(31*time.Hour, func() { h.agent("legal@desk.example", workflows.DecisionReject, "out of scope") })
		h.at(32*time.Hour, func() { h.agent("legal@desk.example", workflows.DecisionCloseMatter, "") })
		var stated time.Time
		h.runUncertain("acct-standard", abuse.LegalRequest, func(r *workflows.ReportSummary) {
			r.Confidence, r.LegalKind = 0.4, "production"
			r.Deadline = h.env.Now().Add(30 * time.Hour)
			stated = r.Deadline
		})
		if l := v.Legal; l == nil || !l.Due.Equal(stated) || l.Kind != "production" || !l.StatedDue.Equal(stated) {
			t.Fatalf("legal state %+v; want due at the stated %v, kind production", l, stated)
		}
		alerts := h.alerts.Texts()
		var reminders int
		for _, a := range alerts {
			if strings.Contains(a, "Reminder") {
				reminders++
			}
		}
		if !strings.Contains(alerts[0], "(production)") || !strings.Contains(alerts[0], "the request states") || reminders != 1 || !strings.Contains(strings.Join(alerts, "\n"), "past its due time") {
			t.Errorf("alerts %q; want the opening naming the kind and the stated deadline, the 24h reminder only (48h is after the due time), the due alert", alerts)
		}
		h.result()
	})
	t.Run("emergency", func(t *testing.T) {
		h := newHarness(t)
		h.pol.Legal.OnCall = approval.Approvers{Users: []string{"ULEGALONCALL"}, Groups: []string{"SLEGAL"}}
		var v workflows.CaseView
		h.at(time.Minute, func() { v = h.view() })
		h.at(30*time.Minute, func() {
			h.agent("legal@desk.example", workflows.DecisionDisclose, "subscriber identity given by phone under the emergency procedure")
		})
		h.at(31*time.Minute, func() { h.agent("legal@desk.example", workflows.DecisionCloseMatter, "") })
		h.runUncertain("acct-standard", abuse.LegalRequest, func(r *workflows.ReportSummary) { r.Confidence, r.LegalKind = 0.4, "emergency" })
		if l := v.Legal; l == nil || l.Due.Sub(l.Since) != time.Hour {
			t.Fatalf("legal state %+v; want due within the hour", l)
		}
		var paged []string
		for _, a := range h.alerts.Texts() {
			if strings.Contains(a, "EMERGENCY") {
				paged = append(paged, a)
			}
		}
		if len(paged) != 1 || !strings.HasPrefix(paged[0], "#legal: <@ULEGALONCALL> <!subteam^SLEGAL> EMERGENCY") {
			t.Errorf("pages %q; want one, mentioning the on-call, in the legal channel", paged)
		}
		if res := h.result(); res.Outcome != workflows.OutcomeDisclosed {
			t.Errorf("outcome %s, want disclosed", res.Outcome)
		}
		if notes := h.internalNotes(); len(notes) == 0 || !strings.Contains(notes[0], "This is an EMERGENCY disclosure request") {
			t.Errorf("the legal ticket's first note %q; want the emergency's checklist", notes)
		}
	})
}

// TestMoveToLegal: an abuse case the parser did not see as a police matter moves into legal in
// one step: its reports go to a legal matter of the account, leave the case and its ticket
// (their text and raw reports redacted, a neutral note instead), and the case closes without a
// word more to the customer. A legal matter cannot move again, nor a case with an action in
// force.
func TestMoveToLegal(t *testing.T) {
	h := newHarness(t)
	var moved *updateOutcome
	h.at(time.Hour, func() {
		moved = h.agent("agent@desk.example", workflows.DecisionMoveToLegal, "the complaint is a police request")
	})
	h.run("acct-standard", abuse.Spam, 2)

	wantAccepted(t, "move to legal", moved)
	after := h.view()
	if res := h.result(); res.Outcome != workflows.OutcomeReclassified {
		t.Errorf("outcome %s, want reclassified", res.Outcome)
	}
	m := h.fwd.Moves()
	if len(m) != 1 || m[0].Category != abuse.LegalRequest || m[0].Account != "acct-standard" || len(m[0].Reports) != 2 || !m[0].Reports[0].Confirmed {
		t.Fatalf("moves %+v; want both reports, confirmed, to the account's legal matter", m)
	}
	if len(after.Reports.Recent) != 0 || len(after.Reports.Reporters) != 0 {
		t.Errorf("the case still shows its reports: %+v", after.Reports)
	}
	tk := h.ticket()
	public, evidence := 0, 0
	for _, c := range tk.Comments {
		if strings.Contains(c.Body, "complaint r") || strings.Contains(c.Body, "fbl0@isp.example") {
			t.Errorf("the ticket still quotes the reports: %q", c.Body)
		}
		if c.Public {
			public++
		}
		evidence += len(c.Uploads)
	}
	if public != 1 || evidence != 0 || !strings.Contains(tk.Comments[len(tk.Comments)-1].Body, "moved out of it (confidential)") {
		t.Errorf("ticket: %d public comments (want the first notice only), %d raw reports left (want none), last note %q", public, evidence, tk.Comments[len(tk.Comments)-1].Body)
	}

	legal := newHarness(t)
	var fromLegal *updateOutcome
	legal.at(time.Hour, func() { fromLegal = legal.agent("agent@desk.example", workflows.DecisionMoveToLegal, "") })
	legal.at(2*time.Hour, func() { legal.agent("legal@desk.example", workflows.DecisionReject, "not ours") })
	legal.at(3*time.Hour, func() { legal.agent("legal@desk.example", workflows.DecisionCloseMatter, "") })
	legal.runUncertain("acct-standard", abuse.LegalRequest, unsure)
	wantRejected(t, "move a legal matter", fromLegal, "a legal matter already")
}

// TestNotALegalMatter: only the legal team moves a matter out of legal, and only to a
// category outside it: the reports go back to the abuse desk's case, confirmed, and the matter
// closes without a word to its sender or the customer.
func TestNotALegalMatter(t *testing.T) {
	h := newHarness(t)
	var byAgent, noCategory, back *updateOutcome
	h.at(time.Hour, func() {
		byAgent = h.decide(workflows.AgentDecision{Decision: workflows.DecisionNotLegal, Agent: "agent@desk.example", Category: abuse.Spam})
		noCategory = h.decide(workflows.AgentDecision{Decision: workflows.DecisionNotLegal, Agent: "legal@desk.example", Category: abuse.LegalRequest})
	})
	h.at(2*time.Hour, func() {
		back = h.decide(workflows.AgentDecision{Decision: workflows.DecisionNotLegal, Agent: "legal@desk.example", Category: abuse.Spam, Note: "a spam complaint that quoted the law"})
	})
	h.runUncertain("acct-standard", abuse.LegalRequest, unsure)

	wantRejected(t, "an agent outside the legal team", byAgent, "is not on the legal team")
	wantRejected(t, "a legal category", noCategory, "needs the category")
	wantAccepted(t, "the legal team's decision", back)
	if res := h.result(); res.Outcome != workflows.OutcomeReclassified {
		t.Errorf("outcome %s, want reclassified", res.Outcome)
	}
	m := h.fwd.Moves()
	if len(m) != 1 || m[0].Category != abuse.Spam || m[0].Account != "acct-standard" || !m[0].Reports[0].Confirmed {
		t.Errorf("moves %+v; want the report, confirmed, to the account's spam case", m)
	}
	tk := h.trackTicket(t, ticket.TagLegal)
	if tk.Public != 1 { // the receipt, when the request came
		t.Errorf("%d public comments on the legal ticket, want the receipt only", tk.Public)
	}
}

// A CSAM notice's report to the hotline is a step of its own: due a day after the notice,
// recorded once by the legal team with the hotline's reference — never by another agent, never
// without the reference.
func TestCSAMHotlineReport(t *testing.T) {
	h := newHarness(t)
	var opened, after workflows.CaseView
	var byAgent, noRef, byLegal, again *updateOutcome
	h.at(time.Minute, func() { opened = h.view() })
	h.at(2*time.Hour, func() {
		byAgent = h.agent("agent@desk.example", workflows.DecisionHotlineReported, "CyberTipline report 123456")
		noRef = h.agent("legal@desk.example", workflows.DecisionHotlineReported, "")
	})
	h.at(3*time.Hour, func() {
		byLegal = h.agent("legal@desk.example", workflows.DecisionHotlineReported, "NCMEC CyberTipline report 123456")
	})
	h.at(4*time.Hour, func() {
		again = h.agent("legal@desk.example", workflows.DecisionHotlineReported, "again")
		after = h.view()
	})
	h.at(15*24*time.Hour, func() {})
	h.runUncertain("acct-standard", abuse.CSAM, func(r *workflows.ReportSummary) { r.Confidence = 0.9 })

	if hs := opened.Legal.Hotline; hs == nil || hs.Due.Sub(opened.OpenedAt) < 23*time.Hour || hs.Due.Sub(opened.OpenedAt) > 25*time.Hour {
		t.Fatalf("the hotline step on opening: %+v, want due a day after the notice", hs)
	}
	wantRefused(t, "an agent outside the legal team", byAgent, "not on the legal team")
	wantRefused(t, "no reference", noRef, "report reference")
	wantAccepted(t, "the legal team's record", byLegal)
	wantRefused(t, "a second record", again, "recorded already")
	if hs := after.Legal.Hotline; hs == nil || hs.ReportedBy != "legal@desk.example" || hs.Reference != "NCMEC CyberTipline report 123456" || hs.ReportedAt.IsZero() {
		t.Errorf("the hotline step after the record: %+v", hs)
	}
	h.noPublicWord(t)
}

// TestMessagingActsOnTheCampaign: a carrier's notice about a campaign and its numbers ends, with
// no answer, in a suspension of the campaign, not of the account or a number, and the notices
// say so; reports naming two numbers and no campaign leave the account alone and go to a
// person; with a lead's approval the whole account may be acted on.
func TestMessagingActsOnTheCampaign(t *testing.T) {
	var leak bool // the platform goes on sending whatever the action
	run := func(approve bool, subjects ...[]string) (workflows.CaseView, []string, int) {
		h := newHarness(t)
		if leak {
			h.msg.Enforcement = nil
		}
		account := "acct-standard"
		if approve {
			account = "acct-strategic" // a lead approves every action
		}
		h.caseID = workflows.CaseWorkflowID(account, abuse.CarrierNotice)
		h.env.SetStartWorkflowOptions(testStartOptions(h.caseID))
		h.at(0, func() {
			var batch []workflows.ReportSummary
			for i, s := range subjects {
				batch = append(batch, workflows.ReportSummary{ID: "carrier-" + string(rune('a'+i)), Format: "freeform", Category: abuse.CarrierNotice,
					Reporter: fmt.Sprintf("compliance@carrier%d.example", i), ReceivedAt: h.env.Now(), Subjects: abuse.ParseSubjects(s...), Confidence: 0.9})
			}
			h.env.SignalWorkflow(workflows.SignalReports, workflows.NewReportsSignal(batch))
		})
		if approve {
			h.at(49*time.Hour, func() { h.approve(lead1, approval.Approve, "") })
		}
		var v workflows.CaseView
		h.at(60*time.Hour, func() { v = h.view() })
		h.at(61*time.Hour, func() {})
		h.env.ExecuteWorkflow(workflows.CaseWorkflowType, workflows.CaseInput{AccountID: account, Category: abuse.CarrierNotice,
			Policy: h.pol.Snapshot(abuse.CarrierNotice)})
		return v, h.publicComments(), h.enf.Calls("apply")
	}
	v, pub, _ := run(false, []string{"campaign:CX7K2PQ", "phone:+13125550142", "phone:+13125550143", "brand:BQ4RT7Z"}, []string{"campaign:CX7K2PQ"})
	if e := v.Enforcement; e == nil || e.Scope == nil || e.Scope.Kind != abuse.ScopeCampaign || e.Scope.Value != "CX7K2PQ" {
		t.Fatalf("enforcement %+v (status %s), want the campaign suspended", v.Enforcement, v.Status)
	}
	// An hour after the action the desk reads the campaign's traffic again: it stopped.
	if e := v.Enforcement; e.Stop == nil || e.Stop.Sent != 0 || !e.StopCheckedAt.Equal(e.StopDue) || e.StopDue.IsZero() ||
		!strings.Contains(timelineOf(v), "checked: the campaign CX7K2PQ sent 0 messages since the action") {
		t.Errorf("the stop check: %+v at %v\n%s", e.Stop, e.StopCheckedAt, timelineOf(v))
	}
	if len(pub) < 2 || !strings.Contains(pub[0], "sending suspended on the campaign CX7K2PQ") || !strings.Contains(pub[len(pub)-1], "on the campaign CX7K2PQ") {
		t.Errorf("the notice and the enforcement notice should name the campaign: %q", pub)
	}
	leak = true
	v, _, _ = run(false, []string{"campaign:CX7K2PQ"}, []string{"campaign:CX7K2PQ"})
	if e := v.Enforcement; e == nil || e.Stop == nil || e.Stop.Sent == 0 || !strings.Contains(timelineOf(v), "did not stop the traffic: 100 messages sent from the campaign CX7K2PQ") {
		t.Errorf("a suspension that let traffic through: %+v\n%s", v.Enforcement, timelineOf(v))
	}
	leak = false
	v, pub, applied := run(false, []string{"phone:+13125550142", "phone:+13125550143"}, []string{"phone:+13125550142"})
	if v.Enforcement != nil || applied != 0 || !strings.Contains(timelineOf(v), "acting on the whole account is a person's choice") {
		t.Errorf("two numbers and no campaign: enforcement %+v, %d applied; want nothing done and a person asked\n%s", v.Enforcement, applied, timelineOf(v))
	}
	if len(pub) == 0 || strings.Contains(pub[0], "we will apply") {
		t.Errorf("the notice promises an action on no one sender: %q", pub)
	}
	v, _, _ = run(true, []string{"phone:+13125550142", "phone:+13125550143"}, []string{"phone:+13125550142"})
	if e := v.Enforcement; e == nil || e.Scope != nil {
		t.Errorf("a lead approved: enforcement %+v, want the account's", v.Enforcement)
	}
}

// TestMessagingCaseShowsItsTraffic: a messaging case reads the platform's records of the
// campaign its reports name before its notice: kept as evidence, on the case, and in the notice
// with its figures. A case about an address reads none; a read that fails is noted and the
// notice goes out without them.
func TestMessagingCaseShowsItsTraffic(t *testing.T) {
	run := func(category abuse.Category, fail bool, subjects ...string) (*harness, workflows.CaseView) {
		h := newHarness(t)
		if fail {
			h.msg.Fail("messaging", 10, errors.New("platform down"))
		}
		h.caseID = workflows.CaseWorkflowID("acct-standard", category)
		h.env.SetStartWorkflowOptions(testStartOptions(h.caseID))
		h.at(0, func() {
			h.env.SignalWorkflow(workflows.SignalReports, workflows.NewReportsSignal([]workflows.ReportSummary{{ID: "c-1", Format: "freeform",
				Category: category, Reporter: "compliance@carrier.example", ReceivedAt: h.env.Now(), Subjects: abuse.ParseSubjects(subjects...), Confidence: 0.9}}))
		})
		var v workflows.CaseView
		h.at(time.Hour, func() { v = h.view() })
		h.at(2*time.Hour, func() { h.agent("agent@desk.example", workflows.DecisionResolve, "") })
		h.env.ExecuteWorkflow(workflows.CaseWorkflowType, workflows.CaseInput{AccountID: "acct-standard", Category: category, Policy: h.pol.Snapshot(category)})
		return h, v
	}
	h, v := run(abuse.CarrierNotice, false, "campaign:CX7K2PQ", "phone:+13125550142")
	tr := v.Traffic
	if tr == nil || tr.Identity != (abuse.Scope{Kind: abuse.ScopeCampaign, Value: "CX7K2PQ"}) || tr.Sent != 2400 || len(tr.Hours) != 24 || tr.Evidence == "" {
		t.Fatalf("traffic %+v, want the campaign's 24 hours (2,400 sent) kept as evidence", tr)
	}
	if raw, err := h.evidence.Get(context.Background(), tr.Evidence); err != nil || !strings.Contains(string(raw), "CX7K2PQ") {
		t.Errorf("the records kept as evidence: %s %v", raw, err)
	}
	pub := h.publicComments()
	if len(pub) == 0 || !strings.Contains(pub[0], "What our records show of the campaign CX7K2PQ") || !strings.Contains(pub[0], "24 complaints (10.0 per 1,000 messages)") ||
		!strings.Contains(pub[0], "48 recipients opted out (2.0 %)") || !strings.Contains(pub[0], "72 filtered by carriers as spam (3.0 %)") {
		t.Errorf("the notice should carry the campaign's figures: %q", pub)
	}
	if h2, v := run(abuse.Spam, false, "ip:192.0.2.10"); v.Traffic != nil || h2.msg.Calls("messaging") != 0 {
		t.Errorf("a case about an address: traffic %+v, %d reads", v.Traffic, h2.msg.Calls("messaging"))
	}
	h, v = run(abuse.SMSSpam, true, "phone:+13125550142")
	if v.Traffic != nil || !strings.Contains(timelineOf(v), "could not be read") || len(h.publicComments()) == 0 {
		t.Errorf("a failed read: traffic %+v, notice %q\n%s", v.Traffic, h.publicComments(), timelineOf(v))
	}
}

// TestBlocklistAdviceNamesTheListThatListed: the advice of a case the blocklist watch opened
// lists the delisting page of the list that listed the address, not every monitored list; a
// listing reported by someone else (no list named) gets every monitored list's page.
func TestBlocklistAdviceNamesTheListThatListed(t *testing.T) {
	for _, tc := range []struct {
		id            string
		want, without []string
	}{
		{"dnsbl:zen.example:192.0.2.10:20261207T120000Z", []string{"https://zen.example/delist"}, []string{"https://other.example/delist"}},
		{"feed-report-7", []string{"https://zen.example/delist", "https://other.example/delist"}, nil},
	} {
		h := newHarness(t)
		h.pol.Monitoring.Blocklists = []policy.Blocklist{{Zone: "zen.example", Name: "Zen", Delist: "https://zen.example/delist"},
			{Zone: "other.example", Name: "Other", Delist: "https://other.example/delist"}}
		h.at(2*time.Hour, func() { h.agent("agent@desk.example", workflows.DecisionResolve, "") })
		h.runUncertain("acct-standard", abuse.Blocklist, func(r *workflows.ReportSummary) {
			r.ID, r.Confidence, r.Format, r.Reporter = tc.id, 0.95, "xarf-4", "blocklist-monitor@abusedesk.invalid"
		})
		pub := h.publicComments()
		if len(pub) == 0 {
			t.Fatalf("%s: no advice sent", tc.id)
		}
		for _, w := range tc.want {
			if !strings.Contains(pub[0], w) {
				t.Errorf("%s: the advice lacks %s:\n%s", tc.id, w, pub[0])
			}
		}
		for _, n := range tc.without {
			if strings.Contains(pub[0], n) {
				t.Errorf("%s: the advice names %s, a list that did not list it:\n%s", tc.id, n, pub[0])
			}
		}
	}
}
