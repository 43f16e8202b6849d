package ticket

import (
	"context"
	"errors"
	"time"
)

// The decisions-in port: what a ticketing adapter hands the desk. The adapter verifies each
// event in its own system (a webhook's signature, the ticket's audit trail), reads it into the
// neutral shapes below and calls Desk; what it means — which incident, whether that is still
// under way, whether a decision stands, what the customer is told — is the desk's. The desk
// answers with text for the ticket (a note, a refusal's reason), which the adapter posts.
//
// Tickets out go the other way, through the activities' Tickets interface.

// CaseLink is how a ticket names its case: the case (workflow) ID and the incident's number, as
// the bot wrote them on the ticket. Number may be "" on a ticket from before case numbers.
type CaseLink struct {
	CaseID string
	Number string
}

// Report is a ticket opened in the intake group: a report for the desk to take.
type Report struct {
	Ticket Ref
	// Raw is the report as a message: the .eml attached to the ticket, or the ticket itself
	// written as one.
	Raw []byte
	// ReportID names a report written from the ticket itself ("" for an attached message,
	// which has its own).
	ReportID   string
	ReceivedAt time.Time
}

// Reply is a customer's public comment on a case ticket.
type Reply struct {
	Ticket Ref
	Case   CaseLink
	// ID is the comment's ID in its system ("zendesk-comment:123"): the case keeps each once.
	ID   string
	From string
	At   time.Time
	Body string
}

// Decision is an agent's decision on a case ticket (a decision macro, or an assignment),
// credited from the system's own record of who made the change, never from a notification's
// word.
type Decision struct {
	Ticket Ref
	Case   CaseLink
	// Decision is the decision's name as the ticket carries it (workflows.Decision; "assign"
	// for an assignment).
	Decision string
	// AgentID and AgentEmail are who made the change that took the decision.
	AgentID    string
	AgentEmail string
	// Text is that agent's comment written with the decision (a macro's note), "" for none.
	Text string
	// RequestID keys the decision: the same change delivered twice (by a webhook and by the
	// poll that catches what a webhook missed) carries the same one.
	RequestID string
	// Fields are the case fields' values on the ticket (the agent sets some before deciding:
	// the account and category of a reclassification, the team of a hand-off).
	Fields map[string]string
	// Elsewhere names where the ticket was moved, when an agent moved it out of the desk's own
	// queue before deciding ("": it is the desk's).
	Elsewhere string
	// Assignee is who the ticket is assigned to now (an assignment; "" for nobody).
	Assignee string
}

// DecisionAssign is the Decision of an assignment changed on the ticket.
const DecisionAssign = "assign"

// CaseState is what the desk says of the case a ticket names.
type CaseState struct {
	// Listed: the desk knows the incident (visibility lists it). A case not listed yet may
	// still be opening.
	Listed bool
	// Open: the listed incident is under way (its ticket may still change it).
	Open bool
	// Owner is the case's assignee as the case keeps it: a user ID, "" for nobody.
	Owner string
}

// Refused is a decision the case did not take. Note is the internal note that explains it, for
// the adapter to post on the ticket.
type Refused struct {
	Reason string
	Note   string
}

func (r *Refused) Error() string { return "the desk refused the decision: " + r.Reason }

// ErrNotForTheDesk is the desk's answer to an event it has nothing to do with (a decision name
// it does not know, a ticket of no case): the adapter leaves the ticket as it is.
var ErrNotForTheDesk = errors.New("not for the desk")

// Desk is the decisions-in port, implemented by the application (app/inbound).
type Desk interface {
	// TakeReport takes a report and returns the internal note that says where it went.
	TakeReport(ctx context.Context, r Report) (note string, err error)
	// TakeReply delivers a customer's comment to its case. A non-empty answer is an internal
	// note for the ticket, which then stays open for an agent (the case is closed and has
	// nothing to lift).
	TakeReply(ctx context.Context, r Reply) (answer string, err error)
	// TakeDecision delivers an agent's decision: nil once the case took it, *Refused when the
	// case refused it, ErrNotForTheDesk, or an error to try again.
	TakeDecision(ctx context.Context, d Decision) error
	// CaseOf says what the desk knows of a ticket's case.
	CaseOf(ctx context.Context, link CaseLink) (CaseState, error)
	// RefusalNote is the internal note that says the adapter could not take a decision, and
	// why (nobody can be credited with it, say).
	RefusalNote(decision, reason string) (string, error)
}
