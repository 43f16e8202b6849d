package reports

import (
	"encoding/base64"
	"fmt"
	"strings"

	"abusedesk/domain/abuse"
)

// The labelled corpus the calibration is measured on (calibration_test.go): messages written
// for this project from the public formats (RFC 5965/6591 ARF, X-ARF 0.2 and 4, RFC 7970
// IODEF, SpamCop's and fail2ban's published mails, CERT and feed CSV lists) and from the ways
// people write complaints, legal requests, pleas and status mail, in the languages the desk
// reads. Each family is one shape written by several reporters; the variants change the
// reporter, the words, the addresses and the times, never the label's meaning. Besides these,
// testdata/samples (MANIFEST.tsv) and the class families are labelled too.

// label is what a message is: its kind, and for a report its category and exactly the source
// addresses the reporter meant (first report), with hosts and numbers it must name.
type label struct {
	kind     Kind
	category abuse.Category
	ips      []string
	hosts    []string
	phones   []string
}

type sample struct {
	name string
	raw  []byte
	want label
}

func report(c abuse.Category, ips ...string) label {
	return label{kind: KindReport, category: c, ips: ips}
}

func (l label) host(h ...string) label { l.hosts = append(l.hosts, h...); return l }

func (l label) phone(p ...string) label { l.phones = append(l.phones, p...); return l }

// Documentation addresses (RFC 5737, RFC 3849), one per variant and role.
func src(v int) string  { return fmt.Sprintf("192.0.2.%d", 1+(20+v)%253) }
func src2(v int) string { return fmt.Sprintf("198.51.100.%d", 1+(30+v)%253) }
func vic(v int) string  { return fmt.Sprintf("203.0.113.%d", 1+(40+v)%253) }
func src6(v int) string { return fmt.Sprintf("2001:db8:40::%x", 0x20+v) }

// when is an event time in one of the ways people write it.
func when(v int) string {
	layouts := []string{"2026-12-06 22:%02d UTC", "06.12.2026 22:%02d CET", "Dec 6, 2026 10:%02d PM UTC", "2026-12-06T22:%02d:00Z", "6 December 2026 at 22:%02d GMT"}
	return fmt.Sprintf(layouts[v%len(layouts)], 10+v)
}

type reporter struct{ from, sig string }

var people = []reporter{
	{"Jane Roe <jane@victim.example>", "Jane Roe\r\nIT, Victim Ltd"},
	{"NOC <noc@isp.example>", "-- \r\nISP Example NOC, 24/7 +1 202 555 0100"},
	{"Security Operations <soc@bank.example>", "Bank Example SOC"},
	{"postmaster@school.example", "Postmaster, School Example"},
	{"Admin <admin@hosting.example>", "Best regards,\r\nAdmin team"},
	{"abuse-reports@mailbox.example", "Mailbox Example abuse team"},
}

// corpus builds the labelled families.
func corpus() []sample {
	var out []sample
	add := func(name string, raw []byte, want label) {
		out = append(out, sample{name: name, raw: raw, want: want})
	}
	person := func(v int) reporter { return people[v%len(people)] }

	// ---- spam --------------------------------------------------------------------------------
	spamEN := []string{
		"We received unsolicited bulk email from %s at %s. Please stop your customer.",
		"Hello, your IP %s is sending spam to our users since %s. Headers available on request.",
		"Your customer at %s keeps spamming our mail server (first seen %s). Kindly take action.",
		"Spam run from %s, %s, about 4,000 messages to our users, all the same pharmacy ad.",
		"Our filters caught a snowshoe spam campaign; one of the sending hosts is %s (%s).",
	}
	for v := range 10 {
		p := person(v)
		add(fmt.Sprintf("spam/en/%d", v), mailOf(p.from, []string{"Spam from your network", "Unsolicited email", "SPAM complaint", "Abuse: spam", "Junk mail from your IP"}[v%5], "",
			fmt.Sprintf(spamEN[v%5], src(v), when(v))+"\r\n\r\n"+p.sig), report(abuse.Spam, src(v)))
	}
	for v, b := range []struct{ from, subject, body string }{
		{"Postmaster <postmaster@firma.example>", "Spam von Ihrem Netz", "Sehr geehrte Damen und Herren,\r\nvon der IP-Adresse %s erhalten wir seit %s massenhaft Spam-Mails. Bitte unterbinden Sie das."},
		{"Admin <admin@entreprise.example>", "Pourriel", "Bonjour,\r\nl'adresse %s nous envoie des courriels non sollicités (spam) depuis %s. Merci d'intervenir."},
		{"Soporte <soporte@empresa.example>", "Correo no deseado", "Hola,\r\nrecibimos correo basura (spam) desde la IP %s desde %s. Por favor, actúen."},
		{"Sistemi <sistemi@azienda.example>", "Segnalazione spam", "Buongiorno,\r\ndall'indirizzo %s riceviamo posta indesiderata (spam) dal %s. Vi chiediamo di intervenire."},
		{"Beheer <beheer@bedrijf.example>", "Spam vanaf uw netwerk", "Goedendag,\r\nvanaf IP-adres %s ontvangen wij sinds %s ongevraagde e-mail (spam). Wilt u dit stoppen?"},
		{"Admin <admin@firma.example.pl>", "Spam z Państwa sieci", "Dzień dobry,\r\nz adresu IP %s otrzymujemy spam od %s. Prosimy o interwencję."},
		{"Suporte <suporte@empresa.example.pt>", "Spam da sua rede", "Olá,\r\nrecebemos spam do endereço IP %s desde %s. Por favor, tomem providências."},
	} {
		add(fmt.Sprintf("spam/lang/%d", v), mailOf(b.from, b.subject, "", fmt.Sprintf(b.body, src2(v), when(v))), report(abuse.Spam, src2(v)))
	}
	for v, mbx := range []string{"fbl@mailbox.example", "feedback@webmail.example", "arf@isp-mail.example", "complaints@freemail.example", "scomp@portal.example", "fbl@telco.example"} {
		add(fmt.Sprintf("spam/arf/%d", v), arfMail(mbx, "abuse", src(50+v), fmt.Sprintf("news%d@shop.example", v)), report(abuse.Spam, src(50+v)))
	}
	for v := range 5 {
		add(fmt.Sprintf("spam/spamcop/%d", v), spamcopMail(v), report(abuse.Spam, src2(50+v)).host(fmt.Sprintf("pills%d.example.com", v)))
	}

	// ---- phishing ----------------------------------------------------------------------------
	for v, b := range []struct{ from, subject, body string }{
		{"Brand Protection <takedown@brandwatch.example>", "Phishing site takedown request", "We have identified a phishing site targeting our client hosted on your network:\r\n\r\nURL: http://%s/secure/login.php\r\nIP: %s\r\nDetected: %s\r\n\r\nPlease remove this content."},
		{"Anti-Fraud <af@fraudstop.example>", "Takedown notice: fraudulent website", "A fraudulent website impersonating Example Bank is live at http://%s/online-banking/ (%s), first seen %s. Please take it down."},
		{"CSIRT <csirt@bank.example>", "[Phishing] credential harvesting page", "Dear abuse team,\r\nthe page http://%s/verify/account.html on %s harvests our customers' credentials (seen %s). Please remove it urgently."},
		{"Takedown Team <noreply-takedown@protect.example>", "Phishing attack - takedown required", "Incident 55%[3]s\r\nAttack URL: http://%[1]s/paypal/signin\r\nHosting IP: %[2]s\r\n"},
		{"Phish Report <report@phishreport.example>", "Phishing URL on your network", "The following phishing URL resolves to %[2]s, which you announce:\r\nhttp://%[1]s/wp-content/office365/\r\nFirst seen %[3]s."},
		{"Security <security@wallet.example>", "Fraudulent site impersonating our wallet", "Please take down http://%s/connect-wallet which is hosted at %s (seen %s)."},
	} {
		ip := src(70 + v)
		add(fmt.Sprintf("phishing/takedown/%d", v), mailOf(b.from, b.subject, "", fmt.Sprintf(b.body, ip, ip, when(v))), report(abuse.Phishing, ip))
	}
	for v, b := range []struct{ from, subject, body string }{
		{"Sicherheit <sicherheit@bank.example.de>", "Phishing-Seite in Ihrem Netz", "Auf http://%s/login/ (IP %s) wird seit %s eine Phishing-Seite betrieben, die unsere Kunden täuscht. Bitte entfernen."},
		{"Sécurité <securite@banque.example.fr>", "Hameçonnage", "Une page d'hameçonnage (phishing) imitant notre banque est hébergée sur http://%s/connexion (adresse %s), vue le %s."},
		{"Seguridad <seguridad@banco.example.es>", "Sitio de phishing", "Un sitio de phishing que suplanta a nuestro banco está alojado en http://%s/acceso (%s), detectado %s."},
		{"SOC <soc@bank.example>", "Credential phishing hosted by you", "Hi, we found a credential phishing kit at http://%s/owa/ on your server %s, active since %s."},
	} {
		ip := src2(70 + v)
		add(fmt.Sprintf("phishing/person/%d", v), mailOf(b.from, b.subject, "", fmt.Sprintf(b.body, ip, ip, when(v))), report(abuse.Phishing, ip))
	}
	for v := range 4 {
		ip := src(80 + v)
		add(fmt.Sprintf("phishing/xarf4/%d", v), xarf4Mail("content", "phishing", ip, fmt.Sprintf("http://%s/login", ip)), report(abuse.Phishing, ip))
	}
	for v, host := range []string{"secure-login.shop.example", "verify-account.example.net", "appleid-support.example.org"} {
		add(fmt.Sprintf("phishing/name/%d", v), mailOf("Phish Report <report@phishreport.example>", "Phishing site takedown", "",
			fmt.Sprintf("Phishing page: https://%s/signin (resolves to %s, seen %s). Please take it down.", host, src(90+v), when(v))),
			report(abuse.Phishing, src(90+v)).host(host))
	}

	// ---- malware -----------------------------------------------------------------------------
	for v, b := range []string{
		"Your host %s is serving malware: http://%[1]s/bins/x86 is a Mirai loader (seen %[2]s).",
		"The IP %s hosts a command and control server for the QakBot botnet, active %s.",
		"We observed malware downloads (trojan dropper) from %s at %s. Sample hashes on request.",
		"Malware distribution: an Emotet payload is hosted on %s since %s. Please remove it.",
		"Der Server %s verteilt Schadsoftware (Malware), zuletzt gesehen %s.",
		"Le serveur %s héberge un logiciel malveillant (malware) depuis %s.",
	} {
		ip := src2(90 + v)
		add(fmt.Sprintf("malware/%d", v), mailOf(person(v+2).from, []string{"Malware hosted on your network", "Botnet C2", "Malware", "Malware distribution", "Schadsoftware", "Logiciel malveillant"}[v], "",
			fmt.Sprintf(b, ip, when(v))), report(abuse.Malware, ip))
	}

	// ---- port scans ----------------------------------------------------------------------
	for v, b := range []string{
		"We see port scans from %s against our whole /24 since %s (TCP 22, 23, 3389).",
		"Your customer %s is scanning our network for open ports (%s).",
		"Massive portscan from %s detected by our IDS at %s.",
		"Von %s wird unser Netz seit %s nach offenen Ports gescannt (Portscan).",
	} {
		ip := src(110 + v)
		add(fmt.Sprintf("port-scan/person/%d", v), mailOf(person(v).from, "Port scan", "", fmt.Sprintf(b, ip, when(v))), report(abuse.PortScan, ip))
	}
	for v := range 3 {
		add(fmt.Sprintf("port-scan/fail2ban/%d", v), fail2banMail(src(115+v), "portscan"), report(abuse.PortScan, src(115+v)))
	}

	// ---- denial of service ---------------------------------------------------------------
	for v, b := range []string{
		"We are under a DDoS attack; %s is one of the sources (UDP flood, 2 Gbps) since %s.",
		"DoS attack from %s against our web servers since %s, SYN flood.",
		"Our customer was hit by an amplification attack; the reflector %s sent 900 Mbps at %s.",
		"Wir werden von %s aus angegriffen (DDoS), seit %s.",
		"Attaque DDoS en cours depuis %s (début %s).",
		"Estamos sufriendo un ataque DDoS desde %s desde %s.",
	} {
		ip := src2(110 + v)
		add(fmt.Sprintf("dos/%d", v), mailOf(person(v+1).from, []string{"DDoS", "DoS attack", "Amplification attack", "DDoS-Angriff", "Attaque DDoS", "Ataque DDoS"}[v], "",
			fmt.Sprintf(b, ip, when(v))), report(abuse.DoS, ip))
	}

	// ---- brute force -----------------------------------------------------------------
	for v, b := range []string{
		"Failed SSH login attempts from %s on our server, hundreds per minute since %s.",
		"Brute force attack on our mail server (SMTP AUTH) from %s, %s.",
		"%s is trying to guess passwords on our WordPress login (wp-login.php), since %s.",
		"RDP brute force from your IP %s, thousands of attempts since %s.",
		"Von %s kommen seit %s Brute-Force-Angriffe auf unseren SSH-Server.",
		"Tentatives de connexion SSH par force brute depuis %s (%s).",
		"Brute-force aanvallen op onze server vanaf %s sinds %s.",
	} {
		ip := src(130 + v)
		add(fmt.Sprintf("brute-force/person/%d", v), mailOf(person(v).from, []string{"SSH brute force", "Brute force", "Login attack", "RDP brute force", "Brute-Force", "Force brute", "Brute force"}[v], "",
			fmt.Sprintf(b, ip, when(v))), report(abuse.BruteForce, ip))
	}
	for v := range 5 {
		add(fmt.Sprintf("brute-force/fail2ban/%d", v), fail2banMail(src(140+v), "sshd"), report(abuse.BruteForce, src(140+v)))
	}
	for v := range 3 {
		add(fmt.Sprintf("brute-force/xarf02/%d", v), xarf02Mail(src2(130+v)), report(abuse.BruteForce, src2(130+v)))
	}

	// ---- copyright -----------------------------------------------------------------------
	for v, org := range []string{"Rights Agency", "Film Studio Example", "Music Label Example", "Software Vendor Example", "Publisher Example"} {
		ip := src2(140 + v)
		add(fmt.Sprintf("copyright/%d", v), mailOf(fmt.Sprintf("%s <dmca@rights%d.example>", org, v), "Notice of Claimed Infringement", "",
			fmt.Sprintf("Notice of claimed infringement (17 U.S.C. 512(c)).\r\n\r\nInfringing URL: http://%s/files/release-%d.zip\r\nIP Address: %s\r\nTimestamp: 2026-12-06T22:%02d:00Z\r\n\r\nI have a good faith belief that the use is not authorised.", ip, v, ip, 10+v)),
			report(abuse.Copyright, ip))
	}

	// ---- authentication failures ------------------------------------------------------
	for v, mbx := range []string{"dmarc-failures@mailbox.example", "ruf@webmail.example", "auth@isp-mail.example"} {
		add(fmt.Sprintf("auth-failure/arf/%d", v), arfMail(mbx, "auth-failure", vic(60+v), fmt.Sprintf("billing%d@bank.example", v)), report(abuse.AuthFailure, vic(60+v)))
	}

	// ---- advisories: vulnerable, infected, compromised ----------------------------------
	for v, b := range []struct{ subject, body string }{
		{"Open DNS resolver %s", "The host %s in your network answers recursive DNS queries from anywhere and can be abused for amplification. Please restrict it."},
		{"Accessible SMB service on %s", "We found an accessible SMB service (TCP 445) on %s. Exposing SMB to the Internet is dangerous; please filter it."},
		{"Open Portmapper", "Open Portmapper on %s (UDP 111): the service is vulnerable to abuse in DDoS amplification."},
		{"Vulnerable Microsoft Exchange server", "The server %s runs a Microsoft Exchange version vulnerable to CVE-2021-26855 (ProxyLogon). Please patch it."},
		{"Open memcached server", "An open memcached server at %s (UDP 11211) can be abused for amplification attacks."},
		{"Exposed Elasticsearch", "Elasticsearch on %s:9200 is accessible without authentication and exposes data."},
	} {
		ip := vic(70 + v)
		subject := b.subject
		if strings.Contains(subject, "%s") {
			subject = fmt.Sprintf(subject, ip)
		}
		add(fmt.Sprintf("vulnerable/%d", v), mailOf(fmt.Sprintf("CERT <notify@cert%d.example>", v), subject, "", fmt.Sprintf(b.body, ip)), report(abuse.Vulnerable, ip))
	}
	for v := range 4 {
		add(fmt.Sprintf("vulnerable/csv/%d", v), csvMail(fmt.Sprintf("cert-%d@csirt.example", v), "timestamp,ip,port,protocol,tag\r\n2026-12-06 21:%02d:00,%s,53,udp,openresolver\r\n", v, vic(80+v)), report(abuse.Vulnerable, vic(80+v)))
	}
	for v, b := range []string{
		"Dear colleagues, the host %s in your network is infected (Mirai) and contacted our sinkhole at %s.",
		"Our sinkhole saw connections from %s, infected with the Conficker worm, at %s.",
		"The machine %s is part of a botnet (bot infection, Andromeda) — sinkhole hits since %s.",
		"Infected system in your network: %s (drone, Necurs) seen %s.",
	} {
		ip := vic(90 + v)
		add(fmt.Sprintf("infected/%d", v), mailOf(fmt.Sprintf("CERT-%c <cert@cert%d.example>", 'A'+v, v), "Infected host", "", fmt.Sprintf(b, ip, when(v))), report(abuse.Infected, ip))
	}
	for v, b := range []string{
		"The website on %s has been defaced; the front page shows a hacker's message since %s.",
		"Your customer's server %s appears to be compromised: it hosts a web shell (seen %s).",
		"Compromised website at %s injecting malicious JavaScript since %s.",
	} {
		ip := vic(100 + v)
		add(fmt.Sprintf("compromised/%d", v), mailOf(fmt.Sprintf("CSIRT <csirt@csirt%d.example>", v), "Compromised website", "", fmt.Sprintf(b, ip, when(v))), report(abuse.Compromised, ip))
	}

	// ---- legal requests and CSAM -------------------------------------------------------
	for v, b := range []struct{ from, subject, body string }{
		{"Detective Smith <d.smith@police.example>", "Preservation request", "Pursuant to 18 U.S.C. 2703(f), please preserve all records associated with the IP address %s for 90 days. Do not notify the subscriber."},
		{"Officier de police judiciaire <opj@gendarmerie.example>", "Réquisition judiciaire", "Réquisition judiciaire : en application de l'article 60-1 du code de procédure pénale, veuillez nous communiquer l'identité de l'abonné à l'adresse IP %s. Ne pas informer le client."},
		{"Kriminalpolizei <k12@polizei.example>", "Auskunftsersuchen", "Im Rahmen eines Ermittlungsverfahrens bitten wir um Auskunft über den Inhaber der IP-Adresse %s (Bestandsdaten). Bitte informieren Sie den Kunden nicht."},
		{"Guardia Civil <delitos@guardiacivil.example>", "Requerimiento judicial", "En virtud de requerimiento judicial, solicitamos los datos del titular de la dirección IP %s. No informe al cliente."},
		{"Polizia Postale <cosc@polizia.example>", "Richiesta dati", "Per un procedimento penale si richiede di conservare e comunicare i dati dell'utente dell'indirizzo IP %s. Non informare il cliente."},
		{"Politie <team.cybercrime@politie.example>", "Vordering gegevens", "In het kader van een strafrechtelijk onderzoek vorderen wij de gegevens van de gebruiker van IP-adres %s. Informeer de klant niet."},
		{"Law Enforcement <leo@fbi.example>", "Emergency disclosure request", "This is an emergency disclosure request: there is an imminent threat to life. We request subscriber information for %s immediately."},
		{"Court Clerk <clerk@court.example>", "Subpoena", "You are commanded by this subpoena to produce subscriber records for the IP address %s. Do not disclose this subpoena to the customer."},
	} {
		ip := src(150 + v)
		add(fmt.Sprintf("legal/%d", v), mailOf(b.from, b.subject, "", fmt.Sprintf(b.body, ip)), report(abuse.LegalRequest, ip))
	}
	for v, b := range []struct{ from, body string }{
		{"NCMEC <cybertipline@ncmec.example>", "CyberTipline report: apparent child sexual abuse material is hosted at http://%[1]s/gallery/ (IP %[1]s). Please preserve and remove."},
		{"IWF <report@iwf.example>", "The Internet Watch Foundation has assessed child sexual abuse imagery at http://%[1]s/img/ on %[1]s. Please remove it."},
		{"Point de Contact <signalement@pointdecontact.example>", "Des contenus pédopornographiques sont hébergés à l'adresse http://%[1]s/p/ (%[1]s). Merci de les retirer."},
		{"jugendschutz.net <hotline@jugendschutz.example>", "Unter http://%[1]s/x/ (IP %[1]s) werden Missbrauchsdarstellungen von Kindern (Kinderpornografie) bereitgestellt."},
	} {
		ip := src(160 + v)
		add(fmt.Sprintf("csam/%d", v), mailOf(b.from, "Notice of child sexual abuse material", "", fmt.Sprintf(b.body, ip)), report(abuse.CSAM, ip))
	}

	// ---- a customer's own plea ----------------------------------------------------------
	for v, b := range []struct{ from, subject, body string }{
		{"IT <it@customer-shop.example>", "Our mail is blocked", "Hello, our mail server %s is listed on Spamhaus and our mail is rejected by Gmail. Can you help us get delisted?"},
		{"Owner <owner@customer-cafe.example>", "Emails bouncing", "Our emails bounce: Outlook says our IP %s is on a blocklist. What can we do?"},
		{"Admin <admin@kunde.example>", "Unsere E-Mails werden blockiert", "Unsere E-Mails werden abgelehnt, unser Server %s steht auf einer Blacklist. Können Sie uns helfen?"},
		{"Admin <admin@client.example>", "Nos mails sont bloqués", "Bonjour, nos courriels sont rejetés, notre serveur %s est sur une liste noire. Pouvez-vous nous aider ?"},
		{"Admin <admin@cliente.example>", "Nuestro correo está bloqueado", "Hola, nuestro correo es rechazado porque el servidor %s está en una lista negra. ¿Pueden ayudarnos?"},
	} {
		ip := src2(150 + v)
		add(fmt.Sprintf("customer/%d", v), mailOf(b.from, b.subject, "", fmt.Sprintf(b.body, ip)), report(abuse.Deliverability, ip))
	}

	// ---- not reports: status mail, auto-replies, bounces, replies, newsletters ----------
	for v, b := range []struct{ from, subject, body string }{
		{"Netcraft <noreply@takedown.example>", "Your takedown request has been approved", "Your request to take down http://%[1]s/login was approved and the site at %[1]s has been removed."},
		{"Registrar Abuse <abuse@registrar.example>", "Abuse report received", "Thank you for your report about %[1]s. We have received your report and will investigate."},
		{"Abuse Desk <abuse@otherhost.example>", "[Ticket #5%[2]d] Re: spam from %[1]s", "We have received your complaint about %[1]s and opened a ticket; we will investigate."},
		{"Blocklist <noreply@blocklist.example>", "Delisting complete", "The listing for %[1]s has been removed from our list."},
		{"Phish Report <noreply@phishreport.example>", "Report status update", "Your report regarding %[1]s has been forwarded to the hosting provider."},
		{"Signal <ne-pas-repondre@signal.example>", "Votre signalement", "Votre signalement concernant %[1]s a été traité. Merci."},
	} {
		add(fmt.Sprintf("status/%d", v), mailOf(b.from, fmt.Sprintf(strings.ReplaceAll(b.subject, "%[2]d", fmt.Sprint(v)), src(170+v)), "", fmt.Sprintf(b.body, src(170+v), v)), label{kind: KindAutoReply})
	}
	for v, b := range []struct{ headers, body string }{
		{"Auto-Submitted: auto-replied\r\n", "I am out of the office until Monday with limited access to email."},
		{"X-Autoreply: yes\r\n", "Thank you for your message. I am on leave and will reply on my return."},
		{"Precedence: auto_reply\r\n", "Je suis absent du bureau jusqu'au 14 décembre."},
		{"Auto-Submitted: auto-replied\r\n", "Ich bin bis zum 14.12. nicht im Büro."},
	} {
		add(fmt.Sprintf("autoreply/%d", v), mailOf(person(v).from, "Automatic reply: Out of office", b.headers, b.body), label{kind: KindAutoReply})
	}
	for v := range 4 {
		add(fmt.Sprintf("reply/%d", v), mailOf(fmt.Sprintf("Customer <ops@customer%d.example>", v), fmt.Sprintf("Re: [TS-7F3K2Q%02d] Abuse report about %s", v, src(180+v)), "",
			"We found the compromised script and removed it. The server "+src(180+v)+" is clean now."), label{kind: KindReply})
	}
	for v, b := range []string{
		"Our December newsletter: five tips to keep your servers safe from phishing. Read more at https://news.vendor.example/dec. Unsubscribe: https://news.vendor.example/u",
		"Webinar invitation: how modern SOCs handle DDoS. Register at https://events.vendor.example/ddos.",
	} {
		add(fmt.Sprintf("newsletter/%d", v), mailOf("Vendor News <news@vendor.example>", "Newsletter", "List-Unsubscribe: <https://news.vendor.example/u>\r\nPrecedence: bulk\r\n", b), label{kind: KindAutoReply})
	}

	// ---- addresses the reporter did not mean -----------------------------------------
	for v, b := range []string{
		"Our server %[2]s was attacked by %[1]s (SSH brute force, %[3]s).",
		"The targeted IP was %[2]s/32. The attack came from %[1]s (UDP flood) at %[3]s.",
		"Unser Server %[2]s wurde von %[1]s aus angegriffen (Brute-Force, %[3]s).",
		"Nuestro servidor %[2]s fue atacado desde %[1]s (fuerza bruta, %[3]s).",
	} {
		c := []abuse.Category{abuse.BruteForce, abuse.DoS, abuse.BruteForce, abuse.BruteForce}[v]
		add(fmt.Sprintf("victim/%d", v), mailOf(person(v).from, "Attack from your network", "", fmt.Sprintf(b, src2(160+v), vic(120+v), when(v))), report(c, src2(160+v)))
	}
	for v := range 3 {
		add(fmt.Sprintf("whois/%d", v), mailOf(person(v).from, "SSH brute force", "",
			fmt.Sprintf("Brute force from %s since %s.\r\n\r\ninetnum:        %s.0 - %s.255\r\nnetname:        PROVIDER-NET\r\nroute:          %s.0/24\r\norigin:         AS64500\r\n", src2(170+v), when(v), "198.51.100", "198.51.100", "198.51.100")),
			report(abuse.BruteForce, src2(170+v)))
	}

	// ---- containers and notations ------------------------------------------------------
	for v, b := range []struct{ from, subject, body string }{
		{"Brand Protection <bp@brand.example>", "Phishing site takedown request", "<html><body><p>We found a phishing page:</p><table><tr><td>URL</td><td>http://%[1]s/secure&#47;login</td></tr><tr><td>IP</td><td>%[1]s</td></tr></table></body></html>"},
		{"SOC <soc@bank.example>", "Phishing hosted by you", "<html><body><div>Phishing kit at <a href=\"http://%[1]s/kit/\">http://%[1]s/kit/</a> &mdash; please remove.</div></body></html>"},
		{"Fraud Team <fraud@shop.example>", "Fraudulent website", "<html><body><b>Fraudulent website</b> hosted on <span>%[1]s</span>: http://%[1]s/checkout &amp; more.</body></html>"},
		{"Brand Team <brand@brand.example>", "Phishing takedown request", "<html><body><p>A phishing page copying our login is live: <a href=\"http://%[1]s/signin/\">click here to see it</a>. Please take it down.</p></body></html>"},
		{"CSIRT <csirt@bank.example>", "Phishing", "<html><body><p>Phishing kit on&nbsp;your server&nbsp;%[1]s&#44; please remove&#46;</p></body></html>"},
	} {
		ip := src(190 + v)
		add(fmt.Sprintf("html/%d", v), htmlMail(b.from, b.subject, fmt.Sprintf(b.body, ip), v%2 == 0), report(abuse.Phishing, ip))
	}
	for v, b := range []struct{ subject, body string }{
		{"Spam from %s", "Hello, see the subject. Full headers attached on request."},
		{"SSH brute force from %s", "Since this morning, hundreds of failed logins. Please stop it."},
		{"DDoS from %s", "Our servers are flooded since 06:00 UTC."},
	} {
		ip := src2(190 + v)
		c := []abuse.Category{abuse.Spam, abuse.BruteForce, abuse.DoS}[v]
		add(fmt.Sprintf("subject-only/%d", v), mailOf(person(v).from, fmt.Sprintf(b.subject, ip), "", b.body), report(c, ip))
	}
	for v, b := range []string{
		"Malware is served from hxxp://%s/payload.exe (defanged).",
		"The C2 server at %s[:]8443 controls our infected clients; the malware beacons every minute.",
		"Phishing page: hxxps://%s/login (IP defanged as above).",
	} {
		ip := src(200 + v)
		def := strings.ReplaceAll(ip, ".", "[.]")
		c := []abuse.Category{abuse.Malware, abuse.Malware, abuse.Phishing}[v]
		add(fmt.Sprintf("defanged/%d", v), mailOf("CTI <cti@intel.example>", []string{"Malware URL", "C2 server", "Phishing"}[v], "", fmt.Sprintf(b, def)), report(c, ip))
	}
	for v, b := range []string{
		"We see SSH brute force attempts from %s on our servers since %s.",
		"Spam from your IPv6 address %s, since %s.",
		"Port scan from %s against our IPv6 prefix (%s).",
		"DDoS-Angriff von %s seit %s.",
	} {
		ip := src6(v)
		c := []abuse.Category{abuse.BruteForce, abuse.Spam, abuse.PortScan, abuse.DoS}[v]
		add(fmt.Sprintf("ipv6/%d", v), mailOf(person(v+3).from, "Abuse from your network", "", fmt.Sprintf(b, ip, when(v))), report(c, ip))
	}
	for v, port := range []int{9200, 11211, 27017} {
		ip := vic(110 + v)
		add(fmt.Sprintf("ip-port/%d", v), mailOf("Scanner Project <notify@scanproject.example>", "Service accessible without authentication", "",
			fmt.Sprintf("The service at %s:%d is accessible without authentication from the Internet and exposes data. Please restrict it.", ip, port)), report(abuse.Vulnerable, ip))
	}

	// ---- more structured reports --------------------------------------------------------
	for v := range 4 {
		add(fmt.Sprintf("spam/arf6/%d", v), arfMail(fmt.Sprintf("fbl@mbx%d.example", v), "abuse", src6(0x10+v), "promo@shop.example"), report(abuse.Spam, src6(0x10+v)))
	}
	for v, b := range []struct {
		category, typ string
		c             abuse.Category
	}{
		{"connection", "login-attack", abuse.BruteForce}, {"connection", "port-scan", abuse.PortScan}, {"connection", "ddos", abuse.DoS},
		{"messaging", "spam", abuse.Spam}, {"vulnerability", "open", abuse.Vulnerable}, {"infrastructure", "botnet", abuse.Infected},
		{"content", "malware", abuse.Malware}, {"copyright", "copyright", abuse.Copyright},
	} {
		ip := src2(200 + v)
		add(fmt.Sprintf("xarf4/%s-%s", b.category, b.typ), xarf4Mail(b.category, b.typ, ip, ""), report(b.c, ip))
	}
	for v := range 3 {
		add(fmt.Sprintf("spam/spamcop/b%d", v), spamcopMail(10+v), report(abuse.Spam, src2(60+v)).host(fmt.Sprintf("pills%d.example.com", 10+v)))
	}
	for v := range 3 {
		add(fmt.Sprintf("brute-force/fail2ban/b%d", v), fail2banMail(src6(0x30+v), []string{"postfix-sasl", "dovecot", "nginx-http-auth"}[v]), report(abuse.BruteForce, src6(0x30+v)))
	}

	// ---- mailing lists re-send reports -----------------------------------------------
	for v, b := range []struct {
		from, headers, body string
		c                   abuse.Category
	}{
		{`"'noc@isp.example' via abuse" <abuse@provider.example>`, "Precedence: list\r\nList-Id: <abuse.provider.example>\r\nX-Original-Sender: noc@isp.example\r\nList-Unsubscribe: <mailto:abuse+unsubscribe@provider.example>\r\n", "Port scans from %s against our network since %s.", abuse.PortScan},
		{`"Jane Roe via Abuse" <abuse@provider.example>`, "Reply-To: jane@victim.example\r\nList-Id: Abuse <abuse.lists.provider.example>\r\nPrecedence: list\r\nList-Unsubscribe: <https://lists.provider.example/u>\r\n", "Spam from %s hit our users at %s.", abuse.Spam},
		{`"Bank SOC via Abuse Team" <abuse@provider.example>`, "X-Original-From: soc@bank.example\r\nList-Id: <abuse.provider.example>\r\n", "Phishing page at http://%s/login since %s.", abuse.Phishing},
		{`"cert@cert.example via abuse" <abuse@provider.example>`, "X-Original-Sender: cert@cert.example\r\nPrecedence: list\r\n", "The host %s is infected (sinkhole hits since %s).", abuse.Infected},
	} {
		ip := src(210 + v)
		add(fmt.Sprintf("list/%d", v), mailOf(b.from, []string{"Port scan", "Spam", "Phishing", "Infected host"}[v], b.headers, fmt.Sprintf(b.body, ip, when(v))), report(b.c, ip))
	}

	// ---- legal, CSAM and customers in more languages ---------------------------------
	for v, b := range []struct{ from, subject, body string }{
		{"Staatsanwaltschaft <poststelle@sta.example>", "Ermittlungsverfahren 123 Js 456/26", "In dem Ermittlungsverfahren bitten wir um Sicherung der Verkehrsdaten zu der IP-Adresse %s. Eine Benachrichtigung des Kunden hat zu unterbleiben."},
		{"Prokuratura <sekretariat@prokuratura.example>", "Wniosek o zabezpieczenie danych", "Prokuratura prosi o zabezpieczenie danych dotyczących adresu IP %s. Prosimy nie informować klienta."},
		{"Polícia Judiciária <cibercrime@pj.example>", "Pedido de dados", "No âmbito de inquérito criminal, solicita-se a conservação dos dados relativos ao endereço IP %s, por mandado judicial."},
		{"Police Department <cyber@pd.example>", "Records request", "As part of a police investigation we ask you to preserve the subscriber records for %s and not to notify the customer."},
	} {
		ip := src(220 + v)
		add(fmt.Sprintf("legal/b%d", v), mailOf(b.from, b.subject, "", fmt.Sprintf(b.body, ip)), report(abuse.LegalRequest, ip))
	}
	for v, b := range []string{
		"INHOPE member hotline: child sexual abuse material at http://%[1]s/c/ (%[1]s).",
		"CSAM reported to us is hosted on your server %[1]s at http://%[1]s/a/b.",
	} {
		ip := src(230 + v)
		add(fmt.Sprintf("csam/b%d", v), mailOf("Hotline <report@hotline.example>", "Report", "", fmt.Sprintf(b, ip)), report(abuse.CSAM, ip))
	}
	for v, b := range []struct{ from, subject, body string }{
		{"Admin <admin@cliente.example.it>", "Le nostre email sono bloccate", "Le nostre email vengono rifiutate: il server %s è in una blacklist. Potete aiutarci?"},
		{"Beheer <beheer@klant.example.nl>", "Onze mail wordt geblokkeerd", "Onze e-mails worden geweigerd, onze server %s staat op een blacklist. Kunt u helpen?"},
		{"Admin <admin@cliente.example.br>", "Nossos e-mails estão bloqueados", "Nossos e-mails estão sendo rejeitados, o servidor %s está em uma lista negra."},
		{"Ops <ops@customer-saas.example>", "Please delist us", "Please help us delist our IP %s from Spamhaus, our customers do not get our invoices."},
	} {
		ip := src2(210 + v)
		add(fmt.Sprintf("customer/b%d", v), mailOf(b.from, b.subject, "", fmt.Sprintf(b.body, ip)), report(abuse.Deliverability, ip))
	}

	// ---- advisories in more languages ---------------------------------------------------
	for v, b := range []string{
		"Der Host %s in Ihrem Netz ist infiziert (Botnetz, Sinkhole-Kontakt seit %s).",
		"La machine %s de votre réseau est infectée (botnet), vue par notre sinkhole le %s.",
		"La web %s ha sido comprometida (defaced) desde %s.",
		"De website op %s is gecompromitteerd (webshell gevonden op %s).",
	} {
		ip := vic(130 + v)
		c := []abuse.Category{abuse.Infected, abuse.Infected, abuse.Compromised, abuse.Compromised}[v]
		add(fmt.Sprintf("advisory/lang/%d", v), mailOf(fmt.Sprintf("CERT <cert@cert-%d.example>", v), "Notification", "", fmt.Sprintf(b, ip, when(v))), report(c, ip))
	}

	// ---- copyright in a person's words -------------------------------------------------
	for v, b := range []string{
		"Copyright infringement: our film is offered for download from %s (BitTorrent, seen %s).",
		"Urheberrechtsverletzung: Unsere Musik wird über %s verbreitet (%s).",
		"Violation du droit d'auteur : nos livres sont diffusés depuis %s (%s).",
	} {
		ip := src2(220 + v)
		add(fmt.Sprintf("copyright/person/%d", v), mailOf(fmt.Sprintf("Rights <rights@owner%d.example>", v), "Copyright", "", fmt.Sprintf(b, ip, when(v))), report(abuse.Copyright, ip))
	}

	// ---- messaging: numbers and sender IDs ---------------------------------------------
	for v, b := range []struct {
		from, body, phone string
		c                 abuse.Category
	}{
		{"Jane <jane@mail.example.com>", "I keep getting spam text messages (SMS) from +1 (646) 555-01%02d advertising loans.", "+1646555010", abuse.SMSSpam},
		{"Tom <tom@provider.co.uk>", "Unsolicited SMS from 07700 9001%02d every day; I never signed up.", "+44770090010", abuse.Consent},
		{"Ana <ana@correo.example.es>", "Recibo SMS de spam desde el +34 612 345 6%02d cada día.", "+3461234560", abuse.SMSSpam},
	} {
		num := fmt.Sprintf("%s%d", b.phone, v)
		add(fmt.Sprintf("messaging/%d", v), mailOf(b.from, "Spam texts", "", fmt.Sprintf(b.body, v)), label{kind: KindReport, category: b.c}.phone(num))
	}

	// ---- not reports, more shapes -------------------------------------------------------
	for v, b := range []struct{ from, subject, body string }{
		{"Abuse <abuse@cloud.example>", "Re: Abuse report %[1]s", "Thank you for contacting our abuse team. Your complaint about %[1]s has been forwarded to our customer."},
		{"Support <support@registrar.example>", "Case closed", "Your ticket about %[1]s was closed. We have received your report and the domain was suspended."},
		{"Meldestelle <noreply@meldestelle.example>", "Eingangsbestätigung", "Ihre Meldung zu %[1]s wurde erhalten und wird bearbeitet."},
		{"Denuncias <noreply@denuncias.example>", "Su denuncia", "Su denuncia sobre %[1]s ha sido recibida y será procesada."},
	} {
		add(fmt.Sprintf("status/b%d", v), mailOf(b.from, fmt.Sprintf(b.subject, src(240+v)), "", fmt.Sprintf(b.body, src(240+v))), label{kind: KindAutoReply})
	}
	for v := range 3 {
		add(fmt.Sprintf("bounce/%d", v), dsnMail(fmt.Sprintf("user%d@gone.example", v)), label{kind: KindBounce})
	}
	for v := range 2 {
		add(fmt.Sprintf("reply/b%d", v), mailOf(fmt.Sprintf("Ops <ops@cust%d.example>", v), fmt.Sprintf("AW: Ihr Fall TS-9A8B7C%02d", v), "",
			"Wir haben das Skript entfernt, der Server ist wieder sauber."), label{kind: KindReply})
	}
	for v, b := range []string{
		"Security Weekly: this week's top phishing kits and how to spot them. https://weekly.example/issue-%d",
		"Threat report: ransomware trends in Q4. Download: https://intel.example/q4-%d.pdf",
	} {
		add(fmt.Sprintf("newsletter/b%d", v), mailOf("Security Weekly <weekly@news.example>", "This week in security", "List-Unsubscribe: <mailto:unsub@news.example>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n", fmt.Sprintf(b, v)), label{kind: KindAutoReply})
	}
	// A CDN's or proxy's front, when the origin is named; reference links to the reporter's
	// own details.
	for v, b := range []struct {
		subject, body string
		c             abuse.Category
		front         bool // only the front is named: it is kept
	}{
		{"Phishing site takedown", "Phishing at https://login-verify%[3]d.example/ : the site is behind Cloudflare (%[2]s); the origin server is %[1]s. Please take it down.", abuse.Phishing, false},
		{"Malware distribution", "Malware download from http://files%[3]d.example/a.exe (Fastly %[2]s, the real IP of the backend is %[1]s).", abuse.Malware, false},
		{"Phishing takedown request", "Phishing page at https://pay%[3]d.example/ (CloudFront edge %[2]s). Origin: %[1]s. Please remove it.", abuse.Phishing, false},
		{"Phishing site", "Phishing on https://shop%[3]d.example/login which resolves to %[2]s (Cloudflare); please take it down.", abuse.Phishing, true},
	} {
		origin, front := src(240+v), vic(150+v)
		want := report(b.c, origin)
		if b.front {
			want = report(b.c, front)
		}
		add(fmt.Sprintf("cdn/%d", v), mailOf("Brand Protection <bp@brand.example>", b.subject, "", fmt.Sprintf(b.body, origin, front, v)), want)
	}
	for v, b := range []string{
		"Spam from %[1]s since %[3]s.\r\nDetails: http://%[2]s/reports/88%[4]d",
		"Brute force from %[1]s (%[3]s); see the logs at https://%[2]s/abuse?id=4%[4]d",
		"Port scan from %[1]s at %[3]s. Evidence: http://%[2]s:8080/evidence/99%[4]d.txt",
	} {
		c := []abuse.Category{abuse.Spam, abuse.BruteForce, abuse.PortScan}[v]
		add(fmt.Sprintf("reference-link/%d", v), mailOf(person(v).from, "Abuse from your network", "", fmt.Sprintf(b, src2(240+v), vic(160+v), when(v), v)), report(c, src2(240+v)))
	}

	// Offers and newsletters about phishing and takedowns: a subject a takedown notice could
	// have, nothing hosted named, nothing asked.
	for v, b := range []struct{ subject, body string }{
		{"Phishing takedown as a service", "Tired of phishing sites? Our brand protection platform finds and removes them within hours. Book a demo: https://brandprotect.example/demo"},
		{"Free phishing simulation for your staff", "Run a phishing simulation campaign for free this month: https://simulate.example/start. Train your employees to spot fraudulent websites."},
		{"Webinar: fighting fraudulent websites", "Join our webinar on takedown strategies for fraudulent websites on 15 December. Register at https://events.example/takedown-webinar."},
		{"Phishing report 2026 – download now", "Our annual phishing report is out: the 20 most impersonated brands. Download it at https://research.example/phishing-2026."},
	} {
		add(fmt.Sprintf("offer/%d", v), mailOf(fmt.Sprintf("Marketing <hello@vendor%d.example>", v), b.subject, "", b.body), label{kind: KindUnparseable})
	}
	for v := range 2 {
		add(fmt.Sprintf("traceroute/%d", v), mailOf(person(v).from, "Port scan", "",
			fmt.Sprintf("Port scans from %s.\r\nTraceroute:\r\n 1  10.0.0.1  0.5 ms\r\n 2  %s  3.1 ms\r\n 3  %s  12.0 ms\r\n", src2(230+v), vic(140+v), src2(230+v))), report(abuse.PortScan, src2(230+v)))
	}
	return out
}

// arfMail writes an RFC 5965 feedback report from a mailbox provider about one message.
func arfMail(from, feedbackType, ip, sender string) []byte {
	return fmt.Appendf(nil, "From: %[1]s\r\nTo: abuse@provider.example\r\nSubject: FW: report\r\nMessage-ID: <arf-%[3]s@mailbox.example>\r\nDate: Mon, 7 Dec 2026 08:00:00 +0000\r\n"+
		"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=feedback-report; boundary=\"b\"\r\n\r\n"+
		"--b\r\nContent-Type: text/plain\r\n\r\nThis is an email abuse report for an email message received from IP %[3]s.\r\n"+
		"--b\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: %[2]s\r\nUser-Agent: SomeFBL/2.1\r\nVersion: 1\r\nSource-IP: %[3]s\r\nArrival-Date: Sun, 6 Dec 2026 22:10:00 +0000\r\n\r\n"+
		"--b\r\nContent-Type: text/rfc822-headers\r\n\r\nReceived: from mx.sender.example ([%[3]s]) by mx.mailbox.example; Sun, 6 Dec 2026 22:10:00 +0000\r\nFrom: %[4]s\r\nTo: user@mailbox.example\r\nSubject: Offer\r\n\r\n--b--\r\n",
		from, feedbackType, ip, sender)
}

// spamcopMail writes a report in SpamCop's published layout.
func spamcopMail(v int) []byte {
	return fmt.Appendf(nil, "From: %[1]d@reports.spamcop.net\r\nTo: abuse@provider.example\r\nSubject: [SpamCop (http://%[2]s/) id:73%[1]d0012]Cheap meds\r\nMessage-ID: <sc-%[1]d@spamcop.net>\r\nDate: Mon, 7 Dec 2026 08:00:00 +0000\r\n\r\n"+
		"[ SpamCop V5.4.0 ]\r\nThis message is brief for your comfort.  Please use links below for details.\r\n\r\nEmail from %[2]s / Sun, 6 Dec 2026 22:%[1]02d:00 +0000\r\nhttps://www.spamcop.net/sc?id=z1\r\n\r\nSpamvertised web site: http://pills%[1]d.example.com/\r\n\r\n[ Offending message ]\r\nFrom: Pharmacy <sales@pills%[1]d.example.com>\r\nSubject: Cheap meds\r\n",
		v, src2(50+v))
}

// fail2banMail writes fail2ban's default ban notification.
func fail2banMail(ip, jail string) []byte {
	return fmt.Appendf(nil, "From: Fail2Ban <fail2ban@server.example>\r\nTo: abuse@provider.example\r\nSubject: [Fail2Ban] %[2]s: banned %[1]s from server.example\r\nMessage-ID: <f2b-%[1]s@server.example>\r\nDate: Mon, 7 Dec 2026 08:00:00 +0000\r\n\r\n"+
		"Hi,\r\n\r\nThe IP %[1]s has just been banned by Fail2Ban after 5 attempts against %[2]s.\r\n\r\nLines containing failures of %[1]s\r\nDec  6 22:10:01 server sshd[1234]: Failed password for root from %[1]s port 4242 ssh2\r\n\r\nRegards,\r\nFail2Ban\r\n",
		ip, jail)
}

// xarf02Mail writes an X-ARF 0.2 login-attack report (its YAML part).
func xarf02Mail(ip string) []byte {
	return fmt.Appendf(nil, "From: reports@blocklist.example\r\nTo: abuse@provider.example\r\nSubject: abuse report about %[1]s\r\nMessage-ID: <xarf-%[1]s@blocklist.example>\r\nDate: Mon, 7 Dec 2026 08:00:00 +0000\r\nX-XARF: PLAIN\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"x\"\r\n\r\n"+
		"--x\r\nContent-Type: text/plain\r\n\r\nLogin attacks from %[1]s.\r\n--x\r\nContent-Type: text/plain; name=\"report.txt\"\r\n\r\n---\r\nReported-From: reports@blocklist.example\r\nCategory: abuse\r\nReport-Type: login-attack\r\nService: ssh\r\nVersion: 0.2\r\nUser-Agent: sample\r\nDate: Sun, 6 Dec 2026 22:10:00 +0000\r\nSource-Type: ip-address\r\nSource: %[1]s\r\nPort: 22\r\nAttachment: text/plain\r\nSchema-URL: http://www.x-arf.org/schema/abuse_login-attack_0.1.2.json\r\n\r\n--x--\r\n", ip)
}

// xarf4Mail writes an X-ARF 4 JSON report as a mail's body.
func xarf4Mail(category, typ, ip, url string) []byte {
	body := fmt.Sprintf(`{"xarf_version":"4.0.0","report_id":"r-%[3]s","timestamp":"2026-12-06T22:10:00Z","reporter":{"org":"Reporter","contact":"reports@reporter.example","domain":"reporter.example"},"sender":{"org":"Reporter","contact":"reports@reporter.example","domain":"reporter.example"},"source_identifier":"%[3]s","category":"%[1]s","type":"%[2]s","url":"%[4]s"}`, category, typ, ip, url)
	return fmt.Appendf(nil, "From: reports@reporter.example\r\nTo: abuse@provider.example\r\nSubject: X-ARF report %[1]s\r\nMessage-ID: <x4-%[1]s@reporter.example>\r\nDate: Mon, 7 Dec 2026 08:00:00 +0000\r\nContent-Type: application/json\r\n\r\n%[2]s\r\n", ip, body)
}

// csvMail writes a CERT's notification with a CSV attachment.
func csvMail(from, csv string, args ...any) []byte {
	return fmt.Appendf(nil, "From: CSIRT <%s>\r\nTo: abuse@provider.example\r\nSubject: Notification\r\nMessage-ID: <csv-%s>\r\nDate: Mon, 7 Dec 2026 08:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"c\"\r\n\r\n"+
		"--c\r\nContent-Type: text/plain\r\n\r\nPlease find our notification attached.\r\n--c\r\nContent-Type: text/csv; name=\"report.csv\"\r\nContent-Disposition: attachment; filename=\"scan_dns_open_resolvers.csv\"\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n--c--\r\n",
		from, from, base64.StdEncoding.EncodeToString(fmt.Appendf(nil, csv, args...)))
}

// htmlMail writes an HTML-only complaint, base64-encoded when b64.
func htmlMail(from, subject, html string, b64 bool) []byte {
	cte, body := "8bit", html
	if b64 {
		cte, body = "base64", base64.StdEncoding.EncodeToString([]byte(html))
	}
	return fmt.Appendf(nil, "From: %s\r\nTo: abuse@provider.example\r\nSubject: %s\r\nMessage-ID: <html-%d@sample.example>\r\nDate: Mon, 7 Dec 2026 08:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: %s\r\n\r\n%s\r\n",
		from, subject, len(html), cte, body)
}

// dsnMail writes a delivery status notification (RFC 3464) for mail that named no case.
func dsnMail(rcpt string) []byte {
	return fmt.Appendf(nil, "From: Mail Delivery System <MAILER-DAEMON@mx.gone.example>\r\nTo: abuse@provider.example\r\nSubject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-%[1]s>\r\nDate: Mon, 7 Dec 2026 08:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"d\"\r\n\r\n"+
		"--d\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered to %[1]s.\r\n--d\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.gone.example\r\n\r\nFinal-Recipient: rfc822; %[1]s\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--d--\r\n", rcpt)
}
