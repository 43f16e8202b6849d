// Package zendesksandbox is a stateful stand-in for the Zendesk Support API as abusedesk uses it: users,
// tickets with comments, custom fields and tags, uploads and attachments, ticket fields,
// macros (and applying them), triggers, webhooks with signing secrets, end-user requests, and
// cursor-based incremental export — with Zendesk's paths, JSON shapes (custom field values are
// strings), API-token auth, offset pagination and 429s with Retry-After.
//
// Like a real account, it runs its triggers after every ticket change and delivers their
// webhook notifications signed exactly as Zendesk signs them (HMAC-SHA256 over timestamp and
// body, base64). So an account provisioned by `desk zendesk provision` behaves here as it
// would in Zendesk: a requester's comment or an agent's macro reaches the desk's webhook.
package zendesksandbox

import (
	"encoding/json"
	"time"
)

// User is a Zendesk user.
type User struct {
	ID        int64     `json:"id"`
	URL       string    `json:"url"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	Role      string    `json:"role"` // end-user, agent, admin
	Active    bool      `json:"active"`
	Locale    string    `json:"locale"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// CustomField is a ticket's value for a custom field. Zendesk sends text values as strings.
type CustomField struct {
	ID    int64 `json:"id"`
	Value any   `json:"value"`
}

// Via says where a ticket or comment came from.
type Via struct {
	Channel string `json:"channel"`
	Source  struct {
		From map[string]any `json:"from"`
		To   map[string]any `json:"to"`
		Rel  *string        `json:"rel"`
	} `json:"source"`
}

// Ticket is a Zendesk ticket.
type Ticket struct {
	ID             int64         `json:"id"`
	URL            string        `json:"url"`
	ExternalID     *string       `json:"external_id"`
	Type           *string       `json:"type"`
	Subject        string        `json:"subject"`
	RawSubject     string        `json:"raw_subject"`
	Description    string        `json:"description"`
	Priority       *string       `json:"priority"`
	Status         string        `json:"status"`
	Recipient      *string       `json:"recipient"`
	RequesterID    int64         `json:"requester_id"`
	SubmitterID    int64         `json:"submitter_id"`
	AssigneeID     *int64        `json:"assignee_id"`
	OrganizationID *int64        `json:"organization_id"`
	GroupID        *int64        `json:"group_id"`
	BrandID        *int64        `json:"brand_id"`
	Tags           []string      `json:"tags"`
	CustomFields   []CustomField `json:"custom_fields"`
	Fields         []CustomField `json:"fields"`
	Via            Via           `json:"via"`
	IsPublic       bool          `json:"is_public"`
	HasIncidents   bool          `json:"has_incidents"`
	CreatedAt      time.Time     `json:"created_at"`
	UpdatedAt      time.Time     `json:"updated_at"`
	GeneratedTS    int64         `json:"generated_timestamp"`
}

// Attachment is a file on a comment.
type Attachment struct {
	ID          int64  `json:"id"`
	URL         string `json:"url"`
	FileName    string `json:"file_name"`
	ContentURL  string `json:"content_url"`
	ContentType string `json:"content_type"`
	Size        int    `json:"size"`
	Inline      bool   `json:"inline"`

	data []byte
}

// Comment is a ticket comment.
type Comment struct {
	ID          int64         `json:"id"`
	Type        string        `json:"type"`
	AuthorID    int64         `json:"author_id"`
	Body        string        `json:"body"`
	HTMLBody    string        `json:"html_body"`
	PlainBody   string        `json:"plain_body"`
	Public      bool          `json:"public"`
	Attachments []*Attachment `json:"attachments"`
	AuditID     int64         `json:"audit_id"`
	Via         Via           `json:"via"`
	CreatedAt   time.Time     `json:"created_at"`
}

// TicketField is a custom ticket field.
type TicketField struct {
	ID          int64     `json:"id"`
	URL         string    `json:"url"`
	Type        string    `json:"type"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Active      bool      `json:"active"`
	Required    bool      `json:"required"`
	Position    int       `json:"position"`
	Tag         *string   `json:"tag"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Action is a macro or trigger action. Values may be a string or an array (Zendesk mixes them).
type Action struct {
	Field string          `json:"field"`
	Value json.RawMessage `json:"value"`
}

// Macro is a Zendesk macro.
type Macro struct {
	ID          int64     `json:"id"`
	URL         string    `json:"url"`
	Title       string    `json:"title"`
	Description *string   `json:"description"`
	Active      bool      `json:"active"`
	Actions     []Action  `json:"actions"`
	Restriction any       `json:"restriction"`
	Position    int       `json:"position"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Condition is a trigger condition.
type Condition struct {
	Field    string          `json:"field"`
	Operator string          `json:"operator"`
	Value    json.RawMessage `json:"value"`
}

// Trigger is a Zendesk trigger.
type Trigger struct {
	ID          int64   `json:"id"`
	URL         string  `json:"url"`
	Title       string  `json:"title"`
	Description *string `json:"description"`
	Active      bool    `json:"active"`
	Position    int     `json:"position"`
	Conditions  struct {
		All []Condition `json:"all"`
		Any []Condition `json:"any"`
	} `json:"conditions"`
	Actions   []Action  `json:"actions"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// SigningSecret is a webhook's signing secret.
type SigningSecret struct {
	Algorithm string `json:"algorithm"`
	Secret    string `json:"secret"`
}

// Webhook is a Zendesk webhook.
type Webhook struct {
	ID            string    `json:"id"`
	Name          string    `json:"name"`
	Description   string    `json:"description,omitempty"`
	Endpoint      string    `json:"endpoint"`
	HTTPMethod    string    `json:"http_method"`
	RequestFormat string    `json:"request_format"`
	Status        string    `json:"status"`
	Subscriptions []string  `json:"subscriptions"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`

	secret string
}

// Upload is a pending upload, turned into attachments when a comment uses its token.
type Upload struct {
	Token       string        `json:"token"`
	ExpiresAt   time.Time     `json:"expires_at"`
	Attachments []*Attachment `json:"attachments"`
	Attachment  *Attachment   `json:"attachment"`
}

// Delivery is one webhook notification the fake sent.
type Delivery struct {
	WebhookID string    `json:"webhook_id"`
	TriggerID int64     `json:"trigger_id"`
	Endpoint  string    `json:"endpoint"`
	Body      string    `json:"body"`
	Status    int       `json:"status"`
	Error     string    `json:"error,omitempty"`
	At        time.Time `json:"at"`
}

// Audit is one update of a ticket: who made it, the comment it added and the tags before and
// after (PreviousTags nil: the ticket's creation).
type Audit struct {
	ID           int64     `json:"id"`
	TicketID     int64     `json:"ticket_id"`
	CreatedAt    time.Time `json:"created_at"`
	AuthorID     int64     `json:"author_id"`
	CommentID    int64     `json:"comment_id,omitempty"`
	Tags         []string  `json:"tags"`
	PreviousTags []string  `json:"previous_tags"`
	// AssigneeChanged says the update changed the assignee, from PreviousAssignee to
	// Assignee (nil: nobody).
	AssigneeChanged  bool   `json:"assignee_changed,omitempty"`
	Assignee         *int64 `json:"assignee,omitempty"`
	PreviousAssignee *int64 `json:"previous_assignee,omitempty"`
}
