package reports

import (
	"regexp"

	"abusedesk/domain/abuse"
)

// Messaging abuse: a complaint about texts or calls that names the numbers or sender IDs they
// came from is sorted into the messaging track's categories, whatever its words would make of
// an e-mail ("spam" from a number is unsolicited texts, not bulk mail).

// reVoice says a complaint is about calls; reTexts that it is about texts. A complaint about
// calls and not about texts is a robocall complaint.
var (
	reVoice = regexp.MustCompile(`(?i)(robo-?call|\bvishing\b|\b(?:phone |voice )?calls?\b|\bcalled (?:me|us|my)\b|\bcalling\b|voice ?mail|pre-?recorded|\bringing\b|Anruf\w*|\bappels?\b|llamad\w+|chamad\w+|chiamat\w+|oproep\w*|połączen\w*|звон\w*|дзвін\w*)`)
	reTexts = regexp.MustCompile(`(?i)(\bSMS\b|\bMMS\b|\bRCS\b|\bA2P\b|\b10DLC\b|text messages?|\btext(?:s|ing|ed)?\b|sender ?id|short ?code|\b7726\b|(?-i:\bSTOP\b)|whatsapp|\bsmishing\b)`)
)

// messagingRules sort a complaint about texts into a category; the first that matches wins.
// A carrier's compliance notice first (it names opt-outs and consent among its findings), then
// fraud, then an opt-out not honoured (a STOP or its synonyms), then texts sent without
// consent; unsolicited texts are the rest.
var messagingRules = []textRule{
	{abuse.CarrierNotice, regexp.MustCompile(`(?i)(\b10DLC\b|\bCTIA\b|campaign registry|\bTCR\b|messaging principles|\bcompliance (?:notice|review|violation|audit|team|department)|\bnon-?complian(?:ce|t)\b|\bnot? compl(?:y|iant) with\b|\bcarrier (?:audit|violation|notice|complaint)|toll[- ]free verification|\bshort ?code (?:audit|violation)|` + campaignNamed + `\b|registered use[- ]case)`)},
	{abuse.Smishing, regexp.MustCompile(`(?i)(\bsmishing\b|\bphish\w*|\bcredentials?\b|fake (?:login|bank|delivery|parcel|package|toll|link|website|site)|verify your (?:account|identity|payment|details)|(?:account|card) (?:is |has been |was )?(?:suspended|locked|blocked|on hold)|unpaid (?:toll|parcel|delivery|fee|invoice)|(?:parcel|package|delivery|customs|toll|redelivery) fee|impersonat\w+|pretend\w* to be|\bfraud\w*|\bscam\w*|\b(?:claim|collect) (?:your|a|the) (?:refund|prize|reward|gift|parcel|package)|\btax refund\b|\blink to (?:pay|verify|confirm|claim|update|unlock)|Paket\w* (?:wird |werde )?(?:zurückgehalten|festgehalten)|colis (?:en attente|bloqué)|paquete (?:retenido|pendiente)|hameçonnage|Betrug\w*|estafa|fraude|truffa|oplichting|oszust\w*|мошенни\w*|шахра\w*)`)},
	{abuse.OptOut, regexp.MustCompile(`(?i)(\b(?:replied|reply|replying|responded|respond|texted|sent|send|typed|type)\s+(?:back\s+|with\s+)?["'“”‘’]?(?:STOP|STOP ?ALL|UNSUBSCRIBE|CANCEL|END|QUIT|REVOKE|OPT[ -]?OUT)\b|\bopt(?:ed|ing|s)?[- ]?out\b|\bunsubscrib\w*|\basked (?:them |it |the sender )?(?:to stop|to be removed)|\bSTOP (?:keyword|request|message)s?\b|abgemeldet|désinscri\w*|darme de baja|me di de baja|cancelé la suscripción)`)},
	{abuse.Consent, regexp.MustCompile(`(?i)(\bnever (?:signed up|opted in|subscribed|consented|agreed|gave (?:them |you |it )?(?:my )?(?:number|consent|permission))|\bwithout (?:my |their |our |any |prior )?(?:express )?(?:written )?(?:consent|permission)|\bdid(?:n't| not) (?:consent|opt[ -]?in|sign up|subscribe|agree|give (?:them |you )?(?:my )?(?:number|consent|permission))|\bno (?:prior )?(?:express )?(?:written )?consent\b|\bnot (?:a|their|your) customer\b|\bhow (?:did|do) they (?:get|have) my (?:number|phone)|\bpurchased (?:list|leads?)\b|\bopt-?in (?:evidence|proof|record)s?|nie zugestimmt|nie angemeldet|ohne (?:meine )?(?:Einwilligung|Zustimmung)|sans mon (?:consentement|accord)|jamais (?:donné|accepté|inscrit)|sin mi (?:consentimiento|permiso)|nunca (?:di|he dado) mi (?:número|consentimiento)|nunca me (?:suscribí|registré))`)},
}

// The IDs of sending identities above a number: a 10DLC campaign (C and six letters or digits,
// as The Campaign Registry writes them), a 10DLC brand (B and six), a messaging service (the
// platform's pool of senders), each after its label.
// campaignNamed is a 10DLC campaign ID after its label ("campaign CX7K2PQ", "Campaign ID:
// CX7K2PQ"), the ID in capitals whatever the label's case.
const campaignNamed = `(?i:\bcampaign(?:\s+ID)?\s*[:#=]?\s*)((?-i:C[A-Z0-9]{6}))`

var (
	reCampaignID = regexp.MustCompile(campaignNamed + `\b`)
	reBrandID    = regexp.MustCompile(`(?i:\bbrand(?:\s+ID)?\s*[:#=]?\s*)(B[A-Z0-9]{6})\b`)
	reServiceID  = regexp.MustCompile(`(?i:\bmessaging[ -]service(?:\s+(?:ID|SID))?\s*[:#=]?\s*)([A-Za-z0-9][A-Za-z0-9_-]{5,40})\b`)
)

// messagingIDsIn finds the campaigns, brands and messaging services s names, whatever it is
// about.
func messagingIDsIn(s string) (campaigns, brands, services []string) {
	for _, m := range reCampaignID.FindAllStringSubmatch(s, maxFound) {
		campaigns = appendUnique(campaigns, m[1])
	}
	for _, m := range reBrandID.FindAllStringSubmatch(s, maxFound) {
		brands = appendUnique(brands, m[1])
	}
	for _, m := range reServiceID.FindAllStringSubmatch(s, maxFound) {
		services = appendUnique(services, m[1])
	}
	return campaigns, brands, services
}

// textSenders reads into r the sending identities a complaint about texts or calls names (s
// its subject and body, from its writer, whose domain may say the country of national
// numbers), and says whether it named any; nothing when s is not about texts or calls.
func textSenders(r *Report, s, from string) bool {
	if !reSMSContext.MatchString(s) {
		return false
	}
	r.Phones, r.SenderIDs = phonesIn(s, phoneRegion(from, s))
	r.Campaigns, r.Brands, r.Services = messagingIDsIn(s)
	return r.namesSenders()
}

// messagingCategory is the messaging category of a complaint about texts or calls (s its
// subject and body): robocall for calls, else the first of messagingRules that matches, else
// unsolicited texts — and whether its words said so (false for the rest, unless the e-mail
// words had found spam). It keeps a legal request, a hotline notice and a customer's plea for
// help as they are: those go to their own tracks whatever the medium.
func messagingCategory(s string, was abuse.Category) (abuse.Category, bool) {
	switch was {
	case abuse.LegalRequest, abuse.CSAM, abuse.Deliverability:
		return was, true
	}
	if reVoice.MatchString(s) && !reTexts.MatchString(s) {
		return abuse.Robocall, true
	}
	for _, r := range messagingRules {
		if r.words.MatchString(s) {
			return r.category, true
		}
	}
	return abuse.SMSSpam, was == abuse.Spam
}
