package demo_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"abusedesk/devenv/demo"
	"abusedesk/devenv/enforcementapi"
	"abusedesk/devenv/hosting"
	"abusedesk/domain/abuse"
	"abusedesk/domain/policy"
	"abusedesk/integrations/reports"
)

// TestSamplesTellTheDemoStory: each sample reads as the demo means it to, and its address
// belongs to the demo account it is about (or to no one, for the "not ours" one).
func TestSamplesTellTheDemoStory(t *testing.T) {
	want := map[string]struct {
		kind     reports.Kind
		category string
		ip       string
		account  string
	}{
		"01-shop-spam-arf":       {reports.KindReport, "spam", "192.0.2.25", "acct-shop"},
		"02-bank-phishing-xarf4": {reports.KindReport, "phishing", "198.51.100.20", "acct-bank"},
		"03-again-ssh-fail2ban":  {reports.KindReport, "brute-force", "203.0.113.77", "acct-again"},
		"04-blaster-spamcop":     {reports.KindReport, "spam", "10.17.18.44", "acct-blaster"},
		"05-hosting-copyright":   {reports.KindReport, "copyright", "10.44.0.12", "acct-hosting"},
		"06-not-ours-portscan":   {reports.KindReport, "port-scan", "1.2.3.4", ""},
		"07-unreadable":          {reports.KindUnparseable, "", "", ""},
		// The bank's phishing kit, served from the shop as well: the two accounts are linked.
		"08-shop-phishing-kit-xarf4": {reports.KindReport, "phishing", "192.0.2.40", "acct-shop"},
		// A carrier's notice about the messaging customer's campaign (no address: its campaign).
		"09-texts-carrier-notice": {reports.KindReport, "carrier-notice", "campaign:CX7K2PQ", "acct-texts"},
	}
	api := enforcementapi.NewDemo("t")
	p := reports.New(reports.Options{})
	samples := demo.Samples()
	if len(samples) != len(want) {
		t.Errorf("%d samples, want %d", len(samples), len(want))
	}
	for _, s := range samples {
		w, ok := want[s.Name]
		if !ok {
			t.Errorf("sample %s is not described here", s.Name)
			continue
		}
		res := p.Parse(s.Raw)
		if res.Kind != w.kind {
			t.Errorf("%s: kind %s (%s), want %s", s.Name, res.Kind, res.Error, w.kind)
			continue
		}
		if w.kind != reports.KindReport {
			continue
		}
		r := res.Reports[0]
		if campaign, ok := strings.CutPrefix(w.ip, "campaign:"); ok {
			if string(r.Category) != w.category || !slices.Contains(r.Campaigns, campaign) {
				t.Errorf("%s: %s %v, want %s %s", s.Name, r.Category, r.Campaigns, w.category, campaign)
			}
			if got := api.HolderOf("campaign", campaign); got != w.account {
				t.Errorf("%s: campaign %s belongs to %q, want %q", s.Name, campaign, got, w.account)
			}
			continue
		}
		if string(r.Category) != w.category || !slices.Contains(r.SourceIPs, w.ip) {
			t.Errorf("%s: %s %v, want %s %s", s.Name, r.Category, r.SourceIPs, w.category, w.ip)
		}
		if got := api.OwnerOf(w.ip, r.EventTime); got != w.account {
			t.Errorf("%s: %s belongs to %q, want %q", s.Name, w.ip, got, w.account)
		}
	}
}

func TestDemoPolicyIsValid(t *testing.T) {
	p, err := policy.Parse(demo.Policy(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(p.Approvers.Groups, "SLEADS") {
		t.Errorf("the demo's approvers %+v lack the sandbox leads", p.Approvers)
	}
	if m := p.Monitoring; !m.On() || !slices.ContainsFunc(m.Blocklists, func(b policy.Blocklist) bool { return b.Zone == hosting.Zone }) {
		t.Errorf("the demo watches no network on the sandbox's blocklist: %+v", m)
	}
	if w := p.Snapshot("spam").Rules.ResponseWindow.D(); w.Minutes() > 5 {
		t.Errorf("spam window %v: a demo case should escalate within minutes", w)
	}
	// The demo shows the desk's real safety rules, only its clocks are faster: every category
	// asks the default policy's corroboration, a lead for the first action and fresh evidence.
	def, err := policy.Parse(policy.DefaultYAML(), "default")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range abuse.Categories {
		got, want := p.Snapshot(c).Rules, def.Snapshot(c).Rules
		if got.Corroboration.Reporters != want.Corroboration.Reporters || got.Approval.FirstEnforcement != want.Approval.FirstEnforcement ||
			got.MaxAge != want.MaxAge || got.ReviewSLA == 0 {
			t.Errorf("%s: the demo's corroboration %d, first enforcement %v, max age %s, review SLA %s; the default's %d, %v, %s",
				c, got.Corroboration.Reporters, got.Approval.FirstEnforcement, got.MaxAge, got.ReviewSLA,
				want.Corroboration.Reporters, want.Approval.FirstEnforcement, want.MaxAge)
		}
	}
}

// TestSamplesAreRecent: the samples come dated yesterday, whenever the demo runs, so none is too
// old for the desk to act on (the policy's max_age).
func TestSamplesAreRecent(t *testing.T) {
	p := reports.New(reports.Options{})
	for _, s := range demo.Samples() {
		res := p.Parse(s.Raw)
		for _, r := range res.Reports {
			for what, at := range map[string]time.Time{"event": r.EventTime, "received": r.ReceivedAt} {
				if !at.IsZero() && time.Since(at) > 3*24*time.Hour {
					t.Errorf("%s: %s time %v is old", s.Name, what, at)
				}
			}
		}
	}
}
