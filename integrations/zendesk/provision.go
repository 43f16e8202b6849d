package zendesk

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	zd "github.com/nukosuke/go-zendesk/zendesk"

	"abusedesk/domain/ticket"
)

// Names of what provisioning creates; it finds its own objects again by these.
const (
	WebhookName       = "abusedesk"
	TagDecisionPrefix = "abusedesk_decision_"
	// TagDecisionSent + decision marks a decision the trigger has sent to the desk (so it is
	// sent once); the desk removes it with the decision tag.
	TagDecisionSent = "abusedesk_sent_"
	triggerPrefix   = "abusedesk: "
	macroPrefix     = "abusedesk: "
)

// DecisionTags are the tags a decision leaves on a ticket until the desk has it: the macro's
// and the trigger's mark that it was sent.
func DecisionTags(decision string) []string {
	return []string{TagDecisionPrefix + decision, TagDecisionSent + decision}
}

// MacroTitle is a decision macro's title as provisioned: "abusedesk: " and the spec's. Applying
// the macro tags the ticket with TagDecisionPrefix + the decision, which a trigger reports to
// the desk's webhook.
func MacroTitle(m ticket.MacroSpec) string { return macroPrefix + m.Title }

// placeholders are Zendesk's placeholders for what a macro's text names: each case field
// (fields: key → "{{ticket.ticket_field_123}}"), the requester and the agent.
func placeholders(fields map[string]string) map[string]string {
	out := map[string]string{ticket.PlaceholderRequester: "{{ticket.requester.name}}", ticket.PlaceholderAgent: "{{current_user.name}}"}
	for k, v := range fields {
		out[k] = v
	}
	return out
}

// ProvisionOptions configures what `desk zendesk provision` sets up.
type ProvisionOptions struct {
	// WebhookURL is where Zendesk sends notifications (…/webhooks/zendesk).
	WebhookURL string
	// WebhookSecret, when set, is the signing secret given to a new webhook.
	WebhookSecret string
	// IntakeGroupID: tickets created in this group are reports (0: no intake trigger).
	IntakeGroupID int64
	// Fields are the case fields, Macros the decision macros, in the order agents see them.
	Fields []ticket.FieldSpec
	Macros []ticket.MacroSpec
	// DryRun plans without changing anything.
	DryRun bool
}

// Step is one thing provisioning did or would do.
type Step struct {
	Action string // create, update, unchanged
	Kind   string // field, webhook, macro, trigger
	Name   string
	Detail string
}

func (s Step) String() string {
	if s.Detail != "" {
		return fmt.Sprintf("%-9s %-7s %s (%s)", s.Action, s.Kind, s.Name, s.Detail)
	}
	return fmt.Sprintf("%-9s %-7s %s", s.Action, s.Kind, s.Name)
}

// ProvisionResult is the plan (dry run) or what was done.
type ProvisionResult struct {
	Steps     []Step
	WebhookID string
	// Secret is the webhook's signing secret when provisioning created the webhook without
	// one given (store it as ZENDESK_WEBHOOK_SECRET).
	Secret string
}

// Changed counts the steps that change something.
func (r *ProvisionResult) Changed() int {
	n := 0
	for _, s := range r.Steps {
		if s.Action != "unchanged" {
			n++
		}
	}
	return n
}

// Provision sets the account up for abusedesk, idempotently: the case fields, the webhook, one
// macro per agent decision and the triggers that notify the desk. Objects are found by name and
// only changed when they differ, so a second run changes nothing.
func (c *Client) Provision(ctx context.Context, o ProvisionOptions) (*ProvisionResult, error) {
	if o.WebhookURL == "" || len(o.Fields) == 0 {
		return nil, fmt.Errorf("provision needs the webhook URL and the fields")
	}
	res := &ProvisionResult{}
	fieldIDs, err := c.provisionFields(ctx, o, res)
	if err != nil {
		return nil, err
	}
	if err := c.provisionWebhook(ctx, o, res); err != nil {
		return nil, err
	}
	if err := c.provisionMacros(ctx, o, fieldIDs, res); err != nil {
		return nil, err
	}
	if err := c.provisionTriggers(ctx, o, res); err != nil {
		return nil, err
	}
	c.ForgetFields()
	return res, nil
}

func (c *Client) provisionFields(ctx context.Context, o ProvisionOptions, res *ProvisionResult) (map[string]string, error) {
	existing, err := c.ticketFields(ctx)
	if err != nil {
		return nil, err
	}
	ids := map[string]string{}
	for _, spec := range o.Fields {
		key, title := spec.Key, spec.Title
		desc := "Kept current by abusedesk; agents read it, the bot writes it. " + fieldMarker(key)
		var found *zd.TicketField
		for i := range existing {
			if strings.Contains(existing[i].Description, fieldMarker(key)) {
				found = &existing[i]
			}
		}
		switch {
		case found == nil:
			res.Steps = append(res.Steps, Step{"create", "field", title, ""})
			ids[key] = "{{ticket.ticket_field_NEW_" + key + "}}"
			if o.DryRun {
				continue
			}
			f, err := c.zd.CreateTicketField(ctx, zd.TicketField{Type: "text", Title: title, Description: desc, Active: true})
			if err != nil {
				return nil, classify("create field "+title, err)
			}
			ids[key] = placeholderField(f.ID)
		case found.Title != title || !found.Active:
			res.Steps = append(res.Steps, Step{"update", "field", title, "title or active flag differ"})
			ids[key] = placeholderField(found.ID)
			if o.DryRun {
				continue
			}
			// The library's field has no omitempty on its type: send the field's own.
			if _, err := c.zd.UpdateTicketField(ctx, found.ID, zd.TicketField{Type: found.Type, Title: title, Active: true}); err != nil {
				return nil, classify("update field "+title, err)
			}
		default:
			res.Steps = append(res.Steps, Step{"unchanged", "field", title, ""})
			ids[key] = placeholderField(found.ID)
		}
	}
	return ids, nil
}

func placeholderField(id int64) string {
	return "{{ticket.ticket_field_" + strconv.FormatInt(id, 10) + "}}"
}

type webhookWire struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	Endpoint      string   `json:"endpoint"`
	HTTPMethod    string   `json:"http_method"`
	RequestFormat string   `json:"request_format"`
	Status        string   `json:"status"`
	Subscriptions []string `json:"subscriptions"`
}

func (c *Client) provisionWebhook(ctx context.Context, o ProvisionOptions, res *ProvisionResult) error {
	var list struct {
		Webhooks []webhookWire `json:"webhooks"`
	}
	if err := c.raw(ctx, "list webhooks", http.MethodGet, "/webhooks?filter%5Bname_contains%5D="+WebhookName, nil, &list); err != nil {
		return err
	}
	want := zd.Webhook{Name: WebhookName, Description: "abusedesk: reports, customer replies and agent decisions",
		Endpoint: o.WebhookURL, HTTPMethod: http.MethodPost, RequestFormat: "json", Status: "active",
		Subscriptions: []string{"conditional_ticket_events"}}
	for _, w := range list.Webhooks {
		if w.Name != WebhookName {
			continue
		}
		res.WebhookID = w.ID
		if w.Endpoint == want.Endpoint && w.Status == "active" && w.HTTPMethod == want.HTTPMethod && w.RequestFormat == want.RequestFormat {
			res.Steps = append(res.Steps, Step{"unchanged", "webhook", WebhookName, w.Endpoint})
			return nil
		}
		res.Steps = append(res.Steps, Step{"update", "webhook", WebhookName, "endpoint " + w.Endpoint + " → " + want.Endpoint})
		if o.DryRun {
			return nil
		}
		if err := c.zd.UpdateWebhook(ctx, w.ID, &want); err != nil {
			return classify("update webhook", err)
		}
		return nil
	}
	res.Steps = append(res.Steps, Step{"create", "webhook", WebhookName, want.Endpoint})
	res.WebhookID = "NEW_WEBHOOK"
	if o.DryRun {
		return nil
	}
	if o.WebhookSecret != "" {
		want.SigningSecret = &zd.WebhookSigningSecret{Algorithm: "SHA256", Secret: o.WebhookSecret}
	}
	created, err := c.zd.CreateWebhook(ctx, &want)
	if err != nil {
		return classify("create webhook", err)
	}
	res.WebhookID = created.ID
	secret, err := c.zd.GetWebhookSigningSecret(ctx, created.ID)
	if err != nil {
		return classify("read the webhook's signing secret", err)
	}
	if o.WebhookSecret == "" || secret.Secret != o.WebhookSecret {
		res.Secret = secret.Secret
	}
	return nil
}

// macroWire is a macro read raw: action values stay JSON (a string or an array), which
// go-zendesk v0.18.0 cannot decode.
type macroWire struct {
	ID      int64  `json:"id"`
	Title   string `json:"title"`
	Active  bool   `json:"active"`
	Actions []struct {
		Field string          `json:"field"`
		Value json.RawMessage `json:"value"`
	} `json:"actions"`
}

func (c *Client) macros(ctx context.Context) ([]macroWire, error) {
	var all []macroWire
	path := "/macros.json?per_page=100"
	for path != "" {
		var out struct {
			Macros   []macroWire `json:"macros"`
			NextPage *string     `json:"next_page"`
		}
		if err := c.raw(ctx, "list macros", http.MethodGet, path, nil, &out); err != nil {
			return nil, err
		}
		all = append(all, out.Macros...)
		path = ""
		if out.NextPage != nil {
			path = strings.TrimPrefix(*out.NextPage, c.api)
		}
	}
	return all, nil
}

type action struct {
	Field string `json:"field"`
	Value any    `json:"value"`
}

func (c *Client) provisionMacros(ctx context.Context, o ProvisionOptions, fields map[string]string, res *ProvisionResult) error {
	existing, err := c.macros(ctx)
	if err != nil {
		return err
	}
	for _, m := range o.Macros {
		title, decision := MacroTitle(m), m.Decision
		text, err := m.Text(placeholders(fields))
		if err != nil {
			return fmt.Errorf("macro %s: %w", title, err)
		}
		want := []action{
			{"comment_value", text},
			{"comment_mode_is_public", strconv.FormatBool(m.Public)},
			{"current_tags", TagDecisionPrefix + decision},
		}
		if m.Pending {
			want = append(want, action{"status", "pending"})
		}
		var found *macroWire
		for i := range existing {
			if existing[i].Title == title {
				found = &existing[i]
			}
		}
		body := map[string]any{"macro": map[string]any{"title": title, "active": true, "actions": want,
			"description": "abusedesk decision: " + decision + ". The case workflow acts when this macro is submitted."}}
		switch {
		case found == nil:
			res.Steps = append(res.Steps, Step{"create", "macro", title, ""})
			if !o.DryRun {
				if err := c.raw(ctx, "create macro "+title, http.MethodPost, "/macros.json", body, nil); err != nil {
					return err
				}
			}
		case !found.Active || !sameActions(found.Actions, want):
			res.Steps = append(res.Steps, Step{"update", "macro", title, "actions differ"})
			if !o.DryRun {
				if err := c.raw(ctx, "update macro "+title, http.MethodPut, fmt.Sprintf("/macros/%d.json", found.ID), body, nil); err != nil {
					return err
				}
			}
		default:
			res.Steps = append(res.Steps, Step{"unchanged", "macro", title, ""})
		}
	}
	return nil
}

// sameActions compares actions by field and value, reading array values (["channel:all",
// "text"]) as their text.
func sameActions(have []struct {
	Field string          `json:"field"`
	Value json.RawMessage `json:"value"`
}, want []action) bool {
	if len(have) != len(want) {
		return false
	}
	for i := range want {
		if have[i].Field != want[i].Field || ValueText(have[i].Value) != fmt.Sprint(want[i].Value) {
			return false
		}
	}
	return true
}

// ValueText reads a macro or trigger action value: a string, or the last item of an array.
func ValueText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var arr []any
	if json.Unmarshal(raw, &arr) == nil && len(arr) > 0 {
		return fmt.Sprint(arr[len(arr)-1])
	}
	return strings.Trim(string(raw), `"`)
}

func (c *Client) provisionTriggers(ctx context.Context, o ProvisionOptions, res *ProvisionResult) error {
	var existing []zd.Trigger
	for page := 1; ; page++ {
		list, pg, err := c.zd.GetTriggers(ctx, &zd.TriggerListOptions{PageOptions: zd.PageOptions{Page: page, PerPage: 100}})
		if err != nil {
			return classify("list triggers", err)
		}
		existing = append(existing, list...)
		if !pg.HasNext() {
			break
		}
	}
	hook := res.WebhookID
	notify := func(event map[string]string) zd.TriggerAction {
		b, _ := json.Marshal(event)
		return zd.TriggerAction{Field: "notification_webhook", Value: []any{hook, string(b)}}
	}
	base := map[string]string{"ticket_id": "{{ticket.id}}", "actor_id": "{{current_user.id}}", "actor_email": "{{current_user.email}}", "updated_at": "{{ticket.updated_at_with_timestamp}}"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	type spec struct {
		title   string
		all     []zd.TriggerCondition
		actions []zd.TriggerAction
	}
	var specs []spec
	specs = append(specs, spec{
		title: triggerPrefix + "customer replied",
		all: []zd.TriggerCondition{
			{Field: "update_type", Operator: "is", Value: "Change"},
			{Field: "comment_is_public", Operator: "is", Value: "true"},
			{Field: "role", Operator: "is", Value: "end_user"},
			{Field: "current_tags", Operator: "includes", Value: ticket.TagCase},
		},
		actions: []zd.TriggerAction{notify(with("abusedesk_event", EventCustomerReply))},
	})
	// An agent who assigns a case's ticket assigns the case: the desk's owner follows
	// Zendesk's (and the desk's own assignment, echoed back, changes nothing).
	specs = append(specs, spec{
		title: triggerPrefix + "assignee changed",
		all: []zd.TriggerCondition{
			{Field: "update_type", Operator: "is", Value: "Change"},
			{Field: "assignee_id", Operator: "changed"},
			{Field: "current_tags", Operator: "includes", Value: ticket.TagCase},
		},
		actions: []zd.TriggerAction{notify(with("abusedesk_event", EventAssigned))},
	})
	for _, m := range o.Macros {
		d := m.Decision
		tag := TagDecisionPrefix + d
		// The trigger calls the desk once (it marks the ticket sent) and leaves the decision tag:
		// the desk removes both once the case has the decision, so a webhook that is lost
		// leaves the tag for the export poll to find.
		specs = append(specs, spec{
			title: triggerPrefix + "decision " + m.Title,
			all: []zd.TriggerCondition{
				{Field: "current_tags", Operator: "includes", Value: tag},
				{Field: "current_tags", Operator: "not_includes", Value: TagDecisionSent + d},
			},
			actions: []zd.TriggerAction{
				notify(with("abusedesk_event", EventDecision, "decision", d)),
				{Field: "current_tags", Value: TagDecisionSent + d},
			},
		})
	}
	if o.IntakeGroupID != 0 {
		specs = append(specs, spec{
			title: triggerPrefix + "report received",
			all: []zd.TriggerCondition{
				{Field: "update_type", Operator: "is", Value: "Create"},
				{Field: "group_id", Operator: "is", Value: strconv.FormatInt(o.IntakeGroupID, 10)},
				{Field: "current_tags", Operator: "not_includes", Value: ticket.TagCase},
			},
			actions: []zd.TriggerAction{notify(with("abusedesk_event", EventReport))},
		})
	}
	for _, sp := range specs {
		var found *zd.Trigger
		for i := range existing {
			if existing[i].Title == sp.title {
				found = &existing[i]
			}
		}
		t := zd.Trigger{Title: sp.title, Active: true, Actions: sp.actions, Description: "Notifies abusedesk. Managed by `desk zendesk provision`."}
		t.Conditions.All = sp.all
		t.Conditions.Any = []zd.TriggerCondition{}
		switch {
		case found == nil:
			res.Steps = append(res.Steps, Step{"create", "trigger", sp.title, ""})
			if !o.DryRun {
				if _, err := c.zd.CreateTrigger(ctx, t); err != nil {
					return classify("create trigger "+sp.title, err)
				}
			}
		case !found.Active || !sameJSON(found.Conditions.All, sp.all) || !sameJSON(found.Actions, sp.actions):
			res.Steps = append(res.Steps, Step{"update", "trigger", sp.title, "conditions or actions differ"})
			if !o.DryRun {
				if _, err := c.zd.UpdateTrigger(ctx, found.ID, t); err != nil {
					return classify("update trigger "+sp.title, err)
				}
			}
		default:
			res.Steps = append(res.Steps, Step{"unchanged", "trigger", sp.title, ""})
		}
	}
	return nil
}

func sameJSON(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	var va, vb any
	_ = json.Unmarshal(ja, &va)
	_ = json.Unmarshal(jb, &vb)
	return reflect.DeepEqual(va, vb)
}
