package ledger

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"abusedesk/domain/ticket"
)

// TestTicketNumbersBecomeReferences: a ledger kept before tickets were named by reference
// (migrations up to 11, Zendesk ticket numbers in ticket_id) opens with each number read as a
// Zendesk ticket's reference, and a row without a ticket stays without one.
func TestTicketNumbersBecomeReferences(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	sub, _ := fs.Sub(migrations, "migrations")
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 11); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO handovers (handover_key, at_ms, kind, ticket_id, reason, reporter, subject, digest, legal) VALUES ('triage/42/d1', 1000, 'triage', 42, 'category other', '', '', 'd1', 0)`,
		`INSERT INTO handovers (handover_key, at_ms, kind, ticket_id, reason, reporter, subject, digest, legal) VALUES ('not_ours/0/d2', 2000, 'not_ours', 0, 'answered', 'r@x.example', '', 'd2', 0)`,
		`INSERT INTO submitted_reports (report_id, case_id, category, track, ticket_id, received_ms) VALUES ('r-1', '', 'other', 'abuse', 42, 1000)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	hs, err := s.HandOvers(ctx, time.Time{}, 10)
	if err != nil || len(hs) != 2 {
		t.Fatalf("hand-overs after the migration: %+v %v", hs, err)
	}
	want := ticket.Ref{System: ticket.Zendesk, ID: "42"}
	if hs[1].Ticket != want || !hs[0].Ticket.IsZero() {
		t.Errorf("hand-overs' tickets %+v and %+v; want %+v and none", hs[1].Ticket, hs[0].Ticket, want)
	}
	st, err := s.ReportStatus(ctx, "r-1")
	if err != nil || st.Ticket != want {
		t.Errorf("the report's ticket after the migration: %+v %v; want %+v", st, err, want)
	}
	// The hand-over kept before is not kept twice when recorded again by reference.
	if err := s.RecordHandOver(ctx, HandOver{At: hs[1].At, Kind: "triage", Ticket: want, Reason: "category other", Digest: "d1"}); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.HandOvers(ctx, time.Time{}, 10); len(again) != 2 {
		t.Errorf("%d hand-overs after recording one again; want 2", len(again))
	}
}
