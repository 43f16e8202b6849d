package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"abusedesk/activities"
	"abusedesk/domain/abuse"
	"abusedesk/domain/approval"
	"abusedesk/domain/fault"
	"abusedesk/domain/policy"
	"abusedesk/domain/ticket"
	"abusedesk/templates"
	"abusedesk/testenv/memfake"
	"abusedesk/workflows"
)

const (
	lead1 = "ULEAD1"
	lead2 = "ULEAD2"
)

// harness runs one Case workflow in the SDK's test environment (time skips while the
// workflow waits) with the real activities over in-memory fakes.
type harness struct {
	t        *testing.T
	suite    testsuite.WorkflowTestSuite
	env      *testsuite.TestWorkflowEnvironment
	tickets  *memfake.Tickets
	accounts *memfake.Accounts
	enf      *memfake.Enforcement
	msg      *memfake.Messaging
	appr     *memfake.Approvals
	evidence *memfake.Evidence
	incs     *memfake.Incidents
	alerts   *memfake.Alerts
	fwd      *memfake.Reports
	ledger   *memfake.Ledger
	probes   *memfake.Probes
	probs    *memfake.Probations
	hand     *memfake.HandOffs
	pol      *policy.Policy
	caseID   string
	updates  int
}

func newHarness(t *testing.T) *harness { return newHarnessWith(t, memfake.NewTickets()) }

// newHarnessWith shares a ticketing system with an earlier harness (a continued case).
// newHarnessWith makes a harness on these tickets (and, when given, this ledger).
func newHarnessWith(t *testing.T, tickets *memfake.Tickets, ledger ...*memfake.Ledger) *harness {
	t.Helper()
	h := &harness{
		t:        t,
		tickets:  tickets,
		accounts: memfake.NewAccounts(memfake.DemoAccounts()...),
		enf:      &memfake.Enforcement{},
		msg:      &memfake.Messaging{PerHour: abuse.MessagingCounts{Sent: 100, Delivered: 95, Failed: 2, Filtered: 3, OptOuts: 2, Complaints: 1}},
		appr:     &memfake.Approvals{},
		evidence: &memfake.Evidence{},
		incs:     &memfake.Incidents{},
		alerts:   &memfake.Alerts{},
		fwd:      &memfake.Reports{},
		ledger:   &memfake.Ledger{},
		probes:   &memfake.Probes{},
		probs:    &memfake.Probations{},
		hand:     &memfake.HandOffs{},
		pol:      policy.Default(),
	}
	if len(ledger) > 0 {
		h.ledger = ledger[0]
	}
	h.pol.Approvers = approval.Approvers{Users: []string{lead1, lead2}}
	// The harness's reporters are trusted: a deadline may end in enforcement on one report
	// (TestUncorroboratedGoesToALead clears this).
	for c, r := range h.pol.Categories {
		r.Corroboration.Trusted = []string{"isp.example", "example.org", "operator.example"}
		r.Approval.FirstEnforcement = false // TestFirstEnforcementGoesToALead sets it
		h.pol.Categories[c] = r
	}
	if h.tickets.Groups == nil {
		h.tickets.Groups = map[int64][]int64{legalGroup: {agentIDs["legal@desk.example"]}}
		for email, id := range agentIDs {
			if email != "legal@desk.example" {
				h.tickets.Groups[0] = append(h.tickets.Groups[0], id) // the desk's group
			}
		}
	}
	if h.tickets.Emails == nil {
		h.tickets.Emails = map[int64]string{}
		for email, id := range agentIDs {
			h.tickets.Emails[id] = email
		}
	}
	h.suite.SetLogger(testLogger{t})
	h.env = h.suite.NewTestWorkflowEnvironment()
	h.env.SetTestTimeout(30 * time.Second)
	workflows.Register(h.env)
	r, err := templates.New()
	if err != nil {
		t.Fatal(err)
	}
	h.msg.Enforcement = h.enf // a suspension stops the records' traffic
	acts := &activities.Activities{
		Tickets: h.tickets, Accounts: h.accounts, Enforcement: h.enf, Messaging: h.msg, Approvals: h.appr,
		Evidence: h.evidence, Incidents: h.incs, Alerts: h.alerts, Reports: h.fwd, Ledger: h.ledger, Probes: h.probes, Probations: h.probs, HandOffs: h.hand, Templates: r, VerifyWait: time.Second,
		LegalChannel: "legal", LegalGroupID: legalGroup, SupportGroupID: 88,
	}
	acts.Register(h.env)
	return h
}

// run executes the case for account and category, with n reports delivered at the start the
// way intake's SignalWithStart does.
func (h *harness) run(account string, category abuse.Category, n int) {
	h.caseID = workflows.CaseWorkflowID(account, category)
	h.env.SetStartWorkflowOptions(testStartOptions(h.caseID))
	h.at(0, func() { h.signalReports(category, "r", n) })
	h.env.ExecuteWorkflow(workflows.CaseWorkflowType, workflows.CaseInput{AccountID: account, Category: category, Policy: h.pol.Snapshot(category)})
}

func (h *harness) at(d time.Duration, fn func()) { h.env.RegisterDelayedCallback(fn, d) }

func (h *harness) signalReports(category abuse.Category, prefix string, n int) {
	var batch []workflows.ReportSummary
	now := h.env.Now()
	for i := range n {
		batch = append(batch, workflows.ReportSummary{
			ID: fmt.Sprintf("%s-%d", prefix, i), Format: "arf", Category: category, Reporter: fmt.Sprintf("fbl%d@isp.example", i%3),
			ReceivedAt: now, Subjects: abuse.ParseSubjects("ip:192.0.2.10"), Evidence: fmt.Sprintf("%064x", i), Summary: "complaint " + prefix,
		})
		h.evidence.Put(fmt.Sprintf("%064x", i), []byte("raw report"))
	}
	h.env.SignalWorkflow(workflows.SignalReports, workflows.NewReportsSignal(batch))
}

func (h *harness) reply(kind workflows.ReplyKind, id string) {
	h.env.SignalWorkflow(workflows.SignalCustomerReply, workflows.CustomerReply{
		ID: id, Kind: kind, From: "ops@shop.example", ReceivedAt: h.env.Now(), Channel: "email", Excerpt: "We removed the compromised form.",
	})
}

// update sends an update and returns what happened: the result or the rejection.
type updateOutcome struct {
	rejected error
	result   *workflows.DecisionResult
	err      error
	done     bool
}

// callbacks record an update's outcome in out.
func (out *updateOutcome) callbacks() *testsuite.TestUpdateCallback {
	return &testsuite.TestUpdateCallback{
		OnAccept: func() {},
		OnReject: func(err error) { out.rejected, out.done = err, true },
		OnComplete: func(v any, err error) {
			out.done, out.err = true, err
			if r, ok := v.(*workflows.DecisionResult); ok {
				out.result = r
			}
		},
	}
}

func (h *harness) update(name string, arg any) *updateOutcome {
	out := &updateOutcome{}
	h.updates++ // update IDs are unique: Temporal answers a repeated ID with the first one's result
	h.env.UpdateWorkflow(name, fmt.Sprintf("u-%d-%d", h.env.Now().UnixNano(), h.updates), out.callbacks(), arg)
	return out
}

func (h *harness) approve(user, decision, reason string) *updateOutcome {
	return h.update(workflows.UpdateApproval, approval.Decision{Decision: decision, UserID: user, UserName: "lead " + user, UserEmail: strings.ToLower(user) + "@desk.example", Reason: reason})
}

// legalGroup is the harness's legal group; agentIDs the ticketing user IDs of the desk's
// agents (the legal group has legal@ alone, the desk's group the others).
const legalGroup = 77

var agentIDs = map[string]int64{"agent@desk.example": 9001, "reviewer@desk.example": 9002, "legal@desk.example": 9003, "support@desk.example": 9004,
	"other@desk.example": 9005, "lee.lead@desk.example": 9006}

// agent applies an agent's decision.
func (h *harness) agent(agent string, decision workflows.Decision, note string) *updateOutcome {
	return h.decide(workflows.AgentDecision{Decision: decision, Agent: agent, Note: note})
}

// decide applies an agent's decision with the agent's ticketing user ID, as the inbound
// channels give it.
func (h *harness) decide(d workflows.AgentDecision) *updateOutcome {
	if id, ok := agentIDs[strings.ToLower(d.Agent)]; ok {
		d.AgentID = strconv.FormatInt(id, 10)
	}
	return h.update(workflows.UpdateAgentDecision, d)
}

func (h *harness) view() workflows.CaseView {
	h.t.Helper()
	v, err := h.env.QueryWorkflow(workflows.QueryStatus, workflows.StatusQuery{})
	if err != nil {
		h.t.Fatalf("status query: %v", err)
	}
	var cv workflows.CaseView
	if err := v.Get(&cv); err != nil {
		h.t.Fatalf("decode status: %v", err)
	}
	return cv
}

// statusAt records the case status at d.
func (h *harness) statusAt(d time.Duration) *workflows.Status {
	var s workflows.Status
	h.at(d, func() { s = h.view().Status })
	return &s
}

func (h *harness) result() workflows.CaseResult {
	h.t.Helper()
	if !h.env.IsWorkflowCompleted() {
		h.t.Fatal("case did not complete")
	}
	if err := h.env.GetWorkflowError(); err != nil {
		h.t.Fatalf("case failed: %v", err)
	}
	var res workflows.CaseResult
	if err := h.env.GetWorkflowResult(&res); err != nil {
		h.t.Fatal(err)
	}
	return res
}

func (h *harness) ticket() memfake.Ticket {
	h.t.Helper()
	all := h.tickets.All()
	for _, tk := range all {
		if !strings.Contains(strings.Join(tk.Tags, " "), ticket.TagReporter) {
			return tk
		}
	}
	h.t.Fatalf("no case ticket among %d tickets", len(all))
	return memfake.Ticket{}
}

// publicComments returns the customer-facing comments of the case ticket.
func (h *harness) publicComments() []string {
	var out []string
	for _, c := range h.ticket().Comments {
		if c.Public {
			out = append(out, c.Body)
		}
	}
	return out
}

func countContaining(ss []string, sub string) int {
	n := 0
	for _, s := range ss {
		if strings.Contains(s, sub) {
			n++
		}
	}
	return n
}

func hasEvent(v workflows.CaseView, kind, sub string) bool {
	for _, e := range v.Timeline {
		if e.Kind == kind && strings.Contains(e.Text, sub) {
			return true
		}
	}
	return false
}

func wantRejected(t *testing.T, what string, u *updateOutcome, sub string) {
	t.Helper()
	if !u.done {
		t.Fatalf("%s: the update never finished", what)
	}
	if u.rejected == nil {
		t.Fatalf("%s: accepted, want rejected with %q", what, sub)
	}
	if !strings.Contains(u.rejected.Error(), sub) {
		t.Errorf("%s: rejected with %q, want it to say %q", what, u.rejected, sub)
	}
}

// wantRefused: the update was refused, by its validator or by its handler (a decision that
// waited for who made it is checked again when it applies).
func wantRefused(t *testing.T, what string, u *updateOutcome, sub string) {
	t.Helper()
	if !u.done {
		t.Fatalf("%s: the update never finished", what)
	}
	err := u.rejected
	if err == nil {
		err = u.err
	}
	if err == nil {
		t.Fatalf("%s: applied, want refused with %q", what, sub)
	}
	if !strings.Contains(err.Error(), sub) {
		t.Errorf("%s: refused with %q, want it to say %q", what, err, sub)
	}
}

func wantAccepted(t *testing.T, what string, u *updateOutcome) {
	t.Helper()
	if !u.done || u.rejected != nil || u.err != nil {
		t.Fatalf("%s: done=%v rejected=%v err=%v, want accepted", what, u.done, u.rejected, u.err)
	}
}

func TestReplyThenAgentAcceptsRemediation(t *testing.T) {
	h := newHarness(t)
	h.at(30*time.Hour, func() { h.reply(workflows.ReplyKindAnswer, "m1") })
	reviewed := h.statusAt(31 * time.Hour)
	var accept *updateOutcome
	h.at(40*time.Hour, func() { accept = h.agent("agent@desk.example", workflows.DecisionAcceptRemediation, "form fixed") })
	h.run("acct-standard", abuse.Spam, 2)

	res := h.result()
	if res.Outcome != workflows.OutcomeRemediated || res.Status != workflows.StatusResolved {
		t.Errorf("outcome %s/%s, want remediated/resolved", res.Outcome, res.Status)
	}
	if *reviewed != workflows.StatusUnderReview {
		t.Errorf("after the reply the case is %s, want under_review", *reviewed)
	}
	wantAccepted(t, "accept remediation", accept)
	if n := len(h.enf.Actions()); n != 0 {
		t.Errorf("%d enforcement actions, want none", n)
	}
	pub := h.publicComments()
	if countContaining(pub, "we have received 2 complaints") != 1 {
		t.Errorf("violation notice not sent once: %q", pub)
	}
	// One reminder (24h) went out before the reply at 30h; the 48h one did not.
	if n := countContaining(pub, "this is reminder"); n != 1 {
		t.Errorf("%d reminders, want 1", n)
	}
	if tk := h.ticket(); tk.Status != workflows.TicketSolved {
		t.Errorf("ticket is %s, want solved", tk.Status)
	}
	if res.ReportCount != 2 {
		t.Errorf("report count %d, want 2", res.ReportCount)
	}
}

func TestReplyJustBeforeDeadlineWins(t *testing.T) {
	h := newHarness(t)
	// The deadline is 72h after the notice; the reply comes a second before it.
	h.at(72*time.Hour-time.Second, func() { h.reply(workflows.ReplyKindAnswer, "m1") })
	reviewed := h.statusAt(73 * time.Hour)
	h.at(74*time.Hour, func() { h.agent("agent@desk.example", workflows.DecisionResolve, "") })
	h.run("acct-standard", abuse.Spam, 1)

	if *reviewed != workflows.StatusUnderReview {
		t.Errorf("a second after the deadline the case is %s, want under_review", *reviewed)
	}
	if n := len(h.enf.Actions()); n != 0 {
		t.Errorf("%d actions applied despite the reply, want none", n)
	}
	if res := h.result(); res.Outcome != workflows.OutcomeResolved {
		t.Errorf("outcome %s, want resolved", res.Outcome)
	}
}

func TestSilentAccountIsEnforcedThenClosed(t *testing.T) {
	h := newHarness(t)
	var enforced workflows.CaseView
	h.at(73*time.Hour, func() { enforced = h.view() })
	h.run("acct-standard", abuse.Spam, 3)

	res := h.result()
	if res.Outcome != workflows.OutcomeEnforced || res.Status != workflows.StatusClosed {
		t.Errorf("outcome %s/%s, want enforced/closed", res.Outcome, res.Status)
	}
	if enforced.Status != workflows.StatusEnforced || enforced.Enforcement == nil {
		t.Fatalf("after the deadline the case is %s (%+v), want enforced", enforced.Status, enforced.Enforcement)
	}
	acts := h.enf.Actions()
	if len(acts) != 1 || acts[0].Type != abuse.ActionThrottle || acts[0].Level != 2 || acts[0].AccountID != "acct-standard" {
		t.Fatalf("actions %+v, want one level-2 throttle on acct-standard", acts)
	}
	pub := h.publicComments()
	if n := countContaining(pub, "this is reminder"); n != 2 {
		t.Errorf("%d reminders, want 2 (24h and 48h)", n)
	}
	if countContaining(pub, "Statement of reasons") != 1 {
		t.Fatalf("no enforcement notice with a statement of reasons in %q", pub)
	}
	notice := pub[countContaining(pub, "")-2] // the enforcement notice precedes the closing one
	for _, want := range []string{"Facts: 3 reports", "notices sent to us by 3 third parties", "Ground (our terms): our Acceptable Use Policy",
		"Measure: outbound traffic throttled (level 2", "on your whole account acct-standard", "Automated means: the reports were received",
		"The decision was taken by automated means", "How to appeal: reply to this email by", "Other redress: you may also refer the decision to a certified out-of-court",
		"the courts competent", acts[0].ID} {
		if !strings.Contains(notice, want) {
			t.Errorf("enforcement notice lacks %q:\n%s", want, notice)
		}
	}
	if !strings.Contains(pub[len(pub)-1], "appeal window ended") {
		t.Errorf("closing message %q does not say the appeal window ended", pub[len(pub)-1])
	}
	// Reporters are told the outcome (three distinct reporters).
	acks := 0
	for _, tk := range h.tickets.All() {
		if strings.Contains(strings.Join(tk.Tags, " "), ticket.TagReporter) {
			acks++
		}
	}
	if acks != 3 {
		t.Errorf("%d reporter acknowledgements, want 3", acks)
	}
}

func TestStrategicAccountApproved(t *testing.T) {
	h := newHarness(t)
	var pending workflows.CaseView
	h.at(73*time.Hour, func() { pending = h.view() })
	var approve *updateOutcome
	h.at(74*time.Hour, func() { approve = h.approve(lead1, approval.Approve, "") })
	enforced := h.statusAt(75 * time.Hour)
	h.run("acct-strategic", abuse.Spam, 1)

	if pending.Status != workflows.StatusPendingApproval {
		t.Fatalf("strategic account at the deadline is %s, want pending_approval", pending.Status)
	}
	wantAccepted(t, "approve", approve)
	if approve.result == nil || approve.result.Status != workflows.StatusEscalated {
		t.Errorf("approve answered %+v, want status escalated", approve.result)
	}
	if *enforced != workflows.StatusEnforced {
		t.Errorf("after approval the case is %s, want enforced", *enforced)
	}
	posts, _, shown := h.appr.Snapshot()
	if len(posts) != 1 || posts[0].Reason != "strategic account" {
		t.Errorf("approval posts %+v, want one for a strategic account", posts)
	}
	if len(shown) != 1 || shown[0].Decision != approval.Approve || shown[0].DecidedBy != "lead "+lead1 {
		t.Errorf("decision shown %+v, want approve by lead %s", shown, lead1)
	}
	if len(h.enf.Actions()) != 1 {
		t.Errorf("%d actions, want 1", len(h.enf.Actions()))
	}
}

func TestApprovalDeniedGoesBackToReview(t *testing.T) {
	h := newHarness(t)
	var noReason, deny, again *updateOutcome
	h.at(74*time.Hour, func() { noReason = h.approve(lead1, approval.Deny, "") })
	h.at(75*time.Hour, func() { deny = h.approve(lead1, approval.Deny, "customer is migrating, give them time") })
	review := h.statusAt(76 * time.Hour)
	h.at(77*time.Hour, func() { again = h.approve(lead2, approval.Approve, "") })
	h.at(80*time.Hour, func() { h.agent("agent@desk.example", workflows.DecisionResolve, "") })
	h.run("acct-strategic", abuse.Spam, 1)

	wantRejected(t, "deny without a reason", noReason, "needs a reason")
	wantAccepted(t, "deny", deny)
	if *review != workflows.StatusUnderReview {
		t.Errorf("after the denial the case is %s, want under_review", *review)
	}
	wantRejected(t, "approve after a denial", again, "already decided: deny")
	if n := len(h.enf.Actions()); n != 0 {
		t.Errorf("%d actions after a denial, want none", n)
	}
	tk := h.ticket()
	found := false
	for _, c := range tk.Comments {
		found = found || (!c.Public && strings.Contains(c.Body, "give them time"))
	}
	if !found {
		t.Error("no internal note with the lead's reason")
	}
}

func TestDuplicateAndUnauthorizedApprovals(t *testing.T) {
	h := newHarness(t)
	var stranger, first, second *updateOutcome
	h.at(74*time.Hour, func() { stranger = h.approve("UINTRUDER", approval.Approve, "") })
	h.at(75*time.Hour, func() { first = h.approve(lead1, approval.Approve, "") })
	h.at(75*time.Hour+time.Millisecond, func() { second = h.approve(lead2, approval.Approve, "") })
	h.run("acct-strategic", abuse.Spam, 1)

	wantRejected(t, "stranger", stranger, "is not an approver")
	wantAccepted(t, "first click", first)
	wantRejected(t, "second click", second, "already decided: approve by lead "+lead1)
	if n := len(h.enf.Actions()); n != 1 {
		t.Errorf("%d actions, want exactly 1", n)
	}
}

// TestApprovalTrustsNoClaimedGroups: who may decide is what Slack said when the desk asked,
// kept in the case; an update that claims a leads' group for a stranger (as anyone with the
// Temporal CLI could send) is refused, and a member of the group is accepted.
func TestApprovalTrustsNoClaimedGroups(t *testing.T) {
	h := newHarness(t)
	const member = "UGROUPLEAD"
	h.pol.Approvers = approval.Approvers{Groups: []string{"SLEADS"}}
	h.appr.Groups = map[string][]string{"SLEADS": {member}}
	var forged, claimedEmpty, genuine *updateOutcome
	var pending workflows.CaseView
	h.at(73*time.Hour, func() { pending = h.view() })
	h.at(74*time.Hour, func() {
		forged = h.update(workflows.UpdateApproval, map[string]any{"decision": "approve", "user_id": "UFORGED", "user_groups": []string{"SLEADS"}})
	})
	h.at(74*time.Hour+time.Minute, func() {
		claimedEmpty = h.update(workflows.UpdateApproval, map[string]any{"decision": "approve", "user_id": "", "user_groups": []string{"SLEADS"}})
	})
	h.at(75*time.Hour, func() { genuine = h.approve(member, approval.Approve, "") })
	h.run("acct-strategic", abuse.Spam, 1)

	if pending.Status != workflows.StatusPendingApproval {
		t.Fatalf("at 73h the case is %s, want pending_approval", pending.Status)
	}
	wantRejected(t, "forged groups", forged, "is not an approver")
	wantRejected(t, "no user", claimedEmpty, "is not an approver")
	wantAccepted(t, "the group's member", genuine)
	if n := len(h.enf.Actions()); n != 1 {
		t.Errorf("%d actions, want 1 (after the member approved)", n)
	}
	if h.appr.Calls("members") == 0 {
		t.Error("the desk never read the leads' group from Slack")
	}
}

// TestApprovalDecidersWithoutSlack: when Slack cannot list a group, only the users the policy
// names by ID may decide; a group's member is not taken on the word of a payload.
func TestApprovalDecidersWithoutSlack(t *testing.T) {
	h := newHarness(t)
	const member = "UGROUPLEAD"
	h.pol.Approvers = approval.Approvers{Users: []string{lead1}, Groups: []string{"SLEADS"}}
	h.appr.Groups = map[string][]string{"SLEADS": {member}}
	h.appr.Fail("members", 100, &fault.Error{Kind: fault.Transient, Service: "slack", Op: "usergroups.users.list"})
	var byMember, byLead *updateOutcome
	h.at(74*time.Hour, func() { byMember = h.approve(member, approval.Approve, "") })
	h.at(75*time.Hour, func() { byLead = h.approve(lead1, approval.Approve, "") })
	h.run("acct-strategic", abuse.Spam, 1)

	wantRejected(t, "a group member Slack could not confirm", byMember, "is not an approver")
	wantAccepted(t, "a lead the policy names", byLead)
}

// TestApprovalTimeoutGoesUpTheChain: a standard account whose category needs approval. 72h
// window, then 8h per request with one re-ping to the leads, then the managers are asked (8h),
// then the request holds; nothing is enforced until a manager approves.
func TestApprovalTimeoutGoesUpTheChain(t *testing.T) {
	h := newHarness(t)
	const manager = "UMANAGER"
	h.pol.Managers = approval.Approvers{Users: []string{manager}}
	spam := h.pol.Categories[abuse.Spam]
	spam.Approval.Required = true
	spam.Approval.OnTimeout = policy.OnTimeoutEnforce // a snapshot from before the chain: ignored
	h.pol.Categories[abuse.Spam] = spam
	var atLeads, atManagers, held workflows.CaseView
	h.at(87*time.Hour, func() { atLeads = h.view() })
	h.at(95*time.Hour, func() { atManagers = h.view() })
	h.at(30*24*time.Hour, func() { held = h.view() })
	var byManager *updateOutcome
	h.at(30*24*time.Hour+time.Hour, func() { byManager = h.approve(manager, approval.Approve, "") })
	h.run("acct-standard", abuse.Spam, 1)

	if atLeads.Status != workflows.StatusPendingApproval || atLeads.Approval.Managers {
		t.Errorf("at 87h: %s managers=%v, want pending_approval with the leads", atLeads.Status, atLeads.Approval.Managers)
	}
	if atManagers.Status != workflows.StatusPendingApproval || !atManagers.Approval.Managers || atManagers.Approval.Holding {
		t.Errorf("at 95h: %s managers=%v holding=%v, want pending_approval, asked the managers, not yet holding",
			atManagers.Status, atManagers.Approval.Managers, atManagers.Approval.Holding)
	}
	if held.Status != workflows.StatusPendingApproval || !held.Approval.Holding {
		t.Errorf("after 30 days: %s holding=%v, want pending_approval, holding", held.Status, held.Approval.Holding)
	}
	posts, pings, _ := h.appr.Snapshot()
	if len(posts) != 1 || len(pings) != 2 {
		t.Fatalf("%d posts and %d pings, want 1 and 2 (leads, then managers)", len(posts), len(pings))
	}
	if pings[0].Mention != "" || pings[1].Mention != "<@"+manager+">" {
		t.Errorf("ping mentions %q, %q; want the channel's usual mention, then the manager", pings[0].Mention, pings[1].Mention)
	}
	wantAccepted(t, "the manager's approval", byManager)
	if n := len(h.enf.Actions()); n != 1 {
		t.Errorf("%d actions, want 1 (after the manager approved)", n)
	}
}

// TestStrategicApprovalTimeoutHolds: for a strategic account a lead always decides: the request
// re-pings and then holds (no managers configured); nothing is enforced.
func TestStrategicApprovalTimeoutHolds(t *testing.T) {
	h := newHarness(t)
	var held workflows.CaseView
	h.at(30*24*time.Hour, func() { held = h.view() })
	h.at(31*24*time.Hour, func() { h.agent("agent@desk.example", workflows.DecisionResolve, "closing the test") })
	h.run("acct-strategic", abuse.Spam, 1)

	if held.Status != workflows.StatusPendingApproval || held.Approval == nil || !held.Approval.Holding {
		t.Errorf("strategic account after every re-ping: %s holding=%v, want pending_approval, holding", held.Status, held.Approval != nil && held.Approval.Holding)
	}
	if n := len(h.enf.Actions()); n != 0 {
		t.Errorf("%d actions on a strategic account without a lead's decision", n)
	}
	if _, pings, _ := h.appr.Snapshot(); len(pings) != 1 {
		t.Errorf("%d re-pings, want 1", len(pings))
	}
}

func TestApprovalTimeoutHolds(t *testing.T) {
	h := newHarness(t)
	spam := h.pol.Categories[abuse.Spam]
	spam.Approval.OnTimeout = policy.OnTimeoutHold
	h.pol.Categories[abuse.Spam] = spam
	var held workflows.CaseView
	h.at(30*24*time.Hour, func() { held = h.view() })
	var late *updateOutcome
	h.at(30*24*time.Hour+time.Hour, func() { late = h.approve(lead2, approval.Approve, "") })
	h.run("acct-strategic", abuse.Spam, 1)

	if held.Status != workflows.StatusPendingApproval || held.Approval == nil || !held.Approval.Holding {
		t.Errorf("after the timeout with hold: %s holding=%v, want pending_approval, holding", held.Status, held.Approval != nil && held.Approval.Holding)
	}
	wantAccepted(t, "approval while holding", late)
	if len(h.enf.Actions()) != 1 {
		t.Errorf("%d actions, want 1 after the late approval", len(h.enf.Actions()))
	}
}

func TestReplyAfterEscalationBegan(t *testing.T) {
	h := newHarness(t)
	h.at(74*time.Hour, func() { h.reply(workflows.ReplyKindAnswer, "late-1") })
	review := h.statusAt(75 * time.Hour)
	var click *updateOutcome
	h.at(76*time.Hour, func() { click = h.approve(lead1, approval.Approve, "") })
	h.at(77*time.Hour, func() { h.agent("agent@desk.example", workflows.DecisionAcceptRemediation, "") })
	h.run("acct-strategic", abuse.Spam, 1)

	if *review != workflows.StatusUnderReview {
		t.Errorf("a reply while approval is pending leaves the case %s, want under_review", *review)
	}
	wantRejected(t, "click after the reply", click, "withdrawn")
	if _, _, shown := h.appr.Snapshot(); len(shown) != 1 || shown[0].Decision != "withdrawn" {
		t.Errorf("Slack shows %+v, want the request withdrawn", shown)
	}
	if len(h.enf.Actions()) != 0 {
		t.Error("enforced although the customer replied")
	}
}

func TestAutoReplyDoesNotCount(t *testing.T) {
	h := newHarness(t)
	h.at(time.Hour, func() { h.reply(workflows.ReplyKindAutoReply, "ooo-1") })
	h.at(2*time.Hour, func() { h.reply(workflows.ReplyKindBounce, "dsn-1") })
	waiting := h.statusAt(3 * time.Hour)
	var v workflows.CaseView
	h.at(73*time.Hour, func() { v = h.view() })
	h.run("acct-standard", abuse.Spam, 1)

	if *waiting != workflows.StatusAwaitingResponse {
		t.Errorf("after an auto-reply the case is %s, want still awaiting_response", *waiting)
	}
	if v.Status != workflows.StatusEnforced || v.AutoReplies != 2 || v.Replies != 0 {
		t.Errorf("at the deadline: %s, %d auto-replies, %d replies; want enforced, 2, 0", v.Status, v.AutoReplies, v.Replies)
	}
}

func TestReportsInEveryState(t *testing.T) {
	h := newHarness(t)
	counts := map[string]int{}
	record := func(d time.Duration, name, prefix string, n int) {
		h.at(d, func() { h.signalReports(abuse.Spam, prefix, n) })
		h.at(d+time.Minute, func() { v := h.view(); counts[name+":"+string(v.Status)] = v.Reports.Count })
	}
	record(time.Hour, "waiting", "a", 5)
	// A redelivered batch is ignored.
	record(2*time.Hour, "redelivered", "a", 5)
	record(74*time.Hour, "pending", "b", 2)
	h.at(75*time.Hour, func() { h.approve(lead1, approval.Approve, "") })
	record(76*time.Hour, "enforced", "c", 2)
	h.at(77*time.Hour, func() { h.reply(workflows.ReplyKindAnswer, "appeal-1") })
	record(78*time.Hour, "appeal", "d", 2)
	h.at(79*time.Hour, func() { h.agent("agent@desk.example", workflows.DecisionGrantAppeal, "fixed") })
	h.run("acct-strategic", abuse.Spam, 1)

	want := map[string]int{
		"waiting:awaiting_response":     6,
		"redelivered:awaiting_response": 6,
		"pending:pending_approval":      8,
		"enforced:enforced":             10,
		"appeal:appeal_review":          12,
	}
	for k, n := range want {
		if counts[k] != n {
			t.Errorf("%s: %d reports, want %d (all: %v)", k, counts[k], n, counts)
		}
	}
	if res := h.result(); res.ReportCount != 12 || res.Outcome != workflows.OutcomeReinstated {
		t.Errorf("result %+v, want 12 reports, reinstated", res)
	}
}

func TestAppealGrantedReinstates(t *testing.T) {
	h := newHarness(t)
	h.at(73*time.Hour, func() { h.reply(workflows.ReplyKindAnswer, "appeal-1") })
	var v workflows.CaseView
	h.at(74*time.Hour, func() { v = h.view() })
	var grant *updateOutcome
	h.at(80*time.Hour, func() {
		grant = h.agent("reviewer@desk.example", workflows.DecisionGrantAppeal, "cleaned up, confirmed")
	})
	h.run("acct-standard", abuse.Spam, 1)

	if v.Status != workflows.StatusAppealReview {
		t.Fatalf("after the customer's reply to the enforcement the case is %s, want appeal_review", v.Status)
	}
	wantAccepted(t, "grant", grant)
	res := h.result()
	if res.Outcome != workflows.OutcomeReinstated || res.Status != workflows.StatusReinstated {
		t.Errorf("result %s/%s, want reinstated", res.Outcome, res.Status)
	}
	acts := h.enf.Actions()
	if len(acts) != 1 || acts[0].State != abuse.StateLifted {
		t.Errorf("actions %+v, want one, lifted", acts)
	}
	pub := h.publicComments()
	for _, want := range []string{"we have received your appeal", "granted it", "your account was reinstated"} {
		if countContaining(pub, want) != 1 {
			t.Errorf("no customer message saying %q", want)
		}
	}
}

func TestAppealBySameLeadRefusedThenDenied(t *testing.T) {
	h := newHarness(t)
	h.at(74*time.Hour, func() { h.approve(lead1, approval.Approve, "") })
	h.at(76*time.Hour, func() {
		h.env.SignalWorkflow(workflows.SignalAppeal, workflows.Appeal{ID: "form-1", From: "noc@bank.example", ReceivedAt: h.env.Now(), Channel: "form", Excerpt: "please reconsider"})
	})
	var self, noReason, deny *updateOutcome
	h.at(77*time.Hour, func() {
		self = h.agent(strings.ToLower(lead1)+"@desk.example", workflows.DecisionGrantAppeal, "I approved it, I lift it")
	})
	h.at(78*time.Hour, func() { noReason = h.agent("reviewer@desk.example", workflows.DecisionDenyAppeal, "") })
	h.at(79*time.Hour, func() {
		deny = h.agent("reviewer@desk.example", workflows.DecisionDenyAppeal, "the reports continue after the fix")
	})
	h.run("acct-strategic", abuse.Spam, 1)

	wantRejected(t, "same lead", self, "may not decide its appeal")
	wantRejected(t, "deny without reasons", noReason, "needs the reasons")
	wantAccepted(t, "deny", deny)
	res := h.result()
	if res.Outcome != workflows.OutcomeUpheld {
		t.Errorf("outcome %s, want upheld", res.Outcome)
	}
	if acts := h.enf.Actions(); len(acts) != 1 || acts[0].State != abuse.StateActive {
		t.Errorf("actions %+v, want one still active", acts)
	}
	if countContaining(h.publicComments(), "the reports continue after the fix") != 1 {
		t.Error("the denial with its reasons did not reach the customer")
	}
}

func TestAppealAfterWindowRefused(t *testing.T) {
	h := newHarness(t)
	window := 14 * 24 * time.Hour
	// The appeal reaches the case in the window's last minute, but the mail server received it
	// after the window closed (its received time is what counts).
	h.at(72*time.Hour+window-time.Minute, func() {
		h.env.SignalWorkflow(workflows.SignalCustomerReply, workflows.CustomerReply{
			ID: "late", Kind: workflows.ReplyKindAnswer, From: "ops@shop.example",
			ReceivedAt: h.env.Now().Add(2 * time.Minute), Channel: "email", Excerpt: "please lift it",
		})
	})
	h.run("acct-standard", abuse.Spam, 1)

	res := h.result()
	if res.Outcome != workflows.OutcomeEnforced {
		t.Errorf("outcome %s, want enforced (late appeal refused)", res.Outcome)
	}
	if countContaining(h.publicComments(), "after the appeal window closed") != 1 {
		t.Error("the customer was not told the appeal came too late")
	}
	if acts := h.enf.Actions(); len(acts) != 1 || acts[0].State != abuse.StateActive {
		t.Errorf("actions %+v, want one still active", acts)
	}
}

func TestTreatAsAppealAndWindowChecks(t *testing.T) {
	h := newHarness(t)
	var early, appeal *updateOutcome
	h.at(10*time.Hour, func() { early = h.agent("agent@desk.example", workflows.DecisionTreatAsAppeal, "") })
	h.at(80*time.Hour, func() { appeal = h.agent("agent@desk.example", workflows.DecisionTreatAsAppeal, "customer called us") })
	review := h.statusAt(81 * time.Hour)
	h.at(82*time.Hour, func() { h.agent("other@desk.example", workflows.DecisionGrantAppeal, "") })
	h.run("acct-standard", abuse.Spam, 1)

	wantRejected(t, "treat_as_appeal before enforcement", early, "needs an enforced case")
	wantAccepted(t, "treat_as_appeal", appeal)
	if *review != workflows.StatusAppealReview {
		t.Errorf("status %s, want appeal_review", *review)
	}
	if res := h.result(); res.Outcome != workflows.OutcomeReinstated {
		t.Errorf("outcome %s, want reinstated", res.Outcome)
	}
}

func TestEnforcementFailsThenRecoversExactlyOnce(t *testing.T) {
	h := newHarness(t)
	transient := &fault.Error{Kind: fault.Transient, Service: "enforcement", Op: "apply", Status: 503, Message: "upstream unavailable"}
	// The first call is applied by the API but its answer is lost; then two plain failures.
	h.enf.Fail("get", 1, transient)
	h.enf.Fail("apply", 2, transient)
	h.enf.PendingPolls = 2
	h.run("acct-standard", abuse.Spam, 1)

	if res := h.result(); res.Outcome != workflows.OutcomeEnforced {
		t.Errorf("outcome %s, want enforced", res.Outcome)
	}
	if calls := h.enf.Calls("apply"); calls < 3 {
		t.Errorf("apply called %d times, want retries (>= 3)", calls)
	}
	if n := len(h.enf.Actions()); n != 1 {
		t.Errorf("%d actions applied, want exactly 1", n)
	}
}

func TestRateLimitedTicketingRetries(t *testing.T) {
	h := newHarness(t)
	h.tickets.Fail("create", 2, &fault.Error{Kind: fault.RateLimited, Service: "zendesk", Op: "create ticket", Status: 429, RetryAfter: 30 * time.Second})
	h.at(time.Hour, func() { h.agent("agent@desk.example", workflows.DecisionWithdraw, "reporter retracted") })
	h.run("acct-standard", abuse.Spam, 1)

	if res := h.result(); res.Outcome != workflows.OutcomeWithdrawn {
		t.Errorf("outcome %s, want withdrawn", res.Outcome)
	}
	if n := h.enf.Calls("apply"); n != 0 {
		t.Errorf("%d enforcement calls, want none", n)
	}
	cases := 0
	for _, tk := range h.tickets.All() {
		if !strings.Contains(strings.Join(tk.Tags, " "), ticket.TagReporter) {
			cases++
		}
	}
	if cases != 1 || h.tickets.Calls("create") < 3 {
		t.Errorf("%d case tickets after %d create calls, want 1 after retries", cases, h.tickets.Calls("create"))
	}
}

func TestInvalidTicketingGoesToReview(t *testing.T) {
	h := newHarness(t)
	h.tickets.Fail("create", 1, &fault.Error{Kind: fault.Invalid, Service: "zendesk", Op: "create ticket", Status: 422, Message: "Requester email is invalid"})
	var v workflows.CaseView
	h.at(time.Hour, func() { v = h.view() })
	h.at(2*time.Hour, func() { h.agent("agent@desk.example", workflows.DecisionResolve, "") })
	h.run("acct-standard", abuse.Spam, 1)

	if v.Status != workflows.StatusUnderReview || !hasEvent(v, workflows.EventNote, "Requester email is invalid") {
		t.Errorf("after a refused ticket: %s, timeline %+v; want under_review with the reason", v.Status, v.Timeline)
	}
	if h.enf.Calls("apply") != 0 {
		t.Error("enforced although no notice was sent")
	}
}

func TestRequestInfoRestartsTheWait(t *testing.T) {
	h := newHarness(t)
	h.at(10*time.Hour, func() { h.reply(workflows.ReplyKindAnswer, "m1") })
	var more *updateOutcome
	h.at(12*time.Hour, func() { more = h.agent("agent@desk.example", workflows.DecisionRequestInfo, "Which form was it?") })
	var v workflows.CaseView
	h.at(13*time.Hour, func() { v = h.view() })
	// 48h more-info window from 12h: escalation at 60h, long before the original 72h.
	enforced := h.statusAt(61 * time.Hour)
	h.run("acct-standard", abuse.Spam, 1)

	wantAccepted(t, "request info", more)
	if v.Status != workflows.StatusAwaitingResponse || !v.Deadline.Equal(v.OpenedAt.Add(60*time.Hour)) {
		t.Errorf("after request_info: %s deadline %v, want awaiting_response until opened+60h (%v)", v.Status, v.Deadline, v.OpenedAt.Add(60*time.Hour))
	}
	if *enforced != workflows.StatusEnforced {
		t.Errorf("at 61h the case is %s, want enforced", *enforced)
	}
	if countContaining(h.publicComments(), "Which form was it?") != 1 {
		t.Error("the agent's question did not reach the customer")
	}
}

func TestExtendDeadline(t *testing.T) {
	h := newHarness(t)
	var ext *updateOutcome
	h.at(70*time.Hour, func() { ext = h.agent("agent@desk.example", workflows.DecisionExtendDeadline, "one more day") })
	waiting := h.statusAt(100 * time.Hour)
	enforced := h.statusAt(121 * time.Hour)
	h.run("acct-standard", abuse.Spam, 1)

	wantAccepted(t, "extend", ext)
	if *waiting != workflows.StatusAwaitingResponse || *enforced != workflows.StatusEnforced {
		t.Errorf("status at 100h=%s, 121h=%s; want awaiting then enforced (72h + 48h)", *waiting, *enforced)
	}
}

func TestLeadExtends(t *testing.T) {
	h := newHarness(t)
	var ext *updateOutcome
	h.at(74*time.Hour, func() { ext = h.approve(lead1, approval.Extend, "") })
	waiting := h.statusAt(75 * time.Hour)
	h.at(76*time.Hour, func() { h.agent("agent@desk.example", workflows.DecisionResolve, "") })
	h.run("acct-strategic", abuse.Spam, 1)

	wantAccepted(t, "extend", ext)
	if *waiting != workflows.StatusAwaitingResponse {
		t.Errorf("after the lead extended: %s, want awaiting_response", *waiting)
	}
	if countContaining(h.publicComments(), "we have extended the deadline") != 1 {
		t.Error("the customer was not told about the extension")
	}
}

func TestNoActionCategoryGoesToReview(t *testing.T) {
	h := newHarness(t)
	review := h.statusAt(7*24*time.Hour + time.Hour)
	h.at(7*24*time.Hour+2*time.Hour, func() { h.agent("agent@desk.example", workflows.DecisionResolve, "") })
	h.run("acct-standard", abuse.AuthFailure, 1)

	if *review != workflows.StatusUnderReview {
		t.Errorf("auth-failure at the deadline is %s, want under_review", *review)
	}
	if h.enf.Calls("apply") != 0 {
		t.Error("a no-action category was enforced")
	}
}

func TestRepeatOffenderStrictTrack(t *testing.T) {
	h := newHarness(t)
	var v workflows.CaseView
	h.at(time.Hour, func() { v = h.view() })
	h.run("acct-repeat", abuse.Spam, 1)

	if v.Track != policy.TrackStrict || !v.Deadline.Equal(v.OpenedAt.Add(24*time.Hour)) {
		t.Errorf("repeat offender: track %s deadline %v, want strict and 24h", v.Track, v.Deadline.Sub(v.OpenedAt))
	}
	if acts := h.enf.Actions(); len(acts) != 1 || acts[0].Level != 3 {
		t.Errorf("actions %+v, want one level-3 throttle", acts)
	}
	// The account's locale is German: the notice is too.
	if countContaining(h.publicComments(), "Meldung") == 0 {
		t.Error("no German notice for a German account")
	}
}

func TestSurgePullsDeadlineIn(t *testing.T) {
	h := newHarness(t)
	h.at(time.Hour, func() { h.signalReports(abuse.Spam, "storm", 600) })
	var v workflows.CaseView
	h.at(2*time.Hour, func() { v = h.view() })
	h.run("acct-standard", abuse.Spam, 1)

	want := v.OpenedAt.Add(time.Hour + 12*time.Hour)
	if v.Reports.Count != 601 || !v.Deadline.Equal(want) {
		t.Errorf("after 601 reports: count %d deadline %v, want 601 and %v (surge 12h)", v.Reports.Count, v.Deadline, want)
	}
	if len(v.Reports.Recent) > 10 {
		t.Errorf("the case keeps %d recent reports, want at most 10", len(v.Reports.Recent))
	}
}

func TestContinueAsNewKeepsState(t *testing.T) {
	h := newHarness(t)
	h.at(5*time.Hour, func() { h.reply(workflows.ReplyKindAutoReply, "ooo") })
	h.at(6*time.Hour, func() {
		h.env.SetCurrentHistoryLength(2500)
		h.signalReports(abuse.Spam, "more", 4)
	})
	h.run("acct-standard", abuse.Spam, 3)

	err := h.env.GetWorkflowError()
	var can *workflow.ContinueAsNewError
	if !errors.As(err, &can) {
		t.Fatalf("workflow ended with %v, want continue-as-new", err)
	}
	if can.WorkflowType.Name != workflows.CaseWorkflowType {
		t.Errorf("continued as %q", can.WorkflowType.Name)
	}
	var in workflows.CaseInput
	if err := decodePayloads(can, &in); err != nil {
		t.Fatal(err)
	}
	st := in.State
	if st == nil {
		t.Fatal("continue-as-new carries no state")
	}
	if st.Status != workflows.StatusAwaitingResponse || st.Reports.Count != 7 || st.AutoReplies != 1 || st.Ticket.IsZero() || st.Wait == nil || st.Wait.RemindersSent != 0 {
		t.Errorf("carried state: status=%s reports=%d autoreplies=%d ticket=%s wait=%+v", st.Status, st.Reports.Count, st.AutoReplies, st.Ticket.ID, st.Wait)
	}
	if len(st.Seen) != 7*8 {
		t.Errorf("dedupe ring has %d bytes, want 7 hashes", len(st.Seen))
	}

	// The next run picks up where this one stopped: redelivered reports are still duplicates
	// and the deadline is unchanged.
	h2 := newHarnessWith(t, h.tickets)
	h2.env.SetStartWorkflowOptions(testStartOptions(st.CaseID))
	var v workflows.CaseView
	h2.at(time.Minute, func() { h2.signalReports(abuse.Spam, "more", 4); v = h2.view() })
	h2.at(2*time.Minute, func() { v = h2.view() })
	h2.at(3*time.Minute, func() { h2.agent("agent@desk.example", workflows.DecisionResolve, "") })
	h2.env.ExecuteWorkflow(workflows.CaseWorkflowType, in)
	if res := h2.result(); res.Outcome != workflows.OutcomeResolved {
		t.Errorf("second run ended %s, want resolved", res.Outcome)
	}
	if tk, _ := h.tickets.Get(st.Ticket.ID); tk.Status != workflows.TicketSolved {
		t.Errorf("the case ticket is %s after the second run, want solved", tk.Status)
	}
	if v.Reports.Count != 7 || v.Runs != 2 || !v.Deadline.Equal(st.Wait.Deadline) {
		t.Errorf("second run: reports=%d runs=%d deadline=%v; want 7, 2, %v", v.Reports.Count, v.Runs, v.Deadline, st.Wait.Deadline)
	}
}

func TestReportsWhileClosingOpenANewCase(t *testing.T) {
	h := newHarness(t)
	h.at(time.Hour, func() { h.agent("agent@desk.example", workflows.DecisionResolve, "") })
	signalled := false
	h.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		if info.ActivityType.Name == workflows.ActivityCloseCase && !signalled {
			signalled = true // while the case closes its ticket
			h.signalReports(abuse.Spam, "after", 2)
		}
	})
	h.run("acct-standard", abuse.Spam, 1)

	var can *workflow.ContinueAsNewError
	if err := h.env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("ended with %v, want continue-as-new into a new case", err)
	}
	var in workflows.CaseInput
	if err := decodePayloads(can, &in); err != nil {
		t.Fatal(err)
	}
	pending := 0
	for _, b := range in.PendingBatches {
		pending += len(b.Reports) + len(b.Refs)
	}
	if in.State != nil || pending != 2 {
		t.Errorf("new case input: state=%v pending=%d; want a fresh case with the 2 reports", in.State != nil, pending)
	}
}

func TestInvalidInput(t *testing.T) {
	h := newHarness(t)
	h.env.ExecuteWorkflow(workflows.CaseWorkflowType, workflows.CaseInput{Category: abuse.Spam, Policy: h.pol.Snapshot(abuse.Spam)})
	if err := h.env.GetWorkflowError(); err == nil || !strings.Contains(err.Error(), "no account_id") {
		t.Errorf("case without account: %v", err)
	}
}

func testStartOptions(id string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue}
}

func decodePayloads(can *workflow.ContinueAsNewError, out any) error {
	return converter.GetDefaultDataConverter().FromPayloads(can.Input, out)
}

// testLogger shows warnings and errors of the workflow under test in the test log.
type testLogger struct{ t *testing.T }

func (l testLogger) Debug(string, ...any) {}
func (l testLogger) Info(string, ...any)  {}
func (l testLogger) Warn(msg string, kv ...any) {
	l.t.Helper()
	l.t.Log(append([]any{"WARN", msg}, kv...)...)
}
func (l testLogger) Error(msg string, kv ...any) {
	l.t.Helper()
	l.t.Log(append([]any{"ERROR", msg}, kv...)...)
}

// TestBigBatchCountsRefsAndShowsTheNewest: a batch bigger than the recent list travels mostly
// as refs; the case counts every report once (a repeated batch only as duplicates), knows every
// reporter and the time range, and shows the newest reports whole.
func TestBigBatchCountsRefsAndShowsTheNewest(t *testing.T) {
	h := newHarness(t)
	var v workflows.CaseView
	h.at(time.Minute, func() { h.signalReports(abuse.Spam, "r", 300) }) // the same 300 again
	h.at(2*time.Minute, func() { v = h.view() })
	h.at(3*time.Minute, func() { h.env.CancelWorkflow() })
	h.run("acct-standard", abuse.Spam, 300)

	sig := workflows.NewReportsSignal(make([]workflows.ReportSummary, 300))
	if len(sig.Refs) != 290 || len(sig.Reports) != 10 {
		t.Fatalf("a 300-report batch: %d refs and %d whole reports, want 290 and 10", len(sig.Refs), len(sig.Reports))
	}
	if v.Reports.Count != 300 || v.Reports.Duplicates != 300 {
		t.Errorf("count %d, duplicates %d; want 300 and 300", v.Reports.Count, v.Reports.Duplicates)
	}
	if len(v.Reports.Reporters) != 3 {
		t.Errorf("reporters %v, want the 3 of the batch", v.Reports.Reporters)
	}
	if len(v.Reports.Recent) != 10 || v.Reports.Recent[9].ID != "r-299" || v.Reports.Recent[0].ID != "r-290" {
		t.Errorf("recent %d, newest %+v", len(v.Reports.Recent), v.Reports.Recent)
	}
	if v.Reports.FirstSeen.IsZero() || v.Reports.LastSeen.Before(v.Reports.FirstSeen) {
		t.Errorf("seen %v – %v", v.Reports.FirstSeen, v.Reports.LastSeen)
	}
}

// TestResentReportIsNoNewIncident: reports the account's previous incident already handled
// (within the dedupe window) do not open a new one: the case closes as a duplicate without a
// ticket or a notice. One new report among them makes it a new incident.
func TestResentReportIsNoNewIncident(t *testing.T) {
	id := workflows.CaseWorkflowID("acct-standard", abuse.Spam)
	prev := func(h *harness, ids ...string) {
		// The previous incident's result carries the hashes of what it handled.
		h.incs.Closed(id, workflows.CaseResult{CaseNumber: workflows.CaseNumber(id), Outcome: workflows.OutcomeReinstated,
			ClosedAt: h.env.Now().Add(-24 * time.Hour), Seen: workflows.SeenOf(ids...)})
	}
	h := newHarness(t)
	prev(h, "r-0", "r-1", "r-2")
	h.run("acct-standard", abuse.Spam, 2) // r-0 and r-1 again
	res := h.result()
	if res.Outcome != workflows.OutcomeDuplicate || res.Status != workflows.StatusClosed {
		t.Fatalf("resent reports: %+v, want closed as a duplicate", res)
	}
	if n := len(h.tickets.All()); n != 0 {
		t.Errorf("%d tickets for a duplicate", n)
	}

	h = newHarness(t)
	prev(h, "r-0")
	var v workflows.CaseView
	h.at(time.Hour, func() { v = h.view() })
	h.at(2*time.Hour, func() { h.agent("agent@desk.example", workflows.DecisionResolve, "") })
	h.run("acct-standard", abuse.Spam, 2) // r-0 again, r-1 new
	if v.Status != workflows.StatusAwaitingResponse || v.Ticket.IsZero() || v.Reports.Count != 2 {
		t.Errorf("with a new report: %s, ticket %s, %d reports; want a noticed case with both reports", v.Status, v.Ticket.ID, v.Reports.Count)
	}

	h = newHarness(t)
	spam := h.pol.Categories[abuse.Spam]
	spam.DedupeWindow = policy.Duration(time.Hour)
	h.pol.Categories[abuse.Spam] = spam
	prev(h, "r-0", "r-1")
	h.at(2*time.Hour, func() { h.agent("agent@desk.example", workflows.DecisionResolve, "") })
	h.run("acct-standard", abuse.Spam, 2) // the previous incident closed a day ago: past the window
	if res := h.result(); res.Outcome == workflows.OutcomeDuplicate {
		t.Error("a resent report past the dedupe window was taken as a duplicate")
	}
}

// TestUncorroboratedGoesToALead: with no trusted reporter, one reporter's report does not end in
// an automatic action at the deadline: a lead is asked, saying why, and the request never times
// out into enforcement; reports from two reporters do (and the timeline says what allowed it).
func TestUncorroboratedGoesToALead(t *testing.T) {
	untrusted := func(h *harness) {
		for c, r := range h.pol.Categories {
			r.Corroboration = policy.Corroboration{Reporters: 2}
			h.pol.Categories[c] = r
		}
	}
	h := newHarness(t)
	untrusted(h)
	pending := h.statusAt(80 * time.Hour)
	var v workflows.CaseView
	h.at(80*time.Hour, func() { v = h.view() })
	h.at(30*24*time.Hour, func() { h.agent("agent@desk.example", workflows.DecisionResolve, "") })
	h.run("acct-standard", abuse.Spam, 1)
	if *pending != workflows.StatusPendingApproval || v.Approval == nil || !strings.Contains(v.Approval.Why, "uncorroborated: 1 reporter") {
		t.Errorf("one reporter at the deadline: %s %+v; want a lead asked, saying uncorroborated", *pending, v.Approval)
	}
	if n := len(h.enf.Actions()); n != 0 {
		t.Errorf("%d enforcement actions on one uncorroborated report", n)
	}

	h2 := newHarness(t)
	untrusted(h2)
	enforced := h2.statusAt(80 * time.Hour)
	h2.run("acct-standard", abuse.Spam, 2) // two reports, from fbl0@ and fbl1@
	if *enforced != workflows.StatusEnforced || len(h2.enf.Actions()) != 1 {
		t.Errorf("two reporters at the deadline: %s, %d actions; want enforced", *enforced, len(h2.enf.Actions()))
	}
	var allowed bool
	for _, e := range h2.view().Timeline {
		allowed = allowed || strings.Contains(e.Text, "automatic action allowed: 2 distinct reporters")
	}
	if !allowed {
		t.Error("the timeline does not say what allowed the automatic action")
	}
	if e := h2.view().Enforcement; e == nil || !strings.Contains(e.AllowedBy, "the desk alone: 2 distinct reporters") {
		t.Errorf("the enforcement does not keep what allowed it: %+v", e)
	}
	var inLedger bool
	for _, r := range h2.ledger.Rows() {
		inLedger = inLedger || (r.Event.Kind == workflows.LedgerEnforced && strings.Contains(r.Event.Text, "2 distinct reporters"))
	}
	if !inLedger {
		t.Error("the ledger's enforcement does not say what allowed it")
	}
}

// TestFirstEnforcementGoesToALead: with approval.first_enforcement, the first action against an
// account with no prior violation waits for a lead (saying why, never timing out into
// enforcement), however corroborated; an account enforced before is acted on at the deadline.
func TestFirstEnforcementGoesToALead(t *testing.T) {
	first := func(h *harness) {
		for c, r := range h.pol.Categories {
			r.Approval.FirstEnforcement = true
			h.pol.Categories[c] = r
		}
	}
	h := newHarness(t)
	first(h)
	pending := h.statusAt(80 * time.Hour)
	var v workflows.CaseView
	h.at(80*time.Hour, func() { v = h.view() })
	h.at(30*24*time.Hour, func() { h.agent("agent@desk.example", workflows.DecisionResolve, "") })
	h.run("acct-standard", abuse.Spam, 2)
	if *pending != workflows.StatusPendingApproval || v.Approval == nil || !strings.Contains(v.Approval.Why, "first enforcement") {
		t.Errorf("a first enforcement at the deadline: %s %+v; want a lead asked, saying it is the first", *pending, v.Approval)
	}
	if n := len(h.enf.Actions()); n != 0 {
		t.Errorf("%d enforcement actions on an account never enforced before, with no lead's approval", n)
	}

	h2 := newHarness(t)
	first(h2)
	enforced := h2.statusAt(80 * time.Hour)
	h2.run("acct-repeat", abuse.Spam, 2) // three prior violations
	if *enforced != workflows.StatusEnforced || len(h2.enf.Actions()) != 1 {
		t.Errorf("an account enforced before, at the deadline: %s, %d actions; want enforced", *enforced, len(h2.enf.Actions()))
	}
}

// TestSameEvidenceUnderANewIDIsOneReport: a reporter that sends the same evidence again with a
// new report ID (the content key intake gives it) sends one report, in a batch, as a ref of a big
// batch, or after; other evidence from the same reporter counts.
func TestSameEvidenceUnderANewIDIsOneReport(t *testing.T) {
	h := newHarness(t)
	rep := func(id, content string) workflows.ReportSummary {
		return workflows.ReportSummary{ID: id, Format: "arf", Category: abuse.Spam, Reporter: "fbl@isp.example", ReceivedAt: h.env.Now(),
			Subjects: abuse.ParseSubjects("ip:192.0.2.10"), Summary: "spam complaint", Content: content}
	}
	h.at(time.Hour, func() {
		h.env.SignalWorkflow(workflows.SignalReports, workflows.NewReportsSignal([]workflows.ReportSummary{rep("again-1", "c-1"), rep("again-2", "c-1")}))
	})
	h.at(2*time.Hour, func() {
		var big []workflows.ReportSummary
		for i := range 12 { // more than a batch shows: the first come as refs
			big = append(big, rep(fmt.Sprintf("big-%d", i), "c-1"))
		}
		big = append(big, rep("other-evidence", "c-2"))
		h.env.SignalWorkflow(workflows.SignalReports, workflows.NewReportsSignal(big))
	})
	var v workflows.CaseView
	h.at(3*time.Hour, func() { v = h.view() })
	h.at(4*time.Hour, func() { h.agent("agent@desk.example", workflows.DecisionResolve, "") })
	h.run("acct-standard", abuse.Spam, 1)
	// The run's own report (r-0), c-1 once, c-2 once; every other c-1 a duplicate.
	if v.Reports.Count != 3 || v.Reports.Duplicates != 13 {
		t.Errorf("count %d, duplicates %d; want 3 reports (the first, c-1, c-2) and 13 duplicates", v.Reports.Count, v.Reports.Duplicates)
	}
}

// TestBlocklistCheckCorroborates: one reporter's report, no trusted reporter, is corroborated at
// the deadline by a check that confirms it now (the reported address on the policy's
// blocklist), and the timeline says so; not listed, a lead decides.
func TestBlocklistCheckCorroborates(t *testing.T) {
	setup := func(listed bool) (*harness, *workflows.Status, *workflows.CaseView) {
		h := newHarness(t)
		spam := h.pol.Categories[abuse.Spam]
		spam.Corroboration = policy.Corroboration{Reporters: 2}
		spam.Remediation.Checks, spam.Remediation.Blocklists = []string{policy.CheckBlocklist, policy.CheckFeed}, []string{"dnsbl.test"}
		h.pol.Categories[abuse.Spam] = spam
		if listed {
			h.probes.Set("192.0.2.10 dnsbl.test", workflows.VerdictStill, "listed (127.0.0.2)")
		}
		st := h.statusAt(80 * time.Hour)
		var v workflows.CaseView
		h.at(80*time.Hour, func() { v = h.view() })
		h.at(30*24*time.Hour, func() { h.agent("agent@desk.example", workflows.DecisionResolve, "") })
		return h, st, &v
	}
	h, st, v := setup(true)
	h.run("acct-standard", abuse.Spam, 1)
	if *st != workflows.StatusEnforced || !strings.Contains(timelineOf(*v), "automatic action allowed: a check confirms it now: 192.0.2.10") {
		t.Errorf("listed: %s; want enforced, the timeline saying the check allowed it:\n%s", *st, timelineOf(*v))
	}
	h2, st2, v2 := setup(false)
	h2.run("acct-standard", abuse.Spam, 1)
	if *st2 != workflows.StatusPendingApproval || v2.Approval == nil || !strings.Contains(v2.Approval.Why, "uncorroborated") {
		t.Errorf("not listed: %s %+v; want a lead asked", *st2, v2.Approval)
	}
}

// TestReviewHasADueTime: once a case waits for an agent, the agent's answer is due within the
// policy's review_sla, and the case says why it waits — the customer answered, a lead denied
// the action; an agent's decision ends the wait.
func TestReviewHasADueTime(t *testing.T) {
	for _, tc := range []struct {
		name, account string
		at            time.Duration
		act           func(h *harness)
		why           string
	}{
		{"the customer answers", "acct-standard", 2 * time.Hour, func(h *harness) { h.reply(workflows.ReplyKindAnswer, "a-1") }, "the customer answered"},
		{"a lead denies", "acct-strategic", 75 * time.Hour, func(h *harness) { h.approve(lead1, approval.Deny, "they are migrating") }, "a lead denied the action"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			r := h.pol.Categories[abuse.Spam]
			r.ReviewSLA = policy.Duration(8 * time.Hour)
			h.pol.Categories[abuse.Spam] = r
			start := h.env.Now()
			var v, after workflows.CaseView
			h.at(tc.at, func() { tc.act(h) })
			h.at(tc.at+time.Hour, func() { v = h.view() })
			h.at(tc.at+2*time.Hour, func() { h.agent("agent@desk.example", workflows.DecisionResolve, "settled") })
			h.at(tc.at+3*time.Hour, func() { after = h.view() })
			h.run(tc.account, abuse.Spam, 1)
			want := start.Add(tc.at + 8*time.Hour)
			if v.Status != workflows.StatusUnderReview || v.Review == nil || v.Review.Why != tc.why || !v.Review.Due.Equal(want) ||
				!v.Deadline.Equal(want) || v.DeadlineKind != "agent's review" {
				t.Fatalf("under review: %s %+v, deadline %s (%s); want %q due %s", v.Status, v.Review, v.Deadline, v.DeadlineKind, tc.why, want)
			}
			if after.Review != nil {
				t.Errorf("after the agent's decision the case still waits for review: %+v", after.Review)
			}
		})
	}
}

// TestCarrierDeadlineComesFirst: a carrier's notice that states a deadline earlier than the
// policy's window sets the customer's deadline (the notice says it and the wait ends then); a
// later one leaves the policy's window.
func TestCarrierDeadlineComesFirst(t *testing.T) {
	for _, tc := range []struct {
		name       string
		stated     time.Duration
		want, more time.Duration // the notice's deadline; after more information is asked at 2 h
	}{{"earlier", 30 * time.Hour, 30 * time.Hour, 30 * time.Hour}, {"later", 100 * time.Hour, 48 * time.Hour, 50 * time.Hour}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			var v, asked workflows.CaseView
			h.at(time.Hour, func() { v = h.view() })
			h.at(2*time.Hour, func() { h.agent("agent@desk.example", workflows.DecisionRequestInfo, "show the opt-in records") })
			h.at(3*time.Hour, func() { asked = h.view() })
			h.at(200*time.Hour, func() { h.agent("agent@desk.example", workflows.DecisionResolve, "") })
			h.caseID = workflows.CaseWorkflowID("acct-standard", abuse.CarrierNotice)
			h.env.SetStartWorkflowOptions(testStartOptions(h.caseID))
			h.at(0, func() {
				now := h.env.Now()
				h.evidence.Put(fmt.Sprintf("%064x", 1), []byte("raw report"))
				h.env.SignalWorkflow(workflows.SignalReports, workflows.NewReportsSignal([]workflows.ReportSummary{{
					ID: "carrier-1", Format: "freeform", Category: abuse.CarrierNotice, Reporter: "compliance@carrier.example", ReceivedAt: now,
					Subjects: abuse.ParseSubjects("phone:+13125550177"), Evidence: fmt.Sprintf("%064x", 1), Summary: "campaign audit",
					Deadline: now.Add(tc.stated),
				}}))
			})
			h.env.ExecuteWorkflow(workflows.CaseWorkflowType, workflows.CaseInput{AccountID: "acct-standard", Category: abuse.CarrierNotice,
				Policy: h.pol.Snapshot(abuse.CarrierNotice)})

			if got := v.Deadline.Sub(v.OpenedAt); got != tc.want {
				t.Errorf("deadline %v after opening, want %v", got, tc.want)
			}
			if got := asked.Deadline.Sub(asked.OpenedAt); got != tc.more {
				t.Errorf("after more information was asked: deadline %v after opening, want %v", got, tc.more)
			}
			noted := strings.Contains(timelineOf(v), "the reporter's own deadline comes first")
			if noted != (tc.stated < 48*time.Hour) {
				t.Errorf("timeline notes the reporter's deadline: %v\n%s", noted, timelineOf(v))
			}
			if tc.stated < 48*time.Hour && countContaining(h.publicComments(), "(30 hours from now)") == 0 {
				t.Errorf("the notice does not give the carrier's window: %v", h.publicComments())
			}
		})
	}
}

// TestNewAccountIsNoted: a case of an account opened two days before its first report says so
// on its timeline, and the ledger learns when the account was opened; an older account's does
// not.
func TestNewAccountIsNoted(t *testing.T) {
	for _, tc := range []struct {
		account string
		new     bool
	}{{"acct-new", true}, {"acct-standard", false}} {
		h := newHarness(t)
		var v workflows.CaseView
		h.at(time.Hour, func() { v = h.view() })
		h.at(2*time.Hour, func() { h.agent("agent@desk.example", workflows.DecisionResolve, "") })
		h.run(tc.account, abuse.Spam, 1)
		noted := strings.Contains(timelineOf(v), "a new account: opened ")
		if noted != tc.new || v.Account.NewAt(v.OpenedAt) != tc.new {
			t.Errorf("%s: noted %v, new %v; want %v\n%s", tc.account, noted, v.Account.NewAt(v.OpenedAt), tc.new, timelineOf(v))
		}
		if rows := h.ledger.Rows(); tc.new && (len(rows) == 0 || rows[len(rows)-1].Case.AccountCreated.IsZero()) {
			t.Errorf("%s: the ledger does not know when the account was opened", tc.account)
		}
	}
}
