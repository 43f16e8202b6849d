package approval

import "time"

// A team's answers to a hand-off (buttons on the hand-off's Slack message).
const (
	HandOffResolve  = "resolve"
	HandOffNeedInfo = "need_info"
	HandOffReassign = "reassign"
)

// TeamAnswer is someone of a team answering a hand-off in Slack: resolved (Text: what was
// done), need information (Text: the question for the agent), or reassign (Text: the team
// it goes to).
type TeamAnswer struct {
	Action    string `json:"action"`
	UserID    string `json:"user_id"`
	UserName  string `json:"user_name,omitempty"`
	UserEmail string `json:"user_email,omitempty"`
	Text      string `json:"text,omitempty"`
	// RequestID names the answer: delivered twice with one ID, it is applied once.
	RequestID string `json:"request_id,omitempty"`
}

// HandOffPost is a hand-off for a team's channel: the case, why, by whom, due when, with
// Resolve, Need info and Reassign buttons.
type HandOffPost struct {
	// Step identifies the post so a retried post finds the first one.
	Step string
	// WorkflowID is the hand-off's workflow: the buttons carry it.
	WorkflowID string
	Channel    string
	Team       string
	CaseNumber string
	CaseURL    string
	TicketURL  string
	Account    string
	Category   string
	Reason     string
	By         string
	Due        time.Time
}

// HandOffShow rewrites a hand-off's message once it is answered (no buttons).
type HandOffShow struct {
	CaseNumber string
	CaseURL    string
	Team       string
	Text       string
	Outcome    string
	By         string
	At         time.Time
}
