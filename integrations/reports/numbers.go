package reports

import (
	"cmp"
	"net/netip"
	"regexp"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// Ranges and phone numbers: the subjects of blocklist listings and of SMS and voice abuse.

var (
	reCIDR = regexp.MustCompile(`(?i)(?:^|[^0-9a-f:.])((?:\d{1,3}\.){3}\d{1,3}/\d{1,2}|[0-9a-f]{1,4}(?::[0-9a-f]{0,4}){2,7}/\d{1,3})\b`)
	// reTel is a tel: URI.
	reTel = regexp.MustCompile(`(?i)\btel:(\+?[\d\-.()]{7,24})`)
	// reSMSContext says a text is about SMS or voice abuse, where phone numbers are subjects;
	// elsewhere a number is more likely the reporter's own (a signature).
	reSMSContext = regexp.MustCompile(`(?i)(\bSMS\b|\bMMS\b|\bA2P\b|\b10DLC\b|\bCTIA\b|messaging principles|campaign registry|toll[- ]free verification|opt-out (?:language|keyword|instructions)|\bSTOP keyword|text message|\btext(?:s|ing|ed)\b|\b(?:a|another|this|that|one|got|received|get|getting) texts? (?:from|saying|claiming|telling|about|asking|with)\b|registered use[- ]case|opt-in (?:records?|evidence|proof)|` + campaignNamed + `\b|\b(?:automated|robo|spam|scam|unwanted|nuisance|pre-?recorded|fraudulent|unsolicited|sales|marketing) (?:phone |voice )?calls?\b|\bcalled me\b|\bkeeps? calling\b|\b(?:replied|reply|replying|responded|texted|sent)\s+["'“]?STOP\b|\bsmishing\b|\bvishing\b|\brobocall|voice ?mail|\bwhatsapp\b|\b7726\b|sender ?id|short ?code|spam call|scam call|unsolicited call|Anruf|appels? (?:frauduleux|indésirables?|téléphoniques?|automatisés?)|llamada|chamada|chiamata|oproep|połączenie|звонок|дзвінок)`)
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

// phonesIn finds the phone numbers and sender IDs s names, whatever it is about. Numbers are
// read by libphonenumber in any written format: international ones always, national ones
// ("(312) 555-0199", "07700 900123") in region, the country the context gives ("" for none).
func phonesIn(s, region string) (phones, senderIDs []string) {
	for _, m := range reTel.FindAllStringSubmatch(s, maxFound) {
		phones = appendUnique(phones, phoneE164(m[1], region))
	}
	for _, loc := range rePhoneish.FindAllStringIndex(s, maxFound) {
		m := s[loc[0]:loc[1]]
		if !strings.HasPrefix(m, "+") && !strings.HasPrefix(m, "00") && (reDateish.MatchString(m) || strings.HasPrefix(s[loc[1]:], ":")) {
			continue // a date, or a time: not a national number
		}
		phones = appendUnique(phones, phoneE164(m, region))
	}
	for _, re := range []*regexp.Regexp{reSenderID, reSenderInline, reShortCodeTo} {
		for _, m := range re.FindAllStringSubmatch(s, maxFound) {
			v := strings.TrimSpace(m[1])
			if notSenderID[v] {
				continue // a word of the sentence ("the sender ID SMS"), not a sender's name
			}
			if e := phoneE164(v, region); e != "" {
				phones = appendUnique(phones, e)
				continue
			}
			senderIDs = appendUnique(senderIDs, strings.ToUpper(v))
		}
	}
	return phones, senderIDs
}

var (
	// reDateish is a date written with separators (2026-12-06, 06/12/2026, 6.12.2026).
	reDateish = regexp.MustCompile(`\b(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})\b`)
	// rePhoneish is a run a phone number can be written in: digits with spaces, dots, dashes,
	// slashes and brackets, maybe after + or 00.
	rePhoneish = regexp.MustCompile(`(?:\+|\b00|\()?\d[\d \t().\-/]{5,22}\d`)
	// reSenderInline is a sender ID or short code named in a sentence ("from sender ID
	// SHOPNEWS", "short code 72345"): capitals and digits, as carriers register them.
	reSenderInline = regexp.MustCompile(`(?i:\b(?:alphanumeric sender(?: id)?|sender ?id|sender|absender|expéditeur|remitente|short ?code|originator))\s*(?:of\s+)?[:=]?\s*["']?([A-Z0-9][A-Z0-9._-]{1,10}[A-Z0-9])\b`)
)

// reShortCodeTo is a short code a texted person names after a verb of texting ("texted STOP to
// 55123", "texts from 72345"): five or six digits, not the start of a longer number.
var reShortCodeTo = regexp.MustCompile(`(?i:\b(?:text(?:ed|s|ing)?|sms|messages?|replied|reply|sent|send)\b[^.\n]{0,30}?\b(?:to|from)\s+)([1-9]\d{4,5})(?:$|[^\d\s\-.()/]|\s+[^\d\s(+\-])`)

// notSenderID are capitals a sentence puts where a sender ID stands that name none.
var notSenderID = map[string]bool{"SMS": true, "MMS": true, "RCS": true, "STOP": true, "HELP": true, "ID": true, "IS": true, "OF": true,
	"YES": true, "NO": true, "THE": true, "AND": true, "A2P": true, "P2P": true, "10DLC": true}

// phoneE164 reads a written phone number with libphonenumber: E.164 when it is a number (an
// international one of a possible length, or a valid national one of region), else "".
func phoneE164(s, region string) string {
	s = strings.TrimSpace(strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "tel:"))
	digits := 0
	for _, c := range s {
		if c >= '0' && c <= '9' {
			digits++
		}
	}
	if digits < 5 || digits > 17 {
		return ""
	}
	if strings.HasPrefix(s, "00") {
		s = "+" + s[2:]
	}
	if !strings.HasPrefix(s, "+") && region == "" {
		return "" // a national number, and no context says which country's
	}
	international := strings.HasPrefix(s, "+")
	n, err := phonenumbers.Parse(s, cmp.Or(region, "ZZ"))
	// A national number must be a valid one of the region, or written with the region's trunk
	// prefix ("07700 900123"), nine digits or more, at a possible length; an international one may be any number of a
	// possible length for its country (reports quote reserved drama and documentation ranges,
	// which the numbering plan does not assign).
	trunk := !international && err == nil && digits >= 9 && strings.HasPrefix(strings.TrimLeft(s, " ("), "0") && phonenumbers.GetNddPrefixForRegion(region, true) == "0"
	if err != nil || !(phonenumbers.IsValidNumber(n) || (international || trunk) && phonenumbers.IsPossibleNumber(n)) {
		return ""
	}
	return phonenumbers.Format(n, phonenumbers.E164)
}

// reUSMessaging says a text is about US messaging (10DLC, the CTIA's principles, the TCPA, a
// US carrier): its national numbers are American.
var reUSMessaging = regexp.MustCompile(`(?i)\b(10DLC|CTIA|TCPA|FCC|toll[- ]free|T-Mobile|Verizon|AT&T|Sprint|TCR|campaign registry)\b`)

// reNANP is a number written the North American way, its area code in brackets ("(312)
// 555-0199"): a national number of the North American Numbering Plan.
var reNANP = regexp.MustCompile(`\(\s*[2-9]\d{2}\s*\)\s*[2-9]\d{2}[\s.\-]?\d{4}\b`)

// phoneRegion is the country a complaint's national phone numbers are from: the reporter's
// country-code domain (jane@provider.co.uk: GB), else the US for a text about US messaging;
// "" when nothing says.
func phoneRegion(reporter, text string) string {
	if _, dom, ok := strings.Cut(strings.ToLower(reporter), "@"); ok {
		tld := dom[strings.LastIndex(dom, ".")+1:]
		switch {
		case tld == "uk":
			return "GB"
		case len(tld) == 2 && tld != "eu":
			if r := strings.ToUpper(tld); phonenumbers.GetCountryCodeForRegion(r) != 0 {
				return r
			}
		}
	}
	if reUSMessaging.MatchString(text) || reNANP.MatchString(text) {
		return "US"
	}
	return ""
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
