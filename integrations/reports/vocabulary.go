package reports

import (
	"regexp"
	"slices"
	"strings"

	"abusedesk/domain/abuse"
)

// typeRule maps report-type names that contain any of words (and all of also) to a category.
type typeRule struct {
	words    []string
	also     []string
	prefix   bool // words are prefixes of the name, not parts of it
	category abuse.Category
}

// typeRules are the vocabulary of report types — X-ARF 0.2 Report-Type and 4 type, the report
// names of Shadowserver-style feeds, CERT notification types — in the order they are tried;
// the first that matches wins. docs/report-types.md lists them with examples, and a test keeps
// the two equal. A feed names what it found: a "scan_" report is a scan *finding* (a service
// on our network that answers), a "sinkhole" or "drone" report a host that talks to a botnet,
// a honeypot report what our host did to the honeypot.
var typeRules = []typeRule{
	// What our host did to someone's honeypot is abuse by our host.
	{words: []string{"honeypot"}, also: []string{"brute", "login", "auth"}, category: abuse.BruteForce},
	{words: []string{"honeypot"}, also: []string{"spam"}, category: abuse.Spam},
	// Findings about services on our network: advisory.
	{words: []string{"scan_", "scan6_"}, prefix: true, category: abuse.Vulnerable},
	{words: []string{"open_resolver", "open_proxy", "open_relay", "openresolver", "accessible_", "accessible-", "vulnerable", "vulnerability",
		"exposed", "ip_spoofer", "spoofable", "amplifier", "misconfigur", "outdated", "unpatched", "open-resolver", "open_"}, category: abuse.Vulnerable},
	{words: []string{"sinkhole", "drone", "botnet", "ddos_participant", "infected", "infection", "bot_infection", "malware_client", "darknet"}, category: abuse.Infected},
	{words: []string{"compromised", "defaced", "defacement", "webshell", "backdoor", "hacked"}, category: abuse.Compromised},
	// An address of ours on someone's blocklist (X-ARF 4 reputation/blocklist, a feed's
	// blocklist report): advice to find the cause and ask for delisting.
	{words: []string{"blocklist", "blacklist", "block_list", "black_list", "block-list", "black-list", "denylist", "dnsbl"}, category: abuse.Blocklist},
	// Law enforcement and hotlines.
	{words: []string{"csam", "child_abuse", "child-abuse", "child sexual", "cybertip"}, category: abuse.CSAM},
	{words: []string{"law_enforcement", "subpoena", "preservation", "court_order", "legal_request", "data_request"}, category: abuse.LegalRequest},
	// Texts and calls (the messaging track), before the e-mail words they share.
	{words: []string{"10dlc", "ctia", "carrier_compliance", "carrier-compliance", "campaign_violation"}, category: abuse.CarrierNotice},
	{words: []string{"smishing", "sms_phish", "sms-phish", "sms_fraud"}, category: abuse.Smishing},
	{words: []string{"robocall", "vishing", "spam_call", "scam_call", "voice_spam"}, category: abuse.Robocall},
	{words: []string{"opt_out", "opt-out", "optout"}, category: abuse.OptOut},
	{words: []string{"sms_spam", "sms-spam", "text_spam", "spam_sms", "spam-sms", "7726"}, category: abuse.SMSSpam},
	// Abuse by our customer.
	{words: []string{"phish", "fraud"}, category: abuse.Phishing},
	{words: []string{"malware", "virus", "trojan", "ransomware", "c2", "command_and_control", "command-and-control"}, category: abuse.Malware},
	{words: []string{"ddos", "dos", "flood", "amplification"}, category: abuse.DoS},
	{words: []string{"login", "brute", "ssh", "ftp", "rdp", "password", "auth_attack", "imap", "pop3", "bruteforce", "credential_stuffing"}, category: abuse.BruteForce},
	{words: []string{"scan", "probe", "portscan", "port_scan"}, category: abuse.PortScan},
	{words: []string{"copyright", "dmca", "infringement", "piracy"}, category: abuse.Copyright},
	{words: []string{"spam", "regbot", "forum", "comment", "bulk", "messaging", "unsolicited"}, category: abuse.Spam},
}

// categoryOfType maps the free vocabulary of report types (X-ARF Report-Type and type,
// Shadowserver-style report names, CERT notification types) to a category; false when no
// rule knows the name.
func categoryOfType(words ...string) (abuse.Category, bool) {
	s := strings.ToLower(strings.Join(words, " "))
	for _, r := range typeRules {
		if r.matches(s) {
			return r.category, true
		}
	}
	return abuse.Other, false
}

func (r typeRule) matches(s string) bool {
	hit := false
	for _, w := range r.words {
		if r.prefix {
			for _, f := range strings.FieldsFunc(s, func(c rune) bool { return c == ' ' || c == '-' || c == '/' || c == '.' }) {
				if strings.HasPrefix(f, w) {
					hit = true
				}
			}
		} else if strings.Contains(s, w) {
			hit = true
		}
	}
	if !hit {
		return false
	}
	if len(r.also) == 0 {
		return true
	}
	for _, w := range r.also {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// textRule classifies a person's complaint by its words.
type textRule struct {
	category abuse.Category
	words    interface{ MatchString(string) bool }
}

// cued is a regular expression tried only on text that contains one of its lower-case cues: a
// cheap filter for a rule most text never matches.
type cued struct {
	cues []string
	re   *regexp.Regexp
}

func (c cued) MatchString(s string) bool {
	lower := strings.ToLower(s)
	return slices.ContainsFunc(c.cues, func(cue string) bool { return strings.Contains(lower, cue) }) && c.re.MatchString(s)
}

// textRules are tried in order; the first that matches wins. Law enforcement and hotlines
// first (they must never reach a customer), then a customer asking for help, then content
// abuse, then the strong cues of a finding about a vulnerable service — before denial of
// service, because a finding names the attack it enables ("open resolvers can be abused for
// amplification attacks") and a reflector's owner is advised, not punished — then the other
// abuse, then the rest of the vulnerable-service words, infections and compromises. (The short
// rule first and the long one later keep the parser's speed: most text never reaches it.) Each
// has its words in English, German, French, Spanish, Portuguese, Italian, Dutch, Polish,
// Russian and Ukrainian. Go's \b knows only ASCII letters, so the words
// in other scripts stand without it.
var textRules = []textRule{
	{abuse.CSAM, regexp.MustCompile(`(?i)(\bCSAM\b|child sexual abuse|child (?:abuse|porn\w*)|\bNCMEC\b|CyberTipline|\bIWF\b|\bINHOPE\b|kinderporno\w*|pédopornograph\w*|pornograf[íi]a infantil|pedopornografi\w*|pornografia dziecięca|детск\w* порнограф\w*|дитяч\w* порнограф\w*)`)},
	{abuse.LegalRequest, regexp.MustCompile(`(?i)(preservation request|request for preservation|\bsubpoena|court order|search warrant|law enforcement|emergency disclosure|\b2703\(f\)|production order|police (?:department|request|investigation)|data (?:disclosure )?request from|Auskunftsersuchen|Staatsanwaltschaft|richterlich\w* Beschluss|réquisition judiciaire|ordonnance du tribunal|orden judicial|requerimiento judicial|mandado judicial|ordem judicial|ordine del giudice|richiesta dell'autorità giudiziaria|gerechtelijk bevel|vordering van de politie|nakaz sądowy|wniosek prokuratury|запрос правоохранительн\w*|постановлени\w* суда|ухвал\w* суду|запит правоохоронн\w*|preserve (?:all |the |any )?(?:records|data|logs|information|subscriber)|do not (?:notify|inform|tell|alert) the (?:subscriber|customer|user|account holder|client)|conserver les données|ne pas (?:informer|prévenir) (?:le|votre) client|enquête (?:judiciaire|préliminaire)|officier de police judiciaire|(?:Verkehrs|Bestands)daten|informieren Sie (?:den|Ihren) Kunden nicht|Ermittlungsverfahren|conserv(?:ar|e|en) (?:los |todos los )?(?:datos|registros)|no (?:informe|notifique) al (?:cliente|usuario|abonado)|investigación (?:policial|judicial)|conservare i dati|non informare il cliente|gegevens te bewaren|de klant niet (?:te )?informeren|informeer de klant niet|strafrechtelijk onderzoek|vorder(?:en|t) (?:wij|ik)|zabezpieczeni\w* danych|nie informować klienta)`)},
	{abuse.Deliverability, regexp.MustCompile(`(?i)(\b(?:our|my)\s+(?:\S+\s+){0,2}(?:mails?|e-?mails?|messages?|newsletters?|mailings?|smtp|ips?|domains?)\b\s*(?:\S+\s+){0,2}(?:is|are|was|were|being|get|gets|got)\s+(?:\S+\s+)?(?:blocked|blacklisted|blocklisted|rejected|listed)\b|\bwe\s+(?:are|were|got|have been)\s+(?:\S+\s+)?(?:blocked|blacklisted|blocklisted|listed)\b|please\s+(?:help\s+us\s+)?(?:delist|remove)\s+(?:us|our|my)\b|\b(?:our|my)\s+(?:\S+\s+){0,2}(?:mails?|e-?mails?|messages?)\s+(?:keep\s+|are\s+|get\s+)?bounc(?:e|es|ing|ed)\b|\b(?:our|my)\s+(?:\S+\s+){0,2}(?:ips?|servers?|domains?)\s+(?:\S+\s+){0,3}(?:is|are)\s+(?:listed\s+)?on\s+(?:a|the|an?\s+\S+)?\s*(?:block|black|deny|spam)\s?list|unsere\s+(?:\S+\s+){0,2}werden\s+(?:\S+\s+){0,3}(?:blockiert|abgelehnt)|nos\s+(?:\S+\s+){0,2}sont\s+(?:\S+\s+){0,3}(?:bloqué|rejeté)|nuestros?\s+(?:\S+\s+){0,2}(?:son|están|está|es)\s+(?:\S+\s+){0,3}(?:bloquead|rechazad)|nossos?\s+(?:\S+\s+){0,2}(?:são|estão|está)\s+(?:\S+\s+){0,3}(?:bloquead|rejeitad)|(?:le nostre|i nostri)\s+(?:\S+\s+){0,2}(?:sono|vengono)\s+(?:\S+\s+){0,3}(?:bloccat|rifiutat)|onze\s+(?:\S+\s+){0,2}worden\s+(?:\S+\s+){0,3}(?:geblokkeerd|geweigerd)|nasze\s+(?:\S+\s+){0,2}są\s+(?:\S+\s+){0,3}(?:blokowan|odrzucan)|наш\w*\s+(?:\S+\s+){0,2}(?:блокиру\w*|отклоня\w*)|наш\w*\s+(?:\S+\s+){0,2}(?:блоку\w*|відхиля\w*))`)},
	{abuse.Phishing, regexp.MustCompile(`(?i)(\bphishing|\bphish\b|credential harvest|fake login|impersonat\w+ (?:bank|brand)|\btakedown\b|hameçonnage|suplantaci[óo]n de identidad|falsche anmeldeseite|wyłudzani\w*|фишинг\w*|фішинг\w*)`)},
	{abuse.Malware, regexp.MustCompile(`(?i)(\bmalware\b|\btrojan|\bransomware\b|\bvirus\b|command.and.control|\bC2 server|schadsoftware|logiciel malveillant|software malicioso|software dannoso|kwaadaardige software|złośliwe oprogramowanie|вредоносн\w*|шкідлив\w*)`)},
	{abuse.Vulnerable, cued{[]string{"open ", "vulnerab", "cve-", "recursive", "accessible", "exposed", "exposing", "without authentication"},
		regexp.MustCompile(`(?i)(open (?:dns |ntp |smtp )?(?:resolver|recursive|relay|proxy)|\b(?:is|are) (?:publicly )?(?:accessible|reachable|exposed) (?:without (?:authentication|a password)|from (?:the|any(?:where on the)?) internet|to the internet)|\bopen (?:` + exposable + `)\b|\baccessible (?:` + exposable + `)\b|\b(?:` + exposable + `)\b[^\n]{0,40}\b(?:is |are )?(?:publicly )?(?:accessible|exposed|reachable) (?:without authentication|from the internet|to the internet)|\bexpos(?:ed|ing) [^\n]{0,40}to the internet|vulnerab|\bCVE-\d{4}-\d{4,}|answers recursive queries)`)}}, // the strong cues, before DoS
	{abuse.DoS, regexp.MustCompile(`(?i)(\bDDoS\b|denial.of.service|\bflood(?:ing|ed)?\b|amplification attack|überlastungsangriff|déni de service|denegaci[óo]n de servicio|nega[çc][ãa]o de servi[çc]o|negazione del servizio|odmowa usługi|отказ в обслуживании|відмова в обслуговуванні)`)},
	{abuse.BruteForce, regexp.MustCompile(`(?i)(brute.?forc\w*|failed login|login attempts|password guessing|guess(?:es|ing)? (?:the |our |user )?passwords?|password spraying|credential stuffing|wp-login\.php|xmlrpc\.php|dictionary attack|\bssh attack|anmeldeversuch\w*|force brute|fuerza bruta|força bruta|forza bruta|inlogpoging\w*|próby logowania|перебор парол\w*|перебір парол\w*)`)},
	{abuse.PortScan, regexp.MustCompile(`(?i)(port.?scan\w*|\bscanning\b|network scan|\bprobing\b|\bscannt\b|balayage de ports|escaneo de puertos|varredura de portas|scansione delle porte|poortscan\w*|skanowanie port\w*|сканирован\w* порт\w*|сканування порт\w*)`)},
	{abuse.Copyright, regexp.MustCompile(`(?i)(\bDMCA\b|copyright infringement|notice of (?:claimed )?infringement|infringing (?:material|content|file)|17 U\.S\.C\.|urheberrecht\w*|droit d'auteur|derechos de autor|direitos autorais|diritto d'autore|auteursrecht\w*|prawa? autorsk\w*|авторск\w* прав\w*|авторськ\w* прав\w*)`)},
	{abuse.Spam, regexp.MustCompile(`(?i)(\bspam\b|\bunsolicited\b|bulk (?:e-?)?mail|junk mail|newsletter I never|unerwünschte (?:e-?mail|werbung)|courriel indésirable|pourriel|correo no deseado|lixo eletr[ôo]nico|posta indesiderata|ongewenste (?:e-?mail|reclame)|niechciana poczta|спам\w*)`)},
	{abuse.Vulnerable, regexp.MustCompile(`(?i)(open (?:dns |ntp |smtp )?(?:resolver|recursive|relay|proxy)|vulnerab\w*|\bCVE-\d{4}-\d{4,}\b|answers recursive queries|unpatched|publicly accessible|exposed to the internet|offener resolver|verwundbar|résolveur ouvert|vulnerable a|vulnerabile|kwetsbaar|podatn\w*|уязвим\w*|вразлив\w*)`)},
	{abuse.Infected, regexp.MustCompile(`(?i)(\binfected\b|\bsinkhole|botnet|\bbot infection|infiziert|infecté|infectad|infettat|geïnfecteerd|zainfekowan\w*|заражен\w*|інфікован\w*)`)},
	{abuse.Compromised, regexp.MustCompile(`(?i)(\bcompromised\b|\bhacked\b|defaced|webshell|kompromittiert|compromis|comprometid|compromess|gecompromitteerd|przejęt\w*|взломан\w*|зламан\w*)`)},
}

// exposable are the services CERTs and scanning projects advise about when they answer anyone
// ("Open Portmapper", "Accessible SMB", "open memcached server").
const exposable = `portmapper|memcached|ssdp|snmp|chargen|qotd|cldap|ldap|mdns|netbios|ntp|tftp|ipmi|redis|elasticsearch|mongodb|cassandra|couchdb|docker|kubernetes|rdp|smb|vnc|telnet|ftp|mysql|ms-?sql|postgres(?:ql)?|rsync|isakmp|ubiquiti|dvr|coap|xdmcp|amqp|mqtt|modbus|bacnet|s7|http proxy|socks proxy`

// categoryOfText classifies a complaint by its words; false when no rule matched.
func categoryOfText(s string) (abuse.Category, bool) {
	for _, r := range textRules {
		if r.words.MatchString(s) {
			return r.category, true
		}
	}
	return abuse.Other, false
}
