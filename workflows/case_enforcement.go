package workflows

import (
	"fmt"
	"strings"

	"go.temporal.io/sdk/workflow"

	"abusedesk/internal/abuse"
	"abusedesk/internal/approval"
)

// Enforcement: the action is applied once (idempotency key), verified, and the customer gets
// the notice with the statement of reasons and the appeal window.

// enforce applies the action, verifies it, and sends the notice with the statement of reasons.
func (w *caseWorkflow) enforce(ctx workflow.Context) {
	r := w.st.Rules
	key := fmt.Sprintf("%s/enforce/%d", w.st.ExternalID, w.st.Escalations)
	ectx := withAction(ctx)
	// Abuse from one number or sender ID is stopped there, not on the whole account. (The
	// version marker is written only when an action is narrowed.)
	scope := w.actionScope()
	if scope != nil && workflow.GetVersion(ctx, versionScopedActions, workflow.DefaultVersion, 1) < 1 {
		scope = nil
	}
	var res ActionResult
	err := workflow.ExecuteActivity(ectx, ActivityEnforce, EnforceInput{
		Key: key, CaseID: w.st.CaseID, CaseNumber: w.st.CaseNumber, AccountID: w.st.Account.ID,
		Type: r.Action.Type, Level: r.Action.Level, For: r.Action.For.D(), Scope: scope,
		Reason: fmt.Sprintf("%s %s: %d reports of %s, no answer to the notice", w.st.CaseNumber, w.st.Category, w.st.Reports.Count, w.st.Category.Title()),
	}).Get(ctx, &res)
	if err != nil {
		w.stepFailed(ctx, "apply "+string(r.Action.Type), err)
		return
	}
	now := workflow.Now(ctx)
	e := &Enforcement{
		ActionID: res.ActionID, Type: r.Action.Type, Level: r.Action.Level, Scope: scope,
		AppliedAt: res.AppliedAt, VerifiedAt: res.VerifiedAt, ExpiresAt: res.ExpiresAt,
		AppealUntil: now.Add(r.Appeal.Window.D()),
	}
	if a := w.st.Approval; a != nil && a.Escalation == w.st.Escalations && a.Decision == approval.Approve {
		e.ApprovedBy, e.ApprovedByEmail = a.DecidedBy, a.DecidedByEmail
	}
	w.st.Enforcement = e
	w.setStatus(StatusEnforced)
	w.note(ctx, EventEnforcement, fmt.Sprintf("%s on %s applied and verified (action %s)", r.Action.Type.Describe(r.Action.Level), scope, res.ActionID), "")
	w.record(ctx, LedgerEvent{Kind: LedgerEnforced, Decision: string(r.Action.Type), Actor: e.ApprovedByEmail, Count: r.Action.Level})
	data := w.noticeData(ctx)
	if w.notify(ctx, NotifyInput{Step: fmt.Sprintf("enforced-%d", w.st.Escalations), Public: NoticeEnforced, Note: NoteEnforcement, Status: TicketPending, Data: data}) {
		w.note(ctx, EventNotice, "enforcement notice with the statement of reasons sent; appeal until "+fmtTime(e.AppealUntil), "")
	}
}

// actionScope is the one phone number or sender ID every report of the case names as its source
// (SMS or voice abuse), to narrow the action to it; nil when the reports name an address, more
// than one identity, or none — or when the policy's action is on the account itself.
func (w *caseWorkflow) actionScope() *abuse.Scope {
	if t := w.st.Rules.Action.Type; t != abuse.ActionThrottle && t != abuse.ActionSuspendSending {
		return nil
	}
	var scope *abuse.Scope
	for _, r := range w.st.Reports.Recent {
		var found *abuse.Scope
		for _, s := range r.Subjects {
			kind, v, _ := strings.Cut(s, ":")
			var sc *abuse.Scope
			switch kind {
			case "ip", "sender", "feedback-id", "range":
				return nil // a source on the network or in mail: the account's matter
			case "phone":
				sc = &abuse.Scope{Kind: abuse.ScopePhone, Value: v}
			case "sender-id":
				sc = &abuse.Scope{Kind: abuse.ScopeSenderID, Value: strings.ToUpper(v)}
			default:
				continue
			}
			if found != nil && *found != *sc {
				return nil
			}
			found = sc
		}
		if found == nil || (scope != nil && *scope != *found) {
			return nil
		}
		scope = found
	}
	return scope
}
