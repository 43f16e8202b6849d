package workflows_test

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/workflow"

	"abusedesk/domain/abuse"
	"abusedesk/workflows"
)

// TestLedgerRecordsTheLifecycle: a case that is noticed, enforced, appealed and reinstated
// leaves each of those events in the ledger once, in order, with who decided.
func TestLedgerRecordsTheLifecycle(t *testing.T) {
	h := newHarness(t)
	h.at(73*time.Hour, func() { h.reply(workflows.ReplyKindAnswer, "appeal-1") })
	h.at(80*time.Hour, func() {
		h.agent("reviewer@desk.example", workflows.DecisionGrantAppeal, "cleaned up, confirmed")
	})
	h.run("acct-standard", abuse.Spam, 3)
	res := h.result()

	got := h.ledger.Kinds()
	t.Logf("ledger: %s", strings.Join(got, " "))
	want := []string{workflows.LedgerOpened, workflows.LedgerReports, workflows.LedgerNoticed}
	for _, k := range want {
		if c := count(got, k); c != 1 {
			t.Errorf("%d %s event(s), want 1", c, k)
		}
	}
	for _, k := range []string{workflows.LedgerEscalated, workflows.LedgerEnforced, workflows.LedgerAppealed, workflows.LedgerAppealDecided, workflows.LedgerLifted, workflows.LedgerClosed} {
		if c := count(got, k); c != 1 {
			t.Errorf("%d %s event(s), want 1", c, k)
		}
	}
	if !inOrder(got, workflows.LedgerOpened, workflows.LedgerNoticed, workflows.LedgerEscalated, workflows.LedgerEnforced, workflows.LedgerAppealed, workflows.LedgerAppealDecided, workflows.LedgerLifted, workflows.LedgerClosed) {
		t.Errorf("events out of order: %v", got)
	}
	keys := map[string]bool{}
	for _, r := range h.ledger.Rows() {
		if keys[r.Event.Key] {
			t.Errorf("key %s twice", r.Event.Key)
		}
		keys[r.Event.Key] = true
		if r.Case.Number != res.CaseNumber || r.Case.Account != "acct-standard" || r.Case.Category != abuse.Spam || r.Case.Track != abuse.TrackAbuse {
			t.Errorf("event %s has case %+v", r.Event.Kind, r.Case)
		}
		switch r.Event.Kind {
		case workflows.LedgerReports:
			if r.Event.Count != 3 || len(r.Event.Reporters) != 3 {
				t.Errorf("reports event counts %d from %v, want 3 from 3 reporters", r.Event.Count, r.Event.Reporters)
			}
		case workflows.LedgerAppealDecided:
			if r.Event.Decision != workflows.AppealGranted || r.Event.Actor != "reviewer@desk.example" {
				t.Errorf("appeal decided %q by %q", r.Event.Decision, r.Event.Actor)
			}
		case workflows.LedgerClosed:
			if r.Event.Outcome != workflows.OutcomeReinstated || r.Case.Tier == "" || r.Case.Rules == "" {
				t.Errorf("closed with %q, case tier %q rules %q", r.Event.Outcome, r.Case.Tier, r.Case.Rules)
			}
		}
	}
}

// TestLedgerOutageDelaysNothingAndLosesNothing: while the ledger fails, the case keeps its
// deadlines; once it is back every event is kept, once.
func TestLedgerOutageDelaysNothingAndLosesNothing(t *testing.T) {
	h := newHarness(t)
	h.ledger.Fail = 5
	h.at(2*time.Hour, func() { h.agent("agent@desk.example", workflows.DecisionResolve, "") })
	h.run("acct-standard", abuse.Spam, 2)
	if res := h.result(); res.Outcome != workflows.OutcomeResolved {
		t.Fatalf("outcome %s", res.Outcome)
	}
	got := h.ledger.Kinds()
	want := []string{workflows.LedgerOpened, workflows.LedgerReports, workflows.LedgerNoticed, workflows.LedgerAgentDecision, workflows.LedgerClosed}
	if !slices.Equal(got, want) {
		t.Errorf("ledger %v, want %v", got, want)
	}
	if h.ledger.Sends <= 5 {
		t.Errorf("%d sends: the failures were not retried", h.ledger.Sends)
	}
}

// TestLedgerAcrossContinueAsNew: a case's events keep their numbers across runs; a case that
// started before the ledger records what its state shows, once, when it first records.
func TestLedgerAcrossContinueAsNew(t *testing.T) {
	h := newHarness(t)
	h.at(6*time.Hour, func() {
		h.env.SetCurrentHistoryLength(2500)
		h.signalReports(abuse.Spam, "more", 4)
	})
	h.run("acct-standard", abuse.Spam, 3)
	var can *workflow.ContinueAsNewError
	if err := h.env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("workflow ended with %v, want continue-as-new", err)
	}
	var in workflows.CaseInput
	if err := decodePayloads(can, &in); err != nil {
		t.Fatal(err)
	}
	first := len(h.ledger.Rows())
	if in.State.LedgerSeq != first {
		t.Errorf("carried ledger sequence %d, want %d (the events of the first run)", in.State.LedgerSeq, first)
	}

	for _, old := range []bool{false, true} {
		st := *in.State
		if old {
			st.LedgerSeq = 0 // as a case from before the ledger carries it
		}
		h2 := newHarnessWith(t, h.tickets, h.ledger)
		h2.env.SetStartWorkflowOptions(testStartOptions(st.CaseID))
		h2.at(time.Minute, func() { h2.agent("agent@desk.example", workflows.DecisionResolve, "") })
		h2.env.ExecuteWorkflow(workflows.CaseWorkflowType, workflows.CaseInput{AccountID: in.AccountID, Category: in.Category, Policy: in.Policy, State: &st})
		h2.result()
	}
	var rebuilt, live []string
	for _, r := range h.ledger.Rows() {
		if strings.HasPrefix(r.Event.Key, "state-") {
			rebuilt = append(rebuilt, r.Event.Kind)
		} else if n, _ := strconv.Atoi(r.Event.Key); n > first {
			live = append(live, r.Event.Kind)
		}
	}
	// The first second run adds its decision and close; the second, the same case seen as one
	// from before the ledger, adds the rebuilt past (opened, reports, notice) and nothing live
	// twice (its decision and close have the same numbers as the first's).
	if want := []string{workflows.LedgerAgentDecision, workflows.LedgerClosed}; !slices.Equal(live, want) {
		t.Errorf("live events after the first run %v, want %v", live, want)
	}
	if want := []string{workflows.LedgerOpened, workflows.LedgerReports, workflows.LedgerNoticed}; !slices.Equal(rebuilt, want) {
		t.Errorf("rebuilt events %v, want %v", rebuilt, want)
	}
}

func count(s []string, v string) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}

// inOrder says whether want appear in s in this order (others may come between).
func inOrder(s []string, want ...string) bool {
	i := 0
	for _, x := range s {
		if i < len(want) && x == want[i] {
			i++
		}
	}
	return i == len(want)
}
