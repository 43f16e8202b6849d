package inbound

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"abusedesk/app/cases"
	"abusedesk/app/intake"
	"abusedesk/domain/abuse"
	"abusedesk/domain/ticket"
	"abusedesk/templates"
	"abusedesk/workflows"
)

// listedCases lists each case number's incident as the test says, and records replies.
type listedCases struct {
	intake.Cases
	incidents map[string]*cases.Summary
	replies   []workflows.CustomerReply
}

func (l *listedCases) FindByNumber(_ context.Context, number string) (*cases.Summary, error) {
	return l.incidents[number], nil
}

func (l *listedCases) Reply(_ context.Context, _ string, r workflows.CustomerReply) error {
	l.replies = append(l.replies, r)
	return nil
}

func (l *listedCases) Reinstate(context.Context, *cases.Summary, workflows.CustomerReply) error {
	return cases.ErrNotReinstatable
}

// deciders records the decisions delivered and refuses what refuse names.
type deciders struct {
	got    []workflows.AgentDecision
	refuse string
}

func (d *deciders) Decide(_ context.Context, _ string, a workflows.AgentDecision) (*workflows.DecisionResult, error) {
	if d.refuse != "" {
		return nil, &cases.Refused{Reason: d.refuse}
	}
	d.got = append(d.got, a)
	return &workflows.DecisionResult{Status: workflows.StatusResolved}, nil
}

func (d *deciders) DecideReinstatement(context.Context, string, workflows.AgentDecision) (*workflows.DecisionResult, error) {
	return nil, errors.New("not in this test")
}

// TestTicketDeskReadsDecisions: the desk's side of the ticketing port turns a neutral decision
// into the case's — the macro's reason after "Why:", the fields the agent set, the team a
// ticket was moved to — refuses one about an incident that is over with a note, and leaves
// a decision it does not know alone.
func TestTicketDeskReadsDecisions(t *testing.T) {
	r, err := templates.New()
	if err != nil {
		t.Fatal(err)
	}
	const caseID = "case/acct-bank/phishing"
	open := &cases.Summary{CaseID: caseID, CaseNumber: "TS-OPEN00001", Running: true, Status: workflows.StatusAwaitingResponse, Assignee: "1002"}
	closed := &cases.Summary{CaseID: caseID, CaseNumber: "TS-DONE00001", Running: false, Status: workflows.StatusResolved}
	cs := &listedCases{incidents: map[string]*cases.Summary{open.CaseNumber: open, closed.CaseNumber: closed}}
	dec := &deciders{}
	desk := &TicketDesk{Cases: cs, Decider: dec, Templates: r, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx := context.Background()
	ref := ticket.Ref{System: "memory", ID: "mem-9"}
	onOpen := ticket.CaseLink{CaseID: caseID, Number: open.CaseNumber}

	for _, tc := range []struct {
		in   ticket.Decision
		want workflows.AgentDecision
	}{
		{ticket.Decision{Decision: string(workflows.DecisionResolve), Text: "Resolved.\nWhy: the page is gone", AgentEmail: "Lee.Lead@Desk.Example", AgentID: "7", RequestID: "k1"},
			workflows.AgentDecision{Decision: workflows.DecisionResolve, Agent: "lee.lead@desk.example", AgentID: "7", Note: "the page is gone", RequestID: "k1"}},
		{ticket.Decision{Decision: string(workflows.DecisionHandOff), Text: "Why: [say why]", Fields: map[string]string{ticket.FieldTeam: "Security"}},
			workflows.AgentDecision{Decision: workflows.DecisionHandOff, Team: "Security"}},
		{ticket.Decision{Decision: string(workflows.DecisionReclassify), Fields: map[string]string{ticket.FieldAccount: "acct-other", ticket.FieldCategory: "spam"}},
			workflows.AgentDecision{Decision: workflows.DecisionReclassify, Account: "acct-other", Category: abuse.Spam}},
		{ticket.Decision{Decision: string(workflows.DecisionRoute), Elsewhere: "Zendesk group 55"},
			workflows.AgentDecision{Decision: workflows.DecisionRoute, Team: "Zendesk group 55"}},
		{ticket.Decision{Decision: ticket.DecisionAssign, Assignee: "1003", Text: "ignored"},
			workflows.AgentDecision{Decision: workflows.DecisionAssign, Assignee: "1003"}},
	} {
		tc.in.Ticket, tc.in.Case = ref, onOpen
		dec.got = nil
		if err := desk.TakeDecision(ctx, tc.in); err != nil || len(dec.got) != 1 || dec.got[0] != tc.want {
			t.Errorf("%s: %v, delivered %+v; want %+v", tc.in.Decision, err, dec.got, tc.want)
		}
	}

	// An incident that is over: refused with a note naming it, nothing delivered.
	dec.got = nil
	err = desk.TakeDecision(ctx, ticket.Decision{Ticket: ref, Case: ticket.CaseLink{CaseID: caseID, Number: closed.CaseNumber}, Decision: string(workflows.DecisionResolve)})
	var refused *ticket.Refused
	if !errors.As(err, &refused) || !strings.Contains(refused.Note, closed.CaseNumber) || len(dec.got) != 0 {
		t.Errorf("a decision on a closed incident: %v, delivered %+v; want refused with a note naming %s", err, dec.got, closed.CaseNumber)
	}
	// The case refuses: the reason comes back as the note.
	dec.refuse = "the case waits for a lead"
	err = desk.TakeDecision(ctx, ticket.Decision{Ticket: ref, Case: onOpen, Decision: string(workflows.DecisionResolve)})
	if !errors.As(err, &refused) || !strings.Contains(refused.Note, dec.refuse) {
		t.Errorf("a decision the case refuses: %v; want its reason in the note", err)
	}
	// A name the desk does not know.
	if err := desk.TakeDecision(ctx, ticket.Decision{Ticket: ref, Case: onOpen, Decision: "launch_missiles"}); !errors.Is(err, ticket.ErrNotForTheDesk) {
		t.Errorf("an unknown decision: %v, want ErrNotForTheDesk", err)
	}

	// What the desk says of a case: listed, open, its owner; a closed one; one not listed.
	for link, want := range map[ticket.CaseLink]ticket.CaseState{
		onOpen: {Listed: true, Open: true, Owner: "1002"},
		{CaseID: caseID, Number: closed.CaseNumber}: {Listed: true},
		{CaseID: caseID, Number: "TS-NOWHERE01"}:    {},
	} {
		if got, err := desk.CaseOf(ctx, link); err != nil || got != want {
			t.Errorf("CaseOf(%+v) = %+v %v, want %+v", link, got, err, want)
		}
	}

	// A comment on an open incident goes to the case, named by its system; on a closed one
	// with nothing to lift, the answer is a note for the agents.
	answer, err := desk.TakeReply(ctx, ticket.Reply{Ticket: ref, Case: onOpen, ID: "memory-comment:1", From: "c@bank.example", Body: "fixed\n\nit"})
	if err != nil || answer != "" || len(cs.replies) != 1 || cs.replies[0].Channel != "memory" || cs.replies[0].Excerpt != "fixed it" {
		t.Errorf("a reply to an open incident: %q %v %+v", answer, err, cs.replies)
	}
	answer, err = desk.TakeReply(ctx, ticket.Reply{Ticket: ref, Case: ticket.CaseLink{CaseID: caseID, Number: closed.CaseNumber}, ID: "memory-comment:2", Body: "hello?"})
	if err != nil || !strings.Contains(answer, closed.CaseNumber) || len(cs.replies) != 1 {
		t.Errorf("a reply to a closed incident: %q %v, %d delivered; want a note naming %s, nothing delivered", answer, err, len(cs.replies), closed.CaseNumber)
	}
}
