// Package zendesk is abusedesk's Zendesk adapter, both directions of the ticketing port:
//   - tickets out: the case tickets the activities keep (activities.Tickets), named by
//     neutral ticket.Refs (system "zendesk", the ticket's number as ID);
//   - decisions in: Channel, the signed webhook and the incremental-export poll, which verify
//     what happened on a ticket (the signature, the ticket's audits) and hand it to the desk
//     as a ticket.Report, Reply or Decision (ticket.Desk);
//   - provisioning of the account (`desk zendesk provision`): fields, macros, triggers, the
//     webhook.
//
// It is built on github.com/nukosuke/go-zendesk v0.18.0, with one raw helper (Client.raw)
// where that library falls short.
//
// go-zendesk v0.18.0 gaps and bugs this package works around:
//   - CreateTicketComment returns an empty comment: comments are added through a ticket
//     update (raw PUT with "comment"), whose answer is the ticket.
//   - Ticket has no additional_tags/remove_tags: updates that add or remove tags are raw.
//   - Macro decoding fails on array values (comment_value is ["channel:all", "…"]) and list
//     filters are ignored: macros are read and written raw, with tolerant values.
//   - No macro apply, no tag removal, no incremental export, no listing by external_id, no
//     webhook listing: raw.
//   - GetTicketFields reads the first page only; GetTicketAudits cannot ask newest first;
//     GetGroupMemberships does not filter by group: these lists are raw.
//   - RedactCommentAttachment and RedactTicketComment put "/api/v2" in their path twice (and
//     the latter is Agent Workspace's HTML redaction): redactions are raw.
//
// Everything else goes through the library: reading a ticket (GetTicket; the raw listings
// decode the same zd.Ticket), creating one, uploads, users, field creation and updates,
// webhooks and triggers.
//   - No retry on 429: every request goes through httpx.Retry (Retry-After honoured).
//   - Partial updates of users and organizations send zero values: abusedesk never updates
//     them; requesters are created through the ticket's "requester" object.
package zendesk

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	zd "github.com/nukosuke/go-zendesk/zendesk"

	"abusedesk/domain/fault"
	"abusedesk/domain/ticket"
	"abusedesk/platform/httpx"
)

const service = "zendesk"

// Config says how to reach a Zendesk account.
type Config struct {
	// URL is the account's base URL, e.g. https://acme.zendesk.com.
	URL   string
	Email string
	Token string
	// GroupID and BrandID place case tickets (0: the account's defaults).
	GroupID int64
	BrandID int64
	// HTTP replaces the HTTP client (default: 30 s timeout, retrying transport).
	HTTP *http.Client
}

// Client is a Zendesk client for one account.
type Client struct {
	cfg  Config
	zd   *zd.Client
	http *http.Client
	api  string

	mu     sync.Mutex
	fields map[string]int64
}

// New makes a client. It does not call Zendesk.
func New(cfg Config) (*Client, error) {
	if cfg.URL == "" || cfg.Email == "" || cfg.Token == "" {
		return nil, errors.New("zendesk: URL, email and API token are required")
	}
	cfg.URL = strings.TrimRight(cfg.URL, "/")
	if cfg.HTTP == nil {
		cfg.HTTP = httpx.Client(30 * time.Second)
	}
	z, err := zd.NewClient(cfg.HTTP)
	if err != nil {
		return nil, err
	}
	if err := z.SetEndpointURL(cfg.URL + "/api/v2"); err != nil {
		return nil, fmt.Errorf("zendesk: URL %q: %w", cfg.URL, err)
	}
	z.SetCredential(zd.NewAPITokenCredential(cfg.Email, cfg.Token))
	return &Client{cfg: cfg, zd: z, http: cfg.HTTP, api: cfg.URL + "/api/v2"}, nil
}

// AgentURL is where an agent opens a ticket.
func (c *Client) AgentURL(id int64) string { return fmt.Sprintf("%s/agent/tickets/%d", c.cfg.URL, id) }

// Ref is the neutral reference to Zendesk ticket id.
func (c *Client) Ref(id int64) ticket.Ref {
	return ticket.Ref{System: ticket.Zendesk, ID: strconv.FormatInt(id, 10), URL: c.AgentURL(id)}
}

// URLOf is where an agent opens the ticket ref names ("" when it is not a Zendesk ticket).
func (c *Client) URLOf(ref ticket.Ref) string {
	id, err := IDOf(ref)
	if err != nil {
		return ""
	}
	return c.AgentURL(id)
}

// IDOf is the Zendesk ticket a reference names: a reference to another system's ticket, or
// with an ID that is not a Zendesk one, is invalid input (fault.Invalid), never retried.
func IDOf(ref ticket.Ref) (int64, error) {
	if ref.System != ticket.Zendesk && ref.System != "" {
		return 0, &fault.Error{Kind: fault.Invalid, Service: service, Op: "name ticket " + ref.String(), Message: "not a Zendesk ticket"}
	}
	n, ok := ref.Number()
	if !ok {
		return 0, &fault.Error{Kind: fault.Invalid, Service: service, Op: fmt.Sprintf("name ticket %q", ref.ID), Message: "not a Zendesk ticket ID"}
	}
	return n, nil
}

// BaseURL is the account's URL.
func (c *Client) BaseURL() string { return c.cfg.URL }

// ---- tickets (activities.Tickets) ------------------------------------------------------------

// A ticket is read one way, as go-zendesk's zd.Ticket: through its GetTicket, and decoded the
// same way from the listings it has no call for (by external ID, the incremental export).

func (c *Client) toTicket(t zd.Ticket) *ticket.Ticket {
	return &ticket.Ticket{Ref: c.Ref(t.ID), Status: t.Status, Tags: t.Tags}
}

// FindTicket implements the activities' Tickets: the ticket with this external ID, or nil.
func (c *Client) FindTicket(ctx context.Context, externalID string) (*ticket.Ticket, error) {
	var out struct {
		Tickets []zd.Ticket `json:"tickets"`
	}
	if err := c.raw(ctx, "find ticket by external id", http.MethodGet, "/tickets.json?external_id="+url.QueryEscape(externalID), nil, &out); err != nil {
		return nil, err
	}
	for _, t := range out.Tickets {
		if t.ExternalID == externalID {
			return c.toTicket(t), nil
		}
	}
	return nil, nil
}

// GetTicket implements the activities' Tickets.
func (c *Client) GetTicket(ctx context.Context, ref ticket.Ref) (*ticket.Ticket, error) {
	id, err := IDOf(ref)
	if err != nil {
		return nil, err
	}
	t, err := c.zd.GetTicket(ctx, id)
	if err != nil {
		return nil, classify("get ticket "+strconv.FormatInt(id, 10), err)
	}
	return c.toTicket(t), nil
}

// Ticket returns the whole ticket as abusedesk reads it (for intake and the dashboard).
func (c *Client) Ticket(ctx context.Context, id int64) (*TicketInfo, error) {
	t, err := c.zd.GetTicket(ctx, id)
	if err != nil {
		return nil, classify("get ticket "+strconv.FormatInt(id, 10), err)
	}
	return c.info(ctx, t)
}

// TicketInfo is a ticket with its case fields decoded by key.
type TicketInfo struct {
	ID          int64
	URL         string
	ExternalID  string
	Subject     string
	Description string
	Status      string
	RequesterID int64
	GroupID     int64
	// AssigneeID is the assigned agent (0: nobody).
	AssigneeID int64
	BrandID    int64
	Tags       []string
	Fields     map[string]string
	Channel    string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

func (c *Client) info(ctx context.Context, t zd.Ticket) (*TicketInfo, error) {
	ids, err := c.caseFieldIDs(ctx)
	if err != nil {
		return nil, err
	}
	ti := &TicketInfo{ID: t.ID, URL: c.AgentURL(t.ID), ExternalID: t.ExternalID, Subject: t.Subject, Description: t.Description,
		Status: t.Status, RequesterID: t.RequesterID, AssigneeID: t.AssigneeID, BrandID: t.BrandID, Tags: t.Tags, Fields: map[string]string{}}
	if t.GroupID != "" {
		if ti.GroupID, err = t.GroupID.Int64(); err != nil {
			return nil, &fault.Error{Kind: fault.Invalid, Service: service, Op: fmt.Sprintf("read ticket %d", t.ID), Message: "group_id " + t.GroupID.String() + " is not a number"}
		}
	}
	if t.Via != nil {
		ti.Channel = t.Via.Channel
	}
	if t.CreatedAt != nil {
		ti.CreatedAt = *t.CreatedAt
	}
	if t.UpdatedAt != nil {
		ti.UpdatedAt = *t.UpdatedAt
	}
	for key, id := range ids {
		for _, cf := range t.CustomFields {
			if cf.ID == id && cf.Value != nil {
				ti.Fields[key] = fmt.Sprint(cf.Value)
			}
		}
	}
	return ti, nil
}

// CreateTicket implements the activities' Tickets. Case fields are written as strings.
func (c *Client) CreateTicket(ctx context.Context, n ticket.New) (*ticket.Ticket, error) {
	fields, err := c.customFields(ctx, n.Fields)
	if err != nil {
		return nil, err
	}
	public := n.Comment.Public
	t := zd.Ticket{
		Subject:      n.Subject,
		ExternalID:   n.ExternalID,
		Status:       n.Status,
		Tags:         n.Tags,
		CustomFields: fields,
		Requester:    &zd.Requester{Name: n.RequesterName, Email: n.RequesterEmail},
		Comment:      &zd.TicketComment{Body: n.Comment.Body, Public: &public, Uploads: n.Comment.Uploads},
		BrandID:      c.cfg.BrandID,
		Recipient:    n.Recipient,
	}
	if g := cmp.Or(n.GroupID, c.cfg.GroupID); g != 0 {
		t.GroupID = json.Number(strconv.FormatInt(g, 10))
	}
	created, err := c.zd.CreateTicket(ctx, t)
	if err != nil {
		return nil, classify("create ticket", err)
	}
	return &ticket.Ticket{Ref: c.Ref(created.ID), Status: created.Status, Tags: created.Tags}, nil
}

// UpdateTicket implements the activities' Tickets. A comment goes through the ticket update (the
// library's CreateTicketComment returns an empty comment), and tags are added with
// additional_tags so agents' tags are kept.
func (c *Client) UpdateTicket(ctx context.Context, ref ticket.Ref, u ticket.Update) error {
	id, err := IDOf(ref)
	if err != nil {
		return err
	}
	return c.Update(ctx, id, Update{Comment: u.Comment, Status: u.Status, AddTags: u.AddTags, Fields: u.Fields, GroupID: u.GroupID, Assign: u.Assign})
}

// Update is a ticket update with everything abusedesk changes.
type Update struct {
	Comment    *ticket.Comment
	AuthorID   int64
	Status     string
	AddTags    []string
	RemoveTags []string
	Fields     map[string]string
	// GroupID moves the ticket to another group (0: stays).
	GroupID int64
	// Assign, when set, makes this user the ticket's assignee (0: nobody, sent as null).
	Assign *int64
}

// Update changes a ticket.
func (c *Client) Update(ctx context.Context, id int64, u Update) error {
	body := map[string]any{}
	if u.Comment != nil {
		cm := map[string]any{"body": u.Comment.Body, "public": u.Comment.Public}
		if len(u.Comment.Uploads) > 0 {
			cm["uploads"] = u.Comment.Uploads
		}
		if u.AuthorID != 0 {
			cm["author_id"] = u.AuthorID
		}
		body["comment"] = cm
	}
	if u.Status != "" {
		body["status"] = u.Status
	}
	if u.GroupID != 0 {
		body["group_id"] = u.GroupID
	}
	if u.Assign != nil {
		body["assignee_id"] = nil
		if *u.Assign != 0 {
			body["assignee_id"] = *u.Assign
		}
	}
	if len(u.AddTags) > 0 {
		body["additional_tags"] = u.AddTags
	}
	if len(u.RemoveTags) > 0 {
		body["remove_tags"] = u.RemoveTags
	}
	if len(u.Fields) > 0 {
		fields, err := c.customFields(ctx, u.Fields)
		if err != nil {
			return err
		}
		if len(fields) > 0 {
			body["custom_fields"] = fields
		}
	}
	return c.raw(ctx, "update ticket "+strconv.FormatInt(id, 10), http.MethodPut, fmt.Sprintf("/tickets/%d.json", id), map[string]any{"ticket": body}, nil)
}

// Upload implements the activities' Tickets.
func (c *Client) Upload(ctx context.Context, filename, _ string, data []byte) (string, error) {
	w := c.zd.UploadAttachment(ctx, filename, "")
	if _, err := w.Write(data); err != nil {
		return "", classify("upload "+filename, err)
	}
	up, err := w.Close()
	if err != nil {
		return "", classify("upload "+filename, err)
	}
	return up.Token, nil
}

// ---- comments, users, attachments -----------------------------------------------------------

// Comment is a ticket comment as intake reads it.
type Comment struct {
	ID          int64                    `json:"id"`
	AuthorID    int64                    `json:"author_id"`
	Body        string                   `json:"body"`
	Public      bool                     `json:"public"`
	CreatedAt   time.Time                `json:"created_at"`
	Attachments []AttachmentInfo         `json:"attachments"`
	Via         struct{ Channel string } `json:"via"`
}

// AttachmentInfo is a file on a comment.
type AttachmentInfo struct {
	ID          int64  `json:"id"`
	FileName    string `json:"file_name"`
	ContentType string `json:"content_type"`
	ContentURL  string `json:"content_url"`
	Size        int    `json:"size"`
}

// Comments lists a ticket's comments, newest first (at most 100).
func (c *Client) Comments(ctx context.Context, id int64) ([]Comment, error) {
	var out struct {
		Comments []Comment `json:"comments"`
	}
	if err := c.raw(ctx, "list comments of "+strconv.FormatInt(id, 10), http.MethodGet, fmt.Sprintf("/tickets/%d/comments.json?sort_order=desc&per_page=100", id), nil, &out); err != nil {
		return nil, err
	}
	return out.Comments, nil
}

// Redact removes every occurrence of texts from a ticket's comments (Zendesk's Redact String in
// Comment: each becomes ▇s), and the files named report-….eml the desk attached as evidence
// (Redact Comment Attachment: each becomes an empty redacted.txt), so what moved to a
// confidential matter no longer shows on the ticket. It looks at the latest 100 comments and
// returns how many strings and files it removed. Texts shorter than 8 characters are left: too
// likely to blot out words that say nothing.
func (c *Client) Redact(ctx context.Context, ref ticket.Ref, texts []string) (int, error) {
	id, err := IDOf(ref)
	if err != nil {
		return 0, err
	}
	comments, err := c.Comments(ctx, id)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, cm := range comments {
		for _, t := range texts {
			if len([]rune(t)) < 8 || !strings.Contains(cm.Body, t) {
				continue
			}
			path := fmt.Sprintf("/tickets/%d/comments/%d/redact.json", id, cm.ID)
			if err := c.raw(ctx, fmt.Sprintf("redact comment %d of ticket %d", cm.ID, id), http.MethodPut, path, map[string]string{"text": t}, nil); err != nil {
				return n, err
			}
			n++
		}
		for _, a := range cm.Attachments {
			if !strings.HasPrefix(a.FileName, ticket.EvidencePrefix) {
				continue
			}
			path := fmt.Sprintf("/tickets/%d/comments/%d/attachments/%d/redact.json", id, cm.ID, a.ID)
			if err := c.raw(ctx, fmt.Sprintf("redact attachment %d of ticket %d", a.ID, id), http.MethodPut, path, map[string]any{}, nil); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// Audit is one update of a ticket as Zendesk recorded it: who made it, the comment it added and
// the tags it added. It is what says who applied a macro (the ticket's latest comment does not).
type Audit struct {
	ID        int64
	AuthorID  int64
	CreatedAt time.Time
	// Comment is the comment the update added (nil: none).
	Comment *Comment
	// AddedTags are the tags the update added (at creation: every tag).
	AddedTags []string
	// AssigneeChanged says the update changed the assignee, to Assignee (0: nobody).
	AssigneeChanged bool
	Assignee        int64
}

// auditID reads a user ID an audit event gives as a string, a number or null (0).
func auditID(raw json.RawMessage) int64 {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return 0
	}
	switch x := v.(type) {
	case string:
		id, _ := strconv.ParseInt(x, 10, 64)
		return id
	case float64:
		return int64(x)
	}
	return 0
}

// Audits lists a ticket's audits, newest first (the latest 100).
func (c *Client) Audits(ctx context.Context, id int64) ([]Audit, error) {
	var out struct {
		Audits []struct {
			ID        int64     `json:"id"`
			AuthorID  int64     `json:"author_id"`
			CreatedAt time.Time `json:"created_at"`
			Events    []struct {
				ID            int64           `json:"id"`
				Type          string          `json:"type"`
				Body          string          `json:"body"`
				Public        bool            `json:"public"`
				AuthorID      int64           `json:"author_id"`
				FieldName     string          `json:"field_name"`
				Value         json.RawMessage `json:"value"`
				PreviousValue json.RawMessage `json:"previous_value"`
			} `json:"events"`
		} `json:"audits"`
	}
	if err := c.raw(ctx, "list audits of "+strconv.FormatInt(id, 10), http.MethodGet, fmt.Sprintf("/tickets/%d/audits.json?sort_order=desc&per_page=100", id), nil, &out); err != nil {
		return nil, err
	}
	audits := make([]Audit, 0, len(out.Audits))
	for _, w := range out.Audits {
		a := Audit{ID: w.ID, AuthorID: w.AuthorID, CreatedAt: w.CreatedAt}
		for _, e := range w.Events {
			switch {
			case e.Type == "Comment":
				a.Comment = &Comment{ID: e.ID, AuthorID: e.AuthorID, Body: e.Body, Public: e.Public, CreatedAt: w.CreatedAt}
			case e.FieldName == "assignee_id" && e.Type == "Change":
				a.AssigneeChanged, a.Assignee = true, auditID(e.Value)
			case e.FieldName == "tags" && (e.Type == "Create" || e.Type == "Change"):
				before := auditTags(e.PreviousValue)
				for _, t := range auditTags(e.Value) {
					if !slices.Contains(before, t) {
						a.AddedTags = append(a.AddedTags, t)
					}
				}
			}
		}
		audits = append(audits, a)
	}
	return audits, nil
}

// auditTags reads an audit event's tags: a list, or (in older audits) one space-separated string.
func auditTags(raw json.RawMessage) []string {
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return list
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return strings.Fields(one)
	}
	return nil
}

// User is a Zendesk user as abusedesk needs it.
type User struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
	Role  string `json:"role"`
}

// User reads a user.
func (c *Client) User(ctx context.Context, id int64) (*User, error) {
	u, err := c.zd.GetUser(ctx, id)
	if err != nil {
		return nil, classify("get user "+strconv.FormatInt(id, 10), err)
	}
	return &User{ID: u.ID, Name: u.Name, Email: u.Email, Role: u.Role}, nil
}

// AgentEmail is a user's e-mail address (implements the activities' Tickets).
func (c *Client) AgentEmail(ctx context.Context, id int64) (string, error) {
	u, err := c.User(ctx, id)
	if err != nil {
		return "", err
	}
	return u.Email, nil
}

// GroupMembers lists the IDs of a group's agents (GET /groups/{id}/memberships, every page).
// go-zendesk's GetGroupMemberships asks /group_memberships.json with a group_id parameter
// that the endpoint does not filter by: it would list every group's agents.
// Group 0 is the desk's own group (ZENDESK_GROUP_ID).
func (c *Client) GroupMembers(ctx context.Context, group int64) ([]int64, error) {
	group = cmp.Or(group, c.cfg.GroupID)
	op := "list the members of group " + strconv.FormatInt(group, 10)
	if group == 0 {
		return nil, &fault.Error{Kind: fault.Invalid, Service: service, Op: op, Message: "no group is configured (ZENDESK_LEGAL_GROUP_ID, ZENDESK_GROUP_ID)"}
	}
	var ids []int64
	next := fmt.Sprintf("/groups/%d/memberships.json?per_page=100", group)
	for page := 0; next != "" && page < 100; page++ {
		var out struct {
			GroupMemberships []struct {
				UserID int64 `json:"user_id"`
			} `json:"group_memberships"`
			NextPage *string `json:"next_page"`
		}
		if err := c.raw(ctx, op, http.MethodGet, next, nil, &out); err != nil {
			return nil, err
		}
		for _, m := range out.GroupMemberships {
			ids = append(ids, m.UserID)
		}
		next = ""
		if out.NextPage != nil {
			next = *out.NextPage
		}
	}
	return ids, nil
}

// Download reads an attachment's content (authenticated, at most limit bytes).
func (c *Client) Download(ctx context.Context, contentURL string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, contentURL, nil)
	if err != nil {
		return nil, &fault.Error{Kind: fault.Invalid, Service: service, Op: "download attachment", Message: err.Error()}
	}
	req.SetBasicAuth(c.cfg.Email+"/token", c.cfg.Token)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, httpx.Classify(service, "download attachment", nil, nil, err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := httpx.ReadBody(resp, 1<<16)
		return nil, httpx.Classify(service, "download attachment", resp, b, nil)
	}
	b, err := httpx.ReadBody(resp, limit)
	if err != nil {
		return nil, &fault.Error{Kind: fault.Invalid, Service: service, Op: "download attachment", Message: err.Error()}
	}
	return b, nil
}

// ---- case fields ----------------------------------------------------------------------------

// fieldMarker is how provisioning marks a custom field as one of abusedesk's case fields: the
// field's description contains "[abusedesk:<key>]".
func fieldMarker(key string) string { return "[abusedesk:" + key + "]" }

// caseFieldIDs maps case field keys to the account's custom field IDs (read once).
func (c *Client) caseFieldIDs(ctx context.Context) (map[string]int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fields != nil {
		return c.fields, nil
	}
	fields, err := c.ticketFields(ctx)
	if err != nil {
		return nil, err
	}
	ids := map[string]int64{}
	for _, f := range fields {
		for _, key := range ticket.CaseFields {
			if f.Active && strings.Contains(f.Description, fieldMarker(key)) {
				ids[key] = f.ID
			}
		}
	}
	c.fields = ids
	return ids, nil
}

// ForgetFields drops the cached field IDs (after provisioning).
func (c *Client) ForgetFields() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fields = nil
}

func (c *Client) ticketFields(ctx context.Context) ([]zd.TicketField, error) {
	var all []zd.TicketField
	path := "/ticket_fields.json?per_page=100"
	for path != "" {
		var out struct {
			TicketFields []zd.TicketField `json:"ticket_fields"`
			NextPage     *string          `json:"next_page"`
		}
		if err := c.raw(ctx, "list ticket fields", http.MethodGet, path, nil, &out); err != nil {
			return nil, err
		}
		all = append(all, out.TicketFields...)
		path = ""
		if out.NextPage != nil {
			path = strings.TrimPrefix(*out.NextPage, c.api)
		}
	}
	return all, nil
}

// customFields turns case field values into Zendesk custom fields. Values are strings, as
// Zendesk's text fields want; keys the account has no field for are skipped.
func (c *Client) customFields(ctx context.Context, values map[string]string) ([]zd.CustomField, error) {
	if len(values) == 0 {
		return nil, nil
	}
	ids, err := c.caseFieldIDs(ctx)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []zd.CustomField
	for _, k := range keys {
		if id, ok := ids[k]; ok {
			out = append(out, zd.CustomField{ID: id, Value: values[k]})
		}
	}
	return out, nil
}

// ---- raw calls and errors -------------------------------------------------------------------

// raw sends a request to the API (path relative to /api/v2) and decodes the JSON answer.
func (c *Client) raw(ctx context.Context, op, method, path string, in, out any) error {
	var body io.Reader
	var payload []byte
	if in != nil {
		var err error
		if payload, err = json.Marshal(in); err != nil {
			return &fault.Error{Kind: fault.Invalid, Service: service, Op: op, Message: err.Error()}
		}
		body = bytes.NewReader(payload)
	}
	target := path
	if !strings.HasPrefix(path, "http") {
		target = c.api + path
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return &fault.Error{Kind: fault.Invalid, Service: service, Op: op, Message: err.Error()}
	}
	req.SetBasicAuth(c.cfg.Email+"/token", c.cfg.Token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return httpx.Classify(service, op, nil, nil, err)
	}
	b, err := httpx.ReadBody(resp, 32<<20)
	if err != nil {
		return httpx.Classify(service, op, nil, nil, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		fe := httpx.Classify(service, op, resp, nil, nil).(*fault.Error)
		fe.Message = errorMessage(b)
		return fe
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return &fault.Error{Kind: fault.Transient, Service: service, Op: op, Status: resp.StatusCode, Message: "undecodable answer: " + err.Error()}
		}
	}
	return nil
}

// classify turns a go-zendesk error into a *fault.Error.
func classify(op string, err error) error {
	var ze zd.Error
	if errors.As(err, &ze) {
		fe := &fault.Error{Kind: fault.FromHTTP(ze.Status()), Service: service, Op: op, Status: ze.Status()}
		b, _ := io.ReadAll(ze.Body())
		fe.Message = errorMessage(b)
		if fe.Kind == fault.RateLimited {
			fe.RetryAfter = fault.ParseRetryAfter(ze.Headers().Get("Retry-After"), time.Now())
		}
		return fe
	}
	return httpx.Classify(service, op, nil, nil, err)
}

// errorMessage reads Zendesk's error shapes ({"error", "description", "details"} and the
// newer {"errors": [{"title", "detail"}]}) into one line.
func errorMessage(b []byte) string {
	var e struct {
		Error       any            `json:"error"`
		Description string         `json:"description"`
		Details     map[string]any `json:"details"`
		Errors      []struct {
			Title  string `json:"title"`
			Detail string `json:"detail"`
		} `json:"errors"`
	}
	if json.Unmarshal(b, &e) != nil {
		s := strings.TrimSpace(string(b))
		if len(s) > 300 {
			s = s[:300] + "…"
		}
		return s
	}
	var parts []string
	switch v := e.Error.(type) {
	case string:
		parts = append(parts, v)
	case map[string]any:
		if t, ok := v["title"].(string); ok {
			parts = append(parts, t)
		}
		if m, ok := v["message"].(string); ok {
			parts = append(parts, m)
		}
	}
	if e.Description != "" {
		parts = append(parts, e.Description)
	}
	keys := make([]string, 0, len(e.Details))
	for k := range e.Details {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if list, ok := e.Details[k].([]any); ok {
			for _, item := range list {
				if m, ok := item.(map[string]any); ok {
					if d, ok := m["description"].(string); ok {
						parts = append(parts, d)
					}
				}
			}
		}
	}
	for _, x := range e.Errors {
		parts = append(parts, strings.TrimSpace(x.Title+" "+x.Detail))
	}
	return strings.Join(parts, ": ")
}
