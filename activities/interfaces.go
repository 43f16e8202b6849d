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

	"abusedesk/domain/abuse"
	"abusedesk/domain/approval"
	"abusedesk/domain/ticket"
	"abusedesk/workflows"
)

// Tickets is what cases need of the ticketing system: the port for tickets out. A ticket is
// named by a neutral ticket.Ref; the Zendesk integration implements it, and testenv/memfake
// keeps tickets in memory for the workflow tests.
type Tickets interface {
	// FindTicket returns the ticket with this external ID, or nil and no error.
	FindTicket(ctx context.Context, externalID string) (*ticket.Ticket, error)
	GetTicket(ctx context.Context, ref ticket.Ref) (*ticket.Ticket, error)
	CreateTicket(ctx context.Context, t ticket.New) (*ticket.Ticket, error)
	UpdateTicket(ctx context.Context, ref ticket.Ref, u ticket.Update) error
	// Upload stores an attachment and returns the token to put on a comment.
	Upload(ctx context.Context, filename, contentType string, data []byte) (string, error)
	// GroupMembers lists the IDs of a group's agents (group 0: the desk's own group).
	GroupMembers(ctx context.Context, group int64) ([]int64, error)
	// AgentEmail is the e-mail address of a user (an agent).
	AgentEmail(ctx context.Context, id int64) (string, error)
	// Redact removes texts from a ticket's comments, and the desk's evidence files, and says
	// how many it removed.
	Redact(ctx context.Context, ref ticket.Ref, texts []string) (int, error)
}

// Accounts loads customer accounts.
type Accounts interface {
	GetAccount(ctx context.Context, id string) (*abuse.Account, error)
}

// Enforcement applies, reads and lifts actions. Apply and Lift are idempotent by key.
type Enforcement interface {
	Apply(ctx context.Context, req abuse.ActionRequest, idempotencyKey string) (*abuse.ActionState, error)
	GetAction(ctx context.Context, id string) (*abuse.ActionState, error)
	Lift(ctx context.Context, req abuse.LiftRequest, idempotencyKey string) (*abuse.ActionState, error)
}

// Messaging reads a messaging platform's records of an account's sending identities (the
// enforcement API).
type Messaging interface {
	// Messaging returns the records of one identity from since until until, and the records
	// as JSON in the contract's fields (re-encoded from the answer), to keep as evidence.
	Messaging(ctx context.Context, account string, id abuse.Scope, since, until time.Time) (*abuse.Traffic, []byte, error)
}

// Approvals posts approval requests to the leads (Slack) and updates them.
type Approvals interface {
	// FindApproval returns the request already posted for step in channel ("": the leads'),
	// or nil and no error.
	FindApproval(ctx context.Context, channel, step string) (*approval.Message, error)
	PostApproval(ctx context.Context, p approval.Post) (*approval.Message, error)
	PingApproval(ctx context.Context, m approval.Message, p approval.Post) error
	ShowDecision(ctx context.Context, m approval.Message, s approval.Show) error
	// GroupMembers lists the users of a user group, as the chat system says now.
	GroupMembers(ctx context.Context, group string) ([]string, error)
}

// Alerts posts messages to a team's channel (Slack); channel "" is the leads'.
type Alerts interface {
	// PostAlertTo posts text (escaped: it may quote outsiders) mentioning page (IDs the
	// policy validated), so Slack notifies them.
	PostAlertTo(ctx context.Context, channel, text string, page approval.Approvers) error
}

// Reports hands reports to the case of an account and category the way intake does (durably,
// deduplicated by report ID in the receiving case).
type Reports interface {
	Forward(ctx context.Context, account string, category abuse.Category, reports []workflows.ReportSummary) error
}

// Evidence reads raw reports from the content-addressed evidence store.
type Evidence interface {
	Get(ctx context.Context, digest string) ([]byte, error)
	// Keep stores raw evidence the desk itself gathered (a platform's records) and returns its
	// digest; keeping the same bytes again changes nothing.
	Keep(ctx context.Context, raw []byte) (string, error)
	// Hold records a legal hold on stored evidence under key (idempotent).
	Hold(ctx context.Context, key string, digests []string, reason string) error
}

// Incidents reads a case's earlier incidents (Temporal).
type Incidents interface {
	// LastClosed returns the result of the most recent completed incident, or nil.
	LastClosed(ctx context.Context, caseID string) (*workflows.CaseResult, error)
}

// Ledger appends case events, idempotently by their key.
type Ledger interface {
	Record(ctx context.Context, in workflows.RecordEventsInput) error
}

// Probes check a customer's fix from outside (integrations/probe): each returns a verdict
// (workflows.VerdictFixed, VerdictStill or VerdictUnknown) and what it saw. A probe never
// fails: what it could not find out is VerdictUnknown.
type Probes interface {
	URL(ctx context.Context, url string) (verdict, detail string)
	Listed(ctx context.Context, ip, zone string) (verdict, detail string)
}

// Probations find an account's probation after a reinstatement (Temporal visibility).
type Probations interface {
	// OnProbation returns the account's probation, or a result with On false.
	OnProbation(ctx context.Context, account string) (*workflows.ProbationResult, error)
}
