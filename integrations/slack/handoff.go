package slack

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"abusedesk/domain/approval"
)

// Action IDs of a hand-off's buttons and its answer dialog.
const (
	ActionHandOffResolve  = "abusedesk_handoff_resolve"
	ActionHandOffNeedInfo = "abusedesk_handoff_need_info"
	ActionHandOffReassign = "abusedesk_handoff_reassign"
	CallbackHandOff       = "abusedesk_handoff_answer"
	handOffMetadataType   = "abusedesk_handoff"
)

// handOffActions are the buttons and what each answers.
var handOffActions = map[string]string{
	ActionHandOffResolve:  approval.HandOffResolve,
	ActionHandOffNeedInfo: approval.HandOffNeedInfo,
	ActionHandOffReassign: approval.HandOffReassign,
}

// FindHandOff looks through a team channel's recent history for the hand-off posted for step
// (a retried post then finds the first one).
func (c *Client) FindHandOff(ctx context.Context, channel, step string) (*approval.Message, error) {
	var h *slack.GetConversationHistoryResponse
	err := idempotent(ctx, "read the team channel's history", func() (err error) {
		h, err = c.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: channel, Limit: 200, IncludeAllMetadata: true})
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, m := range h.Messages {
		if m.Metadata.EventType == handOffMetadataType && fmt.Sprint(m.Metadata.EventPayload["step"]) == step {
			ch := m.Channel
			if ch == "" {
				ch = channel
			}
			return &approval.Message{Channel: ch, TS: m.Timestamp}, nil
		}
	}
	return nil, nil
}

// PostHandOff posts a hand-off to the team's channel with Resolve, Need info and Reassign.
func (c *Client) PostHandOff(ctx context.Context, p approval.HandOffPost) (*approval.Message, error) {
	channel, ts, err := c.api.PostMessageContext(ctx, p.Channel,
		slack.MsgOptionText(Escape(fmt.Sprintf("Hand-off to %s: case %s — %s", p.Team, p.CaseNumber, p.Reason)), false),
		slack.MsgOptionBlocks(HandOffBlocks(p)...),
		slack.MsgOptionMetadata(slack.SlackMetadata{EventType: handOffMetadataType, EventPayload: map[string]any{"workflow_id": p.WorkflowID, "step": p.Step}}),
	)
	if err != nil {
		return nil, classify("post the hand-off to "+p.Channel, err)
	}
	msg := &approval.Message{Channel: channel, TS: ts}
	if link, err := c.api.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: channel, Ts: ts}); err == nil {
		msg.Permalink = link
	}
	return msg, nil
}

// PingHandOff replies in the hand-off's thread, broadcast to the channel, mentioning who is
// asked now (up the chain).
func (c *Client) PingHandOff(ctx context.Context, m approval.Message, mention, text string) error {
	text = Escape(text)
	if mention != "" {
		text = mention + " " + text
	}
	if _, _, err := c.api.PostMessageContext(ctx, m.Channel, slack.MsgOptionText(text, false), slack.MsgOptionTS(m.TS), slack.MsgOptionBroadcast()); err != nil {
		return classify("re-ping the hand-off", err)
	}
	return nil
}

// ShowHandOff rewrites the hand-off's message with its answer, without buttons.
func (c *Client) ShowHandOff(ctx context.Context, m approval.Message, s approval.HandOffShow) error {
	text := HandOffOutcomeText(s)
	md := func(t string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.MarkdownType, t, false, false)
	}
	summary := Escape(fmt.Sprintf("Hand-off to %s: case %s", s.Team, s.CaseNumber))
	if s.CaseURL != "" {
		summary += fmt.Sprintf(" <%s|Open the case>", linkURL(s.CaseURL))
	}
	return idempotent(ctx, "update the hand-off message", func() error {
		_, _, _, err := c.api.UpdateMessageContext(ctx, m.Channel, m.TS, slack.MsgOptionText(text, false),
			slack.MsgOptionBlocks(slack.NewSectionBlock(md(summary), nil, nil), slack.NewContextBlock("outcome", md("*"+text+"*"))))
		return err
	})
}

// HandOffOutcomeText is the one-line outcome of a hand-off.
func HandOffOutcomeText(s approval.HandOffShow) string {
	verb := map[string]string{approval.HandOffResolve: "Resolved", approval.HandOffReassign: "Reassigned", "closed": "The case closed"}[s.Outcome]
	if verb == "" {
		verb = s.Outcome
	}
	text := verb
	if s.By != "" {
		text += " by " + Escape(s.By)
	}
	text += " at " + s.At.UTC().Format("2006-01-02 15:04 UTC")
	if s.Text != "" {
		text += ": " + Escape(s.Text)
	}
	return text
}

// HandOffBlocks is the Block Kit body of a hand-off.
func HandOffBlocks(p approval.HandOffPost) []slack.Block {
	md := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
	}
	caseRef := "*Case*\n" + Escape(p.CaseNumber)
	if p.CaseURL != "" {
		caseRef = fmt.Sprintf("*Case*\n<%s|%s>", linkURL(p.CaseURL), Escape(p.CaseNumber))
	}
	ticket := "-"
	if p.TicketURL != "" {
		ticket = fmt.Sprintf("<%s|linked ticket>", linkURL(p.TicketURL))
	}
	fields := []*slack.TextBlockObject{
		md(caseRef), md(fmt.Sprintf("*Account*\n%s", Escape(p.Account))), md("*Category*\n" + Escape(p.Category)),
		md("*From*\n" + Escape(p.By)), md("*Due*\n" + p.Due.UTC().Format("2006-01-02 15:04 UTC")), md("*Work item*\n" + ticket),
	}
	button := func(id, label string, style slack.Style) *slack.ButtonBlockElement {
		b := slack.NewButtonBlockElement(id, p.WorkflowID, slack.NewTextBlockObject(slack.PlainTextType, label, false, false))
		b.Style = style
		return b
	}
	return []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, "Hand-off to "+p.Team+": "+p.CaseNumber, false, false)),
		slack.NewSectionBlock(md("*Why*\n"+Escape(p.Reason)), fields, nil),
		slack.NewActionBlock("handoff", button(ActionHandOffResolve, "Resolve", slack.StylePrimary), button(ActionHandOffNeedInfo, "Need info", ""),
			button(ActionHandOffReassign, "Reassign", "")),
	}
}

// handOffDialog asks what the answer says: what was done, the question, or the team.
func handOffDialog(workflowID, action, channel, user string) slack.ModalViewRequest {
	label, title, hint := "What was done", "Resolve hand-off", "The agents and the case see this."
	switch action {
	case approval.HandOffNeedInfo:
		label, title, hint = "What do you need", "Ask the agent", "The agent reads this on the case's ticket."
	case approval.HandOffReassign:
		label, title, hint = "Which team", "Reassign hand-off", "The team's name as the policy has it (security, tier2, …)."
	}
	input := slack.NewPlainTextInputBlockElement(slack.NewTextBlockObject(slack.PlainTextType, hint, false, false), actionReasonID)
	input.Multiline = action != approval.HandOffReassign
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      CallbackHandOff,
		Title:           slack.NewTextBlockObject(slack.PlainTextType, title, false, false),
		Submit:          slack.NewTextBlockObject(slack.PlainTextType, "Send", false, false),
		Close:           slack.NewTextBlockObject(slack.PlainTextType, "Cancel", false, false),
		PrivateMetadata: strings.Join([]string{workflowID, action, channel, user}, "\n"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewInputBlock(blockReason, slack.NewTextBlockObject(slack.PlainTextType, label, false, false), nil, input),
		}},
	}
}

// openHandOffDialog opens the answer dialog for a hand-off button.
func (h *Interactions) openHandOffDialog(ctx context.Context, cb slack.InteractionCallback, workflowID, action string) {
	if _, err := h.API.OpenViewContext(ctx, cb.TriggerID, handOffDialog(workflowID, action, cb.Channel.ID, cb.User.ID)); err != nil {
		h.log().Error("cannot open the hand-off dialog", "workflow_id", workflowID, "error", err)
		h.ephemeral(ctx, cb, "Could not open the dialog ("+err.Error()+").")
	}
}

// handOffSubmitted delivers a hand-off answer from its dialog.
func (h *Interactions) handOffSubmitted(ctx context.Context, cb slack.InteractionCallback, deferred bool) (any, error) {
	parts := strings.SplitN(cb.View.PrivateMetadata, "\n", 4)
	if len(parts) != 4 {
		return viewErrors("This dialog lost what it was for; click the button again."), nil
	}
	workflowID, action := parts[0], parts[1]
	cb.Channel.ID = parts[2]
	text := denyReason(cb)
	if text == "" && action != approval.HandOffResolve {
		return viewErrors("Please fill this in: it is what the agent or the next team reads."), nil
	}
	a := approval.TeamAnswer{Action: action, UserID: cb.User.ID, UserName: cb.User.Name, Text: text, RequestID: requestID(cb.User.ID, cb.View.ID)}
	if u, err := h.API.GetUserInfoContext(ctx, cb.User.ID); err == nil {
		a.UserName, a.UserEmail = cmp.Or(u.RealName, u.Name, a.UserName), strings.ToLower(u.Profile.Email)
	}
	if h.HandOffs == nil {
		return viewErrors("This desk takes no hand-off answers."), nil
	}
	msg, err := h.HandOffs.AnswerHandOff(ctx, workflowID, a)
	var r refusal
	switch {
	case errors.As(err, &r) && deferred:
		h.ephemeral(ctx, cb, "Not applied: "+r.Refused())
		return nil, nil
	case errors.As(err, &r):
		return viewErrors(r.Refused()), nil
	case err != nil && deferred:
		return nil, err
	case err != nil:
		return viewErrors("Could not reach the hand-off: " + err.Error()), nil
	}
	h.ephemeral(ctx, cb, msg)
	return nil, nil
}
