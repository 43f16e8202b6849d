package workflows

import (
	"encoding/binary"
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"abusedesk/domain/abuse"
	"abusedesk/domain/policy"
)

// Notice and wait: the case opens its ticket and sends the violation notice, then waits for
// the customer with reminders until the deadline (which a surge of reports may pull in, and an
// agent or a lead may extend).

// open loads the account, decides the track, opens the ticket and sends the notice. A case
// exists because of its reports: until the first batch is in, there is nothing to say.
func (w *caseWorkflow) open(ctx workflow.Context) {
	w.drainSignals(ctx)
	if w.st.Reports.Count == 0 {
		w.waitUntil(ctx, time.Time{})
		return
	}
	if w.duplicateOfPrevious(ctx) {
		return
	}
	var acct abuse.Account
	lctx := withLookup(ctx)
	if err := workflow.ExecuteLocalActivity(lctx, ActivityLoadAccount, LoadAccountInput{AccountID: w.st.Account.ID}).Get(ctx, &acct); err != nil {
		w.stepFailed(ctx, "load account "+w.st.Account.ID, err)
		return
	}
	w.st.Account = acct
	if acct.NewAt(w.st.OpenedAt) {
		w.note(ctx, EventNote, fmt.Sprintf("a new account: opened %s, %s before its first report", fmtTime(acct.CreatedAt), policy.Duration(w.st.OpenedAt.Sub(acct.CreatedAt).Truncate(time.Hour))), "")
	}
	w.st.Rules, w.st.Track = w.policy.Effective(acct.Tier, acct.PriorViolations)
	// A lead always decides for a strategic account: its approval request never times out into
	// enforcement, it holds. Cases opened before this rule keep what they started with.
	if workflow.GetVersion(ctx, versionStrategicHolds, workflow.DefaultVersion, 1) >= 1 && acct.Tier == abuse.TierStrategic {
		w.st.Rules.Approval.OnTimeout = policy.OnTimeoutHold
	}
	if w.track().Violation() && workflow.GetVersion(ctx, versionProbation, workflow.DefaultVersion, 1) >= 1 {
		w.checkProbation(ctx)
	}
	if w.st.Track != policy.TrackStandard {
		w.note(ctx, EventNote, fmt.Sprintf("%s track (tier %s, %d prior violations)", w.st.Track, acct.Tier, acct.PriorViolations), "")
	}
	// Legal matters and customers asking for help have lifecycles of their own. (Version
	// markers are written only on the cases they change, so the others replay unchanged.)
	advisory := false
	if t := w.track(); !t.Violation() && workflow.GetVersion(ctx, versionTracks, workflow.DefaultVersion, 1) >= 1 {
		if w.openTrack(ctx) {
			return
		}
		advisory = t.Rules().Advice
	}
	// Uncertain reports wait for a person before anything is sent.
	if reason := w.triageReason(); reason != "" && workflow.GetVersion(ctx, versionTriageGate, workflow.DefaultVersion, 1) >= 1 {
		w.holdForTriage(ctx, reason)
		return
	}
	// So does stale evidence: no notice, deadline or action on reports of long ago alone.
	if reason := w.staleReason(workflow.Now(ctx)); reason != "" && !advisory && workflow.GetVersion(ctx, versionEvidenceAge, workflow.DefaultVersion, 1) >= 1 {
		w.holdForTriage(ctx, reason)
		return
	}
	if advisory {
		w.sendAdvice(ctx)
		return
	}
	w.sendNotice(ctx)
}

// checkProbation puts a case of an account on probation after a reinstatement on the strict
// track, with a lead's approval before any action, and tells the reinstatement of the
// re-offence. A look-up that fails leaves the case on its track, noted for the agents.
func (w *caseWorkflow) checkProbation(ctx workflow.Context) {
	var p ProbationResult
	if err := workflow.ExecuteLocalActivity(withHint(ctx), ActivityProbation, ProbationInput{AccountID: w.st.Account.ID}).Get(ctx, &p); err != nil {
		w.note(ctx, EventNote, "could not tell whether the account is on probation: "+rootMessage(err), "")
		return
	}
	if !p.On {
		return
	}
	acct := w.st.Account
	w.st.Rules, _ = w.policy.Effective(acct.Tier, max(acct.PriorViolations, w.policy.RepeatOffender.MinPriorViolations))
	w.st.Rules.Approval.Required = true
	w.st.Track = policy.TrackStrict
	w.note(ctx, EventNote, fmt.Sprintf("a re-offence: the account is on probation until %s after the reinstatement of %s; strict track, a lead approves any action", fmtTime(p.Until), p.CaseNumber), "")
	err := workflow.SignalExternalWorkflow(ctx, p.WorkflowID, "", SignalReoffence, Reoffence{
		CaseID: w.st.CaseID, CaseNumber: w.st.CaseNumber, Category: w.st.Category, At: workflow.Now(ctx),
	}).Get(ctx, nil)
	if err != nil {
		w.note(ctx, EventNote, "the reinstatement of "+p.CaseNumber+" was not told of this re-offence: "+rootMessage(err), "")
	}
}

// responseWindow is how long the customer has to answer the notice: the policy's window, or
// less when a report states an earlier deadline of its own (see statedWindow).
func (w *caseWorkflow) responseWindow(now time.Time) (time.Duration, time.Time) {
	return w.statedWindow(now, w.st.Rules.ResponseWindow.D())
}

// statedWindow is window, or less when a report states an earlier deadline of its own (a
// carrier's "within 5 business days"), and the deadline the report states (zero when window
// holds).
func (w *caseWorkflow) statedWindow(now time.Time, window time.Duration) (time.Duration, time.Time) {
	var stated time.Time
	for _, r := range w.st.Reports.Recent {
		if r.Deadline.IsZero() || r.Category.Track().Confidential() || !r.Deadline.After(now) {
			continue
		}
		if d := r.Deadline.Sub(now); d < window {
			window, stated = d, r.Deadline
		}
	}
	return window, stated
}

// readTraffic reads what the platform recorded of the sending identity a messaging case's
// reports name — from a day before the first report (at most 30 days back) until now — as the
// case's evidence: kept in the evidence store, shown on the case and in the notice. A read that
// fails is noted, and the case goes on without it.
func (w *caseWorkflow) readTraffic(ctx workflow.Context) {
	id := w.sendingIdentity()
	if id == nil {
		return
	}
	now := workflow.Now(ctx)
	since := now.Add(-24 * time.Hour)
	if first := w.st.Reports.FirstSeen.Add(-24 * time.Hour); !w.st.Reports.FirstSeen.IsZero() && first.Before(since) {
		since = first
	}
	if oldest := now.Add(-30 * 24 * time.Hour); since.Before(oldest) {
		since = oldest
	}
	var t abuse.Traffic
	err := workflow.ExecuteActivity(withDeciders(ctx), ActivityMessagingRecords, MessagingRecordsInput{
		AccountID: w.st.Account.ID, Identity: *id, Since: since, Until: now,
	}).Get(ctx, &t)
	if err != nil {
		w.note(ctx, EventNote, "the messaging records of "+id.String()+" could not be read; the case goes on without them: "+rootMessage(err), "")
		return
	}
	w.st.Traffic = &t
	w.record(ctx, LedgerEvent{Kind: LedgerTraffic, Traffic: t.Totals()})
	w.note(ctx, EventNote, fmt.Sprintf("messaging records of %s since %s: %d sent, %d filtered by carriers, %d opt-outs, %d complaints (%.1f per 1,000 messages)",
		id, fmtTime(since), t.Sent, t.Filtered, t.OptOuts, t.Complaints, t.ComplaintsPer1000()), "")
}

// sendNotice opens the customer's ticket with the violation notice.
func (w *caseWorkflow) sendNotice(ctx workflow.Context) {
	if w.track() == abuse.TrackMessaging {
		w.readTraffic(ctx)
	}
	acct := w.st.Account
	window, stated := w.responseWindow(workflow.Now(ctx))
	if !stated.IsZero() {
		w.note(ctx, EventNote, "the reporter's own deadline comes first: the customer's answer is due by "+fmtTime(stated), "")
	}
	deadline := workflow.Now(ctx).Add(window)
	data := w.noticeData(ctx)
	data.Deadline = deadline
	data.Window = window
	var res OpenCaseResult
	err := workflow.ExecuteActivity(withStep(ctx), ActivityOpenCase, OpenCaseInput{
		ExternalID: w.st.ExternalID,
		Notice:     data,
		Evidence:   w.evidenceDigests(3),
	}).Get(ctx, &res)
	if err != nil {
		w.stepFailed(ctx, "open the ticket and send the notice", err)
		return
	}
	w.st.Ticket = res.Ticket
	w.note(ctx, EventNotice, fmt.Sprintf("violation notice sent to %s (ticket #%s)", acct.ContactEmail, res.Ticket.ID), "")
	w.record(ctx, LedgerEvent{Kind: LedgerNoticed, Decision: "violation"})
	if w.st.Status == StatusOpen || w.st.Status == StatusNeedsTriage {
		w.setStatus(StatusNoticed)
	}
}

// startWait begins a response wait of d from now.
func (w *caseWorkflow) startWait(ctx workflow.Context, d time.Duration) {
	now := workflow.Now(ctx)
	w.st.Round++
	w.st.Wait = &WaitState{StartedAt: now, Deadline: now.Add(d)}
	w.setStatus(StatusAwaitingResponse)
	w.applySurge(ctx)
	w.syncPause(ctx)
}

// awaitResponse waits for an answer until the deadline, sending reminders on the way.
func (w *caseWorkflow) awaitResponse(ctx workflow.Context) {
	wait := w.st.Wait
	if !wait.PausedAt.IsZero() {
		w.waitUntil(ctx, time.Time{}) // a hand-off holds the clock
		return
	}
	next, isReminder := wait.Deadline, false
	if r := w.st.Rules.Reminders; wait.RemindersSent < len(r) {
		if at := wait.StartedAt.Add(r[wait.RemindersSent].D()); at.Before(wait.Deadline) {
			next, isReminder = at, true
		}
	}
	if !w.waitUntil(ctx, next) {
		return
	}
	// A reply that arrived together with the deadline still counts.
	w.drainSignals(ctx)
	if w.st.Status != StatusAwaitingResponse || w.st.Wait != wait {
		return
	}
	if isReminder && !workflow.Now(ctx).Before(wait.Deadline) && workflow.GetVersion(ctx, versionStaleReminders, workflow.DefaultVersion, 1) >= 1 {
		// The reminder's time came while the desk was down, and the deadline has passed since:
		// a reminder of a deadline gone by tells the customer nothing true. What happens at
		// the deadline is the one message they get.
		wait.RemindersSent++
		w.note(ctx, EventReminder, fmt.Sprintf("reminder %d not sent: its deadline %s passed before it could go out", wait.RemindersSent, fmtTime(wait.Deadline)), "")
		return
	}
	if isReminder {
		wait.RemindersSent++
		n := wait.RemindersSent
		data := w.noticeData(ctx)
		data.Deadline, data.Reminder = wait.Deadline, n
		if w.notify(ctx, NotifyInput{Step: fmt.Sprintf("reminder-%d-%d", w.st.Round, n), Public: NoticeReminder, Status: TicketPending, Data: data}) {
			w.note(ctx, EventReminder, fmt.Sprintf("reminder %d sent; deadline %s", n, fmtTime(wait.Deadline)), "")
			w.record(ctx, LedgerEvent{Kind: LedgerReminded, Count: n})
		}
		return
	}
	w.st.Wait = nil
	w.st.Escalations++
	w.st.EscalatedFor = "no answer to the notice by its deadline " + fmtTime(wait.Deadline)
	w.setStatus(StatusEscalated)
	w.note(ctx, EventEscalation, "no answer by the deadline", "")
	w.record(ctx, LedgerEvent{Kind: LedgerEscalated, Decision: "no answer"})
}

// versionStaleReminders skips a customer reminder whose deadline passed before it went out.
const versionStaleReminders = "stale-reminders"

// applySurge pulls the deadline in once the case has the policy's surge count of reports.
func (w *caseWorkflow) applySurge(ctx workflow.Context) {
	s, wait := w.st.Rules.Surge, w.st.Wait
	if s.Reports <= 0 || wait == nil || wait.Surged || w.st.Reports.Count < s.Reports {
		return
	}
	wait.Surged = true
	if at := workflow.Now(ctx).Add(s.Deadline.D()); at.Before(wait.Deadline) {
		wait.Deadline = at
		w.note(ctx, EventReports, fmt.Sprintf("%d reports: deadline moved to %s (policy surge)", w.st.Reports.Count, fmtTime(at)), "")
	}
}

// extendDeadline gives the customer more time, for an agent's or a lead's "extend": the running
// response wait ends `by` later (counted from now if it already passed), or, in any other
// state, a new wait of `by` starts. The customer is told unless notified says the agent's
// macro did; the note is the decider's words.
func (w *caseWorkflow) extendDeadline(ctx workflow.Context, by time.Duration, note string, notified bool) {
	if w.st.Status == StatusAwaitingResponse && w.st.Wait != nil {
		base := w.st.Wait.Deadline
		if now := workflow.Now(ctx); base.Before(now) {
			base = now
		}
		w.st.Wait.Deadline = base.Add(by)
	} else {
		w.startWait(ctx, by)
	}
	data := w.noticeData(ctx)
	data.Deadline, data.Note = w.st.Wait.Deadline, note
	w.queueNotify(fmt.Sprintf("extended-%d-%s", w.st.Round, w.st.Wait.Deadline.UTC().Format("20060102T150405")),
		NotifyInput{Public: publicUnless(notified, NoticeExtended), Note: noteIf(notified), Status: TicketPending, Data: data})
}

// duplicateOfPrevious closes a new incident whose every report the account's previous
// incident (same category) already handled, within the policy's dedupe window: a report sent
// again is not a new violation. True when it closed the case.
func (w *caseWorkflow) duplicateOfPrevious(ctx workflow.Context) bool {
	if w.st.Runs != 1 || workflow.GetVersion(ctx, versionDuplicateIncident, workflow.DefaultVersion, 1) < 1 {
		return false
	}
	window := w.st.Rules.DedupeWindow.D()
	if window <= 0 {
		return false
	}
	var prev PreviousIncidentResult
	if err := workflow.ExecuteLocalActivity(withHint(ctx), ActivityPreviousIncident, PreviousIncidentInput{CaseID: w.st.CaseID}).Get(ctx, &prev); err != nil {
		w.log.Warn("previous incident not read; the case goes on as new", "error", err)
		return false
	}
	if !prev.Found || workflow.Now(ctx).Sub(prev.Result.ClosedAt) > window {
		return false
	}
	handled := buildSeen(&CaseState{Seen: prev.Result.Seen})
	for i := 0; i+8 <= len(w.st.Seen); i += 8 { // the ring, not the map: a fixed order
		if _, ok := handled[binary.LittleEndian.Uint64(w.st.Seen[i:])]; !ok {
			return false
		}
	}
	w.note(ctx, EventNote, fmt.Sprintf("every report was already handled by the previous incident %s (%s, closed %s): closed as a duplicate, nothing sent",
		prev.Result.CaseNumber, prev.Result.Outcome, fmtTime(prev.Result.ClosedAt)), "")
	w.finish(ctx, OutcomeDuplicate, StatusClosed)
	return true
}
