package ledger_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"abusedesk/internal/abuse"
	"abusedesk/internal/ledger"
	"abusedesk/workflows"
)

// TestSearch: cases are found by an address, a range, a domain or subdomain, a sender, a phone
// number written any way, an account ID and part of the account's name; newest first.
func TestSearch(t *testing.T) {
	eachDatabase(t, func(t *testing.T, s *ledger.Store) {
		ctx := context.Background()
		record := func(n int, name string, at time.Duration, indicators ...string) {
			c := caseOf(n)
			c.AccountName, c.Category, c.OpenedAt = name, abuse.Phishing, t0.Add(at)
			e := ev("1", at, workflows.LedgerReports)
			e.Count, e.Indicators = 1, indicators
			if err := s.Record(ctx, workflows.RecordEventsInput{Case: c, Events: []workflows.LedgerEvent{e}}); err != nil {
				t.Fatal(err)
			}
		}
		record(1, "Northwind Bank", 0, "ip:192.0.2.10", "url:https://login.northwind-secure.example/verify", "phone:+15557654321")
		record(2, "Contoso Shop", time.Hour, "ip:192.0.2.77", "url:http://northwind-secure.example/", "sender:billing@contoso-mail.example")
		record(3, "Fabrikam", 2*time.Hour, "ip:198.51.100.5", "domain:fabrikam.example")
		for q, want := range map[string]string{
			"192.0.2.10":               "ip TS-0001",
			"192.0.2.0/24":             "range TS-0002 TS-0001",
			"northwind-secure.example": "domain TS-0002 TS-0001",
			"https://Login.Northwind-Secure.example/x": "domain TS-0001",
			"billing@contoso-mail.example":             "sender TS-0002",
			"+1 (555) 765-4321":                        "phone TS-0001",
			"0015557654321":                            "phone TS-0001",
			"acct-3":                                   "account TS-0003",
			"contoso":                                  "account TS-0002",
			"203.0.113.1":                              "ip",
		} {
			got, kind, more, err := s.Search(ctx, q, 10)
			if err != nil {
				t.Fatal(err)
			}
			if g := strings.TrimSpace(string(kind) + " " + strings.Join(got, " ")); g != want || more {
				t.Errorf("search %q: %q (more %v), want %q", q, g, more, want)
			}
		}
		if got, _, more, _ := s.Search(ctx, "192.0.2.0/24", 1); len(got) != 1 || !more {
			t.Errorf("a limit of 1: %v, more %v", got, more)
		}
	})
}

// TestHandOvers: a hand-over is kept once however often it is recorded, and listed newest first.
func TestHandOvers(t *testing.T) {
	eachDatabase(t, func(t *testing.T, s *ledger.Store) {
		ctx := context.Background()
		for i, h := range []ledger.HandOver{
			{At: t0, Kind: "triage", TicketID: 7, Reason: "category other", Digest: "d1"},
			{At: t0.Add(time.Minute), Kind: "not_ours", TicketID: 8, Reason: "answered: 203.0.113.9 not ours", Reporter: "cert@example.net", Digest: "d2"},
			{At: t0.Add(2 * time.Minute), Kind: "triage", TicketID: 7, Reason: "category other", Digest: "d1"},
			{At: t0.Add(3 * time.Minute), Kind: "triage", TicketID: 9, Reason: "legal track", Reporter: "police.example", Digest: "d3", Legal: true},
		} {
			if err := s.RecordHandOver(ctx, h); err != nil {
				t.Fatalf("%d: %v", i, err)
			}
		}
		got, err := s.HandOvers(ctx, t0.Add(-time.Hour), 10)
		if err != nil || len(got) != 3 || !got[0].Legal || got[1].Kind != "not_ours" || got[1].Legal || got[2].TicketID != 7 {
			t.Errorf("hand-overs %+v, %v; want the legal matter (marked), the answer, then the triage ticket once", got, err)
		}
	})
}

// TestAudit: every look is kept, newest first.
func TestAudit(t *testing.T) {
	eachDatabase(t, func(t *testing.T, s *ledger.Store) {
		ctx := context.Background()
		for i, who := range []string{"legal@desk.example", "legal2@desk.example", "legal@desk.example"} {
			if err := s.RecordAccess(ctx, ledger.Access{At: t0.Add(time.Duration(i) * time.Minute), Who: who, CaseNumber: "TS-LEGAL", What: "viewed"}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Accesses(ctx, "TS-LEGAL", 10)
		if err != nil || len(got) != 3 || got[0].Who != "legal@desk.example" || !got[0].At.Equal(t0.Add(2*time.Minute)) {
			t.Errorf("accesses %+v, %v", got, err)
		}
		if err := s.RecordAccess(ctx, ledger.Access{At: t0, CaseNumber: "TS-LEGAL"}); err == nil {
			t.Error("an access without who was kept")
		}
	})
}

// TestSessions: a session is kept until it is deleted or expires.
func TestSessions(t *testing.T) {
	eachDatabase(t, func(t *testing.T, s *ledger.Store) {
		ctx := context.Background()
		if err := s.PutSession(ctx, "s1", []byte(`{"email":"a@desk.example"}`), time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.PutSession(ctx, "old", []byte(`{}`), time.Now().Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		if data, ok, err := s.Session(ctx, "s1"); err != nil || !ok || string(data) != `{"email":"a@desk.example"}` {
			t.Errorf("s1: %s %v %v", data, ok, err)
		}
		if _, ok, err := s.Session(ctx, "old"); err != nil || ok {
			t.Errorf("an expired session: %v %v, want none", ok, err)
		}
		if err := s.DeleteSession(ctx, "s1"); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := s.Session(ctx, "s1"); err != nil || ok {
			t.Errorf("a deleted session: %v %v, want none", ok, err)
		}
	})
}
