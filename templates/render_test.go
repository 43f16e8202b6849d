package templates_test

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"abusedesk/domain/abuse"
	"abusedesk/domain/policy"
	"abusedesk/templates"
	"abusedesk/workflows"
)

func sample(c abuse.Category, locale string) workflows.NoticeData {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	return workflows.NoticeData{
		CaseID: "case/acct-1/" + string(c), CaseNumber: "TS-7F3K2QXM", Status: workflows.StatusAwaitingResponse,
		Account:  abuse.Account{ID: "acct-1", Name: "Example Shop", ContactEmail: "ops@shop.example", Locale: locale, Tier: abuse.TierStandard},
		Category: c, CategoryTitle: c.Title(), Track: "standard",
		Reports: workflows.ReportDigest{Count: 2, FirstSeen: t0, LastSeen: t0.Add(time.Hour), Severity: "medium", Reporters: 1,
			Examples: []workflows.ReportSummary{{ID: "r1", Format: "arf", Reporter: "fbl@isp.example", ReceivedAt: t0, Subjects: []abuse.Subject{{Kind: abuse.SubjectIP, Value: "192.0.2.1"}}, Summary: "spam complaint"}}},
		Deadline: t0.Add(72 * time.Hour), Window: 72 * time.Hour, Reminder: 1,
		Action:      workflows.ActionView{Type: abuse.ActionThrottle, Level: 2, Description: abuse.ActionThrottle.Describe(2), ID: "act-1", AppliedAt: t0},
		AppealUntil: t0.Add(14 * 24 * time.Hour), AppealSLA: t0.Add(48 * time.Hour),
		Reasons: workflows.StatementReasons{Ground: "our Acceptable Use Policy, section 3", Detected: true, Decided: true, Notices: 2,
			OutOfCourt: "the Example Dispute Settlement Board", Judicial: "the courts of Exampleton"},
		Decision: "denied", DecidedBy: "Lee Lead", Note: "because", Outcome: workflows.OutcomeEnforced, Reply: "fixed", ReplyFrom: "ops@shop.example",
		TriageReason: "category other: the report's kind is unclear", TriageDue: t0.Add(4 * time.Hour),
		Reinstatement: &workflows.ReinstatementNotice{RequestedAt: t0, Due: t0.Add(72 * time.Hour), Request: "We closed the relay and added rate limits.",
			From: "ops@shop.example", Probation: 90 * 24 * time.Hour, ProbationUntil: t0.Add(90 * 24 * time.Hour)},
		Remediation: &workflows.RemediationState{AcceptedAt: t0, AcceptedBy: "agent@desk.example", Checks: []string{"http", "feed"},
			Due: []time.Time{t0.Add(time.Hour), t0.Add(24 * time.Hour)}, Done: 1, CheckedAt: t0.Add(time.Hour),
			Results: []workflows.CheckResult{{Check: "http", Subject: "http://login.shop.example/verify", Verdict: workflows.VerdictStill, Detail: "HTTP 200, 5120 bytes"}}},
	}
}

// TestRemediationNote: the internal note says what was accepted and when it is checked, what
// the customer's answer was checked against, and why a case reopened — with each result.
func TestRemediationNote(t *testing.T) {
	r, err := templates.New()
	if err != nil {
		t.Fatal(err)
	}
	d := sample(abuse.Phishing, "en")
	render := func() string {
		out, err := r.Render(workflows.NoteRemediation, "phishing", "en", d)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, want := range []string{"agent@desk.example accepted the customer's fix", "(http, feed)", "2026-", "then closes the case as remediated",
		"- http: http://login.shop.example/verify: STILL THERE (HTTP 200, 5120 bytes)"} {
		if out := render(); !strings.Contains(out, want) {
			t.Errorf("accepted: %q lacks %q", out, want)
		}
	}
	d.Remediation.Outcome, d.Remediation.Reason = workflows.RemediationReopened, "the problem is still there: http://login.shop.example/verify still (HTTP 200)"
	if out := render(); !strings.Contains(out, "is open again: the customer's fix did not hold. the problem is still there") || !strings.Contains(out, "Nothing was done to the account") {
		t.Errorf("reopened: %q", out)
	}
	d.Remediation.Outcome, d.Remediation.AcceptedAt = "", time.Time{}
	if out := render(); !strings.Contains(out, "The customer answered on case") || !strings.Contains(out, "STILL THERE") {
		t.Errorf("checked on the answer: %q", out)
	}
}

// Every kind renders for every category and locale, without leftovers of template syntax.
func TestEveryTemplateRenders(t *testing.T) {
	r, err := templates.New()
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, n := range r.Names() {
		// macro_, intake_ and bulk_ texts have data of their own (TestIntakeTextsRender renders
		// the intake_ and bulk_ ones).
		if k, _, _ := strings.Cut(n, "/"); k != "partials" && !strings.HasPrefix(k, "macro_") && !strings.HasPrefix(k, "intake_") && !strings.HasPrefix(k, "bulk_") {
			kinds[k] = true
		}
	}
	if len(kinds) < 15 {
		t.Fatalf("only %d template kinds: %v", len(kinds), kinds)
	}
	for kind := range kinds {
		for _, c := range abuse.Categories {
			for _, loc := range []string{"en", "de", "fr-CA", ""} {
				out, err := r.Render(kind, string(c), loc, sample(c, loc))
				if err != nil {
					t.Errorf("%s/%s/%s: %v", kind, c, loc, err)
					continue
				}
				if out == "" || strings.Contains(out, "{{") || strings.Contains(out, "<no value>") {
					t.Errorf("%s/%s/%s rendered badly: %q", kind, c, loc, out)
				}
			}
		}
	}
}

func TestPickOrder(t *testing.T) {
	r, err := templates.New()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ kind, category, locale, want string }{
		{"notice", "spam", "en", "notice/spam.en"},
		{"notice", "spam", "de-AT", "notice/default.de"}, // German beats the English category text
		{"notice", "dos", "en", "notice/default.en"},
		{"notice", "phishing", "fr", "notice/phishing.en"},
		{"reminder", "spam", "DE_de", "reminder/default.de"},
	}
	for _, tc := range tests {
		got, err := r.Pick(tc.kind, tc.category, tc.locale)
		if err != nil || got != tc.want {
			t.Errorf("Pick(%s, %s, %s) = %q, %v; want %q", tc.kind, tc.category, tc.locale, got, err, tc.want)
		}
	}
	if _, err := r.Pick("nonexistent", "spam", "en"); err == nil {
		t.Error("a missing kind was found")
	}
}

func TestSandbox(t *testing.T) {
	for _, fn := range []string{"env", "now", "randAlpha", "until", "getHostByName", "uuidv4", "date"} {
		fsys := fstest.MapFS{"t/x/default.en.tmpl": {Data: []byte("{{ " + fn + " }}")}}
		if _, err := templates.NewFS(fsys, "t"); err == nil || !strings.Contains(err.Error(), "function \""+fn+"\" not defined") {
			t.Errorf("template calling %s: %v, want it refused at parse time", fn, err)
		}
	}
	fsys := fstest.MapFS{"t/x/default.en.tmpl": {Data: []byte("{{ .Missing }}")}}
	r, err := templates.NewFS(fsys, "t")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Render("x", "", "en", map[string]any{}); err == nil {
		t.Error("a missing key rendered silently")
	}
	if _, err := templates.NewFS(fstest.MapFS{"t/x/default.en.tmpl": {Data: []byte("{{ if }")}}, "t"); err == nil {
		t.Error("a broken template parsed")
	}
}

// The texts intake and the inbound channels write render with their own data, every field in
// place, and nothing is left of the template syntax.
func TestIntakeTextsRender(t *testing.T) {
	r, err := templates.New()
	if err != nil {
		t.Fatal(err)
	}
	triage := templates.TriageData{Reason: "not ours: no customer account holds ip:198.51.100.7", From: "rep@isp.example", Subject: "attack", Digest: "abc123",
		Parsed: &templates.ParsedReport{Format: "arf", Category: "spam", IPs: []string{"198.51.100.7", "198.51.100.8"}}}
	for _, tc := range []struct {
		kind string
		data any
		want []string
	}{
		{"intake_triage", triage, []string{"Why: not ours", "From: rep@isp.example", "Digest: abc123", "IPs 198.51.100.7, 198.51.100.8, domains none"}},
		{"intake_triage", templates.TriageData{Reason: "unparseable: empty", Digest: "d"}, []string{"Why: unparseable: empty"}},
		{"intake_triage", templates.TriageData{Reason: "not ours", Parsed: &templates.ParsedReport{Format: "freeform", Category: "spam", Ranges: []string{"192.0.2.64/26"}, Phones: []string{"+447700900123"}}},
			[]string{"IPs none", "ranges 192.0.2.64/26", "phone numbers +447700900123"}},
		{"intake_triage_subject", triage, []string{"[triage] attack"}},
		{"intake_triage_subject", templates.TriageData{}, []string{"[triage] (no subject)"}},
		{"intake_not_ours", templates.NotOursData{ReportID: "r-1", Addresses: []string{"198.51.100.7", "bad.example"}}, []string{"report r-1", "(198.51.100.7, bad.example)"}},
		{"intake_not_ours_subject", templates.NotOursData{}, []string{"not our network"}},
		{"bulk_subject", templates.BulkNoticeData{Number: "B-1", AccountID: "acct-shop"}, []string{"Action on your account acct-shop (B-1)"}},
		{"bulk_enforced", templates.BulkNoticeData{Number: "B-1", AccountID: "acct-shop", AccountName: "Example Shop", Measure: "outbound email sending suspended", ActionID: "act_1",
			Indicators: []string{"domain kit.example", "host login.kit.example"}, Cases: []string{"TS-1"}, Ground: "our Acceptable Use Policy", OutOfCourt: "a certified body", Judicial: "the courts"},
			[]string{"Hello Example Shop,", "Measure: outbound email sending suspended on your account acct-shop", "(our case TS-1) name domain kit.example, host login.kit.example", "Ground (our terms): our Acceptable Use Policy", "Other redress: you may also refer the decision to a certified body, or take it to the courts."}},
		{"bulk_lifted", templates.BulkNoticeData{AccountID: "acct-shop", Measure: "throttled", ActionID: "act_1"}, []string{"we have lifted the action on your account acct-shop (throttled, reference act_1)"}},
		{"intake_notice_receipt", templates.NoticeReceiptData{Reference: "N-7F3K2QXM4B", Name: "Ana", ReceivedAt: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC),
			Kind: "phishing", Locations: []string{"https://login.example/x", "192.0.2.10"}, StatusURL: "https://desk.example/notice/N-7F3K2QXM4B"},
			[]string{"Hello Ana,", "reference is N-7F3K2QXM4B", "What you reported: phishing", "Where: https://login.example/x, 192.0.2.10", "whether it was taken by automated means", "https://desk.example/notice/N-7F3K2QXM4B"}},
		{"intake_notice_receipt", templates.NoticeReceiptData{Reference: "N-1", Kind: "csam", Locations: []string{"https://x.example/a"}}, []string{"Hello,", "reference is N-1"}},
		{"intake_late_message", templates.LateMessageData{Kind: "auto-reply", CaseNumber: "TS-7F3K2QXM", From: "ops@shop.example", Subject: "Out of office", Excerpt: "back Monday"},
			[]string{"A message (auto-reply) arrived after case TS-7F3K2QXM closed", "From: ops@shop.example", "back Monday"}},
		{"intake_late_comment", templates.LateMessageData{CaseNumber: "TS-7F3K2QXM"}, []string{"after case TS-7F3K2QXM closed", "answer by hand"}},
		{"intake_decision_refused", templates.RefusedDecisionData{Decision: "grant_appeal", Reason: "another reviewer must"}, []string{`did not apply "grant_appeal": another reviewer must`}},
		{"intake_reporter_drift", templates.ReporterDriftData{Reporter: "cert.example", FailStreak: 3, Parsed: 12, LastError: "no report format recognised", DashboardURL: "http://desk/reporters"},
			[]string{"*cert.example* stopped parsing", "the last 3 message(s)", "after 12", "no report format recognised", "http://desk/reporters"}},
	} {
		out, err := r.Render(tc.kind, "", "en", tc.data)
		if err != nil {
			t.Errorf("%s: %v", tc.kind, err)
			continue
		}
		if strings.Contains(out, "{{") || strings.Contains(out, "<no value>") {
			t.Errorf("%s rendered badly: %q", tc.kind, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s lacks %q:\n%s", tc.kind, w, out)
			}
		}
	}
}

// TestBulkNoticesInGerman: a German-speaking customer's bulk notices are German, the statement
// of reasons with its German labels.
func TestBulkNoticesInGerman(t *testing.T) {
	r, err := templates.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		kind string
		data any
		want []string
	}{
		{"bulk_lifted", templates.BulkNoticeData{AccountID: "acct-shop", Measure: "throttled", ActionID: "act_1"}, []string{"wir haben die Maßnahme für Ihr Konto acct-shop (throttled, Referenz act_1)"}},
		{"bulk_subject", templates.BulkNoticeData{Number: "B-1", AccountID: "acct-shop"}, []string{"Maßnahme für Ihr Konto acct-shop (B-1)"}},
		{"bulk_enforced", templates.BulkNoticeData{Number: "B-1", AccountID: "acct-shop", Measure: "throttled", ActionID: "act_1", Indicators: []string{"domain kit.example"}, Cases: []string{"TS-1", "TS-2"},
			Ground: "unsere Nutzungsbedingungen", OutOfCourt: "einer Schlichtungsstelle", Judicial: "die Gerichte"},
			[]string{"Maßnahme: throttled für Ihr Konto acct-shop", "(unsere Fälle TS-1, TS-2) nennen domain kit.example", "Grundlage (unsere Bedingungen): unsere Nutzungsbedingungen", "Widerspruch:", "Weitere Rechtsbehelfe: Sie können die Entscheidung auch einer Schlichtungsstelle vorlegen oder die Gerichte anrufen."}},
	} {
		out, err := r.Render(tc.kind, "", "de", tc.data)
		if err != nil {
			t.Errorf("%s: %v", tc.kind, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s lacks %q:\n%s", tc.kind, w, out)
			}
		}
	}
}

// TestCustomerNoticesNameNoReporter: what a customer reads names the source, not the person
// who reported it, unless the policy discloses reporters; the agents' note always does.
func TestCustomerNoticesNameNoReporter(t *testing.T) {
	r, err := templates.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"notice", "enforced"} {
		for _, loc := range []string{"en", "de"} {
			d := sample(abuse.Spam, loc)
			out, err := r.Render(kind, "spam", loc, d)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(out, "fbl@isp.example") || strings.Contains(out, "spam complaint") || !strings.Contains(out, ": ip:192.0.2.1") {
				t.Errorf("%s/%s names the reporter or quotes the report, or lost the address:\n%s", kind, loc, out)
			}
			d.DiscloseReporters = true
			out, _ = r.Render(kind, "spam", loc, d)
			if !strings.Contains(out, "fbl@isp.example") {
				t.Errorf("%s/%s with disclose_reporters does not name the reporter:\n%s", kind, loc, out)
			}
		}
	}
	note, err := r.Render("note_evidence", "spam", "en", sample(abuse.Spam, "en"))
	if err != nil || !strings.Contains(note, "fbl@isp.example") {
		t.Errorf("the agents' evidence note lacks the reporter (%v):\n%s", err, note)
	}
}

// TestStatementOfReasons: the enforcement notice's statement of reasons is whole in every
// locale and category (measure, facts, automated means, ground, appeal, other redress, with
// the policy's ground and redress word for word), and the check refuses one that leaves out
// any part — per part and per locale — or has nothing to say for one.
func TestStatementOfReasons(t *testing.T) {
	r, err := templates.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, loc := range []string{"en", "de"} {
		for _, c := range abuse.Categories {
			d := sample(c, loc)
			want := templates.Statement{Measure: d.Action.Description, Ground: d.Reasons.Ground, OutOfCourt: d.Reasons.OutOfCourt, Judicial: d.Reasons.Judicial}
			text, err := r.Render(workflows.NoticeEnforced, string(c), loc, d)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.CheckStatement(workflows.NoticeEnforced, string(c), loc, text, want); err != nil {
				t.Errorf("%s/%s: %v\n%s", loc, c, err, text)
			}
		}
		d := sample(abuse.Spam, loc)
		want := templates.Statement{Measure: d.Action.Description, Ground: d.Reasons.Ground, OutOfCourt: d.Reasons.OutOfCourt, Judicial: d.Reasons.Judicial}
		text, _ := r.Render(workflows.NoticeEnforced, "spam", loc, d)
		lines := strings.Split(text, "\n")
		for i, part := range templates.StatementParts {
			// Leave the part's line out: the check names the part.
			var kept []string
			dropped := false
			for _, l := range lines {
				if !dropped && strings.HasPrefix(strings.TrimSpace(l), statementLabel(loc, i)) {
					dropped = true
					continue
				}
				kept = append(kept, l)
			}
			if !dropped {
				t.Fatalf("%s: no line for %s", loc, part)
			}
			err := r.CheckStatement(workflows.NoticeEnforced, "spam", loc, strings.Join(kept, "\n"), want)
			if err == nil || !strings.Contains(err.Error(), part) {
				t.Errorf("%s without %s: %v", loc, part, err)
			}
		}
		for name, w := range map[string]templates.Statement{
			"no ground":       {Measure: want.Measure, OutOfCourt: want.OutOfCourt, Judicial: want.Judicial},
			"no courts":       {Measure: want.Measure, Ground: want.Ground, OutOfCourt: want.OutOfCourt},
			"another ground":  {Measure: want.Measure, Ground: "section 9", OutOfCourt: want.OutOfCourt, Judicial: want.Judicial},
			"another measure": {Measure: "account suspended", Ground: want.Ground, OutOfCourt: want.OutOfCourt, Judicial: want.Judicial},
			"no out-of-court": {Measure: want.Measure, Ground: want.Ground, Judicial: want.Judicial},
		} {
			if err := r.CheckStatement(workflows.NoticeEnforced, "spam", loc, text, w); err == nil {
				t.Errorf("%s, %s: the check let it through", loc, name)
			}
		}
	}
	// A locale the check has no labels for is refused, not sent unchecked.
	custom, err := templates.NewFS(fstest.MapFS{"t/enforced/default.fr.tmpl": {Data: []byte("Mesure : {{ .Action.Description }}")}}, "t")
	if err != nil {
		t.Fatal(err)
	}
	if err := custom.CheckStatement(workflows.NoticeEnforced, "spam", "fr", "Mesure : x", templates.Statement{Measure: "x"}); err == nil || !strings.Contains(err.Error(), "no statement-of-reasons labels") {
		t.Errorf("a locale without labels: %v", err)
	}
}

// statementLabel is the label of part i in locale loc, as the templates write it.
func statementLabel(loc string, i int) string {
	return map[string][]string{
		"en": {"Measure:", "Facts:", "Automated means:", "Ground (", "How to appeal:", "Other redress:"},
		"de": {"Maßnahme:", "Sachverhalt:", "Automatisierte Mittel:", "Grundlage (", "Widerspruch:", "Weitere Rechtsbehelfe:"},
	}[loc][i]
}

// TestReporterHearsTheDecision (DSA Art. 16(5), 17): the notifier is told what was done — true
// to the outcome (an appeal granted is not "the cause fixed") — whether automated means
// decided, and how to complain, with the other redress routes.
func TestReporterHearsTheDecision(t *testing.T) {
	r, err := templates.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		outcome workflows.Outcome
		decided bool
		action  bool
		want    []string
		not     string
	}{
		{workflows.OutcomeEnforced, true, true, []string{"we restricted the customer's account", "applied by automated means"}, "a member of our abuse team decided"},
		{workflows.OutcomeEnforced, false, true, []string{"a member of our abuse team decided the restriction"}, "applied by automated means"},
		{workflows.OutcomeReinstated, false, true, []string{"on review of the customer's appeal, the restriction was lifted"}, "cause was fixed"},
		{workflows.OutcomeResolved, false, false, []string{"without restricting the account", "reviewed the case and decided"}, "restriction was applied"},
	} {
		d := sample(abuse.Spam, "en")
		d.Outcome, d.Reasons.Decided = tc.outcome, tc.decided
		if !tc.action {
			d.Action.ID = ""
		}
		out, err := r.Render(workflows.NoticeReporterAck, "spam", "en", d)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range append(tc.want, "reply to this email", "the Example Dispute Settlement Board", "the courts of Exampleton", "received and matched to our customer by automated means") {
			if !strings.Contains(out, w) {
				t.Errorf("%s (decided %v): lacks %q:\n%s", tc.outcome, tc.decided, w, out)
			}
		}
		if strings.Contains(out, tc.not) {
			t.Errorf("%s (decided %v): says %q:\n%s", tc.outcome, tc.decided, tc.not, out)
		}
	}
}

// TestCarrierHearsTheScope: a carrier told of an action on the campaign it reported hears that
// the campaign was restricted, not the customer's account.
func TestCarrierHearsTheScope(t *testing.T) {
	r, err := templates.New()
	if err != nil {
		t.Fatal(err)
	}
	d := sample(abuse.CarrierNotice, "en")
	d.Outcome, d.Action.Scope = workflows.OutcomeEnforced, &abuse.Scope{Kind: abuse.ScopeCampaign, Value: "CX7K2PQ"}
	out, err := r.Render(workflows.NoticeReporterAck, string(abuse.CarrierNotice), "en", d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "we restricted the campaign CX7K2PQ of the customer's account (the rest of it untouched)") || !strings.Contains(out, d.CaseNumber) {
		t.Errorf("the carrier's acknowledgement:\n%s", out)
	}
}

// TestBlocklistAdviceIsAChecklist: a blocklist case's advice says it is no violation, puts
// fixing the cause before delisting, and lists each monitored list with its delisting page.
func TestBlocklistAdviceIsAChecklist(t *testing.T) {
	r, err := templates.New()
	if err != nil {
		t.Fatal(err)
	}
	d := sample(abuse.Blocklist, "en")
	d.Delisting = []policy.Blocklist{{Zone: "zen.spamhaus.org", Name: "Spamhaus ZEN", Delist: "https://check.spamhaus.org/"}, {Zone: "dnsbl.example"}}
	out, err := r.Render("advisory", string(abuse.Blocklist), "en", d)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"not a violation", "Fix the cause first", "Spamhaus ZEN: https://check.spamhaus.org/", "dnsbl.example (dnsbl.example)", d.CaseNumber} {
		if !strings.Contains(out, want) {
			t.Errorf("the blocklist advice lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "Fix the cause first") > strings.Index(out, "Ask each list for delisting") {
		t.Errorf("the advice asks for delisting before the fix:\n%s", out)
	}
	if strings.Contains(out, "listed before") {
		t.Errorf("a first listing reads as a relisting:\n%s", out)
	}
	d.Relisted = &workflows.Relisting{Previous: "TS-EARLIER01", ClosedAt: time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)}
	if out, err = r.Render("advisory", string(abuse.Blocklist), "en", d); err != nil || !strings.Contains(out, "listed before: case TS-EARLIER01") {
		t.Errorf("a relisting's advice: %v\n%s", err, out)
	}
}

// TestMessagingNoticesAskForTheEvidence: each messaging category's notice speaks of texts or
// calls (never e-mail), says what the customer must show, and, with no automatic action, says a
// person decides about the numbers, senders or campaigns, not that an action follows.
func TestMessagingNoticesAskForTheEvidence(t *testing.T) {
	r, err := templates.New()
	if err != nil {
		t.Fatal(err)
	}
	asks := map[abuse.Category][]string{
		abuse.SMSSpam:       {"text messages", "opt-in evidence", "opts out"},
		abuse.Smishing:      {"smishing", "stop these messages"},
		abuse.OptOut:        {"STOP", "10 business days", "opt-out handling"},
		abuse.Consent:       {"opt-in evidence", "Purchased or shared lists are not consent"},
		abuse.CarrierNotice: {"CTIA Messaging Principles", "opt-in evidence", "registered use case"},
		abuse.Robocall:      {"calls", "consent you hold for automated calls"},
	}
	for _, c := range abuse.TrackMessaging.Categories() {
		want, ok := asks[c]
		if !ok {
			t.Errorf("%s: no expectation for this messaging category's notice", c)
			continue
		}
		if got, err := r.Pick("notice", string(c), "en"); err != nil || got != "notice/"+string(c)+".en" {
			t.Errorf("%s: notice %q, %v; want its own", c, got, err)
		}
		d := sample(c, "en")
		d.Action = workflows.ActionView{Type: abuse.ActionNone, Description: abuse.ActionNone.Describe(0)}
		out, err := r.Render("notice", string(c), "en", d)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range append(want, "our abuse team will decide whether to suspend the numbers, sender IDs or campaigns", d.CaseNumber) {
			if !strings.Contains(out, w) {
				t.Errorf("%s: the notice lacks %q:\n%s", c, w, out)
			}
		}
		if strings.Contains(strings.ToLower(out), "email sent") || strings.Contains(out, "we will apply") {
			t.Errorf("%s: the notice speaks of e-mail or of an automatic action:\n%s", c, out)
		}
		// An action on the campaign the reports name is named; one with no scope (the whole
		// account) is a person's choice, and the notice says so.
		campaign := &abuse.Scope{Kind: abuse.ScopeCampaign, Value: "CX7K2PQ"}
		d.Action = workflows.ActionView{Type: abuse.ActionSuspendSending, Scope: campaign, Description: abuse.ActionSuspendSending.DescribeOn(0, campaign)}
		if out, _ := r.Render("notice", string(c), "en", d); !strings.Contains(out, "we will apply: sending suspended on the campaign CX7K2PQ.") {
			t.Errorf("%s: with an action on a campaign, the notice does not name it:\n%s", c, out)
		}
		d.Action = workflows.ActionView{Type: abuse.ActionSuspendSending, Description: abuse.ActionSuspendSending.Describe(0)}
		if out, _ := r.Render("notice", string(c), "en", d); strings.Contains(out, "we will apply") || !strings.Contains(out, "our abuse team will decide") {
			t.Errorf("%s: with an action on no one sender, the notice promises it:\n%s", c, out)
		}
	}
}
