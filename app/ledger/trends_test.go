package ledger_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"abusedesk/app/ledger"
	"abusedesk/domain/abuse"
	"abusedesk/workflows"
)

var rules = ledger.TrendRules{Window: time.Hour, Baseline: 24 * time.Hour, Factor: 3, Floor: 20, ClusterMaxAccounts: 5}

// reportsAt records a case of account with n reports from reporter at a time, naming subjects.
func reportsAt(t *testing.T, s *ledger.Store, number, account string, cat abuse.Category, at time.Time, n int, reporter string, subjects ...string) {
	t.Helper()
	c := workflows.LedgerCase{Number: number, ID: "case/" + account + "/" + string(cat), Account: account, Category: cat, Track: cat.Track(), OpenedAt: at}
	evs := []workflows.LedgerEvent{{Key: "1", At: at, Kind: workflows.LedgerOpened},
		{Key: "2", At: at, Kind: workflows.LedgerReports, Count: n, Reporters: []string{reporter}, PerReporter: []int{n}, Indicators: abuse.ParseSubjects(subjects...)}}
	if err := s.Record(context.Background(), workflows.RecordEventsInput{Case: c, Events: evs}); err != nil {
		t.Fatal(err)
	}
}

// TestSpikesAgainstTheirBaseline: a category that usually sees 2 reports an hour and now 30 is
// a spike; one that always sees 30 is not; a burst under the floor is not; the addresses named
// spike by network. An alert for a spike is sent once however often it is looked at.
func TestSpikesAgainstTheirBaseline(t *testing.T) {
	eachDatabase(t, func(t *testing.T, s *ledger.Store) {
		now := t0.Add(48 * time.Hour)
		for h := 1; h <= 24; h++ { // the baseline day
			at := now.Add(-time.Hour - time.Duration(h)*time.Hour + time.Minute)
			reportsAt(t, s, fmt.Sprintf("TS-P%d", h), fmt.Sprintf("acct-p%d", h), abuse.Phishing, at, 2, "feed@phish.example")
			reportsAt(t, s, fmt.Sprintf("TS-S%d", h), "acct-s", abuse.Spam, at, 30, "fbl@isp.example")
		}
		// This hour: phishing jumps, spam is as usual, malware has a small burst; 25 addresses
		// of one /24 are named.
		var ips []string
		for i := range 25 {
			ips = append(ips, fmt.Sprintf("ip:198.51.100.%d", i+1))
		}
		reportsAt(t, s, "TS-PNOW", "acct-pnow", abuse.Phishing, now.Add(-10*time.Minute), 30, "feed@phish.example", ips...)
		reportsAt(t, s, "TS-SNOW", "acct-s", abuse.Spam, now.Add(-10*time.Minute), 30, "fbl@isp.example")
		reportsAt(t, s, "TS-MNOW", "acct-mnow", abuse.Malware, now.Add(-10*time.Minute), 10, "av@vendor.example")

		spikes, err := s.Spikes(context.Background(), now, rules)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, sp := range spikes {
			got[sp.Dimension+" "+sp.Subject] = sp.Count
		}
		want := map[string]int{"category phishing": 30, "reporter feed@phish.example": 30, "account acct-pnow": 30, "network/24 198.51.100.0/24": 25, "network/16 198.51.0.0/16": 25}
		if len(got) != len(want) {
			t.Errorf("spikes %v, want %v", got, want)
		}
		for k, n := range want {
			if got[k] != n {
				t.Errorf("spike %q counts %d, want %d (all: %v)", k, got[k], n, got)
			}
		}
		// Looked at three times (and by two processes): one alert a subject.
		sent := 0
		for range 3 {
			for _, sp := range spikes {
				if sp.Dimension != "category" {
					continue
				}
				ok, err := s.NewAlert(context.Background(), sp, rules.Window, 24*time.Hour)
				if err != nil {
					t.Fatal(err)
				}
				if ok {
					sent++
				}
			}
		}
		if sent != 1 {
			t.Errorf("%d alerts for one spike, want 1", sent)
		}
		alerted, err := s.Alerted(context.Background(), now.Add(-time.Hour))
		if err != nil || len(alerted) != 1 || alerted[0].Subject != "phishing" {
			t.Errorf("alerted %+v, %v", alerted, err)
		}
	})
}

// TestClustersLinkAccounts: two accounts whose phishing reports name the same host are one
// cluster; a third linked to the second by a phone number joins it; an address links nothing;
// a domain named for more accounts than the limit is too common to link.
func TestClustersLinkAccounts(t *testing.T) {
	eachDatabase(t, func(t *testing.T, s *ledger.Store) {
		at := t0
		reportsAt(t, s, "TS-1", "acct-a", abuse.Phishing, at, 1, "feed@x.example", "url:https://login-bank.example/verify?id=1", "ip:192.0.2.1")
		reportsAt(t, s, "TS-2", "acct-b", abuse.Phishing, at, 1, "feed@x.example", "url:http://LOGIN-BANK.example./other", "ip:192.0.2.1", "phone:+15555550100")
		reportsAt(t, s, "TS-3", "acct-c", abuse.Spam, at, 1, "feed@x.example", "phone:+15555550100")
		reportsAt(t, s, "TS-4", "acct-d", abuse.Spam, at, 1, "feed@x.example", "ip:192.0.2.1")
		for i := range 7 {
			reportsAt(t, s, fmt.Sprintf("TS-W%d", i), fmt.Sprintf("acct-w%d", i), abuse.Spam, at, 1, "fbl@isp.example", "sender:someone@webmail.example")
		}
		clusters, err := s.Clusters(context.Background(), t0.Add(-time.Hour), rules.ClusterMaxAccounts)
		if err != nil {
			t.Fatal(err)
		}
		if len(clusters) != 1 {
			t.Fatalf("%d clusters, want 1: %+v", len(clusters), clusters)
		}
		c := clusters[0]
		if fmt.Sprint(c.Accounts) != "[acct-a acct-b acct-c]" || len(c.Links) != 2 {
			t.Errorf("cluster %+v, want acct-a, -b, -c by a host and a phone", c)
		}
		for _, l := range c.Links {
			if l.Kind == "host" && (l.Value != "login-bank.example" || len(l.Cases) != 2) {
				t.Errorf("host link %+v", l)
			}
		}
		// Leaving a category out (the legal track, for someone without the legal role) leaves
		// its cases out of the links: without the phishing cases only the phone is shared, by one
		// account, and nothing links.
		if hidden, err := s.Clusters(context.Background(), t0.Add(-time.Hour), rules.ClusterMaxAccounts, string(abuse.Phishing)); err != nil || len(hidden) != 0 {
			t.Errorf("clusters without phishing: %+v, %v", hidden, err)
		}
	})
}

// TestAlertSpikesSendsEachOnceEvenAfterAFailure: spikes whose alert could not be posted are
// posted at the next look, together in one message, and then not again.
func TestAlertSpikesSendsEachOnceEvenAfterAFailure(t *testing.T) {
	eachDatabase(t, func(t *testing.T, s *ledger.Store) {
		now := t0.Add(48 * time.Hour)
		reportsAt(t, s, "TS-X", "acct-x", abuse.Phishing, now.Add(-5*time.Minute), 40, "feed@phish.example")
		var posted []string
		fail := true
		post := func(_ context.Context, text string) error {
			if fail {
				return fmt.Errorf("slack is down")
			}
			posted = append(posted, text)
			return nil
		}
		if n, err := s.AlertSpikes(context.Background(), now, rules, 24*time.Hour, "http://desk/trends", post); err == nil || n != 0 {
			t.Fatalf("with Slack down: %d sent, err %v", n, err)
		}
		fail = false
		for range 3 {
			if _, err := s.AlertSpikes(context.Background(), now.Add(time.Minute), rules, 24*time.Hour, "http://desk/trends", post); err != nil {
				t.Fatal(err)
			}
		}
		// category, reporter and account each spiked: one alert listing the three, once.
		if len(posted) != 1 {
			t.Fatalf("posted %d alerts, want 1: %q", len(posted), posted)
		}
		for _, want := range []string{"3 spikes", "40 reports of phishing", "40 reports from feed@phish.example", "40 reports about account acct-x", "http://desk/trends"} {
			if !strings.Contains(posted[0], want) {
				t.Errorf("alert %q lacks %q", posted[0], want)
			}
		}
	})
}

// TestSpikesTextListsAtMostTen: many spikes are one message, the biggest first, the rest counted.
func TestSpikesTextListsAtMostTen(t *testing.T) {
	var spikes []ledger.Spike
	for i := range 15 {
		spikes = append(spikes, ledger.Spike{Dimension: "network", Subject: fmt.Sprintf("192.0.2.%d/32", i), Count: 20 + i, Baseline: 1, WindowStart: t0})
	}
	text := ledger.SpikesText(spikes, time.Hour, "")
	if !strings.Contains(text, "15 spikes") || !strings.Contains(text, "and 5 more") || strings.Count(text, "\n• ") != 11 {
		t.Errorf("text:\n%s", text)
	}
	if i, j := strings.Index(text, "34 addresses"), strings.Index(text, "33 addresses"); i < 0 || j < i {
		t.Errorf("not biggest first:\n%s", text)
	}
}

// TestClustersIgnoreTheProvidersOwnDomains: accounts whose reports both name one of the
// provider's own hosts (its webmail, its customer subdomains) are not linked by it.
func TestClustersIgnoreTheProvidersOwnDomains(t *testing.T) {
	eachDatabase(t, func(t *testing.T, s *ledger.Store) {
		at := t0.Add(-30 * time.Minute)
		reportsAt(t, s, "TS-O1", "acct-o1", abuse.Spam, at, 1, "feed@x.example", "url:https://webmail.provider.example/login", "sender:noreply@provider.example")
		reportsAt(t, s, "TS-O2", "acct-o2", abuse.Spam, at, 1, "feed@x.example", "url:https://webmail.provider.example/login", "sender:noreply@provider.example")
		linked, err := s.Clusters(context.Background(), t0.Add(-time.Hour), rules.ClusterMaxAccounts)
		if err != nil || len(linked) != 1 {
			t.Fatalf("without own domains: %+v %v, want the two accounts linked", linked, err)
		}
		s.OwnDomains = []string{"Provider.example"}
		if apart, err := s.Clusters(context.Background(), t0.Add(-time.Hour), rules.ClusterMaxAccounts); err != nil || len(apart) != 0 {
			t.Errorf("with provider.example our own: %+v %v, want nothing linked", apart, err)
		}
	})
}

// TestClustersIgnoreTheReportersDomains: two customers whose reports name the reporter's own
// site (its signature, its reporting portal) are not linked by it; a host the reporter does not
// own still links them.
func TestClustersIgnoreTheReportersDomains(t *testing.T) {
	eachDatabase(t, func(t *testing.T, s *ledger.Store) {
		at := t0.Add(-30 * time.Minute)
		reportsAt(t, s, "TS-R1", "acct-r1", abuse.Phishing, at, 1, "abuse@phishwatch.example", "url:https://portal.phishwatch.example/report/1", "domain:phishwatch.example")
		reportsAt(t, s, "TS-R2", "acct-r2", abuse.Phishing, at, 1, "abuse@phishwatch.example", "url:https://portal.phishwatch.example/report/2", "domain:phishwatch.example")
		if linked, err := s.Clusters(context.Background(), t0.Add(-time.Hour), rules.ClusterMaxAccounts); err != nil || len(linked) != 0 {
			t.Errorf("linked by the reporter's own site: %+v %v", linked, err)
		}
		reportsAt(t, s, "TS-R3", "acct-r2", abuse.Phishing, at, 1, "abuse@phishwatch.example", "url:https://kit.badhost.example/a")
		reportsAt(t, s, "TS-R4", "acct-r1", abuse.Phishing, at, 1, "abuse@phishwatch.example", "url:https://kit.badhost.example/b")
		if linked, err := s.Clusters(context.Background(), t0.Add(-time.Hour), rules.ClusterMaxAccounts); err != nil || len(linked) != 1 {
			t.Errorf("a shared host not the reporter's: %+v %v, want the two linked", linked, err)
		}
	})
}

// TestLegalReportsSpikeForNobody: a burst of legal-track reports (CSAM notices, police
// requests) is no spike in the leads' alert, nor on the trends page of someone without the
// legal role; the legal team still sees it.
func TestLegalReportsSpikeForNobody(t *testing.T) {
	eachDatabase(t, func(t *testing.T, s *ledger.Store) {
		ctx := context.Background()
		now := t0.Add(48 * time.Hour)
		reportsAt(t, s, "TS-L", "acct-l", abuse.CSAM, now.Add(-5*time.Minute), 40, "hotline@inhope.example", "ip:192.0.2.10")
		var posted []string
		post := func(_ context.Context, text string) error { posted = append(posted, text); return nil }
		if n, err := s.AlertSpikes(ctx, now, rules, 24*time.Hour, "", post); err != nil || n != 0 || len(posted) != 0 {
			t.Errorf("the leads' alert: %d spikes, %q (%v); want none", n, posted, err)
		}
		if sp, err := s.Spikes(ctx, now, rules, ledger.LegalCategories()...); err != nil || len(sp) != 0 {
			t.Errorf("without the legal role: %+v (%v), want no spike", sp, err)
		}
		if sp, err := s.Spikes(ctx, now, rules); err != nil || len(sp) == 0 {
			t.Errorf("for the legal team: %+v (%v), want the burst", sp, err)
		}
	})
}

// TestCampaignSpikes: a campaign whose complaints jump against its baseline spikes by itself,
// though the account's other campaign and the category's usual traffic hide it in the account
// and category counts; a campaign at its usual level does not.
func TestCampaignSpikes(t *testing.T) {
	eachDatabase(t, func(t *testing.T, s *ledger.Store) {
		now := t0.Add(48 * time.Hour)
		for h := 1; h <= 24; h++ { // the baseline day: both campaigns 1 complaint an hour, the number 40
			at := now.Add(-time.Hour - time.Duration(h)*time.Hour + time.Minute)
			reportsAt(t, s, fmt.Sprintf("TS-CA%d", h), "acct-t", abuse.SMSSpam, at, 1, "reports@7726.example", "campaign:CAAAAAA")
			reportsAt(t, s, fmt.Sprintf("TS-CB%d", h), "acct-t", abuse.SMSSpam, at, 1, "reports@7726.example", "campaign:CBBBBBB")
			reportsAt(t, s, fmt.Sprintf("TS-N%d", h), "acct-t", abuse.SMSSpam, at, 40, "reports@7726.example", "phone:+13125550100")
		}
		reportsAt(t, s, "TS-CANOW", "acct-t", abuse.SMSSpam, now.Add(-10*time.Minute), 25, "reports@7726.example", "campaign:CAAAAAA")
		reportsAt(t, s, "TS-CBNOW", "acct-t", abuse.SMSSpam, now.Add(-10*time.Minute), 1, "reports@7726.example", "campaign:CBBBBBB")
		reportsAt(t, s, "TS-NNOW", "acct-t", abuse.SMSSpam, now.Add(-10*time.Minute), 40, "reports@7726.example", "phone:+13125550100")
		spikes, err := s.Spikes(context.Background(), now, rules)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, sp := range spikes {
			got = append(got, fmt.Sprintf("%s %s %d", sp.Dimension, sp.Subject, sp.Count))
		}
		if len(got) != 1 || got[0] != "campaign CAAAAAA 25" {
			t.Errorf("spikes %v, want the one campaign's (25 complaints against 1 an hour)", got)
		}
		if hidden, err := s.Spikes(context.Background(), now, rules, string(abuse.SMSSpam)); err != nil || len(hidden) != 0 {
			t.Errorf("with its category excluded: %v %v", hidden, err)
		}
	})
}

// TestNewAccounts: an account whose first case opened within a week of the account's own
// opening is listed; one reported later in its life, one whose age is not known and one whose
// first case is older than the period are not; a hidden category's cases count nowhere.
func TestNewAccounts(t *testing.T) {
	eachDatabase(t, func(t *testing.T, s *ledger.Store) {
		h := 24 * time.Hour
		record := func(number, account string, cat abuse.Category, created, opened time.Time) {
			c := workflows.LedgerCase{Number: number, ID: "case/" + account + "/" + string(cat), Account: account, AccountName: "Name of " + account,
				Category: cat, Track: cat.Track(), OpenedAt: opened, AccountCreated: created}
			evs := []workflows.LedgerEvent{{Key: "1", At: opened, Kind: workflows.LedgerOpened}, {Key: "2", At: opened, Kind: workflows.LedgerReports, Count: 2}}
			if err := s.Record(context.Background(), workflows.RecordEventsInput{Case: c, Events: evs}); err != nil {
				t.Fatal(err)
			}
		}
		now := t0.Add(40 * h)
		record("TS-N1", "acct-new", abuse.SMSSpam, now.Add(-5*h), now.Add(-3*h))  // 2 days old at its first case
		record("TS-N2", "acct-new", abuse.Smishing, now.Add(-5*h), now.Add(-2*h)) // and a second case
		record("TS-N3", "acct-old", abuse.Spam, now.Add(-400*h), now.Add(-h))     // a year old
		record("TS-N4", "acct-unknown", abuse.Spam, time.Time{}, now.Add(-h))     // age not known
		record("TS-N5", "acct-legal", abuse.LegalRequest, now.Add(-3*h), now.Add(-2*h))
		got, err := s.NewAccounts(context.Background(), now.Add(-30*h), string(abuse.LegalRequest))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Account != "acct-new" || got[0].Cases != 2 || got[0].Reports != 4 || !got[0].FirstCase.Equal(now.Add(-3*h)) || got[0].Name != "Name of acct-new" {
			t.Errorf("new accounts %+v, want acct-new with 2 cases, 4 reports, first case 3 days ago", got)
		}
		if all, err := s.NewAccounts(context.Background(), now.Add(-30*h)); err != nil || len(all) != 2 {
			t.Errorf("with the legal track shown: %+v %v, want acct-new and acct-legal", all, err)
		}
		if none, err := s.NewAccounts(context.Background(), now.Add(-36*time.Hour)); err != nil || len(none) != 0 {
			t.Errorf("since after acct-new's first case: %+v %v", none, err)
		}
	})
}
