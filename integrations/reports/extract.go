package reports

import (
	"net/mail"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"abusedesk/domain/abuse"
)

// ---- addresses --------------------------------------------------------------------------------

var (
	reURL  = regexp.MustCompile(`(?i)\b(?:https?|hxxps?|ftp)://[^\s<>"'` + "`" + `\]\[{}|\\^]+`)
	reMail = regexp.MustCompile(`(?i)\b[a-z0-9][a-z0-9._%+\-=]*@[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?)*\.[a-z]{2,24}\b`)
	// reHostIP finds "192.0.2.1 (host.example)" and "host.example (192.0.2.1)" / "[192.0.2.1]".
	// reHostInParens is the "(host.name)" written right after an address.
	reHostInParens = regexp.MustCompile(`^[ \t]*\(([a-zA-Z0-9](?:[a-zA-Z0-9\-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9\-]*[a-zA-Z0-9])?)+)\)`)
)

// usableIP parses an address and refuses the ones that name no one (loopback, unspecified,
// multicast, link-local). Private ranges stay: published sample reports are sanitised to
// 10.x, and providers report their own private ranges too.
func usableIP(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(strings.TrimPrefix(strings.Trim(strings.TrimSpace(s), "[]"), "IPv6:"))
	if err != nil {
		return netip.Addr{}, false
	}
	a = a.Unmap().WithZone("")
	if a.IsLoopback() || a.IsUnspecified() || a.IsMulticast() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() {
		return netip.Addr{}, false
	}
	return a, true
}

// isPort says whether s is a port number.
func isPort(s string) bool {
	if s == "" || len(s) > 5 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// firstIP returns the first usable IP in s ("148.163.85.135 (host)" → 148.163.85.135).
func firstIP(s string) string {
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == ',' || r == ';' || r == '(' || r == ')' }) {
		if a, ok := usableIP(f); ok {
			return a.String()
		}
	}
	if ips := textIPs(s); len(ips) > 0 {
		return ips[0]
	}
	return ""
}

// maxFound bounds how many addresses, links or senders are taken from one text: a report names
// a few; a text naming thousands is a list, not a complaint, and must not cost quadratic time.
const maxFound = 100

// textIPs finds the usable IPv4 and IPv6 addresses in free text, in order: every run of
// characters an address can hold is tried as one.
func textIPs(s string) []string {
	var out []string
	seen := map[string]bool{}
	isAddr := func(r rune) bool {
		return r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F' || r == '.' || r == ':'
	}
	for _, tok := range strings.FieldsFunc(s, func(r rune) bool { return !isAddr(r) }) {
		tok = strings.Trim(tok, ".:")
		if len(tok) < 7 || (!strings.Contains(tok, ".") && strings.Count(tok, ":") < 2) {
			continue
		}
		if h, port, ok := strings.Cut(tok, ":"); ok && strings.Count(tok, ":") == 1 && strings.Contains(h, ".") && isPort(port) {
			tok = h // an IPv4 address with its port ("192.0.2.10:9200")
		}
		if a, ok := usableIP(tok); ok && !seen[a.String()] {
			seen[a.String()] = true
			out = append(out, a.String())
			if len(out) == maxFound {
				break
			}
		}
	}
	return out
}

var (
	refanger    = strings.NewReplacer("[.]", ".", "(.)", ".", "[dot]", ".", "{.}", ".", "[:]", ":")
	dotRefanger = strings.NewReplacer("[.]", ".", "(.)", ".", "[dot]", ".")
)

// refang undoes the usual defanging of URLs and hosts (hxxp, [.], (.), [dot]).
func refang(s string) string {
	s = refanger.Replace(s)
	low := strings.ToLower(s)
	switch {
	case strings.HasPrefix(low, "hxxps://"):
		s = "https://" + s[8:]
	case strings.HasPrefix(low, "hxxp://"):
		s = "http://" + s[7:]
	}
	return s
}

// textURLs finds http(s)/ftp URLs (defanged ones too) in free text.
func textURLs(s string) []string {
	var out []string
	if !strings.Contains(s, "://") { // what every URL the expression finds has
		return nil
	}
	seen := map[string]bool{}
	s = dotRefanger.Replace(s)
	for _, m := range reURL.FindAllString(s, 4*maxFound) {
		u := strings.TrimRight(refang(m), ".,;:!?)>'\"*")
		if _, err := url.Parse(u); err == nil && len(u) > 10 && !seen[u] {
			seen[u] = true
			out = append(out, u)
			if len(out) == maxFound {
				break
			}
		}
	}
	return out
}

// reBareURL is a link written without its scheme ("account-check.example.net/verify"): a host
// name with a top-level domain of letters, then a path.
var reBareURL = regexp.MustCompile(`(?i)(?:^|[\s(<"'])((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,24})/[^\s<>"')\]]*)`)

// fileSuffixes are the "top-level domains" of file names, which a bare link is not.
var fileSuffixes = map[string]bool{"html": true, "htm": true, "php": true, "asp": true, "aspx": true, "jsp": true, "txt": true, "pdf": true,
	"exe": true, "zip": true, "js": true, "css": true, "png": true, "jpg": true, "gif": true, "eml": true, "msg": true, "doc": true, "docx": true}

// bareURLs finds links written without a scheme (defanged ones too), as http:// URLs.
func bareURLs(s string) []string {
	if !strings.Contains(s, "/") {
		return nil
	}
	var out []string
	for _, m := range reBareURL.FindAllStringSubmatch(dotRefanger.Replace(s), 4*maxFound) {
		if fileSuffixes[strings.ToLower(m[2])] {
			continue
		}
		u := "http://" + strings.TrimRight(m[1], ".,;:!?)>'\"*")
		if _, err := url.Parse(u); err == nil && ValidDomain(hostOf(u)) {
			out = appendUnique(out, u)
			if len(out) == maxFound {
				break
			}
		}
	}
	return out
}

// refangText undoes defanging in free text, for the addresses it names ("192.0.2[.]1",
// "example(dot)net").
func refangText(s string) string {
	return strings.NewReplacer("[.]", ".", "(.)", ".", "[dot]", ".", "(dot)", ".", "{.}", ".", "{dot}", ".", "[:]", ":").Replace(s)
}

// textEmails finds email addresses in free text, lower-cased.
func textEmails(s string) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range reMail.FindAllString(s, 4*maxFound) {
		if a := strings.ToLower(m); !seen[a] {
			seen[a] = true
			out = append(out, a)
			if len(out) == maxFound {
				break
			}
		}
	}
	return out
}

// hostOf returns a URL's host name ("" for an IP literal or an unparsable URL).
func hostOf(raw string) string {
	u, err := url.Parse(refang(raw))
	if err != nil {
		return ""
	}
	h := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if h == "" {
		return ""
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return ""
	}
	return h
}

// ipOfURL returns a URL's host when it is an IP literal.
func ipOfURL(raw string) string {
	u, err := url.Parse(refang(raw))
	if err != nil {
		return ""
	}
	if a, ok := usableIP(u.Hostname()); ok {
		return a.String()
	}
	return ""
}

// DomainOf returns the domain of an email address ("" for none).
func DomainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return strings.ToLower(strings.Trim(addr[i+1:], "<> ."))
	}
	return ""
}

// cleanAddress turns "<Name> <a@b>", "<a@b>", "a@b;" into "a@b".
func cleanAddress(s string) string {
	s = strings.TrimSpace(strings.TrimRight(strings.TrimSpace(s), ";,"))
	if a, err := mail.ParseAddress(s); err == nil {
		return strings.ToLower(a.Address)
	}
	if m := reMail.FindString(s); m != "" {
		return strings.ToLower(m)
	}
	return ""
}

// ValidDomain accepts host names like example.net (at least one dot, sane labels).
func ValidDomain(d string) bool {
	d = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
	if len(d) < 3 || len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	if _, err := netip.ParseAddr(d); err == nil {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// ---- Received headers --------------------------------------------------------------------------

var reReceivedFrom = regexp.MustCompile(`(?is)^\s*from\s+(.*?)(?:\s+by\s|\s+with\s|;|$)`)

// receivedIP returns the connecting IP a Received header recorded: the address in square
// brackets or parentheses of its "from" clause.
func receivedIP(v string) string {
	m := reReceivedFrom.FindStringSubmatch(strings.Join(strings.Fields(v), " "))
	if m == nil {
		return ""
	}
	from := m[1]
	for _, open := range []string{"[", "("} {
		rest := from
		for {
			i := strings.Index(rest, open)
			if i < 0 {
				break
			}
			rest = rest[i+1:]
			end := strings.IndexAny(rest, "])")
			if end < 0 {
				break
			}
			inner := strings.Trim(rest[:end], "? ")
			for _, f := range strings.Fields(inner) {
				if a, ok := usableIP(strings.Trim(f, "[]?")); ok {
					return a.String()
				}
			}
			rest = rest[end:]
		}
	}
	// "from 192.0.2.1 by …"
	if f := strings.Fields(from); len(f) > 0 {
		if a, ok := usableIP(f[0]); ok {
			return a.String()
		}
	}
	return ""
}

// providerInternal are host-name suffixes of mailbox providers' own relays: a hop from one of
// them is the provider passing the message on, not the sender.
var providerInternal = []string{".prod.outlook.com", ".outlook.com", ".google.com", ".yahoo.com", ".yahoodns.net", ".mail.ru", ".yandex.net"}

// receivedSource walks a message's Received headers from the top — the receiving side's
// newest hop first — and returns the first connecting address from outside the receiving side:
// hops from private addresses, from the reporter's own hosts (its domain) and from mailbox
// providers' internal relays are passed over (and named in skipped).
func receivedSource(values []string, reporterDomain string) (ip string, skipped []string) {
	firstPrivate := ""
	defer func() {
		// Only private hops: published samples are sanitised to 10.x, and a provider reports
		// its own private ranges too; the first one is the best there is.
		if ip == "" && firstPrivate != "" {
			ip = firstPrivate
		}
	}()
	for _, v := range values {
		a := receivedIP(v)
		if a == "" {
			continue
		}
		host := ""
		if m := reReceivedFrom.FindStringSubmatch(strings.Join(strings.Fields(v), " ")); m != nil {
			for _, f := range strings.FieldsFunc(m[1], func(r rune) bool { return r == ' ' || r == '(' || r == ')' || r == '[' || r == ']' }) {
				if ValidDomain(strings.ToLower(f)) {
					host = strings.ToLower(f)
					break
				}
			}
		}
		switch {
		case internalIP(a):
			skipped = append(skipped, a+" (private)")
			if firstPrivate == "" {
				firstPrivate = a
			}
		case abuse.InDomain(host, reporterDomain):
			skipped = append(skipped, a+" (the reporter's own "+host+")")
		case slices.ContainsFunc(providerInternal, func(s string) bool { return strings.HasSuffix(host, s) }):
			skipped = append(skipped, a+" (a provider's internal relay "+host+")")
		default:
			return a, skipped
		}
	}
	return "", skipped
}

// ---- dates -------------------------------------------------------------------------------------

var (
	reParen  = regexp.MustCompile(`\s*\([^)]*\)`)
	reSpaces = regexp.MustCompile(`\s+`)
	// reTextDate finds RFC 3339 and RFC 5322 dates in prose.
	reTextDate  = regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?\b|\b(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),\s+)?\d{1,2}\s+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s+\d{4}\s+\d{2}:\d{2}(?::\d{2})?(?:\s+(?:[+-]\d{4}|[A-Z]{2,4}))?`)
	dateLayouts = []string{
		time.RFC3339Nano, time.RFC3339, "2006-01-02T15:04:05Z0700", "2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05 -0700",
		"2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04",
		"Mon, 2 Jan 2006 15:04:05 -0700", "2 Jan 2006 15:04:05 -0700", "Mon, 2 Jan 2006 15:04:05", "2 Jan 2006 15:04:05",
		"Mon, 2 Jan 2006 15:04", "Mon Jan 2 15:04:05 2006", "02/Jan/2006:15:04:05 -0700",
	}
)

// zoneOffsets are the zone abbreviations mail dates use (RFC 5322's obsolete US zones and the
// common European and Pacific ones). time.Parse keeps an unknown abbreviation at offset 0.
var zoneOffsets = map[string]int{
	"EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
	"AKST": -9, "AKDT": -8, "HST": -10, "WET": 0, "WEST": 1, "BST": 1, "IST": 1, "CET": 1, "CEST": 2,
	"MET": 1, "MEST": 2, "EET": 2, "EEST": 3, "MSK": 3, "JST": 9, "KST": 9, "AEST": 10, "AEDT": 11,
	"NZST": 12, "NZDT": 13,
}

// fixZone gives a time parsed with a zone abbreviation its real offset.
func fixZone(t time.Time) time.Time {
	name, off := t.Zone()
	if h, ok := zoneOffsets[strings.ToUpper(name)]; ok && off == 0 && h != 0 {
		return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.FixedZone(name, h*3600))
	}
	return t
}

// quickDate reads the two shapes nearly every report uses — RFC 5322 ("Mon, 2 Jan 2006
// 15:04:05 -0700 (UTC)", weekday, seconds and comment optional, numeric or named zone) and
// RFC 3339 — without the dozens of failed layouts (and their error values) of mail.ParseDate.
// An unknown zone name ("UTz") is read as UTC and returned as the second result. Anything
// else is left to the general path.
func quickDate(s string) (time.Time, string, bool) {
	if len(s) >= 20 && s[4] == '-' && s[7] == '-' && (s[10] == 'T' || s[10] == 't') {
		t, err := time.Parse(time.RFC3339Nano, s)
		return t, "", err == nil
	}
	if i := strings.IndexByte(s, '('); i > 0 {
		s = s[:i]
	}
	var f [6]string
	n := 0
	for field := range strings.FieldsSeq(s) {
		if n == len(f) {
			return time.Time{}, "", false
		}
		f[n] = field
		n++
	}
	fs := f[:n]
	if len(fs) > 0 && strings.HasSuffix(fs[0], ",") {
		fs = fs[1:]
	}
	if len(fs) != 4 && len(fs) != 5 {
		return time.Time{}, "", false
	}
	day, ok1 := smallInt(fs[0], 1, 2)
	year, ok2 := smallInt(fs[2], 4, 4)
	mon := monthOf(fs[1])
	if !ok1 || !ok2 || mon == 0 {
		return time.Time{}, "", false
	}
	hh, rest, ok := strings.Cut(fs[3], ":")
	mm, ss, hasSec := strings.Cut(rest, ":")
	hour, ok3 := smallInt(hh, 1, 2)
	minute, ok4 := smallInt(mm, 2, 2)
	sec, ok5 := 0, true
	if hasSec {
		sec, ok5 = smallInt(ss, 2, 2)
	}
	if !ok || !ok3 || !ok4 || !ok5 || hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, "", false
	}
	loc, unknown := time.UTC, ""
	if len(fs) == 5 {
		z := fs[4]
		switch {
		case len(z) == 5 && (z[0] == '+' || z[0] == '-'):
			zh, okh := smallInt(z[1:3], 2, 2)
			zm, okm := smallInt(z[3:], 2, 2)
			if !okh || !okm {
				return time.Time{}, "", false
			}
			off := zh*3600 + zm*60
			if z[0] == '-' {
				off = -off
			}
			if off != 0 {
				loc = time.FixedZone("", off)
			}
		case strings.EqualFold(z, "UT") || strings.EqualFold(z, "UTC") || strings.EqualFold(z, "GMT") || z == "Z":
		default:
			h, known := zoneOffsets[strings.ToUpper(z)]
			if !known {
				if !isLetters(z) {
					return time.Time{}, "", false
				}
				unknown = z
				break
			}
			loc = time.FixedZone(strings.ToUpper(z), h*3600)
		}
	}
	t := time.Date(year, time.Month(mon), day, hour, minute, sec, 0, loc)
	if t.Day() != day { // 31 April and the like
		return time.Time{}, "", false
	}
	return t, unknown, true
}

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return s != ""
}

// smallInt reads an unsigned decimal of min to max digits.
func smallInt(s string, min, max int) (int, bool) {
	if len(s) < min || len(s) > max {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// monthOf is the number of an English month abbreviation (any case), 0 for none.
func monthOf(s string) int {
	if len(s) != 3 {
		return 0
	}
	const names = "janfebmaraprmayjunjulaugsepoctnovdec"
	l := strings.ToLower(s)
	for i := 0; i < 12; i++ {
		if names[i*3:i*3+3] == l {
			return i + 1
		}
	}
	return 0
}

// parseDate reads a date the many ways reports write them. The second result notes a quirk
// (an unknown zone read as UTC), the third whether anything was read.
func parseDate(s string) (time.Time, string, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, "", false
	}
	if t, zone, ok := quickDate(s); ok {
		if zone != "" {
			return t, "unknown time zone " + zone + " read as UTC", true
		}
		return t, "", true
	}
	if t, err := mail.ParseDate(s); err == nil {
		return fixZone(t), "", true
	}
	clean := strings.TrimSpace(reSpaces.ReplaceAllString(reParen.ReplaceAllString(s, ""), " "))
	if t, err := mail.ParseDate(clean); err == nil {
		return fixZone(t), "", true
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, clean); err == nil {
			return fixZone(t), "", true
		}
	}
	// An unknown zone ("UTz"): read the rest as UTC.
	if f := strings.Fields(clean); len(f) > 1 {
		noZone := strings.Join(f[:len(f)-1], " ")
		for _, l := range []string{"Mon, 2 Jan 2006 15:04:05", "2 Jan 2006 15:04:05"} {
			if t, err := time.Parse(l, noZone); err == nil {
				return t, "unknown time zone " + f[len(f)-1] + " read as UTC", true
			}
		}
	}
	return time.Time{}, "", false
}

// hostsAfterIP finds the host names a text writes in parentheses right after the address ip,
// as in "192.0.2.1 (mail.example.net)". It looks for the address itself first, so a long
// text costs a few substring searches rather than a regular expression over all of it.
func hostsAfterIP(text, ip string) []string {
	var hosts []string
	for rest := text; ; {
		i := strings.Index(rest, ip)
		if i < 0 {
			return hosts
		}
		before := byte(' ')
		if i > 0 {
			before = rest[i-1]
		}
		rest = rest[i+len(ip):]
		if before == '.' || (before >= '0' && before <= '9') {
			continue // a longer address that ends with this one
		}
		if m := reHostInParens.FindStringSubmatch(rest); m != nil {
			hosts = append(hosts, strings.ToLower(m[1]))
		}
	}
}

// textDate finds the first readable date in prose.
func textDate(s string) time.Time {
	for _, m := range reTextDate.FindAllString(s, 5) {
		if t, _, ok := parseDate(m); ok {
			return t
		}
	}
	return time.Time{}
}

// ---- small helpers -------------------------------------------------------------------------------

func appendUnique(list []string, vs ...string) []string {
	for _, v := range vs {
		if v != "" && !slices.Contains(list, v) {
			list = append(list, v)
		}
	}
	return list
}

func addDomain(list []string, d string) []string {
	d = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
	if ValidDomain(d) {
		return appendUnique(list, d)
	}
	return list
}

// OneLine squeezes whitespace and cuts to n bytes (on a rune boundary), marking a cut with
// an ellipsis.
func OneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
