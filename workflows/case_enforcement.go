package workflows

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.temporal.io/sdk/workflow"

	"abusedesk/domain/abuse"
	"abusedesk/domain/approval"
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
	scopes := []*abuse.Scope{scope}
	if r.Action.Type == abuse.ActionTakedown {
		// A takedown removes each reported resource, one action each, and nothing else.
		scopes = nil
		for _, u := range w.reportedURLs() {
			scopes = append(scopes, &abuse.Scope{Kind: abuse.ScopeResource, Value: u})
		}
		if len(scopes) == 0 {
			w.stepFailed(ctx, "take the reported content down", errors.New("the reports name no URL to take down; a person decides what to remove (nothing was done to the account)"))
			return
		}
		scope = scopes[0]
	}
	if scope == nil && w.track() == abuse.TrackMessaging && !w.leadApproved() {
		// Texts or calls: the action goes on the one number, sender or campaign the reports
		// name. When they name none (or several), the whole account is a person's choice.
		w.stepFailed(ctx, "apply "+string(r.Action.Type), errors.New("the reports name no one number, sender ID, campaign or messaging service to act on, and acting on the whole account is a person's choice: nothing was done to the account"))
		return
	}
	reason := w.enforceReason()
	var res ActionResult
	var also []ScopedAction
	for i, sc := range scopes {
		k := key
		if i > 0 {
			k = fmt.Sprintf("%s/%d", key, i)
		}
		var one ActionResult
		err := workflow.ExecuteActivity(ectx, ActivityEnforce, EnforceInput{
			Key: k, CaseID: w.st.CaseID, CaseNumber: w.st.CaseNumber, AccountID: w.st.Account.ID,
			Type: r.Action.Type, Level: r.Action.Level, For: r.Action.For.D(), Scope: sc, Reason: reason,
		}).Get(ctx, &one)
		if err != nil {
			if i > 0 {
				w.note(ctx, EventEnforcement, fmt.Sprintf("%d of %d takedowns applied before one failed (actions %s …)", i, len(scopes), res.ActionID), "")
			}
			w.stepFailed(ctx, "apply "+string(r.Action.Type), err)
			return
		}
		if i == 0 {
			res = one
		} else {
			also = append(also, ScopedAction{ActionID: one.ActionID, Scope: sc})
		}
	}
	now := workflow.Now(ctx)
	e := &Enforcement{
		ActionID: res.ActionID, Type: r.Action.Type, Level: r.Action.Level, Scope: scope, Also: also,
		AppliedAt: res.AppliedAt, VerifiedAt: res.VerifiedAt, ExpiresAt: res.ExpiresAt,
		AppealUntil: now.Add(r.Appeal.Window.D()),
	}
	if w.track() == abuse.TrackMessaging && scope != nil && scope.Kind != abuse.ScopeResource {
		e.StopDue = now.Add(stopCheck) // the identity's traffic is read again then
	}
	if w.leadApproved() {
		a := w.st.Approval
		e.ApprovedBy, e.ApprovedByEmail = a.DecidedBy, a.DecidedByEmail
	} else {
		e.AllowedBy = w.st.AllowedBy
	}
	w.st.Enforcement = e
	w.setStatus(StatusEnforced)
	w.note(ctx, EventEnforcement, fmt.Sprintf("%s applied and verified (action %s)%s", r.Action.Type.DescribeOn(r.Action.Level, scope), res.ActionID, alsoNote(also)), "")
	w.record(ctx, LedgerEvent{Kind: LedgerEnforced, Decision: string(r.Action.Type), Actor: e.ApprovedByEmail, Count: r.Action.Level, Text: e.AllowedBy})
	data := w.noticeData(ctx)
	if w.notify(ctx, NotifyInput{Step: fmt.Sprintf("enforced-%d", w.st.Escalations), Public: NoticeEnforced, Note: NoteEnforcement, Status: TicketPending, Data: data}) {
		w.note(ctx, EventNotice, "enforcement notice with the statement of reasons sent; appeal until "+fmtTime(e.AppealUntil), "")
	}
}

// actionScope is the one sending identity every report of the case names as its source (SMS
// or voice abuse), to narrow the action to it: a campaign first (its numbers and sender IDs
// send for it), then a messaging service, then a phone number or a sender ID. nil when the
// reports name an address, more than one identity at that level, or none — or when the
// policy's action is on the account itself.
func (w *caseWorkflow) actionScope() *abuse.Scope {
	if t := w.st.Rules.Action.Type; t != abuse.ActionThrottle && t != abuse.ActionSuspendSending {
		return nil
	}
	return w.sendingIdentity()
}

// sendingIdentity is the one sending identity every report of the case names as its source, as
// actionScope chooses it; nil for none.
func (w *caseWorkflow) sendingIdentity() *abuse.Scope {
	var scope *abuse.Scope
	for _, r := range w.st.Reports.Recent {
		// levels[0] campaigns, [1] messaging services, [2] numbers and sender IDs; twice says
		// a level names two identities.
		var levels [3]*abuse.Scope
		var twice [3]bool
		for _, s := range r.Subjects {
			level, sc := 0, abuse.Scope{}
			switch s.Kind {
			case abuse.SubjectIP, abuse.SubjectSender, abuse.SubjectFeedbackID, abuse.SubjectRange:
				return nil // a source on the network or in mail: the account's matter
			case abuse.SubjectCampaign:
				sc = abuse.Scope{Kind: abuse.ScopeCampaign, Value: strings.ToUpper(s.Value)}
			case abuse.SubjectService:
				level, sc = 1, abuse.Scope{Kind: abuse.ScopeService, Value: s.Value}
			case abuse.SubjectPhone:
				level, sc = 2, abuse.Scope{Kind: abuse.ScopePhone, Value: s.Value}
			case abuse.SubjectSenderID:
				level, sc = 2, abuse.Scope{Kind: abuse.ScopeSenderID, Value: strings.ToUpper(s.Value)}
			default:
				continue
			}
			if levels[level] != nil && *levels[level] != sc {
				twice[level] = true
			}
			levels[level] = &sc
		}
		var found *abuse.Scope
		for i, l := range levels {
			if l != nil {
				if twice[i] {
					return nil // two campaigns, two services or two numbers: a person chooses
				}
				found = l
				break
			}
		}
		if found == nil || (scope != nil && *scope != *found) {
			return nil
		}
		scope = found
	}
	return scope
}

// leadApproved says a lead approved this escalation's action.
func (w *caseWorkflow) leadApproved() bool {
	a := w.st.Approval
	return a != nil && a.Escalation == w.st.Escalations && a.Decision == approval.Approve
}

// enforceReason is the reason the enforcement API records for the case's action: what the case
// holds and why it escalated — only what is true of it (no "no answer to the notice" where no
// notice went out) — and the lead who approved.
func (w *caseWorkflow) enforceReason() string {
	reason := fmt.Sprintf("%s %s: %d report(s) of %s; %s", w.st.CaseNumber, w.st.Category, w.st.Reports.Count, w.st.Category.Title(),
		cmp.Or(w.st.EscalatedFor, "escalated to enforcement"))
	if a := w.st.Approval; a != nil && a.Escalation == w.st.Escalations && a.Decision == approval.Approve {
		reason += "; approved by " + cmp.Or(a.DecidedByEmail, a.DecidedBy)
	}
	return reason
}

// maxTakedowns bounds the resources one takedown removes; more go to a person.
const maxTakedowns = 50

// reportedURLs are the distinct URLs the case's reports name, in the order they came.
func (w *caseWorkflow) reportedURLs() []string {
	var out []string
	for _, r := range w.st.Reports.Recent {
		for _, s := range r.Subjects {
			if u := s.Value; s.Kind == abuse.SubjectURL && !slices.Contains(out, u) && len(out) < maxTakedowns {
				out = append(out, u)
			}
		}
	}
	return out
}

// alsoNote names the further actions of a takedown of several resources.
func alsoNote(also []ScopedAction) string {
	if len(also) == 0 {
		return ""
	}
	var ids []string
	for _, a := range also {
		ids = append(ids, a.ActionID)
	}
	return fmt.Sprintf(", and %d more resource(s) (actions %s)", len(also), strings.Join(ids, ", "))
}
