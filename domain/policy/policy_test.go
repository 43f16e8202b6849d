package policy

import (
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"abusedesk/domain/abuse"
)

func TestDefaultPolicy(t *testing.T) {
	p := Default()
	tests := []struct {
		category abuse.Category
		window   time.Duration
		action   abuse.ActionType
		approval bool
	}{
		{abuse.Spam, 72 * time.Hour, abuse.ActionThrottle, false},
		{abuse.Phishing, 24 * time.Hour, abuse.ActionSuspendSending, false},
		{abuse.Malware, 24 * time.Hour, abuse.ActionSuspendSending, false},
		{abuse.DoS, 12 * time.Hour, abuse.ActionThrottle, false},
		{abuse.Copyright, 72 * time.Hour, abuse.ActionSuspendAccount, true},
		{abuse.AuthFailure, 7 * 24 * time.Hour, abuse.ActionNone, false},
		{abuse.Other, 72 * time.Hour, abuse.ActionThrottle, true},
	}
	for _, tc := range tests {
		t.Run(string(tc.category), func(t *testing.T) {
			r := p.Snapshot(tc.category).Rules
			if r.ResponseWindow.D() != tc.window {
				t.Errorf("response window %v, want %v", r.ResponseWindow, tc.window)
			}
			if r.Action.Type != tc.action {
				t.Errorf("action %v, want %v", r.Action.Type, tc.action)
			}
			if r.Approval.Required != tc.approval {
				t.Errorf("approval required %v, want %v", r.Approval.Required, tc.approval)
			}
			if r.Category != tc.category {
				t.Errorf("category %q, want %q", r.Category, tc.category)
			}
		})
	}
	// A category that overrides only its window keeps the default appeal rules.
	if got := p.Snapshot(abuse.Spam).Rules.Appeal.Window.D(); got != 14*24*time.Hour {
		t.Errorf("spam appeal window %v, want 14d from defaults", got)
	}
	if p.Version == "" {
		t.Error("policy has no version")
	}
}

func TestEffectiveTracks(t *testing.T) {
	snap := Default().Snapshot(abuse.Spam)
	tests := []struct {
		name     string
		tier     string
		prior    int
		track    string
		window   time.Duration
		level    int
		approval bool
	}{
		{"standard account", abuse.TierStandard, 0, TrackStandard, 72 * time.Hour, 2, false},
		{"one prior violation is not yet a repeat", abuse.TierStandard, 1, TrackStandard, 72 * time.Hour, 2, false},
		{"repeat offender gets the strict track", abuse.TierStandard, 2, TrackStrict, 24 * time.Hour, 3, false},
		{"strategic account always needs approval", abuse.TierStrategic, 0, TrackStrategic, 72 * time.Hour, 2, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, track := snap.Effective(tc.tier, tc.prior)
			if track != tc.track || r.ResponseWindow.D() != tc.window || r.Action.Level != tc.level || r.Approval.Required != tc.approval {
				t.Errorf("got track=%s window=%v level=%d approval=%v, want %s %v %d %v",
					track, r.ResponseWindow, r.Action.Level, r.Approval.Required, tc.track, tc.window, tc.level, tc.approval)
			}
			for _, off := range r.Reminders {
				if off >= r.ResponseWindow {
					t.Errorf("reminder %v not inside the window %v", off, r.ResponseWindow)
				}
			}
		})
	}
	// Effective must not share the snapshot's reminder slice.
	r, _ := snap.Effective(abuse.TierStandard, 5)
	if len(r.Reminders) == len(snap.Rules.Reminders) {
		t.Fatalf("strict track kept all reminders %v", r.Reminders)
	}
	if len(snap.Rules.Reminders) != 2 {
		t.Errorf("Effective changed the snapshot's reminders: %v", snap.Rules.Reminders)
	}
}

func TestBrokenPolicies(t *testing.T) {
	base := string(DefaultYAML())
	tests := []struct {
		name  string
		yaml  string
		field string
		line  bool
	}{
		{"negative window", strings.Replace(base, "response_window: 12h", "response_window: -1h", 1), "categories.dos.response_window", true},
		{"reminder after deadline", strings.Replace(base, "reminders: [6h]", "reminders: [13h]", 1), "categories.dos.reminders[0]", true},
		{"unknown category", strings.Replace(base, "categories:\n", "categories:\n  spamm:\n    response_window: 1h\n", 1), "categories.spamm", true},
		{"unknown action", strings.Replace(base, "type: suspend_account", "type: delete_everything", 1), "categories.copyright.action.type", true},
		{"bad duration", strings.Replace(base, "timeout: 8h", "timeout: soon", 1), "defaults.approval.timeout", true},
		{"typo in field", strings.Replace(base, "extend_by: 48h", "extnd_by: 48h", 1), "defaults.extnd_by", true},
		{"bad on_timeout", strings.Replace(base, "on_timeout: hold", "on_timeout: panic", 1), "defaults.approval.on_timeout", true},
		{"timeout enforces", strings.Replace(base, "on_timeout: hold", "on_timeout: enforce", 1), "defaults.approval.on_timeout", true},
		{"triage reminder after the SLA", strings.Replace(base, "reminders: [1h, 2h]", "reminders: [1h, 5h]", 1), "triage.reminders[1]", true},
		{"legal reminder after the due time", strings.Replace(base, "reminders: [24h, 48h]\n  preservation:", "reminders: [24h, 96h]\n  preservation:", 1), "legal.reminders[1]", true},
		{"bad legal on-call", strings.Replace(base, "oncall:\n    users: []", "oncall:\n    users: [bob]", 1), "legal.oncall.users[0]", true},
		{"preservation reminder before anything is preserved", strings.Replace(base, "preservation_reminder: 14d", "preservation_reminder: 91d", 1), "legal.preservation_reminder", true},
		{"bad manager", strings.Replace(base, "managers:\n  users: []", "managers:\n  users: [bob]", 1), "managers.users[0]", true},
		{"throttle without level", strings.Replace(base, "level: 1\n", "level: 7\n", 1), "categories.port-scan.action.level", true},
		{"bad approver", strings.Replace(base, "users: []", "users: [alice]", 1), "approvers.users[0]", true},
		{"wrong version", strings.Replace(base, "version: 1", "version: 2", 1), "version", true},
		{"not yaml", "version: [1", "(file)", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), "test.yaml")
			if err == nil {
				t.Fatal("broken policy accepted")
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *policy.Error", err)
			}
			if tc.field != "" && pe.Field != tc.field {
				t.Errorf("error names field %q, want %q (%v)", pe.Field, tc.field, err)
			}
			if tc.line && pe.Line == 0 {
				t.Errorf("error has no line: %v", err)
			}
			if !strings.HasPrefix(err.Error(), "test.yaml") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestUnknownCategoryNamed(t *testing.T) {
	_, err := Parse([]byte(strings.Replace(string(DefaultYAML()), "categories:\n", "categories:\n  spamm:\n    response_window: 1h\n", 1)), "p.yaml")
	if err == nil || !strings.Contains(err.Error(), "categories.spamm: unknown category") {
		t.Fatalf("got %v, want the unknown category named", err)
	}
}

func TestDurations(t *testing.T) {
	for in, want := range map[string]time.Duration{"90s": 90 * time.Second, "14d": 14 * 24 * time.Hour, "1h30m": 90 * time.Minute} {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "-3d", "soon"} {
		if _, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) accepted", in)
		}
	}
	for d, want := range map[time.Duration]string{14 * 24 * time.Hour: "14d", 24 * time.Hour: "24h", 36 * time.Hour: "36h", 90 * time.Minute: "1h30m", 45 * time.Second: "45s", 2 * time.Minute: "2m"} {
		if s := Duration(d).String(); s != want {
			t.Errorf("Duration(%v).String() = %q, want %q", d, s, want)
		}
	}
}

// TestOtherTracksAreNotViolations: the categories of the advisory, legal and customer tracks
// get no action and wait for a lead, unless the policy file says otherwise — but for CSAM,
// whose takedown (suspending the account) a lead approves.
func TestOtherTracksAreNotViolations(t *testing.T) {
	p := Default()
	for _, c := range abuse.Categories {
		r := p.Categories[c]
		if c.Track().Violation() {
			continue
		}
		want := abuse.ActionNone
		if c == abuse.CSAM {
			want = abuse.ActionTakedown // each reported resource, not the account
		}
		if r.Action.Type != want || !r.Approval.Required || r.Approval.OnTimeout != OnTimeoutHold || r.AcknowledgeReporters {
			t.Errorf("%s (%s track): %+v", c, c.Track(), r)
		}
	}
	if p.Categories[abuse.Spam].Action.Type != abuse.ActionThrottle {
		t.Error("an abuse category lost its action")
	}
	// A file that configures one of them is followed.
	q, err := Parse([]byte(strings.Replace(string(DefaultYAML()), "categories:\n", "categories:\n  vulnerable:\n    action:\n      type: throttle\n      level: 1\n", 1)), "x")
	if err != nil {
		t.Fatal(err)
	}
	if q.Categories[abuse.Vulnerable].Action.Type != abuse.ActionThrottle {
		t.Errorf("vulnerable as configured: %+v", q.Categories[abuse.Vulnerable].Action)
	}
}

// TestDurationJSON: durations are written as people write them, and both that and the
// nanoseconds of older snapshots are read.
func TestDurationJSON(t *testing.T) {
	b, err := json.Marshal(struct{ W Duration }{Duration(72 * time.Hour)})
	if err != nil || string(b) != `{"W":"3d"}` {
		t.Errorf("marshal: %s %v", b, err)
	}
	for in, want := range map[string]time.Duration{`"36h"`: 36 * time.Hour, `"14d"`: 14 * 24 * time.Hour, `259200000000000`: 72 * time.Hour} {
		var d Duration
		if err := json.Unmarshal([]byte(in), &d); err != nil || d.D() != want {
			t.Errorf("unmarshal %s: %v %v, want %v", in, d.D(), err, want)
		}
	}
	var d Duration
	if err := json.Unmarshal([]byte(`"banana"`), &d); err == nil {
		t.Error("a banana parsed as a duration")
	}
}

// TestOnlyAThrottleHasALevel: a category that suspends does not inherit the defaults'
// throttle level into its cases and notices.
func TestOnlyAThrottleHasALevel(t *testing.T) {
	p := Default()
	if a := p.Categories[abuse.Phishing].Action; a.Type != abuse.ActionSuspendSending || a.Level != 0 {
		t.Errorf("phishing action %+v, want suspend_sending without a level", a)
	}
	if a := p.Categories[abuse.Spam].Action; a.Type != abuse.ActionThrottle || a.Level != 2 {
		t.Errorf("spam action %+v, want throttle level 2", a)
	}
}

// TestTrendsAndTransparencySections: a section that sets some fields keeps the defaults of
// the others; a broken one names its field.
func TestTrendsAndTransparencySections(t *testing.T) {
	base, err := os.ReadFile("default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cut := strings.Index(string(base), "\ntrends:")
	end := strings.Index(string(base), "\n# The DSA transparency report")
	if cut < 0 || end < 0 {
		t.Fatal("default.yaml has no trends section before the transparency one")
	}
	with := func(section string) string { return string(base[:cut]) + "\n" + section + "\n" + string(base[end:]) }
	p, err := Parse([]byte(with("trends:\n  floor: 50")), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p.Trends.Floor != 50 || p.Trends.Window.D() != time.Hour || p.Trends.Factor != 3 {
		t.Errorf("trends %+v: floor from the file, the rest the defaults", p.Trends)
	}
	if p.Transparency.Ground(abuse.CSAM) != "law" || p.Transparency.Ground(abuse.Spam) != "terms" {
		t.Errorf("transparency defaults: %+v", p.Transparency)
	}
	only := strings.Replace(with("trends:\n  floor: 50"), "  law_categories: [csam, copyright, phishing, malware, legal-request]\n", "", 1)
	if p, err := Parse([]byte(strings.Replace(only, "trusted_flaggers: []", "trusted_flaggers: [\"@hotline.example\"]", 1)), "t.yaml"); err != nil {
		t.Fatal(err)
	} else if !p.Transparency.Trusted("a@hotline.example") || p.Transparency.Ground(abuse.Copyright) != "law" {
		t.Errorf("a transparency section naming only trusted flaggers: %+v, want the default law categories kept", p.Transparency)
	}
	for section, field := range map[string]string{
		"trends:\n  window: 2h\n  baseline: 1h":                     "trends.baseline",
		"trends:\n  cluster_max_accounts: 1":                        "trends.cluster_max_accounts",
		"trends:\n  floor: 3\n  factor: 0.5":                        "trends.factor",
		"trends:\n  floor: 3\ntransparency:\n  law_categories: [x]": "transparency.law_categories[0]",
	} {
		text := with(section)
		if strings.Contains(section, "transparency:") { // the file's own section goes, the test's stays
			i := strings.LastIndex(text, "\ntransparency:\n  trusted_flaggers: []")
			j := strings.Index(text[i:], "\n\n#")
			text = text[:i] + text[i+j:]
		}
		if _, err := Parse([]byte(text), "t.yaml"); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%q: error %v, want one naming %s", section, err, field)
		}
	}
	// The statement of reasons' ground per category and the redress routes; each must be said.
	def := Default()
	if r := def.Transparency.ReasonsFor(abuse.Spam); !strings.Contains(r.Ground, "unsolicited bulk") || r.Law || r.OutOfCourt == "" || r.Judicial == "" {
		t.Errorf("spam's reasons %+v", r)
	}
	if r := def.Transparency.ReasonsFor(abuse.Phishing); !r.Law || !strings.Contains(r.Ground, "fraud") {
		t.Errorf("phishing's reasons %+v, want the law and its clause", r)
	}
	if r := def.Snapshot(abuse.Other).Reasons; r.Ground != "our Acceptable Use Policy" {
		t.Errorf("a category without a clause: %+v, want transparency.clause", r)
	}
	for old, field := range map[string]string{
		"    judicial: the courts competent under your contract with us\n": "transparency.redress",
		"    spam: \"our Acceptable":                                       "transparency.clauses.nospam",
		"  clause: our Acceptable Use Policy\n":                            "transparency.clause",
	} {
		repl := map[string]string{"transparency.redress": "    judicial: \"\"\n", "transparency.clauses.nospam": "    nospam: \"our Acceptable", "transparency.clause": "  clause: \"\"\n"}[field]
		if !strings.Contains(string(base), old) {
			t.Fatalf("default.yaml lacks %q", old)
		}
		if _, err := Parse([]byte(strings.Replace(string(base), old, repl, 1)), "t.yaml"); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%q: error %v, want one naming %s", repl, err, field)
		}
	}
	tr := Transparency{TrustedFlaggers: []string{"notices@hotline.example", "@flagger.example"}}
	for r, want := range map[string]bool{"Notices@Hotline.example": true, "a@flagger.example": true, "a@notflagger.example": false, "x@hotline.example": false} {
		if tr.Trusted(r) != want {
			t.Errorf("Trusted(%q) = %v", r, !want)
		}
	}
}

func TestQASampling(t *testing.T) {
	p := Default()
	if got := p.QA.Rate(abuse.Spam); got != 0.05 {
		t.Errorf("default spam rate = %g, want the file's 0.05", got)
	}
	if got := p.QA.Rate(abuse.Copyright); got != 0.25 {
		t.Errorf("default copyright rate = %g, want the file's 0.25", got)
	}
	// A file without a qa section samples at the default rate.
	y := string(DefaultYAML())
	start := strings.Index(y, "\nqa:\n")
	end := start + 1 + strings.Index(y[start+1:], "\n\n")
	if start < 0 || end <= start {
		t.Fatal("the default policy has no qa section")
	}
	bare, err := Parse([]byte(y[:start]+y[end:]), "bare.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := bare.QA.Rate(abuse.Phishing); got != 0.05 {
		t.Errorf("no qa section: phishing rate = %g, want 0.05", got)
	}
	_, err = Parse([]byte(y[:start]+"\nqa:\n  sample_rate: 1.5\n  categories:\n    fishing: 0.5\n    spam: -1\n"+y[end:]), "bad.yaml")
	for _, want := range []string{"qa.sample_rate: must be between 0 and 1", "qa.categories.fishing: unknown category", "qa.categories.spam: must be between 0 and 1"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %q", err, want)
		}
	}
}

// TestCalendars: a calendar section is resolved and given to the SLAs that name it; each
// mistake is named by its field.
func TestCalendars(t *testing.T) {
	y := string(DefaultYAML())
	good := y + "\ncalendars:\n  legal-team:\n    zone: Europe/Berlin\n    days: [mon, tue, wed, thu, fri]\n    hours: \"09:00-17:00\"\n    holidays: [2026-12-25]\n"
	good = strings.Replace(good, "legal:\n  due: 72h\n", "legal:\n  due: 72h\n  calendar: legal-team\n", 1)
	good = strings.Replace(good, "    sla: 48h\n", "    sla: 48h\n    calendar: legal-team\n", 1) // the defaults' appeal
	p, err := Parse([]byte(good), "good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p.Legal.Hours == nil || p.Legal.Hours.Zone != "Europe/Berlin" || len(p.Legal.Hours.Days) != 5 || p.Triage.Hours != nil {
		t.Fatalf("legal %+v triage %+v", p.Legal, p.Triage)
	}
	if a := p.Categories[abuse.Phishing].Appeal; a.Calendar != "legal-team" || a.Hours == nil {
		t.Errorf("phishing's appeal (from the defaults) is not on the calendar: %+v", a)
	}
	friday := time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC)                                                   // 17:00 in Berlin
	if got, want := p.Legal.DueAt(friday), time.Date(2026, 12, 17, 16, 0, 0, 0, time.UTC); !got.Equal(want) { // nine 8-hour days
		t.Errorf("72 working hours from Friday closing: %s, want %s", got, want)
	}
	bad := y + "\ncalendars:\n  x:\n    zone: Mars/Olympus\n    days: [someday]\n    hours: \"17:00-09:00\"\n    holidays: [christmas]\n"
	bad = strings.Replace(bad, "triage:\n  confidence: 0.5\n", "triage:\n  confidence: 0.5\n  calendar: nobody\n", 1)
	_, err = Parse([]byte(bad), "bad.yaml")
	for _, want := range []string{"calendars.x.zone", "calendars.x.days", "calendars.x.hours", "calendars.x.holidays", `triage.calendar: no calendar "nobody"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
}

// TestRemediation: the defaults' re-checks reach every category, a category's checks replace
// the defaults' while keeping their offsets, and each mistake is named by its field.
func TestRemediation(t *testing.T) {
	p := Default()
	spam, phish := p.Categories[abuse.Spam].Remediation, p.Categories[abuse.Phishing].Remediation
	if len(spam.Verify) != 3 || spam.Verify[2].D() != 7*24*time.Hour || !slices.Equal(spam.Checks, []string{CheckFeed}) {
		t.Errorf("spam's remediation = %+v, want the defaults' [1h 24h 7d] and feed", spam)
	}
	if !slices.Equal(phish.Verify, spam.Verify) || !slices.Equal(phish.Checks, []string{CheckHTTP, CheckFeed}) || !phish.Has(CheckHTTP) || phish.Has(CheckBlocklist) {
		t.Errorf("phishing's remediation = %+v, want the defaults' offsets and http, feed", phish)
	}
	y := string(DefaultYAML())
	good := strings.Replace(y, "    surge:\n      reports: 500\n", "    remediation:\n      checks: [blocklist]\n      blocklists: [bl.example.org]\n    surge:\n      reports: 500\n", 1)
	q, err := Parse([]byte(good), "good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if r := q.Categories[abuse.Spam].Remediation; !slices.Equal(r.Blocklists, []string{"bl.example.org"}) || !r.Has(CheckBlocklist) || len(r.Verify) != 3 {
		t.Errorf("spam's remediation = %+v", r)
	}
	if r := q.Categories[abuse.DoS].Remediation; len(r.Blocklists) != 0 || r.Has(CheckBlocklist) {
		t.Errorf("spam's blocklists leaked into dos: %+v", r)
	}
	bad := strings.Replace(y, "    verify: [1h, 24h, 7d]\n    checks: [feed]\n", "    verify: [2h, 1h, 120d]\n    checks: [feed, ping, feed, blocklist]\n", 1)
	bad = strings.Replace(bad, "    blocklists: []\n", "    blocklists: [\"not a zone\"]\n", 1)
	bad = strings.Replace(bad, "      checks: [http, feed]\n", "      checks: []\n", 1)
	_, err = Parse([]byte(bad), "bad.yaml")
	for _, want := range []string{"defaults.remediation.verify[1]: 1h must come after", "defaults.remediation.verify[2]: 120d is more than",
		`defaults.remediation.checks[1]: "ping" is not a check`, `defaults.remediation.checks[2]: "feed" is listed twice`,
		`defaults.remediation.blocklists[0]: "not a zone"`, "categories.phishing.remediation.checks: missing"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %q", err, want)
		}
	}
	noZones := strings.Replace(y, "    checks: [feed]\n", "    checks: [blocklist]\n", 1)
	if _, err := Parse([]byte(noZones), "nozones.yaml"); err == nil || !strings.Contains(err.Error(), "defaults.remediation.blocklists: missing") {
		t.Errorf("a blocklist check without zones: %v", err)
	}
}

// TestReinstatement: the default review rules, a section that replaces them, and its mistakes.
func TestReinstatement(t *testing.T) {
	if r := Default().Reinstatement; r.SLA.D() != 72*time.Hour || r.Probation.D() != 90*24*time.Hour || len(r.Reminders) != 1 {
		t.Errorf("default reinstatement %+v", r)
	}
	y := string(DefaultYAML())
	good := strings.Replace(y, "reinstatement:\n  sla: 72h\n  reminders: [48h]\n  probation: 90d\n", "reinstatement:\n  sla: 24h\n  reminders: []\n  probation: 30d\n", 1)
	p, err := Parse([]byte(good), "good.yaml")
	if err != nil || p.Reinstatement.Probation.D() != 30*24*time.Hour || p.Reinstatement.SLA.D() != 24*time.Hour {
		t.Fatalf("%+v %v", p.Reinstatement, err)
	}
	bad := strings.Replace(y, "reinstatement:\n  sla: 72h\n  reminders: [48h]\n  probation: 90d\n", "reinstatement:\n  sla: 0s\n  reminders: [1h]\n  probation: 0s\n  calendar: nobody\n", 1)
	_, err = Parse([]byte(bad), "bad.yaml")
	for _, want := range []string{"reinstatement.sla: must be more than 0", `reinstatement.calendar: no calendar "nobody"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %q", err, want)
		}
	}
}

// TestMonitoringSection: the monitoring section is off by default, reads networks and
// blocklists, hands a blocklist case its lists, and refuses what cannot be monitored with the
// field named.
func TestMonitoringSection(t *testing.T) {
	if m := Default().Monitoring; m.On() || m.Every.D() != time.Hour || m.PerRun != 1024 {
		t.Errorf("default monitoring: %+v; want off, hourly, 1024 a run", m)
	}
	base := string(defaultYAML)
	on := base + `
monitoring:
  networks: [192.0.2.0/24, "2001:db8::/48"]
  blocklists:
    - {zone: dnsbl.example, name: Example DNSBL, delist: "https://dnsbl.example/remove"}
  every: 15m
  per_run: 300
`
	p, err := Parse([]byte(on), "on.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if m := p.Monitoring; !m.On() || len(m.Prefixes()) != 2 || m.Every.D() != 15*time.Minute || m.PerRun != 300 {
		t.Errorf("monitoring: %+v", m)
	}
	if s := p.Snapshot(abuse.Blocklist); len(s.Blocklists) != 1 || s.Blocklists[0].Delist != "https://dnsbl.example/remove" {
		t.Errorf("a blocklist case's snapshot: %+v", s.Blocklists)
	}
	if s := p.Snapshot(abuse.Spam); len(s.Blocklists) != 0 {
		t.Errorf("a spam case carries the blocklists: %+v", s.Blocklists)
	}
	for name, tc := range map[string]struct{ yaml, field string }{
		"host bits":     {"monitoring:\n  networks: [192.0.2.7/24]\n  blocklists: [{zone: dnsbl.example}]\n", "monitoring.networks[0]"},
		"not a network": {"monitoring:\n  networks: [our-dc]\n  blocklists: [{zone: dnsbl.example}]\n", "monitoring.networks[0]"},
		"no lists":      {"monitoring:\n  networks: [192.0.2.0/24]\n", "monitoring.blocklists"},
		"bad zone":      {"monitoring:\n  networks: [192.0.2.0/24]\n  blocklists: [{zone: \"http://x\"}]\n", "monitoring.blocklists[0].zone"},
		"bad delist":    {"monitoring:\n  networks: [192.0.2.0/24]\n  blocklists: [{zone: dnsbl.example, delist: \"mailto:x@y\"}]\n", "monitoring.blocklists[0].delist"},
		"too often":     {"monitoring:\n  every: 10s\n", "monitoring.every"},
		"no slice":      {"monitoring:\n  per_run: 0\n", "monitoring.per_run"},
		"unknown field": {"monitoring:\n  zones: [dnsbl.example]\n", "monitoring"},
		"bad relay":     {"monitoring:\n  infrastructure: [relay.example]\n", "monitoring.infrastructure[0]"},
		"bad group":     {"monitoring:\n  operations_group: -1\n", "monitoring.operations_group"},
	} {
		if _, err := Parse([]byte(base+"\n"+tc.yaml), name+".yaml"); err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: %v; want an error naming %s", name, err, tc.field)
		}
	}
}
