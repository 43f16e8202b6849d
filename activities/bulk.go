package activities

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"abusedesk/domain/approval"
	"abusedesk/domain/fault"
	"abusedesk/domain/ticket"
	"abusedesk/templates"
	"abusedesk/workflows"
)

// BulkBoard posts a reviewed bulk action to the leads (Slack) and keeps its message current.
type BulkBoard interface {
	// FindApproval returns the message already posted for step ("" channel: the leads'), or nil.
	FindApproval(ctx context.Context, channel, step string) (*approval.Message, error)
	PostBulk(ctx context.Context, p approval.BulkPost) (*approval.Message, error)
	ShowBulk(ctx context.Context, m approval.Message, p approval.BulkPost) error
}

// BulkLedger keeps bulk actions as they stand.
type BulkLedger interface {
	RecordBulk(ctx context.Context, st workflows.BulkState) error
}

// BulkActivities are the BulkAction workflow's own activities (it applies and lifts actions
// with the Case workflow's Enforce and LiftAction, and resolves the leads with ResolveDeciders).
type BulkActivities struct {
	Board  BulkBoard
	Ledger BulkLedger
	// Tickets, Accounts and Templates tell each customer on a ticket of their own.
	Tickets   Tickets
	Accounts  Accounts
	Templates *templates.Renderer
	// DashboardURL is the dashboard's base URL, for the link to the action's page.
	DashboardURL string
}

// Bulk notices' ticket tags.
const (
	TagBulk       = "abusedesk_bulk"
	TagBulkLifted = "abusedesk_bulk_lifted"
)

// Register registers the activities under the names the workflow calls them by.
func (a *BulkActivities) Register(r worker.ActivityRegistry) {
	r.RegisterActivityWithOptions(a.PostBulk, activity.RegisterOptions{Name: workflows.ActivityPostBulk})
	r.RegisterActivityWithOptions(a.ShowBulk, activity.RegisterOptions{Name: workflows.ActivityShowBulk})
	r.RegisterActivityWithOptions(a.RecordBulk, activity.RegisterOptions{Name: workflows.ActivityRecordBulk})
	r.RegisterActivityWithOptions(a.NotifyBulk, activity.RegisterOptions{Name: workflows.ActivityNotifyBulk})
}

// NotifyBulk tells one customer what a bulk action did to their account, on a ticket of its
// own (one per action and account, found again on a retry): the action with its statement of
// reasons, then, once undone, that it was lifted. It returns the ticket. The notice names this
// account's facts alone.
func (a *BulkActivities) NotifyBulk(ctx context.Context, in workflows.BulkNoticeInput) (ticket.Ref, error) {
	acct, err := a.Accounts.GetAccount(ctx, in.Account)
	if err != nil {
		return ticket.Ref{}, boundary("load account "+in.Account, err)
	}
	if acct.ContactEmail == "" {
		return ticket.Ref{}, temporal.NewNonRetryableApplicationError(in.Account+" has no contact address: a person tells the customer", fault.Invalid.String(), nil)
	}
	d := templates.BulkNoticeData{Number: in.Number, AccountID: acct.ID, AccountName: acct.Name, Measure: in.Action.Describe(in.Level),
		ActionID: in.ActionID, AppliedAt: in.AppliedAt, LiftedAt: in.LiftedAt, AppealUntil: in.AppealUntil,
		Indicators: in.Indicators, Cases: in.Cases, Ground: in.Reasons.Ground, Law: in.Reasons.Law, OutOfCourt: in.Reasons.OutOfCourt, Judicial: in.Reasons.Judicial}
	var body string
	if in.Lifted {
		body, err = a.Templates.Render("bulk_lifted", "", acct.Locale, d)
	} else {
		// A statement of reasons goes out whole or not at all (DSA Art. 17(3)).
		body, err = a.Templates.RenderStatement("bulk_enforced", "", acct.Locale, d,
			templates.Statement{Measure: d.Measure, Ground: d.Ground, OutOfCourt: d.OutOfCourt, Judicial: d.Judicial})
	}
	if err != nil {
		return ticket.Ref{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTemplate, err)
	}
	ext := "abusedesk-bulk:" + in.Number + ":" + in.Account
	t, err := a.Tickets.FindTicket(ctx, ext)
	if err != nil {
		return ticket.Ref{}, boundary("find the bulk notice's ticket", err)
	}
	if t == nil {
		if in.Lifted {
			return ticket.Ref{}, temporal.NewNonRetryableApplicationError("no notice of the action was sent, so none of its lifting is: a person tells the customer", fault.Invalid.String(), nil)
		}
		subject, err := a.Templates.Render("bulk_subject", "", acct.Locale, d)
		if err != nil {
			return ticket.Ref{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTemplate, err)
		}
		t, err = a.Tickets.CreateTicket(ctx, ticket.New{ExternalID: ext, Subject: strings.TrimSpace(subject), RequesterEmail: acct.ContactEmail,
			Comment: ticket.Comment{Body: body, Public: true}, Status: "pending", Tags: []string{ticket.TagCase, TagBulk}})
		if err != nil {
			return ticket.Ref{}, boundary("send the bulk notice", err)
		}
		return t.Ref, nil
	}
	if in.Lifted && !slices.Contains(t.Tags, TagBulkLifted) {
		if err := a.Tickets.UpdateTicket(ctx, t.Ref, ticket.Update{Comment: &ticket.Comment{Body: body, Public: true}, Status: "solved", AddTags: []string{TagBulkLifted}}); err != nil {
			return ticket.Ref{}, boundary("tell the customer the action is lifted", err)
		}
	}
	return t.Ref, nil
}

// PostBulk asks the leads to approve or deny a proposed bulk action; a retry finds the message
// the first attempt posted.
func (a *BulkActivities) PostBulk(ctx context.Context, st workflows.BulkState) (*approval.Message, error) {
	p := a.post(st)
	if activity.GetInfo(ctx).Attempt > 1 {
		m, err := a.Board.FindApproval(ctx, "", p.Step)
		if err != nil {
			return nil, boundary("find the bulk action's request", err)
		}
		if m != nil {
			return m, nil
		}
	}
	m, err := a.Board.PostBulk(ctx, p)
	if err != nil {
		return nil, boundary("post the bulk action's request", err)
	}
	return m, nil
}

// ShowBulk rewrites the bulk action's message to show where it stands.
func (a *BulkActivities) ShowBulk(ctx context.Context, st workflows.BulkState) error {
	if err := a.Board.ShowBulk(ctx, st.Message, a.post(st)); err != nil {
		return boundary("update the bulk action's message", err)
	}
	return nil
}

// RecordBulk keeps the bulk action as it stands in the ledger.
func (a *BulkActivities) RecordBulk(ctx context.Context, st workflows.BulkState) error {
	if a.Ledger == nil {
		return nil
	}
	if err := a.Ledger.RecordBulk(ctx, st); err != nil {
		return boundary("record bulk action "+st.Number, err)
	}
	return nil
}

// post is the message of a bulk action as it stands.
func (a *BulkActivities) post(st workflows.BulkState) approval.BulkPost {
	p := approval.BulkPost{
		Step: "bulk-" + st.Number, WorkflowID: workflows.BulkWorkflowID(st.Number), Number: st.Number,
		Proposer: st.Proposer, ProposedAt: st.ProposedAt, Accounts: st.Accounts,
		Action: st.Action.Describe(st.Level), Reason: st.Reason, Shared: st.Shared(), Deadline: st.Deadline,
		State: st.Status, DecidedAt: st.DecidedAt, Outcome: st.Outcome(),
		Undo: st.Status == approval.BulkApplied && !st.UndoUntil.IsZero(),
	}
	switch st.Status {
	case approval.BulkUndoing, approval.BulkUndone:
		p.DecidedBy, p.DecidedAt = st.UndoneBy, st.UndoneAt
	default:
		p.DecidedBy = cmp.Or(st.DecidedByName, st.DecidedByEmail, st.DecidedBy)
	}
	if a.DashboardURL != "" {
		p.URL = strings.TrimRight(a.DashboardURL, "/") + "/bulk/" + st.Number
	}
	return p
}
