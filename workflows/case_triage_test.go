package workflows_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"abusedesk/domain/abuse"
	"abusedesk/domain/calendar"
	"abusedesk/domain/policy"
	"abusedesk/domain/ticket"
	"abusedesk/workflows"
)

// runUncertain runs a case whose first report is uncertain in the given way.
func (h *harness) runUncertain(account string, category abuse.Category, doubt func(*workflows.ReportSummary)) {
	h.caseID = workflows.CaseWorkflowID(account, category)
	h.env.SetStartWorkflowOptions(testStartOptions(h.caseID))
	h.at(0, func() {
		r := workflows.ReportSummary{ID: "free-1", Format: "freeform", Category: category, Reporter: "victim@example.org",
			ReceivedAt: h.env.Now(), Subjects: abuse.ParseSubjects("ip:192.0.2.10"), Evidence: fmt.Sprintf("%064x", 7), Summary: "my server is flooded"}
		doubt(&r)
		h.evidence.Put(r.Evidence, []byte("raw report"))
		h.env.SignalWorkflow(workflows.SignalReports, workflows.NewReportsSignal([]workflows.ReportSummary{r}))
	})
	h.env.ExecuteWorkflow(workflows.CaseWorkflowType, workflows.CaseInput{AccountID: account, Category: category, Policy: h.pol.Snapshot(category)})
}

func unsure(r *workflows.ReportSummary) { r.Confidence = 0.4 }

// noPublicWord fails when a ticket other than a reporter's acknowledgement carries a public
// comment (an email to its requester): neither the customer nor the triage ticket's requester
// hears anything.
func (h *harness) noPublicWord(t *testing.T) {
	t.Helper()
	for _, tk := range h.tickets.All() {
		if strings.Contains(strings.Join(tk.Tags, " "), ticket.TagReporter) {
			continue
		}
		for _, c := range tk.Comments {
			if c.Public {
				t.Errorf("ticket #%s (%s) has a public comment: %q", tk.ID, tk.RequesterEmail, c.Body)
			}
		}
	}
}

func (h *harness) triageTicket(t *testing.T) string {
	t.Helper()
	for _, tk := range h.tickets.All() {
		if strings.Contains(strings.Join(tk.Tags, " "), ticket.TagNeedsTriage) {
			return tk.ID
		}
	}
	t.Fatal("no triage ticket")
	return ""
}

// An uncertain report waits for triage with nothing sent: reminders are internal notes, the SLA
// alerts the leads, and weeks later the case still waits and has acted on nothing. "Not abuse"
// closes it without a word to the customer.
func TestTriageGateWaitsAndNeverActs(t *testing.T) {
	h := newHarness(t)
	var waiting workflows.CaseView
	h.at(30*24*time.Hour, func() { waiting = h.view() })
	var closed *updateOutcome
	h.at(30*24*time.Hour+time.Minute, func() { closed = h.agent("agent@desk.example", workflows.DecisionNotAbuse, "a misdirected complaint") })
	h.runUncertain("acct-standard", abuse.Spam, unsure)

	if waiting.Status != workflows.StatusNeedsTriage || waiting.Triage == nil || !waiting.Triage.Breached || waiting.Triage.RemindersSent != 2 {
		t.Fatalf("after 30 days: %s triage %+v; want needs_triage, 2 reminders, SLA breached", waiting.Status, waiting.Triage)
	}
	if !strings.Contains(waiting.Triage.Reason, "confidence 0.40") {
		t.Errorf("reason %q does not say the parser was unsure", waiting.Triage.Reason)
	}
	wantAccepted(t, "not abuse", closed)
	res := h.result()
	if res.Outcome != workflows.OutcomeNotAbuse {
		t.Errorf("outcome %s, want not_abuse", res.Outcome)
	}
	h.noPublicWord(t)
	if n := len(h.enf.Actions()); n != 0 {
		t.Errorf("%d enforcement actions on a case nobody confirmed", n)
	}
	acks := 0
	for _, tk := range h.tickets.All() {
		if strings.Contains(strings.Join(tk.Tags, " "), ticket.TagReporter) && tk.RequesterEmail == "victim@example.org" {
			acks++
		}
	}
	if acks != 1 {
		t.Errorf("%d acknowledgements to the reporter, want 1 (policy acknowledge_reporters)", acks)
	}
	if a := h.alerts.Texts(); len(a) != 1 || !strings.Contains(a[0], "past its SLA") {
		t.Errorf("alerts %q, want one SLA alert", a)
	}
	tk, _ := h.tickets.Get(h.triageTicket(t))
	if tk.Status != workflows.TicketSolved || tk.RequesterEmail != "victim@example.org" || len(tk.Comments) < 4 {
		t.Errorf("triage ticket: status %s, requester %s, %d comments; want solved, the reporter, note + 2 reminders + SLA + decision",
			tk.Status, tk.RequesterEmail, len(tk.Comments))
	}
}

// Confirm sends the notice in the customer's own ticket and the case goes on as usual.
func TestTriageConfirmSendsTheNotice(t *testing.T) {
	h := newHarness(t)
	var before, after workflows.CaseView
	h.at(20*time.Minute, func() { before = h.view() })
	var confirm *updateOutcome
	h.at(30*time.Minute, func() { confirm = h.agent("agent@desk.example", workflows.DecisionConfirm, "") })
	h.at(40*time.Minute, func() { after = h.view() })
	h.at(50*time.Minute, func() { h.agent("agent@desk.example", workflows.DecisionResolve, "test over") })
	h.runUncertain("acct-standard", abuse.Spam, func(r *workflows.ReportSummary) { r.Category = abuse.Other })

	wantAccepted(t, "confirm", confirm)
	if before.Status != workflows.StatusNeedsTriage || !strings.Contains(before.Triage.Reason, "category other") {
		t.Errorf("before confirm: %s, %+v; want needs_triage for category other", before.Status, before.Triage)
	}
	if after.Status != workflows.StatusAwaitingResponse || after.Ticket.ID == before.Ticket.ID {
		t.Errorf("after confirm: %s in ticket #%s (triage ticket #%s); want awaiting_response in the customer's own ticket",
			after.Status, after.Ticket.ID, before.Ticket.ID)
	}
	notice, _ := h.tickets.Get(after.Ticket.ID)
	if notice.RequesterEmail != "ops@shop.example" || len(notice.Comments) == 0 || !notice.Comments[0].Public {
		t.Errorf("notice ticket: requester %s, comments %d; want the customer, a public notice", notice.RequesterEmail, len(notice.Comments))
	}
	triage, _ := h.tickets.Get(before.Ticket.ID)
	if triage.Status != workflows.TicketSolved {
		t.Errorf("triage ticket %s after confirm, want solved", triage.Status)
	}
}

// Reclassify moves the reports (marked confirmed, in their new category) to the case of
// another account or category and closes this one; route closes it and leaves the ticket with
// the team. Neither says a word to the customer.
func TestTriageReclassifyAndRoute(t *testing.T) {
	t.Run("reclassify", func(t *testing.T) {
		h := newHarness(t)
		var same, moved *updateOutcome
		h.at(time.Minute, func() {
			same = h.decide(workflows.AgentDecision{Decision: workflows.DecisionReclassify, Agent: "agent@desk.example"})
		})
		h.at(2*time.Minute, func() {
			moved = h.decide(workflows.AgentDecision{Decision: workflows.DecisionReclassify, Agent: "agent@desk.example",
				Account: "acct-bank", Category: abuse.DoS, Note: "the complainant's own server was named first"})
		})
		h.runUncertain("acct-standard", abuse.Spam, func(r *workflows.ReportSummary) { r.OtherAccounts = []string{"acct-bank"} })

		wantRejected(t, "reclassify into the same case", same, "another account or category")
		wantAccepted(t, "reclassify", moved)
		if res := h.result(); res.Outcome != workflows.OutcomeReclassified {
			t.Errorf("outcome %s, want reclassified", res.Outcome)
		}
		m := h.fwd.Moves()
		if len(m) != 1 || m[0].Account != "acct-bank" || m[0].Category != abuse.DoS || len(m[0].Reports) != 1 ||
			!m[0].Reports[0].Confirmed || m[0].Reports[0].Category != abuse.DoS || len(m[0].Reports[0].OtherAccounts) != 0 {
			t.Errorf("moves %+v; want the one report, confirmed, as dos, to acct-bank", m)
		}
		h.noPublicWord(t)
	})
	t.Run("route", func(t *testing.T) {
		h := newHarness(t)
		var noTeam, routed *updateOutcome
		h.at(time.Minute, func() { noTeam = h.agent("agent@desk.example", workflows.DecisionRoute, "") })
		h.at(2*time.Minute, func() {
			routed = h.decide(workflows.AgentDecision{Decision: workflows.DecisionRoute, Agent: "agent@desk.example", Team: "security"})
		})
		h.runUncertain("acct-standard", abuse.Spam, unsure)

		wantRejected(t, "route without a team", noTeam, "needs the team")
		wantAccepted(t, "route", routed)
		if res := h.result(); res.Outcome != workflows.OutcomeRouted {
			t.Errorf("outcome %s, want routed", res.Outcome)
		}
		if tk, _ := h.tickets.Get(h.triageTicket(t)); tk.Status == workflows.TicketSolved {
			t.Error("a routed ticket was solved; the team works on it")
		}
		h.noPublicWord(t)
	})
}

// Triage decisions only apply in needs_triage, once; a certain report is never held.
func TestTriageDecisionsRefusedOutsideTheGate(t *testing.T) {
	h := newHarness(t)
	var confirm *updateOutcome
	var status workflows.Status
	h.at(time.Hour, func() {
		status = h.view().Status
		confirm = h.agent("agent@desk.example", workflows.DecisionConfirm, "")
	})
	h.at(2*time.Hour, func() { h.agent("agent@desk.example", workflows.DecisionResolve, "test over") })
	h.run("acct-standard", abuse.Spam, 1)

	if status != workflows.StatusAwaitingResponse {
		t.Errorf("a certain report: %s, want awaiting_response (no triage)", status)
	}
	wantRejected(t, "confirm outside triage", confirm, "triage decision")

	h2 := newHarness(t)
	var first, second *updateOutcome
	h2.at(time.Minute, func() {
		first = h2.agent("agent@desk.example", workflows.DecisionNotAbuse, "")
		second = h2.agent("reviewer@desk.example", workflows.DecisionConfirm, "")
	})
	h2.runUncertain("acct-standard", abuse.Spam, unsure)
	wantAccepted(t, "first decision", first)
	// Refused as already triaged, or (once the first decision closed the case) as a triage
	// decision on a resolved case.
	wantRefused(t, "a second decision in the same task", second, "triage")
}

// The triage SLA on a calendar counts working time only: an uncertain report at Friday 16:00
// with a 4-hour SLA on Mon–Fri 09:00–17:00 UTC, Monday a holiday, is due Tuesday 12:00; the
// alert comes then, not on Friday evening.
func TestTriageSLAOnACalendar(t *testing.T) {
	h := newHarness(t)
	friday := time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC)
	h.env.SetStartTime(friday)
	open, close, err := calendar.ParseHours("09:00-17:00")
	if err != nil {
		t.Fatal(err)
	}
	cal := &calendar.Calendar{Zone: "UTC", Days: []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday},
		Open: open, Close: close, Holidays: []string{"2026-12-07"}}
	if err := cal.Resolve(friday); err != nil {
		t.Fatal(err)
	}
	h.pol.Triage.SLA, h.pol.Triage.Reminders, h.pol.Triage.Calendar, h.pol.Triage.Hours = policy.Duration(4*time.Hour), nil, "triage-team", cal
	var monday, tuesday workflows.CaseView
	h.at(3*24*time.Hour, func() { monday = h.view() })              // Monday 16:00 (a holiday)
	h.at(4*24*time.Hour-3*time.Hour, func() { tuesday = h.view() }) // Tuesday 13:00
	h.at(5*24*time.Hour, func() { h.agent("agent@desk.example", workflows.DecisionNotAbuse, "done") })
	h.runUncertain("acct-standard", abuse.Spam, unsure)

	want := time.Date(2026, 12, 8, 12, 0, 0, 0, time.UTC)
	if monday.Triage == nil || !monday.Triage.Due.Equal(want) || monday.Triage.Breached {
		t.Fatalf("on the holiday Monday: triage %+v, want due %s and not breached", monday.Triage, want)
	}
	if tuesday.Triage == nil || !tuesday.Triage.Breached {
		t.Errorf("on Tuesday 13:00: triage %+v, want the SLA breached", tuesday.Triage)
	}
}

// An appeal's decision SLA on the reviewers' calendar counts working time only: an appeal on
// Monday 09:00 with a 48-hour SLA on Mon–Fri 09:00–17:00 UTC is due the Monday after, 17:00.
func TestAppealSLAOnACalendar(t *testing.T) {
	h := newHarness(t)
	friday := time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)
	h.env.SetStartTime(friday)
	open, close, _ := calendar.ParseHours("09:00-17:00")
	cal := &calendar.Calendar{Zone: "UTC", Days: []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}, Open: open, Close: close}
	if err := cal.Resolve(friday); err != nil {
		t.Fatal(err)
	}
	r := h.pol.Categories[abuse.Spam]
	r.Appeal.Calendar, r.Appeal.Hours = "reviewers", cal
	h.pol.Categories[abuse.Spam] = r
	h.at(73*time.Hour, func() { h.reply(workflows.ReplyKindAnswer, "appeal-1") }) // Monday 09:00
	var v workflows.CaseView
	h.at(74*time.Hour, func() { v = h.view() })
	h.at(80*time.Hour, func() { h.agent("reviewer@desk.example", workflows.DecisionGrantAppeal, "fixed") })
	h.run("acct-standard", abuse.Spam, 1)

	if want := time.Date(2026, 12, 14, 17, 0, 0, 0, time.UTC); v.Status != workflows.StatusAppealReview || !v.Deadline.Equal(want) {
		t.Errorf("appeal under review: %s, deadline %s (%s), want the appeal decision due %s", v.Status, v.Deadline, v.DeadlineKind, want)
	}
}

// TestStaleEvidenceWaitsForAPerson: a report whose event is older than the policy's max_age is
// kept and shown, but the case sends nothing and starts no deadline: it waits for triage,
// saying why; a person who confirms it lets it go on.
func TestStaleEvidenceWaitsForAPerson(t *testing.T) {
	h := newHarness(t)
	var held workflows.CaseView
	var confirmed *updateOutcome
	publicBefore := -1
	h.at(time.Minute, func() {
		held, publicBefore = h.view(), 0
		for _, tk := range h.tickets.All() {
			for _, c := range tk.Comments {
				if c.Public {
					publicBefore++
				}
			}
		}
	})
	h.at(time.Hour, func() {
		confirmed = h.agent("agent@desk.example", workflows.DecisionConfirm, "still spamming: we checked")
	})
	h.at(2*time.Hour, func() { h.agent("agent@desk.example", workflows.DecisionResolve, "") })
	h.runUncertain("acct-standard", abuse.Spam, func(r *workflows.ReportSummary) {
		r.Confidence, r.EventTime = 0.9, h.env.Now().Add(-60*24*time.Hour)
	})
	if held.Status != workflows.StatusNeedsTriage || held.Triage == nil || !strings.Contains(held.Triage.Reason, "the evidence is old") {
		t.Fatalf("a 60-day-old report: %s %+v; want triage saying the evidence is old", held.Status, held.Triage)
	}
	wantAccepted(t, "confirm", confirmed)
	if publicBefore != 0 || held.Deadline.IsZero() || held.DeadlineKind != "triage" {
		t.Errorf("while held: %d public comments, deadline %v (%s); want none, the triage SLA only", publicBefore, held.Deadline, held.DeadlineKind)
	}
}

// Reports that arrive while a case waits for triage are listed on the triage ticket (an internal
// note each batch, naming what they report), so the person deciding sees all the case will act on.
func TestTriageTicketListsLaterReports(t *testing.T) {
	h := newHarness(t)
	h.at(time.Hour, func() {
		h.env.SignalWorkflow(workflows.SignalReports, workflows.NewReportsSignal([]workflows.ReportSummary{
			{ID: "later-1", Format: "freeform", Category: abuse.Spam, Reporter: "a@isp.example", ReceivedAt: h.env.Now(), Subjects: abuse.ParseSubjects("ip:192.0.2.77"), Summary: "a later complaint", Confidence: 0.4},
			{ID: "later-2", Format: "freeform", Category: abuse.Spam, Reporter: "b@isp.example", ReceivedAt: h.env.Now(), Subjects: abuse.ParseSubjects("ip:192.0.2.78"), Summary: "another later complaint", Confidence: 0.4},
		}))
	})
	h.at(2*time.Hour, func() { h.agent("agent@desk.example", workflows.DecisionNotAbuse, "misdirected") })
	h.runUncertain("acct-standard", abuse.Spam, unsure)

	tk, _ := h.tickets.Get(h.triageTicket(t))
	var listed bool
	for _, c := range tk.Comments {
		if !c.Public && strings.Contains(c.Body, "2 more reports arrived while case") && strings.Contains(c.Body, "192.0.2.77") && strings.Contains(c.Body, "192.0.2.78") {
			listed = true
		}
	}
	if !listed {
		var bodies []string
		for _, c := range tk.Comments {
			bodies = append(bodies, c.Body)
		}
		t.Errorf("the triage ticket does not list the later reports:\n%s", strings.Join(bodies, "\n---\n"))
	}
	h.noPublicWord(t)
}

// TestTriageGoesOnWhenACertainReportArrives: a case waiting for triage on an uncertain report
// goes on by itself once a certain report about the account arrives — the triage ticket says
// why and is solved, the notice goes out quoting the certain report only — while uncertain
// reports alone keep it waiting.
func TestTriageGoesOnWhenACertainReportArrives(t *testing.T) {
	h := newHarness(t)
	var waiting, goneOn workflows.CaseView
	h.at(time.Hour, func() {
		h.env.SignalWorkflow(workflows.SignalReports, workflows.NewReportsSignal([]workflows.ReportSummary{
			{ID: "still-unsure", Format: "freeform", Category: abuse.Spam, Reporter: "b@isp.example", ReceivedAt: h.env.Now(), Subjects: abuse.ParseSubjects("ip:192.0.2.66"), Summary: "maybe spam", Confidence: 0.3}}))
	})
	h.at(2*time.Hour, func() { waiting = h.view() })
	h.at(3*time.Hour, func() {
		h.env.SignalWorkflow(workflows.SignalReports, workflows.NewReportsSignal([]workflows.ReportSummary{
			{ID: "fbl-sure", Format: "arf", Category: abuse.Spam, Reporter: "fbl@isp.example", ReceivedAt: h.env.Now(), Subjects: abuse.ParseSubjects("ip:192.0.2.77"), Summary: "an FBL complaint", Confidence: 0.95}}))
	})
	h.at(4*time.Hour, func() { goneOn = h.view() })
	h.at(5*time.Hour, func() { h.agent("agent@desk.example", workflows.DecisionResolve, "") })
	h.runUncertain("acct-standard", abuse.Spam, unsure)

	if waiting.Status != workflows.StatusNeedsTriage {
		t.Fatalf("with uncertain reports only the case is %s, want needs_triage", waiting.Status)
	}
	if goneOn.Status != workflows.StatusAwaitingResponse || goneOn.Triage == nil || goneOn.Triage.Decision != workflows.DecisionConfirm || goneOn.Triage.DecidedBy != "the desk" {
		t.Fatalf("after a certain report: %s, triage %+v; want awaiting_response, confirmed by the desk", goneOn.Status, goneOn.Triage)
	}
	said := false
	for _, e := range goneOn.Timeline {
		said = said || strings.Contains(e.Text, "a certain report arrived (fbl-sure")
	}
	if !said {
		t.Errorf("the timeline does not say which report let the case go on")
	}
	tk, _ := h.tickets.Get(h.triageTicket(t))
	var told bool
	for _, c := range tk.Comments {
		told = told || !c.Public && strings.Contains(c.Body, "Confirmed by the desk: a certain report arrived")
	}
	if !told || tk.Status != workflows.TicketSolved {
		t.Errorf("triage ticket #%s (%s) was not told and solved", tk.ID, tk.Status)
	}
	var notice string
	for _, tk := range h.tickets.All() {
		for _, c := range tk.Comments {
			if c.Public && strings.Contains(c.Body, "192.0.2.77") {
				notice = c.Body
			}
		}
	}
	if notice == "" || strings.Contains(notice, "192.0.2.66") || strings.Contains(notice, "192.0.2.10") {
		t.Errorf("the notice quotes %q; want the certain report's address only", notice)
	}
}

// TestTrustedFlaggerTriageSLA: a case holding a trusted flagger's notice is due for triage at
// the policy's trusted_sla, not the SLA everyone else gets, and says why; another reporter's
// case keeps the usual SLA.
func TestTrustedFlaggerTriageSLA(t *testing.T) {
	for _, tc := range []struct {
		name    string
		flagger string
		due     time.Duration
	}{{"a trusted flagger", "@example.org", time.Hour}, {"another reporter", "@hotline.example", 4 * time.Hour}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.pol.Triage.SLA, h.pol.Triage.TrustedSLA = policy.Duration(4*time.Hour), policy.Duration(time.Hour)
			h.pol.Transparency.TrustedFlaggers = []string{tc.flagger}
			start := h.env.Now()
			var v workflows.CaseView
			h.at(10*time.Minute, func() { v = h.view() })
			h.at(5*time.Hour, func() { h.agent("agent@desk.example", workflows.DecisionNotAbuse, "done") })
			h.runUncertain("acct-standard", abuse.Spam, unsure)
			if v.Triage == nil || !v.Triage.Due.Equal(start.Add(tc.due)) {
				t.Fatalf("triage %+v, want due %s after the start", v.Triage, tc.due)
			}
			if trusted := strings.Contains(v.Triage.Reason, "trusted flagger"); trusted != (tc.due == time.Hour) {
				t.Errorf("reason %q: says trusted flagger %v", v.Triage.Reason, trusted)
			}
		})
	}
}
