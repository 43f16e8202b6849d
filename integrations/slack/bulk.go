package slack

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"abusedesk/domain/approval"
)

// ActionUndo is the button that undoes a whole reviewed bulk action.
const ActionUndo = "abusedesk_undo"

// PostBulk implements the activities' BulkBoard: the request for a second lead's approval of a
// bulk action, with Approve and Deny (the Deny dialog asks for the reason, as for a case).
func (c *Client) PostBulk(ctx context.Context, p approval.BulkPost) (*approval.Message, error) {
	return c.postRequest(ctx, "post the bulk action's request", c.cfg.Channel, bulkText(p), BulkBlocks(p), p.WorkflowID, p.Step)
}

// ShowBulk implements the activities' BulkBoard: the message rewritten to the action as it
// stands — decided, applied (with the Undo button while one click undoes it), undone.
func (c *Client) ShowBulk(ctx context.Context, m approval.Message, p approval.BulkPost) error {
	return c.rewrite(ctx, "update the bulk action's message", m, bulkText(p), BulkBlocks(p))
}

// bulkText is the message's text (notifications show it): its title and where it stands.
func bulkText(p approval.BulkPost) string { return Escape(bulkTitle(p) + " — " + p.Outcome) }

func bulkTitle(p approval.BulkPost) string {
	if p.State == approval.BulkProposed {
		return fmt.Sprintf("Bulk action %s needs a second lead", p.Number)
	}
	return fmt.Sprintf("Bulk action %s: %s", p.Number, p.State)
}

// BulkBlocks is the Block Kit body of a bulk action's message: what is proposed, on which
// accounts, what links them; the buttons its state allows.
func BulkBlocks(p approval.BulkPost) []slack.Block {
	md := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
	}
	ref := Escape(p.Number)
	if p.URL != "" {
		ref = fmt.Sprintf("<%s|%s>", linkURL(p.URL), Escape(p.Number))
	}
	accounts := make([]string, len(p.Accounts))
	for i, a := range p.Accounts {
		accounts[i] = Escape(a)
	}
	shared := make([]string, len(p.Shared))
	for i, s := range p.Shared {
		shared[i] = Escape(s)
	}
	fields := []*slack.TextBlockObject{
		md("*Bulk action*\n" + ref),
		md("*Proposed by*\n" + Escape(p.Proposer) + " at " + p.ProposedAt.UTC().Format("2006-01-02 15:04 UTC")),
		md("*Action*\n" + Escape(p.Action)),
		md(fmt.Sprintf("*Accounts (%d)*\n%s", len(p.Accounts), strings.Join(accounts, ", "))),
	}
	if p.State == approval.BulkProposed {
		fields[2] = md("*Will apply*\n" + Escape(p.Action))
		fields = append(fields, md("*Decide by*\n"+p.Deadline.UTC().Format("2006-01-02 15:04 UTC")))
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, bulkTitle(p), false, false)),
		slack.NewSectionBlock(nil, fields, nil),
		slack.NewSectionBlock(md("*Reason*\n"+Escape(p.Reason)+"\n*What links them*\n"+strings.Join(shared, "\n")), nil, nil),
	}
	status := Escape(p.Outcome)
	if p.DecidedBy != "" {
		status = fmt.Sprintf("%s (%s, %s)", status, Escape(p.DecidedBy), p.DecidedAt.UTC().Format("2006-01-02 15:04 UTC"))
	}
	blocks = append(blocks, slack.NewContextBlock("bulk_state", md("*"+status+"*")))
	switch {
	case p.State == approval.BulkProposed:
		approve := slack.NewButtonBlockElement(ActionApprove, p.WorkflowID, slack.NewTextBlockObject(slack.PlainTextType, "Approve", false, false))
		approve.Style = slack.StylePrimary
		deny := slack.NewButtonBlockElement(ActionDeny, p.WorkflowID, slack.NewTextBlockObject(slack.PlainTextType, "Deny", false, false))
		deny.Style = slack.StyleDanger
		blocks = append(blocks, slack.NewActionBlock("decide", approve, deny),
			slack.NewContextBlock("who", md("A lead other than "+cmp.Or(Escape(p.Proposer), "the proposer")+" decides. Nothing is done to any account before.")))
	case p.Undo:
		undo := slack.NewButtonBlockElement(ActionUndo, p.WorkflowID, slack.NewTextBlockObject(slack.PlainTextType, "Undo the whole action", false, false))
		undo.Style = slack.StyleDanger
		undo.Confirm = slack.NewConfirmationBlockObject(
			slack.NewTextBlockObject(slack.PlainTextType, "Undo "+p.Number+"?", false, false),
			slack.NewTextBlockObject(slack.PlainTextType, fmt.Sprintf("Every action it applied is lifted (%d accounts).", len(p.Accounts)), false, false),
			slack.NewTextBlockObject(slack.PlainTextType, "Undo", false, false),
			slack.NewTextBlockObject(slack.PlainTextType, "Cancel", false, false))
		blocks = append(blocks, slack.NewActionBlock("undo", undo))
	}
	return blocks
}
