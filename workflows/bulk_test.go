package workflows_test

import (
	"strings"
	"testing"
	"time"

	"abusedesk/activities"
	"abusedesk/domain/abuse"
	"abusedesk/domain/approval"
	"abusedesk/domain/fault"
	"abusedesk/templates"
	"abusedesk/workflows"
)

// bulkAccounts are the linked accounts of the tests' bulk actions.
var bulkAccounts = []string{"acct-repeat", "acct-standard", "acct-strategic"}

// runBulk runs one bulk action, proposed by lead1, in the harness.
func (h *harness) runBulk(number string) {
	r, err := templates.New()
	if err != nil {
		h.t.Fatal(err)
	}
	(&activities.BulkActivities{Board: h.appr, Ledger: h.ledger, Tickets: h.tickets, Accounts: h.accounts, Templates: r, DashboardURL: "https://desk.example"}).Register(h.env)
	h.env.SetStartWorkflowOptions(testStartOptions(workflows.BulkWorkflowID(number)))
	h.env.ExecuteWorkflow(workflows.BulkActionWorkflowType, workflows.BulkInput{
		Number: number, Proposer: strings.ToLower(lead1) + "@desk.example", Accounts: bulkAccounts,
		Links: []workflows.BulkLink{
			{Kind: "domain", Value: "login-bank.example", Accounts: bulkAccounts, Cases: map[string][]string{"acct-repeat": {"TS-R1"}, "acct-standard": {"TS-S1"}, "acct-strategic": {"TS-B1"}}},
			{Kind: "host", Value: "kit.login-bank.example", Accounts: []string{"acct-standard", "acct-strategic"}, Cases: map[string][]string{"acct-standard": {"TS-S2"}, "acct-strategic": {"TS-B1"}}},
		},
		Action: abuse.ActionSuspendSending, Reason: "one phishing kit behind Example Shop, Big Bank and Again Ltd", Approvers: h.pol.Approvers,
		Reasons: h.pol.Transparency.ReasonsFor(""),
	})
}

func (h *harness) bulkState() workflows.BulkState {
	h.t.Helper()
	v, err := h.env.QueryWorkflow(workflows.QueryBulk)
	if err != nil {
		h.t.Fatal(err)
	}
	var st workflows.BulkState
	if err := v.Get(&st); err != nil {
		h.t.Fatal(err)
	}
	return st
}

// TestBulkActionNeedsASecondLeadAndUndoesAsOne: the proposer cannot approve their own bulk
// action, nor can anyone the desk did not resolve as a lead; nothing is done before another
// lead approves; then every account gets its own action (its own key) and the ledger and the
// message say so; one click undoes them all.
func TestBulkActionNeedsASecondLeadAndUndoesAsOne(t *testing.T) {
	h := newHarness(t)
	var own, forged, second, undo, again *updateOutcome
	h.at(time.Minute, func() {
		own = h.approve(lead1, approval.Approve, "")
		forged = h.update(workflows.UpdateApproval, approval.Decision{Decision: approval.Approve, UserID: "UFORGED", UserEmail: "someone@desk.example"})
	})
	h.at(2*time.Minute, func() {
		if n := len(h.enf.Actions()); n != 0 {
			t.Errorf("%d actions applied before a second lead approved", n)
		}
		if p, ok := h.appr.BulkPost("bulk-B-1"); !ok || p.State != approval.BulkProposed || p.URL != "https://desk.example/bulk/B-1" {
			t.Errorf("the leads' request: %+v (posted: %v)", p, ok)
		}
		second = h.approve(lead2, approval.Approve, "")
	})
	h.at(time.Hour, func() {
		st := h.bulkState()
		if st.Status != approval.BulkApplied || st.Applied() != 3 || st.DecidedBy != lead2 || st.UndoUntil.IsZero() {
			t.Errorf("after approval: %s, %d applied, decided by %q, undo until %v", st.Status, st.Applied(), st.DecidedBy, st.UndoUntil)
		}
		for _, acct := range bulkAccounts {
			act := h.enf.Active(acct)
			if len(act) != 1 || act[0].Key != "bulk/B-1/"+acct || act[0].Type != abuse.ActionSuspendSending ||
				!strings.Contains(act[0].Reason, "approved by ulead2@desk.example") || !strings.Contains(act[0].Reason, "login-bank.example") {
				t.Errorf("%s: actions in force %+v", acct, act)
			}
			// The action's reason is the account's own: the platform may show it to the customer.
			for _, other := range bulkAccounts {
				if len(act) == 1 && other != acct && strings.Contains(act[0].Reason, other) {
					t.Errorf("%s's action names %s: %q", acct, other, act[0].Reason)
				}
			}
		}
		if p, _ := h.appr.BulkPost("bulk-B-1"); !p.Undo || p.State != approval.BulkApplied {
			t.Errorf("the message after approval offers no undo: %+v", p)
		}
		if kept, _ := h.ledger.Bulk("B-1"); kept.Status != approval.BulkApplied || len(kept.Results) != 3 {
			t.Errorf("the ledger keeps %s with %d results", kept.Status, len(kept.Results))
		}
		undo = h.update(workflows.UpdateApproval, approval.Decision{Decision: approval.Undo, UserID: lead1, UserName: "lead " + lead1, UserEmail: "ulead1@desk.example"})
		again = h.update(workflows.UpdateApproval, approval.Decision{Decision: approval.Undo, UserID: lead2, UserEmail: "ulead2@desk.example"})
	})
	h.runBulk("B-1")
	if !h.env.IsWorkflowCompleted() {
		t.Fatal("the bulk action did not finish after its undo")
	}
	if own == nil || own.rejected == nil || !strings.Contains(own.rejected.Error(), "another lead approves") {
		t.Errorf("the proposer's own approval: %+v", own)
	}
	if forged == nil || forged.rejected == nil || !strings.Contains(forged.rejected.Error(), "not one of the leads") {
		t.Errorf("an approval from someone the desk did not resolve: %+v", forged)
	}
	if second == nil || second.rejected != nil || second.err != nil {
		t.Errorf("the second lead's approval: %+v", second)
	}
	if undo == nil || undo.rejected != nil || undo.err != nil {
		t.Errorf("undo: %+v", undo)
	}
	if again == nil || (again.rejected == nil && again.err == nil) {
		t.Errorf("a second undo was taken: %+v", again)
	}
	var st workflows.BulkState
	if err := h.env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	for _, r := range st.Results {
		if r.LiftedAt.IsZero() {
			t.Errorf("%s not lifted: %+v", r.Account, r)
		}
	}
	for _, a := range h.enf.Actions() {
		if a.State != abuse.StateLifted || a.LiftKey != a.Key+"/undo" {
			t.Errorf("action %s on %s: %s, lift key %q", a.ID, a.AccountID, a.State, a.LiftKey)
		}
	}
	if st.Status != approval.BulkUndone || st.UndoneBy != "ulead1@desk.example" {
		t.Errorf("result: %s, undone by %q", st.Status, st.UndoneBy)
	}
	// Each customer was told on a ticket of their own, with a whole statement of reasons naming
	// their own facts alone — no other account, no other customer, not the lead's words — and
	// told again once it was lifted.
	names := map[string]string{"acct-repeat": "Again Ltd", "acct-standard": "Example Shop", "acct-strategic": "Big Bank"}
	for _, r := range st.Results {
		if r.Ticket.IsZero() || r.NoticeError != "" {
			t.Errorf("%s: not told (%q)", r.Account, r.NoticeError)
		}
	}
	told := 0
	for _, tk := range h.tickets.All() {
		if !strings.HasPrefix(tk.ExternalID, "abusedesk-bulk:B-1:") {
			continue
		}
		told++
		acct := strings.TrimPrefix(tk.ExternalID, "abusedesk-bulk:B-1:")
		if len(tk.Comments) != 2 || !tk.Comments[0].Public || !tk.Comments[1].Public || tk.Status != "solved" {
			t.Errorf("%s's ticket: %d comments, status %s; want the notice and the lifting, solved", acct, len(tk.Comments), tk.Status)
			continue
		}
		notice := tk.Comments[0].Body
		wants := []string{"Measure: outbound email sending suspended on your account " + acct, "Facts:", "login-bank.example",
			"Automated means:", "Ground (our terms): our Acceptable Use Policy", "How to appeal:", "Other redress:"}
		lifted := "we have lifted the action"
		if acct == "acct-repeat" { // the account's locale is German
			wants = []string{"Maßnahme: outbound email sending suspended für Ihr Konto acct-repeat", "Sachverhalt:", "login-bank.example",
				"Automatisierte Mittel:", "Grundlage (unsere Bedingungen): our Acceptable Use Policy", "Widerspruch:", "Weitere Rechtsbehelfe:"}
			lifted = "wir haben die Maßnahme"
		}
		for _, want := range wants {
			if !strings.Contains(notice, want) {
				t.Errorf("%s's notice lacks %q:\n%s", acct, want, notice)
			}
		}
		for other, name := range names {
			if other != acct && (strings.Contains(notice, other) || strings.Contains(notice, name)) {
				t.Errorf("%s's notice names another account (%s, %s):\n%s", acct, other, name, notice)
			}
		}
		if strings.Contains(notice, "phishing kit behind") {
			t.Errorf("%s's notice quotes the lead's own words:\n%s", acct, notice)
		}
		if acct == "acct-repeat" && (strings.Contains(notice, "kit.login-bank.example") || !strings.Contains(notice, "TS-R1") || strings.Contains(notice, "TS-S1")) {
			t.Errorf("acct-repeat's notice names another account's facts:\n%s", notice)
		}
		if !strings.Contains(tk.Comments[1].Body, lifted) {
			t.Errorf("%s's lifting: %q", acct, tk.Comments[1].Body)
		}
	}
	if told != 3 {
		t.Errorf("%d customers told, want 3", told)
	}
	if kept, _ := h.ledger.Bulk("B-1"); kept.Status != approval.BulkUndone {
		t.Errorf("the ledger keeps %s", kept.Status)
	}
	if p, _ := h.appr.BulkPost("bulk-B-1"); p.Undo || p.State != approval.BulkUndone || !strings.Contains(p.Outcome, "3 of 3 actions lifted") {
		t.Errorf("the message after the undo: %+v", p)
	}
}

// TestBulkActionDeniedOrLapsedDoesNothing: a denial needs a reason and leaves every account
// alone; a proposal nobody decides lapses with nothing done.
func TestBulkActionDeniedOrLapsedDoesNothing(t *testing.T) {
	t.Run("denied", func(t *testing.T) {
		h := newHarness(t)
		var bare, deny *updateOutcome
		h.at(time.Minute, func() {
			bare = h.approve(lead2, approval.Deny, " ")
			deny = h.approve(lead2, approval.Deny, "the accounts are a reseller's customers")
		})
		h.runBulk("B-2")
		if bare == nil || bare.rejected == nil || deny == nil || deny.rejected != nil {
			t.Fatalf("a denial without a reason: %+v; with one: %+v", bare, deny)
		}
		var st workflows.BulkState
		if err := h.env.GetWorkflowResult(&st); err != nil {
			t.Fatal(err)
		}
		if st.Status != approval.BulkDenied || len(h.enf.Actions()) != 0 || st.Note != "the accounts are a reseller's customers" {
			t.Errorf("%s, %d actions, note %q", st.Status, len(h.enf.Actions()), st.Note)
		}
	})
	t.Run("lapsed", func(t *testing.T) {
		h := newHarness(t)
		h.runBulk("B-3")
		var st workflows.BulkState
		if err := h.env.GetWorkflowResult(&st); err != nil {
			t.Fatal(err)
		}
		if st.Status != approval.BulkExpired || len(h.enf.Actions()) != 0 {
			t.Errorf("%s, %d actions", st.Status, len(h.enf.Actions()))
		}
		if p, _ := h.appr.BulkPost("bulk-B-3"); p.State != approval.BulkExpired || !strings.Contains(p.Outcome, "nothing was done") {
			t.Errorf("the message: %+v", p)
		}
	})
}

// TestBulkActionRecordsAnAccountItCouldNotReach: one account's action fails (the enforcement
// API refuses it every try); the others are applied, the failure is recorded for a person,
// and the undo lifts what was applied.
func TestBulkActionRecordsAnAccountItCouldNotReach(t *testing.T) {
	h := newHarness(t)
	h.enf.Fail("apply", 5, &fault.Error{Kind: fault.Transient, Service: "memfake", Op: "apply", Message: "enforcement API down"})
	h.at(time.Minute, func() { h.approve(lead2, approval.Approve, "") })
	h.at(time.Hour, func() {
		h.update(workflows.UpdateApproval, approval.Decision{Decision: approval.Undo, UserID: lead2, UserEmail: "ulead2@desk.example"})
	})
	h.runBulk("B-4")
	var st workflows.BulkState
	if err := h.env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	if len(st.Results) != 3 || st.Results[0].Error == "" || st.Results[0].ActionID != "" {
		t.Fatalf("results %+v, want the first account's failure recorded", st.Results)
	}
	lifted := 0
	for _, a := range h.enf.Actions() {
		if a.AccountID == bulkAccounts[0] {
			t.Errorf("an action on %s, which failed: %+v", a.AccountID, a)
		}
		if a.State == abuse.StateLifted {
			lifted++
		}
	}
	if lifted != 2 || st.Status != approval.BulkUndone {
		t.Errorf("%d lifted, %s", lifted, st.Status)
	}
}

// TestBulkActionUndoWindowCloses: nobody undoes an applied action: after 90 days the Undo button
// goes and the actions stay, each to be lifted as any other.
func TestBulkActionUndoWindowCloses(t *testing.T) {
	h := newHarness(t)
	h.at(time.Minute, func() { h.approve(lead2, approval.Approve, "") })
	h.runBulk("B-5")
	var st workflows.BulkState
	if err := h.env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	if st.Status != approval.BulkApplied || !st.UndoUntil.IsZero() || st.Applied() != 3 {
		t.Errorf("after the undo window: %s, undo until %v, %d applied", st.Status, st.UndoUntil, st.Applied())
	}
	if d := h.env.Now().Sub(st.DecidedAt); d < 90*24*time.Hour {
		t.Errorf("the action finished %s after its approval, before the undo window closed", d)
	}
	if p, _ := h.appr.BulkPost("bulk-B-5"); p.Undo {
		t.Error("the message still offers Undo after the window")
	}
	for _, acct := range bulkAccounts {
		if len(h.enf.Active(acct)) != 1 {
			t.Errorf("%s: %d actions in force, want its one", acct, len(h.enf.Active(acct)))
		}
	}
}
