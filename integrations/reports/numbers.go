package reports

import (
	"net/netip"
	"regexp"
	"strings"
)

// Ranges and phone numbers: the subjects of blocklist listings and of SMS and voice abuse.

var (
	reCIDR = regexp.MustCompile(`(?i)(?:^|[^0-9a-f:.])((?:\d{1,3}\.){3}\d{1,3}/\d{1,2}|[0-9a-f]{1,4}(?::[0-9a-f]{0,4}){2,7}/\d{1,3})\b`)
	// rePhone is an international number: +, or 00, then 8 to 15 digits with the usual
	// separators.
	rePhone = regexp.MustCompile(`(?:\+|\b00)\d(?:[ \-.()]?\d){6,16}\b`)
	// reTel is a tel: URI.
	reTel = regexp.MustCompile(`(?i)\btel:(\+?[\d\-.()]{7,24})`)
	// reSMSContext says a text is about SMS or voice abuse, where phone numbers are subjects;
	// elsewhere a number is more likely the reporter's own (a signature).
	reSMSContext = regexp.MustCompile(`(?i)(\bSMS\b|text message|\bsmishing\b|\bvishing\b|\brobocall|voice ?mail|\bwhatsapp\b|\b7726\b|sender ?id|short ?code|spam call|scam call|unsolicited call|Anruf|appel (?:frauduleux|indésirable)|llamada|chamada|chiamata|oproep|połączenie|звонок|дзвінок)`)
	// reSenderID is a labelled alphanumeric sender ID or short code.
	reSenderID = regexp.MustCompile(`(?im)^\s*(?:sender ?id|short ?code|sms sender|originator)\s*[:=]\s*([A-Za-z0-9][A-Za-z0-9 ._-]{1,14}[A-Za-z0-9])\s*$`)
)

// textRanges finds CIDR ranges in text: IPv4 /8 to /32, IPv6 /16 to /128, as masked prefixes.
func textRanges(s string) []string {
	if !strings.Contains(s, "/") {
		return nil
	}
	var out []string
	for _, m := range reCIDR.FindAllStringSubmatch(s, maxFound) {
		p, err := netip.ParsePrefix(m[1])
		if err != nil {
			continue
		}
		if (p.Addr().Is4() && p.Bits() < 8) || (p.Addr().Is6() && p.Bits() < 16) || p.IsSingleIP() {
			continue // too wide to name anyone; or a /32 (/128), which is one address, read as such
		}
		out = appendUnique(out, p.Masked().String())
	}
	return out
}

// inRangeNotation reports whether ip stands in text as the start of a range ("192.0.2.0/26"),
// not as one address written as a prefix ("192.0.2.5/32").
func inRangeNotation(text, ip string) bool {
	for from := 0; ; {
		i := strings.Index(text[from:], ip)
		if i < 0 {
			return false
		}
		end := from + i + len(ip)
		if end < len(text) && text[end] == '/' {
			if p, err := netip.ParsePrefix(ip + "/" + leadingDigits(text[end+1:])); err != nil || !p.IsSingleIP() {
				return true
			}
		}
		from = end
	}
}

// leadingDigits is the run of digits s starts with.
func leadingDigits(s string) string {
	n := 0
	for n < len(s) && n < 3 && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return s[:n]
}

// E164 normalises a phone number written internationally ("+44 7700 900123", "0044…",
// "tel:+1-202-555-0100") to E.164 ("+447700900123"); "" when it is not one (E.164 has at most
// 15 digits, and a country code does not start with 0).
func E164(s string) string {
	s = strings.TrimSpace(strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "tel:"))
	international := strings.HasPrefix(s, "+") || strings.HasPrefix(s, "00")
	if !international {
		return ""
	}
	var digits strings.Builder
	for _, c := range strings.TrimPrefix(strings.TrimPrefix(s, "+"), "00") {
		switch {
		case c >= '0' && c <= '9':
			digits.WriteRune(c)
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		default:
			return ""
		}
	}
	d := digits.String()
	if len(d) < 8 || len(d) > 15 || d[0] == '0' {
		return ""
	}
	return "+" + d
}

// textPhones finds the phone numbers and sender IDs a complaint about SMS or voice abuse names;
// nothing when the text is not about SMS or calls.
func textPhones(s string) (phones, senderIDs []string) {
	if !reSMSContext.MatchString(s) {
		return nil, nil
	}
	for _, m := range reTel.FindAllStringSubmatch(s, maxFound) {
		phones = appendUnique(phones, E164(m[1]))
	}
	for _, m := range rePhone.FindAllString(s, maxFound) {
		phones = appendUnique(phones, E164(m))
	}
	for _, m := range reSenderID.FindAllStringSubmatch(s, maxFound) {
		v := strings.TrimSpace(m[1])
		if e := E164(v); e != "" {
			phones = appendUnique(phones, e)
			continue
		}
		senderIDs = appendUnique(senderIDs, strings.ToUpper(v))
	}
	return phones, senderIDs
}

// signatureCut drops a mail signature (from a "-- " line on): the reporter's own numbers and
// addresses live there.
func signatureCut(s string) string {
	for _, sep := range []string{"\n-- \n", "\n--\n", "\r\n-- \r\n"} {
		if i := strings.Index(s, sep); i >= 0 {
			return s[:i]
		}
	}
	return s
}
