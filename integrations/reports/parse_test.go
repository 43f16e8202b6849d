package reports

import (
	"bufio"
	"bytes"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"abusedesk/domain/abuse"
)

// findCase recognises case numbers like workflows.FindCaseNumber does, without importing it.
func findCase(s string) string {
	i := strings.Index(strings.ToUpper(s), "TS-")
	if i < 0 || len(s) < i+11 {
		return ""
	}
	return strings.ToUpper(s[i : i+11])
}

func parser() *Parser { return New(Options{FindCaseNumber: findCase}) }

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// expect is what one report must be.
type expect struct {
	kind       Kind
	id         string
	format     string
	category   abuse.Category
	ips        []string
	domains    []string // all of these, in any order
	urls       []string // each a prefix of some URL
	senders    []string
	reporter   string
	event      string // RFC 3339
	received   string
	feedbackID string
	account    string
	caseNumber string
	warning    string // a substring of some warning
	reports    int    // for multi-report notifications
	phones     []string
}

func check(t *testing.T, res *Result, want expect) {
	t.Helper()
	if res.Kind != want.kind {
		t.Fatalf("kind %q (error %q), want %q", res.Kind, res.Error, want.kind)
	}
	if want.kind != KindReport {
		if want.caseNumber != "" && (res.Reply == nil || res.Reply.CaseNumber != want.caseNumber) {
			t.Errorf("reply %+v, want case %s", res.Reply, want.caseNumber)
		}
		return
	}
	if want.reports > 0 && len(res.Reports) != want.reports {
		t.Errorf("%d reports, want %d", len(res.Reports), want.reports)
	}
	r := res.Reports[0]
	if want.id != "" && r.ID != want.id {
		t.Errorf("id %q, want %q", r.ID, want.id)
	}
	if r.Format != want.format || r.Category != want.category {
		t.Errorf("format/category %s/%s, want %s/%s", r.Format, r.Category, want.format, want.category)
	}
	if !slices.Equal(r.SourceIPs, want.ips) {
		t.Errorf("source IPs %v, want %v", r.SourceIPs, want.ips)
	}
	for _, d := range want.domains {
		if !slices.Contains(r.Domains, d) {
			t.Errorf("domains %v lack %s", r.Domains, d)
		}
	}
	for _, u := range want.urls {
		if !slices.ContainsFunc(r.URLs, func(x string) bool { return strings.HasPrefix(x, u) }) {
			t.Errorf("URLs %v lack %s", r.URLs, u)
		}
	}
	for _, s := range want.senders {
		if !slices.Contains(r.Senders, s) {
			t.Errorf("senders %v lack %s", r.Senders, s)
		}
	}
	if want.phones != nil && !slices.Equal(r.Phones, want.phones) {
		t.Errorf("phones %v, want %v", r.Phones, want.phones)
	}
	if want.reporter != "" && r.Reporter != want.reporter {
		t.Errorf("reporter %q, want %q", r.Reporter, want.reporter)
	}
	if want.event != "" && !r.EventTime.Equal(mustTime(want.event)) {
		t.Errorf("event time %v, want %s", r.EventTime, want.event)
	}
	if want.received != "" && !r.ReceivedAt.Equal(mustTime(want.received)) {
		t.Errorf("received at %v, want %s", r.ReceivedAt, want.received)
	}
	if r.FeedbackID != want.feedbackID || r.AccountHint != want.account {
		t.Errorf("feedback id %q account %q, want %q %q", r.FeedbackID, r.AccountHint, want.feedbackID, want.account)
	}
	if want.warning != "" && !slices.ContainsFunc(r.Warnings, func(w string) bool { return strings.Contains(w, want.warning) }) {
		t.Errorf("warnings %v lack %q", r.Warnings, want.warning)
	}
	if r.Digest != res.Digest || len(r.Digest) != 64 || r.ID == "" || r.Summary == "" || r.Severity == 0 {
		t.Errorf("report lacks digest, ID, summary or severity: %+v", r)
	}
}

// The project's own fixtures, one per format and quirk.
func TestFixtures(t *testing.T) {
	tests := map[string]expect{
		"arf-quirks.eml": {kind: KindReport, id: "fbl-0001@mailbox.example", format: FormatARF, category: abuse.Spam,
			ips: []string{"192.0.2.77"}, domains: []string{"shop.example"}, senders: []string{"news@shop.example"},
			reporter: "fbl@mailbox.example", event: "2026-03-02T09:58:11+01:00", received: "2026-03-02T10:15:00+01:00",
			feedbackID: "shop-campaign-1", account: "acct-shop"},
		"arf-received-fallback.eml": {kind: KindReport, format: FormatARF, category: abuse.Spam, ips: []string{"2001:db8:b::25"},
			domains: []string{"bank.example"}, senders: []string{"billing@bank.example"}, event: "2026-03-03T07:59:30Z",
			warning: "first Received header"},
		"broken-boundary.eml": {kind: KindReport, format: FormatARF, category: abuse.Spam, ips: []string{"192.0.2.99"}, senders: []string{"x@shop.example"}},
		"xarf4-body.eml": {kind: KindReport, id: "scan-2026-0009", format: FormatXARF4, category: abuse.PortScan, ips: []string{"203.0.113.9"},
			reporter: "scanner@watch.example", event: "2026-03-04T11:55:00Z", received: "2026-03-04T12:00:00Z"},
		"spamcop.eml": {kind: KindReport, id: "spamcop:7412589630", format: FormatSpamCop, category: abuse.Spam, ips: []string{"192.0.2.15"},
			domains: []string{"shop.example"}, urls: []string{"http://shop.example/deal"}, senders: []string{"deals@shop.example"},
			event: "2026-03-05T05:12:44-05:00"},
		"shadowserver.eml": {kind: KindReport, id: "ss-20260305-drone@shadowserver.org#1", format: FormatShadowserver, category: abuse.Infected,
			ips: []string{"10.17.18.40"}, domains: []string{"pc40.blaster.example"}, event: "2026-03-05T10:11:12Z", reports: 2},
		"fail2ban.eml": {kind: KindReport, format: FormatFail2ban, category: abuse.BruteForce, ips: []string{"203.0.113.50"}, event: "2026-03-07T03:03:58+01:00"},
		"takedown.eml": {kind: KindReport, format: FormatTakedown, category: abuse.Phishing, ips: []string{"203.0.113.77"},
			domains: []string{"secure-login.again.example"}, urls: []string{"https://secure-login.again.example/bank/verify.php"}, event: "2026-03-08T09:30:00Z"},
		"copyright.eml": {kind: KindReport, format: FormatCopyright, category: abuse.Copyright, ips: []string{"10.20.30.40"},
			urls: []string{"http://files.tinyhost.example/movies/"}, event: "2026-03-09T15:55:10Z"},
		"freeform.eml": {kind: KindReport, format: FormatFreeform, category: abuse.BruteForce, ips: []string{"198.51.100.23"},
			reporter: "jane@home.example", event: "2026-03-10T18:02:11+02:00"},
		"freeform-html.eml": {kind: KindReport, format: FormatFreeform, category: abuse.DoS, ips: []string{"192.0.2.200", "192.0.2.201"}},
		"reply.eml":         {kind: KindReply, caseNumber: "TS-7F3K2QXM"},
		"autoreply.eml":     {kind: KindAutoReply, caseNumber: "TS-7F3K2QXM"},
		"bounce.eml":        {kind: KindBounce, caseNumber: "TS-7F3K2QXM"},
		"newsletter.eml":    {kind: KindUnparseable},
	}
	files, _ := filepath.Glob("testdata/*.eml")
	if len(files) != len(tests) {
		t.Errorf("%d fixture files, %d expectations: every fixture needs a row", len(files), len(tests))
	}
	p := parser()
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			check(t, p.Parse(raw), want)
		})
	}
}

func TestReplyExcerptDropsQuoteAndSignature(t *testing.T) {
	raw, _ := os.ReadFile("testdata/reply.eml")
	res := parser().Parse(raw)
	if res.Reply == nil || res.Reply.Excerpt != "Hi, we found a compromised contact form and removed it. No more mail is going out." {
		t.Errorf("excerpt %q", res.Reply.Excerpt)
	}
	if res.Reply.Why != "" {
		t.Errorf("a reply counted as automatic: %s", res.Reply.Why)
	}
	raw, _ = os.ReadFile("testdata/autoreply.eml")
	if res := parser().Parse(raw); res.Reply == nil || res.Reply.Why != "Auto-Submitted: auto-replied" {
		t.Errorf("auto-reply reason: %+v", res.Reply)
	}
}

// An auto-generated report (X-ARF mail carries Auto-Submitted) is still a report.
func TestAutoSubmittedReportIsAReport(t *testing.T) {
	raw, _ := os.ReadFile("testdata/fail2ban.eml")
	raw = bytes.Replace(raw, []byte("Subject:"), []byte("Auto-Submitted: auto-generated\nSubject:"), 1)
	if res := parser().Parse(raw); res.Kind != KindReport {
		t.Errorf("kind %s, want report", res.Kind)
	}
}

func TestLimits(t *testing.T) {
	p := New(Options{MaxBytes: 2000, MaxParts: 5, MaxDepth: 3})
	big := bytes.Repeat([]byte("x"), 2001)
	if res := p.Parse(big); res.Kind != KindUnparseable || !strings.Contains(res.Error, "too large: 2001 bytes, the limit is 2000") {
		t.Errorf("oversized: %+v", res)
	}
	var b bytes.Buffer
	b.WriteString("From: a@b.example\nSubject: parts\nContent-Type: multipart/mixed; boundary=z\n\n")
	for i := range 8 {
		fmt.Fprintf(&b, "--z\nContent-Type: text/plain\n\npart %d 192.0.2.%d\n", i, i+1)
	}
	b.WriteString("--z--\n")
	if res := p.Parse(b.Bytes()); res.Kind != KindUnparseable || !strings.Contains(res.Error, "more than 5 MIME parts") {
		t.Errorf("too many parts: %+v", res)
	}
	b.Reset()
	b.WriteString("From: a@b.example\nSubject: deep\nContent-Type: multipart/mixed; boundary=b0\n\n")
	for i := range 6 {
		fmt.Fprintf(&b, "--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n", i, i+1)
	}
	b.WriteString("--b6\nContent-Type: text/plain\n\n192.0.2.1\n")
	if res := p.Parse(b.Bytes()); res.Kind != KindUnparseable || !strings.Contains(res.Error, "nesting deeper than 3") {
		t.Errorf("deep nesting: %+v", res)
	}
}

func TestBrokenInputIsKeptAsUnparseable(t *testing.T) {
	for name, raw := range map[string][]byte{
		"empty":         {},
		"blank":         []byte("\n\n  \n"),
		"binary":        {0x00, 0xff, 0x13, 0x37, 0x00, 0x01},
		"json not xarf": []byte(`{"hello": "world"}`),
		"bad json":      []byte(`{"xarf_version": "4.0.0", `),
		"xarf 3":        []byte(`{"xarf_version": "3.0", "category": "x", "type": "y"}`),
	} {
		t.Run(name, func(t *testing.T) {
			res := parser().Parse(raw)
			if res.Kind != KindUnparseable || res.Error == "" || res.Digest != Digest(raw) {
				t.Errorf("got %+v, want unparseable with a reason and the digest", res)
			}
		})
	}
}

// corpusDir is the shared corpus next to the checkout.
const corpusDir = "../../../shared/corpus"

// corpusExpect states what every corpus file parses to. The manifest (MANIFEST.tsv) is read
// too: its format and first source IP must agree.
var corpusExpect = map[string]expect{
	"01-arf-rfc5965-b1-simple.eml": {kind: KindReport, format: FormatARF, category: abuse.Spam, ips: []string{"192.0.2.1"},
		domains: []string{"example.net"}, senders: []string{"somespammer@example.net"}, received: "2005-03-08T17:40:36-04:00", event: "2005-03-08T14:00:00-04:00"},
	"02-arf-rfc5965-b2-full.eml": {kind: KindReport, format: FormatARF, category: abuse.Spam, ips: []string{"192.0.2.1"},
		domains: []string{"example.net"}, urls: []string{"http://example.net/earn_money.html", "mailto:user@example.com"},
		received: "2005-03-08T17:40:36-04:00", event: "2005-03-08T14:00:00-04:00"},
	"03-arf-rfc6591-b1-auth-failure.eml": {kind: KindReport, id: "433689.81121.example@mta.mail.receiver.example", format: FormatARF, category: abuse.AuthFailure,
		ips: []string{"192.0.2.1"}, domains: []string{"a.sender.example"}, urls: []string{"http://www.sender.example/"}, received: "2011-10-08T15:15:59-05:00"},
	"04-arf-draft-dmarc-failure-report.eml": {kind: KindReport, format: FormatARF, category: abuse.AuthFailure, ips: []string{"192.0.2.2"},
		domains: []string{"consumer.example"}, received: "2022-07-19T00:57:48-05:00"},
	"05-arf-email-arf-optout-rfc822headers.eml": {kind: KindReport, format: FormatARF, category: abuse.Spam, ips: []string{"10.67.41.167"},
		domains: []string{"example.net"}, received: "2005-03-08T17:40:36-04:00", warning: "message/rfc822-headers"},
	"06-arf-aol-scomp.eml": {kind: KindReport, format: FormatARF, category: abuse.Spam, ips: []string{"10.17.18.1"},
		domains: []string{"server.domain5.tld"}, received: "2016-01-19T14:32:49-05:00", event: "2016-01-19T14:32:40-05:00"},
	"07-arf-yahoo.eml": {kind: KindReport, format: FormatARF, category: abuse.Spam, ips: []string{"10.17.18.26"},
		senders: []string{"secretaria@domain3.tld"}, received: "2016-01-20T07:55:27Z", event: "2016-01-19T15:16:34Z"},
	"08-arf-comcast-returnpath.eml": {kind: KindReport, format: FormatARF, category: abuse.Spam, ips: []string{"10.17.18.6"},
		domains: []string{"comcast.net"}, senders: []string{"sadie_hubbard@server.domain4.tld"}, received: "2016-01-19T08:17:10-07:00"},
	"09-arf-zoho.eml": {kind: KindReport, format: FormatARF, category: abuse.Spam, ips: []string{"10.17.18.28"},
		senders: []string{"orihuela@domain4.tld"}, received: "2015-09-07T20:17:03-07:00"},
	"15-arf-opendmarc-auth-failure.eml": {kind: KindReport, format: FormatARF, category: abuse.AuthFailure, ips: []string{"148.163.85.135"},
		domains: []string{"interpublication.org"}, received: "2021-10-05T17:37:02+13:00"},
	"18-arf-crlf-smp-fbl.eml": {kind: KindReport, format: FormatARF, category: abuse.Spam, ips: []string{"192.0.2.89"},
		domains: []string{"example.ed.jp"}, received: "2009-04-29T00:00:00Z"},
	"19-xarf02-blocklistde-regbot.eml": {kind: KindReport, id: "123456789@blocklist.de", format: FormatXARF02, category: abuse.Spam,
		ips: []string{"10.0.2.150"}, domains: []string{"attacker.cust.domain.tld"}, reporter: "abuse-team@blocklist.de",
		received: "2014-01-31T07:25:31+01:00", event: "2014-01-31T07:19:02+01:00"},
	"21-xarf02-netcraft-phishing.eml": {kind: KindReport, format: FormatNetcraft, category: abuse.Phishing, ips: []string{"10.19.3.1"},
		domains: []string{"john-doe.tld"}, urls: []string{"http://www.john-doe.tld/~newhtvzr/"}, received: "2015-10-26T11:28:27Z",
		event: "2015-10-26T11:27:58Z", warning: "UTz"},
	"22-xarf4-spec-connection-login-attack.json": {kind: KindReport, id: "dbf79f17-f4f4-4c22-ae58-19991f52a1e8", format: FormatXARF4, category: abuse.BruteForce,
		ips: []string{"198.51.100.77"}, reporter: "honeypot@ssh-monitor.example", received: "2025-01-11T12:17:20Z"},
	"23-xarf4-spec-content-phishing.json": {kind: KindReport, format: FormatXARF4, category: abuse.Phishing, ips: []string{"203.0.113.45"},
		domains: []string{"secure-banking-login.example.com"}, urls: []string{"http://secure-banking-login.example.com/auth"}, received: "2025-01-11T15:15:24Z"},
	"24-xarf4-email-transport-ddos.eml": {kind: KindReport, format: FormatXARF4, category: abuse.DoS, ips: []string{"192.0.2.100"},
		received: "2024-01-15T14:30:47Z", event: "2024-01-15T14:30:00Z"},
	"40-spamhaus-sbl-notify.eml": {kind: KindReport, id: "spamhaus:SBL123456:1.2.3.4", format: FormatSpamhaus, category: abuse.Phishing,
		ips: []string{"1.2.3.4"}, received: "2016-02-24T07:06:18Z"},
}

// TestCorpus parses every real-world report of ../shared/corpus. It skips when the corpus is
// not beside the checkout (the project's own fixtures stand alone).
func TestCorpus(t *testing.T) {
	f, err := os.Open(filepath.Join(corpusDir, "MANIFEST.tsv"))
	if err != nil {
		t.Skipf("no shared corpus at %s (%v); the fixtures in testdata/ cover the formats", corpusDir, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	sc.Scan() // header
	p := parser()
	seen := 0
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 5 {
			continue
		}
		name, format, ips := cols[0], cols[2], cols[4]
		seen++
		t.Run(name, func(t *testing.T) {
			want, ok := corpusExpect[name]
			if !ok {
				t.Fatalf("no expectation for corpus file %s: add a row to corpusExpect", name)
			}
			raw, err := os.ReadFile(filepath.Join(corpusDir, name))
			if err != nil {
				t.Fatal(err)
			}
			res := p.Parse(raw)
			check(t, res, want)
			if len(res.Reports) == 0 {
				return
			}
			r := res.Reports[0]
			// The manifest's format: a standard one must match; "other" is any non-standard one.
			switch format {
			case "other":
				if slices.Contains([]string{FormatARF, FormatXARF02, FormatXARF4}, r.Format) {
					t.Errorf("manifest says a non-standard format, parsed as %s", r.Format)
				}
			default:
				if r.Format != format {
					t.Errorf("manifest format %s, parsed %s", format, r.Format)
				}
			}
			if ip := firstIP(ips); ip != "" && !slices.Contains(r.SourceIPs, ip) {
				t.Errorf("manifest source IP %s not among %v", ip, r.SourceIPs)
			}
		})
	}
	if seen != len(corpusExpect) {
		t.Errorf("manifest lists %d files, the table %d", seen, len(corpusExpect))
	}
}

// BenchmarkParseCorpus measures parser throughput over the corpus (or the fixtures when the
// corpus is absent): reports/s on one core and allocations per report.
func BenchmarkParseCorpus(b *testing.B) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.e*"))
	more, _ := filepath.Glob(filepath.Join(corpusDir, "*.json"))
	files = append(files, more...)
	if len(files) == 0 {
		files, _ = filepath.Glob("testdata/*.eml")
	}
	var raws [][]byte
	total := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		raws = append(raws, raw)
		total += len(raw)
	}
	p := parser()
	b.SetBytes(int64(total / len(raws)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.Parse(raws[i%len(raws)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reports/s")
}

// TestQuickDateAgreesWithTheGeneralPath: the fast reader of the common date shapes gives the
// same instant as net/mail (plus the zone fix) and refuses what it does not fully understand.
func TestQuickDateAgreesWithTheGeneralPath(t *testing.T) {
	for _, s := range []string{
		"Thu, 8 Mar 2005 17:40:36 EDT", "Mon, 2 Mar 2026 10:00:00 +0000", "5 Mar 2026 06:30:00 -0500",
		"Tue,  5 Oct 2021 17:37:02 +1300 (NZDT)", "Sat, 8 Oct 2011 15:15:59 -0500 (CDT)", "Wed, 24 Feb 2016 07:06:18 +0000 (UTC)",
		"Sun, 22 Nov 2026 09:12:00 GMT", "Fri, 31 Jan 2014 07:25:31 +0100", "Mon, 7 Sep 2015 20:17:03 -0700 (PDT)",
		"1 Jan 2026 00:00 +0530", "2026-03-07T03:03:58+01:00", "2025-01-11T12:17:20Z", "2026-11-22T08:40:00.123Z",
	} {
		got, zone, ok := quickDate(s)
		if !ok || zone != "" {
			t.Errorf("%q: not read", s)
			continue
		}
		want, err := mail.ParseDate(s)
		if err != nil {
			want, err = time.Parse(time.RFC3339Nano, s)
		}
		if err != nil {
			t.Fatalf("%q: the general path fails too: %v", s, err)
		}
		if want = fixZone(want); !got.Equal(want) {
			t.Errorf("%q: %v, net/mail says %v", s, got, want)
		}
	}
	for _, s := range []string{"Mon, 31 Apr 2026 10:00:00 +0000", "Mon, 2 Mar 26 10:00:00 +0000", "2 Mar 2026 25:00:00 +0000",
		"2 Foo 2026 10:00:00 +0000", "Mon, 26 Oct 2015 11:28:27 U2z", "yesterday", "2 Mar 2026 10:00:00 +00:00 extra words"} {
		if got, _, ok := quickDate(s); ok {
			t.Errorf("%q: read as %v, want it left to the general path", s, got)
		}
	}
	// An unknown zone name reads as UTC, and says so.
	if got, zone, ok := quickDate("Mon, 26 Oct 2015 11:28:27 UTz"); !ok || zone != "UTz" || !got.Equal(time.Date(2015, 10, 26, 11, 28, 27, 0, time.UTC)) {
		t.Errorf("unknown zone: %v %q %v", got, zone, ok)
	}
}

// A UTF-8 byte order mark before an X-ARF 4 document or a mail changes nothing.
func TestByteOrderMark(t *testing.T) {
	p := parser()
	doc := []byte("\ufeff" + `{"xarf_version":"4.0.0","report_id":"bom-1","category":"messaging","type":"spam","source_identifier":"192.0.2.9","timestamp":"2026-11-27T07:00:00Z","reporter":{"org":"X","contact":"x@x.example","domain":"x.example"}}`)
	if res := p.Parse(doc); res.Kind != KindReport || res.Reports[0].Format != FormatXARF4 {
		t.Errorf("X-ARF 4 after a BOM: %s %q", res.Kind, res.Error)
	}
	mail := []byte("\ufeffFrom: a@b.example\nSubject: spam\n\nSpam from 192.0.2.9.\n")
	if res := p.Parse(mail); res.Kind != KindReport || res.From != "a@b.example" {
		t.Errorf("a mail after a BOM: %s from %q", res.Kind, res.From)
	}
}
