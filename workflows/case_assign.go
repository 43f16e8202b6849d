package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.temporal.io/sdk/workflow"
)

// Assignment: an agent of the desk's team owns a case. The dashboard assigns (take, assign to
// another agent, give back), and so does the ticketing system: an assignee set on the case's
// ticket comes back as the same decision. The case keeps its owner, shows it, publishes it for
// "my cases", and sets it on its ticket.

// sameOwner says an assignment names the case's owner already: it changes nothing, whoever
// sent it (the ticketing system tells the desk of the assignee the desk itself set).
func (w *caseWorkflow) sameOwner(d AgentDecision) bool {
	return d.Decision == DecisionAssign && w.st.Assignee != nil && strings.TrimSpace(d.Assignee) == w.st.Assignee.ID
}

// validateAssign checks an assignment against the case: any case not yet closed.
func (w *caseWorkflow) validateAssign() error {
	if w.st.Status.Final() {
		return fmt.Errorf("case %s is closed (%s); nobody is assigned a closed case", w.st.CaseNumber, w.st.Status)
	}
	return nil
}

// assign makes d.Assignee the case's owner (or nobody). The assignee must be an agent of the
// desk's team, as the team read for the decision (deskAgent) lists it; the same owner again
// changes nothing. The case's ticket gets the assignee too: a failure to set it is noted on
// the timeline, the assignment stands.
func (w *caseWorkflow) assign(ctx workflow.Context, d AgentDecision) (*DecisionResult, error) {
	id := strings.TrimSpace(d.Assignee)
	if id == "" && w.st.Assignee == nil {
		return &DecisionResult{Status: w.st.Status, Message: "Nobody is assigned this case."}, nil
	}
	var next *Assignment
	if id != "" {
		email := ""
		if t := w.st.Team; t != nil {
			email = t.Agents[id]
		}
		if strings.TrimSpace(email) == "" {
			return nil, errors.New("user " + id + " is not an agent of the desk's groups with an e-mail address: only they are assigned cases")
		}
		if l := w.st.Legal; w.confidential() && (l == nil || !slices.Contains(l.Team, id)) {
			return nil, errors.New(email + " is not on the legal team: a legal matter is assigned only to its agents")
		}
		next = &Assignment{ID: id, Email: strings.ToLower(strings.TrimSpace(email)), Since: workflow.Now(ctx), By: d.Agent}
	}
	w.st.Assignee = next
	var what, msg string
	switch {
	case next == nil:
		what, msg = "unassigned by "+d.Agent, "Nobody is assigned this case now."
	case next.Email == d.Agent:
		what, msg = next.Email+" took the case", "You own this case now."
	default:
		what, msg = "assigned to "+next.Email+" by "+d.Agent, "The case is assigned to "+next.Email+"."
	}
	w.note(ctx, EventDecision, what, d.Agent)
	w.publish(ctx) // before the ticket changes: the ticketing system's echo finds it
	if !w.st.Ticket.IsZero() {
		err := workflow.ExecuteActivity(withDeciders(ctx), ActivityAssignTicket, AssignTicketInput{Ticket: w.st.Ticket, Assignee: id}).Get(ctx, nil)
		if err != nil {
			w.note(ctx, EventDecision, "the ticket's assignee could not be set ("+rootMessage(err)+"); the case's owner stands", "")
			msg += " The ticket's assignee could not be set; set it there too."
		}
	}
	return &DecisionResult{Status: w.st.Status, Message: msg}, nil
}
