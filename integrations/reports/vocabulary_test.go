package reports

import (
	"os"
	"slices"
	"strings"
	"testing"

	"abusedesk/domain/abuse"
)

// TestReportTypesDoc: every example in docs/report-types.md maps to the track and category
// the document gives it, so the table people read is the table the parser runs.
func TestReportTypesDoc(t *testing.T) {
	b, err := os.ReadFile("../../docs/report-types.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	inTable := false
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "| example report type |") {
			inTable = true
			continue
		}
		if !inTable || !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), "|")
		if len(cells) != 3 {
			t.Fatalf("row %q: want three cells", line)
		}
		name := strings.Trim(strings.TrimSpace(cells[0]), "`")
		track, category := abuse.Track(strings.TrimSpace(cells[1])), abuse.Category(strings.TrimSpace(cells[2]))
		got, known := categoryOfType(name)
		if !known || got != category || got.Track() != track {
			t.Errorf("%s: %s/%s (known %v), the document says %s/%s", name, got.Track(), got, known, track, category)
		}
		rows++
	}
	if rows < 20 {
		t.Fatalf("only %d example rows read from the document", rows)
	}
}

// TestComplaintLanguages: a complaint is classified in each of the ten languages.
func TestComplaintLanguages(t *testing.T) {
	for _, tc := range []struct {
		text string
		want abuse.Category
	}{
		{"Your customer sends us spam every day.", abuse.Spam},
		{"Von dieser Adresse kommen ständig Anmeldeversuche auf unseren SSH-Server.", abuse.BruteForce},
		{"Ce serveur héberge une page d'hameçonnage qui imite notre banque.", abuse.Phishing},
		{"Recibimos correo no deseado desde su red.", abuse.Spam},
		{"O endereço está fazendo varredura de portas na nossa rede.", abuse.PortScan},
		{"Il server distribuisce software dannoso.", abuse.Malware},
		{"Deze host voert een poortscan uit op ons netwerk.", abuse.PortScan},
		{"Z tego adresu przychodzą próby logowania na nasz serwer.", abuse.BruteForce},
		{"С этого адреса идет DDoS на наш сайт, отказ в обслуживании.", abuse.DoS},
		{"З цієї адреси надходить фішинг від імені банку.", abuse.Phishing},
		{"Мы получаем спам с вашего сервера.", abuse.Spam},
		{"Das Material verletzt unser Urheberrecht.", abuse.Copyright},
		{"This is a preservation request under 18 U.S.C. 2703(f).", abuse.LegalRequest},
		{"Bitte beachten Sie das Auskunftsersuchen der Staatsanwaltschaft.", abuse.LegalRequest},
		{"The IWF found child sexual abuse material at this URL.", abuse.CSAM},
		{"Our mail is being blocked by Outlook, please help.", abuse.Deliverability},
		{"Unsere E-Mails werden seit gestern blockiert.", abuse.Deliverability},
		{"The host runs an open resolver.", abuse.Vulnerable},
		{"Your server is infected with a banking trojan? No: it is infected, it talks to our sinkhole.", abuse.Malware},
		{"The machine is infected and beacons to our sinkhole.", abuse.Infected},
		{"The website was defaced last night.", abuse.Compromised},
	} {
		got, _ := categoryOfText(tc.text)
		if got != tc.want {
			t.Errorf("%q: %s, want %s", tc.text, got, tc.want)
		}
	}
}

// TestComplaintAddresses: the sources of a complaint, told from victims, version numbers and
// private hops.
func TestComplaintAddresses(t *testing.T) {
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"My server 192.0.2.10 is flooded from 198.51.100.7.", []string{"198.51.100.7"}},
		{"Mein Server 192.0.2.10 wird von 198.51.100.7 angegriffen.", []string{"198.51.100.7"}},
		{"Notre serveur 192.0.2.10 est attaqué depuis 198.51.100.7.", []string{"198.51.100.7"}},
		{"Наш сервер 192.0.2.10 атакуют с адреса 198.51.100.7", []string{"198.51.100.7"}},
		{"Attack from 198.51.100.7 to 192.0.2.10 port 22.", []string{"198.51.100.7"}},
		{"Source: 198.51.100.7\nDestination: 192.0.2.10", []string{"198.51.100.7"}},
		{"198.51.100.7 is attacking 192.0.2.10 (our web server).", []string{"198.51.100.7"}},
		{"The scanner 198.51.100.7 runs nmap version 7.94.0.1 against us.", []string{"198.51.100.7"}},
		{"User agent Mozilla/5.0 Chrome/120.0.0.1 from 203.0.113.9", []string{"203.0.113.9"}},
		{"Spam from 203.0.113.9, relayed through 10.1.2.3 and 192.168.7.7.", []string{"203.0.113.9"}},
		{"Only an internal address is named: 10.17.18.40.", []string{"10.17.18.40"}},
		{"Our server 192.0.2.10 was hit.", []string{"192.0.2.10"}},
		{"Our new server has been hit from 203.0.113.9.", []string{"203.0.113.9"}},
	} {
		got, _ := complaintIPs(tc.text, textIPs(tc.text))
		if !slices.Equal(got, tc.want) {
			t.Errorf("%q: %v, want %v", tc.text, got, tc.want)
		}
	}
}

func TestNumbers(t *testing.T) {
	for _, tc := range []struct{ in, region, want string }{
		{"+44 7700 900123", "", "+447700900123"}, {"0044 7700 900123", "", "+447700900123"}, {"tel:+1-202-555-0100", "", "+12025550100"},
		{"+1 (646) 555-0148", "", "+16465550148"}, {"(312) 555-0199", "US", "+13125550199"}, {"020 7946 0018", "GB", "+442079460018"}, {"07700 900123", "GB", "+447700900123"}, // a reserved drama number, written with the trunk 0 at a possible length
		{"7700 900123", "GB", ""}, {"0123", "GB", ""}, {"01 2345", "GB", ""}, // no trunk prefix and not valid; too short
		{"07700 900123", "", ""}, // national, and no context says which country's
		{"+0123456789", "", ""}, {"+1234567", "", ""}, {"+1234567890123456", "", ""},
	} {
		if got := phoneE164(tc.in, tc.region); got != tc.want {
			t.Errorf("phoneE164(%q, %q) = %q, want %q", tc.in, tc.region, got, tc.want)
		}
	}
	phones, ids := textPhones("SMS spam received from +44 7700 900123 and tel:+1-202-555-0100.\nSender ID: ACMEBNK\nShort code: 84433\n", "")
	if !slices.Equal(phones, []string{"+12025550100", "+447700900123"}) || !slices.Equal(ids, []string{"ACMEBNK", "84433"}) {
		t.Errorf("phones %v, sender IDs %v", phones, ids)
	}
	phones, ids = textPhones("Our subscribers report text messages from +1 (646) 555-0148 and (312) 555-0199, from sender ID SHOPNEWS and short code 72345.", "US")
	if !slices.Equal(phones, []string{"+16465550148", "+13125550199"}) || !slices.Equal(ids, []string{"SHOPNEWS", "72345"}) {
		t.Errorf("written any way: phones %v, sender IDs %v", phones, ids)
	}
	if p, _ := textPhones("SMS spam received on 2026-12-06 21:00 UTC and 12/06/2026 10:15 from 192.0.2.10.", "US"); len(p) != 0 {
		t.Errorf("dates, times or an address read as phone numbers: %v", p)
	}
	// The words of someone who was texted: "texting", "texts", "replied STOP".
	for _, text := range []string{"I replied STOP three times to (312) 555-0199 and they keep texting me.",
		"Promo texts from +1 312 555 0199 every day.", "I sent \"STOP\" to +13125550199, no effect."} {
		if p, _ := textPhones(text, phoneRegion("jane@mail.example", text)); !slices.Equal(p, []string{"+13125550199"}) {
			t.Errorf("%q: phones %v, want +13125550199", text, p)
		}
	}
	if p, _ := textPhones("The text of the mail quotes +1 312 555 0199 in a signature-like block.", ""); len(p) != 0 {
		t.Errorf("\"text\" alone is no SMS complaint: %v", p)
	}
	if p, _ := textPhones("Regards, Jane, +44 20 7946 0000", "GB"); len(p) != 0 {
		t.Errorf("a number outside an SMS or call complaint was taken: %v", p)
	}
	for _, tc := range []struct{ reporter, text, want string }{
		{"jane@provider.co.uk", "spam texts", "GB"}, {"noc@telekom.de", "SMS", "DE"}, {"compliance@carrier.example", "a 10DLC campaign", "US"},
		{"someone@mail.example", "SMS spam", ""},
		// A number written the North American way, area code in brackets, is one of the plan's.
		{"someone@mail.example", "texts from (312) 555-0199", "US"}, {"a@b.example", "call (646)555 0148 now", "US"},
		{"a@b.example", "SMS from 0312 555 0199", ""},
	} {
		if got := phoneRegion(tc.reporter, tc.text); got != tc.want {
			t.Errorf("phoneRegion(%q, %q) = %q, want %q", tc.reporter, tc.text, got, tc.want)
		}
	}
	// A /32 (or /128) is one address written as a prefix: an address, not a range.
	text := "Listed: 192.0.2.64/26, 2001:db8:1::/48, 10.0.0.0/4, 198.51.100.7/32 and 2001:db8::7/128"
	if got := textRanges(text); !slices.Equal(got, []string{"192.0.2.64/26", "2001:db8:1::/48"}) {
		t.Errorf("ranges %v", got)
	}
	if inRangeNotation(text, "198.51.100.7") || inRangeNotation(text, "2001:db8::7") || !inRangeNotation(text, "192.0.2.64") {
		t.Error("a /32 or /128 read as a range, or a /26 as an address")
	}
}

// textPhones is what textSenders reads of numbers and sender IDs, with the region given:
// nothing when the text is not about SMS or calls.
func textPhones(s, region string) (phones, senderIDs []string) {
	if !reSMSContext.MatchString(s) {
		return nil, nil
	}
	return phonesIn(s, region)
}
