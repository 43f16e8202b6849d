// Package abuse is abusedesk's shared vocabulary: the abuse categories reports are sorted
// into, the enforcement actions, and account tiers. Parsers, policy, workflows and integrations
// all speak it, so it depends on nothing.
package abuse

import (
	"slices"
	"strings"
)

// Category is what a report says the account did.
type Category string

// The categories a report is classified into. The first nine are abuse by a customer; the
// rest belong to the other tracks (see Track).
const (
	Spam        Category = "spam"
	Phishing    Category = "phishing"
	Malware     Category = "malware"
	PortScan    Category = "port-scan"
	DoS         Category = "dos"
	BruteForce  Category = "brute-force"
	Copyright   Category = "copyright"
	AuthFailure Category = "auth-failure"
	Other       Category = "other"

	// Advisory: a service on our network is vulnerable, misconfigured or open (Vulnerable),
	// infected and talking to a botnet or sinkhole (Infected), or taken over (Compromised).
	Vulnerable  Category = "vulnerable"
	Infected    Category = "infected"
	Compromised Category = "compromised"
	// Blocklist: an address of ours is on a reputation blocklist (a DNSBL, a feed's listing):
	// advise the customer how to find the cause and ask for delisting, re-check until it is off.
	Blocklist Category = "blocklist"
	// Legal: a request from law enforcement or a court (preservation, subpoena, data request,
	// order), and a CSAM hotline notice.
	LegalRequest Category = "legal-request"
	CSAM         Category = "csam"
	// Customer: our own customer asks for help because their mail is blocked or listed.
	Deliverability Category = "deliverability"

	// Messaging: a customer's numbers, sender IDs or campaigns harm people by text or call.
	// SMSSpam is unsolicited texts (a 7726 forward among them), Smishing texts that phish,
	// OptOut a STOP (or its synonyms) not honoured, Consent texts sent without the recipient's
	// consent, CarrierNotice a carrier's compliance notice (the CTIA's principles, 10DLC), and
	// Robocall unwanted or fraudulent calls (vishing).
	SMSSpam       Category = "sms-spam"
	Smishing      Category = "smishing"
	OptOut        Category = "opt-out"
	Consent       Category = "consent"
	CarrierNotice Category = "carrier-notice"
	Robocall      Category = "robocall"
)

// Categories lists every category in a fixed order.
var Categories = []Category{Spam, Phishing, Malware, PortScan, DoS, BruteForce, Copyright, AuthFailure, Other,
	Vulnerable, Infected, Compromised, Blocklist, LegalRequest, CSAM, Deliverability,
	SMSSpam, Smishing, OptOut, Consent, CarrierNotice, Robocall}

// Track is what kind of matter a report is, and so which lifecycle handles it.
type Track string

// Tracks.
const (
	// TrackAbuse: our customer harms others; notice, wait, escalate, enforce.
	TrackAbuse Track = "abuse"
	// TrackAdvisory: a vulnerable, open or infected service on our network; advise and re-check.
	TrackAdvisory Track = "advisory"
	// TrackLegal: law enforcement, courts and hotlines; confidential, never a word to the customer.
	TrackLegal Track = "legal"
	// TrackCustomer: our own customer asks for help; support, no enforcement.
	TrackCustomer Track = "customer"
	// TrackMessaging: our customer's texts or calls harm people; notice, wait, escalate,
	// enforce, as abuse, on numbers, senders and campaigns.
	TrackMessaging Track = "messaging"
)

// Tracks lists the tracks.
var Tracks = []Track{TrackAbuse, TrackAdvisory, TrackLegal, TrackCustomer, TrackMessaging}

// Track is the track a category belongs to.
func (c Category) Track() Track {
	switch c {
	case Vulnerable, Infected, Compromised, Blocklist:
		return TrackAdvisory
	case LegalRequest, CSAM:
		return TrackLegal
	case Deliverability:
		return TrackCustomer
	case SMSSpam, Smishing, OptOut, Consent, CarrierNotice, Robocall:
		return TrackMessaging
	default:
		return TrackAbuse
	}
}

// Categories lists the categories on track t.
func (t Track) Categories() []Category {
	var out []Category
	for _, c := range Categories {
		if c.Track() == t {
			out = append(out, c)
		}
	}
	return out
}

// Valid reports whether c is one of Categories.
func (c Category) Valid() bool { return slices.Contains(Categories, c) }

// Title is the category as a person reads it in a notice.
func (c Category) Title() string {
	switch c {
	case Spam:
		return "unsolicited bulk email (spam)"
	case Phishing:
		return "phishing"
	case Malware:
		return "malware distribution"
	case PortScan:
		return "network scanning"
	case DoS:
		return "denial-of-service traffic"
	case BruteForce:
		return "login brute-forcing"
	case Copyright:
		return "copyright infringement"
	case AuthFailure:
		return "email authentication failures"
	case Vulnerable:
		return "a vulnerable or openly reachable service"
	case Infected:
		return "an infected system"
	case Compromised:
		return "a compromised system or website"
	case Blocklist:
		return "an address on a reputation blocklist"
	case LegalRequest:
		return "a legal request"
	case CSAM:
		return "child sexual abuse material"
	case Deliverability:
		return "blocked or listed mail (deliverability)"
	case SMSSpam:
		return "unsolicited text messages (SMS spam)"
	case Smishing:
		return "fraudulent text messages (smishing)"
	case OptOut:
		return "opt-out requests not honoured (STOP)"
	case Consent:
		return "text messages sent without consent"
	case CarrierNotice:
		return "messaging that breaks a carrier's compliance rules"
	case Robocall:
		return "unwanted or fraudulent calls (robocalls, vishing)"
	default:
		return "abuse"
	}
}

// ActionType is what the enforcement API does to an account.
type ActionType string

// Enforcement actions. ActionNone escalates to people without touching the account;
// ActionTakedown removes one reported resource (a URL or hosted object, the action's resource
// scope) and leaves the rest of the account alone.
const (
	ActionNone           ActionType = "none"
	ActionTakedown       ActionType = "takedown"
	ActionThrottle       ActionType = "throttle"
	ActionSuspendSending ActionType = "suspend_sending"
	ActionSuspendAccount ActionType = "suspend_account"
)

// ActionTypes lists the actions in increasing severity.
var ActionTypes = []ActionType{ActionNone, ActionTakedown, ActionThrottle, ActionSuspendSending, ActionSuspendAccount}

// Valid reports whether a is one of ActionTypes.
func (a ActionType) Valid() bool { return slices.Contains(ActionTypes, a) }

// Describe is the action as a customer reads it.
func (a ActionType) Describe(level int) string {
	switch a {
	case ActionThrottle:
		switch level {
		case 1:
			return "outbound traffic throttled (level 1: reduced rate)"
		case 2:
			return "outbound traffic throttled (level 2: strongly reduced rate)"
		default:
			return "outbound traffic throttled (level 3: minimal rate)"
		}
	case ActionTakedown:
		return "the reported content taken down (that resource only; the rest of the account is untouched)"
	case ActionSuspendSending:
		return "outbound email sending suspended"
	case ActionSuspendAccount:
		return "account suspended"
	default:
		return "no automatic action; referred to the abuse team"
	}
}

// DescribeOn is the action on a scope as a customer reads it ("outbound sending suspended on
// the campaign CX7K2PQ"); on the account (no scope), Describe.
func (a ActionType) DescribeOn(level int, s *Scope) string {
	if s == nil {
		return a.Describe(level)
	}
	if a == ActionSuspendSending && s.Kind != ScopeResource {
		return "sending suspended on " + s.String() // a number, sender or campaign, not e-mail
	}
	return a.Describe(level) + " on " + s.String()
}

// Tiers of customer accounts. Strategic accounts always need a lead's approval to enforce.
const (
	TierStandard  = "standard"
	TierStrategic = "strategic"
)

// Severity of a report or a case, in increasing order.
type Severity int

// Severities.
const (
	SeverityLow Severity = iota + 1
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

// String names the severity.
func (s Severity) String() string {
	switch s {
	case SeverityLow:
		return "low"
	case SeverityMedium:
		return "medium"
	case SeverityHigh:
		return "high"
	case SeverityCritical:
		return "critical"
	default:
		return "unknown"
	}
}

// DefaultSeverity is a category's severity when a report says nothing more.
func (c Category) DefaultSeverity() Severity {
	switch c {
	case CSAM:
		return SeverityCritical
	case Phishing, Malware, DoS, Infected, Compromised, LegalRequest, Smishing, CarrierNotice:
		return SeverityHigh
	case Vulnerable:
		return SeverityMedium
	case Spam, BruteForce, PortScan, Copyright, SMSSpam, OptOut, Consent, Robocall:
		return SeverityMedium
	default:
		return SeverityLow
	}
}

// InDomain says whether host is domain or a name below it ("mail.bank.example" is in
// "bank.example"), ignoring case and a trailing dot. An empty domain holds nothing.
func InDomain(host, domain string) bool {
	host = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(host), "."))
	domain = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(domain), "."))
	return domain != "" && (host == domain || strings.HasSuffix(host, "."+domain))
}

// TrackRules say what a track's cases are, in one row per track: the desk reads them wherever
// a track matters, so a new track is a row here (and the lifecycle that opens its cases).
type TrackRules struct {
	// Violation: the customer breached the terms — a notice with a deadline, escalation,
	// enforcement, an appeal, a fix that is verified.
	Violation bool
	// Confidential: no customer hears of the case; it stays out of aggregates, the work queue,
	// statements of reasons and public answers, and only the legal role sees it.
	Confidential bool
	// Advice: the customer is advised about a service and it is checked again; never enforced.
	Advice bool
	// Support: the customer asked for help and is answered; never enforced, no notice.
	Support bool
}

// trackRules are the rows of TrackRules.
var trackRules = map[Track]TrackRules{
	TrackAbuse:    {Violation: true},
	TrackAdvisory: {Advice: true},
	TrackLegal:    {Confidential: true},
	TrackCustomer: {Support: true},
	// Messaging abuse is a violation like the rest of abuse: its own track for its subjects
	// (numbers, sender IDs, campaigns), its evidence and its reporters (carriers).
	TrackMessaging: {Violation: true},
}

// Rules are what the track's cases are (none for an unknown track).
func (t Track) Rules() TrackRules { return trackRules[t] }

// Violation says the track's cases are breaches of the terms (see TrackRules).
func (t Track) Violation() bool { return trackRules[t].Violation }

// Confidential says no customer may hear of the track's cases (see TrackRules).
func (t Track) Confidential() bool { return trackRules[t].Confidential }

// Confidential says no customer may hear of a case of the category.
func (c Category) Confidential() bool { return c.Track().Confidential() }

// ConfidentialTracks are the tracks whose cases no customer may hear of.
func ConfidentialTracks() []Track {
	var out []Track
	for _, t := range Tracks {
		if t.Confidential() {
			out = append(out, t)
		}
	}
	return out
}

// ConfidentialCategories are the categories of the confidential tracks.
func ConfidentialCategories() []Category {
	var out []Category
	for _, c := range Categories {
		if c.Confidential() {
			out = append(out, c)
		}
	}
	return out
}
