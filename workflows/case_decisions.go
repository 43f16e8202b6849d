package workflows

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"
)

// Agent decisions: the macros agents apply in Zendesk, as an Update with a validator.

func (w *caseWorkflow) validateAgentDecision(ctx workflow.Context, d AgentDecision) error {
	if w.sameOwner(d) {
		return nil // changes nothing: the ticketing system echoing the desk's own assignment
	}
	if err := w.agentDecisionFits(ctx, d); err != nil {
		return err
	}
	if w.confidential() {
		return w.legalDecider(d)
	}
	return nil
}

// agentDecisionFits checks a decision against the case, not who made it: the handler checks it
// again (two decisions in one workflow task both pass the validator), while who may decide is
// the validator's alone, which replay does not run.
func (w *caseWorkflow) agentDecisionFits(ctx workflow.Context, d AgentDecision) error {
	if strings.TrimSpace(d.Agent) == "" {
		return errors.New("the decision names no agent")
	}
	if slices.Contains(TriageDecisions, d.Decision) {
		return w.validateTriage(d)
	}
	if d.Decision == DecisionMoveToLegal {
		return w.validateMoveToLegal()
	}
	if d.Decision == DecisionHotlineReported {
		return w.validateHotline(d)
	}
	if d.Decision == DecisionAssign {
		return w.validateAssign()
	}
	if slices.Contains(LegalDecisions, d.Decision) {
		return w.validateLegal(ctx, d)
	}
	if d.Decision == DecisionHandOff {
		return w.validateHandOff(d)
	}
	if slices.Contains(ReinstatementDecisions, d.Decision) {
		return fmt.Errorf("%s decides a request for reinstatement, made after the case closed; this case is %s", d.Decision, w.st.Status)
	}
	st := w.st.Status
	if t := w.track(); !t.Violation() && st != StatusEnforced && st != StatusAppealReview {
		// Outside the abuse track an agent closes a case; asking the customer for an answer
		// would start a response wait that ends in enforcement.
		if !slices.Contains(ClosingDecisions, d.Decision) {
			return fmt.Errorf("%s does not apply to a case on the %s track", d.Decision, t)
		}
		if st == StatusLegalReview || st == StatusMonitoring {
			return nil
		}
	}
	statuses, known := DecisionStatuses[d.Decision]
	if !known {
		return fmt.Errorf("unknown decision %q", d.Decision)
	}
	if !slices.Contains(statuses, st) {
		switch d.Decision {
		case DecisionTreatAsAppeal:
			return fmt.Errorf("treat_as_appeal needs an enforced case; the case is %s", st)
		case DecisionGrantAppeal, DecisionDenyAppeal:
			return fmt.Errorf("%s needs an appeal under review; the case is %s", d.Decision, st)
		}
		if st == StatusVerifying {
			return fmt.Errorf("%s does not apply: the customer's fix is being verified (the case is %s)", d.Decision, st)
		}
		return fmt.Errorf("%s does not apply: the case is %s", d.Decision, st)
	}
	// Each decision's own conditions.
	switch d.Decision {
	case DecisionExtendDeadline:
		if d.ExtendBy < 0 {
			return errors.New("extend_by must not be negative")
		}
	case DecisionTreatAsAppeal:
		if w.st.Enforcement == nil {
			return fmt.Errorf("treat_as_appeal needs an enforced case; the case is %s", st)
		}
		if now := workflow.Now(ctx); now.After(w.st.Enforcement.AppealUntil) {
			return fmt.Errorf("the appeal window closed at %s", fmtTime(w.st.Enforcement.AppealUntil))
		}
	case DecisionGrantAppeal, DecisionDenyAppeal:
		if w.appealChild == nil || w.appealDone {
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
	}
	return nil
}

func (w *caseWorkflow) onAgentDecision(ctx workflow.Context, d AgentDecision) (*DecisionResult, error) {
	if workflow.GetVersion(ctx, versionDeskTeam, workflow.DefaultVersion, 1) >= 1 {
		// One decision at a time: naming who decided may wait on the ticketing system, and a
		// decision that waited must see what the one before it did.
		if err := w.decisions.Lock(ctx); err != nil {
			return nil, err
		}
		defer w.decisions.Unlock()
	}
	if w.sameOwner(d) {
		return &DecisionResult{Status: w.st.Status, Message: "The case is assigned to " + w.st.Assignee.Email + " already."}, nil
	}
	// Two decisions delivered in the same workflow task both pass their validators before
	// either handler runs: the first one applied wins, the second is refused here. Who
	// decided is the desk team's word for the agent's ID, never the payload's.
	if err := deskAgent(ctx, &w.st.Team, &d); err != nil {
		return nil, err
	}
	if err := w.agentDecisionFits(ctx, d); err != nil {
		return nil, err
	}
	if d.Decision == DecisionAssign {
		return w.assign(ctx, d)
	}
	if d.Decision == DecisionGrantAppeal {
		// The checks run first: a grant they refuse is no decision (the timeline says why).
		if err := w.checkBeforeLifting(ctx, d); err != nil {
			w.note(ctx, EventDecision, fmt.Sprintf("grant_appeal by %s refused: %v", d.Agent, err), d.Agent)
			return nil, err
		}
	}
	what := string(d.Decision) + " by " + d.Agent + noteSuffix(d.Note)
	if d.Decision == DecisionMoveToLegal {
		what = "the reports were moved out of this case (confidential) by " + d.Agent // the timeline names no legal matter
	}
	w.note(ctx, EventDecision, what, d.Agent)
	w.record(ctx, LedgerEvent{Kind: d.Decision.ledgerKind(), Decision: string(d.Decision), Actor: d.Agent, Text: d.Note})
	var msg string
	switch d.Decision {
	case DecisionConfirm, DecisionReclassify, DecisionNotAbuse, DecisionRoute:
		msg = w.onTriage(ctx, d)
	case DecisionValidate, DecisionPreserve, DecisionExtendPreservation, DecisionReleasePreservation,
		DecisionDisclose, DecisionReject, DecisionAskMore, DecisionCloseMatter, DecisionNotLegal:
		msg = w.onLegal(ctx, d)
	case DecisionAcceptRemediation, DecisionResolve, DecisionWithdraw:
		if d.Decision == DecisionAcceptRemediation && w.verifies(ctx) {
			msg = w.startVerification(ctx, d)
			break
		}
		w.stopVerification()
		outcome := map[Decision]Outcome{DecisionAcceptRemediation: OutcomeRemediated, DecisionResolve: OutcomeResolved, DecisionWithdraw: OutcomeWithdrawn}[d.Decision]
		w.withdrawApproval(ctx, "an agent decided: "+string(d.Decision))
		w.finishNotified(ctx, outcome, StatusResolved, d.Notified)
		msg = "Case closed: " + string(outcome) + "."
	case DecisionRequestInfo:
		w.stopVerification()
		w.withdrawApproval(ctx, "an agent asked the customer for more information")
		window, _ := w.statedWindow(workflow.Now(ctx), w.st.Rules.MoreInfoWindow.D()) // a carrier's deadline still comes first
		w.startWait(ctx, window)
		data := w.noticeData(ctx)
		data.Deadline, data.Note, data.DecidedBy = w.st.Wait.Deadline, d.Note, d.Agent
		w.queueNotify(fmt.Sprintf("more-info-%d", w.st.Round), NotifyInput{Public: publicUnless(d.Notified, NoticeMoreInfo), Note: noteIf(d.Notified), Status: TicketPending, Data: data})
		msg = "More information requested; new deadline " + fmtTime(w.st.Wait.Deadline) + "."
	case DecisionExtendDeadline:
		by := cmp.Or(d.ExtendBy, w.st.Rules.ExtendBy.D())
		w.withdrawApproval(ctx, "an agent extended the deadline")
		w.extendDeadline(ctx, by, d.Note, d.Notified)
		msg = "Deadline extended to " + fmtTime(w.st.Wait.Deadline) + "."
	case DecisionHandOff:
		msg = w.startHandOff(ctx, d)
	case DecisionMoveToLegal:
		msg = w.moveToLegal(ctx, d)
	case DecisionHotlineReported:
		msg = w.onHotline(ctx, d)
	case DecisionTreatAsAppeal:
		w.onAppeal(ctx, Appeal{ID: "agent:" + d.Agent + ":" + workflow.Now(ctx).UTC().Format(time.RFC3339), From: d.Agent, ReceivedAt: workflow.Now(ctx), Channel: ChannelZendesk, Excerpt: d.Note})
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

// ledgerKind is the ledger event an agent's decision is recorded as.
func (d Decision) ledgerKind() string {
	switch d {
	case DecisionConfirm, DecisionReclassify, DecisionNotAbuse, DecisionRoute:
		return LedgerTriaged
	case DecisionValidate, DecisionPreserve, DecisionExtendPreservation, DecisionReleasePreservation,
		DecisionDisclose, DecisionReject, DecisionAskMore, DecisionCloseMatter, DecisionNotLegal, DecisionHotlineReported:
		return LedgerLegalDecided
	}
	return LedgerAgentDecision
}
