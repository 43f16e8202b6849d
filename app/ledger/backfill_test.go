package ledger_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"abusedesk/app/cases"
	"abusedesk/app/ledger"
	"abusedesk/domain/abuse"
	"abusedesk/workflows"
)

// fakeCases lists incidents in pages of one and answers their status.
type fakeCases struct {
	views map[string]*workflows.CaseView // by run ID
	order []string
}

func (f *fakeCases) List(_ context.Context, _ string, _ int, token []byte) ([]cases.Summary, []byte, error) {
	i := 0
	if len(token) > 0 {
		i = int(token[0])
	}
	v := f.views[f.order[i]]
	page := []cases.Summary{{CaseID: v.CaseID, RunID: f.order[i], CaseNumber: v.CaseNumber}}
	if i+1 < len(f.order) {
		return page, []byte{byte(i + 1)}, nil
	}
	return page, nil, nil
}

func (f *fakeCases) StatusRun(_ context.Context, _, runID string) (*workflows.CaseView, error) {
	if v := f.views[runID]; v != nil && v.CaseNumber != "TS-BROKEN" {
		return v, nil
	}
	return nil, errors.New("no worker answered the query")
}

func closedView(number string) *workflows.CaseView {
	opened := t0
	return &workflows.CaseView{
		CaseID: "case/" + number, CaseNumber: number, Status: workflows.StatusClosed, Outcome: workflows.OutcomeEnforced,
		Account: abuse.Account{ID: "acct-" + number, Tier: "business"}, Category: abuse.Spam, CategoryTrack: abuse.TrackAbuse, Track: "standard",
		OpenedAt: opened, ClosedAt: opened.Add(80 * time.Hour),
		Reports:     workflows.ReportStats{Count: 4, FirstSeen: opened, Reporters: []string{"fbl@isp.example"}},
		Timeline:    []workflows.TimelineEntry{{At: opened.Add(time.Minute), Kind: workflows.EventNotice, Text: "violation notice sent"}},
		Approval:    &workflows.ApprovalState{RequestedAt: opened.Add(72 * time.Hour), Decision: "approve", DecidedBy: "U1", DecidedAt: opened.Add(73 * time.Hour)},
		Enforcement: &workflows.Enforcement{Type: abuse.ActionThrottle, AppliedAt: opened.Add(73 * time.Hour), ApprovedBy: "U1"},
	}
}

// TestBackfillRebuildsOldCasesOnce: cases from before the ledger are rebuilt from their state,
// a case that recorded its own is left alone, one that cannot be read is listed, and a second
// backfill changes nothing.
func TestBackfillRebuildsOldCasesOnce(t *testing.T) {
	eachDatabase(t, func(t *testing.T, s *ledger.Store) {
		ctx := context.Background()
		live := caseOf(9)
		if err := s.Record(ctx, workflows.RecordEventsInput{Case: live, Events: []workflows.LedgerEvent{ev("1", 0, workflows.LedgerOpened)}}); err != nil {
			t.Fatal(err)
		}
		f := &fakeCases{views: map[string]*workflows.CaseView{
			"run-old":    closedView("TS-OLD"),
			"run-live":   {CaseID: live.ID, CaseNumber: live.Number},
			"run-broken": closedView("TS-BROKEN"),
		}, order: []string{"run-old", "run-live", "run-broken"}}

		for round := range 2 {
			res, err := ledger.Backfill(ctx, f, s, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.Rebuilt != 1 || res.Recorded != 1 || len(res.Failed) != 1 {
				t.Errorf("round %d: %+v, want 1 rebuilt, 1 recorded, 1 failed", round, res)
			}
		}
		events, err := s.Events(ctx, "TS-OLD")
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, e := range events {
			kinds = append(kinds, e.Kind)
		}
		want := []string{workflows.LedgerOpened, workflows.LedgerReports, workflows.LedgerNoticed, workflows.LedgerApprovalAsked,
			workflows.LedgerApprovalDecided, workflows.LedgerEnforced, workflows.LedgerClosed}
		if len(kinds) != len(want) {
			t.Fatalf("rebuilt %v, want %v", kinds, want)
		}
		for i := range want {
			if kinds[i] != want[i] {
				t.Fatalf("rebuilt %v, want %v", kinds, want)
			}
		}
		if r := caseRow(t, s, "TS-OLD"); r.reports != 4 || r.notices != 1 || r.outcome != string(workflows.OutcomeEnforced) || r.tier != "business" {
			t.Errorf("case row after two backfills: %+v", r)
		}
	})
}
