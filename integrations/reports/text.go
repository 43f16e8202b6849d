package reports

import (
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"

	"abusedesk/domain/abuse"
)

// ---- SpamCop ------------------------------------------------------------------------------------

var (
	reSpamCopFrom = regexp.MustCompile(`(?im)^\s*Email from ([0-9a-f.:]+)\s*/\s*(.+)$`)
	reSpamCopID   = regexp.MustCompile(`(?i)\[SpamCop \([^)]*\) id:(\d+)\]`)
	reSpamvertise = regexp.MustCompile(`(?im)^\s*Spamvertised web site:\s*(\S+)`)
)

func isSpamCop(m *msg, res *Result) bool {
	return strings.HasSuffix(res.From, "spamcop.net") || reSpamCopID.MatchString(res.Subject)
}

// spamcop reads a SpamCop report: "Email from <ip> / <date>", the spamvertised sites, and the
// offending message below.
func spamcop(m *msg, res *Result) *Report {
	text := m.textOf(512 << 10)
	r := &Report{Format: FormatSpamCop, Category: abuse.Spam, Reporter: res.From}
	r.sure(0.9, "0.90 SpamCop report")
	if mm := reSpamCopFrom.FindStringSubmatch(text); mm != nil {
		r.SourceIPs = appendUnique(r.SourceIPs, firstIP(mm[1]))
		if t, _, ok := parseDate(mm[2]); ok {
			r.EventTime = t
		}
	}
	for _, mm := range reSpamvertise.FindAllStringSubmatch(text, -1) {
		u := refang(mm[1])
		r.URLs = appendUnique(r.URLs, u)
		r.Domains = addDomain(r.Domains, hostOf(u))
	}
	if i := strings.Index(text, "[ Offending message ]"); i >= 0 {
		if a := cleanAddress(headerLine(text[i:], "From")); a != "" {
			r.Senders = appendUnique(r.Senders, a)
		}
	}
	if mm := reSpamCopID.FindStringSubmatch(res.Subject); mm != nil {
		r.ID = "spamcop:" + mm[1]
	}
	if len(r.SourceIPs) == 0 {
		r.SourceIPs = textIPs(text)
		r.sure(0.6, `0.60 SpamCop report without its "Email from" line`)
		r.Warnings = append(r.Warnings, `no "Email from" line; addresses taken from the text`)
	}
	return r
}

// headerLine finds "Key: value" at the start of a line in text.
func headerLine(text, key string) string {
	for _, line := range strings.Split(text, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), key) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// ---- fail2ban --------------------------------------------------------------------------------

var reFail2ban = regexp.MustCompile(`(?i)\b(?:IP|host)\s+([0-9a-f.:]+)\s+has (?:just )?been banned`)

func isFail2ban(m *msg, res *Result) bool {
	return strings.Contains(strings.ToLower(res.Subject), "fail2ban") || reFail2ban.MatchString(m.textOf(64<<10))
}

// fail2ban reads a fail2ban ban notification: brute force from the banned address.
func fail2ban(m *msg, res *Result) *Report {
	text := m.textOf(256 << 10)
	r := &Report{Format: FormatFail2ban, Category: abuse.BruteForce, Reporter: res.From}
	r.sure(0.85, "0.85 fail2ban ban notice")
	if mm := reFail2ban.FindStringSubmatch(text); mm != nil {
		r.SourceIPs = appendUnique(r.SourceIPs, firstIP(mm[1]))
	}
	if len(r.SourceIPs) == 0 {
		r.SourceIPs = textIPs(res.Subject)
	}
	if strings.Contains(strings.ToLower(text+res.Subject), "portscan") || strings.Contains(strings.ToLower(text+res.Subject), "port scan") {
		r.Category = abuse.PortScan
	}
	// The log lines carry the times of the attempts.
	r.EventTime = textDate(text)
	return r
}

// ---- Spamhaus SBL notifications -------------------------------------------------------------

var (
	reSBLRef     = regexp.MustCompile(`\bSBL\d+\b`)
	reSBLIP      = regexp.MustCompile(`(?im)^\s*IP/cidr:\s*(\S+)`)
	reSBLProblem = regexp.MustCompile(`(?im)^\s*Problem:\s*(.+)$`)
)

func isSpamhaus(m *msg, res *Result) bool {
	return strings.HasSuffix(res.From, "spamhaus.org") && reSBLRef.MatchString(res.Subject+m.textOf(8<<10))
}

// spamhaus reads an SBL listing notification: the listed address and the stated problem.
func spamhaus(m *msg, res *Result) *Report {
	text := m.textOf(64 << 10)
	r := &Report{Format: FormatSpamhaus, Reporter: res.From, Category: abuse.Spam}
	r.sure(0.85, "0.85 Spamhaus SBL listing notice")
	if mm := reSBLIP.FindStringSubmatch(text); mm != nil {
		cidr := mm[1]
		// A listed range is the range, every address of it; a /32 (or /128) is one address.
		if p, err := netip.ParsePrefix(cidr); err == nil && p.Bits() < p.Addr().BitLen() {
			r.Ranges = appendUnique(r.Ranges, p.Masked().String())
		} else if ip := firstIP(strings.SplitN(cidr, "/", 2)[0]); ip != "" {
			r.SourceIPs = append(r.SourceIPs, ip)
		}
		if strings.Contains(cidr, "/") {
			r.Fields = map[string][]string{"cidr": {cidr}}
		}
	}
	problem := ""
	if mm := reSBLProblem.FindStringSubmatch(text); mm != nil {
		problem = strings.TrimSpace(mm[1])
		if c, ok := categoryOfType(problem); ok {
			r.Category = c
		}
	}
	ref := reSBLRef.FindString(res.Subject + " " + text)
	if r.Fields == nil {
		r.Fields = map[string][]string{}
	}
	r.Fields["sbl"] = []string{ref}
	r.ID = "spamhaus:" + ref + ":" + strings.Join(append(slices.Clone(r.SourceIPs), r.Ranges...), ",")
	r.Summary = OneLine("Spamhaus "+ref+": "+problem, 200)
	return r
}

// ---- copyright notices ---------------------------------------------------------------------

var (
	reCopyright       = regexp.MustCompile(`(?i)\b(DMCA|copyright infringement|notice of (?:claimed )?infringement|infringing (?:material|content|file)|17 U\.S\.C\.)`)
	reInfringingURL   = regexp.MustCompile(`(?im)^\s*(?:Infringing (?:URL|Location|Material)|Location|URL)\s*:\s*(\S+)`)
	reTimestampLine   = regexp.MustCompile(`(?im)^\s*(?:Timestamp|Time|Date of infringement|Infringement date)\s*:\s*(.+)$`)
	reIPAddressLine   = regexp.MustCompile(`(?im)^\s*(?:IP Address|IP|Infringer IP)\s*:\s*(\S+)`)
	reTakedownSubject = regexp.MustCompile(`(?i)(phishing|takedown|fraudulent (?:site|website))`)
)

// copyright reads a copyright (DMCA-style) notice: infringing locations, the IP and time.
func copyright(m *msg, res *Result) *Report {
	text := m.textOf(512 << 10)
	r := &Report{Format: FormatCopyright, Category: abuse.Copyright, Reporter: res.From}
	r.sure(0.8, "0.80 copyright notice with its infringing locations")
	for _, mm := range reInfringingURL.FindAllStringSubmatch(text, -1) {
		u := refang(mm[1])
		if strings.Contains(u, "://") {
			r.URLs = appendUnique(r.URLs, u)
			r.Domains = addDomain(r.Domains, hostOf(u))
			r.SourceIPs = appendUnique(r.SourceIPs, ipOfURL(u))
		}
	}
	for _, mm := range reIPAddressLine.FindAllStringSubmatch(text, -1) {
		r.SourceIPs = appendUnique(r.SourceIPs, firstIP(mm[1]))
	}
	if mm := reTimestampLine.FindStringSubmatch(text); mm != nil {
		if t, _, ok := parseDate(strings.TrimSpace(mm[1])); ok {
			r.EventTime = t
		}
	}
	if len(r.URLs) == 0 && len(r.SourceIPs) == 0 {
		r.SourceIPs = textIPs(text)
		for _, u := range textURLs(text) {
			r.URLs = appendUnique(r.URLs, u)
			r.Domains = addDomain(r.Domains, hostOf(u))
		}
		r.sure(0.5, "0.50 copyright notice without infringing-location lines; addresses from the text")
	}
	return r
}

// ---- phishing takedown notices and free-form complaints -------------------------------------

// freeform reads a complaint written by a person: the addresses, links and senders it names,
// the first date, and a category from its words. It returns nil when the text names nothing
// to act on.
func freeform(text, subject, from string, received time.Time) *Report {
	body := stripPasted(signatureCut(stripQuotedReplies(text)))
	r := &Report{Format: FormatFreeform, Reporter: from, ReceivedAt: received}
	whole := refangText(subject + "\n" + body)
	cat, known := categoryOfText(subject + "\n" + body)
	// Texts or calls from numbers or senders it names: the messaging track's categories.
	messaging := textSenders(r, whole, from)
	if messaging {
		if c, said := messagingCategory(whole, cat); c.Track() == abuse.TrackMessaging {
			cat, known = c, said
		} else {
			messaging = false // a legal request or a customer's plea, whatever the medium
		}
	}
	r.Category = cat
	switch {
	case messaging && known:
		r.sure(0.4, "0.40 a complaint about texts or calls in a person's words; category from its words")
	case messaging:
		r.sure(0.25, "0.25 a complaint about texts or calls in a person's words; no category in its words")
	case known:
		r.sure(0.4, "0.40 a complaint in a person's words; category from its words")
	default:
		r.sure(0.25, "0.25 a complaint in a person's words; no category in its words")
	}
	if r.Category == abuse.CarrierNotice {
		// A carrier sets its own deadline ("remediate within 5 business days"): the case's.
		r.Deadline = statedDeadline(whole, received)
	}
	r.Ranges = textRanges(whole)
	urls := append(textURLs(body), bareURLs(refangText(body))...)
	refs := referenceIPs(body, urls)
	var inText, named []string
	for _, ip := range textIPs(whole) {
		if !inRangeNotation(whole, ip) {
			inText = append(inText, ip)
			if !slices.Contains(refs, ip) {
				named = append(named, ip)
			}
		}
	}
	if len(named) == 0 {
		named, refs = inText, nil // only the reference names an address: a person reads it
	}
	for _, ip := range refs {
		r.Warnings = append(r.Warnings, "address choice: "+ip+" left out: the host of a reference link (details, evidence, a ticket)")
	}
	var left []string
	r.SourceIPs, left = complaintIPs(whole, named)
	if len(left) > 0 {
		r.Warnings = append(r.Warnings, "address choice: "+strings.Join(left, ", "))
	}
	for _, u := range urls {
		if ip := ipOfURL(u); ip != "" && slices.Contains(refs, ip) {
			continue
		}
		r.URLs = append(r.URLs, u)
		if h := hostOf(u); h != "" && len(r.Domains) < maxFound {
			r.Domains = addDomain(r.Domains, h)
		}
		if ip := ipOfURL(u); ip != "" && len(r.SourceIPs) < maxFound {
			r.SourceIPs = appendUnique(r.SourceIPs, ip)
		}
	}
	for _, a := range textEmails(body) {
		if a != from {
			r.Senders = append(r.Senders, a)
		}
	}
	r.EventTime = textDate(body)
	if r.Category == abuse.LegalRequest {
		// Only a legal request is answered in its writer's language (its receipt).
		r.Language, r.LegalKind, r.Deadline = Language(whole), legalKind(whole), statedDeadline(whole, received)
	}
	if len(r.SourceIPs) == 0 && len(r.URLs) == 0 && len(r.Senders) == 0 && len(r.Ranges) == 0 && !r.namesSenders() {
		return nil
	}
	if len(r.SourceIPs) == 0 && !messaging {
		r.doubt(0.1, "-0.10 no source address") // texts come from numbers, not addresses
	}
	r.Summary = OneLine(subject+": "+body, 200)
	return r
}

// reTakedownAsk is what a takedown notice asks or says of the content: take it down, remove it,
// it is hosted on your network — in the languages the desk reads.
var reTakedownAsk = regexp.MustCompile(`(?i)(\btake (?:it |this |them |the \w+ )?down\b|\btakedown (?:request|notice)\b|\bplease (?:remove|suspend|disable|take|deactivate|investigate)\b|\bhosted (?:on|at|by|in)\b|\bon your (?:network|server|servers|infrastructure|platform)\b|\bresolves to\b|\bis (?:live|active|online|still up) (?:at|on)\b|\bhosting (?:ip|provider)\b|entfernen|gehostet|sperren|retirer|supprimer|hébergé|retirar|eliminar|alojad[oa]|rimuovere|ospitat[oa]|verwijderen|gehost|usunięci\w*|usunąć)`)

// reReferenceCue is the label of a link to the reporter's own details, right before it on its
// line ("Details:", "evidence at", "see our report", "ticket:").
var reReferenceCue = regexp.MustCompile(`(?i)(?:details|evidence|more information|more info|full report|our report|the logs|logs|ticket|reference|lookup|portal|dashboard|einzelheiten|détails|detalles|dettagli)\s*(?:at|on|here|under|unter|sur|en|su)?\s*[:=]?\s*[<(\[]?$`)

// referenceIPs are the addresses that are only the hosts of reference links: links on an IP
// host labelled as the reporter's details, evidence or ticket, which name no source.
func referenceIPs(text string, urls []string) []string {
	var out []string
	for _, u := range urls {
		ip := ipOfURL(u)
		if ip == "" {
			continue
		}
		i := strings.Index(text, u)
		if i < 0 {
			continue
		}
		if reReferenceCue.MatchString(text[lineStart(text, i):i]) {
			out = appendUnique(out, ip)
		}
	}
	return out
}

// takedown reads a phishing takedown notice that is not X-ARF: the attack URLs and addresses.
func takedown(m *msg, res *Result, received time.Time) *Report {
	text := m.textOf(512 << 10)
	r := freeform(text, res.Subject, res.From, received)
	if r == nil {
		return nil
	}
	if len(r.SourceIPs) == 0 && !reTakedownAsk.MatchString(text) {
		// A subject about phishing or takedowns, and a text that names no host's address and
		// asks nothing removed: a vendor's offer or a newsletter, read as a person's words.
		return r
	}
	r.Format, r.Category, r.Signals = FormatTakedown, abuse.Phishing, nil
	r.sure(0.75, "0.75 a phishing takedown notice (its subject says so)")
	return r
}

var (
	// reWhoisLine is a line of whois or RIR output pasted into a complaint ("inetnum:", "route:",
	// "NetRange:", …): it names a network and its holder, never a source.
	reWhoisLine = regexp.MustCompile(`(?i)^\s*(?:inetnum|inet6num|netrange|cidr|route6?|netname|nethandle|parent|originas|admin-c|tech-c|mnt-by|mnt-lower|mnt-routes|organi[sz]ation|orgname|orgid|abuse-mailbox|abuse-c)\s*:`)
	// reWhoisBlock says a text holds pasted whois output at all (before any line is dropped).
	reWhoisBlock = regexp.MustCompile(`(?im)^\s*(?:inetnum|inet6num|netrange|netname|nethandle|mnt-by)\s*:`)
	// reTraceHop is a traceroute line ("  3  203.0.113.5  8.2 ms", " 4  host (192.0.2.1)  12 ms"):
	// the path to a host, not sources.
	reTraceHop = regexp.MustCompile(`(?i)^\s*\d{1,2}\s+(?:\S+\s+)?\(?[0-9a-f.:]+\)?\s+(?:[\d.]+\s*ms|\*)`)
)

// stripPasted drops what reporters paste from their tools — whois output, traceroute hops —
// which names networks and paths, not the source of the abuse.
func stripPasted(s string) string {
	if !strings.Contains(s, ":") && !strings.Contains(s, "ms") {
		return s
	}
	whois := reWhoisBlock.MatchString(s)
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if whois && reWhoisLine.MatchString(line) || reTraceHop.MatchString(line) {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// stripQuotedReplies drops "> " quoted lines, so a complaint quoting our own mail does not
// name our addresses.
func stripQuotedReplies(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), ">") {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}
