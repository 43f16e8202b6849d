// Package ticket is the vocabulary of the ticketing system (Zendesk) that the activities, the
// Zendesk integration and provisioning share: tickets, comments, the case fields the bot keeps
// filled, and the tags it sets. It depends on nothing.
package ticket

// Case field keys the bot keeps filled on every case ticket. The Zendesk integration maps them
// to the account's custom fields (created by `desk zendesk provision`), and the agent macros'
// text uses them.
const (
	FieldCaseID      = "case_id"
	FieldCaseNumber  = "case_number"
	FieldStatus      = "case_status"
	FieldCategory    = "case_category"
	FieldAccount     = "case_account"
	FieldDeadline    = "case_deadline"
	FieldReportCount = "case_report_count"
	FieldAction      = "case_action"
	FieldAppealUntil = "case_appeal_until"
	// FieldTeam is set by the agent before the hand-off macro: the team it goes to.
	FieldTeam = "case_handoff_team"
)

// CaseFields lists the case field keys in the order provisioning creates them.
var CaseFields = []string{FieldCaseID, FieldCaseNumber, FieldStatus, FieldCategory, FieldAccount,
	FieldDeadline, FieldReportCount, FieldAction, FieldAppealUntil, FieldTeam}

// Tags the bot sets.
const (
	// TagCase marks every case ticket.
	TagCase = "abusedesk"
	// TagReporter marks a ticket that tells a reporter the outcome.
	TagReporter = "abusedesk_reporter_ack"
	// TagNeedsTriage marks the internal ticket of a case that waits for triage.
	TagNeedsTriage = "abusedesk_needs_triage"
	// TagLegal marks a legal-track ticket (restricted; never a public comment from the bot).
	TagLegal = "abusedesk_legal"
	// TagSupport marks a customer-track ticket (a customer asking for help).
	TagSupport = "abusedesk_support"
)

// EvidencePrefix begins the names of the raw reports the desk attaches to a case's ticket (the
// files a redaction removes).
const EvidencePrefix = "report-"

// Ticket is a ticket as the desk sees it.
type Ticket struct {
	ID     int64
	URL    string
	Status string
	Tags   []string
}

// Comment is a ticket comment: public ones are emailed to the requester.
type Comment struct {
	Body    string
	Public  bool
	Uploads []string
}

// New is a ticket to create, with its first comment.
type New struct {
	ExternalID     string
	Subject        string
	RequesterEmail string
	RequesterName  string
	Comment        Comment
	Status         string
	Tags           []string
	Fields         map[string]string
	// GroupID places the ticket in a group (0: the client's default, the desk's group).
	GroupID int64
	// Recipient is the support address the ticket's mail goes from ("": the default).
	Recipient string
}

// Update changes a ticket; empty parts are left alone.
type Update struct {
	Comment *Comment
	Status  string
	AddTags []string
	Fields  map[string]string
	// GroupID moves the ticket to another group (0: stays).
	GroupID int64
	// Assign, when set, makes this user the ticket's assignee (0: nobody).
	Assign *int64
}
