package zendesksandbox

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"
)

var statuses = []string{"new", "open", "pending", "hold", "solved", "closed"}

// commentIn is a comment in a create or update request.
type commentIn struct {
	Body     string   `json:"body"`
	HTMLBody string   `json:"html_body"`
	Public   *bool    `json:"public"`
	Uploads  []string `json:"uploads"`
	AuthorID int64    `json:"author_id"`
}

// ticketIn is the "ticket" object of a create or update request.
type ticketIn struct {
	Subject        *string       `json:"subject"`
	Comment        *commentIn    `json:"comment"`
	Requester      *requesterIn  `json:"requester"`
	RequesterID    int64         `json:"requester_id"`
	ExternalID     *string       `json:"external_id"`
	Status         string        `json:"status"`
	Priority       *string       `json:"priority"`
	Type           *string       `json:"type"`
	Tags           *[]string     `json:"tags"`
	AdditionalTags []string      `json:"additional_tags"`
	RemoveTags     []string      `json:"remove_tags"`
	CustomFields   []CustomField `json:"custom_fields"`
	GroupID        *int64        `json:"group_id"`
	BrandID        *int64        `json:"brand_id"`
	// AssigneeID is the assignee to set: absent leaves it, null unassigns (as Zendesk).
	AssigneeID json.RawMessage `json:"assignee_id"`
	Recipient  *string         `json:"recipient"`
}

// requesterIn names a (possibly new) requester on ticket creation.
type requesterIn struct {
	Name     string `json:"name"`
	Email    string `json:"email"`
	LocaleID string `json:"locale_id"`
}

// change is what one ticket update did, for the triggers.
type change struct {
	created bool
	user    *User
	comment *Comment
	// assignee says the update changed the ticket's assignee.
	assignee bool
}

// bump records a change of t: its updated_at, and its place in the incremental export (a
// cursor is a change sequence number, so two changes in the same second are both exported).
func (s *Server) bump(t *Ticket) {
	s.seq++
	s.seqOf[t.ID] = s.seq
	t.UpdatedAt = s.now()
	t.GeneratedTS = t.UpdatedAt.Unix()
}

func (s *Server) createTicket(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Ticket ticketIn `json:"ticket"`
	}
	if !decode(w, r, &in) {
		return
	}
	agent := s.current(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	t, c, field, msg := s.newTicket(agent, in.Ticket, "api")
	if t == nil {
		writeInvalid(w, field, msg)
		return
	}
	s.runTriggers(t, change{created: true, user: agent, comment: c})
	writeJSON(w, http.StatusCreated, map[string]any{"ticket": t, "audit": s.audit(t, agent, c)})
}

// newTicket validates and stores a ticket; on a validation error it returns nil and the field
// and reason.
func (s *Server) newTicket(by *User, in ticketIn, channel string) (*Ticket, *Comment, string, string) {
	if in.Comment == nil || (strings.TrimSpace(in.Comment.Body) == "" && strings.TrimSpace(in.Comment.HTMLBody) == "") {
		return nil, nil, "description", "Description: cannot be blank"
	}
	requester := by
	switch {
	case in.Requester != nil:
		if !strings.Contains(in.Requester.Email, "@") {
			return nil, nil, "requester", "Requester: Email is invalid: " + in.Requester.Email
		}
		requester = s.userByEmail(in.Requester.Email)
		if requester == nil {
			name := in.Requester.Name
			if name == "" {
				name, _, _ = strings.Cut(in.Requester.Email, "@")
			}
			requester = s.addUser(in.Requester.Email, name, "end-user")
		}
	case in.RequesterID != 0:
		requester = s.users[in.RequesterID]
		if requester == nil {
			return nil, nil, "requester", "Requester: is invalid"
		}
	}
	status := in.Status
	if status == "" {
		status = "new"
	}
	if !slices.Contains(statuses, status) {
		return nil, nil, "status", "Status: is not one of " + strings.Join(statuses, ", ")
	}
	now := s.now()
	t := &Ticket{
		ID: s.id(), Status: status, RequesterID: requester.ID, SubmitterID: by.ID, Tags: []string{},
		CustomFields: []CustomField{}, IsPublic: true, CreatedAt: now, UpdatedAt: now,
		ExternalID: in.ExternalID, Priority: in.Priority, Type: in.Type, GroupID: in.GroupID, BrandID: in.BrandID, Recipient: in.Recipient,
	}
	t.URL = fmt.Sprintf("%s/api/v2/tickets/%d.json", s.base, t.ID)
	t.Via.Channel = channel
	if in.Subject != nil {
		t.Subject, t.RawSubject = *in.Subject, *in.Subject
	}
	if in.Tags != nil {
		t.Tags = normTags(*in.Tags)
	}
	t.Tags = addTags(t.Tags, in.AdditionalTags)
	if f, msg := s.setFields(t, in.CustomFields); f != "" {
		return nil, nil, f, msg
	}
	author := by
	if in.Comment.AuthorID != 0 && s.users[in.Comment.AuthorID] != nil {
		author = s.users[in.Comment.AuthorID]
	}
	c, f, msg := s.newComment(t, author, *in.Comment, channel)
	if c == nil {
		return nil, nil, f, msg
	}
	t.Description = c.Body
	s.tickets[t.ID] = t
	s.comments[t.ID] = []*Comment{c}
	s.bump(t)
	s.record(t, by, c, nil)
	return t, c, "", ""
}

func (s *Server) newComment(t *Ticket, author *User, in commentIn, channel string) (*Comment, string, string) {
	body := in.Body
	if body == "" {
		body = stripHTML(in.HTMLBody)
	}
	public := true
	if in.Public != nil {
		public = *in.Public
	}
	if author.Role == "end-user" {
		public = true
	}
	c := &Comment{ID: s.id(), Type: "Comment", AuthorID: author.ID, Body: body, PlainBody: body,
		HTMLBody: "<div class=\"zd-comment\"><p>" + html.EscapeString(body) + "</p></div>", Public: public,
		Attachments: []*Attachment{}, AuditID: s.id(), CreatedAt: s.now()}
	c.Via.Channel = channel
	for _, tok := range in.Uploads {
		up := s.uploads[tok]
		if up == nil {
			return nil, "uploads", "Uploads: token " + tok + " is invalid or expired"
		}
		c.Attachments = append(c.Attachments, up.Attachments...)
		delete(s.uploads, tok)
	}
	if !public {
		t.IsPublic = t.IsPublic && len(s.comments[t.ID]) > 0
	}
	return c, "", ""
}

// setFields applies custom field values, refusing unknown fields and non-string text values.
func (s *Server) setFields(t *Ticket, in []CustomField) (string, string) {
	for _, cf := range in {
		var def *TicketField
		for _, f := range s.fields {
			if f.ID == cf.ID {
				def = f
			}
		}
		if def == nil {
			return "custom_fields", fmt.Sprintf("Custom field %d does not exist", cf.ID)
		}
		switch def.Type {
		case "text", "textarea", "regexp", "date", "tagger":
			if _, ok := cf.Value.(string); !ok && cf.Value != nil {
				return "custom_fields", fmt.Sprintf("%s: value must be a string, got %T", def.Title, cf.Value)
			}
		}
		found := false
		for i := range t.CustomFields {
			if t.CustomFields[i].ID == cf.ID {
				t.CustomFields[i].Value, found = cf.Value, true
			}
		}
		if !found {
			t.CustomFields = append(t.CustomFields, cf)
		}
	}
	t.Fields = t.CustomFields
	return "", ""
}

func (s *Server) listTickets(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ext := r.URL.Query().Get("external_id")
	var out []*Ticket
	for _, t := range s.sortedTickets() {
		if ext == "" || (t.ExternalID != nil && *t.ExternalID == ext) {
			out = append(out, t)
		}
	}
	writePage(w, r, s.base, "tickets", out)
}

func (s *Server) sortedTickets() []*Ticket {
	out := make([]*Ticket, 0, len(s.tickets))
	for _, t := range s.tickets {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b *Ticket) int { return int(a.ID - b.ID) })
	return out
}

func (s *Server) getTicket(w http.ResponseWriter, r *http.Request) {
	id, _ := pathID(r, "id")
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tickets[id]
	if t == nil {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ticket": t})
}

func (s *Server) updateTicket(w http.ResponseWriter, r *http.Request) {
	id, _ := pathID(r, "id")
	var in struct {
		Ticket ticketIn `json:"ticket"`
	}
	if !decode(w, r, &in) {
		return
	}
	user := s.current(r)
	if user.Role == "end-user" {
		writeError(w, http.StatusForbidden, "Forbidden", "You do not have access to this page. Please contact the account owner of this help desk for further help.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tickets[id]
	if t == nil {
		notFound(w)
		return
	}
	if t.Status == "closed" {
		writeInvalid(w, "status", "Status: closed prevents ticket update")
		return
	}
	c, field, msg := s.applyUpdate(t, user, in.Ticket)
	if field != "" {
		writeInvalid(w, field, msg)
		return
	}
	audits := s.audits[t.ID] // the update's own is the last
	s.runTriggers(t, change{user: user, comment: c, assignee: audits[len(audits)-1].AssigneeChanged})
	writeJSON(w, http.StatusOK, map[string]any{"ticket": t, "audit": s.audit(t, user, c)})
}

func (s *Server) applyUpdate(t *Ticket, user *User, in ticketIn) (*Comment, string, string) {
	before, assignee := slices.Clone(t.Tags), t.AssigneeID
	c, f, msg := s.changeTicket(t, user, in)
	if f == "" {
		s.record(t, user, c, before)
		if a := s.audits[t.ID]; !sameID(assignee, t.AssigneeID) && len(a) > 0 {
			last := a[len(a)-1]
			last.AssigneeChanged, last.Assignee, last.PreviousAssignee = true, t.AssigneeID, assignee
		}
	}
	return c, f, msg
}

// sameID says two optional IDs are the same (both unset, or equal).
func sameID(a, b *int64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func (s *Server) changeTicket(t *Ticket, user *User, in ticketIn) (*Comment, string, string) {
	if in.Status != "" && !slices.Contains(statuses, in.Status) {
		return nil, "status", "Status: is not one of " + strings.Join(statuses, ", ")
	}
	var assignee *int64
	assign := len(in.AssigneeID) > 0
	if assign {
		if err := json.Unmarshal(in.AssigneeID, &assignee); err != nil {
			return nil, "assignee_id", "Assignee: is not a user ID"
		}
		if assignee != nil && (s.users[*assignee] == nil || s.users[*assignee].Role == "end-user") {
			return nil, "assignee_id", "Assignee: is not an agent"
		}
	}
	if f, msg := s.setFields(t, in.CustomFields); f != "" {
		return nil, f, msg
	}
	var c *Comment
	if in.Comment != nil && (in.Comment.Body != "" || in.Comment.HTMLBody != "") {
		author := user
		if in.Comment.AuthorID != 0 && s.users[in.Comment.AuthorID] != nil {
			author = s.users[in.Comment.AuthorID]
		}
		var f, msg string
		if c, f, msg = s.newComment(t, author, *in.Comment, "api"); c == nil {
			return nil, f, msg
		}
		s.comments[t.ID] = append(s.comments[t.ID], c)
	}
	if in.Status != "" {
		t.Status = in.Status
	} else if c != nil && c.Public && t.Status == "new" {
		t.Status = "open"
	}
	if in.Subject != nil {
		t.Subject, t.RawSubject = *in.Subject, *in.Subject
	}
	if in.Tags != nil {
		t.Tags = normTags(*in.Tags)
	}
	t.Tags = addTags(t.Tags, in.AdditionalTags)
	t.Tags = removeTags(t.Tags, in.RemoveTags)
	if in.GroupID != nil {
		t.GroupID = in.GroupID
	}
	if assign {
		t.AssigneeID = assignee
	}
	if in.ExternalID != nil {
		t.ExternalID = in.ExternalID
	}
	s.bump(t)
	return c, "", ""
}

// record keeps the audit of one update of t by a user: the comment it added and how it changed
// the tags (before is the tags it had).
func (s *Server) record(t *Ticket, by *User, c *Comment, before []string) {
	a := &Audit{ID: s.id(), TicketID: t.ID, CreatedAt: s.now(), AuthorID: by.ID, Tags: slices.Clone(t.Tags)}
	if before != nil {
		a.PreviousTags = before
	}
	if c != nil {
		a.CommentID = c.ID
		c.AuditID = a.ID
	}
	if s.audits == nil {
		s.audits = map[int64][]*Audit{}
	}
	s.audits[t.ID] = append(s.audits[t.ID], a)
}

// audit is the last audit of t in Zendesk's shape, as an update's answer carries it.
func (s *Server) audit(t *Ticket, _ *User, _ *Comment) map[string]any {
	all := s.audits[t.ID]
	if len(all) == 0 {
		return nil
	}
	return s.auditJSON(all[len(all)-1])
}

// auditJSON is an audit in Zendesk's shape: a Comment event for the comment it added, a
// Create or Change event on the tags.
func (s *Server) auditJSON(a *Audit) map[string]any {
	events := []map[string]any{}
	if a.CommentID != 0 {
		for _, c := range s.comments[a.TicketID] {
			if c.ID == a.CommentID {
				events = append(events, map[string]any{"id": c.ID, "type": "Comment", "body": c.Body, "public": c.Public, "author_id": c.AuthorID})
			}
		}
	}
	switch {
	case a.PreviousTags == nil:
		events = append(events, map[string]any{"id": a.ID + 1, "type": "Create", "field_name": "tags", "value": a.Tags})
	case !slices.Equal(a.PreviousTags, a.Tags):
		events = append(events, map[string]any{"id": a.ID + 1, "type": "Change", "field_name": "tags", "value": a.Tags, "previous_value": a.PreviousTags})
	}
	if a.AssigneeChanged {
		events = append(events, map[string]any{"id": a.ID + 2, "type": "Change", "field_name": "assignee_id", "value": idText(a.Assignee), "previous_value": idText(a.PreviousAssignee)})
	}
	return map[string]any{"id": a.ID, "ticket_id": a.TicketID, "created_at": a.CreatedAt, "author_id": a.AuthorID,
		"via": map[string]any{"channel": "api"}, "events": events}
}

// idText is an optional ID as Zendesk's audit events write it: a string, or null.
func idText(id *int64) any {
	if id == nil {
		return nil
	}
	return strconv.FormatInt(*id, 10)
}

// listAudits answers GET /api/v2/tickets/{id}/audits.json.
func (s *Server) listAudits(w http.ResponseWriter, r *http.Request) {
	writeTicketList(s, w, r, "audits", func(id int64) []map[string]any {
		all := []map[string]any{}
		for _, a := range s.audits[id] {
			all = append(all, s.auditJSON(a))
		}
		return all
	})
}

func (s *Server) listComments(w http.ResponseWriter, r *http.Request) {
	writeTicketList(s, w, r, "comments", func(id int64) []*Comment { return s.comments[id] })
}

// writeTicketList answers a list of one ticket's items (its comments, its audits), oldest first
// (sort_order=desc: newest first), or 404 for a ticket that does not exist.
func writeTicketList[T any](s *Server, w http.ResponseWriter, r *http.Request, key string, items func(id int64) []T) {
	id, _ := pathID(r, "id")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tickets[id] == nil {
		notFound(w)
		return
	}
	all := slices.Clone(items(id))
	if r.URL.Query().Get("sort_order") == "desc" {
		slices.Reverse(all)
	}
	writePage(w, r, s.base, key, all)
}

// ---- end-user requests ------------------------------------------------------------------------

func (s *Server) createRequest(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Request struct {
			Subject string    `json:"subject"`
			Comment commentIn `json:"comment"`
		} `json:"request"`
	}
	if !decode(w, r, &in) {
		return
	}
	user := s.current(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	t, c, field, msg := s.newTicket(user, ticketIn{Subject: &in.Request.Subject, Comment: &in.Request.Comment, RequesterID: user.ID}, "web")
	if t == nil {
		writeInvalid(w, field, msg)
		return
	}
	s.runTriggers(t, change{created: true, user: user, comment: c})
	writeJSON(w, http.StatusCreated, map[string]any{"request": requestView(t)})
}

// commentRequest is an end user (the requester) adding a comment to their request — what
// happens when a customer answers a notice by email.
func (s *Server) commentRequest(w http.ResponseWriter, r *http.Request) {
	id, _ := pathID(r, "id")
	var in struct {
		Request struct {
			Comment commentIn `json:"comment"`
		} `json:"request"`
	}
	if !decode(w, r, &in) {
		return
	}
	user := s.current(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tickets[id]
	if t == nil || t.RequesterID != user.ID {
		notFound(w)
		return
	}
	if t.Status == "closed" {
		writeInvalid(w, "status", "Status: closed prevents ticket update")
		return
	}
	c, field, msg := s.newComment(t, user, in.Request.Comment, "email")
	if c == nil {
		writeInvalid(w, field, msg)
		return
	}
	s.comments[t.ID] = append(s.comments[t.ID], c)
	t.Status = "open"
	s.bump(t)
	s.record(t, user, c, slices.Clone(t.Tags))
	s.runTriggers(t, change{user: user, comment: c})
	writeJSON(w, http.StatusOK, map[string]any{"request": requestView(t)})
}

func requestView(t *Ticket) map[string]any {
	return map[string]any{"id": t.ID, "url": t.URL, "subject": t.Subject, "description": t.Description,
		"status": t.Status, "requester_id": t.RequesterID, "created_at": t.CreatedAt, "updated_at": t.UpdatedAt}
}

// ---- incremental export ------------------------------------------------------------------------

// incrementalTickets is the cursor-based incremental ticket export: tickets changed since
// start_time (first page) or since the cursor, oldest change first.
func (s *Server) incrementalTickets(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	per, _ := strconv.Atoi(q.Get("per_page"))
	if per <= 0 || per > 1000 {
		per = 1000
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var after int64
	ok := false
	switch {
	case q.Get("cursor") != "":
		after, ok = parseCursor(q.Get("cursor"))
		if !ok {
			writeError(w, http.StatusBadRequest, "InvalidCursor", "cursor is not valid")
			return
		}
	case q.Get("start_time") != "":
		start, err := strconv.ParseInt(q.Get("start_time"), 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, "InvalidValue", "start_time must be a Unix time")
			return
		}
		if start > s.now().Unix() {
			writeError(w, http.StatusBadRequest, "InvalidValue", "start_time is in the future")
			return
		}
		after = -1
		for _, t := range s.tickets {
			if t.UpdatedAt.Unix() >= start {
				if seq := s.seqOf[t.ID] - 1; after < 0 || seq < after {
					after = seq
				}
			}
		}
		if after < 0 {
			after = s.seq
		}
	default:
		writeError(w, http.StatusBadRequest, "InvalidValue", "start_time or cursor is required")
		return
	}
	// Like Zendesk, changes of the last minute are left for a later request (ExportLag).
	lag := s.ExportLag
	if lag == 0 {
		lag = time.Minute
	}
	cutoff := s.now().Add(-lag)
	var changed []*Ticket
	for _, t := range s.tickets {
		if s.seqOf[t.ID] > after && (lag < 0 || !t.UpdatedAt.After(cutoff)) {
			changed = append(changed, t)
		}
	}
	slices.SortFunc(changed, func(a, b *Ticket) int { return int(s.seqOf[a.ID] - s.seqOf[b.ID]) })
	end := len(changed) <= per
	if !end {
		changed = changed[:per]
	}
	last := after
	if len(changed) > 0 {
		last = s.seqOf[changed[len(changed)-1].ID]
	}
	cursor := makeCursor(last)
	if changed == nil {
		changed = []*Ticket{}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"tickets":       changed,
		"after_cursor":  cursor,
		"after_url":     s.base + "/api/v2/incremental/tickets/cursor.json?cursor=" + cursor,
		"before_cursor": nil,
		"before_url":    nil,
		"end_of_stream": end,
	})
}

// makeCursor and parseCursor: a cursor is standard base64 with padding, as Zendesk's are
// ("MTU4MDc1Mzc5OC4wfHw0MzJ8", "…fA=="), so a client that does not escape "+", "/" and "="
// in the query fails here as it would there.
func makeCursor(seq int64) string {
	return base64.StdEncoding.EncodeToString([]byte(strconv.FormatInt(seq, 10) + ".0||>~?|"))
}

func parseCursor(c string) (int64, bool) {
	b, err := base64.StdEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	n, rest, ok := strings.Cut(string(b), ".0||")
	if !ok || rest != ">~?|" {
		return 0, false
	}
	seq, err := strconv.ParseInt(n, 10, 64)
	return seq, err == nil
}

// ---- tags ---------------------------------------------------------------------------------------

func normTags(in []string) []string {
	out := []string{}
	for _, t := range in {
		for _, f := range strings.Fields(strings.ToLower(t)) {
			if !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	return out
}

func addTags(have, add []string) []string {
	for _, t := range normTags(add) {
		if !slices.Contains(have, t) {
			have = append(have, t)
		}
	}
	return have
}

func removeTags(have, remove []string) []string {
	rm := normTags(remove)
	return slices.DeleteFunc(have, func(t string) bool { return slices.Contains(rm, t) })
}

// stripHTML is the plain body Zendesk derives from a comment's html_body: the text, entities
// decoded (golang.org/x/net/html's tokenizer), a line break for <br> and after each block,
// scripts and styles left out.
func stripHTML(s string) string {
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(s))
	skip := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return strings.TrimSpace(b.String())
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			switch name, _ := z.TagName(); string(name) {
			case "script", "style":
				skip++
			case "br":
				b.WriteString("\n")
			}
		case html.EndTagToken:
			switch name, _ := z.TagName(); string(name) {
			case "script", "style":
				skip = max(0, skip-1)
			case "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "blockquote", "pre":
				b.WriteString("\n")
			}
		}
	}
}

// Ticket returns a copy of a ticket and its comments.
func (s *Server) Ticket(id int64) (Ticket, []Comment, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tickets[id]
	if t == nil {
		return Ticket{}, nil, false
	}
	cs := make([]Comment, len(s.comments[id]))
	for i, c := range s.comments[id] {
		cs[i] = *c
	}
	c := *t
	c.Tags = slices.Clone(t.Tags)
	return c, cs, true
}

// Tickets returns copies of every ticket.
func (s *Server) Tickets() []Ticket {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Ticket
	for _, t := range s.sortedTickets() {
		c := *t
		c.Tags = slices.Clone(t.Tags)
		out = append(out, c)
	}
	return out
}

// User returns a copy of a user.
func (s *Server) User(id int64) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[id]
	if u == nil {
		return User{}, false
	}
	return *u, true
}

// UserByEmail returns a copy of the user with this email.
func (s *Server) UserByEmail(email string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userByEmail(email)
	if u == nil {
		return User{}, false
	}
	return *u, true
}

// ---- redaction ----------------------------------------------------------------------------------

// commentOf finds a comment of a ticket (the caller holds the lock).
func (s *Server) commentOf(r *http.Request) (*Comment, bool) {
	id, ok1 := pathID(r, "id")
	cid, ok2 := pathID(r, "cid")
	if !ok1 || !ok2 || s.tickets[id] == nil {
		return nil, false
	}
	for _, c := range s.comments[id] {
		if c.ID == cid {
			return c, true
		}
	}
	return nil, false
}

// redactComment answers PUT /api/v2/tickets/{id}/comments/{cid}/redact.json {"text": "…"}:
// like Zendesk's "Redact String in Comment", every occurrence of the text in the comment is
// replaced by as many ▇ (422 when the comment does not contain it).
func (s *Server) redactComment(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Text string `json:"text"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Text == "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "InvalidEndpoint", "description": "text is required"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.commentOf(r)
	if !ok {
		notFound(w)
		return
	}
	if !strings.Contains(c.Body, in.Text) {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": "RecordInvalid", "description": "the text to redact is not in the comment"})
		return
	}
	blot := strings.Repeat("▇", utf8.RuneCountInString(in.Text))
	c.Body = strings.ReplaceAll(c.Body, in.Text, blot)
	c.PlainBody = strings.ReplaceAll(c.PlainBody, in.Text, blot)
	c.HTMLBody = strings.ReplaceAll(c.HTMLBody, html.EscapeString(in.Text), blot)
	writeJSON(w, http.StatusOK, map[string]any{"comment": c})
}

// redactAttachment answers PUT /api/v2/tickets/{id}/comments/{cid}/attachments/{aid}/redact.json:
// like Zendesk's "Redact Comment Attachment", the file becomes an empty redacted.txt.
func (s *Server) redactAttachment(w http.ResponseWriter, r *http.Request) {
	aid, _ := pathID(r, "aid")
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.commentOf(r)
	if !ok {
		notFound(w)
		return
	}
	for _, a := range c.Attachments {
		if a.ID != aid {
			continue
		}
		a.FileName, a.ContentType, a.Size, a.data = "redacted.txt", "text/plain", 0, []byte{}
		if s.FilesDir != "" {
			_ = os.Remove(s.file(a.ID))
		}
		writeJSON(w, http.StatusOK, map[string]any{"attachment": a})
		return
	}
	notFound(w)
}
