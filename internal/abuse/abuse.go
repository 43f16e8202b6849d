// Package abuse is abusedesk's shared vocabulary: the abuse categories reports are sorted
// into, the enforcement actions, and account tiers. Parsers, policy, workflows and integrations
// all speak it, so it depends on nothing.
package abuse

import "slices"

// Category is what a report says the account did.
type Category string

// The categories a report is classified into.
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
)

// Categories lists every category in a fixed order.
var Categories = []Category{Spam, Phishing, Malware, PortScan, DoS, BruteForce, Copyright, AuthFailure, Other}

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
	default:
		return "abuse"
	}
}

// ActionType is what the enforcement API does to an account.
type ActionType string

// Enforcement actions. ActionNone escalates to people without touching the account.
const (
	ActionNone           ActionType = "none"
	ActionThrottle       ActionType = "throttle"
	ActionSuspendSending ActionType = "suspend_sending"
	ActionSuspendAccount ActionType = "suspend_account"
)

// ActionTypes lists the actions in increasing severity.
var ActionTypes = []ActionType{ActionNone, ActionThrottle, ActionSuspendSending, ActionSuspendAccount}

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
	case ActionSuspendSending:
		return "outbound email sending suspended"
	case ActionSuspendAccount:
		return "account suspended"
	default:
		return "no automatic action; referred to the abuse team"
	}
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
	case Phishing, Malware, DoS:
		return SeverityHigh
	case Spam, BruteForce, PortScan, Copyright:
		return SeverityMedium
	default:
		return SeverityLow
	}
}
