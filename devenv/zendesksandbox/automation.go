package zendesksandbox

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

func hmacSHA256(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// ---- ticket fields -------------------------------------------------------------------------

func (s *Server) listFields(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	writePage(w, r, s.base, "ticket_fields", s.fields)
}

func (s *Server) createField(w http.ResponseWriter, r *http.Request) {
	var in struct {
		TicketField struct {
			Type        string `json:"type"`
			Title       string `json:"title"`
			Description string `json:"description"`
			Active      *bool  `json:"active"`
		} `json:"ticket_field"`
	}
	if !decode(w, r, &in) {
		return
	}
	f := in.TicketField
	if f.Title == "" {
		writeInvalid(w, "title", "Title: cannot be blank")
		return
	}
	if !slices.Contains([]string{"text", "textarea", "checkbox", "date", "integer", "decimal", "regexp", "tagger"}, f.Type) {
		writeInvalid(w, "type", "Type: is invalid")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	tf := &TicketField{ID: s.id(), Type: f.Type, Title: f.Title, Description: f.Description, Active: f.Active == nil || *f.Active,
		Position: len(s.fields) + 1, CreatedAt: now, UpdatedAt: now}
	tf.URL = fmt.Sprintf("%s/api/v2/ticket_fields/%d.json", s.base, tf.ID)
	s.fields = append(s.fields, tf)
	writeJSON(w, http.StatusCreated, map[string]any{"ticket_field": tf})
}

func (s *Server) updateField(w http.ResponseWriter, r *http.Request) {
	id, _ := pathID(r, "id")
	var in struct {
		TicketField struct {
			Type        *string `json:"type"`
			Title       *string `json:"title"`
			Description *string `json:"description"`
			Active      *bool   `json:"active"`
		} `json:"ticket_field"`
	}
	if !decode(w, r, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.fields {
		if f.ID == id {
			if t := in.TicketField.Type; t != nil && *t != f.Type {
				writeInvalid(w, "type", "Type: cannot be changed")
				return
			}
			if t := in.TicketField.Title; t != nil && *t == "" {
				writeInvalid(w, "title", "Title: cannot be blank")
				return
			}
			if in.TicketField.Title != nil {
				f.Title = *in.TicketField.Title
			}
			if in.TicketField.Description != nil {
				f.Description = *in.TicketField.Description
			}
			if in.TicketField.Active != nil {
				f.Active = *in.TicketField.Active
			}
			f.UpdatedAt = s.now()
			writeJSON(w, http.StatusOK, map[string]any{"ticket_field": f})
			return
		}
	}
	notFound(w)
}

// ---- macros ----------------------------------------------------------------------------------

type macroIn struct {
	Macro struct {
		Title       string   `json:"title"`
		Description *string  `json:"description"`
		Active      *bool    `json:"active"`
		Actions     []Action `json:"actions"`
	} `json:"macro"`
}

func (s *Server) listMacros(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	writePage(w, r, s.base, "macros", s.macros)
}

func (s *Server) createMacro(w http.ResponseWriter, r *http.Request) {
	var in macroIn
	if !decode(w, r, &in) {
		return
	}
	if in.Macro.Title == "" || len(in.Macro.Actions) == 0 {
		writeInvalid(w, "base", "Macro needs a title and at least one action")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	m := &Macro{ID: s.id(), Title: in.Macro.Title, Description: in.Macro.Description, Active: in.Macro.Active == nil || *in.Macro.Active,
		Actions: in.Macro.Actions, Position: len(s.macros) + 1, CreatedAt: now, UpdatedAt: now}
	m.URL = fmt.Sprintf("%s/api/v2/macros/%d.json", s.base, m.ID)
	s.macros = append(s.macros, m)
	writeJSON(w, http.StatusCreated, map[string]any{"macro": m})
}

func (s *Server) findMacro(r *http.Request) *Macro {
	id, _ := pathID(r, "id")
	if mid, ok := pathID(r, "mid"); ok {
		id = mid
	}
	for _, m := range s.macros {
		if m.ID == id {
			return m
		}
	}
	return nil
}

func (s *Server) getMacro(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.findMacro(r)
	if m == nil {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"macro": m})
}

func (s *Server) updateMacro(w http.ResponseWriter, r *http.Request) {
	var in macroIn
	if !decode(w, r, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.findMacro(r)
	if m == nil {
		notFound(w)
		return
	}
	if in.Macro.Title != "" {
		m.Title = in.Macro.Title
	}
	if in.Macro.Description != nil {
		m.Description = in.Macro.Description
	}
	if in.Macro.Active != nil {
		m.Active = *in.Macro.Active
	}
	if in.Macro.Actions != nil {
		m.Actions = in.Macro.Actions
	}
	m.UpdatedAt = s.now()
	writeJSON(w, http.StatusOK, map[string]any{"macro": m})
}

// applyMacro computes what a macro would do to a ticket, like Zendesk's apply endpoint: the
// ticket changes and the comment, with placeholders rendered. Nothing is saved; the agent's
// next ticket update submits it.
func (s *Server) applyMacro(w http.ResponseWriter, r *http.Request) {
	tid, _ := pathID(r, "id")
	user := s.current(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tickets[tid]
	m := s.findMacro(r)
	if t == nil || m == nil {
		notFound(w)
		return
	}
	tags := slices.Clone(t.Tags)
	ticket := map[string]any{"id": t.ID, "url": t.URL}
	comment := map[string]any{}
	for _, a := range m.Actions {
		val := actionValue(a.Value)
		switch {
		case a.Field == "comment_value" || a.Field == "comment_value_html":
			text := s.render(val, t, user, false)
			comment["body"] = text
			comment["html_body"] = "<p>" + text + "</p>"
			comment["scoped_body"] = [][]string{{"channel:all", text}}
			if _, set := comment["public"]; !set {
				comment["public"] = true
			}
		case a.Field == "comment_mode_is_public":
			comment["public"] = val == "true"
		case a.Field == "current_tags":
			tags = addTags(tags, []string{val})
		case a.Field == "remove_tags":
			tags = removeTags(tags, []string{val})
		case a.Field == "set_tags":
			tags = normTags([]string{val})
		case a.Field == "status" || a.Field == "priority" || a.Field == "group_id" || a.Field == "type":
			ticket[a.Field] = val
		}
	}
	ticket["tags"] = tags
	result := map[string]any{"ticket": ticket}
	if len(comment) > 0 {
		result["comment"] = comment
	}
	writeJSON(w, http.StatusOK, map[string]any{"result": result})
}

// actionValue reads an action value: a string, or the last string of an array (Zendesk writes
// comment_value as ["channel:all", "text"]).
func actionValue(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var arr []any
	if json.Unmarshal(raw, &arr) == nil && len(arr) > 0 {
		return fmt.Sprint(arr[len(arr)-1])
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return string(raw)
}

var placeholder = regexp.MustCompile(`\{\{\s*([a-z0-9_.]+)\s*\}\}`)

// render replaces Zendesk placeholders; with asJSON the values are JSON-string escaped (for
// webhook bodies).
func (s *Server) render(text string, t *Ticket, user *User, asJSON bool) string {
	return placeholder.ReplaceAllStringFunc(text, func(m string) string {
		key := placeholder.FindStringSubmatch(m)[1]
		v, ok := s.placeholderValue(key, t, user)
		if !ok {
			return m
		}
		if asJSON {
			b, _ := json.Marshal(v)
			return string(b[1 : len(b)-1])
		}
		return v
	})
}

func (s *Server) placeholderValue(key string, t *Ticket, user *User) (string, bool) {
	req := s.users[t.RequesterID]
	switch key {
	case "ticket.id":
		return strconv.FormatInt(t.ID, 10), true
	case "ticket.external_id":
		if t.ExternalID == nil {
			return "", true
		}
		return *t.ExternalID, true
	case "ticket.title", "ticket.subject":
		return t.Subject, true
	case "ticket.status":
		return t.Status, true
	case "ticket.tags":
		return strings.Join(t.Tags, " "), true
	case "ticket.updated_at_with_timestamp":
		return t.UpdatedAt.Format(time.RFC3339), true
	case "ticket.group.id":
		if t.GroupID == nil {
			return "", true
		}
		return strconv.FormatInt(*t.GroupID, 10), true
	case "ticket.requester.email", "ticket.requester.name", "ticket.requester.first_name":
		if req == nil {
			return "", true
		}
		first, _, _ := strings.Cut(req.Name, " ")
		return map[string]string{"ticket.requester.email": req.Email, "ticket.requester.name": req.Name, "ticket.requester.first_name": first}[key], true
	case "current_user.email", "current_user.id", "current_user.name":
		if user == nil {
			return "", true
		}
		return map[string]string{"current_user.email": user.Email, "current_user.id": strconv.FormatInt(user.ID, 10), "current_user.name": user.Name}[key], true
	case "ticket.latest_public_comment":
		cs := s.comments[t.ID]
		for i := len(cs) - 1; i >= 0; i-- {
			if cs[i].Public {
				return cs[i].Body, true
			}
		}
		return "", true
	}
	if id, ok := strings.CutPrefix(key, "ticket.ticket_field_"); ok {
		fid, _ := strconv.ParseInt(id, 10, 64)
		for _, cf := range t.CustomFields {
			if cf.ID == fid {
				return fmt.Sprint(cf.Value), true
			}
		}
		return "", true
	}
	return "", false
}

// ---- triggers ----------------------------------------------------------------------------------

type triggerIn struct {
	Trigger struct {
		Title       string  `json:"title"`
		Description *string `json:"description"`
		Active      *bool   `json:"active"`
		Position    int     `json:"position"`
		Conditions  struct {
			All []Condition `json:"all"`
			Any []Condition `json:"any"`
		} `json:"conditions"`
		Actions []Action `json:"actions"`
	} `json:"trigger"`
}

func (s *Server) listTriggers(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	writePage(w, r, s.base, "triggers", s.triggers)
}

func (s *Server) createTrigger(w http.ResponseWriter, r *http.Request) {
	var in triggerIn
	if !decode(w, r, &in) {
		return
	}
	if in.Trigger.Title == "" || len(in.Trigger.Actions) == 0 || len(in.Trigger.Conditions.All)+len(in.Trigger.Conditions.Any) == 0 {
		writeInvalid(w, "base", "Trigger needs a title, conditions and actions")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if msg := s.checkActions(in.Trigger.Actions); msg != "" {
		writeInvalid(w, "actions", msg)
		return
	}
	now := s.now()
	t := &Trigger{ID: s.id(), Title: in.Trigger.Title, Description: in.Trigger.Description, Active: in.Trigger.Active == nil || *in.Trigger.Active,
		Position: len(s.triggers) + 1, Actions: in.Trigger.Actions, CreatedAt: now, UpdatedAt: now}
	t.Conditions.All, t.Conditions.Any = in.Trigger.Conditions.All, in.Trigger.Conditions.Any
	t.URL = fmt.Sprintf("%s/api/v2/triggers/%d.json", s.base, t.ID)
	s.triggers = append(s.triggers, t)
	writeJSON(w, http.StatusCreated, map[string]any{"trigger": t})
}

// checkActions refuses webhook actions naming a webhook that does not exist.
func (s *Server) checkActions(actions []Action) string {
	for _, a := range actions {
		if a.Field != "notification_webhook" {
			continue
		}
		var v []string
		if err := json.Unmarshal(a.Value, &v); err != nil || len(v) != 2 {
			return "notification_webhook takes [webhook_id, body]"
		}
		if s.webhook(v[0]) == nil {
			return "webhook " + v[0] + " does not exist"
		}
	}
	return ""
}

func (s *Server) findTrigger(r *http.Request) *Trigger {
	id, _ := pathID(r, "id")
	for _, t := range s.triggers {
		if t.ID == id {
			return t
		}
	}
	return nil
}

func (s *Server) getTrigger(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.findTrigger(r)
	if t == nil {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"trigger": t})
}

func (s *Server) updateTrigger(w http.ResponseWriter, r *http.Request) {
	var in triggerIn
	if !decode(w, r, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.findTrigger(r)
	if t == nil {
		notFound(w)
		return
	}
	if msg := s.checkActions(in.Trigger.Actions); msg != "" {
		writeInvalid(w, "actions", msg)
		return
	}
	if in.Trigger.Title != "" {
		t.Title = in.Trigger.Title
	}
	if in.Trigger.Description != nil {
		t.Description = in.Trigger.Description
	}
	if in.Trigger.Active != nil {
		t.Active = *in.Trigger.Active
	}
	if len(in.Trigger.Conditions.All)+len(in.Trigger.Conditions.Any) > 0 {
		t.Conditions.All, t.Conditions.Any = in.Trigger.Conditions.All, in.Trigger.Conditions.Any
	}
	if in.Trigger.Actions != nil {
		t.Actions = in.Trigger.Actions
	}
	t.UpdatedAt = s.now()
	writeJSON(w, http.StatusOK, map[string]any{"trigger": t})
}

// runTriggers runs the active triggers after a ticket change, the way Zendesk does: in
// position order, each at most once per change, starting over whenever one changed the
// ticket, until none fires. Webhook notifications go out after the cycle.
func (s *Server) runTriggers(t *Ticket, c change) {
	fired := map[int64]bool{}
	var notes []func()
	for again := true; again; {
		again = false
		for _, tr := range s.triggers {
			if !tr.Active || fired[tr.ID] || !s.matches(tr, t, c) {
				continue
			}
			fired[tr.ID] = true
			changed := false
			for _, a := range tr.Actions {
				val := actionValue(a.Value)
				switch a.Field {
				case "notification_webhook":
					var v []string
					_ = json.Unmarshal(a.Value, &v)
					if wh := s.webhook(v[0]); wh != nil && wh.Status == "active" {
						body := s.render(v[1], t, c.user, true)
						trID := tr.ID
						notes = append(notes, func() { s.deliver(wh, trID, body) })
					}
				case "current_tags":
					t.Tags, changed = addTags(t.Tags, []string{val}), true
				case "remove_tags":
					t.Tags, changed = removeTags(t.Tags, []string{val}), true
				case "set_tags":
					t.Tags, changed = normTags([]string{val}), true
				case "status":
					t.Status, changed = val, true
				}
			}
			if changed {
				s.bump(t)
				again = true
				break
			}
		}
	}
	for _, n := range notes {
		s.pending.Add(1)
		go func() {
			defer s.pending.Done()
			n()
		}()
	}
}

// matches evaluates a trigger's conditions: all of "all" and, if any, one of "any".
func (s *Server) matches(tr *Trigger, t *Ticket, c change) bool {
	for _, cond := range tr.Conditions.All {
		if !s.holds(cond, t, c) {
			return false
		}
	}
	if len(tr.Conditions.Any) == 0 {
		return true
	}
	for _, cond := range tr.Conditions.Any {
		if s.holds(cond, t, c) {
			return true
		}
	}
	return false
}

func (s *Server) holds(cond Condition, t *Ticket, c change) bool {
	val := actionValue(cond.Value)
	is := cond.Operator == "is" || cond.Operator == ""
	switch cond.Field {
	case "update_type":
		want := "Change"
		if c.created {
			want = "Create"
		}
		return strings.EqualFold(val, want) == is
	case "current_tags":
		tags := normTags([]string{val})
		has := slices.ContainsFunc(tags, func(x string) bool { return slices.Contains(t.Tags, x) })
		if cond.Operator == "not_includes" {
			return !has
		}
		return has
	case "assignee_id":
		// Only "changed" and "not_changed" are modelled: what the desk's trigger uses.
		switch cond.Operator {
		case "changed":
			return c.assignee
		case "not_changed":
			return !c.assignee
		}
		return false
	case "comment_is_public":
		public := c.comment != nil && c.comment.Public
		if val == "not_relevant" {
			return true
		}
		return public == (val == "true")
	case "role":
		role := ""
		if c.user != nil {
			role = strings.ReplaceAll(c.user.Role, "-", "_")
		}
		return (role == val) == is
	case "group_id":
		g := ""
		if t.GroupID != nil {
			g = strconv.FormatInt(*t.GroupID, 10)
		}
		return (g == val) == is
	case "status":
		switch cond.Operator {
		case "is_not":
			return t.Status != val
		case "less_than":
			return slices.Index(statuses, t.Status) < slices.Index(statuses, val)
		default:
			return t.Status == val
		}
	}
	return false
}

// ---- webhooks ------------------------------------------------------------------------------------

func (s *Server) webhook(id string) *Webhook {
	for _, w := range s.webhooks {
		if w.ID == id {
			return w
		}
	}
	return nil
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) {
	nameContains := r.URL.Query().Get("filter[name_contains]")
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []*Webhook{}
	for _, wh := range s.webhooks {
		if nameContains == "" || strings.Contains(wh.Name, nameContains) {
			out = append(out, wh)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"webhooks": out, "meta": map[string]any{"has_more": false}, "links": map[string]any{"next": nil, "prev": nil}})
}

type webhookIn struct {
	Webhook struct {
		Name          string         `json:"name"`
		Description   string         `json:"description"`
		Endpoint      string         `json:"endpoint"`
		HTTPMethod    string         `json:"http_method"`
		RequestFormat string         `json:"request_format"`
		Status        string         `json:"status"`
		Subscriptions []string       `json:"subscriptions"`
		SigningSecret *SigningSecret `json:"signing_secret"`
	} `json:"webhook"`
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) {
	var in webhookIn
	if !decode(w, r, &in) {
		return
	}
	h := in.Webhook
	if h.Name == "" || !strings.HasPrefix(h.Endpoint, "http") || h.HTTPMethod == "" || h.RequestFormat == "" || h.Status == "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": []map[string]string{{"code": "InvalidInput", "title": "Invalid input", "detail": "name, endpoint, http_method, request_format and status are required"}}})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	wh := &Webhook{ID: "01" + strings.ToUpper(randomToken())[:24], Name: h.Name, Description: h.Description, Endpoint: h.Endpoint,
		HTTPMethod: h.HTTPMethod, RequestFormat: h.RequestFormat, Status: h.Status, Subscriptions: h.Subscriptions,
		CreatedAt: now, UpdatedAt: now, secret: randomToken() + randomToken()}
	if h.SigningSecret != nil && h.SigningSecret.Secret != "" {
		wh.secret = h.SigningSecret.Secret
	}
	s.webhooks = append(s.webhooks, wh)
	writeJSON(w, http.StatusCreated, map[string]any{"webhook": wh})
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	wh := s.webhook(r.PathValue("id"))
	if wh == nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"errors": []map[string]string{{"code": "WebhookNotFound", "title": "Not found"}}})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"webhook": wh})
}

func (s *Server) updateWebhook(w http.ResponseWriter, r *http.Request) {
	var in webhookIn
	if !decode(w, r, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	wh := s.webhook(r.PathValue("id"))
	if wh == nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"errors": []map[string]string{{"code": "WebhookNotFound", "title": "Not found"}}})
		return
	}
	h := in.Webhook
	wh.Name, wh.Endpoint, wh.HTTPMethod, wh.RequestFormat, wh.Status = h.Name, h.Endpoint, h.HTTPMethod, h.RequestFormat, h.Status
	wh.Description, wh.Subscriptions, wh.UpdatedAt = h.Description, h.Subscriptions, s.now()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) signingSecret(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	wh := s.webhook(r.PathValue("id"))
	if wh == nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"errors": []map[string]string{{"code": "WebhookNotFound", "title": "Not found"}}})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"signing_secret": SigningSecret{Algorithm: "SHA256", Secret: wh.secret}})
}

// deliver sends one signed webhook notification, as Zendesk does.
func (s *Server) deliver(wh *Webhook, triggerID int64, body string) {
	client := s.WebhookClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	ts := s.Now().UTC().Format("2006-01-02T15:04:05Z")
	d := Delivery{WebhookID: wh.ID, TriggerID: triggerID, Endpoint: wh.Endpoint, Body: body, At: s.Now()}
	req, err := http.NewRequest(wh.HTTPMethod, wh.Endpoint, bytes.NewReader([]byte(body)))
	if err == nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		req.Header.Set("User-Agent", "Zendesk Webhook")
		req.Header.Set("X-Zendesk-Account-Id", "1")
		req.Header.Set("X-Zendesk-Webhook-Id", wh.ID)
		req.Header.Set("X-Zendesk-Webhook-Invocation-Id", strconv.FormatInt(time.Now().UnixNano(), 10))
		req.Header.Set("X-Zendesk-Webhook-Signature-Timestamp", ts)
		req.Header.Set("X-Zendesk-Webhook-Signature", signature(wh.secret, ts, []byte(body)))
		var resp *http.Response
		if resp, err = client.Do(req); err == nil {
			d.Status = resp.StatusCode
			_ = resp.Body.Close()
		}
	}
	if err != nil {
		d.Error = err.Error()
	}
	s.mu.Lock()
	s.deliveries = append(s.deliveries, d)
	s.mu.Unlock()
}

// Deliveries returns the webhook notifications sent so far.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.deliveries)
}

// Webhooks returns the webhooks with their secrets (for tests that forge requests).
func (s *Server) WebhookSecret(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if wh := s.webhook(id); wh != nil {
		return wh.secret
	}
	return ""
}
