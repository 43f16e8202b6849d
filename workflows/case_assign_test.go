package workflows_test

import (
	"testing"
	"time"

	"abusedesk/domain/abuse"
	"abusedesk/workflows"
)

// TestAssignment: an agent takes a case, assigns it to a colleague and gives it back; the case
// shows its owner and sets it on its ticket. Nobody outside the desk's groups is assigned a
// case, and a legal matter is assigned only to the legal team.
func TestAssignment(t *testing.T) {
	h := newHarness(t)
	assign := func(by, to string) *updateOutcome {
		return h.decide(workflows.AgentDecision{Decision: workflows.DecisionAssign, Agent: by, Assignee: to})
	}
	var take, again, outsider, toColleague, giveBack *updateOutcome
	var taken, colleague, nobody workflows.CaseView
	var ticketWhenTaken, ticketAtColleague, ticketAtNobody int64
	h.at(time.Hour, func() { take = assign("agent@desk.example", "9001") })
	h.at(time.Hour+time.Minute, func() {
		taken, ticketWhenTaken = h.view(), h.ticket().Assignee
		again = assign("agent@desk.example", "9001")
		outsider = assign("agent@desk.example", "424242")
	})
	h.at(2*time.Hour, func() { toColleague = assign("agent@desk.example", "9002") })
	h.at(2*time.Hour+time.Minute, func() { colleague, ticketAtColleague = h.view(), h.ticket().Assignee })
	h.at(3*time.Hour, func() { giveBack = assign("reviewer@desk.example", "") })
	h.at(3*time.Hour+time.Minute, func() {
		nobody, ticketAtNobody = h.view(), h.ticket().Assignee
		h.agent("agent@desk.example", workflows.DecisionResolve, "")
	})
	h.run("acct-standard", abuse.Spam, 1)

	wantAccepted(t, "an agent taking a case", take)
	if a := taken.Assignee; a == nil || a.ID != "9001" || a.Email != "agent@desk.example" || a.By != "agent@desk.example" {
		t.Errorf("after taking: assignee %+v, want agent@ (9001) by agent@", a)
	}
	if ticketWhenTaken != 9001 {
		t.Errorf("the ticket's assignee is %d, want 9001", ticketWhenTaken)
	}
	wantAccepted(t, "the same owner again", again)
	if again.result != nil && again.result.Message != "The case is assigned to agent@desk.example already." {
		t.Errorf("the same owner again says %q", again.result.Message)
	}
	wantRefused(t, "an assignee outside the desk's groups", outsider, "not an agent of the desk's groups")
	wantAccepted(t, "assigning a colleague", toColleague)
	if a := colleague.Assignee; a == nil || a.Email != "reviewer@desk.example" || ticketAtColleague != 9002 {
		t.Errorf("after assigning a colleague: assignee %+v, ticket %d; want reviewer@ (9002)", a, ticketAtColleague)
	}
	wantAccepted(t, "giving a case back", giveBack)
	if nobody.Assignee != nil || ticketAtNobody != 0 {
		t.Errorf("after giving back: assignee %+v, ticket %d; want nobody", nobody.Assignee, ticketAtNobody)
	}
	if res := h.result(); res.Outcome != workflows.OutcomeResolved {
		t.Errorf("outcome %s, want resolved", res.Outcome)
	}
}

// TestLegalMatterAssignedOnlyToTheLegalTeam: the legal team assigns a matter among itself; an
// agent of the desk's group is neither assigned one nor assigns one.
func TestLegalMatterAssignedOnlyToTheLegalTeam(t *testing.T) {
	h := newHarness(t)
	assign := func(by, to string) *updateOutcome {
		return h.decide(workflows.AgentDecision{Decision: workflows.DecisionAssign, Agent: by, Assignee: to})
	}
	var toAgent, byAgent, toLegal *updateOutcome
	h.at(time.Hour, func() {
		toAgent = assign("legal@desk.example", "9001")
		byAgent = assign("agent@desk.example", "9001")
		toLegal = assign("legal@desk.example", "9003")
	})
	h.at(2*time.Hour, func() { h.agent("legal@desk.example", workflows.DecisionCloseMatter, "") })
	h.runUncertain("acct-standard", abuse.LegalRequest, unsure)

	wantRefused(t, "a legal matter assigned to an agent of the desk's group", toAgent, "not on the legal team")
	wantRefused(t, "a legal matter assigned by an agent of the desk's group", byAgent, "not on the legal team")
	wantAccepted(t, "a legal matter assigned within the legal team", toLegal)
}
