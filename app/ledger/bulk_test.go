package ledger_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"abusedesk/app/ledger"
	"abusedesk/domain/abuse"
	"abusedesk/domain/approval"
	"abusedesk/workflows"
)

// TestBulkActionsAreKeptAsTheyStand: a bulk action is kept as last recorded — a retried older
// write changes nothing — and each account it reached finds it.
func TestBulkActionsAreKeptAsTheyStand(t *testing.T) {
	eachDatabase(t, func(t *testing.T, s *ledger.Store) {
		ctx := context.Background()
		t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		st := workflows.BulkState{BulkInput: workflows.BulkInput{Number: "B-1", Proposer: "lee.lead@desk.example",
			Accounts: []string{"acct-a", "acct-b"}, Links: []workflows.BulkLink{{Kind: "domain", Value: "x.example", Accounts: []string{"acct-a", "acct-b"}}},
			Action: abuse.ActionSuspendSending, Reason: "kit"},
			Status: approval.BulkProposed, ProposedAt: t0, UpdatedAt: t0}
		if err := s.RecordBulk(ctx, st); err != nil {
			t.Fatal(err)
		}
		applied := st
		applied.Status, applied.UpdatedAt = approval.BulkApplied, t0.Add(time.Hour)
		applied.Results = []workflows.BulkAccount{{Account: "acct-a", ActionID: "act-1", AppliedAt: t0.Add(time.Hour)}, {Account: "acct-b", Error: "refused"}}
		if err := s.RecordBulk(ctx, applied); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordBulk(ctx, st); err != nil { // a retried older write
			t.Fatal(err)
		}
		got, err := s.BulkAction(ctx, "B-1")
		if err != nil || got.Status != approval.BulkApplied || len(got.Results) != 2 || got.Results[0].ActionID != "act-1" {
			t.Fatalf("kept %+v, %v", got, err)
		}
		for acct, want := range map[string]int{"acct-a": 1, "acct-b": 1, "acct-z": 0} {
			list, err := s.BulkActions(ctx, t0.Add(-time.Hour), acct)
			if err != nil || len(list) != want {
				t.Errorf("%s: %d bulk actions (%v), want %d", acct, len(list), err, want)
			}
		}
		if _, err := s.BulkAction(ctx, "B-9"); !errors.Is(err, ledger.ErrNoSuchBulkAction) {
			t.Errorf("a number never used: %v", err)
		}
		if err := s.RecordBulk(ctx, workflows.BulkState{}); err == nil {
			t.Error("a bulk action without a number was kept")
		}
	})
}
