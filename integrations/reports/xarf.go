package reports

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"abusedesk/domain/abuse"
)

// findXARF02 returns the YAML report.txt of an X-ARF 0.2 mail, if any.
func findXARF02(m *msg) []byte {
	marked := strings.EqualFold(strings.TrimSpace(m.header.Get("X-Xarf")), "plain") ||
		strings.EqualFold(strings.TrimSpace(m.header.Get("X-Arf")), "yes")
	for _, pt := range m.parts {
		if strings.EqualFold(pt.filename, "report.txt") || strings.EqualFold(pt.params["name"], "report.txt") {
			return pt.body
		}
	}
	if marked {
		for _, pt := range m.parts {
			b := bytes.TrimSpace(pt.body)
			if bytes.HasPrefix(b, []byte("---")) && bytes.Contains(b, []byte("Report-Type:")) {
				return pt.body
			}
		}
	}
	return nil
}

// xarf02 reads an X-ARF 0.2 report (YAML). Invalid YAML — common in the wild — is read as
// "Key: value" lines instead.
func (p *Parser) xarf02(m *msg, res *Result, yml []byte) *Report {
	fields := map[string][]string{}
	var doc map[string]any
	if err := yaml.Unmarshal(yml, &doc); err == nil && len(doc) > 0 {
		for k, v := range doc {
			switch x := v.(type) {
			case time.Time:
				fields[canonicalKey(k)] = []string{x.Format(time.RFC3339)}
			case nil:
			default:
				fields[canonicalKey(k)] = []string{fmt.Sprint(x)}
			}
		}
	} else {
		fields = readFields(bytes.TrimPrefix(bytes.TrimSpace(yml), []byte("---")))
	}
	r := &Report{Format: FormatXARF02, Fields: fields}
	r.sure(0.95, "0.95 X-ARF 0.2 report")
	rtype, cat := first(fields, "Report-Type"), first(fields, "Category")
	c, ok := categoryOfType(rtype, cat)
	if !ok {
		r.Warnings = append(r.Warnings, fmt.Sprintf("unknown X-ARF category %q / report type %q", cat, rtype))
	}
	r.Category = c
	src, srcType := strings.TrimSpace(first(fields, "Source")), strings.ToLower(first(fields, "Source-Type"))
	switch {
	case strings.Contains(srcType, "ip"):
		r.SourceIPs = appendUnique(r.SourceIPs, firstIP(src))
	case srcType == "uri" || srcType == "url":
		r.URLs = appendUnique(r.URLs, src)
		r.Domains = addDomain(r.Domains, hostOf(src))
		r.SourceIPs = appendUnique(r.SourceIPs, ipOfURL(src))
	case strings.Contains(srcType, "mail"):
		if a := cleanAddress(src); a != "" {
			r.Senders = appendUnique(r.Senders, a)
		}
	default:
		if ip := firstIP(src); ip != "" {
			r.SourceIPs = appendUnique(r.SourceIPs, ip)
		}
	}
	r.Domains = addDomain(r.Domains, first(fields, "Domain"))
	if t, warn, ok := parseDate(first(fields, "Date")); ok {
		r.EventTime = t
		if warn != "" {
			r.Warnings = append(r.Warnings, "Date: "+warn)
		}
	}
	if t, warn, ok := parseDate(m.header.Get("Date")); ok {
		r.ReceivedAt = t
		if warn != "" {
			r.Warnings = append(r.Warnings, "mail Date: "+warn)
		}
	} else {
		r.ReceivedAt = r.EventTime
		r.Warnings = append(r.Warnings, "mail Date unreadable: "+m.header.Get("Date"))
	}
	r.Reporter = cleanAddress(first(fields, "Reported-From"))
	if r.Reporter == "" {
		r.Reporter = res.From
	}
	// The human text names more: the host behind the IP, the phishing URL and its address.
	text := m.textOf(256 << 10)
	if len(r.SourceIPs) > 0 {
		for _, host := range hostsAfterIP(text, r.SourceIPs[0]) {
			r.Domains = addDomain(r.Domains, host)
		}
	}
	if r.Category == abuse.Phishing || r.Category == abuse.Malware {
		for _, u := range textURLs(text) {
			if hostOf(u) == "www.x-arf.org" || strings.Contains(u, "x-arf.org") {
				continue
			}
			if isPhishingEvidence(text, u) {
				r.URLs = appendUnique(r.URLs, u)
			}
		}
		for _, line := range strings.Split(text, "\n") {
			if i := strings.LastIndex(line, "["); i >= 0 && strings.HasPrefix(strings.TrimSpace(line), "http") {
				r.SourceIPs = appendUnique(r.SourceIPs, firstIP(line[i:]))
			}
		}
	}
	if id := first(fields, "Report-ID"); id != "" {
		r.ID = id
	} else if res.MessageID != "" {
		r.ID = res.MessageID
	} else {
		r.ID = "sha256:" + res.Digest[:32]
	}
	if strings.Contains(strings.ToLower(res.From), "netcraft") || strings.Contains(strings.ToLower(first(fields, "User-Agent")), "netcraft") {
		r.Format = FormatNetcraft
	}
	return r
}

// isPhishingEvidence keeps the URLs a takedown names as the attack (on their own line or after
// "attack at"), not the footer links.
func isPhishingEvidence(text, u string) bool {
	for _, line := range strings.Split(text, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, u) {
			return true
		}
	}
	return false
}

// xarf4 is the X-ARF 4 JSON document (the fields abusedesk reads).
type xarf4 struct {
	Version   string    `json:"xarf_version"`
	ReportID  string    `json:"report_id"`
	Timestamp time.Time `json:"timestamp"`
	Reporter  struct {
		Org     string `json:"org"`
		Contact string `json:"contact"`
		Domain  string `json:"domain"`
	} `json:"reporter"`
	SourceIdentifier string     `json:"source_identifier"`
	SourcePort       any        `json:"source_port"`
	Category         string     `json:"category"`
	Type             string     `json:"type"`
	URL              string     `json:"url"`
	Domain           string     `json:"domain"`
	FirstSeen        *time.Time `json:"first_seen"`
	LastSeen         *time.Time `json:"last_seen"`
	Tags             []string   `json:"tags"`
	Confidence       *float64   `json:"confidence"`
	SenderEmail      string     `json:"sender_email"`
	Evidence         []struct {
		ContentType string `json:"content_type"`
	} `json:"evidence"`
}

// xarf4Categories are X-ARF 4's categories.
var xarf4Categories = []string{"messaging", "connection", "content", "infrastructure", "copyright", "vulnerability", "reputation"}

// CheckXARF4 says what an X-ARF 4 document lacks of what the format requires (nil: nothing):
// xarf_version 4.x, report_id, timestamp, the reporter's contact, source_identifier, and a
// known category with its type. The parser reads what it can of a document that fails this (a
// reporter's mail is read as it comes); the reports API holds clients to the format.
func CheckXARF4(b []byte) error {
	var x struct {
		Version   string `json:"xarf_version"`
		ReportID  string `json:"report_id"`
		Timestamp string `json:"timestamp"`
		Reporter  *struct {
			Contact string `json:"contact"`
		} `json:"reporter"`
		Source   string `json:"source_identifier"`
		Category string `json:"category"`
		Type     string `json:"type"`
	}
	if err := json.Unmarshal(b, &x); err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	var missing []string
	for _, f := range []struct{ name, v string }{{"xarf_version", x.Version}, {"report_id", x.ReportID}, {"timestamp", x.Timestamp},
		{"source_identifier", x.Source}, {"category", x.Category}, {"type", x.Type}} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, f.name)
		}
	}
	if x.Reporter == nil || strings.TrimSpace(x.Reporter.Contact) == "" {
		missing = append(missing, "reporter.contact")
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing required X-ARF 4 field(s): %s", strings.Join(missing, ", "))
	}
	if !strings.HasPrefix(x.Version, "4") {
		return fmt.Errorf("xarf_version %q is not 4.x", x.Version)
	}
	if _, err := time.Parse(time.RFC3339, x.Timestamp); err != nil {
		return fmt.Errorf("timestamp %q is not an RFC 3339 date and time", x.Timestamp)
	}
	if !slices.Contains(xarf4Categories, strings.ToLower(x.Category)) {
		return fmt.Errorf("category %q is not an X-ARF 4 category (%s)", x.Category, strings.Join(xarf4Categories, ", "))
	}
	return nil
}

// parseXARF4 reads an X-ARF 4 JSON report.
func parseXARF4(b []byte) (*Report, error) {
	var x xarf4
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&x); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if x.Version == "" {
		return nil, fmt.Errorf("no xarf_version: not an X-ARF 4 report")
	}
	if !strings.HasPrefix(x.Version, "4") {
		return nil, fmt.Errorf("xarf_version %q is not 4.x", x.Version)
	}
	if x.Category == "" || x.Type == "" {
		return nil, fmt.Errorf("X-ARF 4 report without category or type")
	}
	r := &Report{Format: FormatXARF4, Signals: []string{"0.95 X-ARF 4 report"}, Confidence: 0.95, Fields: map[string][]string{
		"xarf_version": {x.Version}, "category": {x.Category}, "type": {x.Type},
	}}
	c, ok := categoryOfType(x.Type, x.Category)
	if !ok {
		r.Warnings = append(r.Warnings, "unknown X-ARF 4 category/type "+x.Category+"/"+x.Type)
	}
	r.Category = c
	if ip := firstIP(x.SourceIdentifier); ip != "" {
		r.SourceIPs = append(r.SourceIPs, ip)
	} else {
		r.Domains = addDomain(r.Domains, x.SourceIdentifier)
	}
	if x.SourcePort != nil {
		r.Fields["source_port"] = []string{fmt.Sprint(x.SourcePort)}
	}
	if x.URL != "" {
		r.URLs = append(r.URLs, x.URL)
		r.Domains = addDomain(r.Domains, hostOf(x.URL))
		r.SourceIPs = appendUnique(r.SourceIPs, ipOfURL(x.URL))
	}
	r.Domains = addDomain(r.Domains, x.Domain)
	if a := cleanAddress(x.SenderEmail); a != "" {
		r.Senders = append(r.Senders, a)
	}
	r.ReceivedAt = x.Timestamp
	r.EventTime = x.Timestamp
	if x.FirstSeen != nil {
		r.EventTime = *x.FirstSeen
	}
	r.Reporter = cleanAddress(x.Reporter.Contact)
	if r.Reporter == "" {
		r.Reporter = x.Reporter.Org
	}
	r.ID = x.ReportID
	for _, t := range x.Tags {
		if sev, ok := strings.CutPrefix(strings.ToLower(t), "severity:"); ok {
			switch sev {
			case "low":
				r.Severity = abuse.SeverityLow
			case "medium":
				r.Severity = abuse.SeverityMedium
			case "high":
				r.Severity = abuse.SeverityHigh
			case "critical":
				r.Severity = abuse.SeverityCritical
			}
		}
	}
	if x.Confidence != nil && *x.Confidence > 0 && *x.Confidence <= 1 {
		r.sure(*x.Confidence, fmt.Sprintf("%.2f the reporter's own confidence (X-ARF 4)", *x.Confidence))
	}
	if r.ID == "" {
		r.ID = "xarf4:" + Digest(b)[:32]
		r.Warnings = append(r.Warnings, "no report_id; the ID is a digest")
	}
	r.Summary = OneLine(fmt.Sprintf("X-ARF %s/%s from %s about %s", x.Category, x.Type, cmp.Or(x.Reporter.Org, r.Reporter), cmp.Or(x.SourceIdentifier, x.URL)), 200)
	finish(r)
	return r, nil
}

// findXARF4 returns an X-ARF 4 JSON document attached to or making up the mail.
func findXARF4(m *msg) []byte {
	for _, pt := range m.parts {
		b := bytes.TrimSpace(pt.body)
		if len(b) == 0 || b[0] != '{' {
			continue
		}
		if pt.mediaType == "application/json" || strings.HasSuffix(strings.ToLower(pt.filename), ".json") || bytes.Contains(b[:min(len(b), 4096)], []byte(`"xarf_version"`)) {
			if bytes.Contains(b, []byte(`"xarf_version"`)) {
				return b
			}
		}
	}
	return nil
}
