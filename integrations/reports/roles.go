package reports

import (
	"net/netip"
	"strings"
)

// Roles of the addresses a person's complaint names. A complaint names the source of the abuse
// and, often, its victim ("my server 192.0.2.10 is flooded from 198.51.100.7"); only sources are
// ours to act on. The cue words come in the languages complaints arrive in (English, German,
// French, Spanish, Portuguese, Italian, Dutch, Polish, Russian, Ukrainian).
var (
	// sourceBefore are words written before a source address.
	sourceBefore = []string{
		"from", "source", "src", "attacker", "attacking ip", "offending", "originat", "coming from", "sent by", "abusive", "by ip", " by ", "origin", "real ip", "backend", // "attacked by", "scanned by"
		"von", "quelle", "angreifer", "ausgehend", // de
		"depuis", "provenant de", "de l'adresse", "attaquant", " par ", // fr
		"desde", "origen", "atacante", "procedente de", // es
		"de origem", "origem", "vindo de", // pt (atacante: as in es)
		"proveniente da", "sorgente", "attaccante", "dall'indirizzo", "attaccato da", "attaccati da", // it
		"vanaf", "afkomstig van", "bron", "aanvaller", " door ", // nl
		"z adresu", "źródło", "atakujący", "pochodzący z", " przez ", // pl
		"с адреса", "с ip", "источник", "атакующий", "с сервера", // ru
		"з адреси", "з ip", "джерело", "атакуючий", "з сервера", // uk
	}
	// victimBefore are words written before a victim's address.
	victimBefore = []string{
		"my server", "our server", "my host", "our host", "my ip", "our ip", "my site", "our site", "our website", "my website",
		"our network", "my network", "our mail server", "our mail gateway", "our gateway", "our firewall", "our mx", "our relay", "our honeypot",
		"target", "victim", "destination", "dst", " to ", "against", "towards", "attacking our",
		"unser server", "mein server", "unsere ip", "meine ip", "ziel", "opfer", // de
		"notre serveur", "mon serveur", "notre ip", "mon ip", "cible", "victime", "vers ", // fr
		"nuestro servidor", "mi servidor", "nuestra ip", "mi ip", "objetivo", "víctima", "destino", // es
		"nosso servidor", "meu servidor", "nosso ip", "meu ip", "alvo", "vítima", // pt
		"il nostro server", "il mio server", "nostro ip", "mio ip", "bersaglio", "vittima", "destinazione", // it
		"onze server", "mijn server", "ons ip", "mijn ip", "doelwit", "slachtoffer", "bestemming", // nl
		"nasz serwer", "mój serwer", "nasze ip", "moje ip", "cel ", "ofiara", // pl
		"наш сервер", "мой сервер", "наш ip", "мой ip", "цель", "жертва", "на адрес", // ru
		"мій сервер", "мій ip", "ціль", "на адресу", // uk (наш ip, жертва: as in ru)
	}
	// versionBefore are words written before a dotted version number that looks like an address.
	versionBefore = []string{"version", "ver.", "ver ", "build", "release", "firmware", "v.", "revision", "версия", "версія", "wersja"}
)

// ipRole is what an address is in a complaint.
type ipRole int

const (
	roleUnknown ipRole = iota
	roleSource
	roleVictim
	roleVersion
)

// cueWindow is how far before (and after) an address its cue words are looked for, on its line.
const cueWindow = 60

// roleOf reads the words around the first place ip stands in text.
func roleOf(text, ip string) ipRole {
	i := indexAddress(text, ip)
	if i < 0 {
		return roleUnknown
	}
	before := strings.ToLower(text[lineStart(text, i):i])
	trimmed := strings.TrimRight(before, " \t:=#(")
	if strings.HasSuffix(before, "/") || endsWithWord(before, "v") {
		return roleVersion // "Chrome/1.2.3.4", "v1.2.3.4"
	}
	for _, w := range versionBefore {
		if endsWithWord(trimmed, strings.TrimSpace(w)) {
			return roleVersion
		}
	}
	// The cue nearest the address wins.
	best, bestAt := roleUnknown, -1
	for _, cue := range []struct {
		words []string
		role  ipRole
	}{{sourceBefore, roleSource}, {victimBefore, roleVictim}} {
		for _, w := range cue.words {
			if at := strings.LastIndex(before, w); at >= 0 && at+len(w) > bestAt {
				best, bestAt = cue.role, at+len(w)
			}
		}
	}
	if best != roleUnknown {
		return best
	}
	end := i + len(ip)
	stop := end
	// The words right after it, up to the next address.
	for sawSpace := false; stop < len(text) && text[stop] != '\n' && stop-end < cueWindow/2; stop++ {
		if sawSpace && isDigit(text[stop]) {
			break
		}
		sawSpace = sawSpace || text[stop] == ' '
	}
	after := strings.ToLower(text[end:stop])
	for _, w := range []string{"(our", "(my", "is our", "is my", "(unser", "(notre", "(nuestro", "(nosso", "(nostro", "(onze", "(nasz", "(наш", "(мій"} {
		if strings.Contains(after, w) {
			return roleVictim
		}
	}
	return roleUnknown
}

// lineStart is where the words before text[i] that may cue it begin: the start of its line, at
// most cueWindow bytes back.
func lineStart(text string, i int) int {
	start := i
	for start > 0 && text[start-1] != '\n' && i-start < cueWindow {
		start--
	}
	return start
}

// endsWithWord reports whether s ends with the word w (not with the end of a longer word).
func endsWithWord(s, w string) bool {
	if !strings.HasSuffix(s, w) {
		return false
	}
	rest := s[:len(s)-len(w)]
	if rest == "" {
		return true
	}
	c := rest[len(rest)-1]
	return !(c|0x20 >= 'a' && c|0x20 <= 'z') && c < 0x80
}

// indexAddress finds ip in text where it stands alone (not inside a longer address).
func indexAddress(text, ip string) int {
	for from := 0; ; {
		i := strings.Index(text[from:], ip)
		if i < 0 {
			return -1
		}
		i += from
		end := i + len(ip)
		beforeOK := i == 0 || !isAddrByte(text[i-1])
		afterOK := end >= len(text) || !isAddrByte(text[end]) || (text[end] == '.' && (end+1 >= len(text) || !isDigit(text[end+1])))
		if beforeOK && afterOK {
			return i
		}
		from = i + 1
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAddrByte(c byte) bool {
	return isDigit(c) || c == '.' || c == ':' || (c|0x20 >= 'a' && c|0x20 <= 'f')
}

// internalIP reports whether an address is one no outside reporter can have seen abuse from:
// private (RFC 1918, RFC 4193) and shared (RFC 6598) space.
func internalIP(s string) bool {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return false
	}
	return a.IsPrivate() || netip.MustParsePrefix("100.64.0.0/10").Contains(a)
}

// frontWords name a CDN or a reverse proxy in front of a site: its address is not the host's.
var frontWords = []string{"cloudflare", "cdn", "akamai", "fastly", "cloudfront", "front end", "frontend", "front-end", "reverse proxy", "ddos protection", "anycast", "sucuri", "imperva", "incapsula"}

// frontOf says whether a complaint names ip as a CDN's or proxy's front: a front word stands
// between it and the address named before it on its line, or right after it before the next.
func frontOf(text, ip string, ips []string) bool {
	i := indexAddress(text, ip)
	if i < 0 {
		return false
	}
	start := lineStart(text, i)
	end := i + len(ip)
	stop := end
	for stop < len(text) && text[stop] != '\n' && stop-end < cueWindow/2 {
		stop++
	}
	before, after := strings.ToLower(text[start:i]), strings.ToLower(text[end:stop])
	for _, other := range ips {
		if other == ip {
			continue
		}
		if k := strings.LastIndex(before, other); k >= 0 {
			before = before[k+len(other):]
		}
		if k := strings.Index(after, other); k >= 0 {
			after = after[:k]
		}
	}
	for _, w := range frontWords {
		if strings.Contains(before, w) || strings.Contains(after, w) {
			return true
		}
	}
	return false
}

// complaintIPs picks the sources from the addresses a complaint names: sources first, then the
// addresses without a cue; victims, version numbers and (when a public address is named)
// internal ones left out. It says which were left out and why, for the warnings.
func complaintIPs(text string, ips []string) (sources []string, left []string) {
	var neutral, victims, fronts []string
	for _, ip := range ips {
		if frontOf(text, ip, ips) {
			fronts = append(fronts, ip)
			continue
		}
		switch roleOf(text, ip) {
		case roleSource:
			sources = append(sources, ip)
		case roleVictim:
			victims = append(victims, ip)
		case roleVersion:
			left = append(left, ip+" left out: a version number")
		default:
			neutral = append(neutral, ip)
		}
	}
	all := append(sources, neutral...)
	if len(all) > 0 {
		for _, f := range fronts {
			left = append(left, f+" left out: a CDN's or proxy's front address, and the origin is named")
		}
	} else {
		all = append(all, fronts...) // only the front is named: it is what the reporter has
	}
	if len(all) == 0 {
		// Only victims named: keep them, so a person sees the report, but say so.
		for _, v := range victims {
			all = append(all, v)
			left = append(left, v+" is named as the victim but is the only address, so it is kept")
		}
		victims = nil
	}
	for _, v := range victims {
		left = append(left, v+" left out: named as the victim")
	}
	public := 0
	for _, ip := range all {
		if !internalIP(ip) {
			public++
		}
	}
	if public > 0 {
		kept := all[:0:0]
		for _, ip := range all {
			if internalIP(ip) {
				left = append(left, ip+" left out: a private address, and a public one is named")
				continue
			}
			kept = append(kept, ip)
		}
		all = kept
	}
	return all, left
}
