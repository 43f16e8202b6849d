package simulate_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"abusedesk/app/ledger"
	"abusedesk/app/simulate"
	"abusedesk/domain/abuse"
	"abusedesk/domain/policy"
	"abusedesk/workflows"
)

var t0 = time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)

const h = time.Hour

// story is a recorded case: events at offsets from its opening.
type story struct {
	c      workflows.LedgerCase
	events []workflows.LedgerEvent
}

func newStory(number, account string, cat abuse.Category, opened time.Time) *story {
	s := &story{c: workflows.LedgerCase{Number: number, ID: "case/" + account + "/" + string(cat), Account: account, Category: cat,
		Track: cat.Track(), Rules: policy.TrackStandard, Tier: "business", OpenedAt: opened}}
	return s.at(0, workflows.LedgerEvent{Kind: workflows.LedgerOpened}).at(0, workflows.LedgerEvent{Kind: workflows.LedgerReports, Count: 1})
}

func (s *story) at(d time.Duration, e workflows.LedgerEvent) *story {
	e.Key = string(rune('a' + len(s.events)))
	e.At = s.c.OpenedAt.Add(d)
	s.events = append(s.events, e)
	return s
}

func (s *story) noticed() *story {
	return s.at(h, workflows.LedgerEvent{Kind: workflows.LedgerNoticed})
}
func (s *story) replied(d time.Duration) *story {
	return s.at(d, workflows.LedgerEvent{Kind: workflows.LedgerReplied, Actor: "ops@customer.example"})
}
func (s *story) enforced(d time.Duration, action string) *story {
	return s.at(d, workflows.LedgerEvent{Kind: workflows.LedgerEnforced, Decision: action})
}

// candidateYAML is the default policy with: phishing answered within 48 h (not 24 h); spam
// within 36 h with a surge at 3 reports; copyright without a lead's approval; brute-force with
// one; the strict track from 3 prior violations (not 2).
func candidateYAML(t *testing.T) []byte {
	y := string(policy.DefaultYAML())
	for old, repl := range map[string]string{
		"  phishing:\n    response_window: 24h":                                                  "  phishing:\n    response_window: 48h",
		"  spam:\n    response_window: 72h\n    surge:\n      reports: 500\n      deadline: 12h": "  spam:\n    response_window: 36h\n    reminders: [12h]\n    surge:\n      reports: 3\n      deadline: 2h",
		"      type: suspend_account\n    approval:\n      required: true\n":                     "      type: suspend_account\n    approval:\n      required: false\n",
		"  brute-force:\n    response_window: 48h\n    reminders: [24h]\n":                       "  brute-force:\n    response_window: 48h\n    reminders: [24h]\n    approval:\n      required: true\n",
		"  min_prior_violations: 2":                                                              "  min_prior_violations: 3",
	} {
		if !strings.Contains(y, old) {
			t.Fatalf("the default policy no longer says %q", old)
		}
		y = strings.Replace(y, old, repl, 1)
	}
	return []byte(y)
}

// TestSimulateACraftedLedger: every difference worked out by hand (see each story).
func TestSimulateACraftedLedger(t *testing.T) {
	ctx := context.Background()
	store, err := ledger.Open(ctx, filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	current := policy.Default()
	candidate, err := policy.Parse(candidateYAML(t), "candidate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	before := t0.Add(-60 * 24 * h)
	stories := []*story{
		// Two enforcements of acct-r1 before the period: R1 runs on the strict track.
		newStory("TS-R0", "acct-r1", abuse.PortScan, before).noticed().enforced(50*h, "throttle"),
		newStory("TS-R00", "acct-r1", abuse.PortScan, before.Add(5*24*h)).noticed().enforced(50*h, "throttle"),
		// P1: phishing; the customer answers 30 h after the notice, after the 24 h deadline:
		// enforced, then overturned on appeal. The candidate's 48 h window avoids it.
		newStory("TS-P1", "acct-p1", abuse.Phishing, t0).noticed().enforced(25*h, "suspend_sending").replied(31*h).
			at(40*h, workflows.LedgerEvent{Kind: workflows.LedgerAppealDecided, Decision: workflows.AppealGranted, Actor: "rev@desk.example"}).
			at(40*h, workflows.LedgerEvent{Kind: workflows.LedgerClosed, Outcome: workflows.OutcomeReinstated}),
		// P2: phishing, silent: enforced at 25 h; the candidate at 49 h.
		newStory("TS-P2", "acct-p2", abuse.Phishing, t0.Add(h)).noticed().enforced(25*h, "suspend_sending"),
		// S1: spam answered 50 h after the notice, within 72 h; the candidate's 36 h window
		// enforces at 37 h.
		newStory("TS-S1", "acct-s1", abuse.Spam, t0.Add(2*h)).noticed().replied(51 * h),
		// S2: spam, 5 more reports an hour after the notice, answered after 10 h: the
		// candidate's surge (3 reports → 2 h) enforces at 4 h.
		newStory("TS-S2", "acct-s2", abuse.Spam, t0.Add(3*h)).noticed().at(2*h, workflows.LedgerEvent{Kind: workflows.LedgerReports, Count: 5}).replied(11 * h),
		// C1: copyright, silent; a lead approved 3 h after being asked at the deadline: enforced
		// at 76 h. The candidate asks nobody: 73 h.
		newStory("TS-C1", "acct-c1", abuse.Copyright, t0.Add(4*h)).noticed().
			at(73*h, workflows.LedgerEvent{Kind: workflows.LedgerApprovalAsked}).
			at(76*h, workflows.LedgerEvent{Kind: workflows.LedgerApprovalDecided, Decision: "approve", Actor: "lead1@desk.example"}).
			enforced(76*h, "suspend_account"),
		// B1: brute-force, silent: throttled at 49 h. The candidate asks a lead, and nothing
		// recorded says what one would answer: it waits.
		newStory("TS-B1", "acct-b1", abuse.BruteForce, t0.Add(5*h)).noticed().enforced(49*h, "throttle"),
		// R1: port-scan of a repeat offender (strict: 24 h), answered after 30 h: enforced at
		// 25 h. The candidate's threshold of 3 leaves it standard (48 h): avoided.
		newStory("TS-R1", "acct-r1", abuse.PortScan, t0.Add(6*h)).noticed().enforced(25*h, "throttle").replied(31 * h),
		// Not replayed: waits for triage (never noticed), and an advisory case.
		newStory("TS-T1", "acct-t1", abuse.Spam, t0.Add(7*h)).at(0, workflows.LedgerEvent{Kind: workflows.LedgerTriageAsked}),
		newStory("TS-V1", "acct-v1", abuse.Vulnerable, t0.Add(8*h)).noticed(),
	}
	stories[len(stories)-3].c.Rules = policy.TrackStrict
	for _, st := range stories {
		if err := store.Record(ctx, workflows.RecordEventsInput{Case: st.c, Events: st.events}); err != nil {
			t.Fatal(err)
		}
	}
	from, to := t0.Add(-24*h), t0.Add(30*24*h)
	tl, err := store.Timelines(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	priors, err := store.Enforcements(ctx, to)
	if err != nil {
		t.Fatal(err)
	}
	r := simulate.Run(current, candidate, tl, priors, from, to)
	ints := map[string][2]int{
		"cases": {r.Cases, 9}, "replayed": {r.Replayed, 7}, "matched": {r.Matched, 7},
		"current enforced": {r.Current.Enforced, 5}, "candidate enforced": {r.Candidate.Enforced, 4},
		"added": {r.Added, 2}, "avoided": {r.Avoided, 2}, "avoided overturned": {r.AvoidedOverturned, 1},
		"current approvals": {r.Current.AskedLead, 1}, "candidate approvals": {r.Candidate.AskedLead, 1},
		"candidate waits for a lead": {r.Candidate.WaitsForLead, 1}, "action changed": {r.ActionChanged, 0},
	}
	for name, v := range ints {
		if v[0] != v[1] {
			t.Errorf("%s = %d, want %d", name, v[0], v[1])
		}
	}
	times := map[string][2]string{
		"current p50": {r.Current.TimeToAction.P50.String(), "25h"}, "current p90": {r.Current.TimeToAction.P90.String(), "76h"},
		"candidate p50": {r.Candidate.TimeToAction.P50.String(), "37h"}, "candidate p90": {r.Candidate.TimeToAction.P90.String(), "73h"},
	}
	for name, v := range times {
		if v[0] != v[1] {
			t.Errorf("time to action %s = %s, want %s", name, v[0], v[1])
		}
	}
	var changes []string
	for _, c := range r.Differ {
		changes = append(changes, c.Number+" "+c.Change)
	}
	want := "TS-B1 approval, TS-C1 approval, TS-P1 avoided, TS-P2 time, TS-R1 avoided, TS-S1 added, TS-S2 added"
	if got := strings.Join(changes, ", "); got != want {
		t.Errorf("cases that differ:\n%s\nwant:\n%s", got, want)
	}
	// The same input gives the same result; the current policy against itself differs nowhere.
	if again := simulate.Run(current, candidate, tl, priors, from, to); len(again.Differ) != len(r.Differ) || again.Added != r.Added || again.Current.TimeToAction != r.Current.TimeToAction {
		t.Error("a second run differs")
	}
	if same := simulate.Run(current, current, tl, priors, from, to); len(same.Differ) != 0 || same.Added+same.Avoided != 0 {
		t.Errorf("the current policy against itself: %+v", same.Differ)
	}
}
