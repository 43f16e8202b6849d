package workflows_test

import (
	"strings"
	"testing"
	"time"

	"abusedesk/domain/abuse"
	"abusedesk/domain/fault"
	"abusedesk/workflows"
)

// TestAgentDecisionsOnlyByTheDeskTeam: an agent decision is taken only from an agent of the
// desk's groups, named by the ticketing system, never by the payload: a forged ID and a
// decision naming no one are refused; a payload claiming another agent's address is recorded
// as the agent its ID is; someone who joined the group after the case read it is accepted.
func TestAgentDecisionsOnlyByTheDeskTeam(t *testing.T) {
	h := newHarness(t)
	var forged, noID, posing, joined *updateOutcome
	h.at(time.Hour, func() {
		forged = h.update(workflows.UpdateAgentDecision, workflows.AgentDecision{Decision: workflows.DecisionExtendDeadline, Agent: "agent@desk.example", AgentID: "424242"})
		noID = h.update(workflows.UpdateAgentDecision, workflows.AgentDecision{Decision: workflows.DecisionExtendDeadline, Agent: "agent@desk.example"})
	})
	h.at(2*time.Hour, func() {
		// agent@'s ID, with the lead's address in the payload
		posing = h.update(workflows.UpdateAgentDecision, workflows.AgentDecision{Decision: workflows.DecisionExtendDeadline, Agent: "lee.lead@desk.example", AgentID: "9001", Note: "one more day"})
	})
	h.at(3*time.Hour, func() {
		h.tickets.AddAgent(0, 9100, "New.Agent@desk.example")
		joined = h.update(workflows.UpdateAgentDecision, workflows.AgentDecision{Decision: workflows.DecisionResolve, Agent: "whoever", AgentID: "9100"})
	})
	h.run("acct-standard", abuse.Spam, 1)

	wantRefused(t, "an ID outside the desk's groups", forged, "not an agent of the desk's groups")
	wantRefused(t, "a decision naming no ticketing user", noID, "names no ticketing user")
	wantAccepted(t, "a decision by an agent whose payload names someone else", posing)
	wantAccepted(t, "a decision by an agent who joined after the case read its team", joined)
	var actors []string
	for _, r := range h.ledger.Rows() {
		if r.Event.Actor != "" && (r.Event.Decision == string(workflows.DecisionExtendDeadline) || r.Event.Decision == string(workflows.DecisionResolve)) {
			actors = append(actors, r.Event.Actor)
		}
	}
	if strings.Join(actors, " ") != "agent@desk.example new.agent@desk.example" {
		t.Errorf("the ledger credits %q; want agent@ (not the address the payload claimed), then the new agent", actors)
	}
	if res := h.result(); res.Outcome != workflows.OutcomeResolved {
		t.Errorf("outcome %s, want resolved", res.Outcome)
	}
}

// TestAgentDecisionsWhileTheTeamIsUnknown: when the ticketing system cannot list the desk's
// agents, no agent decision is taken, and the refusal says why.
func TestAgentDecisionsWhileTheTeamIsUnknown(t *testing.T) {
	h := newHarness(t)
	h.tickets.Fail("members", 1000, &fault.Error{Kind: fault.Invalid, Service: "zendesk", Op: "list the members of group 0", Message: "no group is configured (ZENDESK_GROUP_ID)"})
	var resolve *updateOutcome
	h.at(time.Hour, func() { resolve = h.agent("agent@desk.example", workflows.DecisionResolve, "") })
	h.run("acct-standard", abuse.Spam, 1)

	wantRefused(t, "a decision while the team is unknown", resolve, "could not read who is on its team")
	if res := h.result(); res.Outcome == workflows.OutcomeResolved {
		t.Error("the case was resolved by a decision the desk could not attribute")
	}
}

// TestReinstatementApproverCannotPoseAsAnother: the approver's own ID, with a reviewer's address
// in the payload, is still the approver, who may not decide the reinstatement.
func TestReinstatementApproverCannotPoseAsAnother(t *testing.T) {
	h := newHarness(t)
	in := h.reinstatementInput()
	var posing, granted *updateOutcome
	h.at(time.Hour, func() {
		posing = h.update(workflows.UpdateAgentDecision, workflows.AgentDecision{Decision: workflows.DecisionGrantReinstatement, Agent: "reviewer@desk.example", AgentID: "9006"})
	})
	h.at(2*time.Hour, func() {
		granted = h.decideAs("reviewer@desk.example", workflows.DecisionGrantReinstatement, "credible")
	})
	h.at(100*24*time.Hour, func() {})
	h.runReinstatement(in)

	wantRefused(t, "the approver posing as a reviewer", posing, "lee.lead@desk.example approved the action and may not decide")
	wantAccepted(t, "the reviewer's grant", granted)
}

// TestAgentWhoLeftIsRefused: the case trusts the team it read for an hour; an agent who left
// the desk's groups since is refused once it re-reads it.
func TestAgentWhoLeftIsRefused(t *testing.T) {
	h := newHarness(t)
	var first, within, after *updateOutcome
	h.at(time.Hour, func() { first = h.agent("reviewer@desk.example", workflows.DecisionExtendDeadline, "") })
	h.at(time.Hour+time.Minute, func() { h.tickets.RemoveAgent(0, 9002) })
	h.at(time.Hour+30*time.Minute, func() { within = h.agent("reviewer@desk.example", workflows.DecisionExtendDeadline, "") })
	h.at(3*time.Hour, func() { after = h.agent("reviewer@desk.example", workflows.DecisionResolve, "") })
	h.at(4*time.Hour, func() { h.agent("agent@desk.example", workflows.DecisionResolve, "") })
	h.run("acct-standard", abuse.Spam, 1)

	wantAccepted(t, "a decision while on the team", first)
	wantAccepted(t, "within the hour the case trusts its read", within)
	wantRefused(t, "after the case re-read its team", after, "not an agent of the desk's groups")
}
