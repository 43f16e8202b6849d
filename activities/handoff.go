package activities

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"go.temporal.io/sdk/temporal"

	"abusedesk/domain/approval"
	"abusedesk/domain/fault"
	"abusedesk/domain/ticket"
	"abusedesk/workflows"
)

// HandOffs post hand-offs to teams' channels (Slack) and follow them up.
type HandOffs interface {
	// FindHandOff returns the hand-off posted for step in channel, or nil and no error.
	FindHandOff(ctx context.Context, channel, step string) (*approval.Message, error)
	PostHandOff(ctx context.Context, p approval.HandOffPost) (*approval.Message, error)
	PingHandOff(ctx context.Context, m approval.Message, mention, text string) error
	ShowHandOff(ctx context.Context, m approval.Message, s approval.HandOffShow) error
}

// TagHandOff marks a hand-off's linked ticket.
const TagHandOff = "abusedesk_handoff"

// OpenHandOff opens a hand-off's work item: the linked ticket in the team's group (the agent who
// handed it off is its requester, so the team answers them there), the message in the team's
// channel, and a note on the case's ticket. Each part is found again on a retry.
func (a *Activities) OpenHandOff(ctx context.Context, in workflows.OpenHandOffInput) (*workflows.OpenHandOffResult, error) {
	if a.HandOffs == nil {
		return nil, temporal.NewNonRetryableApplicationError("no Slack is configured to hand work to teams", fault.Invalid.String(), nil)
	}
	res := &workflows.OpenHandOffResult{Work: in.Work}
	d := in.Data
	d.Note = fmt.Sprintf("Handed to %s by %s: %s", in.Title, in.By, in.Reason)
	d.Deadline = in.Due
	if res.Work.IsZero() {
		ext := "abusedesk-handoff:" + in.WorkflowID
		t, err := a.Tickets.FindTicket(ctx, ext)
		if err != nil {
			return nil, boundary("find the hand-off's ticket", err)
		}
		if t == nil {
			body, err := a.render(workflows.NoteHandOff, d)
			if err != nil {
				return nil, err
			}
			requester := in.By
			if !strings.Contains(requester, "@") {
				requester = "abuse-desk@abusedesk.invalid"
			}
			t, err = a.Tickets.CreateTicket(ctx, ticket.New{
				ExternalID: ext, Subject: fmt.Sprintf("[%s] Hand-off to %s: %s", d.CaseNumber, in.Title, oneLine(in.Reason, 120)),
				RequesterEmail: requester, Comment: ticket.Comment{Body: body}, Status: workflows.TicketOpen,
				Tags: []string{TagHandOff, "abusedesk_team_" + sanitizeTag(in.Team)}, GroupID: in.Group,
			})
			if err != nil {
				return nil, boundary("create the hand-off's ticket", err)
			}
		}
		res.Work = t.Ref
	}
	msg, err := a.HandOffs.FindHandOff(ctx, in.Channel, in.Step)
	if err != nil {
		return nil, boundary("look for the hand-off's message", err)
	}
	if msg == nil {
		msg, err = a.HandOffs.PostHandOff(ctx, approval.HandOffPost{
			Step: in.Step, WorkflowID: in.WorkflowID, Channel: in.Channel, Team: in.Title, CaseNumber: d.CaseNumber,
			CaseURL: a.caseURL(d.CaseNumber), TicketURL: res.Work.URL, Account: d.Account.ID, Category: string(d.Category),
			Reason: in.Reason, By: in.By, Due: in.Due,
		})
		if err != nil {
			return nil, boundary("post the hand-off to "+in.Channel, err)
		}
	}
	res.Message = *msg
	if !in.CaseTicket.IsZero() {
		_, err := a.Notify(ctx, workflows.NotifyInput{Ticket: in.CaseTicket, Step: in.Step, Note: workflows.NoteHandOff, Data: withWork(d, res)})
		if err != nil {
			return nil, err
		}
	}
	return res, nil
}

// withWork is the note's data with the work item's links.
func withWork(d workflows.NoticeData, res *workflows.OpenHandOffResult) workflows.NoticeData {
	d.HandOffWork, d.HandOffMessage = res.Work.URL, cmp.Or(res.Message.Permalink, res.Message.Channel)
	if d.HandOffWork == "" && !res.Work.IsZero() {
		d.HandOffWork = "#" + res.Work.ID
	}
	return d
}

// HandOffNote follows a hand-off up: a reply in its Slack thread (mentioning who is asked now),
// its message rewritten with the outcome, a comment on its linked ticket (solved when done, or
// moved to another team's group).
func (a *Activities) HandOffNote(ctx context.Context, in workflows.HandOffNoteInput) error {
	if a.HandOffs == nil {
		return temporal.NewNonRetryableApplicationError("no Slack is configured to hand work to teams", fault.Invalid.String(), nil)
	}
	if in.Text != "" && in.Message.TS != "" {
		if err := a.HandOffs.PingHandOff(ctx, in.Message, in.Mention, in.Text); err != nil {
			return boundary("reply in the hand-off's thread", err)
		}
	}
	if in.Show != nil && in.Message.TS != "" {
		s := *in.Show
		s.CaseURL = a.caseURL(s.CaseNumber)
		if err := a.HandOffs.ShowHandOff(ctx, in.Message, s); err != nil {
			return boundary("update the hand-off's message", err)
		}
	}
	if !in.Work.IsZero() && (in.Comment != "" || in.Solve || in.Group != 0) {
		u := ticket.Update{}
		if in.Comment != "" {
			u.Comment = &ticket.Comment{Body: in.Comment}
		}
		if in.Solve {
			u.Status = workflows.TicketSolved
		}
		if in.Group != 0 {
			u.GroupID = in.Group
		}
		if err := a.Tickets.UpdateTicket(ctx, in.Work, u); err != nil {
			return boundary("update the hand-off's ticket", err)
		}
	}
	return nil
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
