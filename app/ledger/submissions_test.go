package ledger_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"abusedesk/app/ledger"
	"abusedesk/domain/abuse"
	"abusedesk/workflows"
)

// TestIdempotencyKeys: the first request with a key claims it; the same body again gets the
// stored answer, another body ErrKeyReused, a second request while the first is under way
// ErrKeyInFlight; a released key is free again, a stale claim is taken over and an old key
// forgotten.
func TestIdempotencyKeys(t *testing.T) {
	eachDatabase(t, func(t *testing.T, s *ledger.Store) {
		ctx := context.Background()
		rules := ledger.KeyRules{Keep: 24 * time.Hour, Stale: 2 * time.Minute}
		claim := func(key, digest string, at time.Time) (*ledger.Stored, error) {
			return s.ClaimKey(ctx, key, digest, at, rules)
		}
		if got, err := claim("k1", "d1", t0); got != nil || err != nil {
			t.Fatalf("first claim: %v, %v; want it claimed", got, err)
		}
		if _, err := claim("k1", "d1", t0.Add(time.Second)); !errors.Is(err, ledger.ErrKeyInFlight) {
			t.Fatalf("second claim while the first is under way: %v, want ErrKeyInFlight", err)
		}
		if _, err := claim("k1", "d2", t0.Add(time.Second)); !errors.Is(err, ledger.ErrKeyReused) {
			t.Fatalf("another body: %v, want ErrKeyReused", err)
		}
		if err := s.CompleteKey(ctx, "k1", 200, []byte(`{"accepted":true}`)); err != nil {
			t.Fatal(err)
		}
		got, err := claim("k1", "d1", t0.Add(time.Minute))
		if err != nil || got == nil || got.Status != 200 || string(got.Response) != `{"accepted":true}` {
			t.Fatalf("the same body again: %+v, %v; want the stored 200", got, err)
		}
		if err := s.ReleaseKey(ctx, "k1"); err != nil {
			t.Fatal(err)
		}
		if got, err := claim("k1", "d1", t0.Add(2*time.Minute)); got == nil || err != nil {
			t.Fatalf("releasing a completed key forgets nothing: %v, %v", got, err)
		}

		if got, err := claim("k2", "d1", t0); got != nil || err != nil {
			t.Fatalf("claim k2: %v, %v", got, err)
		}
		if err := s.ReleaseKey(ctx, "k2"); err != nil {
			t.Fatal(err)
		}
		if got, err := claim("k2", "d2", t0.Add(time.Second)); got != nil || err != nil {
			t.Fatalf("a released key is free, whatever the body: %v, %v", got, err)
		}
		if got, err := claim("k2", "d2", t0.Add(3*time.Minute)); got != nil || err != nil {
			t.Fatalf("a stale claim is taken over: %v, %v", got, err)
		}
		if _, err := claim("k2", "d2", t0.Add(3*time.Minute+time.Second)); !errors.Is(err, ledger.ErrKeyInFlight) {
			t.Fatalf("after the takeover the key is under way again: %v", err)
		}
		// A day later the key is forgotten: another body may use it.
		if got, err := claim("k1", "d9", t0.Add(25*time.Hour)); got != nil || err != nil {
			t.Fatalf("an old key is forgotten: %v, %v", got, err)
		}
		if err := s.CompleteKey(ctx, "k1", 0, nil); err == nil {
			t.Error("completing with status 0 was taken")
		}
	})
}

// TestReportStatus: a report's status is the incident of its case that was open when it
// arrived (or opened after); a legal report says nothing more; a triaged one names its ticket;
// one whose incident the ledger does not show yet is pending.
func TestReportStatus(t *testing.T) {
	eachDatabase(t, func(t *testing.T, s *ledger.Store) {
		ctx := context.Background()
		h := time.Hour
		// Two incidents of one case: the first closed at +10h, the second opened at +20h.
		first := newStory("TS-FIRST00001", "acct-a", abuse.Spam, t0).
			at(h, workflows.LedgerEvent{Kind: workflows.LedgerEnforced, Decision: "throttle"}).
			at(10*h, workflows.LedgerEvent{Kind: workflows.LedgerClosed, Outcome: workflows.OutcomeEnforced})
		second := newStory("TS-SECOND0001", "acct-a", abuse.Spam, t0.Add(20*h))
		legal := newStory("TS-LEGAL00001", "acct-a", abuse.LegalRequest, t0)
		for _, st := range []*story{first, second, legal} {
			if err := s.Record(ctx, workflows.RecordEventsInput{Case: st.c, Events: st.events}); err != nil {
				t.Fatal(err)
			}
		}
		subs := []ledger.Submitted{
			{ReportID: "r-early", CaseID: first.c.ID, Category: abuse.Spam, ReceivedAt: t0.Add(2 * h)},
			{ReportID: "r-late", CaseID: first.c.ID, Category: abuse.Spam, ReceivedAt: t0.Add(19 * h)},
			{ReportID: "r-range", CaseID: first.c.ID, Category: abuse.Spam, ReceivedAt: t0.Add(2 * h)},
			{ReportID: "r-range", CaseID: "case/acct-b/spam", Category: abuse.Spam, ReceivedAt: t0.Add(2 * h)},
			{ReportID: "r-legal", CaseID: legal.c.ID, Category: abuse.LegalRequest, ReceivedAt: t0.Add(h)},
			{ReportID: "r-triage", Ticket: zendeskTicket(42), Category: abuse.Spam, ReceivedAt: t0.Add(h)},
		}
		if err := s.RecordSubmitted(ctx, subs); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordSubmitted(ctx, subs[:1]); err != nil {
			t.Fatalf("recording again: %v", err)
		}
		one := func(id string) *ledger.ReportStatus {
			t.Helper()
			st, err := s.ReportStatus(ctx, id)
			if err != nil {
				t.Fatalf("%s: %v", id, err)
			}
			return st
		}
		if st := one("r-early"); len(st.Incidents) != 1 || st.Incidents[0].Number != "TS-FIRST00001" || st.Incidents[0].Outcome != "enforced" ||
			st.Incidents[0].Action != "throttle" || st.Incidents[0].ClosedAt.IsZero() || !st.ReceivedAt.Equal(t0.Add(2*h)) {
			t.Errorf("r-early: %+v; want the first incident, closed, enforced with a throttle", st)
		}
		if st := one("r-late"); len(st.Incidents) != 1 || st.Incidents[0].Number != "TS-SECOND0001" || !st.Incidents[0].ClosedAt.IsZero() {
			t.Errorf("r-late: %+v; want the second incident, open", st)
		}
		if st := one("r-range"); len(st.Incidents) != 1 || st.Pending != 1 {
			t.Errorf("r-range: %+v; want one incident and one case on its way", st)
		}
		if st := one("r-legal"); !st.Legal || len(st.Incidents) != 0 {
			t.Errorf("r-legal: %+v; want legal and nothing more", st)
		}
		if st := one("r-triage"); st.Ticket != zendeskTicket(42) || len(st.Incidents) != 0 {
			t.Errorf("r-triage: %+v; want ticket 42", st)
		}
		if _, err := s.ReportStatus(ctx, "r-unknown"); !errors.Is(err, ledger.ErrNoSuchReport) {
			t.Errorf("an unknown report: %v, want ErrNoSuchReport", err)
		}
	})
}
