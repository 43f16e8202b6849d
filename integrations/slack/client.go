// Package slack is abusedesk's Slack integration (slack-go v0.35.0): approval requests posted
// to the leads' channel as Block Kit messages with Approve, Deny and Extend buttons, re-pings,
// the message rewritten to show the decision, and the interaction handler behind both the HTTP
// endpoint (signing secret verified) and Socket Mode.
package slack

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"abusedesk/domain/approval"
	"abusedesk/domain/fault"
	"abusedesk/platform/httpx"
)

const service = "slack"

// Action IDs of the approval buttons and the deny modal.
const (
	ActionApprove  = "abusedesk_approve"
	ActionDeny     = "abusedesk_deny"
	ActionExtend   = "abusedesk_extend"
	CallbackDeny   = "abusedesk_deny_reason"
	metadataType   = "abusedesk_approval"
	blockReason    = "reason"
	actionReasonID = "reason_input"
)

// Config says how to reach Slack.
type Config struct {
	BotToken string
	// AppToken (xapp-…) enables Socket Mode.
	AppToken string
	// Channel is the leads' channel (ID or name).
	Channel string
	// APIURL replaces https://slack.com/api/ (the sandbox).
	APIURL string
	// Mention is who re-pings mention: "<@U…> <!subteam^S…>".
	Mention string
	HTTP    *http.Client
}

// Client posts and updates approval requests.
type Client struct {
	api *slack.Client
	cfg Config
}

// New makes a client; it does not call Slack.
func New(cfg Config) (*Client, error) {
	if cfg.BotToken == "" || cfg.Channel == "" {
		return nil, errors.New("slack: a bot token and a channel are required")
	}
	if cfg.HTTP == nil {
		cfg.HTTP = httpx.Client(20 * time.Second)
	}
	opts := []slack.Option{slack.OptionHTTPClient(cfg.HTTP)}
	if cfg.APIURL != "" {
		opts = append(opts, slack.OptionAPIURL(strings.TrimRight(cfg.APIURL, "/")+"/"))
	}
	if cfg.AppToken != "" {
		opts = append(opts, slack.OptionAppLevelToken(cfg.AppToken))
	}
	return &Client{api: slack.New(cfg.BotToken, opts...), cfg: cfg}, nil
}

// API is the underlying slack-go client.
func (c *Client) API() *slack.Client { return c.api }

// FindApproval implements the activities' Approvals: it looks through the channel's recent history
// for the request posted for step (a retried post then finds the first one).
func (c *Client) FindApproval(ctx context.Context, channel, step string) (*approval.Message, error) {
	var h *slack.GetConversationHistoryResponse
	err := idempotent(ctx, "read the channel history", func() (err error) {
		h, err = c.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
			ChannelID: cmp.Or(channel, c.cfg.Channel), Limit: 200, IncludeAllMetadata: true,
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, m := range h.Messages {
		if m.Metadata.EventType == metadataType && fmt.Sprint(m.Metadata.EventPayload["step"]) == step {
			return &approval.Message{Channel: c.channelID(h, m), TS: m.Timestamp}, nil
		}
	}
	return nil, nil
}

func (c *Client) channelID(_ *slack.GetConversationHistoryResponse, m slack.Message) string {
	if m.Channel != "" {
		return m.Channel
	}
	return c.cfg.Channel
}

// PostAlert posts a message for the leads to their channel (a spike, a reporter whose reports
// stopped parsing).
func (c *Client) PostAlert(ctx context.Context, text string) error {
	return c.PostAlertTo(ctx, "", text, approval.Approvers{})
}

// PostAlertTo implements the activities' Alerts: a message to a channel ("": the leads').
func (c *Client) PostAlertTo(ctx context.Context, channel, text string, page approval.Approvers) error {
	text = Escape(text)
	if m := page.Mention(); m != "" {
		text = m + " " + text
	}
	if _, _, err := c.api.PostMessageContext(ctx, cmp.Or(channel, c.cfg.Channel), slack.MsgOptionText(text, false)); err != nil {
		return classify("post an alert to "+cmp.Or(channel, c.cfg.Channel), err)
	}
	return nil
}

// PostApproval implements the activities' Approvals.
func (c *Client) PostApproval(ctx context.Context, p approval.Post) (*approval.Message, error) {
	return c.postRequest(ctx, "post the approval request", cmp.Or(p.Channel, c.cfg.Channel), Escape(p.Text), ApprovalBlocks(p), p.CaseID, p.Step)
}

// postRequest posts a request for a decision (a case's approval, a bulk action) to channel,
// marked with the workflow it is for and its step (FindApproval finds it by that), and links
// to it.
func (c *Client) postRequest(ctx context.Context, op, channel, text string, blocks []slack.Block, workflowID, step string) (*approval.Message, error) {
	channel, ts, err := c.api.PostMessageContext(ctx, channel,
		slack.MsgOptionText(text, false),
		slack.MsgOptionBlocks(blocks...),
		slack.MsgOptionMetadata(slack.SlackMetadata{EventType: metadataType, EventPayload: map[string]any{"case_id": workflowID, "step": step}}),
	)
	if err != nil {
		return nil, classify(op, err)
	}
	msg := &approval.Message{Channel: channel, TS: ts}
	if link, err := c.api.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: channel, Ts: ts}); err == nil {
		msg.Permalink = link
	}
	return msg, nil
}

// GroupMembers implements the activities' Approvals: the users of a Slack user group
// (usergroups.users.list).
func (c *Client) GroupMembers(ctx context.Context, group string) ([]string, error) {
	users, err := c.api.GetUserGroupMembersContext(ctx, group)
	if err != nil {
		return nil, classify("read the members of user group "+group, err)
	}
	return users, nil
}

// PingApproval implements the activities' Approvals: a reply in the request's thread, broadcast to
// the channel, mentioning the approvers.
func (c *Client) PingApproval(ctx context.Context, m approval.Message, p approval.Post) error {
	text := fmt.Sprintf("Reminder %d: case %s is still waiting for a decision (%s). The request times out %s.",
		p.Ping, Escape(p.CaseNumber), Escape(p.Action), p.Deadline.UTC().Format("2006-01-02 15:04 UTC"))
	mention := c.cfg.Mention
	if p.Mention != "" {
		// Up the chain: no lead decided in time.
		mention = p.Mention
		text = fmt.Sprintf("Escalated to the managers: no lead decided on case %s (%s). Please decide here; it waits until %s, then holds for a person.",
			Escape(p.CaseNumber), Escape(p.Action), p.Deadline.UTC().Format("2006-01-02 15:04 UTC"))
	}
	if mention != "" {
		text = mention + " " + text
	}
	_, _, err := c.api.PostMessageContext(ctx, m.Channel, slack.MsgOptionText(text, false), slack.MsgOptionTS(m.TS), slack.MsgOptionBroadcast())
	if err != nil {
		return classify("re-ping the approval request", err)
	}
	return nil
}

// ShowDecision implements the activities' Approvals: the message is rewritten with who decided,
// when and the outcome, and without buttons.
func (c *Client) ShowDecision(ctx context.Context, m approval.Message, s approval.Show) error {
	return c.rewrite(ctx, "update the approval message", m, DecisionText(s), DecisionBlocks(s))
}

// rewrite replaces a request's text and blocks (safe to repeat: the message ends the same).
func (c *Client) rewrite(ctx context.Context, op string, m approval.Message, text string, blocks []slack.Block) error {
	return idempotent(ctx, op, func() error {
		_, _, _, err := c.api.UpdateMessageContext(ctx, m.Channel, m.TS, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
		return err
	})
}

// Escape makes text from outside (an account's name, a reporter's domain, a reason typed by
// someone) inert in a Slack message: Slack reads <…> as links, user and channel mentions and
// @channel/@here (<!channel>), so "<https://evil.example|Approve TS-1>" in a customer's name
// would be a link, and "<!channel>" a ping of everyone. Slack's own escaping of &, < and >
// shows them as written. Every string the desk did not write goes through it.
func Escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// linkURL is a URL the desk built, made safe inside <url|label>: the characters that would end
// the link or start its label are percent-encoded.
func linkURL(u string) string {
	return strings.NewReplacer("|", "%7C", ">", "%3E", "<", "%3C", " ", "%20").Replace(u)
}

// ApprovalBlocks is the Block Kit body of an approval request.
func ApprovalBlocks(p approval.Post) []slack.Block {
	title := fmt.Sprintf("Approval needed: %s", p.CaseNumber)
	if p.Ping > 0 {
		title += fmt.Sprintf(" (reminder %d)", p.Ping)
	}
	caseRef := "*Case*\n" + Escape(p.CaseNumber)
	if p.CaseURL != "" {
		caseRef = fmt.Sprintf("*Case*\n<%s|%s>", linkURL(p.CaseURL), Escape(p.CaseNumber))
	}
	seen := "-"
	if !p.Reports.FirstSeen.IsZero() {
		seen = p.Reports.FirstSeen.UTC().Format("2006-01-02 15:04") + " – " + p.Reports.LastSeen.UTC().Format("2006-01-02 15:04 UTC")
	}
	field := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
	}
	fields := []*slack.TextBlockObject{
		field(caseRef),
		field(fmt.Sprintf("*Account*\n%s — %s (%s)", Escape(p.Account.ID), Escape(p.Account.Name), Escape(string(p.Account.Tier)))),
		field("*Category*\n" + Escape(string(p.Category))),
		field(fmt.Sprintf("*Reports*\n%d (%s)", p.Reports.Count, seen)),
		field("*Will apply*\n" + Escape(p.Action)),
		field("*Decide by*\n" + p.Deadline.UTC().Format("2006-01-02 15:04 UTC")),
	}
	why := "Why a lead decides: " + Escape(p.Reason)
	if p.Account.PriorViolations > 0 {
		why += fmt.Sprintf(" · %d prior violations", p.Account.PriorViolations)
	}
	approve := slack.NewButtonBlockElement(ActionApprove, p.CaseID, slack.NewTextBlockObject(slack.PlainTextType, "Approve", false, false))
	approve.Style = slack.StylePrimary
	deny := slack.NewButtonBlockElement(ActionDeny, p.CaseID, slack.NewTextBlockObject(slack.PlainTextType, "Deny", false, false))
	deny.Style = slack.StyleDanger
	extend := slack.NewButtonBlockElement(ActionExtend, p.CaseID, slack.NewTextBlockObject(slack.PlainTextType, "Extend deadline", false, false))
	return []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, title, false, false)),
		slack.NewSectionBlock(nil, fields, nil),
		slack.NewContextBlock("why", field(why)),
		slack.NewActionBlock("decide", approve, deny, extend),
	}
}

// DecisionText is the one-line summary of a decision.
func DecisionText(s approval.Show) string {
	verb := map[string]string{
		approval.Approve: "Approved", approval.Deny: "Denied", approval.Extend: "Extended",
		"timeout": "No decision in time — enforced by policy", "withdrawn": "Withdrawn",
	}[s.Decision]
	if verb == "" {
		verb = s.Decision
	}
	by := ""
	if s.DecidedBy != "" {
		by = " by " + Escape(s.DecidedBy)
	}
	text := fmt.Sprintf("%s%s at %s — case %s", verb, by, s.DecidedAt.UTC().Format("2006-01-02 15:04 UTC"), Escape(s.CaseNumber))
	if s.Reason != "" {
		text += ". " + Escape(s.Reason)
	}
	return text
}

// DecisionBlocks replaces the request once decided: the request's summary and the decision,
// no buttons.
func DecisionBlocks(s approval.Show) []slack.Block {
	md := func(t string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.MarkdownType, t, false, false)
	}
	summary := Escape(s.Text)
	if s.CaseURL != "" {
		summary += fmt.Sprintf(" <%s|Open the case>", linkURL(s.CaseURL))
	}
	return []slack.Block{
		slack.NewSectionBlock(md(summary), nil, nil),
		slack.NewContextBlock("decision", md("*"+DecisionText(s)+"*")),
	}
}

// idempotent runs a Web API call that is safe to repeat (a read, or an update to a fixed
// state), retrying transient failures a few times. Slack sends every method as a POST, so the
// transport cannot tell these from posts, which are not repeated (a retried post could show
// twice; the activity's retry looks for the first one instead).
func idempotent(ctx context.Context, op string, call func() error) error {
	delay := 100 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := call()
		if err == nil {
			return nil
		}
		err = classify(op, err)
		if fault.KindOf(err) != fault.Transient || attempt == 2 {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
		delay *= 2
	}
}

// classify turns a slack-go error into a *fault.Error.
func classify(op string, err error) error {
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return &fault.Error{Kind: fault.RateLimited, Service: service, Op: op, Status: http.StatusTooManyRequests, RetryAfter: rl.RetryAfter, Err: err}
	}
	var se slack.StatusCodeError
	if errors.As(err, &se) {
		return &fault.Error{Kind: fault.FromHTTP(se.Code), Service: service, Op: op, Status: se.Code, Message: se.Status, Err: err}
	}
	var sr slack.SlackErrorResponse
	if errors.As(err, &sr) {
		kind := fault.Invalid
		switch sr.Err {
		case "invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "missing_scope", "not_allowed_token_type":
			kind = fault.Unauthorized
		case "ratelimited":
			kind = fault.RateLimited
		case "message_not_found", "channel_not_found", "user_not_found", "thread_not_found":
			kind = fault.NotFound
		case "internal_error", "fatal_error", "service_unavailable", "request_timeout":
			kind = fault.Transient
		}
		return &fault.Error{Kind: kind, Service: service, Op: op, Message: sr.Err, Err: err}
	}
	return httpx.Classify(service, op, nil, nil, err)
}
