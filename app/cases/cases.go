// Package cases is the client side of the Case workflow contract: what intake, the webhooks,
// Slack and the dashboard use to start and feed cases, deliver decisions (as Updates, whose
// answer says at once whether the decision counted), query a case and find cases through
// visibility.
package cases

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"abusedesk/domain/abuse"
	"abusedesk/domain/approval"
	"abusedesk/domain/policy"
	"abusedesk/domain/ticket"
	"abusedesk/workflows"
)

// ErrClosed means the case is no longer running (it closed; a new report would open a new one).
var ErrClosed = errors.New("the case is closed")

// Refused is a case declining a decision: its validator's reason (already decided, not
// pending, not an approver…). Slack and Zendesk handlers show it to the person who clicked.
type Refused struct{ Reason string }

func (r *Refused) Error() string { return "the case refused the decision: " + r.Reason }

// Refused returns the case's reason.
func (r *Refused) Refused() string { return r.Reason }

// Client talks to cases through a Temporal client.
type Client struct {
	T client.Client
	// Reinstatement are the policy's rules for reinstatement reviews (zero: the default
	// policy's).
	Reinstatement policy.Reinstatement
}

// Submit starts the case for caseID or joins it, delivering a batch of reports in one
// SignalWithStart.
func (c *Client) Submit(ctx context.Context, caseID string, in workflows.CaseInput, batch []workflows.ReportSummary) (string, error) {
	run, err := c.T.SignalWithStartWorkflow(ctx, caseID, workflows.SignalReports, workflows.NewReportsSignal(batch),
		client.StartWorkflowOptions{
			ID:                    caseID,
			TaskQueue:             workflows.TaskQueue,
			WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
			TypedSearchAttributes: temporal.NewSearchAttributes(
				workflows.SearchStatus.ValueSet(string(workflows.StatusOpen)),
				workflows.SearchAccount.ValueSet(in.AccountID),
				workflows.SearchCategory.ValueSet(string(in.Category)),
				workflows.SearchReportCount.ValueSet(0),
			),
		}, workflows.CaseWorkflowType, in)
	if err != nil {
		return "", fmt.Errorf("deliver %d report(s) to %s: %w", len(batch), caseID, err)
	}
	return run.GetRunID(), nil
}

// StartBulk starts a reviewed bulk action (its number names it once: a number already used
// is refused).
func (c *Client) StartBulk(ctx context.Context, in workflows.BulkInput) error {
	_, err := c.T.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                    workflows.BulkWorkflowID(in.Number),
		TaskQueue:             workflows.TaskQueue,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
	}, workflows.BulkActionWorkflowType, in)
	if err != nil {
		return fmt.Errorf("start bulk action %s: %w", in.Number, err)
	}
	return nil
}

// Forwarder delivers reports an agent moved to the case of another account or category (the
// triage gate's "reclassify"): started with that category's policy, or joined. The receiving
// case counts each report ID once, so a retried move adds nothing.
type Forwarder struct {
	Cases  *Client
	Policy *policy.Policy
}

// Forward implements the activities' Reports.
func (f Forwarder) Forward(ctx context.Context, account string, category abuse.Category, reports []workflows.ReportSummary) error {
	// A category handled per request (a legal request) makes a matter per sender, as intake
	// does: each group of reports goes to its own.
	var order []string
	groups := map[string][]workflows.ReportSummary{}
	for _, r := range reports {
		id := workflows.CaseIDFor(account, category, workflows.MatterKey(r.Reporter, r.ID))
		if _, ok := groups[id]; !ok {
			order = append(order, id)
		}
		groups[id] = append(groups[id], r)
	}
	for _, id := range order {
		if _, err := f.Cases.Submit(ctx, id, workflows.CaseInput{AccountID: account, Category: category, Policy: f.Policy.Snapshot(category)}, groups[id]); err != nil {
			return err
		}
	}
	return nil
}

// DecideApproval delivers a lead's decision; it waits until the case applied or refused it.
func (c *Client) DecideApproval(ctx context.Context, caseID string, d approval.Decision) (*workflows.DecisionResult, error) {
	return c.update(ctx, caseID, workflows.UpdateApproval, d.RequestID, d)
}

// AnswerHandOff delivers a team's answer to a hand-off (its workflow ID); it waits until the
// hand-off applied or refused it.
func (c *Client) AnswerHandOff(ctx context.Context, workflowID string, a approval.TeamAnswer) (*workflows.DecisionResult, error) {
	res, err := c.update(ctx, workflowID, workflows.UpdateHandOffAnswer, a.RequestID, a)
	var refused *Refused
	if errors.As(err, &refused) && refused.Reason == "the case is closed" {
		return nil, &Refused{Reason: "this hand-off is over (resolved, or its case was removed)"}
	}
	return res, err
}

// HandOffs lists the hand-offs waiting for a team (Status "handoff:<team>", Deadline the due
// time), newest first.
func (c *Client) HandOffs(ctx context.Context) ([]Summary, error) {
	list, _, err := c.listOf(ctx, workflows.HandOffWorkflowType, "ExecutionStatus = 'Running'", 1000, nil)
	return list, err
}

// Decide delivers an agent's decision; it waits until the case applied or refused it.
func (c *Client) Decide(ctx context.Context, caseID string, d workflows.AgentDecision) (*workflows.DecisionResult, error) {
	return c.update(ctx, caseID, workflows.UpdateAgentDecision, d.RequestID, d)
}

// update sends an update; an updateID ("": a new one) makes a repeated delivery of the same
// decision one.
func (c *Client) update(ctx context.Context, caseID, name, updateID string, arg any) (*workflows.DecisionResult, error) {
	h, err := c.T.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		UpdateID:     updateID,
		WorkflowID:   caseID,
		UpdateName:   name,
		Args:         []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		var res workflows.DecisionResult
		if err = h.Get(ctx, &res); err == nil {
			return &res, nil
		}
	}
	return nil, refusal(err)
}

// refusal turns the case's refusal into *Refused and a closed case into a refusal saying so;
// other errors (Temporal unreachable) pass through.
func refusal(err error) error {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return &Refused{Reason: app.Message()}
	}
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return &Refused{Reason: "the case is closed"}
	}
	return err
}

// IsNotFound says whether err means there is no such case (no workflow, or no such run).
func IsNotFound(err error) bool {
	var nf *serviceerror.NotFound
	return errors.As(err, &nf)
}

// Reply delivers a customer's message to a running case.
func (c *Client) Reply(ctx context.Context, caseID string, r workflows.CustomerReply) error {
	return c.signal(ctx, caseID, workflows.SignalCustomerReply, r)
}

// Appeal delivers an explicit appeal to a running case.
func (c *Client) Appeal(ctx context.Context, caseID string, a workflows.Appeal) error {
	return c.signal(ctx, caseID, workflows.SignalAppeal, a)
}

func (c *Client) signal(ctx context.Context, caseID, name string, arg any) error {
	err := c.T.SignalWorkflow(ctx, caseID, "", name, arg)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return ErrClosed
	}
	return err
}

// Status queries a case (open or closed) for its view: its latest incident.
func (c *Client) Status(ctx context.Context, caseID string) (*workflows.CaseView, error) {
	return c.StatusRun(ctx, caseID, "")
}

// StatusRun queries one incident of a case — a run of its workflow ("": the latest) — for its
// view.
func (c *Client) StatusRun(ctx context.Context, caseID, runID string) (*workflows.CaseView, error) {
	v, err := c.T.QueryWorkflow(ctx, caseID, runID, workflows.QueryStatus, workflows.StatusQuery{})
	if err != nil {
		return nil, err
	}
	var view workflows.CaseView
	if err := v.Get(&view); err != nil {
		return nil, err
	}
	return &view, nil
}

// Summary is a case as visibility lists it.
type Summary struct {
	CaseID      string
	RunID       string
	CaseNumber  string
	Status      workflows.Status
	Account     string
	Category    string
	Tier        string
	Deadline    time.Time
	ReportCount int64
	// Ticket is the case's ticket (its reference has no URL: visibility keeps none).
	Ticket ticket.Ref
	// Assignee is the ticketing user ID of the agent who owns the case ("": nobody).
	Assignee  string
	StartedAt time.Time
	ClosedAt  time.Time
	Running   bool
}

// List lists cases matching a visibility query, newest first.
func (c *Client) List(ctx context.Context, query string, pageSize int, token []byte) ([]Summary, []byte, error) {
	return c.listOf(ctx, workflows.CaseWorkflowType, query, pageSize, token)
}

// Reviews lists the requests for reinstatement waiting for a decision (Status
// workflows.ReinstatementReview, Deadline the due time), newest first.
func (c *Client) Reviews(ctx context.Context) ([]Summary, error) {
	list, _, err := c.listOf(ctx, workflows.ReinstatementWorkflowType, "ExecutionStatus = 'Running' AND "+workflows.SearchStatus.GetName()+" = "+Quote(workflows.ReinstatementReview), 1000, nil)
	return list, err
}

// listOf lists workflows of a type matching a visibility query, newest first.
func (c *Client) listOf(ctx context.Context, workflowType, query string, pageSize int, token []byte) ([]Summary, []byte, error) {
	q := "WorkflowType = '" + workflowType + "'"
	if strings.TrimSpace(query) != "" {
		q += " AND (" + query + ")"
	}
	resp, err := c.T.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q, PageSize: int32(pageSize), NextPageToken: token})
	if err != nil {
		return nil, nil, fmt.Errorf("list cases: %w", err)
	}
	var out []Summary
	for _, e := range resp.GetExecutions() {
		sa := e.GetSearchAttributes()
		s := Summary{
			CaseID:    e.GetExecution().GetWorkflowId(),
			RunID:     e.GetExecution().GetRunId(),
			StartedAt: e.GetStartTime().AsTime(),
			Running:   e.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING,
		}
		if e.GetCloseTime() != nil {
			s.ClosedAt = e.GetCloseTime().AsTime()
		}
		s.CaseNumber = decodeString(sa, workflows.SearchCaseNumber.GetName())
		s.Status = workflows.Status(decodeString(sa, workflows.SearchStatus.GetName()))
		s.Account = decodeString(sa, workflows.SearchAccount.GetName())
		s.Category = decodeString(sa, workflows.SearchCategory.GetName())
		s.Tier = decodeString(sa, workflows.SearchTier.GetName())
		s.ReportCount = decodeInt(sa, workflows.SearchReportCount.GetName())
		s.Ticket = ticketOf(sa)
		s.Assignee = decodeString(sa, workflows.SearchAssignee.GetName())
		if t := decodeString(sa, workflows.SearchDeadline.GetName()); t != "" {
			s.Deadline, _ = time.Parse(time.RFC3339Nano, t)
		}
		if s.CaseNumber == "" {
			s.CaseNumber = workflows.CaseNumber(s.CaseID)
		}
		out = append(out, s)
	}
	return out, resp.GetNextPageToken(), nil
}

// History lists an account's incidents, every category, newest first (at most 50): the run
// that ends each incident, and the one under way. A run that continued as new is part of the
// incident its last run shows.
func (c *Client) History(ctx context.Context, accountID string) ([]Summary, error) {
	list, _, err := c.List(ctx, workflows.SearchAccount.GetName()+" = "+Quote(accountID)+" AND ExecutionStatus != 'ContinuedAsNew'", 50, nil)
	return list, err
}

// LastClosed returns the result of the case's most recent incident that completed (a case
// workflow ID keeps one incident per run), or nil when there is none.
func (c *Client) LastClosed(ctx context.Context, caseID string) (*workflows.CaseResult, error) {
	list, _, err := c.List(ctx, "WorkflowId = "+Quote(caseID)+" AND ExecutionStatus = 'Completed'", 1, nil)
	if err != nil || len(list) == 0 {
		return nil, err
	}
	var res workflows.CaseResult
	if err := c.T.GetWorkflow(ctx, caseID, list[0].RunID).Get(ctx, &res); err != nil {
		return nil, fmt.Errorf("the result of %s run %s: %w", caseID, list[0].RunID, err)
	}
	return &res, nil
}

// FindByNumber finds the incident with a case number: the run under way, or the run that
// closed it (not one that continued as new), preferring a running one. Summary.RunID names the
// run to query.
func (c *Client) FindByNumber(ctx context.Context, number string) (*Summary, error) {
	return c.findOne(ctx, workflows.SearchCaseNumber.GetName()+" = "+Quote(number)+" AND ExecutionStatus != 'ContinuedAsNew'")
}

// ticketOf is the case ticket a listing names: its reference, or for a case that published
// only the integer ID (before references named a system) that Zendesk ticket.
func ticketOf(sa *commonpb.SearchAttributes) ticket.Ref {
	if ref, err := ticket.ParseRef(decodeString(sa, workflows.SearchTicket.GetName())); err == nil && !ref.IsZero() {
		return ref
	}
	if n := decodeInt(sa, workflows.SearchTicketID.GetName()); n > 0 {
		return ticket.Ref{System: ticket.Zendesk, ID: strconv.FormatInt(n, 10)}
	}
	return ticket.Ref{}
}

func (c *Client) findOne(ctx context.Context, query string) (*Summary, error) {
	list, _, err := c.List(ctx, query, 20, nil)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, nil
	}
	for _, s := range list {
		if s.Running {
			return &s, nil
		}
	}
	return &list[0], nil
}

func decodeString(sa *commonpb.SearchAttributes, key string) string {
	p := sa.GetIndexedFields()[key]
	if p == nil {
		return ""
	}
	var v string
	if err := converter.GetDefaultDataConverter().FromPayload(p, &v); err != nil {
		return ""
	}
	return v
}

func decodeInt(sa *commonpb.SearchAttributes, key string) int64 {
	p := sa.GetIndexedFields()[key]
	if p == nil {
		return 0
	}
	var v int64
	if err := converter.GetDefaultDataConverter().FromPayload(p, &v); err != nil {
		return 0
	}
	return v
}

// Count counts cases matching a visibility query.
func (c *Client) Count(ctx context.Context, query string) (int64, error) {
	q := "WorkflowType = '" + workflows.CaseWorkflowType + "'"
	if strings.TrimSpace(query) != "" {
		q += " AND (" + query + ")"
	}
	resp, err := c.T.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: q})
	if err != nil {
		return 0, fmt.Errorf("count cases: %w", err)
	}
	return resp.GetCount(), nil
}

// Quote makes a visibility query string literal.
func Quote(s string) string { return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'" }

// In is a visibility clause: attr is one of values.
func In(attr string, values ...string) string { return attr + " IN (" + quoteAll(values) + ")" }

func quoteAll(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = Quote(v)
	}
	return strings.Join(q, ", ")
}

// InTrack is a visibility clause selecting the cases of a track's categories.
func InTrack(t abuse.Track) string {
	return In(workflows.SearchCategory.GetName(), categoryNames(t.Categories())...)
}

// Confidential is a visibility clause selecting the confidential cases (abuse.TrackRules):
// what only the legal role sees.
func Confidential() string {
	return In(workflows.SearchCategory.GetName(), categoryNames(abuse.ConfidentialCategories())...)
}

// NotConfidential is a visibility clause leaving the confidential cases out.
func NotConfidential() string {
	return workflows.SearchCategory.GetName() + " NOT IN (" + quoteAll(categoryNames(abuse.ConfidentialCategories())) + ")"
}

// categoryNames are the categories as visibility holds them.
func categoryNames(cs []abuse.Category) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c)
	}
	return out
}

// And joins the clauses that are not empty.
func And(clauses ...string) string {
	return strings.Join(slices.DeleteFunc(clauses, func(c string) bool { return c == "" }), " AND ")
}
