package workflows

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"abusedesk/domain/abuse"
	"abusedesk/domain/approval"
	"abusedesk/domain/policy"
)

// Escalation and approval: at the deadline a silent account is escalated; where the policy asks,
// a lead approves, denies or extends in Slack (an Update with a validator), re-pinged until the
// policy's timeout, which enforces or holds.

// escalate decides between enforcing and asking a lead.
func (w *caseWorkflow) escalate(ctx workflow.Context) {
	r := w.st.Rules
	if r.Action.Type == abuse.ActionNone {
		w.review(ctx, "the customer did not answer, and the policy applies no automatic action")
		w.note(ctx, EventEscalation, "referred to the abuse team: the policy applies no automatic action", "")
		w.record(ctx, LedgerEvent{Kind: LedgerEscalated, Decision: "review"})
		w.notify(ctx, NotifyInput{Step: fmt.Sprintf("escalation-%d", w.st.Escalations), Note: NoteEscalation, Status: TicketOpen, Data: w.noticeData(ctx)})
		return
	}
	a := w.st.Approval
	decided := a != nil && a.Escalation == w.st.Escalations && (a.Decision == approval.Approve || a.Decision == ApprovalTimedOut)
	needsLead, why, basis := r.Approval.Required, "", ""
	if !decided && !needsLead {
		// The desk acts alone only on corroborated reports; otherwise a lead decides, and no
		// timeout turns the request into enforcement.
		basis = r.Corroboration.Corroborated(w.st.Reports.Reporters, w.st.Reports.ReportersLost)
		if basis == "" && workflow.GetVersion(ctx, versionCorroboration, workflow.DefaultVersion, 1) >= 1 {
			basis = w.checkConfirms(ctx)
		}
		if basis == "" && workflow.GetVersion(ctx, versionCorroboration, workflow.DefaultVersion, 1) >= 1 {
			needsLead, why = true, fmt.Sprintf("uncorroborated: %d reporter(s), none trusted (the policy asks for %d, or a trusted one)",
				len(w.st.Reports.Reporters)+w.st.Reports.ReportersLost, r.Corroboration.Reporters)
			w.st.Rules.Approval.OnTimeout = policy.OnTimeoutHold
		} else if w.firstEnforcement(ctx) {
			needsLead, why = true, "first enforcement: the account has no prior violation, and a person decides the first action against it"
			w.st.Rules.Approval.OnTimeout = policy.OnTimeoutHold
		} else if basis != "" && (r.Corroboration.Reporters > 1 || strings.HasPrefix(basis, checkConfirmsPrefix)) {
			w.note(ctx, EventEscalation, "automatic action allowed: "+basis, "")
		}
	}
	if decided || !needsLead {
		switch {
		case !decided:
			w.st.AllowedBy = "the desk alone: " + cmp.Or(basis, "the policy asks for no lead")
		case a.Decision == ApprovalTimedOut:
			w.st.AllowedBy = "no lead decided in time, and the policy enforces at the timeout"
		default:
			w.st.AllowedBy = ""
		}
		w.enforce(ctx)
		return
	}
	now := workflow.Now(ctx)
	w.st.Approval = &ApprovalState{Escalation: w.st.Escalations, RequestedAt: now, Deadline: now.Add(r.Approval.Timeout.D()), Why: why}
	w.setStatus(StatusPendingApproval)
	w.resolveDeciders(ctx, w.leads())
	var msg approval.Message
	err := workflow.ExecuteActivity(withStep(ctx), ActivityRequestApproval, ApprovalRequest{
		Step:     fmt.Sprintf("approval-%d", w.st.Escalations),
		Data:     w.noticeData(ctx),
		Deadline: w.st.Approval.Deadline,
		Legal:    w.legalApprovers(),
	}).Get(ctx, &msg)
	if err != nil {
		w.stepFailed(ctx, "ask the leads for approval", err)
		return
	}
	if w.st.Approval != nil {
		w.st.Approval.Message = msg
	}
	w.note(ctx, EventApproval, "approval requested from the leads ("+w.approvalReason()+")", "")
	w.record(ctx, LedgerEvent{At: now, Kind: LedgerApprovalAsked, Text: w.approvalReason()})
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
		w.resolveDeciders(ctx, w.askedNow())
		data := w.noticeData(ctx)
		err := workflow.ExecuteActivity(withStep(ctx), ActivityRequestApproval, ApprovalRequest{
			Step: fmt.Sprintf("approval-%d-ping-%d", w.st.Escalations, a.Pings), Data: data,
			Ping: a.Pings, Existing: a.Message, Deadline: a.Deadline, Legal: w.legalApprovers(),
		}).Get(ctx, nil)
		if err != nil {
			w.stepFailed(ctx, "re-ping the leads", err)
			return
		}
		w.note(ctx, EventApproval, fmt.Sprintf("no decision yet; leads pinged again (%d of %d)", a.Pings, rules.Repings), "")
		return
	}
	if workflow.GetVersion(ctx, versionApprovalChain, workflow.DefaultVersion, 1) >= 1 {
		// A timeout never enforces: the request goes up the chain (the managers, once), then
		// holds for a person.
		managers := w.policy.Managers
		w.approvalBreached(ctx)
		if !a.Managers && (len(managers.Users) > 0 || len(managers.Groups) > 0) {
			a.Managers, a.Pings = true, a.Pings+1
			a.Deadline = now.Add(rules.Timeout.D())
			w.resolveDeciders(ctx, w.askedNow())
			err := workflow.ExecuteActivity(withStep(ctx), ActivityRequestApproval, ApprovalRequest{
				Step: fmt.Sprintf("approval-%d-managers", w.st.Escalations), Data: w.noticeData(ctx),
				Ping: a.Pings, Existing: a.Message, Deadline: a.Deadline, Managers: managers, Legal: w.legalApprovers(),
			}).Get(ctx, nil)
			if err != nil {
				w.stepFailed(ctx, "ask the managers", err)
				return
			}
			w.note(ctx, EventApproval, "no lead decided after every re-ping; asked the managers", "")
			return
		}
		a.Holding, a.Deadline = true, time.Time{}
		w.note(ctx, EventApproval, "no decision after every re-ping; holding for a person (an approval timeout never enforces)", "")
		return
	}
	w.approvalBreached(ctx)
	if rules.OnTimeout == policy.OnTimeoutHold {
		a.Holding, a.Deadline = true, time.Time{}
		w.note(ctx, EventApproval, "no decision after every re-ping; holding for a lead (policy: hold)", "")
		return
	}
	a.Decision, a.DecidedAt, a.Reason = ApprovalTimedOut, now, "no lead decided in time; enforced by policy"
	w.note(ctx, EventApproval, "no decision after every re-ping; enforcing (policy: enforce)", "")
	w.record(ctx, LedgerEvent{Kind: LedgerApprovalDecided, Decision: ApprovalTimedOut})
	w.showApproval(ctx)
	w.setStatus(StatusEscalated)
}

// validateApproval is the approval update's validator: the decision must fit the pending
// request, and the person must be one of the deciders the desk resolved.
func (w *caseWorkflow) validateApproval(ctx workflow.Context, d approval.Decision) error {
	if err := w.approvalFits(d); err != nil {
		return err
	}
	if !w.mayDecide(d.UserID) {
		return fmt.Errorf("%s is not an approver for this case", cmp.Or(d.UserName, d.UserID, "a decision naming no one"))
	}
	return nil
}

// approvalFits checks a decision against the request, not who made it: the handler checks it
// again (two clicks in one workflow task both pass the validator), while who may decide is
// the validator's alone, which replay does not run.
func (w *caseWorkflow) approvalFits(d approval.Decision) error {
	switch d.Decision {
	case approval.Approve, approval.Deny, approval.Extend:
	default:
		return fmt.Errorf("unknown decision %q: want approve, deny or extend", d.Decision)
	}
	a := w.st.Approval
	if a != nil && a.Decision == ApprovalWithdrawn {
		return fmt.Errorf("the approval request was withdrawn at %s: %s", fmtTime(a.DecidedAt), a.Reason)
	}
	if a != nil && a.Decision != "" {
		return fmt.Errorf("already decided: %s by %s at %s", a.Decision, cmp.Or(a.DecidedByName, a.DecidedBy, "policy"), fmtTime(a.DecidedAt))
	}
	if w.st.Status != StatusPendingApproval || a == nil {
		return fmt.Errorf("no approval is pending: the case is %s", w.st.Status)
	}
	if d.Decision == approval.Deny && strings.TrimSpace(d.Reason) == "" {
		return errors.New("a denial needs a reason")
	}
	return nil
}

func (w *caseWorkflow) onApproval(ctx workflow.Context, d approval.Decision) (*DecisionResult, error) {
	// Two clicks delivered in the same workflow task both pass the validator; the first wins.
	if err := w.approvalFits(d); err != nil {
		return nil, err
	}
	a := w.st.Approval
	now := workflow.Now(ctx)
	who := cmp.Or(d.UserName, d.UserID)
	a.Decision, a.DecidedBy, a.DecidedByName, a.DecidedByEmail, a.DecidedAt, a.Reason = d.Decision, d.UserID, d.UserName, d.UserEmail, now, d.Reason
	w.record(ctx, LedgerEvent{Kind: LedgerApprovalDecided, Decision: d.Decision, Actor: cmp.Or(d.UserEmail, d.UserID), Text: d.Reason})
	var msg string
	switch d.Decision {
	case approval.Approve:
		w.setStatus(StatusEscalated)
		w.note(ctx, EventApproval, "approved by "+who, who)
		msg = fmt.Sprintf("Approved. %s is being applied to %s.", w.st.Rules.Action.Type.Describe(w.st.Rules.Action.Level), w.st.Account.ID)
	case approval.Deny:
		w.review(ctx, "a lead denied the action")
		w.note(ctx, EventApproval, "denied by "+who+": "+d.Reason, who)
		data := w.noticeData(ctx)
		data.Decision, data.DecidedBy, data.Note = "denied", who, d.Reason
		w.queueNotify(fmt.Sprintf("approval-%d-denied", w.st.Escalations), NotifyInput{Note: NoteApprovalDecision, Status: TicketOpen, Data: data})
		msg = "Denied. The case is back with the agents for review."
	case approval.Extend:
		w.extendDeadline(ctx, w.st.Rules.ExtendBy.D(), d.Reason, false)
		w.note(ctx, EventApproval, "deadline extended by "+who+" to "+fmtTime(w.st.Wait.Deadline), who)
		msg = "Extended. The customer has until " + fmtTime(w.st.Wait.Deadline) + "."
	}
	w.showApproval(ctx)
	w.nudge()
	return &DecisionResult{Status: w.st.Status, Message: msg}, nil
}

// askedNow is who the pending request asks: the leads, and the managers once it went up the
// chain.
func (w *caseWorkflow) askedNow() approval.Approvers {
	if a := w.st.Approval; a != nil && a.Managers {
		return w.leads().With(w.policy.Managers)
	}
	return w.leads()
}

// legalApprovers says a legal matter's action is approved by the legal team's approvers (the
// policy names them), asked in the legal channel, not by the leads — who cannot open the case.
func (w *caseWorkflow) legalApprovers() bool {
	la := w.policy.Legal.Approvers
	return w.confidential() && len(la.Users)+len(la.Groups) > 0
}

// leads are who approve this case's actions: the legal team's approvers on a legal matter,
// else the leads.
func (w *caseWorkflow) leads() approval.Approvers {
	if w.legalApprovers() {
		return w.policy.Legal.Approvers
	}
	return w.policy.Approvers
}

// resolveDeciders asks Slack who may decide the pending request — the users the policy names
// and the members of its user groups — and keeps them in the case. When Slack cannot say, the
// case keeps those it had (or, before any, only the users the policy names by ID).
func (w *caseWorkflow) resolveDeciders(ctx workflow.Context, who approval.Approvers) {
	a := w.st.Approval
	if a == nil || workflow.GetVersion(ctx, versionResolvedDeciders, workflow.DefaultVersion, 1) < 1 {
		return
	}
	var res ResolveDecidersResult
	err := workflow.ExecuteActivity(withDeciders(ctx), ActivityResolveDeciders, ResolveDecidersInput{Approvers: who}).Get(ctx, &res)
	if err != nil {
		w.note(ctx, EventApproval, "could not read the approvers' Slack groups ("+err.Error()+"); only approvers named by ID may decide for now", "")
		res.Users = slices.Concat(a.Deciders, who.Users)
	}
	slices.Sort(res.Users)
	a.Deciders, a.Resolved = slices.Compact(res.Users), true
}

// mayDecide says whether a Slack user may decide the pending request: one of the deciders the
// desk resolved, never whoever a decision's payload says is in a group.
func (w *caseWorkflow) mayDecide(user string) bool {
	if user == "" {
		return false
	}
	if a := w.st.Approval; a != nil && a.Resolved {
		return slices.Contains(a.Deciders, user)
	}
	if w.legalApprovers() {
		return w.leads().IsApprover(user, nil) || w.policy.Managers.IsApprover(user, nil)
	}
	return w.policy.NamedDecider(user)
}

// withdrawApproval marks a pending approval as no longer needed and updates its message.
func (w *caseWorkflow) withdrawApproval(ctx workflow.Context, reason string) {
	a := w.st.Approval
	if w.st.Status != StatusPendingApproval || a == nil || a.Decision != "" {
		return
	}
	a.Decision, a.DecidedAt, a.Reason = ApprovalWithdrawn, workflow.Now(ctx), reason
	w.note(ctx, EventApproval, "approval request withdrawn: "+reason, "")
	w.record(ctx, LedgerEvent{Kind: LedgerApprovalDecided, Decision: ApprovalWithdrawn, Text: reason})
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
		return workflow.ExecuteActivity(withStep(ctx), ActivityUpdateApproval, out).Get(ctx, nil)
	})
}

func (w *caseWorkflow) approvalReason() string {
	if a := w.st.Approval; a != nil && a.Why != "" {
		return a.Why
	}
	switch {
	case w.st.Account.Tier == abuse.TierStrategic:
		return "strategic account"
	case w.st.Track == policy.TrackStrict && w.policy.RepeatOffender.RequireApproval:
		return "repeat offender"
	default:
		return "the policy for " + string(w.st.Category) + " requires it"
	}
}

// versionFirstEnforcement sends the first action against an account never enforced before to a
// lead (policy approval.first_enforcement).
const versionFirstEnforcement = "first-enforcement"

// firstEnforcement says a lead must approve because this would be the first action against the
// account: the policy asks for it, the account has no prior violation and this case enforced
// nothing yet. (The version marker is written only where it applies.)
func (w *caseWorkflow) firstEnforcement(ctx workflow.Context) bool {
	if !w.st.Rules.Approval.FirstEnforcement || w.st.Account.PriorViolations > 0 || w.st.Enforcement != nil {
		return false
	}
	return workflow.GetVersion(ctx, versionFirstEnforcement, workflow.DefaultVersion, 1) >= 1
}

// versionCheckCorroborates lets a check that confirms the abuse now corroborate a case: its
// reported addresses still on the policy's DNS blocklists.
const versionCheckCorroborates = "check-corroborates"

const checkConfirmsPrefix = "a check confirms it now: "

// checkConfirms is the corroboration a check gives an uncorroborated case ("" none): an address
// its reports name is on one of the policy's blocklists now. A URL that still answers confirms
// nothing (it does not say the page is what the report showed).
func (w *caseWorkflow) checkConfirms(ctx workflow.Context) string {
	plan := w.verifyPlan()
	if !slices.Contains(plan.Checks, policy.CheckBlocklist) || len(plan.Addresses) == 0 {
		return ""
	}
	plan.URLs = nil
	if workflow.GetVersion(ctx, versionCheckCorroborates, workflow.DefaultVersion, 1) < 1 {
		return ""
	}
	results := outsideCheck(ctx, &plan)
	w.record(ctx, LedgerEvent{Kind: LedgerChecked, Decision: overall(results), Text: excerpt("before an automatic action: "+summarise(results), 500)})
	if overall(results) != VerdictStill {
		w.note(ctx, EventEscalation, "the blocklist check does not confirm the reports now ("+summarise(results)+")", "")
		return ""
	}
	return checkConfirmsPrefix + summarise(stillOnly(results))
}

// versionCorroboration sends an uncorroborated case to a lead instead of enforcing at its
// deadline.
const versionCorroboration = "corroboration"

// approvalBreached records, once per request, that no lead decided within the approval SLA
// (every re-ping went unanswered).
func (w *caseWorkflow) approvalBreached(ctx workflow.Context) {
	if a := w.st.Approval; a != nil && !a.Managers && !a.Holding {
		w.record(ctx, LedgerEvent{Kind: LedgerSLABreached, Decision: SLAApproval})
	}
}
