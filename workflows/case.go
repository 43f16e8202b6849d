package workflows

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"abusedesk/internal/abuse"
	"abusedesk/internal/approval"
	"abusedesk/internal/policy"
)

// Continue-as-new bounds. A case that lost its place in the worker's cache is replayed from
// its history at its next task, so its history is kept short: 2,000 events replay in a few
// milliseconds, and 4 MiB keeps far inside Temporal's 50 MiB limit while a report storm (every
// batch signal carries its report summaries) grows the history fast. The server's own
// suggestion (at 4k events / 4 MiB by default) also triggers it.
const (
	maxHistoryEvents = 2000
	maxHistoryBytes  = 4 << 20
)

// Error types of the Case workflow's own failures.
const (
	ErrInvalidCaseInput = "InvalidCaseInput"
)

// Case is the workflow of one abuse case, one per (account, category). Intake starts or joins
// it with SignalWithStart (SignalReports). It opens the ticket and sends the notice, waits for
// the customer with reminders, escalates a silent account (with a lead's approval where the
// policy asks), enforces and verifies, handles appeals through the Appeal child, and closes
// with an outcome. See DESIGN.md for the lifecycle.
func Case(ctx workflow.Context, in CaseInput) (*CaseResult, error) {
	w, err := newCase(ctx, in)
	if err != nil {
		return nil, err
	}
	return w.run(ctx)
}

type caseWorkflow struct {
	st     *CaseState
	policy policy.Snapshot
	log    log.Logger
	seen   seenSet

	reportsCh workflow.ReceiveChannel
	replyCh   workflow.ReceiveChannel
	appealCh  workflow.ReceiveChannel
	// wake is nudged by update handlers so the main loop re-reads the state.
	wake workflow.Channel

	// effects are side effects (activities) decided by handlers, run by the main loop in order.
	effects []effect

	timerAt     time.Time
	timer       workflow.Future
	timerCancel workflow.CancelFunc

	appealChild workflow.ChildWorkflowFuture
	appealDone  bool
	appealRes   *AppealResult

	published map[string]any

	// reportsOpen is set while the last timeline entry is a report tally this run can extend.
	reportsOpen               bool
	reportsAdded, reportsDups int
}

type effect struct {
	name string
	run  func(ctx workflow.Context) error
}

func newCase(ctx workflow.Context, in CaseInput) (*caseWorkflow, error) {
	if in.AccountID == "" && in.State == nil {
		return nil, temporal.NewNonRetryableApplicationError("case input has no account_id", ErrInvalidCaseInput, nil)
	}
	if in.Policy.Rules.ResponseWindow <= 0 {
		return nil, temporal.NewNonRetryableApplicationError("case input has no policy (response_window is 0)", ErrInvalidCaseInput, nil)
	}
	info := workflow.GetInfo(ctx)
	w := &caseWorkflow{
		policy:    in.Policy,
		reportsCh: workflow.GetSignalChannel(ctx, SignalReports),
		replyCh:   workflow.GetSignalChannel(ctx, SignalCustomerReply),
		appealCh:  workflow.GetSignalChannel(ctx, SignalAppeal),
		wake:      workflow.NewBufferedChannel(ctx, 1),
		published: map[string]any{},
	}
	if in.State != nil {
		w.st = in.State
		w.st.Runs++
	} else {
		if !in.Category.Valid() {
			return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("case input has an unknown category %q", in.Category), ErrInvalidCaseInput, nil)
		}
		id := info.WorkflowExecution.ID
		now := workflow.Now(ctx)
		w.st = &CaseState{
			CaseID:     id,
			CaseNumber: CaseNumber(id),
			ExternalID: fmt.Sprintf("%s@%d", id, now.Unix()),
			Status:     StatusOpen,
			Account:    abuse.Account{ID: in.AccountID},
			Category:   in.Category,
			Track:      policy.TrackStandard,
			Rules:      in.Policy.Rules,
			OpenedAt:   now,
			Runs:       1,
		}
	}
	w.seen = buildSeen(w.st)
	w.log = log.With(workflow.GetLogger(ctx), "case_id", w.st.CaseID, "case_number", w.st.CaseNumber)
	for _, b := range in.PendingBatches {
		w.recordSignal(ctx, b)
	}

	if err := workflow.SetQueryHandler(ctx, QueryStatus, func(StatusQuery) (*CaseView, error) {
		return w.view(ctx), nil
	}); err != nil {
		return nil, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateApproval, w.onApproval,
		workflow.UpdateHandlerOptions{Validator: w.validateApproval}); err != nil {
		return nil, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateAgentDecision, w.onAgentDecision,
		workflow.UpdateHandlerOptions{Validator: w.validateAgentDecision}); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *caseWorkflow) run(ctx workflow.Context) (*CaseResult, error) {
	for {
		w.runEffects(ctx)
		w.publish(ctx)
		if w.st.Status.Final() {
			break
		}
		if w.shouldContinueAsNew(ctx) {
			return nil, w.continueAsNew(ctx, w.st, nil)
		}
		switch w.st.Status {
		case StatusOpen:
			w.open(ctx)
		case StatusNoticed:
			w.startWait(ctx, w.st.Rules.ResponseWindow.D())
		case StatusAwaitingResponse:
			w.awaitResponse(ctx)
		case StatusUnderReview:
			w.waitUntil(ctx, time.Time{})
		case StatusEscalated:
			w.escalate(ctx)
		case StatusPendingApproval:
			w.awaitApproval(ctx)
		case StatusEnforced:
			w.awaitAppealWindow(ctx)
		case StatusAppealReview:
			w.awaitAppealDecision(ctx)
		default:
			return nil, temporal.NewNonRetryableApplicationError("case in unknown status "+string(w.st.Status), ErrInvalidCaseInput, nil)
		}
	}

	// Let running update handlers answer their callers before the run ends.
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return nil, err
	}
	w.runEffects(ctx)
	// Reports that arrived while the case was closing belong to a new case for the same
	// account and category: continue as new with them instead of dropping them.
	if pending := w.drainNewReports(ctx); len(pending) > 0 {
		w.log.Info("reports arrived while closing; opening a new case", "batches", len(pending))
		return nil, w.continueAsNew(ctx, nil, pending)
	}
	w.logDropped(ctx)
	return &CaseResult{
		CaseNumber:  w.st.CaseNumber,
		Outcome:     w.st.Outcome,
		Status:      w.st.Status,
		ReportCount: w.st.Reports.Count,
		ClosedAt:    w.st.ClosedAt,
	}, nil
}

// ---- states -------------------------------------------------------------------------------

// open loads the account, decides the track, opens the ticket and sends the notice. A case
// exists because of its reports: until the first batch is in, there is nothing to say.
func (w *caseWorkflow) open(ctx workflow.Context) {
	w.drainSignals(ctx)
	if w.st.Reports.Count == 0 {
		w.waitUntil(ctx, time.Time{})
		return
	}
	var acct abuse.Account
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 15 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
	})
	if err := workflow.ExecuteLocalActivity(lctx, ActivityLoadAccount, LoadAccountInput{AccountID: w.st.Account.ID}).Get(ctx, &acct); err != nil {
		w.stepFailed(ctx, "load account "+w.st.Account.ID, err)
		return
	}
	w.st.Account = acct
	w.st.Rules, w.st.Track = w.policy.Effective(acct.Tier, acct.PriorViolations)
	if w.st.Track != policy.TrackStandard {
		w.note(ctx, EventNote, fmt.Sprintf("%s track (tier %s, %d prior violations)", w.st.Track, acct.Tier, acct.PriorViolations), "")
	}

	deadline := workflow.Now(ctx).Add(w.st.Rules.ResponseWindow.D())
	data := w.noticeData(ctx)
	data.Deadline = deadline
	data.Window = w.st.Rules.ResponseWindow.D()
	var res OpenCaseResult
	err := workflow.ExecuteActivity(w.actx(ctx), ActivityOpenCase, OpenCaseInput{
		ExternalID: w.st.ExternalID,
		Notice:     data,
		Evidence:   w.evidenceDigests(3),
	}).Get(ctx, &res)
	if err != nil {
		w.stepFailed(ctx, "open the ticket and send the notice", err)
		return
	}
	w.st.Ticket = res.Ticket
	w.note(ctx, EventNotice, fmt.Sprintf("violation notice sent to %s (ticket #%d)", acct.ContactEmail, res.Ticket.ID), "")
	if w.st.Status == StatusOpen {
		w.st.Status = StatusNoticed
	}
}

// startWait begins a response wait of d from now.
func (w *caseWorkflow) startWait(ctx workflow.Context, d time.Duration) {
	now := workflow.Now(ctx)
	w.st.Round++
	w.st.Wait = &WaitState{StartedAt: now, Deadline: now.Add(d)}
	w.st.Status = StatusAwaitingResponse
	w.applySurge(ctx)
}

// awaitResponse waits for an answer until the deadline, sending reminders on the way.
func (w *caseWorkflow) awaitResponse(ctx workflow.Context) {
	wait := w.st.Wait
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
	if isReminder {
		wait.RemindersSent++
		n := wait.RemindersSent
		data := w.noticeData(ctx)
		data.Deadline, data.Reminder = wait.Deadline, n
		if w.notify(ctx, NotifyInput{Step: fmt.Sprintf("reminder-%d-%d", w.st.Round, n), Public: NoticeReminder, Status: TicketPending, Data: data}) {
			w.note(ctx, EventReminder, fmt.Sprintf("reminder %d sent; deadline %s", n, fmtTime(wait.Deadline)), "")
		}
		return
	}
	w.st.Wait = nil
	w.st.Escalations++
	w.st.Status = StatusEscalated
	w.note(ctx, EventEscalation, "no answer by the deadline", "")
}

// escalate decides between enforcing and asking a lead.
func (w *caseWorkflow) escalate(ctx workflow.Context) {
	r := w.st.Rules
	if r.Action.Type == abuse.ActionNone {
		w.st.Status = StatusUnderReview
		w.note(ctx, EventEscalation, "referred to the abuse team: the policy applies no automatic action", "")
		w.notify(ctx, NotifyInput{Step: fmt.Sprintf("escalation-%d", w.st.Escalations), Note: NoteEscalation, Status: TicketOpen, Data: w.noticeData(ctx)})
		return
	}
	a := w.st.Approval
	decided := a != nil && a.Escalation == w.st.Escalations && (a.Decision == approval.Approve || a.Decision == "timeout")
	if decided || !r.Approval.Required {
		w.enforce(ctx)
		return
	}
	now := workflow.Now(ctx)
	w.st.Approval = &ApprovalState{Escalation: w.st.Escalations, RequestedAt: now, Deadline: now.Add(r.Approval.Timeout.D())}
	w.st.Status = StatusPendingApproval
	var msg approval.Message
	err := workflow.ExecuteActivity(w.actx(ctx), ActivityRequestApproval, ApprovalRequest{
		Step:     fmt.Sprintf("approval-%d", w.st.Escalations),
		Data:     w.noticeData(ctx),
		Deadline: w.st.Approval.Deadline,
	}).Get(ctx, &msg)
	if err != nil {
		w.stepFailed(ctx, "ask the leads for approval", err)
		return
	}
	if w.st.Approval != nil {
		w.st.Approval.Message = msg
	}
	w.note(ctx, EventApproval, "approval requested from the leads ("+w.approvalReason()+")", "")
}

// awaitApproval waits for a lead; on timeout it re-pings, then follows the policy.
func (w *caseWorkflow) awaitApproval(ctx workflow.Context) {
	a := w.st.Approval
	if a.Decision != "" {
		// Decided while the request was being sent; the handler moved the case on already.
		return
	}
	if !w.waitUntil(ctx, a.Deadline) {
		return
	}
	w.drainSignals(ctx)
	if w.st.Status != StatusPendingApproval || w.st.Approval != a || a.Decision != "" {
		return
	}
	rules := w.st.Rules.Approval
	now := workflow.Now(ctx)
	if a.Pings < rules.Repings {
		a.Pings++
		a.Deadline = now.Add(rules.Timeout.D())
		data := w.noticeData(ctx)
		err := workflow.ExecuteActivity(w.actx(ctx), ActivityRequestApproval, ApprovalRequest{
			Step: fmt.Sprintf("approval-%d-ping-%d", w.st.Escalations, a.Pings), Data: data,
			Ping: a.Pings, Existing: a.Message, Deadline: a.Deadline,
		}).Get(ctx, nil)
		if err != nil {
			w.stepFailed(ctx, "re-ping the leads", err)
			return
		}
		w.note(ctx, EventApproval, fmt.Sprintf("no decision yet; leads pinged again (%d of %d)", a.Pings, rules.Repings), "")
		return
	}
	if rules.OnTimeout == policy.OnTimeoutHold {
		a.Holding, a.Deadline = true, time.Time{}
		w.note(ctx, EventApproval, "no decision after every re-ping; holding for a lead (policy: hold)", "")
		return
	}
	a.Decision, a.DecidedAt, a.Reason = "timeout", now, "no lead decided in time; enforced by policy"
	w.note(ctx, EventApproval, "no decision after every re-ping; enforcing (policy: enforce)", "")
	w.showApproval(ctx)
	w.st.Status = StatusEscalated
}

// enforce applies the action, verifies it, and sends the notice with the statement of reasons.
func (w *caseWorkflow) enforce(ctx workflow.Context) {
	r := w.st.Rules
	key := fmt.Sprintf("%s/enforce/%d", w.st.ExternalID, w.st.Escalations)
	ectx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute},
	})
	var res ActionResult
	err := workflow.ExecuteActivity(ectx, ActivityEnforce, EnforceInput{
		Key: key, CaseID: w.st.CaseID, CaseNumber: w.st.CaseNumber, AccountID: w.st.Account.ID,
		Type: r.Action.Type, Level: r.Action.Level, For: r.Action.For.D(),
		Reason: fmt.Sprintf("%s %s: %d reports of %s, no answer to the notice", w.st.CaseNumber, w.st.Category, w.st.Reports.Count, w.st.Category.Title()),
	}).Get(ctx, &res)
	if err != nil {
		w.stepFailed(ctx, "apply "+string(r.Action.Type), err)
		return
	}
	now := workflow.Now(ctx)
	e := &Enforcement{
		ActionID: res.ActionID, Type: r.Action.Type, Level: r.Action.Level,
		AppliedAt: res.AppliedAt, VerifiedAt: res.VerifiedAt, ExpiresAt: res.ExpiresAt,
		AppealUntil: now.Add(r.Appeal.Window.D()),
	}
	if a := w.st.Approval; a != nil && a.Escalation == w.st.Escalations && a.Decision == approval.Approve {
		e.ApprovedBy, e.ApprovedByEmail = a.DecidedBy, a.DecidedByEmail
	}
	w.st.Enforcement = e
	w.st.Status = StatusEnforced
	w.note(ctx, EventEnforcement, fmt.Sprintf("%s applied and verified (action %s)", r.Action.Type.Describe(r.Action.Level), res.ActionID), "")
	data := w.noticeData(ctx)
	if w.notify(ctx, NotifyInput{Step: fmt.Sprintf("enforced-%d", w.st.Escalations), Public: NoticeEnforced, Note: NoteEnforcement, Status: TicketPending, Data: data}) {
		w.note(ctx, EventNotice, "enforcement notice with the statement of reasons sent; appeal until "+fmtTime(e.AppealUntil), "")
	}
}

// awaitAppealWindow waits for an appeal until the window closes, then closes the case.
func (w *caseWorkflow) awaitAppealWindow(ctx workflow.Context) {
	until := w.st.Enforcement.AppealUntil
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
		sel.Select(ctx)
		return
	}
	res := w.appealRes
	w.appealChild = nil
	if res == nil {
		// The appeal could not finish (its lift failed for good): people take over.
		w.st.Status = StatusUnderReview
		return
	}
	ap.Decision, ap.Reviewer, ap.Note, ap.DecidedAt = res.Decision, res.Reviewer, res.Note, res.DecidedAt
	if res.Decision == AppealGranted {
		w.st.Enforcement.LiftedAt = res.LiftedAt
		w.note(ctx, EventLifted, "appeal granted by "+res.Reviewer+"; action lifted", res.Reviewer)
		w.finish(ctx, OutcomeReinstated, StatusReinstated)
		return
	}
	w.note(ctx, EventAppeal, "appeal denied by "+res.Reviewer+"; the action stands", res.Reviewer)
	w.finish(ctx, OutcomeUpheld, StatusUpheld)
}

// finish sets the outcome and queues the closing effects.
func (w *caseWorkflow) finish(ctx workflow.Context, o Outcome, final Status) {
	w.finishNotified(ctx, o, final, false)
}

// finishNotified closes the case; notified says the customer already has the closing answer
// (an agent's macro), so the ticket is only solved.
func (w *caseWorkflow) finishNotified(ctx workflow.Context, o Outcome, final Status, notified bool) {
	w.st.Outcome = o
	w.st.Status = final
	w.st.Wait = nil
	w.st.ClosedAt = workflow.Now(ctx)
	w.note(ctx, EventClosed, "closed: "+string(o), "")
	if w.st.Ticket.ID == 0 {
		return
	}
	data := w.noticeData(ctx)
	w.effect("close the ticket", func(ctx workflow.Context) error {
		return workflow.ExecuteActivity(w.actx(ctx), ActivityCloseCase, CloseCaseInput{Ticket: w.st.Ticket, Step: "closed", Data: data, Notified: notified}).Get(ctx, nil)
	})
	if w.st.Rules.AcknowledgeReporters && len(w.st.Reports.Reporters) > 0 {
		reporters := slices.Clone(w.st.Reports.Reporters)
		w.effect("acknowledge the reporters", func(ctx workflow.Context) error {
			var res AcknowledgeResult
			if err := workflow.ExecuteActivity(w.actx(ctx), ActivityAcknowledgeReporter, AcknowledgeInput{Step: "reporter-ack", Reporters: reporters, Data: data}).Get(ctx, &res); err != nil {
				return err
			}
			w.note(ctx, EventNote, fmt.Sprintf("outcome sent to %d reporter(s)", res.Sent), "")
			return nil
		})
	}
}

// ---- waiting and signals -------------------------------------------------------------------

// waitUntil blocks until at (zero: no timer), a signal, or an update handler's nudge. It
// returns true when the timer fired. The timer is kept across calls while its time stays the
// same, so signals do not churn timers in the history.
func (w *caseWorkflow) waitUntil(ctx workflow.Context, at time.Time) bool {
	fired := false
	sel := workflow.NewSelector(ctx)
	if !at.IsZero() {
		t := w.timerFor(ctx, at)
		sel.AddFuture(t, func(workflow.Future) { fired = true })
	} else {
		w.cancelTimer()
	}
	w.addSignals(ctx, sel)
	sel.AddReceive(w.wake, func(c workflow.ReceiveChannel, _ bool) { c.ReceiveAsync(nil) })
	sel.Select(ctx)
	if fired {
		w.timer, w.timerCancel, w.timerAt = nil, nil, time.Time{}
	}
	return fired
}

func (w *caseWorkflow) timerFor(ctx workflow.Context, at time.Time) workflow.Future {
	if w.timer != nil && w.timerAt.Equal(at) {
		return w.timer
	}
	w.cancelTimer()
	d := at.Sub(workflow.Now(ctx))
	if d < 0 {
		d = 0
	}
	tctx, cancel := workflow.WithCancel(ctx)
	w.timer, w.timerCancel, w.timerAt = workflow.NewTimer(tctx, d), cancel, at
	return w.timer
}

func (w *caseWorkflow) cancelTimer() {
	if w.timerCancel != nil {
		w.timerCancel()
	}
	w.timer, w.timerCancel, w.timerAt = nil, nil, time.Time{}
}

func (w *caseWorkflow) addSignals(ctx workflow.Context, sel workflow.Selector) {
	sel.AddReceive(w.reportsCh, func(c workflow.ReceiveChannel, _ bool) {
		var s ReportsSignal
		c.Receive(ctx, &s)
		w.recordSignal(ctx, s)
		// Take every batch already queued in one go.
		for {
			s = ReportsSignal{}
			if !c.ReceiveAsync(&s) {
				break
			}
			w.recordSignal(ctx, s)
		}
	})
	sel.AddReceive(w.replyCh, func(c workflow.ReceiveChannel, _ bool) {
		var r CustomerReply
		c.Receive(ctx, &r)
		w.onReply(ctx, r)
	})
	sel.AddReceive(w.appealCh, func(c workflow.ReceiveChannel, _ bool) {
		var a Appeal
		c.Receive(ctx, &a)
		w.onAppeal(ctx, a)
	})
}

// drainSignals handles every signal already delivered, without blocking.
func (w *caseWorkflow) drainSignals(ctx workflow.Context) {
	for {
		var s ReportsSignal
		var r CustomerReply
		var a Appeal
		switch {
		case w.reportsCh.ReceiveAsync(&s):
			w.recordSignal(ctx, s)
		case w.replyCh.ReceiveAsync(&r):
			w.onReply(ctx, r)
		case w.appealCh.ReceiveAsync(&a):
			w.onAppeal(ctx, a)
		default:
			return
		}
	}
}

// drainNewReports takes the reports delivered after the case closed (those it had not seen).
func (w *caseWorkflow) drainNewReports(ctx workflow.Context) []ReportsSignal {
	var out []ReportsSignal
	for {
		var s ReportsSignal
		if !w.reportsCh.ReceiveAsync(&s) {
			return out
		}
		fresh := ReportsSignal{Reporters: s.Reporters}
		for _, r := range s.Reports {
			if _, dup := w.seen[reportHash(r.ID)]; !dup {
				fresh.Reports = append(fresh.Reports, r)
			}
		}
		for _, ref := range s.Refs {
			if _, dup := w.seen[ref.Hash]; !dup {
				fresh.Refs = append(fresh.Refs, ref)
			}
		}
		if len(fresh.Reports)+len(fresh.Refs) > 0 {
			out = append(out, fresh)
		}
	}
}

// logDropped logs customer messages that arrived after the case closed; intake has already
// put them on the ticket, so nothing is lost, but the case does not act on them.
func (w *caseWorkflow) logDropped(ctx workflow.Context) {
	var r CustomerReply
	for w.replyCh.ReceiveAsync(&r) {
		w.log.Warn("customer message after the case closed", "message_id", r.ID, "kind", r.Kind)
	}
	var a Appeal
	for w.appealCh.ReceiveAsync(&a) {
		w.log.Warn("appeal after the case closed", "message_id", a.ID)
	}
}

// recordSignal counts a batch — its refs (counted only) and its whole reports (counted and
// kept among the recent ones) — skips reports already seen, and may raise severity or pull
// the deadline in (surge).
func (w *caseWorkflow) recordSignal(ctx workflow.Context, s ReportsSignal) {
	added, dups := 0, 0
	rs := &w.st.Reports
	before := rs.Severity
	count := func(h uint64, seenAt time.Time, sev abuse.Severity, reporter string) bool {
		if _, dup := w.seen[h]; dup {
			dups++
			return false
		}
		w.seen.remember(w.st, h)
		added++
		rs.Count++
		if !seenAt.IsZero() && (rs.FirstSeen.IsZero() || seenAt.Before(rs.FirstSeen)) {
			rs.FirstSeen = seenAt
		}
		if seenAt.After(rs.LastSeen) {
			rs.LastSeen = seenAt
		}
		rs.Severity = max(rs.Severity, sev)
		if reporter != "" && !slices.Contains(rs.Reporters, reporter) {
			if len(rs.Reporters) < maxReporters {
				rs.Reporters = append(rs.Reporters, reporter)
			} else {
				rs.ReportersLost++
			}
		}
		return true
	}
	for _, ref := range s.Refs {
		var seenAt time.Time
		if ref.Seen != 0 {
			seenAt = time.Unix(ref.Seen, 0).UTC()
		}
		reporter := ""
		if ref.Reporter > 0 && ref.Reporter <= len(s.Reporters) {
			reporter = s.Reporters[ref.Reporter-1]
		}
		sev := ref.Severity
		if sev == 0 {
			sev = w.st.Category.DefaultSeverity()
		}
		count(ref.Hash, seenAt, sev, reporter)
	}
	for _, r := range s.Reports {
		sev := r.Severity
		if sev == 0 {
			sev = r.Category.DefaultSeverity()
		}
		if count(reportHash(r.ID), r.seen(), sev, r.Reporter) {
			rs.Recent = append(rs.Recent, r)
			if len(rs.Recent) > maxRecentReports {
				rs.Recent = slices.Delete(rs.Recent, 0, len(rs.Recent)-maxRecentReports)
			}
		}
	}
	rs.Duplicates += dups
	if added == 0 && dups == 0 {
		return
	}
	w.noteReports(ctx, added, dups)
	if rs.Severity > before && before != 0 {
		w.note(ctx, EventReports, "severity raised to "+rs.Severity.String(), "")
	}
	if w.st.Status == StatusAwaitingResponse {
		w.applySurge(ctx)
	}
}

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

// onReply handles a customer's message in any state.
func (w *caseWorkflow) onReply(ctx workflow.Context, r CustomerReply) {
	if r.ID != "" {
		if slices.Contains(w.st.ReplyIDs, r.ID) {
			return
		}
		w.st.ReplyIDs = append(w.st.ReplyIDs, r.ID)
		if len(w.st.ReplyIDs) > maxReplyIDs {
			w.st.ReplyIDs = slices.Delete(w.st.ReplyIDs, 0, len(w.st.ReplyIDs)-maxReplyIDs)
		}
	}
	if r.ReceivedAt.IsZero() {
		r.ReceivedAt = workflow.Now(ctx)
	}
	if r.Kind == ReplyKindAutoReply || r.Kind == ReplyKindBounce {
		w.st.AutoReplies++
		w.note(ctx, EventAutoReply, string(r.Kind)+" from "+r.From+" recorded; it does not count as an answer", r.From)
		return
	}
	w.st.Replies++
	w.note(ctx, EventReply, "customer replied: "+excerpt(r.Excerpt, 200), r.From)
	if r.Channel == "email" && w.st.Ticket.ID != 0 {
		data := w.noticeData(ctx)
		data.Reply, data.ReplyFrom = r.Excerpt, r.From
		w.queueNotify(fmt.Sprintf("reply-%d", w.st.Replies), NotifyInput{Note: NoteReply, Status: TicketOpen, Data: data})
	}
	switch w.st.Status {
	case StatusAwaitingResponse, StatusNoticed, StatusEscalated:
		w.st.Wait = nil
		w.st.Status = StatusUnderReview
	case StatusPendingApproval:
		w.withdrawApproval(ctx, "the customer replied")
		w.st.Status = StatusUnderReview
	case StatusEnforced:
		w.onAppeal(ctx, Appeal{ID: r.ID, From: r.From, ReceivedAt: r.ReceivedAt, Channel: r.Channel, Excerpt: r.Excerpt})
	}
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
	w.st.Status = StatusAppealReview
	w.note(ctx, EventAppeal, "appeal received: "+excerpt(a.Excerpt, 200), a.From)
}

// ---- updates --------------------------------------------------------------------------------

func (w *caseWorkflow) validateApproval(ctx workflow.Context, d approval.Decision) error {
	switch d.Decision {
	case approval.Approve, approval.Deny, approval.Extend:
	default:
		return fmt.Errorf("unknown decision %q: want approve, deny or extend", d.Decision)
	}
	a := w.st.Approval
	if a != nil && a.Decision == "withdrawn" {
		return fmt.Errorf("the approval request was withdrawn at %s: %s", fmtTime(a.DecidedAt), a.Reason)
	}
	if a != nil && a.Decision != "" {
		return fmt.Errorf("already decided: %s by %s at %s", a.Decision, cmp.Or(a.DecidedByName, a.DecidedBy, "policy"), fmtTime(a.DecidedAt))
	}
	if w.st.Status != StatusPendingApproval || a == nil {
		return fmt.Errorf("no approval is pending: the case is %s", w.st.Status)
	}
	if !w.policy.Approvers.IsApprover(d.UserID, d.UserGroups) {
		return fmt.Errorf("%s is not an approver for this case", cmp.Or(d.UserName, d.UserID))
	}
	if d.Decision == approval.Deny && strings.TrimSpace(d.Reason) == "" {
		return errors.New("a denial needs a reason")
	}
	return nil
}

func (w *caseWorkflow) onApproval(ctx workflow.Context, d approval.Decision) (*DecisionResult, error) {
	a := w.st.Approval
	now := workflow.Now(ctx)
	who := cmp.Or(d.UserName, d.UserID)
	a.Decision, a.DecidedBy, a.DecidedByName, a.DecidedByEmail, a.DecidedAt, a.Reason = d.Decision, d.UserID, d.UserName, d.UserEmail, now, d.Reason
	var msg string
	switch d.Decision {
	case approval.Approve:
		w.st.Status = StatusEscalated
		w.note(ctx, EventApproval, "approved by "+who, who)
		msg = fmt.Sprintf("Approved. %s is being applied to %s.", w.st.Rules.Action.Type.Describe(w.st.Rules.Action.Level), w.st.Account.ID)
	case approval.Deny:
		w.st.Status = StatusUnderReview
		w.note(ctx, EventApproval, "denied by "+who+": "+d.Reason, who)
		data := w.noticeData(ctx)
		data.Decision, data.DecidedBy, data.Note = "denied", who, d.Reason
		w.queueNotify(fmt.Sprintf("approval-%d-denied", w.st.Escalations), NotifyInput{Note: NoteApprovalDecision, Status: TicketOpen, Data: data})
		msg = "Denied. The case is back with the agents for review."
	case approval.Extend:
		w.startWait(ctx, w.st.Rules.ExtendBy.D())
		w.note(ctx, EventApproval, "deadline extended by "+who+" to "+fmtTime(w.st.Wait.Deadline), who)
		data := w.noticeData(ctx)
		data.Deadline, data.Note = w.st.Wait.Deadline, d.Reason
		w.queueNotify(fmt.Sprintf("extended-%d", w.st.Round), NotifyInput{Public: NoticeExtended, Status: TicketPending, Data: data})
		msg = "Extended. The customer has until " + fmtTime(w.st.Wait.Deadline) + "."
	}
	w.showApproval(ctx)
	w.nudge()
	return &DecisionResult{Status: w.st.Status, Message: msg}, nil
}

func (w *caseWorkflow) validateAgentDecision(ctx workflow.Context, d AgentDecision) error {
	if strings.TrimSpace(d.Agent) == "" {
		return errors.New("the decision names no agent")
	}
	st := w.st.Status
	open := st == StatusAwaitingResponse || st == StatusUnderReview || st == StatusPendingApproval || st == StatusNoticed
	switch d.Decision {
	case DecisionAcceptRemediation, DecisionResolve, DecisionWithdraw, DecisionRequestInfo, DecisionExtendDeadline:
		if !open {
			return fmt.Errorf("%s does not apply: the case is %s", d.Decision, st)
		}
		if d.Decision == DecisionExtendDeadline && d.ExtendBy < 0 {
			return errors.New("extend_by must not be negative")
		}
	case DecisionTreatAsAppeal:
		if st != StatusEnforced || w.st.Enforcement == nil {
			return fmt.Errorf("treat_as_appeal needs an enforced case; the case is %s", st)
		}
		if now := workflow.Now(ctx); now.After(w.st.Enforcement.AppealUntil) {
			return fmt.Errorf("the appeal window closed at %s", fmtTime(w.st.Enforcement.AppealUntil))
		}
	case DecisionGrantAppeal, DecisionDenyAppeal:
		if st != StatusAppealReview || w.appealChild == nil || w.appealDone {
			return fmt.Errorf("%s needs an appeal under review; the case is %s", d.Decision, st)
		}
		if w.st.Appeal != nil && w.st.Appeal.Reviewer != "" {
			return fmt.Errorf("the appeal was already decided by %s", w.st.Appeal.Reviewer)
		}
		if e := w.st.Enforcement; e != nil && e.ApprovedByEmail != "" && strings.EqualFold(strings.TrimSpace(d.Agent), e.ApprovedByEmail) {
			return fmt.Errorf("%s approved the enforcement and may not decide its appeal; another reviewer must", d.Agent)
		}
		if d.Decision == DecisionDenyAppeal && strings.TrimSpace(d.Note) == "" {
			return errors.New("denying an appeal needs the reasons in the note")
		}
	default:
		return fmt.Errorf("unknown decision %q", d.Decision)
	}
	return nil
}

func (w *caseWorkflow) onAgentDecision(ctx workflow.Context, d AgentDecision) (*DecisionResult, error) {
	w.note(ctx, EventDecision, string(d.Decision)+" by "+d.Agent+noteSuffix(d.Note), d.Agent)
	var msg string
	switch d.Decision {
	case DecisionAcceptRemediation, DecisionResolve, DecisionWithdraw:
		outcome := map[Decision]Outcome{DecisionAcceptRemediation: OutcomeRemediated, DecisionResolve: OutcomeResolved, DecisionWithdraw: OutcomeWithdrawn}[d.Decision]
		w.withdrawApproval(ctx, "an agent decided: "+string(d.Decision))
		w.finishNotified(ctx, outcome, StatusResolved, d.Notified)
		msg = "Case closed: " + string(outcome) + "."
	case DecisionRequestInfo:
		w.withdrawApproval(ctx, "an agent asked the customer for more information")
		w.startWait(ctx, w.st.Rules.MoreInfoWindow.D())
		data := w.noticeData(ctx)
		data.Deadline, data.Note, data.DecidedBy = w.st.Wait.Deadline, d.Note, d.Agent
		w.queueNotify(fmt.Sprintf("more-info-%d", w.st.Round), NotifyInput{Public: publicUnless(d.Notified, NoticeMoreInfo), Note: noteIf(d.Notified), Status: TicketPending, Data: data})
		msg = "More information requested; new deadline " + fmtTime(w.st.Wait.Deadline) + "."
	case DecisionExtendDeadline:
		by := d.ExtendBy
		if by == 0 {
			by = w.st.Rules.ExtendBy.D()
		}
		w.withdrawApproval(ctx, "an agent extended the deadline")
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
		data.Deadline, data.Note = w.st.Wait.Deadline, d.Note
		w.queueNotify(fmt.Sprintf("extended-%d-%s", w.st.Round, w.st.Wait.Deadline.UTC().Format("20060102T150405")), NotifyInput{Public: publicUnless(d.Notified, NoticeExtended), Note: noteIf(d.Notified), Status: TicketPending, Data: data})
		msg = "Deadline extended to " + fmtTime(w.st.Wait.Deadline) + "."
	case DecisionTreatAsAppeal:
		w.onAppeal(ctx, Appeal{ID: "agent:" + d.Agent + ":" + workflow.Now(ctx).UTC().Format(time.RFC3339), From: d.Agent, ReceivedAt: workflow.Now(ctx), Channel: "zendesk", Excerpt: d.Note})
		msg = "The customer's message is now an appeal under review."
	case DecisionGrantAppeal, DecisionDenyAppeal:
		dec := AppealDecision{Grant: d.Decision == DecisionGrantAppeal, Reviewer: d.Agent, ReviewerID: d.AgentID, Note: d.Note, Notified: d.Notified}
		if err := w.appealChild.SignalChildWorkflow(ctx, signalAppealDecision, dec).Get(ctx, nil); err != nil {
			return nil, fmt.Errorf("pass the decision to the appeal: %w", err)
		}
		w.st.Appeal.Reviewer = d.Agent
		msg = "Appeal decision recorded: " + map[bool]string{true: "granted", false: "denied"}[dec.Grant] + "."
	}
	w.nudge()
	return &DecisionResult{Status: w.st.Status, Message: msg}, nil
}

// withdrawApproval marks a pending approval as no longer needed and updates its message.
func (w *caseWorkflow) withdrawApproval(ctx workflow.Context, reason string) {
	a := w.st.Approval
	if w.st.Status != StatusPendingApproval || a == nil || a.Decision != "" {
		return
	}
	a.Decision, a.DecidedAt, a.Reason = "withdrawn", workflow.Now(ctx), reason
	w.note(ctx, EventApproval, "approval request withdrawn: "+reason, "")
	w.showApproval(ctx)
}

// showApproval queues the update of the Slack message to show the decision without buttons.
func (w *caseWorkflow) showApproval(ctx workflow.Context) {
	a := w.st.Approval
	if a == nil || a.Message.TS == "" || a.Shown {
		return
	}
	a.Shown = true
	out := ApprovalOutcome{Message: a.Message, Data: w.noticeData(ctx), Decision: a.Decision,
		DecidedBy: cmp.Or(a.DecidedByName, a.DecidedBy), DecidedAt: a.DecidedAt, Reason: a.Reason}
	w.effect("show the approval decision in Slack", func(ctx workflow.Context) error {
		return workflow.ExecuteActivity(w.actx(ctx), ActivityUpdateApproval, out).Get(ctx, nil)
	})
}

func (w *caseWorkflow) nudge() { w.wake.SendAsync(true) }

// ---- effects, activities, visibility ------------------------------------------------------

func (w *caseWorkflow) effect(name string, run func(ctx workflow.Context) error) {
	w.effects = append(w.effects, effect{name: name, run: run})
}

func (w *caseWorkflow) runEffects(ctx workflow.Context) {
	for len(w.effects) > 0 {
		e := w.effects[0]
		w.effects = w.effects[1:]
		if err := e.run(ctx); err != nil {
			w.stepFailedNoReview(ctx, e.name, err)
		}
	}
}

func (w *caseWorkflow) queueNotify(step string, in NotifyInput) {
	if w.st.Ticket.ID == 0 {
		return
	}
	in.Ticket, in.Step = w.st.Ticket, step
	w.effect("post "+cmp.Or(in.Public, in.Note), func(ctx workflow.Context) error {
		return workflow.ExecuteActivity(w.actx(ctx), ActivityNotify, in).Get(ctx, nil)
	})
}

// notify posts on the ticket now; false when it failed (already recorded).
func (w *caseWorkflow) notify(ctx workflow.Context, in NotifyInput) bool {
	if w.st.Ticket.ID == 0 {
		return false
	}
	in.Ticket = w.st.Ticket
	if err := workflow.ExecuteActivity(w.actx(ctx), ActivityNotify, in).Get(ctx, nil); err != nil {
		w.stepFailedNoReview(ctx, "post "+cmp.Or(in.Public, in.Note), err)
		return false
	}
	return true
}

func (w *caseWorkflow) actx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute},
	})
}

// stepFailed records a step that failed for good (its activity gave up) and hands the case to
// people: it moves to under_review, where an agent decides.
func (w *caseWorkflow) stepFailed(ctx workflow.Context, step string, err error) {
	w.stepFailedNoReview(ctx, step, err)
	if !w.st.Status.Final() && w.st.Status != StatusAppealReview {
		w.withdrawApproval(ctx, "a step failed")
		w.st.Wait = nil
		w.st.Status = StatusUnderReview
	}
}

func (w *caseWorkflow) stepFailedNoReview(ctx workflow.Context, step string, err error) {
	w.log.Error("case step failed", "step", step, "error", err)
	w.note(ctx, EventNote, "failed to "+step+": "+rootMessage(err), "")
}

type searchValue struct {
	key string
	val any
	upd temporal.SearchAttributeUpdate
}

// publish upserts the search attributes that changed since the last call (all of them at the
// start of a run).
func (w *caseWorkflow) publish(ctx workflow.Context) {
	st := w.st
	vals := []searchValue{
		{SearchStatus.GetName(), string(st.Status), SearchStatus.ValueSet(string(st.Status))},
		{SearchAccount.GetName(), st.Account.ID, SearchAccount.ValueSet(st.Account.ID)},
		{SearchCategory.GetName(), string(st.Category), SearchCategory.ValueSet(string(st.Category))},
		{SearchCaseNumber.GetName(), st.CaseNumber, SearchCaseNumber.ValueSet(st.CaseNumber)},
		{SearchReportCount.GetName(), int64(st.Reports.Count), SearchReportCount.ValueSet(int64(st.Reports.Count))},
	}
	if st.Account.Tier != "" {
		vals = append(vals, searchValue{SearchTier.GetName(), st.Account.Tier, SearchTier.ValueSet(st.Account.Tier)})
	}
	if st.Ticket.ID != 0 {
		vals = append(vals, searchValue{SearchTicketID.GetName(), st.Ticket.ID, SearchTicketID.ValueSet(st.Ticket.ID)})
	}
	if deadline, _ := w.deadline(); deadline.IsZero() {
		vals = append(vals, searchValue{SearchDeadline.GetName(), time.Time{}, SearchDeadline.ValueUnset()})
	} else {
		vals = append(vals, searchValue{SearchDeadline.GetName(), deadline.UTC(), SearchDeadline.ValueSet(deadline.UTC())})
	}
	var updates []temporal.SearchAttributeUpdate
	for _, v := range vals {
		if old, ok := w.published[v.key]; ok && old == v.val {
			continue
		}
		w.published[v.key] = v.val
		updates = append(updates, v.upd)
	}
	if len(updates) > 0 {
		if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
			w.log.Warn("search attributes not updated", "error", err)
		}
	}
}

// deadline is the time the current wait ends, and what it is.
func (w *caseWorkflow) deadline() (time.Time, string) {
	switch w.st.Status {
	case StatusAwaitingResponse:
		if w.st.Wait != nil {
			return w.st.Wait.Deadline, "response"
		}
	case StatusPendingApproval:
		if a := w.st.Approval; a != nil && !a.Deadline.IsZero() {
			return a.Deadline, "approval"
		}
	case StatusEnforced:
		if e := w.st.Enforcement; e != nil {
			return e.AppealUntil, "appeal window"
		}
	case StatusAppealReview:
		if ap := w.st.Appeal; ap != nil && !ap.SLADeadline.IsZero() {
			return ap.SLADeadline, "appeal decision"
		}
	}
	return time.Time{}, ""
}

func (w *caseWorkflow) shouldContinueAsNew(ctx workflow.Context) bool {
	switch w.st.Status {
	case StatusAwaitingResponse, StatusUnderReview, StatusPendingApproval, StatusEnforced:
	default:
		return false // mid-step or an appeal child is running
	}
	if len(w.effects) > 0 {
		return false
	}
	info := workflow.GetInfo(ctx)
	return info.GetContinueAsNewSuggested() || info.GetCurrentHistoryLength() >= maxHistoryEvents || info.GetCurrentHistorySize() >= maxHistoryBytes
}

// continueAsNew carries the state (or, with st nil, starts a fresh case with pending reports).
func (w *caseWorkflow) continueAsNew(ctx workflow.Context, st *CaseState, pending []ReportsSignal) error {
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return err
	}
	if st != nil {
		w.drainSignals(ctx)
		w.runEffects(ctx)
		st.Timeline = append(st.Timeline, TimelineEntry{At: workflow.Now(ctx), Kind: EventNote, Text: fmt.Sprintf("history compacted (run %d)", st.Runs+1)})
		w.trimTimeline()
	}
	w.cancelTimer()
	return workflow.NewContinueAsNewError(ctx, CaseWorkflowType, CaseInput{
		AccountID:      w.st.Account.ID,
		Category:       w.st.Category,
		Policy:         w.policy,
		State:          st,
		PendingBatches: pending,
	})
}

// ---- timeline and views -------------------------------------------------------------------

func (w *caseWorkflow) note(ctx workflow.Context, kind, text, actor string) {
	w.reportsOpen = false
	w.st.Timeline = append(w.st.Timeline, TimelineEntry{At: workflow.Now(ctx), Kind: kind, Text: text, Actor: actor})
	w.trimTimeline()
}

// noteReports coalesces consecutive report batches into one timeline entry, so a storm does
// not push everything else out of the bounded timeline.
func (w *caseWorkflow) noteReports(ctx workflow.Context, added, dups int) {
	if n := len(w.st.Timeline); w.reportsOpen && n > 0 && w.st.Timeline[n-1].Kind == EventReports {
		w.reportsAdded += added
		w.reportsDups += dups
		e := &w.st.Timeline[n-1]
		e.At = workflow.Now(ctx)
		e.Text = reportsText(w.reportsAdded, w.reportsDups)
		return
	}
	w.note(ctx, EventReports, reportsText(added, dups), "")
	w.reportsOpen, w.reportsAdded, w.reportsDups = true, added, dups
}

func reportsText(added, dups int) string {
	s := fmt.Sprintf("%d new report(s)", added)
	if dups > 0 {
		s += fmt.Sprintf(", %d duplicate(s) ignored", dups)
	}
	return s
}

func (w *caseWorkflow) trimTimeline() {
	if over := len(w.st.Timeline) - maxTimeline; over > 0 {
		w.st.Timeline = slices.Delete(w.st.Timeline, 0, over)
		w.st.TimelineLost += over
	}
}

func (w *caseWorkflow) approvalReason() string {
	switch {
	case w.st.Account.Tier == abuse.TierStrategic:
		return "strategic account"
	case w.st.Track == policy.TrackStrict && w.policy.RepeatOffender.RequireApproval:
		return "repeat offender"
	default:
		return "the policy for " + string(w.st.Category) + " requires it"
	}
}

func (w *caseWorkflow) evidenceDigests(n int) []string {
	var out []string
	for _, r := range w.st.Reports.Recent {
		if r.Evidence != "" && !slices.Contains(out, r.Evidence) {
			out = append(out, r.Evidence)
		}
		if len(out) == n {
			break
		}
	}
	return out
}

// noticeData is the template data for the case as it stands.
func (w *caseWorkflow) noticeData(ctx workflow.Context) NoticeData {
	st := w.st
	rs := st.Reports
	examples := rs.Recent
	if len(examples) > 5 {
		examples = examples[len(examples)-5:]
	}
	d := NoticeData{
		CaseID: st.CaseID, Status: st.Status, CaseNumber: st.CaseNumber, Account: st.Account, Category: st.Category,
		CategoryTitle: st.Category.Title(), Track: st.Track,
		Reports: ReportDigest{Count: rs.Count, FirstSeen: rs.FirstSeen, LastSeen: rs.LastSeen,
			Severity: rs.Severity.String(), Examples: slices.Clone(examples), Reporters: len(rs.Reporters) + rs.ReportersLost},
		Action:  ActionView{Type: st.Rules.Action.Type, Level: st.Rules.Action.Level, Description: st.Rules.Action.Type.Describe(st.Rules.Action.Level)},
		Outcome: st.Outcome,
	}
	if st.Wait != nil {
		d.Deadline, d.Window = st.Wait.Deadline, st.Wait.Deadline.Sub(st.Wait.StartedAt)
	}
	if e := st.Enforcement; e != nil {
		d.Action.ID, d.Action.AppliedAt, d.Action.ExpiresAt = e.ActionID, e.AppliedAt, e.ExpiresAt
		d.AppealUntil = e.AppealUntil
	}
	if ap := st.Appeal; ap != nil {
		d.AppealSLA = ap.SLADeadline
	}
	if st.Approval != nil || st.Rules.Approval.Required {
		d.ApprovalNeeds = w.approvalReason()
	}
	return d
}

func (w *caseWorkflow) view(ctx workflow.Context) *CaseView {
	st := w.st
	deadline, kind := w.deadline()
	v := &CaseView{
		CaseID: st.CaseID, CaseNumber: st.CaseNumber, Status: st.Status, Account: st.Account,
		Category: st.Category, Track: st.Track, Severity: st.Reports.Severity.String(), OpenedAt: st.OpenedAt,
		Deadline: deadline, DeadlineKind: kind, Reports: st.Reports, Replies: st.Replies, AutoReplies: st.AutoReplies,
		Ticket: st.Ticket, Approval: st.Approval, Enforcement: st.Enforcement, Appeal: st.Appeal,
		Outcome: st.Outcome, Timeline: st.Timeline, TimelineLost: st.TimelineLost, PolicyRules: st.Rules, Runs: st.Runs,
	}
	return v
}

// ---- helpers ------------------------------------------------------------------------------

func fmtTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// noteIf records a decision as an internal note when the agent's macro answered the customer.
func noteIf(notified bool) string {
	if notified {
		return NoteDecision
	}
	return ""
}

func noteSuffix(n string) string {
	if n = strings.TrimSpace(n); n == "" {
		return ""
	}
	return ": " + excerpt(n, 200)
}

func excerpt(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && (s[cut]&0xC0) == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}

// rootMessage is the innermost message of an activity error, which is what people need.
func rootMessage(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Error()
	}
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}
