package reports

import (
	"encoding/asn1"
	"encoding/base64"
	"fmt"
	"testing"

	"abusedesk/domain/abuse"
)

// mailOf writes a message with extra header lines.
func mailOf(from, subject, headers, body string) []byte {
	return fmt.Appendf(nil, "From: %s\r\nTo: abuse@provider.example\r\nSubject: %s\r\nMessage-ID: <%s@sample.example>\r\nDate: Mon, 7 Dec 2026 08:00:00 +0000\r\n%s\r\n%s\r\n",
		from, subject, subject[:min(8, len(subject))], headers, body)
}

// TestClassFamilies: classes of mail the desk misread, each as a family written the ways
// several reporters write it.
func TestClassFamilies(t *testing.T) {
	p := parser()
	for name, tc := range classFamilies {
		t.Run(name, func(t *testing.T) { check(t, p.Parse(tc.raw), tc.want) })
	}
}

// classFamilies are the classes the desk misread, each written the ways several reporters
// write it.
var classFamilies = map[string]struct {
	raw  []byte
	want expect
}{
	// A list re-sent it (the provider's abuse@ is a group): the report is from its writer.
	"list: Google Groups": {mailOf(`"'reports@spamhaus.example' via abuse" <abuse@provider.example>`, "Spam received from your network",
		"Precedence: list\r\nList-Id: <abuse.provider.example>\r\nX-Original-Sender: reports@spamhaus.example\r\n",
		"We received unsolicited bulk email from 192.0.2.25 at 2026-12-06 22:00 UTC. Please stop it."),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.Spam, ips: []string{"192.0.2.25"}, reporter: "reports@spamhaus.example"}},
	"list: Mailman with DMARC munging": {mailOf(`"Jane Roe via Abuse" <abuse@provider.example>`, "SSH brute force from your network",
		"Reply-To: Jane Roe <jane@home.example>\r\nList-Id: Abuse <abuse.lists.provider.example>\r\nPrecedence: list\r\n",
		"Failed login attempts on my server from 198.51.100.23, hundreds per minute since 07:00 UTC."),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.BruteForce, ips: []string{"198.51.100.23"}, reporter: "jane@home.example"}},
	"list: display name only": {mailOf(`"noc@isp.example via Abuse Desk" <abuse@provider.example>`, "DDoS",
		"", "We see a UDP flood from 192.0.2.10 against our customers since 06:00 UTC."),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.DoS, ips: []string{"192.0.2.10"}, reporter: "noc@isp.example"}},

	// Status mail about someone's request: never a report.
	"status: takedown approved": {mailOf("Netcraft <noreply@netcraft.example>", "Your takedown request has been approved", "",
		"Good news: your request to take down https://phish.example.org/login (192.0.2.40) was approved and the site has been removed."),
		expect{kind: KindAutoReply}},
	"status: another desk's ticket": {mailOf("Abuse Team <abuse@otherhost.example>", "[Ticket #48213] Re: phishing on 203.0.113.8", "",
		"Thank you for your report. We have received your report about 203.0.113.8 and opened ticket 48213; we will investigate."),
		expect{kind: KindAutoReply}},
	"status: registrar": {mailOf("Registrar Abuse <abuse@registrar.example>", "Abuse report 2026-1201 received", "",
		"Your abuse report regarding shop-login.example has been received and forwarded to the registrant."),
		expect{kind: KindAutoReply}},
	"status: French": {mailOf("Signal <ne-pas-repondre@signal.example>", "Suivi de votre signalement", "",
		"Bonjour, votre signalement concernant https://phish.example.org/ a été traité. Merci."),
		expect{kind: KindAutoReply}},
	"status: German": {mailOf("Meldestelle <noreply@melde.example>", "Ihre Meldung", "",
		"Ihre Meldung zu 192.0.2.40 wurde bearbeitet und an den Betreiber weitergeleitet."),
		expect{kind: KindAutoReply}},

	// A /32 is one address; the target is the victim.
	"victim /32": {mailOf("NOC <noc@victim.example>", "DDoS", "",
		"The targeted IP was 198.51.100.5/32. The attack came from 192.0.2.10 (UDP flood, 3 Gbps) at 2026-12-06 21:00 UTC."),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.DoS, ips: []string{"192.0.2.10"}, warning: "198.51.100.5 left out"}},
	"victim /32, German": {mailOf("Admin <admin@opfer.example>", "Angriff", "",
		"Unser Server 198.51.100.5/32 wurde von 192.0.2.10 aus angegriffen (DDoS, seit 21:00 UTC)."),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.DoS, ips: []string{"192.0.2.10"}}},

	// Defanged and scheme-less indicators.
	"defanged address and bare link": {mailOf("SOC <soc@bank.example>", "Phishing page hosted at your network", "",
		"A phishing page impersonating our bank is at hxxps://login-secure[.]shop[.]example/verify on 192.0.2[.]40; also account-check.example.net/verify.php."),
		expect{kind: KindReport, format: FormatTakedown, category: abuse.Phishing, ips: []string{"192.0.2.40"},
			domains: []string{"login-secure.shop.example", "account-check.example.net"}, urls: []string{"https://login-secure.shop.example/verify", "http://account-check.example.net/verify.php"}}},
	"defanged with (dot)": {mailOf("Analyst <cti@sec.example>", "Malware C2 in your network", "",
		"The malware calls home to 203(dot)0(dot)113(dot)9 and to c2-panel(dot)example(dot)org/gate.php; the command and control server is yours."),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.Malware, ips: []string{"203.0.113.9"}, domains: []string{"c2-panel.example.org"}}},

	// Addresses the reporter did not mean: pasted whois output and traceroute hops, the
	// reporter's own gateway.
	"not meant: pasted whois": {mailOf("Admin <admin@victim.example>", "SSH brute force", "",
		"Your host 192.0.2.77 is brute-forcing our SSH server since 05:00 UTC.\r\n\r\nWhois:\r\ninetnum:        192.0.2.0 - 192.0.2.255\r\nnetname:        PROVIDER-NET\r\nroute:          192.0.2.0/24\r\norigin:         AS64500\r\n"),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.BruteForce, ips: []string{"192.0.2.77"}}},
	"not meant: ARIN whois": {mailOf("Admin <admin@victim.example>", "Port scan", "",
		"Port scans from 192.0.2.77 against our network.\r\nNetRange:       192.0.2.0 - 192.0.2.255\r\nCIDR:           192.0.2.0/24\r\nNetName:        PROVIDER\r\nSource: 192.0.2.77\r\n"),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.PortScan, ips: []string{"192.0.2.77"}}},
	"not meant: traceroute": {mailOf("NOC <noc@isp.example>", "Port scan", "",
		"We see port scans from 192.0.2.77.\r\nTraceroute:\r\n 1  10.0.0.1  0.5 ms\r\n 2  198.51.100.1  3.1 ms\r\n 3  core.transit.example (203.0.113.5)  8.2 ms\r\n 4  192.0.2.77  12.0 ms\r\n"),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.PortScan, ips: []string{"192.0.2.77"}}},
	"not meant: our gateway": {mailOf("Jane <jane@victim.example>", "Spam", "",
		"Spam from 192.0.2.25 hit our users all night.\r\n\r\nJane Doe\r\nSecurity team, Victim Inc.\r\nOur mail gateway: 203.0.113.25\r\n"),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.Spam, ips: []string{"192.0.2.25"}}},

	// Legal requests in plain words, in several languages: always the legal track.
	"legal: plain English": {mailOf("Officer <d.smith@sheriff.example>", "Request", "",
		"Please preserve all records associated with 192.0.2.10 for 90 days. Do not notify the subscriber of this request."),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.LegalRequest, ips: []string{"192.0.2.10"}}},
	"legal: French": {mailOf("Gendarmerie <cyber@gendarmerie.example>", "Demande", "",
		"Dans le cadre d'une enquête judiciaire, merci de conserver les données de connexion de l'adresse 192.0.2.10 et de ne pas informer le client."),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.LegalRequest, ips: []string{"192.0.2.10"}}},
	"legal: German": {mailOf("Polizei <k3@polizei.example>", "Anfrage", "",
		"Wir bitten Sie, die Verkehrsdaten der IP-Adresse 192.0.2.10 zu sichern. Bitte informieren Sie den Kunden nicht."),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.LegalRequest, ips: []string{"192.0.2.10"}}},
	"legal: Spanish": {mailOf("Policía <delitos@policia.example>", "Solicitud", "",
		"En el marco de una investigación policial, le rogamos conservar los registros de la dirección IP 192.0.2.10 y no informe al cliente."),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.LegalRequest, ips: []string{"192.0.2.10"}}},
	"legal: Italian": {mailOf("Polizia Postale <cnaipic@polizia.example>", "Richiesta", "",
		"Per un'indagine in corso vi chiediamo di conservare i dati relativi all'indirizzo IP 192.0.2.10 e di non informare il cliente."),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.LegalRequest, ips: []string{"192.0.2.10"}}},

	// Phone numbers in any written format, the region from the context.
	"phones: US carrier, national format": {mailOf("Carrier Compliance <compliance@carrier.example>", "10DLC campaign complaint", "",
		"Subscribers report unsolicited text messages from +1 (646) 555-0148 and (312) 555-0199 sent through a 10DLC campaign; sender ID SHOPNEWS."),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.CarrierNotice, phones: []string{"+16465550148", "+13125550199"}}},
	"phones: carrier compliance notice that never says SMS": {mailOf("Carrier Compliance <compliance@carrier.example>", "Compliance notice - campaign CXYZ123", "",
		"Campaign CXYZ123 (brand BABC456) sending from +1 (646) 555-0148 violates the CTIA Messaging Principles: messages lack opt-out language. Remediate within 5 business days."),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.CarrierNotice, phones: []string{"+16465550148"}}},
	"phones: UK reporter, national format": {mailOf("Jane <jane@provider.co.uk>", "Nuisance calls", "",
		"I keep getting robocalls from 020 7946 0018 claiming to be my bank, several a day since Monday."),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.Robocall, phones: []string{"+442079460018"}}},
}

// TestMessagingFamilies: complaints about texts and calls, each category written the ways
// several kinds of reporter write it (a person, a carrier, a 7726 service, a bank's fraud team),
// land in the messaging track's categories — never in e-mail spam, never in "other".
func TestMessagingFamilies(t *testing.T) {
	p := parser()
	for name, tc := range messagingFamilies {
		t.Run(name, func(t *testing.T) { check(t, p.Parse(tc.raw), tc.want) })
	}
}

var messagingFamilies = map[string]struct {
	raw  []byte
	want expect
}{
	// Unsolicited texts.
	"sms-spam: a person, international number": {mailOf("Ann <ann@home.example>", "Spam texts", "",
		"I get promotional text messages from +44 7700 900456 every morning. Please look into it."),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.SMSSpam, phones: []string{"+447700900456"}}},
	"sms-spam: a 7726 service's forward": {mailOf("Spam Reporting Service <reports@7726.example>", "Spam SMS forwarded to 7726", "",
		"A mobile subscriber forwarded the following SMS to 7726.\nOriginating number: +44 7700 900789\nMessage: Cheap loans today, reply YES for details"),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.SMSSpam, phones: []string{"+447700900789"}}},
	"sms-spam: a short code in German": {mailOf("Max <max@web.example>", "SMS Werbung", "",
		"Seit Tagen bekomme ich Werbe-SMS vom Absender +49 1512 3456789. Bitte unterbinden Sie das."),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.SMSSpam, phones: []string{"+4915123456789"}}},
	// Smishing.
	"smishing: a bank's fraud team, sender ID inline": {mailOf("Fraud Desk <fraud@bank.example>", "Fraudulent SMS campaign", "",
		"Our customers receive texts with alphanumeric sender ID SECUREBNK asking them to verify your account at a fake login page."),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.Smishing}},
	"smishing: a person, parcel fee": {mailOf("Tom <tom@home.example>", "scam text", "",
		"Got a text from +1 (415) 555-0133 saying my package is held until I pay a redelivery fee at a link."),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.Smishing, phones: []string{"+14155550133"}}},
	"smishing: a CERT names it phishing": {mailOf("CERT <cert@cert.example>", "Phishing via SMS", "",
		"Phishing SMS messages impersonating a tax authority are sent from +33 6 12 34 56 78; victims are sent to a credential harvesting site."),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.Smishing, phones: []string{"+33612345678"}}},
	// Opt-outs not honoured.
	"opt-out: replied STOP, still texted": {mailOf("Lee <lee@home.example>", "Texts will not stop", "",
		"I texted STOP to +1 646 555 0100 on Monday and they are still sending me texts."),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.OptOut, phones: []string{"+16465550100"}}},
	"opt-out: unsubscribe ignored": {mailOf("Sue <sue@mail.example>", "SMS after unsubscribing", "",
		"I unsubscribed from the SMS list of +44 7700 900321 two weeks ago and I keep getting messages."),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.OptOut, phones: []string{"+447700900321"}}},
	"opt-out: a synonym (CANCEL)": {mailOf("Raj <raj@home.example>", "texts", "",
		"Replied CANCEL to short code 55123 twice, the texts go on."),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.OptOut}},
	// No consent.
	"consent: never signed up": {mailOf("Kim <kim@home.example>", "Who gave them my number", "",
		"I never signed up for anything but +1 212 555 0111 texts me offers. How did they get my number?"),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.Consent, phones: []string{"+12125550111"}}},
	"consent: without consent, SMS": {mailOf("Ola <ola@post.example>", "SMS without consent", "",
		"The sender SHOPNOW sends me SMS without my consent."),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.Consent}},
	// A carrier's compliance notice.
	"carrier-notice: campaign audit": {mailOf("Messaging Compliance <compliance@carrier.example>", "Campaign audit result", "",
		"Our audit of campaign CK3J9QX found the registered use case does not match the traffic from +1 (312) 555-0177. Provide opt-in records within 5 business days."),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.CarrierNotice, phones: []string{"+13125550177"}}},
	"carrier-notice: toll-free verification": {mailOf("Toll-Free Ops <tf@carrier.example>", "Toll-free number flagged", "",
		"Traffic from toll-free number +1 833 555 0199 is not compliant with toll-free verification: messages without opt-out language."),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.CarrierNotice, phones: []string{"+18335550199"}}},
	// Calls.
	"robocall: car warranty": {mailOf("Pat <pat@home.example>", "Calls", "",
		"Automated calls from +1 202 555 0147 about my car warranty, five a day."),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.Robocall, phones: []string{"+12025550147"}}},
	"robocall: vishing in French": {mailOf("Luc <luc@maison.example>", "Appels frauduleux", "",
		"Je reçois des appels frauduleux du +33 1 23 45 67 89 qui se font passer pour ma banque."),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.Robocall, phones: []string{"+33123456789"}}},
	// More reporters' shapes: other languages, carriers' own notices, 7726 services, WhatsApp,
	// opt-outs by keyword to a short code, scams by parcel, toll and refund.
	"more: de sms spam": {mailOf("Max <max@web.de>", "Spam-SMS", "", "Ich erhalte ständig Werbe-SMS von der Nummer 01512 3456789. Ich habe nie zugestimmt."),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.Consent}},
	"more: fr sms spam": {mailOf("Luc <luc@orange.fr>", "SMS indésirables", "", "Je reçois des SMS publicitaires du 06 12 34 56 78 tous les jours."),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.SMSSpam}},
	"more: es sms": {mailOf("Ana <ana@correo.es>", "SMS no deseados", "", "Recibo mensajes de texto de spam desde el +34 612 345 678."),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.SMSSpam}},
	"more: tmobile coc": {mailOf("T-Mobile Messaging Compliance <compliance@t-mobile.example>", "Code of Conduct violation - 10DLC", "", "T-Mobile has identified a violation of the T-Mobile Code of Conduct on campaign CAB12CD sending from +1 415 555 0123 (SHAFT content). Remediate within 3 business days or traffic will be blocked."),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.CarrierNotice}},
	"more: verizon": {mailOf("Verizon Wireless <messaging.compliance@vzw.example>", "Messaging compliance notice", "", "Verizon received subscriber complaints about traffic from short code 82345 that lacks an opt-out mechanism. Please respond within 5 business days."),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.CarrierNotice}},
	"more: gsma srs": {mailOf("Spam Reporting Service <srs@gsma.example>", "SRS report", "", "Spam message reported by a subscriber via 7726. Sender: +447700900555. Content: Claim your refund now http://refund.example"),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.Smishing}},
	"more: whatsapp": {mailOf("Ola <ola@mail.example>", "WhatsApp spam", "", "I get WhatsApp messages from +48 512 345 678 advertising crypto investments every day."),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.SMSSpam}},
	"more: robocall es": {mailOf("Jose <jose@correo.es>", "Llamadas", "", "Recibo llamadas automáticas del +34 912 345 678 varias veces al día."),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.Robocall}},
	"more: vishing bank": {mailOf("Fraud <fraud@bank.example>", "Vishing campaign", "", "Customers report vishing calls from +1 (646) 555-0177 impersonating our fraud department."),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.Robocall}},
	"more: stop en": {mailOf("Kim <kim@mail.example>", "Unsubscribe ignored", "", "I texted UNSUBSCRIBE to 55123 twice and they keep texting me."),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.OptOut}},
	"more: stop word end": {mailOf("Kim <kim@mail.example>", "texts", "", "I replied END to +1 212 555 0100 last week. Still getting texts."),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.OptOut}},
	"more: smishing toll": {mailOf("Pat <pat@mail.example>", "toll scam text", "", "Got a text from +1 (213) 555-0199 saying I owe unpaid tolls with a link to pay."),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.Smishing}},
	"more: smishing de": {mailOf("Eva <eva@web.de>", "Betrugs-SMS", "", "Eine SMS von +49 1523 4567890 behauptet, mein Paket werde zurückgehalten, und enthält einen Link."),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.Smishing}},
	"more: consent purchased": {mailOf("Lee <lee@mail.example>", "SMS marketing", "", "This company texts me from +1 305 555 0111. I never gave them my number."),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.Consent}},
	// Not messaging: an e-mail spam complaint with the reporter's phone number stays e-mail spam.
	"not messaging: mail spam with a phone in the signature": {mailOf("Ann <ann@corp.example>", "Spam from your network", "",
		"We received spam from 192.0.2.44 at 2026-12-06 10:00 UTC.\n-- \nAnn, Postmaster, +44 20 7946 0000"),
		expect{kind: KindReport, format: FormatFreeform, category: abuse.Spam, ips: []string{"192.0.2.44"}}},
}

// TestOpaqueSignedSMIME: a CERT's notice signed with S/MIME "opaque" (the message inside the
// signature, application/pkcs7-mime) is read like the same notice unsigned.
func TestOpaqueSignedSMIME(t *testing.T) {
	inner := "Content-Type: text/plain; charset=utf-8\r\n\r\nDear colleagues, the host 192.0.2.10 in your network is infected (Mirai) and contacted our sinkhole at 2026-12-06 23:10 UTC.\r\n"
	der := signedData(t, []byte(inner))
	raw := fmt.Appendf(nil, "From: CERT-XX <cert@cert.example>\r\nTo: abuse@provider.example\r\nSubject: [CERT-XX #12345] Infected host\r\n"+
		"Message-ID: <smime-1@cert.example>\r\nDate: Mon, 7 Dec 2026 08:00:00 +0000\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m\r\nContent-Transfer-Encoding: base64\r\n"+
		"Content-Disposition: attachment; filename=smime.p7m\r\n\r\n%s\r\n", base64.StdEncoding.EncodeToString(der))
	check(t, parser().Parse(raw), expect{kind: KindReport, format: FormatFreeform, category: abuse.Infected, ips: []string{"192.0.2.10"}, reporter: "cert@cert.example"})
}

// signedData builds a CMS SignedData (RFC 5652) around content, with an empty signature: what
// the parser reads of it is the structure.
func signedData(t *testing.T, content []byte) []byte {
	t.Helper()
	der, err := signedDER(content)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func signedDER(content []byte) ([]byte, error) {
	type encap struct {
		EContentType asn1.ObjectIdentifier
		EContent     []byte `asn1:"explicit,tag:0"`
	}
	type signed struct {
		Version          int
		DigestAlgorithms []asn1.RawValue `asn1:"set"`
		EncapContentInfo encap
		SignerInfos      []asn1.RawValue `asn1:"set"`
	}
	sd, err := asn1.Marshal(signed{Version: 1, DigestAlgorithms: []asn1.RawValue{}, EncapContentInfo: encap{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}, content}, SignerInfos: []asn1.RawValue{}})
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue // [0] EXPLICIT, written out
	}{oidSignedData, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: sd}})
}
