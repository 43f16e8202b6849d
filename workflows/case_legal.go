package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"abusedesk/domain/abuse"
)

// A legal matter's lifecycle (matters opened from versionLegalLifecycle on): the request is
// received (the authority gets an acknowledgement of receipt), validated, preserved (a clock
// with a reminder before it lapses, extension and release), produced under an order, or
// rejected; further requests and orders from the same authority about the same account join
// the open matter, each with its own due time and receipt; the legal team closes it
// explicitly, and the authority gets the final answer. Nothing ever reaches the customer.

// versionLegalLifecycle gates the lifecycle: matters opened before it close on their first
// decision but ask_more, as they did.
const versionLegalLifecycle = "legal-lifecycle"

// onLegalStep applies a legal step to a matter with a lifecycle; only close_matter closes it.
func (w *caseWorkflow) onLegalStep(ctx workflow.Context, d AgentDecision) string {
	l := w.st.Legal
	now := workflow.Now(ctx)
	rules := w.policy.Legal
	var msg string
	switch d.Decision {
	case DecisionAskMore:
		msg = "Recorded: more asked of the requester; the matter stays open, due " + fmtTime(l.Due) + "."
	case DecisionValidate:
		l.Stage, l.Answered = LegalValidated, true
		msg = "Recorded: the request is valid. Preserve, disclose or reject next; the matter stays open."
	case DecisionPreserve:
		until := now.Add(rules.PreservationPeriod())
		if p := l.Preservation; p.Active(now) {
			if until.After(p.Until) {
				p.Until = until // a further preservation request keeps the records longer
			}
			p.ReminderSent = false
		} else {
			l.Preservation = &Preservation{Since: now, Until: until}
		}
		l.Stage, l.Answered = LegalPreserved, true
		w.note(ctx, EventLegal, "records preserved until "+fmtTime(l.Preservation.Until), d.Agent)
		msg = "Recorded: records preserved until " + fmtTime(l.Preservation.Until) + "; the matter stays open for an order that may follow. Nothing was sent to the customer."
	case DecisionExtendPreservation:
		p := l.Preservation
		p.Until, p.Extensions, p.ReminderSent = p.Until.Add(rules.ExtensionPeriod()), p.Extensions+1, false
		w.note(ctx, EventLegal, fmt.Sprintf("preservation extended (%d) until %s", p.Extensions, fmtTime(p.Until)), d.Agent)
		msg = "Recorded: the preservation runs until " + fmtTime(p.Until) + "."
	case DecisionReleasePreservation:
		l.Preservation.ReleasedAt = now
		w.note(ctx, EventLegal, "preservation released; the records are kept no longer for this matter", d.Agent)
		msg = "Recorded: the preservation is released. Close the matter when nothing else is pending."
	case DecisionDisclose:
		l.Disclosures++
		l.Stage, l.Answered = LegalProduced, true
		msg = fmt.Sprintf("Recorded: production %d under the order; the matter stays open. Nothing was sent to the customer.", l.Disclosures)
	case DecisionReject:
		l.Stage, l.Answered = LegalRejected, true
		msg = "Recorded: the request is rejected; the matter stays open until it is closed."
	case DecisionNotLegal:
		// Back to the abuse desk: the reports go to the account's case of their category (as
		// confirmed reports), and the matter closes without an answer to its sender.
		moved := slices.Clone(w.st.Reports.Recent)
		for i := range moved {
			moved[i].Category, moved[i].Confirmed, moved[i].LegalKind, moved[i].Deadline = d.Category, true, "", time.Time{}
		}
		account, cat := w.st.Account.ID, d.Category
		w.effect("return the reports to the abuse desk", func(ctx workflow.Context) error {
			return workflow.ExecuteActivity(withStep(ctx), ActivityForwardReports, ForwardReportsInput{
				Step: "not-legal", Account: account, Category: cat, Reports: moved}).Get(ctx, nil)
		})
		data := w.noticeData(ctx)
		data.Decision, data.DecidedBy, data.Note = string(d.Decision), d.Agent, strings.TrimSpace("Not a legal matter: the reports went to the "+string(cat)+" case of account "+account+". "+d.Note)
		w.queueNotify(fmt.Sprintf("legal-decision-%d", len(l.Decisions)), NotifyInput{Note: NoteDecision, Data: data})
		w.closeQuietly(ctx, OutcomeReclassified, true, false)
		return fmt.Sprintf("Returned to the abuse desk: %d report(s) went to the %s case of account %s; the matter is closed.", len(moved), cat, account)
	case DecisionCloseMatter:
		outcome := l.outcome()
		data := w.noticeData(ctx)
		data.Decision, data.DecidedBy, data.Note, data.Outcome = string(d.Decision), d.Agent, d.Note, outcome
		w.queueNotify(fmt.Sprintf("legal-decision-%d", len(l.Decisions)), NotifyInput{Note: NoteDecision, Data: data})
		answered := w.answerAuthority(ctx, data)
		w.closeQuietly(ctx, outcome, true, false)
		msg = "Recorded: the matter is closed (" + string(outcome) + ")" + answered + ". Nothing was sent to the customer."
		return msg
	}
	data := w.noticeData(ctx)
	data.Decision, data.DecidedBy, data.Note = string(d.Decision), d.Agent, d.Note
	w.queueNotify(fmt.Sprintf("legal-decision-%d", len(l.Decisions)), NotifyInput{Note: NoteDecision, Data: data})
	return msg
}

// outcome is how a matter ends: by what was done under it, the most that was done first.
func (l *LegalState) outcome() Outcome {
	switch {
	case l.Disclosures > 0:
		return OutcomeDisclosed
	case l.Preservation != nil:
		return OutcomePreserved
	case l.Stage == LegalRejected:
		return OutcomeRejected
	}
	return OutcomeResolved
}

// receipts says whether the desk writes to the authority itself: a legal request (not a
// hotline's CSAM notice) on a matter with a lifecycle, unless the policy leaves it to people.
func (w *caseWorkflow) receipts() bool {
	l := w.st.Legal
	return l != nil && l.Lifecycle && w.st.Category == abuse.LegalRequest && w.policy.Legal.SendsReceipts()
}

// sendReceipt acknowledges the latest request to the authority, on the restricted ticket, in
// the request's language.
func (w *caseWorkflow) sendReceipt(ctx workflow.Context) {
	if !w.receipts() {
		return
	}
	l := w.st.Legal
	data := w.noticeData(ctx)
	if data.Authority == "" {
		w.note(ctx, EventLegal, "no acknowledgement of receipt: the request names no sender to answer", "")
		return
	}
	l.ReceiptsSent++
	w.queueNotify(fmt.Sprintf("legal-receipt-%d", l.ReceiptsSent), NotifyInput{Public: NoticeLegalReceipt, Status: TicketOpen, Data: data})
	w.note(ctx, EventLegal, "acknowledgement of receipt to "+data.Authority+langNote(data.AuthorityLocale), "")
	if workflow.GetVersion(ctx, versionReceiptLedger, workflow.DefaultVersion, 1) >= 1 {
		w.record(ctx, LedgerEvent{Kind: LedgerLegalReceipt}) // the transparency report's time to confirm receipt
	}
}

// answerAuthority sends the authority the final answer as the matter closes (the legal
// team's note is its body); it says so for the decision's message.
func (w *caseWorkflow) answerAuthority(ctx workflow.Context, data NoticeData) string {
	if !w.receipts() || data.Authority == "" {
		return ""
	}
	w.queueNotify("legal-answer", NotifyInput{Public: NoticeLegalAnswer, Data: data})
	w.note(ctx, EventLegal, "final answer to "+data.Authority+langNote(data.AuthorityLocale), "")
	return "; the final answer went to " + data.Authority
}

func langNote(locale string) string {
	if locale == "" {
		return ""
	}
	return " (in " + locale + ")"
}

// onLegalRequest: a further request or order from the authority joined the open matter (a
// production order after a preservation, say). It gets its own due time and receipt, its
// evidence is held, and the legal team is told.
func (w *caseWorkflow) onLegalRequest(ctx workflow.Context, n int, latest *ReportSummary, evidence []string) {
	l := w.st.Legal
	now := workflow.Now(ctx)
	l.Requests += n
	l.Since, l.Due, l.RemindersSent, l.Breached, l.Answered = now, w.policy.Legal.DueAt(now), 0, false, false
	if latest != nil {
		w.readRequest(*latest, now)
	}
	w.note(ctx, EventLegal, fmt.Sprintf("request %d%s joined the matter; due %s%s", l.Requests, kindNote(l.Kind), fmtTime(l.Due), statedNote(l)), "")
	data := w.noticeData(ctx)
	w.queueNotify(fmt.Sprintf("legal-request-%d", l.Requests), NotifyInput{Note: NoteLegalOrder, Status: TicketOpen, Data: data})
	key := w.st.CaseID + " " + w.st.CaseNumber
	text := fmt.Sprintf("Request %d joined legal matter %s (account %s); restricted ticket #%s, due %s.", l.Requests, w.st.CaseNumber, w.st.Account.ID, w.st.Ticket.ID, fmtTime(l.Due))
	step := fmt.Sprintf("request-%d", l.Requests)
	w.effect("hold the evidence of a further request", func(ctx workflow.Context) error {
		if len(evidence) == 0 {
			return nil
		}
		// A hold is kept per matter and replaced whole: it names every piece, old and new.
		all := append(slices.Clone(l.Held), evidence...)
		if err := workflow.ExecuteActivity(withStep(ctx), ActivityHoldEvidence, HoldInput{Key: key, Digests: all, Reason: fmt.Sprintf("%s: %d requests", w.st.Category, l.Requests)}).Get(ctx, nil); err != nil {
			return err
		}
		l.Held = all
		return nil
	})
	w.effect("alert the legal team", func(ctx workflow.Context) error {
		return workflow.ExecuteActivity(withStep(ctx), ActivityAlert, AlertInput{Step: "legal-" + step, Channel: AlertChannelLegal, Text: text}).Get(ctx, nil)
	})
	w.effect("page the legal on-call", func(ctx workflow.Context) error {
		w.pageOnCall(ctx, step)
		return nil
	})
	w.sendReceipt(ctx)
}

// readRequest takes what a request says of itself: its kind, and the deadline it states,
// which becomes the matter's due time when it is earlier than the policy's; an emergency
// disclosure request is due within the policy's emergency window.
func (w *caseWorkflow) readRequest(r ReportSummary, now time.Time) {
	l := w.st.Legal
	l.Kind, l.StatedDue = r.LegalKind, r.Deadline
	if !r.Deadline.IsZero() && r.Deadline.Before(l.Due) {
		l.Due = r.Deadline
	}
	if r.LegalKind == legalEmergency {
		if due := now.Add(w.policy.Legal.EmergencyWindow()); due.Before(l.Due) {
			l.Due = due
		}
	}
}

// legalEmergency is the kind of an emergency disclosure request (reports.LegalEmergency).
const legalEmergency = "emergency"

// pageOnCall pages the legal on-call in the legal channel for an emergency disclosure request.
func (w *caseWorkflow) pageOnCall(ctx workflow.Context, step string) {
	l := w.st.Legal
	if l == nil || l.Kind != legalEmergency {
		return
	}
	oncall := w.policy.Legal.OnCall
	text := fmt.Sprintf("EMERGENCY disclosure request (a threat to life) on legal matter %s, account %s: due %s; restricted ticket #%s.",
		w.st.CaseNumber, w.st.Account.ID, fmtTime(l.Due), w.st.Ticket.ID)
	if len(oncall.Users)+len(oncall.Groups) == 0 {
		text += " No legal on-call is set (policy legal.oncall): whoever reads this, call the legal team."
	}
	err := workflow.ExecuteActivity(withStep(ctx), ActivityAlert, AlertInput{Step: "legal-emergency-" + step, Channel: AlertChannelLegal, Text: text, Page: oncall}).Get(ctx, nil)
	if err != nil {
		w.stepFailedNoReview(ctx, "page the legal on-call", err)
		return
	}
	w.note(ctx, EventLegal, "emergency disclosure request: the legal on-call was paged", "")
}

func kindNote(kind string) string {
	if kind == "" {
		return ""
	}
	return " (" + kind + ")"
}

func statedNote(l *LegalState) string {
	if l.StatedDue.IsZero() {
		return ""
	}
	return "; the request states " + fmtTime(l.StatedDue)
}

// legalClock is one of a matter's clocks: when it runs out and what it is.
type legalClock struct {
	at   time.Time
	kind string // reminder, due, preservation-reminder, preservation-end
}

// legalClocks are the matter's clocks still to run out: the latest request's reminders and due
// time until it is answered, the preservation's reminder and its end while records are kept.
func (w *caseWorkflow) legalClocks() []legalClock {
	l := w.st.Legal
	var out []legalClock
	if !l.Answered {
		sent := l.RemindersSent
		for sent < len(w.policy.Legal.Reminders) && !l.Since.Add(w.policy.Legal.Reminders[sent].D()).Before(l.Due) {
			sent++ // a reminder at or after an earlier due time the request stated: the due alert says it
		}
		if at, reminder := nextWake(l.Since, w.policy.Legal.Reminders, sent, l.Due, l.Breached); !at.IsZero() {
			out = append(out, legalClock{at, map[bool]string{true: "reminder", false: "due"}[reminder]})
		}
	}
	if p := l.Preservation; p.Running() {
		if !p.ReminderSent {
			out = append(out, legalClock{p.Until.Add(-w.policy.Legal.PreservationReminderBefore()), "preservation-reminder"})
		}
		out = append(out, legalClock{p.Until, "preservation-end"})
	}
	return out
}

// awaitLegalMatter waits for the legal team or the next clock, and does what each clock that
// ran out asks.
func (w *caseWorkflow) awaitLegalMatter(ctx workflow.Context) {
	var next time.Time
	for _, c := range w.legalClocks() {
		if next.IsZero() || c.at.Before(next) {
			next = c.at
		}
	}
	if !w.waitUntil(ctx, next) {
		return
	}
	w.drainSignals(ctx)
	if w.st.Status != StatusLegalReview {
		return
	}
	now := workflow.Now(ctx)
	for _, c := range w.legalClocks() { // again: a request or a decision may have moved them
		if !c.at.After(now) {
			w.legalClockRanOut(ctx, c)
		}
	}
}

func (w *caseWorkflow) legalClockRanOut(ctx workflow.Context, c legalClock) {
	l := w.st.Legal
	data := w.noticeData(ctx)
	switch c.kind {
	case "reminder":
		l.RemindersSent++
		data.Reminder = l.RemindersSent
		w.queueNotify(fmt.Sprintf("legal-%d-reminder-%d", l.Requests, l.RemindersSent), NotifyInput{Note: NoteLegalReminder, Status: TicketOpen, Data: data})
		w.alertLegal(ctx, fmt.Sprintf("%d-reminder-%d", l.Requests, l.RemindersSent), fmt.Sprintf("Reminder %d: legal matter %s (account %s) is due %s; ticket #%s.",
			l.RemindersSent, w.st.CaseNumber, w.st.Account.ID, fmtTime(l.Due), w.st.Ticket.ID))
		w.note(ctx, EventLegal, fmt.Sprintf("legal reminder %d; due %s", l.RemindersSent, fmtTime(l.Due)), "")
	case "due":
		l.Breached = true
		w.queueNotify(fmt.Sprintf("legal-%d-due", l.Requests), NotifyInput{Note: NoteLegalReminder, Status: TicketOpen, Data: data})
		w.alertLegal(ctx, fmt.Sprintf("%d-due", l.Requests), fmt.Sprintf("Legal matter %s (account %s) is past its due time %s; ticket #%s.",
			w.st.CaseNumber, w.st.Account.ID, fmtTime(l.Due), w.st.Ticket.ID))
		w.note(ctx, EventLegal, "the request is past its due time; the legal team was alerted", "")
		w.record(ctx, LedgerEvent{At: l.Due, Kind: LedgerSLABreached, Decision: SLALegal})
	case "preservation-reminder":
		p := l.Preservation
		p.ReminderSent = true
		w.queueNotify(fmt.Sprintf("legal-preservation-%d-reminder", p.Extensions), NotifyInput{Note: NoteLegalPreservation, Status: TicketOpen, Data: data})
		w.alertLegal(ctx, fmt.Sprintf("preservation-%d-reminder", p.Extensions), fmt.Sprintf("The preservation of legal matter %s (account %s) lapses %s: extend it or release it; ticket #%s.",
			w.st.CaseNumber, w.st.Account.ID, fmtTime(p.Until), w.st.Ticket.ID))
		w.note(ctx, EventLegal, "the preservation lapses "+fmtTime(p.Until)+"; the legal team was reminded", "")
	case "preservation-end":
		p := l.Preservation
		p.LapsedAt = p.Until
		w.queueNotify(fmt.Sprintf("legal-preservation-%d-lapsed", p.Extensions), NotifyInput{Note: NoteLegalPreservation, Status: TicketOpen, Data: data})
		w.alertLegal(ctx, fmt.Sprintf("preservation-%d-lapsed", p.Extensions), fmt.Sprintf("The preservation of legal matter %s (account %s) lapsed %s; close the matter, or preserve again under a new request; ticket #%s.",
			w.st.CaseNumber, w.st.Account.ID, fmtTime(p.Until), w.st.Ticket.ID))
		w.note(ctx, EventLegal, "the preservation lapsed "+fmtTime(p.Until), "")
	}
}

// authorityOf is who a matter's messages to the authority go to (the requester of its
// restricted ticket: the first reporter) and the language of its latest request.
func (w *caseWorkflow) authorityOf() (string, string) {
	lang := ""
	for _, r := range w.st.Reports.Recent {
		if r.Language != "" {
			lang = r.Language
		}
	}
	return strings.TrimSpace(w.requester()), lang
}

// validateMoveToLegal checks that a case can move into legal: an open case of another track
// that keeps reports, with no action in force (lift or keep it first: an appeal needs the case).
func (w *caseWorkflow) validateMoveToLegal() error {
	switch st := w.st.Status; {
	case w.track() == abuse.TrackLegal:
		return errors.New("the case is a legal matter already")
	case st.Final():
		return fmt.Errorf("the case is %s", st)
	case st == StatusEnforced || st == StatusAppealReview:
		return fmt.Errorf("an action is in force on this case (%s): it needs the case for its appeal; tell the legal team in their channel, and move the case once the action is decided", st)
	case len(w.st.Reports.Recent) == 0:
		return errors.New("the case keeps no report to move")
	}
	return nil
}

// moveToLegal moves the case's reports into a confidential legal matter, in one step: they go
// to the legal track's case of the account (its own matter per sender), leave this case (it
// shows them no more) and its ticket (their text and the raw reports are redacted; a neutral
// note says why), and the case closes without a word to the customer.
func (w *caseWorkflow) moveToLegal(ctx workflow.Context, d AgentDecision) string {
	moved := slices.Clone(w.st.Reports.Recent)
	var texts []string
	gone := map[string]bool{}
	for i := range moved {
		r := &moved[i]
		r.Category, r.Confirmed, r.OtherAccounts = abuse.LegalRequest, true, nil
		texts = append(texts, r.Summary, r.Reporter)
		for _, s := range r.Subjects {
			if s.Kind == abuse.SubjectURL {
				texts = append(texts, s.Value)
			}
		}
		gone[r.Reporter] = true
	}
	w.withdrawApproval(ctx, "the reports moved to a confidential legal matter")
	w.stopVerification()
	account := w.st.Account.ID
	w.effect("move the reports to a legal matter", func(ctx workflow.Context) error {
		return workflow.ExecuteActivity(withStep(ctx), ActivityForwardReports, ForwardReportsInput{
			Step: "move-to-legal", Account: account, Category: abuse.LegalRequest, Reports: moved}).Get(ctx, nil)
	})
	if t := w.st.Ticket; !t.IsZero() {
		w.effect("remove the reports from the ticket", func(ctx workflow.Context) error {
			return workflow.ExecuteActivity(withStep(ctx), ActivityRedactTicket, RedactInput{Ticket: t, Texts: slices.Compact(texts)}).Get(ctx, nil)
		})
	}
	// What the case shows of them goes (its counts stay).
	w.st.Reports.Recent = nil
	w.st.Reports.Reporters = slices.DeleteFunc(w.st.Reports.Reporters, func(r string) bool { return gone[r] })
	data := w.noticeData(ctx)
	data.Decision, data.DecidedBy = string(d.Decision), d.Agent
	// Worded so that an agent reading the ticket learns of no legal matter.
	data.Note = "The reports of this case were moved out of it (confidential) and removed from this ticket."
	w.queueNotify("moved-to-legal", NotifyInput{Note: NoteDecision, Data: data})
	w.closeQuietly(ctx, OutcomeReclassified, true, false)
	return fmt.Sprintf("Moved to legal: %d report(s) went to a confidential legal matter and were removed from this case and its ticket. Nothing was sent to the customer.", len(moved))
}

// validateHotline checks the record of a CSAM notice's report to the hotline: on an open CSAM
// case, once, with the hotline's reference in the note. (Who may record it is the legal team,
// as for every decision on a confidential case.)
func (w *caseWorkflow) validateHotline(d AgentDecision) error {
	l := w.st.Legal
	switch {
	case w.st.Category != abuse.CSAM || l == nil || l.Hotline == nil:
		return errors.New("hotline_reported records the report of a CSAM notice to the hotline; this case is no CSAM notice")
	case w.st.Status.Final():
		return fmt.Errorf("the case is %s", w.st.Status)
	case !l.Hotline.ReportedAt.IsZero():
		return fmt.Errorf("the report to the hotline was recorded already (%s by %s, %s)", fmtTime(l.Hotline.ReportedAt), l.Hotline.ReportedBy, l.Hotline.Reference)
	case strings.TrimSpace(d.Note) == "":
		return errors.New("say in the note which hotline and its report reference (e.g. CyberTipline report 123456)")
	}
	return nil
}

// onHotline records the report to the hotline: who, when, the reference.
func (w *caseWorkflow) onHotline(ctx workflow.Context, d AgentDecision) string {
	h := w.st.Legal.Hotline
	now := workflow.Now(ctx)
	h.ReportedAt, h.ReportedBy, h.Reference = now, d.Agent, excerpt(strings.TrimSpace(d.Note), 300)
	late := ""
	if now.After(h.Due) {
		late = fmt.Sprintf(" (after its due time %s)", fmtTime(h.Due))
	}
	w.note(ctx, EventLegal, fmt.Sprintf("reported to the hotline by %s%s: %s", d.Agent, late, h.Reference), d.Agent)
	return "Recorded: the report to the hotline" + late + ". Nothing was sent to the customer."
}
