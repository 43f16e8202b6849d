package workflows_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"abusedesk/domain/abuse"
	"abusedesk/domain/approval"
	"abusedesk/domain/policy"
	"abusedesk/workflows"
)

// teams puts two teams in the harness's policy: security (8 h, then its lead, then the T&S
// manager, each 4 h apart) and tier2 (24 h, no chain).
func (h *harness) teams() {
	h.pol.Teams = map[string]policy.Team{
		"security": {Title: "Security", Group: 501, Channel: "sec-abuse", SLA: policy.Duration(8 * time.Hour), Step: policy.Duration(4 * time.Hour), Chain: []string{"USECLEAD", "STSMGRS"}},
		"tier2":    {Title: "Tier 2", Group: 502, Channel: "tier2", SLA: policy.Duration(24 * time.Hour)},
	}
}

func (h *harness) handOff(team, reason string) *updateOutcome {
	return h.decide(workflows.AgentDecision{Decision: workflows.DecisionHandOff, Agent: "agent@desk.example", Team: team, Note: reason})
}

// answer answers the case's n-th hand-off as a team member in Slack.
func (h *harness) answer(n int, action, text string) *updateOutcome {
	out := &updateOutcome{}
	h.updates++
	err := h.env.UpdateWorkflowByID(workflows.HandOffWorkflowID(h.caseID, n), workflows.UpdateHandOffAnswer, fmt.Sprintf("a-%d", h.updates), out.callbacks(), approval.TeamAnswer{Action: action, UserID: "USEC1", UserName: "Sam Security", Text: text})
	if err != nil {
		out.err, out.done = err, true
	}
	return out
}

func handOffs(v workflows.CaseView) map[string]workflows.HandOffState {
	out := map[string]workflows.HandOffState{}
	for _, h := range v.HandOffs {
		out[h.Team] = h
	}
	return out
}

// TestHandOffResolved: an agent hands the case to Security; the team's ticket opens in its
// group, the message in its channel, a note on the case's ticket; Security resolves it; the
// case shows the resolution, the linked ticket is solved, and the case goes on (the agent closes it).
func TestHandOffResolved(t *testing.T) {
	h := newHarness(t)
	h.teams()
	var noTeam, noReason, sent *updateOutcome
	h.at(time.Hour, func() {
		noTeam = h.handOff("marketing", "please look")
		noReason = h.handOff("security", "")
		sent = h.handOff("security", "the phishing kit came in through a vulnerable plugin; check the host")
	})
	var open workflows.CaseView
	h.at(2*time.Hour, func() { open = h.view() })
	var resolved *updateOutcome
	h.at(3*time.Hour, func() { resolved = h.answer(1, approval.HandOffResolve, "host patched, kit removed") })
	var after workflows.CaseView
	h.at(4*time.Hour, func() { after = h.view() })
	h.at(5*time.Hour, func() { h.agent("agent@desk.example", workflows.DecisionResolve, "") })
	h.run("acct-standard", abuse.Phishing, 1)
	h.result()

	wantRejected(t, "an unknown team", noTeam, `no team "marketing" in the policy (teams: security, tier2)`)
	wantRejected(t, "no reason", noReason, "needs the reason")
	wantAccepted(t, "hand-off", sent)
	wantAccepted(t, "resolve", resolved)
	hs := handOffs(open)["security"]
	if hs.Status != workflows.HandOffOpen || hs.Work.IsZero() || hs.Due.Sub(hs.At) != 8*time.Hour {
		t.Errorf("open hand-off %+v", hs)
	}
	posts, _, shows := h.hand.Snapshot()
	if len(posts) != 1 || posts[0].Channel != "sec-abuse" || posts[0].Team != "Security" || posts[0].WorkflowID != workflows.HandOffWorkflowID(h.caseID, 1) {
		t.Errorf("posts %+v", posts)
	}
	if len(shows) != 1 || shows[0].Outcome != approval.HandOffResolve || shows[0].By != "Sam Security" {
		t.Errorf("the Slack message shows %+v", shows)
	}
	work, ok := h.tickets.Get(hs.Work.ID)
	if !ok || work.GroupID != 501 || work.Status != workflows.TicketSolved || work.RequesterEmail != "agent@desk.example" {
		t.Errorf("the team's ticket: %+v", work)
	}
	r := handOffs(after)["security"]
	if r.Status != workflows.HandOffResolved || r.Outcome != "host patched, kit removed" || r.DoneBy != "Sam Security" {
		t.Errorf("after the answer: %+v", r)
	}
	notes := h.internalNotes()
	if countContaining(notes, "Handed to Security by agent@desk.example") != 1 || countContaining(notes, "Security resolved the hand-off of this case (Sam Security): host patched") != 1 {
		t.Errorf("case ticket notes %q", notes)
	}
	var kinds []string
	for _, row := range h.ledger.Rows() {
		if strings.HasPrefix(row.Event.Kind, "hand") {
			kinds = append(kinds, row.Event.Kind+":"+row.Event.Decision)
		}
	}
	if strings.Join(kinds, " ") != "handed_off:security handoff_resolved:security" {
		t.Errorf("ledger %q", kinds)
	}
}

// TestHandOffUpTheChain: nobody answers: at the SLA (8 h) the team lead is pinged and the
// breach recorded, 4 h later the T&S manager, then nothing more until the team answers.
func TestHandOffUpTheChain(t *testing.T) {
	h := newHarness(t)
	h.teams()
	h.at(time.Hour, func() { h.handOff("security", "suspicious logins on the customer's panel") })
	var at12, at20 workflows.CaseView
	h.at(9*time.Hour+time.Minute, func() { at12 = h.view() })
	h.at(30*time.Hour, func() { at20 = h.view() })
	h.at(31*time.Hour, func() { h.answer(1, approval.HandOffResolve, "") })
	h.at(32*time.Hour, func() { h.agent("agent@desk.example", workflows.DecisionResolve, "") })
	h.run("acct-standard", abuse.Phishing, 1)
	h.result()
	_, pings, _ := h.hand.Snapshot()
	if len(pings) != 2 || !strings.Contains(pings[0], "<@USECLEAD> Hand-off of case") || !strings.Contains(pings[1], "<!subteam^STSMGRS>") {
		t.Fatalf("pings %q, want the lead, then the managers' group", pings)
	}
	if hs := handOffs(at12)["security"]; hs.Level != 1 {
		t.Errorf("just past the SLA: level %d, want 1", hs.Level)
	}
	if hs := handOffs(at20)["security"]; hs.Level != 2 || hs.Status != workflows.HandOffOpen {
		t.Errorf("after the chain: %+v", hs)
	}
	breaches := 0
	for _, row := range h.ledger.Rows() {
		if row.Event.Kind == workflows.LedgerSLABreached && row.Event.Decision == workflows.SLAHandoff {
			breaches++
		}
	}
	if breaches != 1 {
		t.Errorf("%d hand-off SLA breaches in the ledger, want 1", breaches)
	}
}

// TestTwoHandOffsAndAReassignment: Security and Tier 2 at once; Tier 2 asks the agent a
// question, then reassigns to Security — refused, Security has it; Security asks for more, the
// question reaches the case's ticket; both resolve.
func TestTwoHandOffsAndAReassignment(t *testing.T) {
	h := newHarness(t)
	h.teams()
	h.pol.Teams["abuse-ops"] = policy.Team{Title: "Abuse ops", Group: 503, Channel: "abuse-ops", SLA: policy.Duration(2 * time.Hour)}
	var twice *updateOutcome
	h.at(time.Hour, func() {
		h.handOff("security", "check the host")
		h.handOff("tier2", "senior review of the customer's answer")
		twice = h.handOff("security", "again")
	})
	var toSame, reassigned, info *updateOutcome
	h.at(2*time.Hour, func() {
		toSame = h.answer(2, approval.HandOffReassign, "tier2")
		reassigned = h.answer(2, approval.HandOffReassign, "abuse-ops")
	})
	h.at(3*time.Hour, func() { info = h.answer(1, approval.HandOffNeedInfo, "which host? the report names two") })
	var mid workflows.CaseView
	h.at(4*time.Hour, func() { mid = h.view() })
	h.at(5*time.Hour, func() {
		h.answer(1, approval.HandOffResolve, "both hosts cleaned")
		h.answer(2, approval.HandOffResolve, "the answer is credible")
	})
	var end workflows.CaseView
	h.at(6*time.Hour, func() { end = h.view() })
	h.at(7*time.Hour, func() { h.agent("agent@desk.example", workflows.DecisionResolve, "") })
	h.run("acct-standard", abuse.Phishing, 1)
	h.result()

	wantRefused(t, "a second open hand-off to one team", twice, "already has a hand-off of this case open")
	wantRejected(t, "reassign to the same team", toSame, "already with Tier 2")
	wantAccepted(t, "reassign", reassigned)
	wantAccepted(t, "need info", info)
	m := handOffs(mid)
	if m["security"].Status != workflows.HandOffNeedInfo || m["security"].Question != "which host? the report names two" {
		t.Errorf("security mid-way: %+v", m["security"])
	}
	if m["abuse-ops"].N != 2 || m["abuse-ops"].Title != "Abuse ops" || m["abuse-ops"].Due.Sub(m["abuse-ops"].At) > 3*time.Hour {
		t.Errorf("the reassigned hand-off: %+v", mid.HandOffs)
	}
	posts, _, _ := h.hand.Snapshot()
	if len(posts) != 3 || posts[2].Channel != "abuse-ops" {
		t.Errorf("posts %+v, want security, tier2, then abuse-ops", posts)
	}
	work, _ := h.tickets.Get(m["abuse-ops"].Work.ID)
	if work.GroupID != 503 {
		t.Errorf("the reassigned ticket is in group %d, want 503", work.GroupID)
	}
	if countContaining(h.internalNotes(), "needs information for the hand-off of this case: which host?") != 1 {
		t.Errorf("the question did not reach the case's ticket: %q", h.internalNotes())
	}
	for _, hs := range end.HandOffs {
		if hs.Status != workflows.HandOffResolved {
			t.Errorf("not resolved: %+v", hs)
		}
	}
}

// TestHandOffPausesTheCustomersDeadline: with a team whose policy pauses the case, the 72 h
// response window stops while the hand-off is open (10 h → 40 h): no escalation at 72 h, the
// deadline moves on by the 30 h pause and the case escalates at 102 h. A team without the
// switch leaves the clock running.
func TestHandOffPausesTheCustomersDeadline(t *testing.T) {
	h := newHarness(t)
	h.teams()
	sec := h.pol.Teams["security"]
	sec.PauseCase, sec.SLA = true, policy.Duration(48*time.Hour)
	h.pol.Teams["security"] = sec
	var started time.Time
	h.at(0, func() { started = h.env.Now() })
	h.at(10*time.Hour, func() { h.handOff("security", "is this host ours at all?") })
	var paused workflows.CaseView
	h.at(20*time.Hour, func() { paused = h.view() })
	h.at(40*time.Hour, func() { h.answer(1, approval.HandOffResolve, "yes, it is the customer's") })
	at80 := h.statusAt(80 * time.Hour)
	var later workflows.CaseView
	h.at(81*time.Hour, func() { later = h.view() })
	at101 := h.statusAt(101 * time.Hour)
	at103 := h.statusAt(103 * time.Hour)
	h.at(104*time.Hour, func() { h.agent("agent@desk.example", workflows.DecisionResolve, "") })
	h.run("acct-standard", abuse.Spam, 1)
	h.result()
	if !paused.Deadline.IsZero() || !hasEvent(paused, workflows.EventHandOff, "the customer's deadline is paused while Security has the hand-off") {
		t.Errorf("during the hand-off: deadline %s\n%+v", paused.Deadline, paused.Timeline)
	}
	if *at80 != workflows.StatusAwaitingResponse || *at101 != workflows.StatusAwaitingResponse {
		t.Errorf("at 80 h %s, at 101 h %s; want still waiting for the customer", *at80, *at101)
	}
	if want := started.Add(102 * time.Hour); !later.Deadline.Equal(want) {
		t.Errorf("deadline after the pause %s, want %s (72 h + the 30 h pause)", later.Deadline, want)
	}
	if *at103 == workflows.StatusAwaitingResponse {
		t.Errorf("at 103 h the case is still %s; it should have escalated at 102 h", *at103)
	}
}
