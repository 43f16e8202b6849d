package inbound

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"abusedesk/app/cases"
	"abusedesk/app/intake"
	"abusedesk/domain/abuse"
	"abusedesk/domain/fault"
	"abusedesk/domain/ticket"
	"abusedesk/integrations/reports"
	"abusedesk/integrations/zendesk"
	"abusedesk/platform/durable"
	"abusedesk/platform/httpx"
	"abusedesk/templates"
	"abusedesk/workflows"
)

// ZendeskAPI is what the Zendesk intake reads and writes.
type ZendeskAPI interface {
	Ticket(ctx context.Context, id int64) (*zendesk.TicketInfo, error)
	Comments(ctx context.Context, id int64) ([]zendesk.Comment, error)
	// Audits lists a ticket's updates, newest first: who made each, its comment, the tags added.
	Audits(ctx context.Context, id int64) ([]zendesk.Audit, error)
	User(ctx context.Context, id int64) (*zendesk.User, error)
	Download(ctx context.Context, contentURL string, limit int64) ([]byte, error)
	Update(ctx context.Context, id int64, u zendesk.Update) error
	Export(ctx context.Context, cursor string, start time.Time) (*zendesk.ExportPage, error)
}

// Decider delivers agents' decisions to cases.
type Decider interface {
	Decide(ctx context.Context, caseID string, d workflows.AgentDecision) (*workflows.DecisionResult, error)
	// DecideReinstatement delivers a decision on a closed case's request for reinstatement.
	DecideReinstatement(ctx context.Context, caseNumber string, d workflows.AgentDecision) (*workflows.DecisionResult, error)
}

// TagIntakeDone marks an intake ticket whose report went to its case.
const TagIntakeDone = "abusedesk_intake_done"

// Zendesk is the Zendesk channel: the webhook the provisioned triggers call (reports
// arriving in the intake group, customers' public comments on case tickets, agents' decision
// macros) and the incremental-export poll that catches what a webhook missed.
type Zendesk struct {
	Intake  Ingester
	API     ZendeskAPI
	Cases   intake.Cases
	Decider Decider
	// Templates render the notes it writes on tickets.
	Templates     *templates.Renderer
	Secret        string
	IntakeGroupID int64
	// CaseGroupID is the desk's own group: a triage ticket "routed to a team" is one an agent
	// moved to another group first.
	CaseGroupID int64
	// CursorFile keeps the export cursor across restarts.
	CursorFile string
	// Queue, when set, keeps each verified notification durably and the webhook answers at
	// once — well within Zendesk's 10 s, whatever the ticket reads and the case's update take
	// — and Process does it after; a crash in between loses nothing. Without it the webhook
	// does the work before it answers.
	Queue interface{ Put(payload []byte) error }
	Log   *slog.Logger
	// Now is the clock for signature freshness; default time.Now.
	Now func() time.Time
}

func (z *Zendesk) log() *slog.Logger {
	if z.Log == nil {
		return slog.Default().With("component", "zendesk-intake")
	}
	return z.Log
}

// WebhookHandler serves the webhook: a notification whose signature does not match the
// signing secret, or whose signed timestamp is more than five minutes off, is refused with 401
// and changes nothing.
func (z *Zendesk) WebhookHandler() http.Handler {
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
		if err := zendesk.Verify(z.Secret, r.Header, body, now); err != nil {
			z.log().Warn("zendesk webhook refused", "reason", err.Error(), "remote", r.RemoteAddr)
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		ev, id, err := zendesk.ParseEvent(body)
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
			if permanent(err) {
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

// Process does a notification Queue kept (its body as Zendesk signed it). An error that asking
// again cannot mend (the ticket does not exist, say) is durable.Permanent: the entry is set
// aside; any other is tried again.
func (z *Zendesk) Process(ctx context.Context, body []byte) error {
	ev, id, err := zendesk.ParseEvent(body)
	if err != nil {
		return durable.Permanent(err)
	}
	if err := z.Handle(ctx, ev, id); err != nil {
		if permanent(err) {
			return durable.Permanent(fmt.Errorf("zendesk %s event about ticket %d: %w", ev.Kind, id, err))
		}
		return fmt.Errorf("zendesk %s event about ticket %d: %w", ev.Kind, id, err)
	}
	return nil
}

// permanent reports whether asking again cannot help (the ticket does not exist, say).
func permanent(err error) bool { return fault.Is(err, fault.Invalid) || fault.Is(err, fault.NotFound) }

// Handle processes one event about a ticket.
func (z *Zendesk) Handle(ctx context.Context, ev zendesk.Event, ticketID int64) error {
	switch ev.Kind {
	case zendesk.EventReport:
		return z.report(ctx, ticketID)
	case zendesk.EventCustomerReply:
		return z.reply(ctx, ticketID)
	case zendesk.EventDecision:
		actor, _ := strconv.ParseInt(ev.ActorID, 10, 64)
		return z.decision(ctx, ticketID, workflows.Decision(ev.Decision), actor, ev.Actor)
	case zendesk.EventAssigned:
		return z.assigned(ctx, ticketID, ev.Updated)
	}
	return fmt.Errorf("unknown event %q", ev.Kind)
}

// caseOf returns the case of a case ticket ("" when the ticket is not one).
func caseOf(t *zendesk.TicketInfo) string {
	if id := t.Fields[ticket.FieldCaseID]; strings.HasPrefix(id, "case/") {
		return id
	}
	if strings.HasPrefix(t.ExternalID, "case/") {
		id, _, _ := strings.Cut(t.ExternalID, "@")
		return id
	}
	return ""
}

// incident returns the case of a case ticket and its number, and whether that incident is still
// under way. A case workflow ID holds one incident after another: a ticket whose incident closed
// must not reach a later incident of the same account and category. A ticket without a number
// (or one visibility does not list yet) counts as under way.
func (z *Zendesk) incident(ctx context.Context, t *zendesk.TicketInfo) (caseID, number string, open bool, err error) {
	caseID, number, s, err := z.incidentOf(ctx, t)
	// A case whose status is final is closed even while its run finishes its last steps.
	return caseID, number, caseID != "" && (s == nil || (s.Running && !s.Status.Final())), err
}

// incidentOf is incident with the case as visibility lists it (nil: the ticket has no number,
// or visibility does not list it yet).
func (z *Zendesk) incidentOf(ctx context.Context, t *zendesk.TicketInfo) (caseID, number string, s *cases.Summary, err error) {
	caseID = caseOf(t)
	number = t.Fields[ticket.FieldCaseNumber]
	if caseID == "" || number == "" {
		return caseID, cmp.Or(number, workflows.CaseNumber(caseID)), nil, nil
	}
	if s, err = z.Cases.FindByNumber(ctx, number); err != nil {
		return "", "", nil, fmt.Errorf("find case %s: %w", number, err)
	}
	return caseID, number, s, nil
}

// assigneeOf is a ticket's assignee as the case keeps it: a user ID, "" for nobody.
func assigneeOf(t *zendesk.TicketInfo) string {
	if t.AssigneeID == 0 {
		return ""
	}
	return strconv.FormatInt(t.AssigneeID, 10)
}

// report takes a ticket created in the intake group as a report: an attached .eml is the
// report itself; otherwise the ticket is read as a message from its requester.
func (z *Zendesk) report(ctx context.Context, id int64) error {
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
	var raw []byte
	var src = intake.Source{Channel: "zendesk", ReceivedAt: t.CreatedAt}
	if len(comments) > 0 {
		firstComment := comments[len(comments)-1]
		for _, a := range firstComment.Attachments {
			if a.ContentType == "message/rfc822" || strings.HasSuffix(strings.ToLower(a.FileName), ".eml") {
				if raw, err = z.API.Download(ctx, a.ContentURL, 25<<20); err != nil {
					return err
				}
				break
			}
		}
	}
	if raw == nil {
		from := "unknown@zendesk.invalid"
		if u, err := z.API.User(ctx, t.RequesterID); err == nil && u.Email != "" {
			from = u.Email
		}
		body := t.Description
		if len(comments) > 0 {
			body = comments[len(comments)-1].Body
		}
		raw = fmt.Appendf(nil, "From: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <zendesk-ticket-%d@abusedesk>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
			from, strings.ReplaceAll(t.Subject, "\n", " "), t.CreatedAt.Format(time.RFC1123Z), id, body)
		src.ReportID = "zendesk:" + strconv.FormatInt(id, 10)
	}
	out, err := z.Intake.Ingest(ctx, raw, src)
	if err != nil {
		return err
	}
	var note strings.Builder
	note.WriteString("abusedesk took this ticket as a report.\n")
	for _, a := range out.Accepted {
		fmt.Fprintf(&note, "- report %s → the %s case of account %s\n", a.ReportID, a.Category, a.AccountID)
	}
	for _, tr := range out.Triaged {
		fmt.Fprintf(&note, "- triaged in ticket %s: %s\n", tr.Ticket, tr.Reason)
	}
	if out.Note != "" {
		note.WriteString(out.Note + "\n")
	}
	return z.API.Update(ctx, id, zendesk.Update{Comment: &ticket.Comment{Body: note.String()}, AddTags: []string{TagIntakeDone}, Status: workflows.TicketSolved})
}

// reply delivers the requester's latest public comment on a case ticket to the case.
func (z *Zendesk) reply(ctx context.Context, id int64) error {
	t, err := z.API.Ticket(ctx, id)
	if err != nil {
		return err
	}
	if caseOf(t) == "" {
		return nil
	}
	comments, err := z.API.Comments(ctx, id)
	if err != nil {
		return err
	}
	var c *zendesk.Comment
	for i := range comments {
		if comments[i].Public && comments[i].AuthorID == t.RequesterID {
			c = &comments[i]
			break
		}
	}
	if c == nil {
		return nil
	}
	// Which incident, only once there is a comment to deliver (a visibility query).
	caseID, number, open, err := z.incident(ctx, t)
	if err != nil {
		return err
	}
	from := ""
	if u, err := z.API.User(ctx, t.RequesterID); err == nil {
		from = u.Email
	}
	msg := workflows.CustomerReply{
		ID: "zendesk-comment:" + strconv.FormatInt(c.ID, 10), Kind: workflows.ReplyKindAnswer, From: from,
		ReceivedAt: c.CreatedAt, Channel: workflows.ChannelZendesk, Excerpt: reports.OneLine(c.Body, 1000),
	}
	err = cases.ErrClosed
	if open {
		err = z.Cases.Reply(ctx, caseID, msg)
	}
	if errors.Is(err, cases.ErrClosed) {
		// A closed case whose action stands: the comment asks for reinstatement.
		if sum, ferr := z.Cases.FindByNumber(ctx, number); ferr != nil {
			return ferr
		} else if sum != nil {
			switch rerr := z.Cases.Reinstate(ctx, sum, msg); {
			case rerr == nil:
				return nil
			case !errors.Is(rerr, cases.ErrNotReinstatable):
				return rerr
			}
		}
		body, err := z.Templates.Render("intake_late_comment", "", templates.DefaultLocale, templates.LateMessageData{Kind: "comment", CaseNumber: number})
		if err != nil {
			return err
		}
		return z.API.Update(ctx, id, zendesk.Update{Comment: &ticket.Comment{Body: body}, Status: "open"})
	}
	return err
}

// decision delivers an agent's macro to the case; a decision the case refuses is explained in
// an internal note on the ticket.
func (z *Zendesk) decision(ctx context.Context, id int64, decision workflows.Decision, actorID int64, actorEmail string) error {
	t, err := z.API.Ticket(ctx, id)
	if err != nil {
		return err
	}
	caseID, number, open, err := z.incident(ctx, t)
	if err != nil || caseID == "" || !slices.Contains(workflows.AgentDecisions, decision) {
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
	tag := zendesk.TagDecisionPrefix + string(decision)
	i := slices.IndexFunc(audits, func(a zendesk.Audit) bool { return slices.Contains(a.AddedTags, tag) })
	if i < 0 {
		return z.refuse(ctx, id, decision, "the desk cannot tell who applied the macro: no update of this ticket's latest 100 added its tag. Apply the macro again.")
	}
	by := audits[i]
	if actorID != 0 && actorID != by.AuthorID {
		z.log().Warn("the webhook's actor is not who applied the macro; the ticket's audit decides", "ticket_id", id, "decision", decision, "webhook_actor", actorID, "audit_author", by.AuthorID)
		actorEmail = ""
	}
	actorID = by.AuthorID
	// The macro's comment is an internal note; what the agent wrote after its "Why:" is the
	// decision's note (the macro's placeholder left as it is, none). The desk alone speaks to
	// the customer, once it has taken the decision: a macro from before, still posting in
	// public, has spoken already, and is logged for `desk zendesk provision` to migrate.
	var note string
	requestID := fmt.Sprintf("zendesk:%d:audit:%d:%s", id, by.ID, decision)
	if c := by.Comment; c != nil && c.AuthorID == actorID {
		note = macroNote(c.Body)
		requestID = fmt.Sprintf("zendesk:%d:comment:%d:%s", id, c.ID, decision)
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
	d := workflows.AgentDecision{Decision: decision, Agent: strings.ToLower(actorEmail), AgentID: strconv.FormatInt(actorID, 10),
		Note: note, RequestID: requestID}
	switch decision {
	case workflows.DecisionReclassify:
		// The agent sets the account and category fields before applying the macro.
		d.Account, d.Category = t.Fields[ticket.FieldAccount], abuse.Category(t.Fields[ticket.FieldCategory])
	case workflows.DecisionNotLegal:
		// The legal team sets the category field to the reports' own first.
		d.Category = abuse.Category(t.Fields[ticket.FieldCategory])
	case workflows.DecisionHandOff:
		// The agent names the team in the hand-off field before applying the macro, and writes
		// the reason after its "Why:" (the macro's placeholder left as it is is no reason).
		d.Team = t.Fields[ticket.FieldTeam]
	case workflows.DecisionRoute:
		if t.GroupID != 0 && t.GroupID != z.CaseGroupID {
			d.Team = "Zendesk group " + strconv.FormatInt(t.GroupID, 10)
		}
	}
	var res *workflows.DecisionResult
	switch {
	case slices.Contains(workflows.ReinstatementDecisions, decision):
		// Decided on the closed case's ticket, by its request for reinstatement.
		res, err = z.Decider.DecideReinstatement(ctx, number, d)
	case open:
		res, err = z.Decider.Decide(ctx, caseID, d)
	default:
		err = &cases.Refused{Reason: "case " + number + " is closed; a later case of the same account and category is not this ticket's"}
	}
	var refused *cases.Refused
	switch {
	case errors.As(err, &refused):
		return z.refuse(ctx, id, decision, refused.Reason)
	case err != nil:
		return err
	}
	z.log().Info("agent decision applied", "case_id", caseID, "decision", decision, "agent", actorEmail, "status", res.Status)
	return z.doneWith(ctx, t, decision)
}

// assigned makes the agent a case ticket was assigned to the case's owner (nobody when it was
// unassigned), in the name of who changed it, as the ticket's audits say: the webhook's actor
// is taken from no payload. The desk's own assignment, echoed back, is recognised by the owner
// the case already has and changes nothing; a change the case refuses (an assignee outside the
// desk's groups) is explained in an internal note.
func (z *Zendesk) assigned(ctx context.Context, id int64, updated string) error {
	t, err := z.API.Ticket(ctx, id)
	if err != nil {
		return err
	}
	caseID, number, s, err := z.incidentOf(ctx, t)
	switch {
	case err != nil || caseID == "":
		return err
	case s != nil && (!s.Running || s.Status.Final()):
		return nil // the ticket's incident is over
	case s == nil: // a ticket without its number field: the case its ID names
		if s, err = z.Cases.FindByNumber(ctx, number); err != nil {
			return err
		}
	}
	assignee := assigneeOf(t)
	if s != nil && s.Assignee == assignee {
		return nil // the case has this owner already (the desk set it)
	}
	audits, err := z.API.Audits(ctx, id)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(audits, func(a zendesk.Audit) bool { return a.AssigneeChanged })
	if i < 0 {
		z.log().Warn("assignee change without an audit saying who made it; not taken", "ticket_id", id, "case", number)
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
	d := workflows.AgentDecision{Decision: workflows.DecisionAssign, Agent: strings.ToLower(u.Email), AgentID: strconv.FormatInt(by.AuthorID, 10),
		Assignee: assignee, RequestID: fmt.Sprintf("zendesk:%d:audit:%d:assign", id, by.ID)}
	_, err = z.Decider.Decide(ctx, caseID, d)
	var refused *cases.Refused
	switch {
	case errors.As(err, &refused):
		body, rerr := z.Templates.Render("intake_decision_refused", "", templates.DefaultLocale, templates.RefusedDecisionData{Decision: "assign", Reason: refused.Reason})
		if rerr != nil {
			return rerr
		}
		return z.API.Update(ctx, id, zendesk.Update{Comment: &ticket.Comment{Body: body}})
	case err != nil:
		return err
	}
	z.log().Info("case assigned from its ticket", "case", number, "assignee", assignee, "by", u.Email, "updated_at", updated)
	return nil
}

// catchUpAssignee finds an assignee change whose notification was missed: a case ticket whose
// assignee is not the owner its open case has.
func (z *Zendesk) catchUpAssignee(ctx context.Context, t zendesk.TicketInfo) error {
	number := t.Fields[ticket.FieldCaseNumber]
	if number == "" {
		return nil
	}
	s, err := z.Cases.FindByNumber(ctx, number)
	if err != nil || s == nil || !s.Running || s.Status.Final() {
		return err
	}
	if s.Assignee == assigneeOf(&t) {
		return nil
	}
	z.log().Info("the ticket's assignee is not the case's owner: the notification was missed", "ticket_id", t.ID, "case", number)
	return z.assigned(ctx, t.ID, "")
}

// macroNote is what an agent wrote in a decision macro's note: the text after its "Why:" (none
// when the macro's [placeholder] is left as it is), or the whole note when it has no "Why:".
func macroNote(body string) string {
	note := reports.OneLine(body, 2000)
	if _, why, ok := strings.Cut(note, "Why:"); ok {
		note = strings.TrimSpace(why)
	}
	if strings.HasPrefix(note, "[") && strings.HasSuffix(note, "]") {
		return ""
	}
	return note
}

// refuse explains in an internal note why a decision was not applied, and removes its tags.
func (z *Zendesk) refuse(ctx context.Context, id int64, decision workflows.Decision, reason string) error {
	body, err := z.Templates.Render("intake_decision_refused", "", templates.DefaultLocale, templates.RefusedDecisionData{Decision: string(decision), Reason: reason})
	if err != nil {
		return err
	}
	return z.API.Update(ctx, id, zendesk.Update{Comment: &ticket.Comment{Body: body}, RemoveTags: zendesk.DecisionTags(string(decision))})
}

// doneWith removes a decision's tags once the case has it (or refused it, with a note): until
// then the export poll finds the decision even if the webhook was lost.
func (z *Zendesk) doneWith(ctx context.Context, t *zendesk.TicketInfo, decision workflows.Decision) error {
	tags := zendesk.DecisionTags(string(decision))
	if !slices.ContainsFunc(tags, func(tag string) bool { return slices.Contains(t.Tags, tag) }) {
		return nil
	}
	return z.API.Update(ctx, t.ID, zendesk.Update{RemoveTags: tags})
}

// Poll reads the incremental export every interval and handles what a webhook may have missed:
// decision tags still on case tickets, customer comments on reopened case tickets, and intake
// tickets not yet taken. The cursor survives restarts in CursorFile.
func (z *Zendesk) Poll(ctx context.Context, interval time.Duration) {
	cursor := z.loadCursor()
	for {
		next, end, err := z.pollOnce(ctx, cursor)
		if err != nil {
			z.log().Warn("incremental export poll failed", "error", err, "retry_after", fault.RetryAfter(err))
		} else {
			cursor = next
			z.saveCursor(cursor)
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
func (z *Zendesk) pollOnce(ctx context.Context, cursor string) (string, bool, error) {
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

func (z *Zendesk) catchUp(ctx context.Context, t zendesk.TicketInfo) error {
	if caseOf(&t) != "" {
		for _, tag := range t.Tags {
			if d, ok := strings.CutPrefix(tag, zendesk.TagDecisionPrefix); ok {
				z.log().Info("decision tag left on a ticket: the webhook was missed", "ticket_id", t.ID, "decision", d)
				if err := z.decision(ctx, t.ID, workflows.Decision(d), 0, ""); err != nil {
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

func (z *Zendesk) loadCursor() string {
	if z.CursorFile == "" {
		return ""
	}
	b, err := os.ReadFile(z.CursorFile)
	if err != nil {
		return ""
	}
	var c struct{ Cursor string }
	if json.Unmarshal(b, &c) != nil {
		return ""
	}
	return c.Cursor
}

func (z *Zendesk) saveCursor(cursor string) {
	if z.CursorFile == "" || cursor == "" {
		return
	}
	b, _ := json.Marshal(struct{ Cursor string }{cursor})
	if err := os.MkdirAll(filepath.Dir(z.CursorFile), 0o750); err == nil {
		if err := durable.WriteFile(z.CursorFile, b, 0o600); err != nil {
			z.log().Warn("export cursor not saved; the next start reads the export again from an hour back", "error", err)
		}
	}
}
