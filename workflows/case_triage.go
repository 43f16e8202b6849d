package workflows

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"abusedesk/domain/abuse"
	"abusedesk/domain/policy"
)

// The triage gate: a case whose every report is uncertain (the parser unsure, category "other",
// sources that belong to several accounts) sends nothing. It opens an internal triage ticket and
// waits in needs_triage, with reminders and an SLA, until an agent confirms it (the notice goes
// out and the case goes on), reclassifies it (its reports move to the right account × category
// case and this one closes), closes it as not abuse, or routes it to a team. The wait never acts
// on the customer by itself.

// triageReason says why the case's reports need a person before anything is sent, or "" when
// at least one report is certain.
func (w *caseWorkflow) triageReason() string {
	var reasons []string
	for _, r := range w.st.Reports.Recent {
		why := reportDoubt(r, w.policy.Triage.Confidence)
		if why == "" {
			return ""
		}
		if !slices.Contains(reasons, why) {
			reasons = append(reasons, why)
		}
	}
	return strings.Join(reasons, "; ")
}

// versionEvidenceAge holds a case whose evidence is older than the policy's max_age for triage.
const versionEvidenceAge = "evidence-age"

// staleReason says why the case's evidence is too old to act on alone (the newest report's
// event is older than the policy's max_age), or "" (no limit, a confirmed report, or fresh
// evidence).
func (w *caseWorkflow) staleReason(now time.Time) string {
	rs, maxAge := w.st.Reports, w.st.Rules.MaxAge.D()
	if maxAge <= 0 || rs.LastSeen.IsZero() || !rs.LastSeen.Before(now.Add(-maxAge)) {
		return ""
	}
	if slices.ContainsFunc(rs.Recent, func(r ReportSummary) bool { return r.Confirmed }) {
		return ""
	}
	return fmt.Sprintf("the evidence is old: the newest report's event is from %s, more than the policy's max_age (%s) ago", fmtTime(rs.LastSeen), w.st.Rules.MaxAge)
}

// reportDoubt says why one report is uncertain, or "".
func reportDoubt(r ReportSummary, threshold float64) string {
	switch {
	case r.Confirmed:
		return ""
	case len(r.OtherAccounts) > 0:
		return "its sources also belong to " + strings.Join(r.OtherAccounts, ", ")
	case r.Category == abuse.Other:
		return "category other: the report's kind is unclear"
	case threshold > 0 && r.Confidence > 0 && r.Confidence < threshold:
		return fmt.Sprintf("the parser is unsure (confidence %.2f, below the policy's %.2f)", r.Confidence, threshold)
	}
	return ""
}

// holdForTriage opens the internal triage ticket and starts the wait.
func (w *caseWorkflow) holdForTriage(ctx workflow.Context, reason string) {
	now := workflow.Now(ctx)
	t := &TriageState{Reason: reason, Since: now, Due: now.Add(w.policy.Triage.SLA.D())}
	if w.policy.Triage.Hours != nil && workflow.GetVersion(ctx, versionBusinessHours, workflow.DefaultVersion, 1) >= 1 {
		t.Due = w.policy.Triage.Due(now) // working time on the triage team's calendar
	}
	// A trusted flagger's notice is decided with priority (DSA Art. 22): its own, shorter SLA.
	// (Only snapshots taken since the policy had trusted_sla carry it: older cases replay as
	// they ran.)
	if flagger := w.trustedFlagger(); flagger != "" {
		if d := (policy.Triage{SLA: w.policy.Triage.TrustedSLA, Hours: w.policy.Triage.Hours}).Due(now); d.Before(t.Due) {
			t.Due = d
			reason += " — a trusted flagger's notice (" + flagger + "): due sooner"
			t.Reason = reason
		}
	}
	w.st.Triage = t
	w.setStatus(StatusNeedsTriage)
	ref, ok := w.openInternal(ctx, TicketTriage)
	if !ok {
		return
	}
	t.Ticket = ref
	w.note(ctx, EventTriage, fmt.Sprintf("waiting for triage (ticket #%s): %s; due %s", ref.ID, reason, fmtTime(t.Due)), "")
	w.record(ctx, LedgerEvent{At: t.Since, Kind: LedgerTriageAsked, Text: reason})
}

// trustedFlagger is a reporter of the case that the policy names a trusted flagger, or "".
func (w *caseWorkflow) trustedFlagger() string {
	if w.policy.Triage.TrustedSLA <= 0 {
		return ""
	}
	for _, r := range w.st.Reports.Reporters {
		if w.policy.Triage.Trusted(r) {
			return r
		}
	}
	return ""
}

// awaitTriage waits for an agent's decision, posting reminders and alerting the leads at the
// SLA; a confirmed case sends its notice.
func (w *caseWorkflow) awaitTriage(ctx workflow.Context) {
	t := w.st.Triage
	if t.Decision == "" {
		w.goOnWhenCertain(ctx)
	}
	if t.Decision == DecisionConfirm {
		w.st.Ticket = TicketRef{} // the customer's ticket opens with the notice (or advice)
		if w.track().Rules().Advice {
			w.sendAdvice(ctx)
		} else {
			w.sendNotice(ctx)
		}
		return
	}
	next, isReminder := nextWake(t.Since, w.policy.Triage.Reminders, t.RemindersSent, t.Due, t.Breached)
	if !w.waitUntil(ctx, next) {
		return
	}
	w.drainSignals(ctx)
	if w.st.Status != StatusNeedsTriage || t.Decision != "" {
		return
	}
	data := w.noticeData(ctx)
	if isReminder {
		t.RemindersSent++
		data.Reminder = t.RemindersSent
		if w.notify(ctx, NotifyInput{Step: fmt.Sprintf("triage-reminder-%d", t.RemindersSent), Note: NoteTriageReminder, Status: TicketOpen, Data: data}) {
			w.note(ctx, EventTriage, fmt.Sprintf("triage reminder %d; due %s", t.RemindersSent, fmtTime(t.Due)), "")
		}
		return
	}
	t.Breached = true
	w.notify(ctx, NotifyInput{Step: "triage-sla", Note: NoteTriageReminder, Status: TicketOpen, Data: data})
	err := workflow.ExecuteActivity(withStep(ctx), ActivityAlert, AlertInput{Step: "triage-sla",
		Text: fmt.Sprintf("Case %s (%s, account %s) has waited for triage since %s, past its SLA (%s): %s. ticket #%s.",
			w.st.CaseNumber, w.st.Category, w.st.Account.ID, fmtTime(t.Since), fmtTime(t.Due), t.Reason, t.Ticket.ID)}).Get(ctx, nil)
	if err != nil {
		w.stepFailedNoReview(ctx, "alert the leads to the triage SLA", err)
	}
	w.note(ctx, EventTriage, "triage SLA passed; the leads were alerted. The case still waits for an agent.", "")
	w.record(ctx, LedgerEvent{At: t.Due, Kind: LedgerSLABreached, Decision: SLATriage})
}

// versionTriageCertain lets a case that waits for triage go on once a certain, fresh report
// arrives: confident reports about an account do not wait behind an uncertain one.
const versionTriageCertain = "triage-certain"

// goOnWhenCertain confirms the triage itself when the case now has a certain report and fresh
// evidence (issue 28, item 6): the triage ticket is told and solved, the timeline says which
// report let it go on, and the notice quotes only the certain reports. (The version marker is
// written only on the cases it changes.)
func (w *caseWorkflow) goOnWhenCertain(ctx workflow.Context) {
	now := workflow.Now(ctx)
	if w.triageReason() != "" || w.staleReason(now) != "" {
		return
	}
	var certain *ReportSummary
	for i := len(w.st.Reports.Recent) - 1; i >= 0; i-- {
		if r := &w.st.Reports.Recent[i]; reportDoubt(*r, w.policy.Triage.Confidence) == "" {
			certain = r
			break
		}
	}
	if certain == nil || workflow.GetVersion(ctx, versionTriageCertain, workflow.DefaultVersion, 1) < 1 {
		return
	}
	t := w.st.Triage
	why := fmt.Sprintf("a certain report arrived (%s, %s from %s, confidence %.2f)", certain.ID, certain.Format, cmp.Or(certain.Reporter, "an unnamed reporter"), certain.Confidence)
	t.Decision, t.DecidedBy, t.DecidedAt = DecisionConfirm, "the desk", now
	data := w.noticeData(ctx)
	data.Decision, data.DecidedBy = string(DecisionConfirm), "the desk"
	data.Note = "Confirmed by the desk: " + why + ". The uncertain reports stay on the case; the notice quotes the certain ones."
	w.notify(ctx, NotifyInput{Step: "triage-certain", Note: NoteDecision, Status: TicketSolved, Data: data})
	w.note(ctx, EventTriage, why+"; the case goes on without waiting for triage", "")
}

// validateTriage checks a triage decision.
func (w *caseWorkflow) validateTriage(d AgentDecision) error {
	if w.st.Status != StatusNeedsTriage || w.st.Triage == nil {
		return fmt.Errorf("%s is a triage decision; the case is %s", d.Decision, w.st.Status)
	}
	if t := w.st.Triage; t.Decision != "" {
		return fmt.Errorf("already triaged: %s by %s at %s", t.Decision, t.DecidedBy, fmtTime(t.DecidedAt))
	}
	switch d.Decision {
	case DecisionReclassify:
		acct, cat := cmp.Or(d.Account, w.st.Account.ID), cmp.Or(d.Category, w.st.Category)
		if !cat.Valid() {
			return fmt.Errorf("reclassify: %q is not a category", d.Category)
		}
		if acct == w.st.Account.ID && cat == w.st.Category {
			return fmt.Errorf("reclassify needs another account or category than this case's (%s, %s); to keep them, confirm", acct, cat)
		}
	case DecisionRoute:
		if strings.TrimSpace(d.Team) == "" {
			return fmt.Errorf("route needs the team it goes to")
		}
	}
	return nil
}

// onTriage applies a triage decision.
func (w *caseWorkflow) onTriage(ctx workflow.Context, d AgentDecision) string {
	t := w.st.Triage
	t.Decision, t.DecidedBy, t.DecidedAt = d.Decision, d.Agent, workflow.Now(ctx)
	data := w.noticeData(ctx)
	data.Decision, data.DecidedBy, data.Note = string(d.Decision), d.Agent, d.Note
	switch d.Decision {
	case DecisionConfirm:
		w.queueNotify("triage-confirmed", NotifyInput{Note: NoteDecision, Status: TicketSolved, Data: data})
		w.nudge()
		return "Confirmed: the notice goes to the customer now."
	case DecisionReclassify:
		acct, cat := cmp.Or(d.Account, w.st.Account.ID), cmp.Or(d.Category, w.st.Category)
		moved := slices.Clone(w.st.Reports.Recent)
		for i := range moved {
			moved[i].Category, moved[i].Confirmed, moved[i].OtherAccounts = cat, true, nil
		}
		w.effect("move the reports", func(ctx workflow.Context) error {
			return workflow.ExecuteActivity(withStep(ctx), ActivityForwardReports, ForwardReportsInput{
				Step: "reclassify", Account: acct, Category: cat, Reports: moved}).Get(ctx, nil)
		})
		data.Note = strings.TrimSpace(fmt.Sprintf("Reports moved to the %s case of account %s. %s", cat, acct, d.Note))
		w.queueNotify("triage-decision", NotifyInput{Note: NoteDecision, Data: data})
		w.closeQuietly(ctx, OutcomeReclassified, true, false)
		return fmt.Sprintf("Reclassified: %d report(s) go to the %s case of account %s.", len(moved), cat, acct)
	case DecisionNotAbuse:
		w.queueNotify("triage-decision", NotifyInput{Note: NoteDecision, Data: data})
		w.closeQuietly(ctx, OutcomeNotAbuse, true, true)
		return "Closed as not abuse; nothing was sent to the customer."
	default: // DecisionRoute
		data.Note = strings.TrimSpace("Routed to " + d.Team + ". " + d.Note)
		w.queueNotify("triage-decision", NotifyInput{Note: NoteDecision, Status: TicketOpen, Data: data})
		w.closeQuietly(ctx, OutcomeRouted, false, false)
		return "Routed to " + d.Team + "; the desk does not act on it."
	}
}
