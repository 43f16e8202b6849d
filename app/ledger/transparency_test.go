package ledger_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"abusedesk/app/ledger"
	"abusedesk/domain/abuse"
	"abusedesk/domain/policy"
	"abusedesk/workflows"
)

// TestTransparencyFromACraftedLedger: the DSA figures of the crafted ledger, one case the
// policy enforced on its own, one the desk found itself (enforced, then reversed on appeal),
// three orders from authorities and the notifications intake kept, worked out by hand — in the
// desk's CSV and, section by section, in the layout of Implementing Regulation (EU) 2024/2835.
func TestTransparencyFromACraftedLedger(t *testing.T) {
	eachDatabase(t, func(t *testing.T, s *ledger.Store) {
		ctx := context.Background()
		crafted(t, s)
		h := time.Hour
		stories := []*story{
			newStory("TS-F", "acct-6", abuse.Spam, t0.Add(48*h)).
				at(0, workflows.LedgerEvent{Kind: workflows.LedgerReports, Count: 4, Reporters: []string{"reports@phishtank.example", "fbl@isp.example"}, PerReporter: []int{3, 1}}).
				at(h, workflows.LedgerEvent{Kind: workflows.LedgerNoticed}).
				at(72*h, workflows.LedgerEvent{Kind: workflows.LedgerEnforced, Decision: "suspend_account"}).
				at(80*h, workflows.LedgerEvent{Kind: workflows.LedgerClosed, Outcome: workflows.OutcomeEnforced}),
			// G: no notice (the desk's own finding), throttled by the policy, reversed on appeal.
			newStory("TS-G", "acct-9", abuse.PortScan, t0.Add(5*h)).
				at(h, workflows.LedgerEvent{Kind: workflows.LedgerEnforced, Decision: "throttle"}).
				at(2*h, workflows.LedgerEvent{Kind: workflows.LedgerAppealed}).
				at(3*h, workflows.LedgerEvent{Kind: workflows.LedgerAppealDecided, Decision: workflows.AppealGranted, Actor: "rev@desk.example"}),
			// Orders: a preservation acknowledged in 30 min and decided in 24 h; a takedown order
			// acknowledged in 90 min and decided in 48 h; one that says not what it asks.
			newStory("TS-L1", "acct-7", abuse.LegalRequest, t0.Add(3*h)).
				at(0, workflows.LedgerEvent{Kind: workflows.LedgerLegalOpened, Decision: "preservation"}).
				at(30*time.Minute, workflows.LedgerEvent{Kind: workflows.LedgerLegalReceipt}).
				at(24*h, workflows.LedgerEvent{Kind: workflows.LedgerLegalDecided, Decision: "preserve", Actor: "legal@desk.example"}),
			newStory("TS-L2", "acct-8", abuse.LegalRequest, t0.Add(4*h)).
				at(0, workflows.LedgerEvent{Kind: workflows.LedgerLegalOpened, Decision: "takedown"}).
				at(90*time.Minute, workflows.LedgerEvent{Kind: workflows.LedgerLegalReceipt}).
				at(48*h, workflows.LedgerEvent{Kind: workflows.LedgerLegalDecided, Decision: "disclose", Actor: "legal@desk.example"}),
			newStory("TS-L3", "acct-8", abuse.LegalRequest, t0.Add(6*h)).
				at(0, workflows.LedgerEvent{Kind: workflows.LedgerLegalOpened}),
		}
		for _, st := range stories {
			if err := s.Record(ctx, workflows.RecordEventsInput{Case: st.c, Events: st.events}); err != nil {
				t.Fatal(err)
			}
		}
		// Notifications: a feed of 50,000 rows is one; a message kept twice is one; one before
		// the period is not counted.
		for _, n := range []ledger.Notification{
			{Digest: "n1", At: t0, Reporter: "fbl@isp.example", Category: abuse.Spam, Reports: 3},
			{Digest: "n2", At: t0.Add(h), Reporter: "reports@phishtank.example", Category: abuse.Phishing, Reports: 2},
			{Digest: "n3", At: t0.Add(2 * h), Reporter: "feeds@cert.example", Category: abuse.Spam, Reports: 50000},
			{Digest: "n1", At: t0.Add(9 * h), Reporter: "fbl@isp.example", Category: abuse.Spam, Reports: 3},
			{Digest: "n5", At: t0.Add(48 * h), Reporter: "reports@phishtank.example", Category: abuse.Spam, Reports: 4},
			{Digest: "n6", At: t0.Add(-48 * h), Reporter: "fbl@isp.example", Category: abuse.Spam, Reports: 1},
		} {
			if err := s.RecordNotification(ctx, n); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.RecordNotification(ctx, ledger.Notification{Digest: "x"}); err == nil {
			t.Error("a notification without a category was kept")
		}
		flagging := policy.Transparency{TrustedFlaggers: []string{"@phishtank.example"}, LawCategories: []abuse.Category{abuse.Phishing}}
		r, err := s.Transparency(ctx, period.From, period.To, flagging)
		if err != nil {
			t.Fatal(err)
		}
		ints := map[string][2]int{
			"notices received (messages)": {r.Notices.Received, 4}, "spam notices": {r.Notices.ByCategory["spam"], 3}, "phishing notices": {r.Notices.ByCategory["phishing"], 1},
			"reports received (rows)": {r.Notices.ReportsReceived, 11},
			"from trusted flaggers":   {r.Notices.FromTrustedFlaggers, 2}, "trusted spam": {r.Notices.TrustedByCategory["spam"], 1}, "trusted phishing": {r.Notices.TrustedByCategory["phishing"], 1},
			"processed automatically": {r.Notices.ProcessedAutomatically, 4},
			"orders to act":           {r.Orders.ToAct, 1}, "orders for information": {r.Orders.ForInformation, 1}, "orders unclassified": {r.Orders.Unclassified, 1},
			"actions": {r.Actions.Taken, 3}, "on the law": {r.Actions.ByGround["law"], 1}, "on the terms": {r.Actions.ByGround["terms"], 2},
			"throttles": {r.Actions.ByType["throttle"], 2}, "automated actions": {r.Actions.Automated, 2}, "automated overturned": {r.Actions.AutomatedOverturned, 1},
			"own initiative": {r.Actions.OwnInitiative, 1}, "own initiative port scans": {r.Actions.OwnInitiativeByCategory["port-scan"], 1},
			"complaints": {r.Complaints.Received, 2}, "against a throttle": {r.Complaints.ByBasis["throttle"], 2}, "decided": {r.Complaints.Decided, 2},
			"granted": {r.Complaints.Decisions[workflows.AppealGranted], 2}, "reversed": {r.Complaints.Reversed, 2}, "refused late": {r.Complaints.RefusedLate, 0},
		}
		for name, v := range ints {
			if v[0] != v[1] {
				t.Errorf("%s = %d, want %d", name, v[0], v[1])
			}
		}
		if r.Actions.AutomatedErrorRate != 0.5 {
			t.Errorf("automated error rate %v, want 0.5 (1 of 2 overturned)", r.Actions.AutomatedErrorRate)
		}
		// Nearest-rank medians: the smaller of two.
		for name, v := range map[string][2]string{
			"median time to action":          {r.Actions.MedianTimeToAction.String(), "72h"}, // G 1h, F 72h, B 76h
			"median decision time":           {r.Complaints.MedianDecisionTime.String(), "1h"},
			"median time to confirm receipt": {r.Orders.MedianTimeToConfirmReceipt.String(), "30m"},
			"median time to give effect":     {r.Orders.MedianTimeToGiveEffect.String(), "24h"},
		} {
			if v[0] != v[1] {
				t.Errorf("%s %s, want %s", name, v[0], v[1])
			}
		}
		var b bytes.Buffer
		if err := r.WriteCSV(&b); err != nil {
			t.Fatal(err)
		}
		for _, row := range []string{"section,measure,group,value", "notices,received,all,4", "notices,received,spam,3", "notices,reports_received,all,11",
			"orders,to_act,all,1", "orders,received,preservation,1", "orders,median_time_to_confirm_receipt,all,30m", "actions,taken_by_ground,law,1",
			"actions,own_initiative,all,1", "actions,automated_error_rate,all,0.5000", "complaints,reversed,all,2"} {
			if !strings.Contains(b.String(), row+"\n") {
				t.Errorf("the CSV lacks the row %q:\n%s", row, b.String())
			}
		}

		// The same, section by section, in the Implementing Regulation's layout.
		dir := t.TempDir()
		files, err := r.WriteEU(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(files) != len(ledger.EUSections) {
			t.Fatalf("%d files, want one a section: %v", len(files), files)
		}
		p := "2026-11-01,2026-11-16," // the period, on every row
		want := map[string][]string{
			"orders": {"period_start,period_end,order_type,legal_basis,what_it_asks,orders_received,median_time_to_confirm_receipt_hours,median_time_to_give_effect_hours",
				p + "not stated in the order,,not stated,1,,", p + "order to provide information,Art. 10,preservation,1,,", p + "order to act against illegal content,Art. 9,takedown,1,,",
				p + "all orders,Art. 9 and 10,all,3,0.50,24.00"},
			"notices":         {p + "phishing,1,1,1,1,0,,", p + "spam,3,1,1,0,1,,", p + "all,4,2,2,1,1,4,72.00"},
			"own-initiative":  {p + "port-scan,1,1", p + "all,1,1"},
			"complaints":      {p + "throttle,2,,,,,", p + "all,2,0,2,0,2,1.00"},
			"automated-means": {p + "decisions_taken_by_automated_means,2", p + "automated_decisions_overturned_on_complaint,1", p + "error_rate_of_automated_decisions,0.5000"},
		}
		for i, name := range ledger.EUSections {
			got, err := os.ReadFile(files[i])
			if err != nil {
				t.Fatal(err)
			}
			for _, row := range want[name] {
				if !strings.Contains(string(got), row+"\n") {
					t.Errorf("%s lacks the row %q:\n%s", filepath.Base(files[i]), row, got)
				}
			}
		}
	})
}
