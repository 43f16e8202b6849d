package zendesk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"abusedesk/domain/fault"
	"abusedesk/domain/ticket"
	"abusedesk/platform/httpx"
)

// ChannelAPI is what the channel reads and writes of Zendesk (*Client has it all).
type ChannelAPI interface {
	Ticket(ctx context.Context, id int64) (*TicketInfo, error)
	Comments(ctx context.Context, id int64) ([]Comment, error)
	// Audits lists a ticket's updates, newest first: who made each, its comment, the tags added.
	Audits(ctx context.Context, id int64) ([]Audit, error)
	User(ctx context.Context, id int64) (*User, error)
	Download(ctx context.Context, contentURL string, limit int64) ([]byte, error)
	Update(ctx context.Context, id int64, u Update) error
	Export(ctx context.Context, cursor string, start time.Time) (*ExportPage, error)
	Ref(id int64) ticket.Ref
}

// Cursor keeps the export poll's place across restarts.
type Cursor interface {
	Load() string
	Save(cursor string) error
}

// TagIntakeDone marks an intake ticket whose report went to the desk.
const TagIntakeDone = "abusedesk_intake_done"

// Channel is Zendesk's side of the decisions-in port: the webhook the provisioned triggers
// call (reports arriving in the intake group, customers' public comments on case tickets,
// agents' decision macros and assignments) and the incremental-export poll that catches what
// a webhook missed. It verifies each event in Zendesk (the signature, the ticket's audits),
// hands it to the desk in neutral terms (ticket.Desk) and posts the desk's answer on the ticket.
type Channel struct {
	API  ChannelAPI
	Desk ticket.Desk
	// Secret is the webhook's signing secret ("": every notification is refused).
	Secret        string
	IntakeGroupID int64
	// CaseGroupID is the desk's own group: a ticket an agent moved to another group before a
	// decision was routed there.
	CaseGroupID int64
	// Cursor keeps the export cursor (nil: the poll starts an hour back at each start).
	Cursor Cursor
	// Queue, when set, keeps each verified notification durably and the webhook answers at
	// once — well within Zendesk's 10 s, whatever the ticket reads and the case's update take
	// — and Process does it after; a crash in between loses nothing. Without it the webhook
	// does the work before it answers.
	Queue interface{ Put(payload []byte) error }
	Log   *slog.Logger
	// Now is the clock for signature freshness; default time.Now.
	Now func() time.Time
}

func (z *Channel) log() *slog.Logger {
	if z.Log == nil {
		return slog.Default().With("component", "zendesk-channel")
	}
	return z.Log
}

// WebhookHandler serves the webhook: a notification whose signature does not match the
// signing secret, or whose signed timestamp is more than five minutes off, is refused with 401
// and changes nothing.
func (z *Channel) WebhookHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20+1))
		if err != nil || len(body) > 1<<20 {
			http.Error(w, "body unreadable or over 1 MiB", http.StatusRequestEntityTooLarge)
			return
		}
		now := time.Now()
		if z.Now != nil {
			now = z.Now()
		}
		if z.Secret == "" {
			http.Error(w, "the desk has no ZENDESK_WEBHOOK_SECRET: webhooks are refused", http.StatusUnauthorized)
			return
		}
		if err := Verify(z.Secret, r.Header, body, now); err != nil {
			z.log().Warn("zendesk webhook refused", "reason", err.Error(), "remote", r.RemoteAddr)
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		ev, id, err := ParseEvent(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if z.Queue != nil {
			if err := z.Queue.Put(body); err == nil {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"ok":true,"queued":true}` + "\n"))
				return
			} else {
				z.log().Warn("zendesk event not kept for later; handling it now", "event", ev.Kind, "ticket_id", id, "error", err)
			}
		}
		if err := z.Handle(r.Context(), ev, id); err != nil {
			if Permanent(err) {
				z.log().Error("zendesk event refused for good", "event", ev.Kind, "ticket_id", id, "error", err)
				httpx.Problem(w, http.StatusUnprocessableEntity, err.Error())
				return
			}
			z.log().Error("zendesk event not handled; it will come again (webhook retry or the export poll)", "event", ev.Kind, "ticket_id", id, "error", err)
			w.Header().Set("Retry-After", "30")
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}` + "\n"))
	})
}

// Process does a notification Queue kept (its body as Zendesk signed it). An error for which
// Permanent is true (the body is not an event, the ticket does not exist) will not mend by
// asking again; any other may.
func (z *Channel) Process(ctx context.Context, body []byte) error {
	ev, id, err := ParseEvent(body)
	if err != nil {
		return &fault.Error{Kind: fault.Invalid, Service: service, Op: "read a kept notification", Err: err}
	}
	if err := z.Handle(ctx, ev, id); err != nil {
		return fmt.Errorf("zendesk %s event about ticket %d: %w", ev.Kind, id, err)
	}
	return nil
}

// Permanent reports whether asking again cannot help (the ticket does not exist, say).
func Permanent(err error) bool { return fault.Is(err, fault.Invalid) || fault.Is(err, fault.NotFound) }

// Handle processes one event about a ticket.
func (z *Channel) Handle(ctx context.Context, ev Event, ticketID int64) error {
	switch ev.Kind {
	case EventReport:
		return z.report(ctx, ticketID)
	case EventCustomerReply:
		return z.reply(ctx, ticketID)
	case EventDecision:
		actor, _ := strconv.ParseInt(ev.ActorID, 10, 64)
		return z.decision(ctx, ticketID, ev.Decision, actor, ev.Actor)
	case EventAssigned:
		return z.assigned(ctx, ticketID, ev.Updated)
	}
	return fmt.Errorf("unknown event %q", ev.Kind)
}

// caseOf is the case a case ticket names (CaseID "" when the ticket is not one).
func caseOf(t *TicketInfo) ticket.CaseLink {
	link := ticket.CaseLink{Number: t.Fields[ticket.FieldCaseNumber]}
	if id := t.Fields[ticket.FieldCaseID]; strings.HasPrefix(id, "case/") {
		link.CaseID = id
	} else if strings.HasPrefix(t.ExternalID, "case/") {
		link.CaseID, _, _ = strings.Cut(t.ExternalID, "@")
	}
	if link.CaseID == "" {
		return ticket.CaseLink{}
	}
	return link
}

// caseTicket reads a ticket and the case it names (CaseID "": it names none).
func (z *Channel) caseTicket(ctx context.Context, id int64) (*TicketInfo, ticket.CaseLink, error) {
	t, err := z.API.Ticket(ctx, id)
	if err != nil {
		return nil, ticket.CaseLink{}, err
	}
	return t, caseOf(t), nil
}

// assigneeOf is a ticket's assignee as the case keeps it: a user ID, "" for nobody.
func assigneeOf(t *TicketInfo) string {
	if t.AssigneeID == 0 {
		return ""
	}
	return strconv.FormatInt(t.AssigneeID, 10)
}

// report takes a ticket created in the intake group as a report: an attached .eml is the
// report itself; otherwise the ticket is read as a message from its requester.
func (z *Channel) report(ctx context.Context, id int64) error {
	t, err := z.API.Ticket(ctx, id)
	if err != nil {
		return err
	}
	if slices.Contains(t.Tags, TagIntakeDone) || slices.Contains(t.Tags, ticket.TagCase) {
		return nil
	}
	if z.IntakeGroupID != 0 && t.GroupID != z.IntakeGroupID {
		return nil
	}
	comments, err := z.API.Comments(ctx, id)
	if err != nil {
		return err
	}
	r := ticket.Report{Ticket: z.API.Ref(id), ReceivedAt: t.CreatedAt}
	if len(comments) > 0 {
		firstComment := comments[len(comments)-1]
		for _, a := range firstComment.Attachments {
			if a.ContentType == "message/rfc822" || strings.HasSuffix(strings.ToLower(a.FileName), ".eml") {
				if r.Raw, err = z.API.Download(ctx, a.ContentURL, 25<<20); err != nil {
					return err
				}
				break
			}
		}
	}
	if r.Raw == nil {
		from := "unknown@zendesk.invalid"
		if u, err := z.API.User(ctx, t.RequesterID); err == nil && u.Email != "" {
			from = u.Email
		}
		body := t.Description
		if len(comments) > 0 {
			body = comments[len(comments)-1].Body
		}
		r.Raw = fmt.Appendf(nil, "From: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <zendesk-ticket-%d@abusedesk>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
			from, strings.ReplaceAll(t.Subject, "\n", " "), t.CreatedAt.Format(time.RFC1123Z), id, body)
		r.ReportID = "zendesk:" + strconv.FormatInt(id, 10)
	}
	note, err := z.Desk.TakeReport(ctx, r)
	if err != nil {
		return err
	}
	return z.API.Update(ctx, id, Update{Comment: &ticket.Comment{Body: note}, AddTags: []string{TagIntakeDone}, Status: "solved"})
}

// reply delivers the requester's latest public comment on a case ticket to the case.
func (z *Channel) reply(ctx context.Context, id int64) error {
	t, link, err := z.caseTicket(ctx, id)
	if err != nil || link.CaseID == "" {
		return err
	}
	comments, err := z.API.Comments(ctx, id)
	if err != nil {
		return err
	}
	var c *Comment
	for i := range comments {
		if comments[i].Public && comments[i].AuthorID == t.RequesterID {
			c = &comments[i]
			break
		}
	}
	if c == nil {
		return nil
	}
	from := ""
	if u, err := z.API.User(ctx, t.RequesterID); err == nil {
		from = u.Email
	}
	answer, err := z.Desk.TakeReply(ctx, ticket.Reply{Ticket: z.API.Ref(id), Case: link,
		ID: "zendesk-comment:" + strconv.FormatInt(c.ID, 10), From: from, At: c.CreatedAt, Body: c.Body})
	if err != nil || answer == "" {
		return ignore(err)
	}
	return z.API.Update(ctx, id, Update{Comment: &ticket.Comment{Body: answer}, Status: "open"})
}

// ignore is err, except the desk's "not for the desk", which asks nothing more.
func ignore(err error) error {
	if errors.Is(err, ticket.ErrNotForTheDesk) {
		return nil
	}
	return err
}

// decision delivers an agent's macro to the case, credited to who applied it; a decision the
// case refuses is explained in an internal note on the ticket.
func (z *Channel) decision(ctx context.Context, id int64, decision string, actorID int64, actorEmail string) error {
	t, link, err := z.caseTicket(ctx, id)
	if err != nil || link.CaseID == "" {
		return err
	}
	// Who decided is who made the update that added the macro's tag, as the ticket's audits
	// say: the webhook's actor and the poll (which knows none) find the same person, never the
	// author of a later comment. The decision is keyed by the comment its macro wrote (else by
	// the audit), so the webhook and the export poll deliver it once: Temporal answers a
	// repeated update ID with the first one's result.
	audits, err := z.API.Audits(ctx, id)
	if err != nil {
		return err
	}
	tag := TagDecisionPrefix + decision
	i := slices.IndexFunc(audits, func(a Audit) bool { return slices.Contains(a.AddedTags, tag) })
	if i < 0 {
		return z.refuse(ctx, id, decision, "the desk cannot tell who applied the macro: no update of this ticket's latest 100 added its tag. Apply the macro again.")
	}
	by := audits[i]
	if actorID != 0 && actorID != by.AuthorID {
		z.log().Warn("the webhook's actor is not who applied the macro; the ticket's audit decides", "ticket_id", id, "decision", decision, "webhook_actor", actorID, "audit_author", by.AuthorID)
		actorEmail = ""
	}
	actorID = by.AuthorID
	d := ticket.Decision{Ticket: z.API.Ref(id), Case: link, Decision: decision, AgentID: strconv.FormatInt(actorID, 10),
		RequestID: fmt.Sprintf("zendesk:%d:audit:%d:%s", id, by.ID, decision), Fields: t.Fields}
	// The macro's comment is an internal note. The desk alone speaks to the customer, once it
	// has taken the decision: a macro from before, still posting in public, has spoken already,
	// and is logged for `desk zendesk provision` to migrate.
	if c := by.Comment; c != nil && c.AuthorID == actorID {
		d.Text = c.Body
		d.RequestID = fmt.Sprintf("zendesk:%d:comment:%d:%s", id, c.ID, decision)
		if c.Public {
			z.log().Warn("a decision macro answered the customer in public before the desk took the decision; run `desk zendesk provision` to make its macros internal notes", "ticket_id", id, "decision", decision)
		}
	}
	if actorEmail == "" {
		u, err := z.API.User(ctx, actorID)
		if err != nil {
			return err
		}
		actorEmail = u.Email
	}
	d.AgentEmail = strings.ToLower(actorEmail)
	if t.GroupID != 0 && t.GroupID != z.CaseGroupID {
		d.Elsewhere = "Zendesk group " + strconv.FormatInt(t.GroupID, 10)
	}
	err = z.Desk.TakeDecision(ctx, d)
	var refused *ticket.Refused
	switch {
	case errors.Is(err, ticket.ErrNotForTheDesk):
		return nil
	case errors.As(err, &refused):
		return z.note(ctx, id, refused.Note, DecisionTags(decision))
	case err != nil:
		return err
	}
	return z.doneWith(ctx, t, decision)
}

// assigned makes the agent a case ticket was assigned to the case's owner (nobody when it was
// unassigned), in the name of who changed it, as the ticket's audits say: the webhook's actor
// is taken from no payload. The desk's own assignment, echoed back, is recognised by the owner
// the case already has and changes nothing; a change the case refuses (an assignee outside the
// desk's groups) is explained in an internal note.
func (z *Channel) assigned(ctx context.Context, id int64, updated string) error {
	t, link, err := z.caseTicket(ctx, id)
	if err != nil || link.CaseID == "" {
		return err
	}
	st, err := z.Desk.CaseOf(ctx, link)
	switch {
	case err != nil:
		return err
	case st.Listed && !st.Open:
		return nil // the ticket's incident is over
	case st.Listed && st.Owner == assigneeOf(t):
		return nil // the case has this owner already (the desk set it)
	}
	audits, err := z.API.Audits(ctx, id)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(audits, func(a Audit) bool { return a.AssigneeChanged })
	if i < 0 {
		z.log().Warn("assignee change without an audit saying who made it; not taken", "ticket_id", id, "case", link.Number)
		return nil
	}
	by := audits[i]
	if by.Assignee != t.AssigneeID {
		return nil // changed again since: the later change's notification carries it
	}
	u, err := z.API.User(ctx, by.AuthorID)
	if err != nil {
		return err
	}
	err = z.Desk.TakeDecision(ctx, ticket.Decision{Ticket: z.API.Ref(id), Case: link, Decision: ticket.DecisionAssign,
		AgentID: strconv.FormatInt(by.AuthorID, 10), AgentEmail: strings.ToLower(u.Email), Assignee: assigneeOf(t),
		RequestID: fmt.Sprintf("zendesk:%d:audit:%d:assign", id, by.ID), Fields: t.Fields})
	var refused *ticket.Refused
	switch {
	case errors.As(err, &refused):
		return z.note(ctx, id, refused.Note, nil)
	case err != nil:
		return ignore(err)
	}
	z.log().Info("case assigned from its ticket", "case", link.Number, "assignee", assigneeOf(t), "by", u.Email, "updated_at", updated)
	return nil
}

// catchUpAssignee finds an assignee change whose notification was missed: a case ticket whose
// assignee is not the owner its open case has.
func (z *Channel) catchUpAssignee(ctx context.Context, t TicketInfo) error {
	link := caseOf(&t)
	if link.Number == "" {
		return nil
	}
	st, err := z.Desk.CaseOf(ctx, link)
	if err != nil || !st.Listed || !st.Open || st.Owner == assigneeOf(&t) {
		return err
	}
	z.log().Info("the ticket's assignee is not the case's owner: the notification was missed", "ticket_id", t.ID, "case", link.Number)
	return z.assigned(ctx, t.ID, "")
}

// refuse explains in an internal note why the channel did not take a decision, and removes its
// tags.
func (z *Channel) refuse(ctx context.Context, id int64, decision, reason string) error {
	body, err := z.Desk.RefusalNote(decision, reason)
	if err != nil {
		return err
	}
	return z.note(ctx, id, body, DecisionTags(decision))
}

// note posts an internal note and removes tags.
func (z *Channel) note(ctx context.Context, id int64, body string, removeTags []string) error {
	return z.API.Update(ctx, id, Update{Comment: &ticket.Comment{Body: body}, RemoveTags: removeTags})
}

// doneWith removes a decision's tags once the case has it (or refused it, with a note): until
// then the export poll finds the decision even if the webhook was lost.
func (z *Channel) doneWith(ctx context.Context, t *TicketInfo, decision string) error {
	tags := DecisionTags(decision)
	if !slices.ContainsFunc(tags, func(tag string) bool { return slices.Contains(t.Tags, tag) }) {
		return nil
	}
	return z.API.Update(ctx, t.ID, Update{RemoveTags: tags})
}

// Poll reads the incremental export every interval and handles what a webhook may have missed:
// decision tags still on case tickets, assignments, customer comments on reopened case
// tickets, and intake tickets not yet taken. The cursor survives restarts in Cursor.
func (z *Channel) Poll(ctx context.Context, interval time.Duration) {
	cursor := ""
	if z.Cursor != nil {
		cursor = z.Cursor.Load()
	}
	for {
		next, end, err := z.pollOnce(ctx, cursor)
		if err != nil {
			z.log().Warn("incremental export poll failed", "error", err, "retry_after", fault.RetryAfter(err))
		} else {
			cursor = next
			if z.Cursor != nil && cursor != "" {
				if err := z.Cursor.Save(cursor); err != nil {
					z.log().Warn("export cursor not saved; the next start reads the export again from an hour back", "error", err)
				}
			}
		}
		wait := pollWait(interval, end, err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// pollWait is how long the poll waits before its next request: the interval; 6 s between
// pages of a stream not yet read to its end (Zendesk allows 10 export requests a minute); and
// never less than the Retry-After Zendesk answered a refused request with.
func pollWait(interval time.Duration, end bool, err error) time.Duration {
	wait := interval
	if err == nil && !end {
		wait = 6 * time.Second
	}
	return max(wait, fault.RetryAfter(err))
}

// pollOnce handles one export page and returns the next cursor.
func (z *Channel) pollOnce(ctx context.Context, cursor string) (string, bool, error) {
	start := time.Now().Add(-time.Hour)
	page, err := z.API.Export(ctx, cursor, start)
	if err != nil {
		return cursor, false, err
	}
	for _, t := range page.Tickets {
		if err := z.catchUp(ctx, t); err != nil {
			return cursor, false, fmt.Errorf("ticket %d: %w", t.ID, err)
		}
	}
	return page.Cursor, page.EndOfStream, nil
}

func (z *Channel) catchUp(ctx context.Context, t TicketInfo) error {
	if caseOf(&t).CaseID != "" {
		for _, tag := range t.Tags {
			if d, ok := strings.CutPrefix(tag, TagDecisionPrefix); ok {
				z.log().Info("decision tag left on a ticket: the webhook was missed", "ticket_id", t.ID, "decision", d)
				if err := z.decision(ctx, t.ID, d, 0, ""); err != nil {
					return err
				}
			}
		}
		if err := z.catchUpAssignee(ctx, t); err != nil {
			return err
		}
		if t.Status == "open" {
			return z.reply(ctx, t.ID)
		}
		return nil
	}
	if z.IntakeGroupID != 0 && t.GroupID == z.IntakeGroupID && !slices.Contains(t.Tags, TagIntakeDone) && !slices.Contains(t.Tags, ticket.TagCase) {
		return z.report(ctx, t.ID)
	}
	return nil
}
