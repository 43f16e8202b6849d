package workflows

import (
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/workflow"

	"abusedesk/domain/abuse"
)

// Appeal: while the window is open a customer's message is an appeal, decided by a reviewer in
// the Appeal child workflow; a late one is refused.

// awaitAppealWindow waits for an appeal until the window closes, then closes the case.
func (w *caseWorkflow) awaitAppealWindow(ctx workflow.Context) {
	until := w.st.Enforcement.AppealUntil
	if at := w.stopCheckAt(); !at.IsZero() && at.Before(until) {
		if w.waitUntil(ctx, at) {
			w.checkStopped(ctx)
		}
		return // back here to wait out the window
	}
	if !w.waitUntil(ctx, until) {
		return
	}
	// Appeals received before the end still count.
	w.drainSignals(ctx)
	if w.st.Status != StatusEnforced {
		return
	}
	w.note(ctx, EventClosed, "appeal window ended without an appeal", "")
	w.finish(ctx, OutcomeEnforced, StatusClosed)
}

// awaitAppealDecision runs the Appeal child and waits for its result.
func (w *caseWorkflow) awaitAppealDecision(ctx workflow.Context) {
	ap := w.st.Appeal
	if w.appealChild == nil {
		// Not started in this run (or never): start it.
		e := w.st.Enforcement
		ap.ChildID = fmt.Sprintf("%s/appeal/%d", w.st.CaseID, ap.Count)
		ap.SLADeadline = workflow.Now(ctx).Add(w.st.Rules.Appeal.SLA.D())
		if w.st.Rules.Appeal.Hours != nil && workflow.GetVersion(ctx, versionBusinessHours, workflow.DefaultVersion, 1) >= 1 {
			ap.SLADeadline = w.st.Rules.Appeal.SLADue(workflow.Now(ctx))
		}
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID:        ap.ChildID,
			ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_TERMINATE,
		})
		w.appealChild = workflow.ExecuteChildWorkflow(cctx, AppealWorkflowType, AppealInput{
			CaseID: w.st.CaseID, CaseNumber: w.st.CaseNumber, ExternalID: w.st.ExternalID,
			Ticket: w.st.Ticket, Appeal: Appeal{ID: ap.ID, From: ap.From, ReceivedAt: ap.ReceivedAt, Excerpt: ap.Excerpt},
			Number: ap.Count, Enforcement: *e, Rules: w.st.Rules.Appeal, Data: w.noticeData(ctx),
		})
		w.appealDone = false
	}
	if !w.appealDone {
		sel := workflow.NewSelector(ctx)
		sel.AddFuture(w.appealChild, func(f workflow.Future) {
			w.appealDone = true
			var res AppealResult
			if err := f.Get(ctx, &res); err != nil {
				w.appealRes = nil
				w.stepFailed(ctx, "run the appeal", err)
				return
			}
			w.appealRes = &res
		})
		w.addSignals(ctx, sel)
		sel.AddReceive(w.wake, func(c workflow.ReceiveChannel, _ bool) { c.ReceiveAsync(nil) })
		w.flushLedger(ctx)
		sel.Select(ctx)
		return
	}
	res := w.appealRes
	w.appealChild = nil
	if res == nil {
		// The appeal could not finish (its lift failed for good): people take over.
		w.review(ctx, "the appeal could not finish: lifting the action failed")
		return
	}
	ap.Decision, ap.Reviewer, ap.Note, ap.DecidedAt = res.Decision, res.Reviewer, res.Note, res.DecidedAt
	if !ap.SLADeadline.IsZero() && res.DecidedAt.After(ap.SLADeadline) {
		w.record(ctx, LedgerEvent{At: ap.SLADeadline, Kind: LedgerSLABreached, Decision: SLAAppeal})
	}
	w.record(ctx, LedgerEvent{At: res.DecidedAt, Kind: LedgerAppealDecided, Decision: res.Decision, Actor: res.Reviewer, Text: res.Note})
	if res.Decision == AppealGranted {
		w.st.Enforcement.LiftedAt = res.LiftedAt
		w.note(ctx, EventLifted, "appeal granted by "+res.Reviewer+"; action lifted", res.Reviewer)
		w.record(ctx, LedgerEvent{Kind: LedgerLifted, Decision: "appeal"})
		w.finish(ctx, OutcomeReinstated, StatusReinstated)
		return
	}
	w.note(ctx, EventAppeal, "appeal denied by "+res.Reviewer+"; the action stands", res.Reviewer)
	w.finish(ctx, OutcomeUpheld, StatusUpheld)
}

// onAppeal starts an appeal while the window is open, and refuses it after.
func (w *caseWorkflow) onAppeal(ctx workflow.Context, a Appeal) {
	if a.ReceivedAt.IsZero() {
		a.ReceivedAt = workflow.Now(ctx)
	}
	e := w.st.Enforcement
	switch {
	case w.st.Status == StatusAppealReview:
		w.note(ctx, EventAppeal, "further message during the appeal: "+excerpt(a.Excerpt, 200), a.From)
		return
	case w.st.Status != StatusEnforced || e == nil:
		w.note(ctx, EventAppeal, "appeal received while nothing is enforced; recorded for the agent", a.From)
		return
	case a.ReceivedAt.After(e.AppealUntil):
		if w.st.Appeal == nil {
			w.st.Appeal = &AppealState{}
		}
		w.st.Appeal.LateRefused++
		w.note(ctx, EventAppeal, "appeal received "+fmtTime(a.ReceivedAt)+", after the window closed "+fmtTime(e.AppealUntil)+"; refused", a.From)
		w.record(ctx, LedgerEvent{At: a.ReceivedAt, Kind: LedgerAppealed, Actor: a.From, Decision: "late"})
		data := w.noticeData(ctx)
		w.queueNotify(fmt.Sprintf("appeal-late-%d", w.st.Appeal.LateRefused), NotifyInput{Public: NoticeAppealLate, Data: data})
		return
	}
	if w.st.Appeal == nil {
		w.st.Appeal = &AppealState{}
	}
	ap := w.st.Appeal
	ap.Count++
	ap.ID, ap.From, ap.ReceivedAt, ap.Excerpt = a.ID, a.From, a.ReceivedAt, excerpt(a.Excerpt, 500)
	ap.Decision, ap.Reviewer, ap.Note, ap.DecidedAt, ap.ChildID = "", "", "", time.Time{}, ""
	w.setStatus(StatusAppealReview)
	w.note(ctx, EventAppeal, "appeal received: "+excerpt(a.Excerpt, 200), a.From)
	w.record(ctx, LedgerEvent{At: a.ReceivedAt, Kind: LedgerAppealed, Actor: a.From})
}

// stopCheckAt is when a messaging case's action on a number, sender ID, campaign or messaging
// service is checked against the platform's records (zero: no check is due).
func (w *caseWorkflow) stopCheckAt() time.Time {
	e := w.st.Enforcement
	if e == nil || !e.StopCheckedAt.IsZero() || !e.LiftedAt.IsZero() {
		return time.Time{}
	}
	return e.StopDue // zero for an action no check follows
}

// checkStopped reads the records of the identity a messaging action is on, from the action
// until now: a suspension that let messages through, or a throttle that did not slow them, is
// noted and the leads are told — the action stands, a person looks into it.
func (w *caseWorkflow) checkStopped(ctx workflow.Context) {
	e := w.st.Enforcement
	now := workflow.Now(ctx)
	e.StopCheckedAt = now
	since := e.StopDue.Add(-stopCheck) // when the action was in place
	var t abuse.Traffic
	err := workflow.ExecuteActivity(withDeciders(ctx), ActivityMessagingRecords, MessagingRecordsInput{
		AccountID: w.st.Account.ID, Identity: *e.Scope, Since: since, Until: now,
	}).Get(ctx, &t)
	if err != nil {
		w.note(ctx, EventNote, "could not check that the action stopped the traffic of "+e.Scope.String()+": "+rootMessage(err), "")
		return
	}
	e.Stop = &t
	w.record(ctx, LedgerEvent{Kind: LedgerTraffic, Decision: "stop", Traffic: t.Totals()})
	before := w.st.Traffic
	stopped := t.Sent == 0
	if e.Type == abuse.ActionThrottle && before != nil && before.Sent > 0 {
		// A throttle slows: fewer messages an hour than before it.
		stopped = float64(t.Sent)/now.Sub(since).Hours() < float64(before.Sent)/before.Until.Sub(before.Since).Hours()
	}
	if stopped {
		w.note(ctx, EventEnforcement, fmt.Sprintf("checked: %s sent %d messages since the action (%s)", e.Scope, t.Sent, e.Type.DescribeOn(e.Level, e.Scope)), "")
		return
	}
	text := fmt.Sprintf("%s %s: %s did not stop the traffic: %d messages sent from %s since %s", w.st.CaseNumber, w.st.Account.ID,
		e.Type.DescribeOn(e.Level, e.Scope), t.Sent, e.Scope, fmtTime(since))
	w.note(ctx, EventEnforcement, text+"; the leads were told", "")
	if err := workflow.ExecuteActivity(withStep(ctx), ActivityAlert, AlertInput{Step: fmt.Sprintf("stop-check-%d", w.st.Escalations), Text: text}).Get(ctx, nil); err != nil {
		w.note(ctx, EventNote, "the leads could not be told: "+rootMessage(err), "")
	}
}
