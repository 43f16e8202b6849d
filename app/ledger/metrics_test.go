package ledger_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"abusedesk/app/ledger"
	"abusedesk/domain/abuse"
	"abusedesk/workflows"
)

// story records one case: its case and its events, each at an offset from the case's opening.
type story struct {
	c      workflows.LedgerCase
	events []workflows.LedgerEvent
}

func newStory(number, account string, cat abuse.Category, opened time.Time) *story {
	s := &story{c: workflows.LedgerCase{Number: number, ID: "case/" + account + "/" + string(cat), Account: account, Category: cat,
		Track: cat.Track(), Rules: "standard", Tier: "business", OpenedAt: opened}}
	return s.at(0, workflows.LedgerEvent{Kind: workflows.LedgerOpened})
}

func (s *story) at(d time.Duration, e workflows.LedgerEvent) *story {
	e.Key = string(rune('a' + len(s.events)))
	e.At = s.c.OpenedAt.Add(d)
	s.events = append(s.events, e)
	return s
}

func (s *story) reports(n int, reporter string) *story {
	return s.at(0, workflows.LedgerEvent{Kind: workflows.LedgerReports, Count: n, Reporters: []string{reporter}})
}

// crafted is a small ledger whose figures are worked out by hand in TestMetricsFromACraftedLedger.
func crafted(t *testing.T, s *ledger.Store) {
	h := time.Hour
	stories := []*story{
		// A: noticed after 1 h, the customer answers 2 h later, an agent accepts the fix.
		newStory("TS-A", "acct-1", abuse.Spam, t0).reports(3, "fbl@isp.example").
			at(h, workflows.LedgerEvent{Kind: workflows.LedgerNoticed}).
			at(3*h, workflows.LedgerEvent{Kind: workflows.LedgerReplied, Actor: "ops@acct-1.example"}).
			at(5*h, workflows.LedgerEvent{Kind: workflows.LedgerAgentDecision, Decision: "accept_remediation", Actor: "agent1@desk.example"}).
			at(5*h, workflows.LedgerEvent{Kind: workflows.LedgerClosed, Outcome: workflows.OutcomeRemediated}),
		// B: silent, a lead approves after 2 h, throttled, appeal granted 10 h after it came
		// (past its SLA), reinstated.
		newStory("TS-B", "acct-2", abuse.Phishing, t0.Add(h)).reports(2, "reports@phishtank.example").
			at(h, workflows.LedgerEvent{Kind: workflows.LedgerNoticed}).
			at(73*h, workflows.LedgerEvent{Kind: workflows.LedgerEscalated}).
			at(74*h, workflows.LedgerEvent{Kind: workflows.LedgerApprovalAsked}).
			at(76*h, workflows.LedgerEvent{Kind: workflows.LedgerApprovalDecided, Decision: "approve", Actor: "lead1@desk.example"}).
			at(76*h, workflows.LedgerEvent{Kind: workflows.LedgerEnforced, Decision: "throttle", Actor: "lead1@desk.example"}).
			at(80*h, workflows.LedgerEvent{Kind: workflows.LedgerAppealed}).
			at(88*h, workflows.LedgerEvent{Kind: workflows.LedgerSLABreached, Decision: workflows.SLAAppeal}).
			at(90*h, workflows.LedgerEvent{Kind: workflows.LedgerAppealDecided, Decision: workflows.AppealGranted, Actor: "rev@desk.example"}).
			at(90*h, workflows.LedgerEvent{Kind: workflows.LedgerLifted}).
			at(90*h, workflows.LedgerEvent{Kind: workflows.LedgerClosed, Outcome: workflows.OutcomeReinstated}),
		// C: waits for triage past its SLA; not abuse.
		newStory("TS-C", "acct-3", abuse.Spam, t0.Add(2*h)).reports(1, "fbl@isp.example").
			at(0, workflows.LedgerEvent{Kind: workflows.LedgerTriageAsked}).
			at(24*h, workflows.LedgerEvent{Kind: workflows.LedgerSLABreached, Decision: workflows.SLATriage}).
			at(28*h, workflows.LedgerEvent{Kind: workflows.LedgerTriaged, Decision: "not_abuse", Actor: "agent2@desk.example"}).
			at(28*h, workflows.LedgerEvent{Kind: workflows.LedgerClosed, Outcome: workflows.OutcomeNotAbuse}),
		// D: acct-1 again 10 days later (a restumble of A), open.
		newStory("TS-D", "acct-1", abuse.Spam, t0.Add(10*24*h)).reports(1, "fbl@isp.example").
			at(h, workflows.LedgerEvent{Kind: workflows.LedgerNoticed}),
		// E: acct-2 again 60 days after B closed: after the period, so only a 90-day restumble.
		newStory("TS-E", "acct-2", abuse.Phishing, t0.Add(h+90*h+60*24*h)).reports(1, "reports@phishtank.example"),
	}
	for _, st := range stories {
		if err := s.Record(context.Background(), workflows.RecordEventsInput{Case: st.c, Events: st.events}); err != nil {
			t.Fatal(err)
		}
	}
}

var period = ledger.Query{From: t0.Add(-24 * time.Hour), To: t0.Add(14 * 24 * time.Hour)}

// TestMetricsFromACraftedLedger: every figure, worked out by hand for the crafted ledger.
func TestMetricsFromACraftedLedger(t *testing.T) {
	eachDatabase(t, func(t *testing.T, s *ledger.Store) {
		crafted(t, s)
		m, err := s.Metrics(context.Background(), period)
		if err != nil {
			t.Fatal(err)
		}
		f := m.Total
		ints := map[string][2]int{
			"cases": {f.Cases, 4}, "reports": {f.Reports, 7}, "noticed": {f.Noticed, 3}, "closed": {f.Closed, 3},
			"enforced": {f.Enforced, 1}, "appealed": {f.Appealed, 1}, "overturned": {f.Overturned, 1}, "reinstated": {f.Reinstated, 1},
			"fixed": {f.Fixed, 2}, "restumble 30d": {f.Restumble30, 1}, "restumble 90d": {f.Restumble90, 2},
			"approvals asked": {f.ApprovalsAsked, 1}, "approval timeouts": {f.ApprovalTimeouts, 0},
			"triage breaches": {f.Breaches.Triage, 1}, "appeal breaches": {f.Breaches.Appeal, 1}, "approval breaches": {f.Breaches.Approval, 0},
			"outcome remediated": {f.Outcomes["remediated"], 1}, "outcome reinstated": {f.Outcomes["reinstated"], 1}, "outcome not_abuse": {f.Outcomes["not_abuse"], 1},
		}
		for name, v := range ints {
			if v[0] != v[1] {
				t.Errorf("%s = %d, want %d", name, v[0], v[1])
			}
		}
		rates := map[string][2]float64{
			"enforcement": {f.EnforcementRate, 0.25}, "overturn": {f.OverturnRate, 1}, "reinstatement": {f.ReinstatementRate, 1},
			"restumble 30d": {f.RestumbleRate, 0.5}, "restumble 90d": {f.Restumble90R, 1},
		}
		for name, v := range rates {
			if v[0] != v[1] {
				t.Errorf("%s rate = %v, want %v", name, v[0], v[1])
			}
		}
		times := map[string][2]string{
			"to notice p50": {f.TimeToNotice.P50.String(), "1h"}, "to notice p90": {f.TimeToNotice.P90.String(), "1h"},
			"to reply": {f.TimeToReply.P50.String(), "2h"}, "to action": {f.TimeToAction.P50.String(), "76h"},
			"to appeal decision": {f.TimeToAppealDecision.P50.String(), "10h"}, "approval wait": {f.ApprovalWait.P90.String(), "2h"},
		}
		for name, v := range times {
			if v[0] != v[1] {
				t.Errorf("time %s = %s, want %s", name, v[0], v[1])
			}
		}
		if f.TimeToNotice.N != 3 {
			t.Errorf("%d times to notice, want 3", f.TimeToNotice.N)
		}

		want := map[string]map[string]int{ // cases by group
			"week":     {"2026-W44": 0, "2026-W45": 3, "2026-W46": 1}, // every week of the period, quiet ones too
			"category": {"spam": 3, "phishing": 1},
			"reporter": {"fbl@isp.example": 3, "reports@phishtank.example": 1},
			"decider":  {"agent1@desk.example": 1, "rev@desk.example": 1, "agent2@desk.example": 1, "the desk (no person decided)": 1},
		}
		for g, keys := range want {
			got := map[string]int{}
			for _, f := range m.By[g] {
				got[f.Key] = f.Cases
			}
			if len(got) != len(keys) {
				t.Errorf("by %s: %v, want %v", g, got, keys)
			}
			for k, n := range keys {
				if got[k] != n {
					t.Errorf("by %s: %s has %d cases, want %d", g, k, got[k], n)
				}
			}
		}
		for _, f := range m.By["category"] {
			if f.Key == "phishing" && (f.Enforced != 1 || f.TimeToAction.P50.String() != "76h") {
				t.Errorf("phishing: enforced %d in %s", f.Enforced, f.TimeToAction.P50)
			}
		}

		// A filter narrows every figure.
		p := period
		p.Category = "phishing"
		only, err := s.Metrics(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		if only.Total.Cases != 1 || only.Total.Restumble90 != 1 {
			t.Errorf("phishing only: %d cases, %d restumbles", only.Total.Cases, only.Total.Restumble90)
		}
		// Times read as text in JSON.
		b, _ := json.Marshal(m.Total.TimeToAction)
		if string(b) != `{"n":1,"p50":"76h","p90":"76h"}` {
			t.Errorf("JSON of a time: %s", b)
		}
	})
}

func TestMetricsRefusesAnEmptyPeriod(t *testing.T) {
	eachDatabase(t, func(t *testing.T, s *ledger.Store) {
		if _, err := s.Metrics(context.Background(), ledger.Query{From: t0, To: t0}); err == nil {
			t.Error("a period that ends where it starts was accepted")
		}
	})
}

// TestFixesThatDidNotHold: an accepted fix a re-check found not to hold, then one that held:
// two fixes accepted, one reopened; a case without a fix counts neither.
func TestFixesThatDidNotHold(t *testing.T) {
	eachDatabase(t, func(t *testing.T, s *ledger.Store) {
		h := time.Hour
		accept := workflows.LedgerEvent{Kind: workflows.LedgerAgentDecision, Decision: string(workflows.DecisionAcceptRemediation), Actor: "agent1@desk.example"}
		for _, st := range []*story{
			newStory("TS-F", "acct-1", abuse.Phishing, t0).reports(1, "reports@phishtank.example").
				at(h, workflows.LedgerEvent{Kind: workflows.LedgerNoticed}).
				at(2*h, accept).
				at(3*h, workflows.LedgerEvent{Kind: workflows.LedgerChecked, Decision: workflows.VerdictStill, Count: 1}).
				at(3*h, workflows.LedgerEvent{Kind: workflows.LedgerReopened, Text: "http://x still (HTTP 200)"}).
				at(4*h, accept).
				at(5*h, workflows.LedgerEvent{Kind: workflows.LedgerChecked, Decision: workflows.VerdictFixed, Count: 1}).
				at(5*h, workflows.LedgerEvent{Kind: workflows.LedgerClosed, Outcome: workflows.OutcomeRemediated}),
			newStory("TS-G", "acct-2", abuse.Spam, t0).reports(1, "fbl@isp.example"),
		} {
			if err := s.Record(context.Background(), workflows.RecordEventsInput{Case: st.c, Events: st.events}); err != nil {
				t.Fatal(err)
			}
		}
		m, err := s.Metrics(context.Background(), period)
		if err != nil {
			t.Fatal(err)
		}
		if f := m.Total; f.FixesAccepted != 2 || f.FixesReopened != 1 || f.FixReopenRate != 0.5 || f.Cases != 2 {
			t.Errorf("fixes: %d accepted, %d reopened, rate %v (%d cases); want 2, 1, 0.5", f.FixesAccepted, f.FixesReopened, f.FixReopenRate, f.Cases)
		}
		for _, f := range m.By["category"] {
			if f.Key == "spam" && (f.FixesAccepted != 0 || f.FixesReopened != 0) {
				t.Errorf("spam has fixes it never had: %+v", f)
			}
		}
	})
}

// TestTimeToDelist: relistings are counted, and the time to delist is, for the blocklist cases that closed once the
// listings stopped, the first listing seen → the last; a blocklist case closed otherwise, and
// any other category's quiet close, do not count.
func TestTimeToDelist(t *testing.T) {
	eachDatabase(t, func(t *testing.T, s *ledger.Store) {
		h := time.Hour
		monitor := "blocklist-monitor@abusedesk.invalid"
		listed := func() workflows.LedgerEvent {
			return workflows.LedgerEvent{Kind: workflows.LedgerReports, Count: 1, Reporters: []string{monitor}}
		}
		for _, st := range []*story{
			// Listed for 3 h (reports at 0, 1 h, 3 h), closed quiet a week later.
			newStory("TS-BL1", "acct-1", abuse.Blocklist, t0).reports(1, monitor).at(h, listed()).at(3*h, listed()).
				at(3*h+7*24*h, workflows.LedgerEvent{Kind: workflows.LedgerClosed, Outcome: workflows.OutcomeQuiet}),
			// Listed for 9 h.
			newStory("TS-BL2", "acct-2", abuse.Blocklist, t0.Add(h)).reports(1, monitor).at(9*h, listed()).
				at(0, workflows.LedgerEvent{Kind: workflows.LedgerRelisted, Text: "TS-BL0"}).
				at(9*h+7*24*h, workflows.LedgerEvent{Kind: workflows.LedgerClosed, Outcome: workflows.OutcomeQuiet}),
			// Closed by an agent: not delisted as far as the desk knows.
			newStory("TS-BL3", "acct-3", abuse.Blocklist, t0.Add(2*h)).reports(1, monitor).at(50*h, listed()).
				at(51*h, workflows.LedgerEvent{Kind: workflows.LedgerClosed, Outcome: workflows.OutcomeNotAbuse}),
			// Another category's quiet close.
			newStory("TS-V1", "acct-4", abuse.Vulnerable, t0.Add(3*h)).reports(1, "scans@watch.example").at(20*h, listed()).
				at(20*h+7*24*h, workflows.LedgerEvent{Kind: workflows.LedgerClosed, Outcome: workflows.OutcomeQuiet}),
		} {
			if err := s.Record(context.Background(), workflows.RecordEventsInput{Case: st.c, Events: st.events}); err != nil {
				t.Fatal(err)
			}
		}
		m, err := s.Metrics(context.Background(), ledger.Query{From: t0.Add(-h), To: t0.Add(30 * 24 * h)})
		if err != nil {
			t.Fatal(err)
		}
		if d := m.Total.TimeToDelist; d.N != 2 || d.P50.String() != "3h" || d.P90.String() != "9h" {
			t.Errorf("time to delist: %+v; want 2 cases, median 3h, 90th percentile 9h", d)
		}
		if m.Total.Relisted != 1 {
			t.Errorf("relisted %d, want 1", m.Total.Relisted)
		}
	})
}

// TestMessagingSignals: per sending identity, the traffic the messaging cases read for their
// notices, summed over the period's cases — complaints per 1,000 messages and the opt-out rate,
// the most complained about first; the check after an action and records outside the period
// count nowhere, nor does a category a query hides.
func TestMessagingSignals(t *testing.T) {
	eachDatabase(t, func(t *testing.T, s *ledger.Store) {
		h := time.Hour
		traffic := func(id string, sent, optOuts, complaints int, until time.Time) *abuse.Traffic {
			kind, value, _ := strings.Cut(id, ":")
			return &abuse.Traffic{Identity: abuse.Scope{Kind: kind, Value: value}, Since: until.Add(-24 * h), Until: until,
				MessagingCounts: abuse.MessagingCounts{Sent: sent, Delivered: sent - 10, Failed: 5, Filtered: 5, OptOuts: optOuts, Complaints: complaints}}
		}
		read := func(tr *abuse.Traffic) workflows.LedgerEvent {
			return workflows.LedgerEvent{Kind: workflows.LedgerTraffic, Traffic: tr}
		}
		for _, st := range []*story{
			// The campaign: two cases, 12,000 messages, 60 complaints (5 per 1,000), 120 opt-outs.
			newStory("TS-M1", "acct-t", abuse.CarrierNotice, t0).reports(1, "compliance@carrier.example").
				at(h, read(traffic("campaign:CX7K2PQ", 10000, 100, 50, t0.Add(h)))).
				at(50*h, workflows.LedgerEvent{Kind: workflows.LedgerTraffic, Decision: "stop", Traffic: traffic("campaign:CX7K2PQ", 0, 0, 0, t0.Add(50*h))}),
			newStory("TS-M2", "acct-t", abuse.OptOut, t0.Add(2*h)).reports(1, "jane@mail.example").
				at(h, read(traffic("campaign:CX7K2PQ", 2000, 20, 10, t0.Add(3*h)))),
			// A number: 1,000 messages, 1 complaint.
			newStory("TS-M3", "acct-u", abuse.SMSSpam, t0.Add(3*h)).reports(1, "reports@7726.example").
				at(h, read(traffic("phone:+13125550142", 1000, 2, 1, t0.Add(4*h)))),
			// Read after the period.
			newStory("TS-M4", "acct-v", abuse.SMSSpam, t0.Add(3*h)).reports(1, "reports@7726.example").
				at(60*24*h, read(traffic("phone:+13125550199", 1000, 500, 500, t0.Add(60*24*h)))),
		} {
			if err := s.Record(context.Background(), workflows.RecordEventsInput{Case: st.c, Events: st.events}); err != nil {
				t.Fatal(err)
			}
		}
		m, err := s.Metrics(context.Background(), ledger.Query{From: t0.Add(-h), To: t0.Add(30 * 24 * h)})
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Messaging) != 2 {
			t.Fatalf("messaging figures %+v, want the campaign and the number", m.Messaging)
		}
		c, n := m.Messaging[0], m.Messaging[1]
		if c.Identity != "campaign:CX7K2PQ" || c.Account != "acct-t" || c.Cases != 2 || c.Sent != 12000 || c.Complaints != 60 ||
			c.ComplaintsPer1000 != 5 || c.OptOutRate != 0.01 {
			t.Errorf("the campaign: %+v; want 2 cases, 12000 sent, 60 complaints, 5 per 1,000, opt-out rate 0.01", c)
		}
		if n.Identity != "phone:+13125550142" || n.ComplaintsPer1000 != 1 {
			t.Errorf("the number: %+v; want 1 complaint per 1,000", n)
		}
		hidden, err := s.Metrics(context.Background(), ledger.Query{From: t0.Add(-h), To: t0.Add(30 * 24 * h), Hidden: []string{string(abuse.CarrierNotice), string(abuse.OptOut)}})
		if err != nil || len(hidden.Messaging) != 1 || hidden.Messaging[0].Identity != "phone:+13125550142" {
			t.Errorf("with the campaign's categories hidden: %+v %v", hidden.Messaging, err)
		}
	})
}
