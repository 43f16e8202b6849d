package ledger_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"abusedesk/app/ledger"
	"abusedesk/domain/abuse"
	"abusedesk/domain/policy"
	"abusedesk/workflows"
)

// TestStatementsOfReasons: every restriction in the period gets a statement in the
// Transparency Database's shape — the measure's fields, its end once lifted, the ground (law or
// terms) with the policy's clause, the source (trusted flagger, notice, own initiative) and
// automated means — and legal-track cases get none.
func TestStatementsOfReasons(t *testing.T) {
	eachDatabase(t, func(t *testing.T, s *ledger.Store) {
		ctx := context.Background()
		h := time.Hour
		stories := []*story{
			newStory("TS-SPAM000001", "acct-1", abuse.Spam, t0).
				at(0, workflows.LedgerEvent{Kind: workflows.LedgerReports, Count: 4, Reporters: []string{"reports@phishtank.example", "fbl@isp.example"}, PerReporter: []int{3, 1}}).
				at(72*h, workflows.LedgerEvent{Kind: workflows.LedgerEnforced, Decision: "suspend_account"}).
				at(96*h, workflows.LedgerEvent{Kind: workflows.LedgerLifted}),
			newStory("TS-PHISH00001", "acct-2", abuse.Phishing, t0.Add(h)).
				at(0, workflows.LedgerEvent{Kind: workflows.LedgerReports, Count: 1, Reporters: []string{"someone@example.net"}, PerReporter: []int{1}}).
				at(2*h, workflows.LedgerEvent{Kind: workflows.LedgerEnforced, Decision: "takedown", Actor: "lead@desk.example"}),
			newStory("TS-SCAN000001", "acct-3", abuse.PortScan, t0.Add(2*h)).
				at(h, workflows.LedgerEvent{Kind: workflows.LedgerEnforced, Decision: "throttle", Count: 2, Actor: "lead@desk.example", Text: "a trusted reporter"}),
			newStory("TS-CSAM000001", "acct-4", abuse.CSAM, t0).
				at(0, workflows.LedgerEvent{Kind: workflows.LedgerReports, Count: 1, Reporters: []string{"hotline@inhope.example"}, PerReporter: []int{1}}).
				at(h, workflows.LedgerEvent{Kind: workflows.LedgerEnforced, Decision: "takedown"}),
		}
		for _, st := range stories {
			if err := s.Record(ctx, workflows.RecordEventsInput{Case: st.c, Events: st.events}); err != nil {
				t.Fatal(err)
			}
		}
		g := policy.Transparency{TrustedFlaggers: []string{"@phishtank.example"}, LawCategories: []abuse.Category{abuse.Phishing, abuse.CSAM},
			Clause: "our AUP", Clauses: map[abuse.Category]string{abuse.Phishing: "the law against fraud"}}
		got, err := s.Statements(ctx, t0, t0.Add(30*24*h), g)
		if err != nil {
			t.Fatal(err)
		}
		by := map[string]ledger.Statement{}
		for _, st := range got {
			by[st.CaseNumber] = st
			if st.PUID == "" || st.DecisionFacts == "" || len(st.TerritorialScope) != 30 || st.AutomatedDetection != "Yes" || len(st.ContentType) != 1 {
				t.Errorf("%s lacks a required field: %+v", st.CaseNumber, st)
			}
		}
		if len(got) != 3 {
			t.Fatalf("%d statements, want 3 (the CSAM case has none): %+v", len(got), got)
		}
		if _, ok := by["TS-CSAM000001"]; ok {
			t.Error("the legal-track case has a statement")
		}
		spam := by["TS-SPAM000001"]
		if spam.DecisionAccount != "DECISION_ACCOUNT_SUSPENDED" || spam.DecisionProvision != "DECISION_PROVISION_TOTAL_SUSPENSION" ||
			spam.EndDateAccountRestriction != t0.Add(96*h).Format(time.DateOnly) || spam.SourceType != "SOURCE_TRUSTED_FLAGGER" ||
			spam.AutomatedDecision != "AUTOMATED_DECISION_FULLY" || spam.DecisionGround != "DECISION_GROUND_INCOMPATIBLE_CONTENT" ||
			spam.IncompatibleContentGround != "our AUP" || spam.ApplicationDate != t0.Add(72*h).Format(time.DateOnly) || !strings.Contains(spam.DecisionFacts, "4 notices") {
			t.Errorf("spam: %+v", spam)
		}
		phish := by["TS-PHISH00001"]
		if len(phish.DecisionVisibility) != 1 || phish.DecisionVisibility[0] != "DECISION_VISIBILITY_CONTENT_REMOVED" || phish.EndDateVisibilityRestriction != "" ||
			phish.SourceType != "SOURCE_ARTICLE_16" || phish.AutomatedDecision != "AUTOMATED_DECISION_NOT_AUTOMATED" ||
			phish.DecisionGround != "DECISION_GROUND_ILLEGAL_CONTENT" || phish.IllegalContentLegalGround != "the law against fraud" ||
			phish.Category != "STATEMENT_CATEGORY_SCAMS_AND_FRAUD" || phish.CategorySpecification[0] != "KEYWORD_PHISHING" {
			t.Errorf("phishing: %+v", phish)
		}
		scan := by["TS-SCAN000001"]
		if scan.DecisionProvision != "DECISION_PROVISION_PARTIAL_SUSPENSION" || scan.SourceType != "SOURCE_VOLUNTARY" ||
			scan.AutomatedDecision != "AUTOMATED_DECISION_FULLY" || !strings.Contains(scan.DecisionFacts, "own initiative") || !strings.Contains(scan.DecisionFacts, "level 2") {
			t.Errorf("port scan (a rule allowed it, a lead's name on it): %+v", scan)
		}
		b, _ := json.Marshal(spam)
		for _, field := range []string{`"decision_ground":`, `"source_type":`, `"automated_decision":`, `"territorial_scope":`, `"puid":`} {
			if !strings.Contains(string(b), field) {
				t.Errorf("the JSON lacks %s: %s", field, b)
			}
		}
		if strings.Contains(string(b), "acct-1") || strings.Contains(string(b), "phishtank") {
			t.Errorf("the statement names the customer or a reporter: %s", b)
		}
		tc, err := s.TrustedCases(ctx, []string{"TS-SPAM000001", "TS-PHISH00001", "TS-SCAN000001", "TS-NONE"}, g.Trusted)
		if err != nil || len(tc) != 1 || !tc["TS-SPAM000001"] {
			t.Errorf("trusted flaggers' cases %v (%v), want the spam case only", tc, err)
		}
		if none, err := s.Statements(ctx, t0.Add(-48*h), t0, g); err != nil || len(none) != 0 {
			t.Errorf("a period before every action: %v, %v", none, err)
		}
	})
}
