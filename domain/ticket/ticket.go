// Package ticket is the vocabulary of the ticketing system that the workflows, the activities
// and the ticketing adapter (Zendesk) share: a neutral reference to a ticket, tickets, comments,
// the case fields the bot keeps filled, the tags it sets, and what the adapter hands the desk
// (ports.go). It depends on nothing of the desk.
package ticket

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
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

// Zendesk is the system of the tickets the desk kept before references named one: a reference
// saved with a bare integer ID is a Zendesk ticket.
const Zendesk = "zendesk"

// Ref names a ticket wherever it lives: the ticketing system, the ticket's ID there (opaque to
// the desk), and the page an agent opens it on. It is what workflows keep in their state.
//
// It encodes as {"system":"zendesk","id":"123","url":"…"}. The form saved before the port,
// {"id":123,"url":"…"}, still decodes (as a Zendesk ticket), so histories replay.
type Ref struct {
	System string
	ID     string
	URL    string
}

// IsZero reports whether r names no ticket.
func (r Ref) IsZero() bool { return r.ID == "" }

// String is "system#id", for logs and notes ("" for no ticket).
func (r Ref) String() string {
	if r.IsZero() {
		return ""
	}
	return r.System + "#" + r.ID
}

// ParseRef reads a reference written by String ("zendesk#123"); "" is no ticket.
func ParseRef(s string) (Ref, error) {
	if s == "" {
		return Ref{}, nil
	}
	system, id, ok := strings.Cut(s, "#")
	if !ok || system == "" || id == "" {
		return Ref{}, fmt.Errorf("ticket reference %q: want system#id, such as zendesk#123", s)
	}
	return Ref{System: system, ID: id}, nil
}

// Number is the ticket's ID as an integer, and whether it is one (every Zendesk ID is).
func (r Ref) Number() (int64, bool) {
	n, err := strconv.ParseInt(r.ID, 10, 64)
	return n, err == nil && n > 0
}

// refJSON is a reference as it is written; refWire as it is read (the ID a string or, saved
// before references named a system, an integer).
type refJSON struct {
	System string `json:"system,omitempty"`
	ID     string `json:"id"`
	URL    string `json:"url,omitempty"`
}

type refWire struct {
	System string          `json:"system,omitempty"`
	ID     json.RawMessage `json:"id"`
	URL    string          `json:"url,omitempty"`
}

// MarshalJSON encodes the reference with its ID as a string.
func (r Ref) MarshalJSON() ([]byte, error) { return json.Marshal(refJSON(r)) }

// UnmarshalJSON decodes both forms: a string ID with its system, and the integer ID saved
// before there was a system (a Zendesk ticket; 0 is no ticket).
func (r *Ref) UnmarshalJSON(b []byte) error {
	var w refWire
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("ticket reference: %w", err)
	}
	*r = Ref{System: w.System, URL: w.URL}
	switch raw := bytes.TrimSpace(w.ID); {
	case len(raw) == 0 || string(raw) == "null":
	case raw[0] == '"':
		if err := json.Unmarshal(raw, &r.ID); err != nil {
			return fmt.Errorf("ticket reference id: %w", err)
		}
	default:
		var n int64
		if err := json.Unmarshal(raw, &n); err != nil {
			return fmt.Errorf("ticket reference id %s: neither a string nor an integer", raw)
		}
		if n != 0 {
			r.ID = strconv.FormatInt(n, 10)
			if r.System == "" {
				r.System = Zendesk
			}
		}
	}
	return nil
}

// Ticket is a ticket as the desk sees it.
type Ticket struct {
	Ref
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

// FieldSpec is a case field the bot keeps filled on every case ticket: its key (Field…) and
// the title agents see. The ticketing adapter provisions it in its system.
type FieldSpec struct {
	Key   string
	Title string
}

// MacroSpec is one agent decision as a macro (a canned action) in the ticketing system:
// applying it marks the ticket with the decision, which the adapter reports to the desk.
type MacroSpec struct {
	Decision string
	// Title is what agents see (the adapter may prefix it).
	Title string
	// Public says the macro's comment answers the customer (else it is an internal note).
	Public bool
	// Pending sets the ticket pending (the customer is asked for something).
	Pending bool
	// Text renders the macro's comment given the system's placeholders — one per case field
	// key, PlaceholderRequester and PlaceholderAgent — so the text the agent sends is complete.
	Text func(placeholders map[string]string) (string, error)
}

// Placeholder keys a macro's text may use besides the case field keys: the adapter gives each
// its system's syntax ("{{ticket.requester.name}}" in Zendesk).
const (
	PlaceholderRequester = "requester_name"
	PlaceholderAgent     = "agent_name"
)
