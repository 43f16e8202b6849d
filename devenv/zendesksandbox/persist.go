package zendesksandbox

import (
	"encoding/json"
	"fmt"
)

// state is everything the account holds, for Save and Load (a sandbox that survives a
// restart of `desk dev`). Injected faults, rate-limit windows and the delivery log are not kept.
type state struct {
	NextID         int64                `json:"next_id"`
	Seq            int64                `json:"seq"`
	SeqOf          map[int64]int64      `json:"seq_of"`
	Users          map[int64]*User      `json:"users"`
	Tickets        map[int64]*Ticket    `json:"tickets"`
	Comments       map[int64][]*Comment `json:"comments"`
	Fields         []*TicketField       `json:"fields"`
	Macros         []*Macro             `json:"macros"`
	Triggers       []*Trigger           `json:"triggers"`
	Webhooks       []*Webhook           `json:"webhooks"`
	WebhookSecrets map[string]string    `json:"webhook_secrets"`
	Uploads        map[string]*Upload   `json:"uploads"`
	Files          map[int64][]byte     `json:"files"`
	Memberships    map[int64][]int64    `json:"memberships,omitempty"`
	Audits         map[int64][]*Audit   `json:"audits,omitempty"`
}

// Save returns the account's state as JSON.
func (s *Server) Save() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := state{NextID: s.nextID, Seq: s.seq, SeqOf: s.seqOf, Users: s.users, Tickets: s.tickets, Comments: s.comments,
		Fields: s.fields, Macros: s.macros, Triggers: s.triggers, Webhooks: s.webhooks, Uploads: s.uploads, Memberships: s.memberships, Audits: s.audits,
		WebhookSecrets: map[string]string{}, Files: map[int64][]byte{}}
	for _, wh := range s.webhooks {
		st.WebhookSecrets[wh.ID] = wh.secret
	}
	for id, a := range s.attachments {
		if a.data != nil { // on disk (FilesDir) otherwise
			st.Files[id] = a.data
		}
	}
	return json.Marshal(st)
}

// Load replaces the account's state with one from Save.
func (s *Server) Load(b []byte) error {
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("zendesk sandbox: state: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID, s.seq = st.NextID, st.Seq
	s.seqOf, s.users, s.tickets, s.comments = orEmpty(st.SeqOf), orEmpty(st.Users), orEmpty(st.Tickets), orEmpty(st.Comments)
	s.fields, s.macros, s.triggers, s.webhooks, s.uploads = st.Fields, st.Macros, st.Triggers, st.Webhooks, orEmpty(st.Uploads)
	s.memberships, s.audits = orEmpty(st.Memberships), orEmpty(st.Audits)
	for _, wh := range s.webhooks {
		wh.secret = st.WebhookSecrets[wh.ID]
	}
	// Attachments are shared between comments, uploads and the attachment index.
	s.attachments = map[int64]*Attachment{}
	keep := func(a *Attachment) *Attachment {
		if prev, ok := s.attachments[a.ID]; ok {
			return prev
		}
		a.data = st.Files[a.ID]
		s.attachments[a.ID] = a
		return a
	}
	for _, cs := range s.comments {
		for _, c := range cs {
			for i, a := range c.Attachments {
				c.Attachments[i] = keep(a)
			}
		}
	}
	for _, u := range s.uploads {
		for i, a := range u.Attachments {
			u.Attachments[i] = keep(a)
		}
		if u.Attachment != nil {
			u.Attachment = keep(u.Attachment)
		}
	}
	return nil
}

func orEmpty[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return map[K]V{}
	}
	return m
}
