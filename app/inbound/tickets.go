package inbound

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"abusedesk/app/cases"
	"abusedesk/app/intake"
	"abusedesk/domain/abuse"
	"abusedesk/domain/ticket"
	"abusedesk/integrations/reports"
	"abusedesk/platform/durable"
	"abusedesk/templates"
	"abusedesk/workflows"
)

// Decider delivers agents' decisions to cases.
type Decider interface {
	Decide(ctx context.Context, caseID string, d workflows.AgentDecision) (*workflows.DecisionResult, error)
	// DecideReinstatement delivers a decision on a closed case's request for reinstatement.
	DecideReinstatement(ctx context.Context, caseNumber string, d workflows.AgentDecision) (*workflows.DecisionResult, error)
}

// TicketDesk is the desk's side of the decisions-in port (ticket.Desk): what a ticketing
// adapter (Zendesk's Channel) verified and read in its system arrives here in neutral terms,
// and becomes a report for intake, a reply or a decision for its case. It knows no ticketing
// system.
type TicketDesk struct {
	Intake  Ingester
	Cases   intake.Cases
	Decider Decider
	// Templates render the notes the adapter posts on tickets.
	Templates *templates.Renderer
	Log       *slog.Logger
}

var _ ticket.Desk = (*TicketDesk)(nil)

func (d *TicketDesk) log() *slog.Logger {
	if d.Log == nil {
		return slog.Default().With("component", "ticket-desk")
	}
	return d.Log
}

// TakeReport implements ticket.Desk: intake takes the report; the note lists where it went.
func (d *TicketDesk) TakeReport(ctx context.Context, r ticket.Report) (string, error) {
	out, err := d.Intake.Ingest(ctx, r.Raw, intake.Source{Channel: r.Ticket.System, ReceivedAt: r.ReceivedAt, ReportID: r.ReportID})
	if err != nil {
		return "", err
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
	return note.String(), nil
}

// incident returns the case of a case ticket and its number, and whether that incident is
// still under way. A case workflow ID holds one incident after another: a ticket whose
// incident closed must not reach a later incident of the same account and category. A ticket
// without a number (or one visibility does not list yet) counts as under way.
func (d *TicketDesk) incident(ctx context.Context, link ticket.CaseLink) (number string, open bool, err error) {
	number, s, err := d.incidentOf(ctx, link)
	// A case whose status is final is closed even while its run finishes its last steps.
	return number, s == nil || (s.Running && !s.Status.Final()), err
}

// incidentOf is incident with the case as visibility lists it (nil: the ticket has no number,
// or visibility does not list it yet).
func (d *TicketDesk) incidentOf(ctx context.Context, link ticket.CaseLink) (string, *cases.Summary, error) {
	if link.Number == "" {
		return workflows.CaseNumber(link.CaseID), nil, nil
	}
	s, err := d.Cases.FindByNumber(ctx, link.Number)
	if err != nil {
		return "", nil, fmt.Errorf("find case %s: %w", link.Number, err)
	}
	return link.Number, s, nil
}

// CaseOf implements ticket.Desk. A ticket without its number field names the case its ID does.
func (d *TicketDesk) CaseOf(ctx context.Context, link ticket.CaseLink) (ticket.CaseState, error) {
	s, err := d.Cases.FindByNumber(ctx, cmp.Or(link.Number, workflows.CaseNumber(link.CaseID)))
	if err != nil || s == nil {
		return ticket.CaseState{}, err
	}
	return ticket.CaseState{Listed: true, Open: s.Running && !s.Status.Final(), Owner: s.Assignee}, nil
}

// TakeReply implements ticket.Desk: the comment goes to its case while the incident is under
// way; on a closed case whose action stands it asks for reinstatement; otherwise the answer
// tells the agents on the ticket.
func (d *TicketDesk) TakeReply(ctx context.Context, r ticket.Reply) (string, error) {
	number, open, err := d.incident(ctx, r.Case)
	if err != nil {
		return "", err
	}
	msg := workflows.CustomerReply{
		ID: r.ID, Kind: workflows.ReplyKindAnswer, From: r.From,
		ReceivedAt: r.At, Channel: workflows.Channel(r.Ticket.System), Excerpt: reports.OneLine(r.Body, 1000),
	}
	err = cases.ErrClosed
	if open {
		err = d.Cases.Reply(ctx, r.Case.CaseID, msg)
	}
	if !errors.Is(err, cases.ErrClosed) {
		return "", err
	}
	// A closed case whose action stands: the comment asks for reinstatement.
	if sum, err := d.Cases.FindByNumber(ctx, number); err != nil {
		return "", err
	} else if sum != nil {
		switch rerr := d.Cases.Reinstate(ctx, sum, msg); {
		case rerr == nil:
			return "", nil
		case !errors.Is(rerr, cases.ErrNotReinstatable):
			return "", rerr
		}
	}
	return d.Templates.Render("intake_late_comment", "", templates.DefaultLocale, templates.LateMessageData{Kind: "comment", CaseNumber: number})
}

// TakeDecision implements ticket.Desk: an agent's decision (or assignment) goes to its case, or
// to the closed case's request for reinstatement; one the case refuses comes back as
// *ticket.Refused with the note that explains it.
func (d *TicketDesk) TakeDecision(ctx context.Context, td ticket.Decision) error {
	decision := workflows.Decision(td.Decision)
	if !slices.Contains(workflows.AgentDecisions, decision) && decision != workflows.DecisionAssign {
		d.log().Warn("a decision the desk does not know; left on the ticket", "ticket", td.Ticket.String(), "decision", td.Decision)
		return ticket.ErrNotForTheDesk
	}
	number, open, err := d.incident(ctx, td.Case)
	if err != nil {
		return err
	}
	ad := workflows.AgentDecision{Decision: decision, Agent: strings.ToLower(td.AgentEmail), AgentID: td.AgentID,
		Note: macroNote(td.Text), RequestID: td.RequestID}
	switch decision {
	case workflows.DecisionReclassify:
		// The agent sets the account and category fields before applying the macro.
		ad.Account, ad.Category = td.Fields[ticket.FieldAccount], abuse.Category(td.Fields[ticket.FieldCategory])
	case workflows.DecisionNotLegal:
		// The legal team sets the category field to the reports' own first.
		ad.Category = abuse.Category(td.Fields[ticket.FieldCategory])
	case workflows.DecisionHandOff:
		// The agent names the team in the hand-off field before applying the macro, and writes
		// the reason after its "Why:" (the macro's placeholder left as it is is no reason).
		ad.Team = td.Fields[ticket.FieldTeam]
	case workflows.DecisionRoute:
		ad.Team = td.Elsewhere
	case workflows.DecisionAssign:
		ad.Note, ad.Assignee = "", td.Assignee
	}
	var res *workflows.DecisionResult
	switch {
	case slices.Contains(workflows.ReinstatementDecisions, decision):
		// Decided on the closed case's ticket, by its request for reinstatement.
		res, err = d.Decider.DecideReinstatement(ctx, number, ad)
	case open:
		res, err = d.Decider.Decide(ctx, td.Case.CaseID, ad)
	default:
		err = &cases.Refused{Reason: "case " + number + " is closed; a later case of the same account and category is not this ticket's"}
	}
	var refused *cases.Refused
	switch {
	case errors.As(err, &refused):
		note, rerr := d.RefusalNote(td.Decision, refused.Reason)
		if rerr != nil {
			return rerr
		}
		return &ticket.Refused{Reason: refused.Reason, Note: note}
	case err != nil:
		return err
	}
	d.log().Info("agent decision applied", "case_id", td.Case.CaseID, "decision", decision, "agent", ad.Agent, "status", res.Status)
	return nil
}

// RefusalNote implements ticket.Desk.
func (d *TicketDesk) RefusalNote(decision, reason string) (string, error) {
	return d.Templates.Render("intake_decision_refused", "", templates.DefaultLocale, templates.RefusedDecisionData{Decision: decision, Reason: reason})
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

// FileCursor keeps a ticketing adapter's export cursor in a file (written atomically).
type FileCursor string

// Load returns the cursor kept, "" when there is none (or it cannot be read: the poll then
// starts an hour back).
func (f FileCursor) Load() string {
	b, err := os.ReadFile(string(f))
	if err != nil {
		return ""
	}
	var c struct{ Cursor string }
	if json.Unmarshal(b, &c) != nil {
		return ""
	}
	return c.Cursor
}

// Save keeps cursor.
func (f FileCursor) Save(cursor string) error {
	b, err := json.Marshal(struct{ Cursor string }{cursor})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(string(f)), 0o750); err != nil {
		return err
	}
	return durable.WriteFile(string(f), b, 0o600)
}
