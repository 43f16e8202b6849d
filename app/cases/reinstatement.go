package cases

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"abusedesk/domain/policy"
	"abusedesk/workflows"
)

// ErrNotReinstatable means a closed case has nothing a reinstatement could lift: it ended
// without an action, its action was lifted or has expired, or it is not on the abuse track.
var ErrNotReinstatable = errors.New("the case has no standing action to reinstate")

// Reinstate takes a customer's message about a closed case whose action still stands as a
// request for reinstatement: it starts (or joins) the case's Reinstatement review with the
// policy's rules. A message about any other closed case is ErrNotReinstatable.
func (c *Client) Reinstate(ctx context.Context, sum *Summary, msg workflows.CustomerReply) error {
	rules := c.Reinstatement
	if rules.SLA <= 0 {
		rules = policy.Default().Reinstatement
	}
	if msg.Kind != workflows.ReplyKindAnswer {
		return ErrNotReinstatable
	}
	v, err := c.StatusRun(ctx, sum.CaseID, sum.RunID)
	if err != nil {
		return fmt.Errorf("read closed case %s: %w", sum.CaseNumber, err)
	}
	e := v.Enforcement
	switch {
	case v.CategoryTrack != "" && !v.CategoryTrack.Violation():
		return ErrNotReinstatable
	case v.Outcome != workflows.OutcomeEnforced && v.Outcome != workflows.OutcomeUpheld:
		return ErrNotReinstatable
	case e == nil || e.ActionID == "" || !e.LiftedAt.IsZero():
		return ErrNotReinstatable
	case !e.ExpiresAt.IsZero() && e.ExpiresAt.Before(time.Now()):
		return ErrNotReinstatable
	case v.Ticket.IsZero():
		return ErrNotReinstatable
	}
	id := workflows.ReinstatementWorkflowID(v.CaseNumber)
	in := workflows.ReinstatementInput{
		CaseID: v.CaseID, CaseNumber: v.CaseNumber, ExternalID: v.CaseID + "@" + v.CaseNumber, OpenedAt: v.OpenedAt,
		Account: v.Account, Category: v.Category, Ticket: v.Ticket, Enforcement: *e, Approver: e.ApprovedByEmail, Rules: rules,
		Checks: workflows.CheckPlan(v),
	}
	_, err = c.T.SignalWithStartWorkflow(ctx, id, workflows.SignalReinstatementRequest, msg, client.StartWorkflowOptions{
		ID:        id,
		TaskQueue: workflows.TaskQueue,
		// A denied request may be made again: a new review, the old one's history kept.
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.SearchStatus.ValueSet(workflows.ReinstatementReview),
			workflows.SearchAccount.ValueSet(v.Account.ID),
			workflows.SearchCaseNumber.ValueSet(v.CaseNumber),
		),
	}, workflows.ReinstatementWorkflowType, in)
	if err != nil {
		return fmt.Errorf("open the reinstatement review of %s: %w", v.CaseNumber, err)
	}
	return nil
}

// DecideReinstatement delivers a reviewer's decision on a closed case's reinstatement request.
func (c *Client) DecideReinstatement(ctx context.Context, caseNumber string, d workflows.AgentDecision) (*workflows.DecisionResult, error) {
	res, err := c.update(ctx, workflows.ReinstatementWorkflowID(caseNumber), workflows.UpdateAgentDecision, d.RequestID, d)
	var refused *Refused
	if errors.As(err, &refused) && refused.Reason == "the case is closed" {
		return nil, &Refused{Reason: "case " + caseNumber + " has no request for reinstatement under review"}
	}
	return res, err
}

// OnProbation finds the account's reinstatement on probation, if any (the newest).
func (c *Client) OnProbation(ctx context.Context, account string) (*workflows.ProbationResult, error) {
	q := "WorkflowType = '" + workflows.ReinstatementWorkflowType + "' AND ExecutionStatus = 'Running' AND " +
		workflows.SearchAccount.GetName() + " = " + Quote(account) + " AND " + workflows.SearchStatus.GetName() + " = " + Quote(workflows.ReinstatementProbation)
	resp, err := c.T.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q, PageSize: 5})
	if err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return &workflows.ProbationResult{}, nil
		}
		return nil, fmt.Errorf("find the probation of %s: %w", account, err)
	}
	execs := resp.GetExecutions()
	if len(execs) == 0 {
		return &workflows.ProbationResult{}, nil
	}
	e := execs[0]
	sa := e.GetSearchAttributes()
	r := &workflows.ProbationResult{On: true, WorkflowID: e.GetExecution().GetWorkflowId(),
		CaseNumber: decodeString(sa, workflows.SearchCaseNumber.GetName())}
	if t := decodeString(sa, workflows.SearchDeadline.GetName()); t != "" {
		r.Until, _ = time.Parse(time.RFC3339Nano, t)
	}
	return r, nil
}

// ReinstatementOf returns the latest reinstatement review of a case (by its number), or nil when
// none was asked for.
func (c *Client) ReinstatementOf(ctx context.Context, caseNumber string) (*workflows.ReinstatementView, error) {
	res, err := c.T.QueryWorkflow(ctx, workflows.ReinstatementWorkflowID(caseNumber), "", workflows.QueryStatus, workflows.StatusQuery{})
	if err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return nil, nil
		}
		return nil, err
	}
	var v workflows.ReinstatementView
	if err := res.Get(&v); err != nil {
		return nil, err
	}
	return &v, nil
}
