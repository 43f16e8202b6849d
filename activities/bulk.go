package activities

import (
	"cmp"
	"context"
	"strings"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"

	"abusedesk/domain/approval"
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
	// DashboardURL is the dashboard's base URL, for the link to the action's page.
	DashboardURL string
}

// Register registers the activities under the names the workflow calls them by.
func (a *BulkActivities) Register(r worker.ActivityRegistry) {
	r.RegisterActivityWithOptions(a.PostBulk, activity.RegisterOptions{Name: workflows.ActivityPostBulk})
	r.RegisterActivityWithOptions(a.ShowBulk, activity.RegisterOptions{Name: workflows.ActivityShowBulk})
	r.RegisterActivityWithOptions(a.RecordBulk, activity.RegisterOptions{Name: workflows.ActivityRecordBulk})
}

// PostBulk asks the leads to approve or deny a proposed bulk action; a retry finds the message
// the first attempt posted.
func (a *BulkActivities) PostBulk(ctx context.Context, in workflows.BulkShowInput) (*approval.Message, error) {
	p := a.post(in.State)
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
func (a *BulkActivities) ShowBulk(ctx context.Context, in workflows.BulkShowInput) error {
	if err := a.Board.ShowBulk(ctx, in.State.Message, a.post(in.State)); err != nil {
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
		Action: st.Action.Describe(st.Level), Reason: st.Reason, Shared: st.Shared, Deadline: st.Deadline,
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
