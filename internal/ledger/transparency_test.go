package ledger_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"abusedesk/internal/abuse"
	"abusedesk/internal/ledger"
	"abusedesk/internal/policy"
	"abusedesk/workflows"
)

// TestTransparencyFromACraftedLedger: the DSA figures of the crafted ledger and one case the
// policy enforced on its own, worked out by hand.
func TestTransparencyFromACraftedLedger(t *testing.T) {
	eachDatabase(t, func(t *testing.T, s *ledger.Store) {
		crafted(t, s)
		h := time.Hour
		f := newStory("TS-F", "acct-6", abuse.Spam, t0.Add(48*h)).
			at(0, workflows.LedgerEvent{Kind: workflows.LedgerReports, Count: 4, Reporters: []string{"reports@phishtank.example", "fbl@isp.example"}, PerReporter: []int{3, 1}}).
			at(h, workflows.LedgerEvent{Kind: workflows.LedgerNoticed}).
			at(72*h, workflows.LedgerEvent{Kind: workflows.LedgerEnforced, Decision: "suspend_account"}).
			at(80*h, workflows.LedgerEvent{Kind: workflows.LedgerClosed, Outcome: workflows.OutcomeEnforced})
		if err := s.Record(context.Background(), workflows.RecordEventsInput{Case: f.c, Events: f.events}); err != nil {
			t.Fatal(err)
		}
		flagging := policy.Transparency{TrustedFlaggers: []string{"@phishtank.example"}, LawCategories: []abuse.Category{abuse.Phishing}}
		r, err := s.Transparency(context.Background(), period.From, period.To, flagging)
		if err != nil {
			t.Fatal(err)
		}
		ints := map[string][2]int{
			"notices received": {r.Notices.Received, 11}, "spam notices": {r.Notices.ByCategory["spam"], 9}, "phishing notices": {r.Notices.ByCategory["phishing"], 2},
			"from trusted flaggers": {r.Notices.FromTrustedFlaggers, 5}, "trusted spam": {r.Notices.TrustedByCategory["spam"], 3}, "trusted phishing": {r.Notices.TrustedByCategory["phishing"], 2},
			"processed automatically": {r.Notices.ProcessedAutomatically, 4},
			"actions":                 {r.Actions.Taken, 2}, "on the law": {r.Actions.ByGround["law"], 1}, "on the terms": {r.Actions.ByGround["terms"], 1},
			"throttles": {r.Actions.ByType["throttle"], 1}, "automated actions": {r.Actions.Automated, 1},
			"complaints": {r.Complaints.Received, 1}, "against a throttle": {r.Complaints.ByBasis["throttle"], 1}, "decided": {r.Complaints.Decided, 1},
			"granted": {r.Complaints.Decisions[workflows.AppealGranted], 1}, "reversed": {r.Complaints.Reversed, 1}, "refused late": {r.Complaints.RefusedLate, 0},
		}
		for name, v := range ints {
			if v[0] != v[1] {
				t.Errorf("%s = %d, want %d", name, v[0], v[1])
			}
		}
		if got := r.Actions.MedianTimeToAction.String(); got != "72h" {
			t.Errorf("median time to action %s, want 72h", got)
		}
		if got := r.Complaints.MedianDecisionTime.String(); got != "10h" {
			t.Errorf("median decision time %s, want 10h", got)
		}
		var b bytes.Buffer
		if err := r.WriteCSV(&b); err != nil {
			t.Fatal(err)
		}
		for _, row := range []string{"section,measure,group,value", "notices,received,all,11", "notices,received,spam,9", "actions,taken_by_ground,law,1",
			"actions,median_time_to_action,all,72h", "complaints,reversed,all,1"} {
			if !strings.Contains(b.String(), row+"\n") {
				t.Errorf("the CSV lacks the row %q:\n%s", row, b.String())
			}
		}
	})
}
