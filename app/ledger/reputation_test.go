package ledger_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"abusedesk/app/ledger"
	"abusedesk/domain/abuse"
	"abusedesk/workflows"
)

// TestReputation: the reputation figures count, per network of the provider, the addresses the
// reports named, the cases and the listed addresses; rank the worst ranges and accounts; count
// listings per day — and never count a legal matter's addresses.
func TestReputation(t *testing.T) {
	eachDatabase(t, func(t *testing.T, s *ledger.Store) {
		h := time.Hour
		ip := func(v ...string) workflows.LedgerEvent {
			e := workflows.LedgerEvent{Kind: workflows.LedgerReports, Count: len(v), Reporters: []string{"r@x.example"}}
			for _, a := range v {
				e.Indicators = append(e.Indicators, abuse.Subject{Kind: abuse.SubjectIP, Value: a})
			}
			return e
		}
		for _, st := range []*story{
			newStory("TS-R1", "acct-1", abuse.Spam, t0).at(0, ip("192.0.2.5", "192.0.2.6")),
			newStory("TS-R2", "acct-1", abuse.Blocklist, t0.Add(h)).at(0, ip("192.0.2.5")),
			newStory("TS-R3", "acct-2", abuse.Phishing, t0.Add(2*h)).at(0, ip("198.51.100.9")),
			newStory("TS-R4", "acct-3", abuse.LegalRequest, t0.Add(3*h)).at(0, ip("192.0.2.7", "198.51.100.10")),
			newStory("TS-R5", "acct-4", abuse.Vulnerable, t0.Add(4*h)).at(0, ip("2001:db8:1:2::5")),
		} {
			if err := s.Record(context.Background(), workflows.RecordEventsInput{Case: st.c, Events: st.events}); err != nil {
				t.Fatal(err)
			}
		}
		r, err := s.Reputation(context.Background(), ledger.ReputationQuery{From: t0.Add(-24 * h), To: t0.Add(48 * h),
			Networks: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.51.100.0/25"), netip.MustParsePrefix("2001:db8::/32")}})
		if err != nil {
			t.Fatal(err)
		}
		want := []ledger.NetworkReputation{
			{Network: "192.0.2.0/24", Size: 256, Unit: "address", Reported: 2, Cases: 2, CasesPer1000: 7.81, Listed: 1},
			{Network: "198.51.100.0/25", Size: 128, Unit: "address", Reported: 1, Cases: 1, CasesPer1000: 7.81},
			{Network: "2001:db8::/32", Size: 1 << 32, Unit: "/64", Reported: 1, Cases: 1, CasesPer1000: 0},
		}
		for i, w := range want {
			if i >= len(r.Networks) || r.Networks[i] != w {
				t.Errorf("network %d: %+v, want %+v", i, r.Networks, w)
			}
		}
		if len(r.WorstRanges) != 3 || r.WorstRanges[0] != (ledger.RangeReputation{Range: "192.0.2.0/24", Cases: 2, Reported: 2, Listed: 1}) ||
			r.WorstRanges[2].Range != "2001:db8:1::/48" {
			t.Errorf("worst ranges: %+v", r.WorstRanges)
		}
		if len(r.Accounts) != 3 || r.Accounts[0] != (ledger.AccountReputation{Account: "acct-1", Cases: 2, Listings: 1}) {
			t.Errorf("accounts: %+v; want acct-1 first (a listing), and no legal matter's account", r.Accounts)
		}
		for _, a := range r.Accounts {
			if a.Account == "acct-3" {
				t.Errorf("a legal matter's account is counted: %+v", a)
			}
		}
		listings := 0
		for _, d := range r.ListingsByDay {
			listings += d.Count
			if d.Count > 0 && d.Day != t0.UTC().Format(time.DateOnly) {
				t.Errorf("a listing on %s, want on %s", d.Day, t0.UTC().Format(time.DateOnly))
			}
		}
		if len(r.ListingsByDay) != 4 || listings != 1 { // 1 to 4 November
			t.Errorf("listings by day: %+v", r.ListingsByDay)
		}
	})
}
