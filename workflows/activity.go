package workflows

import (
	"time"

	"abusedesk/domain/abuse"
	"abusedesk/domain/approval"
	"abusedesk/domain/policy"
)

// The activity contract of the Case and Appeal workflows: the activities' names, and one input
// and one result struct for each. The activities package implements them; the options the
// workflows call them with are in options.go.

// Activity names; the activities package registers methods with these names.
const (
	ActivityLoadAccount         = "LoadAccount"
	ActivityOpenCase            = "OpenCase"
	ActivityNotify              = "Notify"
	ActivityRequestApproval     = "RequestApproval"
	ActivityUpdateApproval      = "UpdateApproval"
	ActivityEnforce             = "Enforce"
	ActivityLiftAction          = "LiftAction"
	ActivityCloseCase           = "CloseCase"
	ActivityAcknowledgeReporter = "AcknowledgeReporters"
	ActivityPreviousIncident    = "PreviousIncident"
	ActivityOpenTriage          = "OpenTriage"
	ActivityForwardReports      = "ForwardReports"
	ActivityAlert               = "Alert"
	ActivityHoldEvidence        = "HoldEvidence"
	ActivityRecordEvents        = "RecordEvents"
	ActivityVerifyRemediation   = "VerifyRemediation"
	ActivityProbation           = "Probation"
	ActivityResolveDeciders     = "ResolveDeciders"
	ActivityResolveLegalTeam    = "ResolveLegalTeam"
	ActivityResolveDeskTeam     = "ResolveDeskTeam"
	ActivityRedactTicket        = "RedactTicket"
	ActivityAssignTicket        = "AssignTicket"
	ActivityMessagingRecords    = "MessagingRecords"
)

// MessagingRecordsInput asks the platform's records of one of an account's sending identities
// (a number, sender ID, campaign or messaging service) over a period.
type MessagingRecordsInput struct {
	AccountID string      `json:"account_id"`
	Identity  abuse.Scope `json:"identity"`
	Since     time.Time   `json:"since"`
	Until     time.Time   `json:"until"`
}

// ResolveLegalTeamInput asks who is on the legal team: the agents of the restricted legal
// group, as the ticketing system lists them now.
type ResolveLegalTeamInput struct{}

// ResolveLegalTeamResult is the legal team's agents (ticketing user IDs). A legal case keeps
// them and accepts a decision only from one of them.
type ResolveLegalTeamResult struct {
	Agents []string `json:"agents"`
}

// ResolveDecidersInput asks who may decide an approval: the Slack users named, and the members
// of the Slack user groups named, read from Slack itself.
type ResolveDecidersInput struct {
	Approvers approval.Approvers `json:"approvers"`
}

// ResolveDecidersResult is the Slack users who may decide, as Slack says now. The case keeps
// them and accepts an approval only from one of them: a decision's payload never says who may
// decide.
type ResolveDecidersResult struct {
	Users []string `json:"users"`
}

// ProbationInput asks whether an account is on probation after a reinstatement.
type ProbationInput struct {
	AccountID string `json:"account_id"`
}

// ProbationResult is the account's probation, when it is on one: the reinstatement's workflow
// and case, and when it ends.
type ProbationResult struct {
	On         bool      `json:"on"`
	WorkflowID string    `json:"workflow_id,omitempty"`
	CaseNumber string    `json:"case_number,omitempty"`
	Until      time.Time `json:"until,omitzero"`
}

// VerifyInput asks for the outside checks of a customer's fix: each URL fetched, each address
// looked up on each blocklist zone. Either list may be empty.
type VerifyInput struct {
	URLs       []string `json:"urls,omitempty"`
	Addresses  []string `json:"addresses,omitempty"`
	Blocklists []string `json:"blocklists,omitempty"`
}

// Check names, as in the policy (policy.CheckHTTP, CheckBlocklist, CheckFeed).
const (
	CheckHTTP      = policy.CheckHTTP
	CheckBlocklist = policy.CheckBlocklist
	CheckFeed      = policy.CheckFeed
)

// VerifyResult is what the checks found, one result per URL and per address and zone.
type VerifyResult struct {
	Results []CheckResult `json:"results"`
}

// CheckResult is one check of one subject: the check (policy.CheckHTTP, CheckBlocklist,
// CheckFeed), what it looked at, its verdict and what it saw.
type CheckResult struct {
	Check   string `json:"check"`
	Subject string `json:"subject"`
	Verdict string `json:"verdict"`
	Detail  string `json:"detail,omitempty"`
}

// Verdicts of a check: fixed, still there, or could not tell.
const (
	VerdictFixed   = "fixed"
	VerdictStill   = "still"
	VerdictUnknown = "unknown"
)

// HoldInput records a legal hold on a case's evidence.
type HoldInput struct {
	Key     string   `json:"key"`
	Digests []string `json:"digests"`
	Reason  string   `json:"reason"`
}

// OpenTriageInput opens (or finds, on a retry) an internal ticket of a case — nothing reaches
// the customer; the reporter of the first report is its requester: the triage ticket of a case
// that waits for triage, the restricted ticket of a legal matter, or the support ticket of a
// customer asking for help (Kind).
type OpenTriageInput struct {
	Kind       TicketKind `json:"kind,omitempty"`
	ExternalID string     `json:"external_id"`
	Requester  string     `json:"requester,omitempty"`
	Data       NoticeData `json:"data"`
	Evidence   []string   `json:"evidence,omitempty"`
}

// TicketKind says which internal ticket OpenTriage opens.
type TicketKind string

// Internal ticket kinds.
const (
	TicketTriage  TicketKind = ""        // the triage gate's ticket, in the desk's group
	TicketLegal   TicketKind = "legal"   // a legal matter, in the restricted legal group
	TicketSupport TicketKind = "support" // a customer asking for help, in the support group
)

// ForwardReportsInput moves a case's reports to the case of another account or category (an
// agent reclassified them). Step keys the move so a retry sends nothing twice.
type ForwardReportsInput struct {
	Step     string          `json:"step"`
	Account  string          `json:"account"`
	Category abuse.Category  `json:"category"`
	Reports  []ReportSummary `json:"reports"`
}

// RedactInput removes texts (and the desk's evidence files) from a ticket.
type RedactInput struct {
	Ticket TicketRef `json:"ticket"`
	Texts  []string  `json:"texts"`
}

// RedactResult says how many strings and files were removed.
type RedactResult struct {
	Removed int `json:"removed"`
}

// AlertInput posts a message to a team's channel: the leads' (""), or AlertChannelLegal.
type AlertInput struct {
	Step    string `json:"step"`
	Channel string `json:"channel,omitempty"`
	Text    string `json:"text"`
	// Page are the people the alert mentions, so Slack notifies them (the legal on-call).
	Page approval.Approvers `json:"page,omitzero"`
}

// AlertChannelLegal names the legal team's channel in AlertInput.
const AlertChannelLegal = "legal"

// PreviousIncidentInput asks for the last closed incident of a case (the same account and
// category).
type PreviousIncidentInput struct {
	CaseID string `json:"case_id"`
}

// PreviousIncidentResult is that incident's result, when there is one.
type PreviousIncidentResult struct {
	Found  bool       `json:"found"`
	Result CaseResult `json:"result,omitzero"`
}

// LoadAccountInput asks for an account by ID.
type LoadAccountInput struct {
	AccountID string `json:"account_id"`
}

// ReportDigest is what notices show of a case's reports.
type ReportDigest struct {
	Count     int             `json:"count"`
	FirstSeen time.Time       `json:"first_seen,omitzero"`
	LastSeen  time.Time       `json:"last_seen,omitzero"`
	Severity  string          `json:"severity"`
	Examples  []ReportSummary `json:"examples,omitempty"`
	Reporters int             `json:"reporters"`
}

// StatementReasons are the parts of a statement of reasons (DSA Art. 17(3)) that are neither
// the facts (the reports) nor the measure (the action): the clause or law the action rests on,
// whether automated means detected and decided it, and every redress route. Templates word
// them in the customer's language; templates.CheckStatement refuses a notice that leaves one out.
type StatementReasons struct {
	// Ground is the clause or the law; Law says it is the law, not the terms.
	Ground string `json:"ground"`
	Law    bool   `json:"law,omitempty"`
	// Detected: the reports were read and matched to the account by automated means (always,
	// for a report the parser read). Decided: the desk acted alone (a rule allowed it); false
	// when a person approved.
	Detected bool `json:"detected,omitempty"`
	Decided  bool `json:"decided,omitempty"`
	// Notices is how many third-party notices the facts rest on (0: our own initiative).
	Notices int `json:"notices"`
	// OutOfCourt and Judicial are the redress routes besides our own appeal.
	OutOfCourt string `json:"out_of_court"`
	Judicial   string `json:"judicial"`
}

// NoticeData is everything a notice, reminder or note template can show.
type NoticeData struct {
	CaseID        string         `json:"case_id"`
	Status        Status         `json:"status"`
	CaseNumber    string         `json:"case_number"`
	Account       abuse.Account  `json:"account"`
	Category      abuse.Category `json:"category"`
	CategoryTitle string         `json:"category_title"`
	Track         string         `json:"track"`
	Reports       ReportDigest   `json:"reports"`
	Deadline      time.Time      `json:"deadline,omitzero"`
	Window        time.Duration  `json:"window,omitempty"`
	Reminder      int            `json:"reminder,omitempty"`
	// Reasons is what a statement of reasons says besides the facts and the measure (DSA Art.
	// 17(3)): the ground, whether automated means decided, and the redress routes.
	Reasons StatementReasons `json:"reasons,omitzero"`
	// Action is the enforcement taken or proposed.
	Action        ActionView `json:"action"`
	AppealUntil   time.Time  `json:"appeal_until,omitzero"`
	AppealSLA     time.Time  `json:"appeal_sla,omitzero"`
	Decision      string     `json:"decision,omitempty"`
	DecidedBy     string     `json:"decided_by,omitempty"`
	Note          string     `json:"note,omitempty"`
	Outcome       Outcome    `json:"outcome,omitempty"`
	Reply         string     `json:"reply,omitempty"`
	ReplyFrom     string     `json:"reply_from,omitempty"`
	ApprovalNeeds string     `json:"approval_needs,omitempty"`
	// DiscloseReporters lets customer notices name the reporters and quote their reports
	// (policy disclose_reporters); otherwise they show when, what and the addresses only.
	DiscloseReporters bool `json:"disclose_reporters,omitempty"`
	// Delisting are the monitored blocklists and their delisting pages (a blocklist case's
	// advice is a checklist of them).
	Delisting []policy.Blocklist `json:"delisting,omitempty"`
	// Traffic is what the platform recorded of the sending identity a messaging case's reports
	// name (nil: none read).
	Traffic *abuse.Traffic `json:"traffic,omitempty"`
	// Relisted names the previous blocklist incident when this one is a relisting.
	Relisted *Relisting `json:"relisted,omitempty"`
	// TriageReason and TriageDue describe a wait for triage (internal notes only).
	TriageReason string    `json:"triage_reason,omitempty"`
	TriageDue    time.Time `json:"triage_due,omitzero"`
	// Remediation is the verification of a fix (note_remediation): the plan, the latest
	// checks, why the case reopened.
	Remediation *RemediationState `json:"remediation,omitempty"`
	// Reinstatement is a request to lift an action after the appeal window.
	Reinstatement *ReinstatementNotice `json:"reinstatement,omitempty"`
	// HandOffWork and HandOffMessage link a hand-off's ticket and Slack message (note_handoff).
	HandOffWork    string `json:"handoff_work,omitempty"`
	HandOffMessage string `json:"handoff_message,omitempty"`
	// Legal is a legal matter's state (legal notes, the authority's receipt and answer);
	// Authority the requester of its restricted ticket and AuthorityLocale the language of its
	// latest request, which the authority's messages are written in.
	Legal *LegalState `json:"legal,omitempty"`
	// Unverified: the requester is not a known contact of the account (customer track).
	Unverified      bool   `json:"unverified,omitempty"`
	Authority       string `json:"authority,omitempty"`
	AuthorityLocale string `json:"authority_locale,omitempty"`
}

// ReinstatementNotice is what reinstatement notices show: the request, when it is due, the
// decision, the probation.
type ReinstatementNotice struct {
	RequestedAt    time.Time     `json:"requested_at"`
	Due            time.Time     `json:"due"`
	Request        string        `json:"request,omitempty"`
	From           string        `json:"from,omitempty"`
	Decision       string        `json:"decision,omitempty"`
	Reviewer       string        `json:"reviewer,omitempty"`
	Note           string        `json:"note,omitempty"`
	Probation      time.Duration `json:"probation,omitempty"`
	ProbationUntil time.Time     `json:"probation_until,omitzero"`
	Breached       bool          `json:"breached,omitempty"`
}

// ActionView describes an enforcement action in a notice.
type ActionView struct {
	Type        abuse.ActionType `json:"type,omitempty"`
	Level       int              `json:"level,omitempty"`
	Description string           `json:"description,omitempty"`
	ID          string           `json:"id,omitempty"`
	Scope       *abuse.Scope     `json:"scope,omitempty"`
	AppliedAt   time.Time        `json:"applied_at,omitzero"`
	ExpiresAt   time.Time        `json:"expires_at,omitzero"`
}

// OpenCaseInput opens (or finds, on a retry) the case ticket, posts the evidence note and sends
// the violation notice.
type OpenCaseInput struct {
	ExternalID string     `json:"external_id"`
	Notice     NoticeData `json:"notice"`
	// Evidence lists digests of raw reports to attach to the ticket (a few at most).
	Evidence []string `json:"evidence,omitempty"`
	// NoticeKind and SubjectKind name the templates of the first message ("": the violation
	// notice and its subject; the advisory track sends advice).
	NoticeKind  string `json:"notice_kind,omitempty"`
	SubjectKind string `json:"subject_kind,omitempty"`
}

// OpenCaseResult is the ticket the case lives in.
type OpenCaseResult struct {
	Ticket       TicketRef `json:"ticket"`
	NoticeSentAt time.Time `json:"notice_sent_at"`
}

// Ticket statuses a notice may set (Zendesk's).
const (
	TicketOpen    = "open"
	TicketPending = "pending"
	TicketHold    = "hold"
	TicketSolved  = "solved"
)

// Notice kinds: each is a template (public ones go to the customer, note_* are internal).
const (
	NoticeViolation      = "notice"
	NoticeReminder       = "reminder"
	NoticeMoreInfo       = "more_info"
	NoticeExtended       = "extended"
	NoticeEnforced       = "enforced"
	NoticeAppealAck      = "appeal_ack"
	NoticeAppealGranted  = "appeal_granted"
	NoticeAppealDenied   = "appeal_denied"
	NoticeAppealLate     = "appeal_late"
	NoticeClosed         = "closed"
	NoticeReporterAck    = "reporter_ack"
	NoteEvidence         = "note_evidence"
	NoteDecision         = "note_decision"
	NoteEnforcement      = "note_enforcement"
	NoteEscalation       = "note_escalation"
	NoteReply            = "note_reply"
	NoteAppealReminder   = "note_appeal_reminder"
	NoteApprovalDecision = "note_approval"
	NoteTriage           = "note_triage"
	NoteTriageReminder   = "note_triage_reminder"
	// NoteTriageReports lists, on the triage ticket, the reports that arrived while it waits.
	NoteTriageReports = "note_triage_reports"
	NoteLegal         = "note_legal"
	NoteLegalReminder = "note_legal_reminder"
	NoteSupport       = "note_support"
	NoteRemediation   = "note_remediation"
	// A request for reinstatement after the appeal window: the acknowledgement, the decision
	// (public), and the internal notes (the request with its due time, reminders, a
	// re-offence during probation).
	NoticeReinstatementAck     = "reinstatement_ack"
	NoticeReinstatementGranted = "reinstatement_granted"
	NoticeReinstatementDenied  = "reinstatement_denied"
	NoteReinstatement          = "note_reinstatement"
	// NoteHandOff: a hand-off on the case's ticket and on the team's linked ticket, and what
	// the team answered.
	NoteHandOff          = "note_handoff"
	NoticeAdvisory       = "advisory"
	NoticeAdvisoryUpdate = "advisory_update"
	// To the authority that sent a legal request, on its restricted ticket (never to the
	// customer): the acknowledgement of receipt and the final answer. NoteLegalOrder is a
	// further request joining a matter; NoteLegalPreservation the preservation's reminder and
	// lapse.
	// NoticeSupportUnverified asks someone who wrote for help as a customer, from an address
	// the account does not know, to write from the account's own.
	NoticeSupportUnverified = "support_unverified"
	NoticeLegalReceipt      = "legal_receipt"
	NoticeLegalAnswer       = "legal_answer"
	NoteLegalOrder          = "note_legal_order"
	NoteLegalPreservation   = "note_legal_preservation"
)

// AuthorityNotices are the only public messages a legal ticket ever gets: to the authority
// that is its requester.
var AuthorityNotices = []string{NoticeLegalReceipt, NoticeLegalAnswer}

// NotifyInput posts one rendered message on the case ticket. Step keys the message: a step
// already posted (seen on a retry) is not posted again.
type NotifyInput struct {
	Ticket TicketRef `json:"ticket"`
	Step   string    `json:"step"`
	// Public is the customer-facing template kind ("" for none); Note the internal one.
	Public string     `json:"public,omitempty"`
	Note   string     `json:"note,omitempty"`
	Status string     `json:"status,omitempty"`
	Data   NoticeData `json:"data"`
}

// AssignTicketInput makes an agent (a ticketing user ID; "": nobody) the assignee of a case's
// ticket.
type AssignTicketInput struct {
	Ticket   TicketRef `json:"ticket"`
	Assignee string    `json:"assignee,omitempty"`
}

// NotifyResult says whether anything was posted (false when the step was already done).
type NotifyResult struct {
	Posted bool `json:"posted"`
}

// ApprovalRequest asks the leads to approve an escalation.
type ApprovalRequest struct {
	Step     string           `json:"step"`
	Data     NoticeData       `json:"data"`
	Ping     int              `json:"ping,omitempty"`
	Existing approval.Message `json:"existing,omitzero"`
	// Managers, when set, are asked instead of the leads: the request went up the chain.
	Managers approval.Approvers `json:"managers,omitzero"`
	// DashboardURL links the case page.
	Deadline time.Time `json:"deadline,omitzero"`
	// Legal asks in the legal channel: a legal matter's action (a CSAM takedown) is approved
	// by the legal team's approvers, where only they read.
	Legal bool `json:"legal,omitempty"`
}

// ApprovalOutcome rewrites an approval message to show the decision, without buttons.
type ApprovalOutcome struct {
	Message   approval.Message `json:"message"`
	Data      NoticeData       `json:"data"`
	Decision  string           `json:"decision"`
	DecidedBy string           `json:"decided_by,omitempty"`
	DecidedAt time.Time        `json:"decided_at"`
	Reason    string           `json:"reason,omitempty"`
}

// ApprovalUpdateResult is the (empty) result of UpdateApproval.
type ApprovalUpdateResult struct{}

// EnforceInput applies an action through the enforcement API. Key is the idempotency key:
// the same key never applies twice.
type EnforceInput struct {
	Key        string           `json:"key"`
	CaseID     string           `json:"case_id"`
	CaseNumber string           `json:"case_number"`
	AccountID  string           `json:"account_id"`
	Type       abuse.ActionType `json:"type"`
	Level      int              `json:"level,omitempty"`
	For        time.Duration    `json:"for,omitempty"`
	Reason     string           `json:"reason"`
	// Scope narrows the action to one phone number or sender ID of the account.
	Scope *abuse.Scope `json:"scope,omitempty"`
}

// ActionResult is an action's verified state.
type ActionResult struct {
	ActionID   string    `json:"action_id"`
	State      string    `json:"state"`
	AppliedAt  time.Time `json:"applied_at,omitzero"`
	VerifiedAt time.Time `json:"verified_at,omitzero"`
	ExpiresAt  time.Time `json:"expires_at,omitzero"`
	LiftedAt   time.Time `json:"lifted_at,omitzero"`
}

// LiftInput lifts an action (idempotent by Key) and verifies it is gone.
type LiftInput struct {
	Key      string `json:"key"`
	ActionID string `json:"action_id"`
	Reason   string `json:"reason"`
	// Overturned: the action was wrong (a granted appeal); it stops counting as a violation.
	Overturned bool `json:"overturned,omitempty"`
}

// CloseCaseInput solves the ticket with the closing message (only solves it when the customer
// was already told, Notified).
type CloseCaseInput struct {
	Ticket   TicketRef  `json:"ticket"`
	Step     string     `json:"step"`
	Data     NoticeData `json:"data"`
	Notified bool       `json:"notified,omitempty"`
}

// CloseCaseResult is the (empty) result of CloseCase.
type CloseCaseResult struct{}

// AcknowledgeInput tells reporters the outcome.
type AcknowledgeInput struct {
	Step      string     `json:"step"`
	Reporters []string   `json:"reporters"`
	Data      NoticeData `json:"data"`
}

// AcknowledgeResult counts the reporters told.
type AcknowledgeResult struct {
	Sent int `json:"sent"`
}
