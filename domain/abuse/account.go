package abuse

import "time"

// Account is what the desk knows of a customer account, loaded from the enforcement API.
type Account struct {
	ID              string   `json:"id"`
	Name            string   `json:"name"`
	ContactEmail    string   `json:"contact_email"`
	Locale          string   `json:"locale"`
	Tier            string   `json:"tier"`
	PriorViolations int      `json:"prior_violations"`
	Restrictions    []string `json:"restrictions,omitempty"`
	// CreatedAt is when the account was opened (zero: the enforcement API does not say).
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// NewAccountAge is how young an account is, at its first report, to be a new account: bad actors
// open accounts to abuse them at once.
const NewAccountAge = 7 * 24 * time.Hour

// NewAt says whether the account was new at a time (opened at most NewAccountAge before it).
func (a Account) NewAt(t time.Time) bool {
	return !a.CreatedAt.IsZero() && !t.Before(a.CreatedAt) && t.Sub(a.CreatedAt) <= NewAccountAge
}

// States of an enforcement action, as the enforcement API reports them.
const (
	StatePending = "pending"
	StateActive  = "active"
	StateLifting = "lifting"
	StateLifted  = "lifted"
	StateFailed  = "failed"
)

// ActionRequest is an enforcement action to apply to an account.
type ActionRequest struct {
	AccountID string
	Type      ActionType
	Level     int
	Reason    string
	CaseID    string
	ExpiresAt time.Time
	// Scope, when set, narrows the action to one of the account's phone numbers or SMS
	// sender IDs (a throttle or a suspension of sending) or names the resource a takedown
	// removes; nil acts on the whole account.
	Scope *Scope
}

// Scope is the part of an account an action is narrowed to: one sending identity (a throttle
// or a suspension of sending), or one hosted resource (a takedown).
type Scope struct {
	Kind  string `json:"kind"` // ScopePhone, ScopeSenderID, ScopeCampaign, ScopeService or ScopeResource
	Value string `json:"value"`
}

// Scope kinds. A resource is a URL (or a hosted object's address) on one of the account's
// hosts.
const (
	ScopePhone    = "phone"
	ScopeSenderID = "sender_id"
	ScopeCampaign = "campaign"
	ScopeService  = "messaging_service"
	ScopeResource = "resource"
)

// String names the scope for people: "the number +447700900123", "the sender ID SHOPNEWS".
func (s *Scope) String() string {
	if s == nil {
		return "the account"
	}
	switch s.Kind {
	case ScopePhone:
		return "the number " + s.Value
	case ScopeResource:
		return "the resource " + s.Value
	case ScopeCampaign:
		return "the campaign " + s.Value
	case ScopeService:
		return "the messaging service " + s.Value
	}
	return "the sender ID " + s.Value
}

// ActionState is an action as the enforcement API reports it.
type ActionState struct {
	ID        string
	AccountID string
	Scope     *Scope
	Type      ActionType
	Level     int
	State     string
	AppliedAt time.Time
	ExpiresAt time.Time
	LiftedAt  time.Time
	Error     string
}

// LiftRequest lifts an action. Overturned says the action was wrong (an appeal was granted, a
// lead reversed it): the enforcement API then no longer counts it among the account's prior
// violations.
type LiftRequest struct {
	ActionID   string
	Reason     string
	Overturned bool
}
