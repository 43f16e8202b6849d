package inbound

import (
	"context"

	"abusedesk/domain/approval"
	deskslack "abusedesk/integrations/slack"
	"abusedesk/workflows"
)

// Approvals is what a lead's click needs of the cases client.
type Approvals interface {
	DecideApproval(ctx context.Context, caseID string, d approval.Decision) (*workflows.DecisionResult, error)
	AnswerHandOff(ctx context.Context, workflowID string, a approval.TeamAnswer) (*workflows.DecisionResult, error)
}

// Slack is the Slack channel: the integration verifies and reads a lead's click, this hands it
// to the case as an Update and gives back the sentence the lead sees.
type Slack struct {
	Cases Approvals
}

var (
	_ deskslack.Decider  = Slack{}
	_ deskslack.HandOffs = Slack{}
)

// DecideApproval implements the Slack integration's Decider.
func (s Slack) DecideApproval(ctx context.Context, caseID string, d approval.Decision) (string, error) {
	res, err := s.Cases.DecideApproval(ctx, caseID, d)
	if err != nil {
		return "", err
	}
	return res.Message, nil
}

// AnswerHandOff implements the Slack integration's HandOffs.
func (s Slack) AnswerHandOff(ctx context.Context, workflowID string, a approval.TeamAnswer) (string, error) {
	res, err := s.Cases.AnswerHandOff(ctx, workflowID, a)
	if err != nil {
		return "", err
	}
	return res.Message, nil
}
