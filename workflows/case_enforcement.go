package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"abusedesk/internal/approval"
)

// Enforcement: the action is applied once (idempotency key), verified, and the customer gets
// the notice with the statement of reasons and the appeal window.

// enforce applies the action, verifies it, and sends the notice with the statement of reasons.
func (w *caseWorkflow) enforce(ctx workflow.Context) {
	r := w.st.Rules
	key := fmt.Sprintf("%s/enforce/%d", w.st.ExternalID, w.st.Escalations)
	ectx := withAction(ctx)
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
	w.setStatus(StatusEnforced)
	w.note(ctx, EventEnforcement, fmt.Sprintf("%s applied and verified (action %s)", r.Action.Type.Describe(r.Action.Level), res.ActionID), "")
	data := w.noticeData(ctx)
	if w.notify(ctx, NotifyInput{Step: fmt.Sprintf("enforced-%d", w.st.Escalations), Public: NoticeEnforced, Note: NoteEnforcement, Status: TicketPending, Data: data}) {
		w.note(ctx, EventNotice, "enforcement notice with the statement of reasons sent; appeal until "+fmtTime(e.AppealUntil), "")
	}
}
