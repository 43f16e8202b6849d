package templates

import "time"

// The data of the texts intake and the inbound channels write (kinds intake_*; intake_notice_receipt is the notice form's receipt): the triage
// ticket, the "not our network" answer to a reporter, and notes on tickets.

// TriageData is what the triage ticket (intake_triage, intake_triage_subject) shows an agent.
type TriageData struct {
	Reason, From, Subject, Digest string
	// Parsed is what the parser read of the message's first report, if it read one.
	Parsed *ParsedReport
}

// ParsedReport is what a report names.
type ParsedReport struct {
	Format, Category            string
	IPs, Domains, URLs, Senders []string
	// Ranges and Phones are named only when the report has them.
	Ranges, Phones []string
}

// NotOursData is the answer to a reporter whose addresses belong to no customer
// (intake_not_ours, intake_not_ours_subject).
type NotOursData struct {
	ReportID  string
	Addresses []string
}

// LateMessageData is the note on a closed case's ticket when mail about it arrives
// (intake_late_message) or the customer comments on it (intake_late_comment).
type LateMessageData struct {
	// Kind is what arrived: a reply, an auto-reply, a bounce.
	Kind, CaseNumber, From, Subject, Excerpt string
}

// RefusedDecisionData is the note on a ticket when its case refused an agent's macro
// (intake_decision_refused).
type RefusedDecisionData struct {
	Decision, Reason string
}

// ReporterDriftData is the leads' alert when a reporter's reports stop parsing
// (intake_reporter_drift).
type ReporterDriftData struct {
	Reporter           string
	FailStreak, Parsed int
	LastError          string
	// DashboardURL is the reporters page, "" when there is no public URL.
	DashboardURL string
}

// NoticeReceiptData is the confirmation of receipt a notifier gets for a notice sent through
// the notice form (DSA Art. 16(4)): the reference, when, and what it names.
type NoticeReceiptData struct {
	Reference  string
	Name       string
	ReceivedAt time.Time
	Kind       string
	Locations  []string
	StatusURL  string
}
