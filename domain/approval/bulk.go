package approval

import "time"

// BulkIDPrefix starts the workflow ID of every bulk action (the value of its message's
// buttons), so the chat side can tell one from a case.
const BulkIDPrefix = "bulk/"

// Undo is a lead's click that lifts a whole reviewed bulk action (a decision only a bulk
// action takes: a case refuses it).
const Undo = "undo"

// The states of a reviewed bulk action, as its message and page show them.
const (
	BulkProposed = "proposed"
	BulkApplying = "applying"
	BulkApplied  = "applied"
	BulkDenied   = "denied"
	BulkExpired  = "expired"
	BulkUndoing  = "undoing"
	BulkUndone   = "undone"
)

// BulkPost is the leads' message of a reviewed bulk action on linked accounts: what a lead
// proposed, on which accounts, why; once decided, what became of it.
type BulkPost struct {
	// Step identifies the message so a retried post finds the first one.
	Step string
	// WorkflowID is the bulk action's workflow (the buttons' value); Number its reference.
	WorkflowID, Number string
	URL                string
	Proposer           string
	ProposedAt         time.Time
	Accounts           []string
	// Action says what each account gets ("suspend sending"); Shared what links the accounts.
	Action, Reason string
	Shared         []string
	Deadline       time.Time

	// State is one of the Bulk states; DecidedBy and DecidedAt who moved it there; Outcome a
	// sentence of what was done (3 of 3 accounts…). Undo offers the button that lifts it all.
	State     string
	DecidedBy string
	DecidedAt time.Time
	Outcome   string
	Undo      bool
}
