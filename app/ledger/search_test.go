package ledger_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"abusedesk/app/ledger"
	"abusedesk/domain/abuse"
	"abusedesk/domain/ticket"
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
			e.Count, e.Indicators = 1, abuse.ParseSubjects(indicators...)
			if err := s.Record(ctx, workflows.RecordEventsInput{Case: c, Events: []workflows.LedgerEvent{e}}); err != nil {
				t.Fatal(err)
			}
		}
		record(1, "Northwind Bank", 0, "ip:192.0.2.10", "url:https://login.northwind-secure.example/verify", "phone:+15557654321")
		record(2, "Contoso Shop", time.Hour, "ip:192.0.2.77", "url:http://northwind-secure.example/", "sender:billing@contoso-mail.example")
		record(3, "Fabrikam", 2*time.Hour, "ip:198.51.100.5", "domain:fabrikam.example")
		record(4, "Text Blast", 3*time.Hour, "campaign:CX7K2PQ", "sender-id:TXTBLAST", "messaging-service:MG-Promo", "phone:+13125550142")
		for q, want := range map[string]string{
			"192.0.2.10":               "ip TS-0001",
			"192.0.2.0/24":             "range TS-0002 TS-0001",
			"northwind-secure.example": "domain TS-0002 TS-0001",
			"https://Login.Northwind-Secure.example/x": "domain TS-0001",
			"billing@contoso-mail.example":             "sender TS-0002",
			"+1 (555) 765-4321":                        "phone TS-0001",
			"0015557654321":                            "phone TS-0001",
			"tel:+1-555-765-4321":                      "phone TS-0001",
			"acct-3":                                   "account TS-0003",
			"contoso":                                  "account TS-0002",
			"203.0.113.1":                              "ip",
			"cx7k2pq":                                  "identity TS-0004",
			"campaign:CX7K2PQ":                         "identity TS-0004",
			"TxtBlast":                                 "identity TS-0004",
			"mg-promo":                                 "identity TS-0004",
			"text blast":                               "account TS-0004",
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
		// The names the pages show instead of IDs; the newest case's name wins.
		c := caseOf(5)
		c.Account, c.AccountName, c.OpenedAt = caseOf(2).Account, "Contoso Shop GmbH", t0.Add(3*time.Hour)
		if err := s.Record(ctx, workflows.RecordEventsInput{Case: c, Events: []workflows.LedgerEvent{ev("1", 3*time.Hour, workflows.LedgerOpened)}}); err != nil {
			t.Fatal(err)
		}
		names, err := s.AccountNames(ctx, []string{caseOf(1).Account, caseOf(2).Account, caseOf(2).Account, "acct-nobody"})
		if err != nil || len(names) != 2 || names[caseOf(1).Account] != "Northwind Bank" || names[caseOf(2).Account] != "Contoso Shop GmbH" {
			t.Errorf("account names %v (%v)", names, err)
		}
		if names, err := s.AccountNames(ctx, nil); err != nil || len(names) != 0 {
			t.Errorf("no accounts: %v %v", names, err)
		}
	})
}

// TestSearchClause: a case number is found by its number whatever its case; with a ledger the
// reports' indicators find cases, and nothing matching says so; without one, the account ID.
// What someone typed stays inside its quotes.
func TestSearchClause(t *testing.T) {
	ctx := context.Background()
	for q, want := range map[string]string{
		"ts-abcd2345":       "case_number AbuseCaseNumber = 'TS-ABCD2345'",
		" acct-shop ":       "account AbuseAccount = 'acct-shop'",
		"x' OR AbuseStatus": `account AbuseAccount = 'x\' OR AbuseStatus'`,
	} {
		m, err := ledger.SearchClause(ctx, nil, q, 10)
		if got := string(m.Kind) + " " + m.Clause; err != nil || got != want || m.None {
			t.Errorf("without a ledger, %q: %q (%v), want %q", q, got, err, want)
		}
	}
	eachDatabase(t, func(t *testing.T, s *ledger.Store) {
		c := caseOf(1)
		e := ev("1", 0, workflows.LedgerReports)
		e.Count, e.Indicators = 1, abuse.ParseSubjects("ip:192.0.2.10")
		if err := s.Record(ctx, workflows.RecordEventsInput{Case: c, Events: []workflows.LedgerEvent{e}}); err != nil {
			t.Fatal(err)
		}
		if m, err := ledger.SearchClause(ctx, s, "192.0.2.10", 10); err != nil || m.Kind != ledger.SearchIP || m.Clause != "AbuseCaseNumber IN ('TS-0001')" {
			t.Errorf("by IP: %+v %v", m, err)
		}
		if m, err := ledger.SearchClause(ctx, s, "203.0.113.9", 10); err != nil || !m.None || m.Clause != "" {
			t.Errorf("an IP nobody reported: %+v %v, want none", m, err)
		}
		if m, err := ledger.SearchClause(ctx, s, "acct-1", 10); err != nil || m.Clause != "(AbuseAccount = 'acct-1' OR AbuseCaseNumber IN ('TS-0001'))" {
			t.Errorf("by account: %+v %v", m, err)
		}
	})
}

// TestHandOvers: a hand-over is kept once however often it is recorded, and listed newest first.
func TestHandOvers(t *testing.T) {
	eachDatabase(t, func(t *testing.T, s *ledger.Store) {
		ctx := context.Background()
		for i, h := range []ledger.HandOver{
			{At: t0, Kind: "triage", Ticket: zendeskTicket(7), Reason: "category other", Digest: "d1"},
			{At: t0.Add(time.Minute), Kind: "not_ours", Ticket: zendeskTicket(8), Reason: "answered: 203.0.113.9 not ours", Reporter: "cert@example.net", Digest: "d2"},
			{At: t0.Add(2 * time.Minute), Kind: "triage", Ticket: zendeskTicket(7), Reason: "category other", Digest: "d1"},
			{At: t0.Add(3 * time.Minute), Kind: "triage", Ticket: zendeskTicket(9), Reason: "legal track", Reporter: "police.example", Digest: "d3", Legal: true},
		} {
			if err := s.RecordHandOver(ctx, h); err != nil {
				t.Fatalf("%d: %v", i, err)
			}
		}
		got, err := s.HandOvers(ctx, t0.Add(-time.Hour), 10)
		if err != nil || len(got) != 3 || !got[0].Legal || got[1].Kind != "not_ours" || got[1].Legal || got[2].Ticket != zendeskTicket(7) {
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

// zendeskTicket is a reference to Zendesk ticket n.
func zendeskTicket(n int) ticket.Ref {
	return ticket.Ref{System: ticket.Zendesk, ID: strconv.Itoa(n)}
}
