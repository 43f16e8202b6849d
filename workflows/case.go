package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"abusedesk/domain/abuse"
	"abusedesk/domain/policy"
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

// Change IDs of workflow.GetVersion: each guards a change in what a running case decides, so
// histories recorded before it replay as they ran.
const (
	// versionStrategicHolds: a strategic account's approval timeout holds instead of enforcing.
	versionStrategicHolds = "strategic-approval-holds"
	// versionDuplicateIncident: a new incident whose every report the previous one handled
	// closes as a duplicate.
	versionDuplicateIncident = "duplicate-incident"
	// versionIncidentNumber: each incident gets its own case number (from its first run).
	versionIncidentNumber = "incident-number"
	// versionTriageGate: a case whose every report is uncertain waits for triage.
	versionTriageGate = "triage-gate"
	// versionTracks: legal, advisory and customer cases follow their track's lifecycle.
	versionTracks = "track-lifecycles"
	// versionScopedActions: abuse from one number or sender ID is acted on there.
	versionScopedActions = "scoped-actions"
	// versionApprovalChain: an approval timeout never enforces; it asks the managers, then holds.
	versionApprovalChain = "approval-chain"
	// versionLedger: a case records its events in the ledger (RecordEvents).
	versionLedger = "ledger"
	// versionBusinessHours: the triage SLA and the legal due time run on the policy's calendar.
	versionBusinessHours = "business-hours"
	// versionVerifiedRemediation: an accepted fix is re-checked before the case closes, and the
	// checks run once when the customer answers.
	versionVerifiedRemediation = "verified-remediation"
	// versionProbation: a new abuse case on an account on probation after a reinstatement goes
	// on the strict track with a lead's approval, and the reinstatement records a re-offence.
	versionProbation = "probation"
	// versionResolvedDeciders: who may decide an approval is resolved from Slack when it is
	// asked and kept in the case; a decision's claimed groups count for nothing.
	versionResolvedDeciders = "resolved-deciders"
	// versionLegalTeam: a legal case resolves the legal group's agents from the ticketing
	// system and accepts a decision only from one of them.
	versionLegalTeam = "legal-team"
	// versionReceiptLedger: an acknowledgement of receipt to an authority is a ledger event.
	versionReceiptLedger = "receipt-ledger"
	// versionReviewSLA: a case under review has an agent's due time (review_sla).
	versionReviewSLA = "review-sla"
	// versionRelisting: a blocklist incident looks up the account's previous one and says
	// when it is a relisting.
	versionRelisting = "relisting"
)

// Error types of the Case workflow's own failures.
const (
	ErrInvalidCaseInput = "InvalidCaseInput"
)

// Case is the workflow of one case, one per (account, category). Intake starts or joins
// it with SignalWithStart (SignalReports). On the abuse track it opens the ticket and sends the
// notice (after the triage gate, when every report is uncertain), waits for the customer with
// reminders, escalates a silent account (with a lead's approval where the policy asks),
// enforces and verifies, handles appeals through the Appeal child, and closes with an outcome;
// advisory, legal and customer cases follow their own lifecycles (case_tracks.go). Its
// statuses and the moves between them are in lifecycle.go; each stage has its file
// (case_notice.go, case_triage.go, case_approval.go, case_enforcement.go, case_appeal.go,
// case_decisions.go, case_inbox.go, case_effects.go, case_view.go, case_tracks.go).
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
	handOffCh workflow.ReceiveChannel
	// wake is nudged by update handlers so the main loop re-reads the state.
	wake workflow.Channel

	// decisions lets agent decisions apply one at a time (see onAgentDecision).
	decisions workflow.Mutex

	// effects are side effects (activities) decided by handlers, run by the main loop in order.
	effects []effect

	timerAt     time.Time
	timer       workflow.Future
	timerCancel workflow.CancelFunc

	appealChild workflow.ChildWorkflowFuture
	appealDone  bool
	appealRes   *AppealResult

	published map[string]any

	ledger ledger

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
		handOffCh: workflow.GetSignalChannel(ctx, SignalHandOff),
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
		number := CaseNumber(id)
		if workflow.GetVersion(ctx, versionIncidentNumber, workflow.DefaultVersion, 1) >= 1 {
			number = IncidentNumber(id, info.WorkflowExecution.RunID)
		}
		w.st = &CaseState{
			CaseID:     id,
			CaseNumber: number,
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
	w.ledger.on = workflow.GetVersion(ctx, versionLedger, workflow.DefaultVersion, 1) >= 1
	switch {
	case in.State == nil:
		w.record(ctx, LedgerEvent{At: w.st.OpenedAt, Kind: LedgerOpened})
	case w.ledger.on && w.st.LedgerSeq == 0:
		// A case from before the ledger: what it did so far, rebuilt from its state.
		w.ledger.pending = LedgerFromView(w.view(ctx))
	}
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
	w.decisions = workflow.NewMutex(ctx)
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
		case StatusNeedsTriage:
			w.awaitTriage(ctx)
		case StatusLegalReview:
			w.awaitLegal(ctx)
		case StatusMonitoring:
			w.awaitMonitoring(ctx)
		case StatusNoticed:
			window, _ := w.responseWindow(workflow.Now(ctx))
			w.startWait(ctx, window)
		case StatusAwaitingResponse:
			w.awaitResponse(ctx)
		case StatusUnderReview:
			w.waitUntil(ctx, time.Time{})
		case StatusVerifying:
			w.awaitVerification(ctx)
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
	w.awaitLedger(ctx)
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
		Seen:        w.st.Seen,
	}, nil
}

func (w *caseWorkflow) shouldContinueAsNew(ctx workflow.Context) bool {
	switch w.st.Status {
	case StatusAwaitingResponse, StatusUnderReview, StatusPendingApproval, StatusEnforced, StatusLegalReview, StatusMonitoring, StatusVerifying:
	case StatusNeedsTriage:
		if w.st.Triage == nil || w.st.Triage.Decision != "" {
			return false // a decision is being applied
		}
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
	w.awaitLedger(ctx)
	w.cancelTimer()
	return workflow.NewContinueAsNewError(ctx, CaseWorkflowType, CaseInput{
		AccountID:      w.st.Account.ID,
		Category:       w.st.Category,
		Policy:         w.policy,
		State:          st,
		PendingBatches: pending,
	})
}

// setStatus moves the case to another status. A move that Moves does not allow is a bug in this
// workflow: it panics, which fails the workflow task without acting (Temporal retries it once
// the code is fixed) instead of taking a case somewhere its lifecycle has no way out of.
func (w *caseWorkflow) setStatus(to Status) {
	from := w.st.Status
	if from == to {
		return
	}
	if !CanMove(from, to) {
		panic(fmt.Sprintf("case %s: %s → %s is not an allowed move (workflows.Moves)", w.st.CaseID, from, to))
	}
	w.st.Status = to
	if to != StatusUnderReview {
		w.st.Review = nil
	}
}

// review puts the case under review for an agent, saying why, due within the policy's
// review_sla (a case whose policy predates it has no due time).
func (w *caseWorkflow) review(ctx workflow.Context, why string) {
	w.setStatus(StatusUnderReview)
	sla := w.policy.Rules.ReviewSLA.D()
	if sla <= 0 || workflow.GetVersion(ctx, versionReviewSLA, workflow.DefaultVersion, 1) < 1 {
		return
	}
	now := workflow.Now(ctx)
	w.st.Review = &ReviewState{Since: now, Due: now.Add(sla), Why: why}
}
