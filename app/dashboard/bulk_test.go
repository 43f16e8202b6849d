package dashboard

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"abusedesk/app/ledger"
	"abusedesk/domain/abuse"
	"abusedesk/workflows"
)

// TestBulkLinksOnlyWhatIsNotConfidential: a bulk proposal links accounts by the reports of the
// tracks that are not confidential, whoever proposes: two accounts one phishing kit ties are one
// cluster, with only that indicator; a third account a legal matter ties to them is not part of
// it, and a proposal that names it is refused — the legal matter never reaches the leads.
func TestBulkLinksOnlyWhatIsNotConfidential(t *testing.T) {
	ctx := context.Background()
	store := newLedger(t)
	at := time.Now().Add(-time.Hour)
	record := func(number, account string, cat abuse.Category, subject string) {
		t.Helper()
		c := workflows.LedgerCase{Number: number, ID: "case/" + account + "/" + string(cat), Account: account, Category: cat, Track: cat.Track(), OpenedAt: at}
		evs := []workflows.LedgerEvent{{Key: "1", At: at, Kind: workflows.LedgerOpened},
			{Key: "2", At: at, Kind: workflows.LedgerReports, Count: 1, Reporters: []string{"feed@reporter.example"}, PerReporter: []int{1}, Indicators: abuse.ParseSubjects(subject)}}
		if err := store.Record(ctx, workflows.RecordEventsInput{Case: c, Events: evs}); err != nil {
			t.Fatal(err)
		}
	}
	record("TS-A", "acct-a", abuse.Phishing, "domain:kit.example")
	record("TS-B", "acct-b", abuse.Phishing, "domain:kit.example")
	record("TS-L1", "acct-b", abuse.LegalRequest, "domain:case-file.example")
	record("TS-L2", "acct-c", abuse.LegalRequest, "domain:case-file.example")
	d, err := New(Options{Trends: &Trends{Store: store, Rules: ledger.TrendRules{Window: time.Hour, Baseline: 24 * time.Hour, Factor: 3, Floor: 20, ClusterMaxAccounts: 20}}})
	if err != nil {
		t.Fatal(err)
	}
	links, err := d.linkedNow(ctx, []string{"acct-a", "acct-b"})
	if err != nil {
		t.Fatal(err)
	}
	if len(links) != 1 || links[0].Value != "kit.example" || !slices.Equal(links[0].Cases["acct-b"], []string{"TS-B"}) {
		t.Errorf("links %+v, want the kit's domain alone, with each account's own case", links)
	}
	if _, err := d.linkedNow(ctx, []string{"acct-a", "acct-b", "acct-c"}); err == nil || !strings.Contains(err.Error(), "not one cluster") {
		t.Errorf("a proposal a legal matter ties: %v, want refused", err)
	}
}
