// Package activities holds the Case and Appeal workflows' activities: methods on Activities,
// a struct of the dependencies they call. The dependencies are the small interfaces below —
// declared here, where they are used, only as wide as that use. The integrations (Zendesk,
// Slack, the enforcement API, the evidence store) implement them; testenv has in-memory fakes.
//
// Activities render every message from templates/, keep each customer-visible step at most
// once (a ticket tag marks a step done, checked on retries), and classify failures at the
// boundary: invalid input is non-retryable, 429 retries after the service's Retry-After, the
// rest retries with backoff.
package activities

import (
	"context"
	"time"

	"abusedesk/internal/abuse"
	"abusedesk/workflows"
)

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
)

// CaseFields lists the case field keys in the order provisioning creates them.
var CaseFields = []string{FieldCaseID, FieldCaseNumber, FieldStatus, FieldCategory, FieldAccount,
	FieldDeadline, FieldReportCount, FieldAction, FieldAppealUntil}

// Tags every case ticket carries.
const (
	TagCase     = "abusedesk"
	TagReporter = "abusedesk_reporter_ack"
)

// Ticket is a ticket as the activities see it.
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

// NewTicket is a ticket to create, with its first comment.
type NewTicket struct {
	ExternalID     string
	Subject        string
	RequesterEmail string
	RequesterName  string
	Comment        Comment
	Status         string
	Tags           []string
	Fields         map[string]string
}

// TicketUpdate changes a ticket; empty parts are left alone.
type TicketUpdate struct {
	Comment *Comment
	Status  string
	AddTags []string
	Fields  map[string]string
}

// Tickets is what cases need of the ticketing system (Zendesk).
type Tickets interface {
	// FindTicket returns the ticket with this external ID, or nil and no error.
	FindTicket(ctx context.Context, externalID string) (*Ticket, error)
	GetTicket(ctx context.Context, id int64) (*Ticket, error)
	CreateTicket(ctx context.Context, t NewTicket) (*Ticket, error)
	UpdateTicket(ctx context.Context, id int64, u TicketUpdate) error
	// Upload stores an attachment and returns the token to put on a comment.
	Upload(ctx context.Context, filename, contentType string, data []byte) (string, error)
}

// Accounts loads customer accounts.
type Accounts interface {
	GetAccount(ctx context.Context, id string) (*workflows.Account, error)
}

// Action states reported by the enforcement API.
const (
	ActionPending = "pending"
	ActionActive  = "active"
	ActionLifting = "lifting"
	ActionLifted  = "lifted"
	ActionFailed  = "failed"
)

// ActionRequest is an enforcement action to apply.
type ActionRequest struct {
	AccountID string
	Type      abuse.ActionType
	Level     int
	Reason    string
	CaseID    string
	ExpiresAt time.Time
}

// ActionState is an action as the enforcement API reports it.
type ActionState struct {
	ID        string
	AccountID string
	Type      abuse.ActionType
	Level     int
	State     string
	AppliedAt time.Time
	ExpiresAt time.Time
	LiftedAt  time.Time
	Error     string
}

// Enforcement applies, reads and lifts actions. Apply and Lift are idempotent by key.
type Enforcement interface {
	Apply(ctx context.Context, req ActionRequest, idempotencyKey string) (*ActionState, error)
	GetAction(ctx context.Context, id string) (*ActionState, error)
	Lift(ctx context.Context, id, reason, idempotencyKey string) (*ActionState, error)
}

// ApprovalPost is an approval request for the leads' channel.
type ApprovalPost struct {
	// Step identifies the request so a retried post finds the first one.
	Step       string
	CaseID     string
	CaseNumber string
	CaseURL    string
	TicketURL  string
	Account    workflows.Account
	Category   abuse.Category
	Reports    workflows.ReportDigest
	Action     string
	Reason     string
	Deadline   time.Time
	Ping       int
	Text       string
}

// ApprovalShow rewrites a request to show its decision.
type ApprovalShow struct {
	CaseNumber string
	CaseURL    string
	Text       string
	Decision   string
	DecidedBy  string
	DecidedAt  time.Time
	Reason     string
}

// Approvals posts approval requests to the leads (Slack) and updates them.
type Approvals interface {
	// FindApproval returns the request already posted for step, or nil and no error.
	FindApproval(ctx context.Context, step string) (*workflows.ApprovalMessage, error)
	PostApproval(ctx context.Context, p ApprovalPost) (*workflows.ApprovalMessage, error)
	PingApproval(ctx context.Context, m workflows.ApprovalMessage, p ApprovalPost) error
	ShowDecision(ctx context.Context, m workflows.ApprovalMessage, s ApprovalShow) error
}

// Evidence reads raw reports from the content-addressed evidence store.
type Evidence interface {
	Get(ctx context.Context, digest string) ([]byte, error)
}
