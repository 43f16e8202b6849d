// Package playground is the dashboard's sandbox page of `desk dev`: it lets a person act as the
// other parties — drop a report into the abuse mailbox, reply as the customer, apply an agent's
// macro, click Approve or Deny as a lead — each through the real protocol (IMAP, the Zendesk
// API and its webhooks, signed Slack interactions), and shows each account's enforcement state.
// It plugs into the dashboard as a dashboard.Playground.
package playground

import (
	"bytes"
	"cmp"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"maps"
	"mime"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"abusedesk/app/dashboard"
	"abusedesk/app/provision"
	"abusedesk/devenv/demo"
	"abusedesk/devenv/imapsandbox"
	"abusedesk/devenv/sandbox"
	"abusedesk/domain/abuse"
	"abusedesk/domain/approval"
	"abusedesk/integrations/enforcement"
	"abusedesk/integrations/zendesk"
	"abusedesk/platform/config"
	"abusedesk/workflows"
)

// Person is someone a sandbox user can act as.
type Person struct {
	SlackID string
	Name    string
	Email   string
}

//go:embed pages/*.html
var pages embed.FS

// Cases is what the playground reads of cases.
type Cases interface {
	Status(ctx context.Context, caseID string) (*workflows.CaseView, error)
}

// Sandbox says how to reach the sandbox's services to act as the other parties. A service
// left empty is a real one (configured in the environment): the page offers no actions on it.
type Sandbox struct {
	Cases Cases

	// IMAPAddr is the sandbox abuse mailbox; samples are mailed there.
	IMAPAddr, IMAPUser, IMAPPass string
	// APIURL and APIToken reach the desk's reports API, where X-ARF 4 JSON samples go.
	APIURL, APIToken string

	ZendeskURL, ZendeskToken string
	Agents                   []Person

	SlackAPIURL, SlackSandboxURL, SlackBotToken, SlackChannel string
	Leads                                                     []Person
	// Bystander is in Slack but no approver (to show a refused click).
	Bystander Person

	EnforcementURL, EnforcementToken string
	Accounts                         []string

	// HostingURL is the stand-in for the customers' servers and the blocklist (its control
	// API), where the customer takes a page down or gets an address delisted.
	HostingURL string
	// TeamChannels are the policy's teams an agent may hand a case to, each with its Slack
	// channel, where the sandbox answers a hand-off as the team.
	TeamChannels map[string]string

	Samples []demo.Sample
	Macros  []string

	HTTP *http.Client

	tmpl *template.Template
}

var _ dashboard.Playground = (*Sandbox)(nil)

// parsePages parses the playground's templates (New does, so a broken one stops the start).
func parsePages() (*template.Template, error) {
	t, err := template.New("").Funcs(template.FuncMap{
		"ts": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04:05 UTC")
		},
		"query": func(k, v string) template.URL { return template.URL(url.Values{k: {v}}.Encode()) }, //nolint:gosec // Encode escapes
	}).ParseFS(pages, "pages/*.html")
	if err != nil {
		return nil, fmt.Errorf("playground templates: %w", err)
	}
	return t, nil
}

// Home implements dashboard.Playground.
func (s *Sandbox) Home() string { return "/sandbox" }

// Routes implements dashboard.Playground.
func (s *Sandbox) Routes(handle func(pattern string, h http.Handler), page dashboard.PageFunc) {
	handle("GET /sandbox", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.sandboxPage(w, r, page) }))
	handle("POST /sandbox/report", http.HandlerFunc(s.dropReport))
	handle("POST /sandbox/cases/{id...}", http.HandlerFunc(s.act))
	handle("POST /sandbox/bulk/{number}", http.HandlerFunc(s.actOnBulk))
}

// BulkPanel implements dashboard.Playground: a bulk action waiting for a lead, or one that can
// still be undone, can be clicked as a lead once its message is in Slack.
func (s *Sandbox) BulkPanel(st workflows.BulkState) (template.HTML, error) {
	undoable := st.Status == approval.BulkApplied && !st.UndoUntil.IsZero()
	if s.SlackSandboxURL == "" || st.Message.TS == "" || (st.Status != approval.BulkProposed && !undoable) {
		return "", nil
	}
	return s.render("bulk.html", struct {
		B       workflows.BulkState
		Sandbox *Sandbox
		Leads   []Person
	}{st, s, s.Leads})
}

// actOnBulk clicks a button of a bulk action's message as a lead (a signed interaction from
// the sandbox Slack), filling the reason dialog for a denial, and waits for what the desk
// tells the lead.
func (sb *Sandbox) actOnBulk(w http.ResponseWriter, r *http.Request) {
	number := r.PathValue("number")
	back := "/bulk/" + number
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	do, lead, text := r.FormValue("do"), r.FormValue("lead"), strings.TrimSpace(r.FormValue("text"))
	action := map[string]string{"approve": activitiesApprove, "deny": activitiesDeny, "undo": activitiesUndo}[do]
	if action == "" {
		dashboard.Refused(w, r, back, fmt.Sprintf("unknown action %q", do))
		return
	}
	if do == "deny" && text == "" {
		dashboard.Refused(w, r, back, "Type the reason for the deny in the box first: the desk records the lead's own words, never a reason nobody gave.")
		return
	}
	answer, refused, err := sb.clickBulk(ctx, number, action, lead, text)
	switch {
	case err != nil:
		dashboard.Refused(w, r, back, "That did not work: "+err.Error())
	case refused != "":
		dashboard.Refused(w, r, back, fmt.Sprintf("%s clicked %s in Slack, and the desk refused it: %s", sb.slackName(lead), do, refused))
	default:
		dashboard.Redirect(w, r, back, fmt.Sprintf("%s clicked %s in Slack; the desk answered: %s", sb.slackName(lead), do, answer))
	}
}

// clickBulk clicks action on the bulk action's message as lead and returns the desk's answer
// to them (or its refusal).
func (s *Sandbox) clickBulk(ctx context.Context, number, action, lead, reason string) (answer, refused string, err error) {
	// The button is there once the desk posted (or updated) the message: a moment after the
	// page showed it, on a busy desk.
	var ts string
	for range 100 {
		if ts, err = s.findMessage(ctx, s.SlackChannel, number, action); err != nil || ts != "" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return "", "", err
	}
	if ts == "" {
		return "", "", fmt.Errorf("the message of %s in #%s has no such button now", number, s.SlackChannel)
	}
	seen, refused, err := s.press(ctx, s.SlackChannel, ts, action, lead, reason, action == activitiesDeny)
	if err != nil || refused != "" {
		return "", refused, err
	}
	for range 150 {
		now, err := s.ephemeralsFor(ctx, lead)
		if err != nil {
			return "", "", err
		}
		if len(now) > len(seen) {
			last := now[len(now)-1]
			if r, ok := strings.CutPrefix(last, "Not applied: "); ok {
				return "", r, nil
			}
			if strings.HasPrefix(last, "You are not one of the approvers") {
				return "", last, nil
			}
			return last, "", nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return "", "", errors.New("the desk has not answered the click within 15 s")
}

// CasePanel implements dashboard.Playground.
func (s *Sandbox) CasePanel(v *workflows.CaseView) (template.HTML, error) {
	actions, macros := s.actionsFor(v), s.macrosFor(v)
	open := s.openHandOffs(v)
	if len(actions) == 0 && len(macros) == 0 && len(s.teamsFor(v)) == 0 && len(open) == 0 && v.Status != workflows.StatusPendingApproval {
		return "", nil
	}
	return s.render("panel.html", struct {
		V       *workflows.CaseView
		Sandbox *Sandbox
		Teams   []string
		Actions []sandboxAction
		Agents  []string
		Leads   []Person
		Macros  []string
		// HandOffs are the case's hand-offs waiting for their team, who the sandbox plays.
		HandOffs []workflows.HandOffState
		People   []Person
	}{v, s, s.teamsFor(v), actions, s.AgentEmails(), s.Leads, macros, open, s.teamPeople()})
}

// openHandOffs lists the case's hand-offs the sandbox can answer as the team: not resolved,
// posted in a channel it knows.
func (s *Sandbox) openHandOffs(v *workflows.CaseView) []workflows.HandOffState {
	if s.SlackSandboxURL == "" {
		return nil
	}
	var out []workflows.HandOffState
	for _, h := range v.HandOffs {
		if h.Status != workflows.HandOffResolved && h.ChildID != "" && s.TeamChannels[h.Team] != "" {
			out = append(out, h)
		}
	}
	return out
}

// teamPeople are the Slack users the sandbox answers a hand-off as: anyone in the workspace.
func (s *Sandbox) teamPeople() []Person {
	var out []Person
	if s.Bystander.SlackID != "" {
		out = append(out, s.Bystander)
	}
	return append(out, s.Leads...)
}

// teamsFor lists the teams a case may be handed to (an open case with a ticket).
func (s *Sandbox) teamsFor(v *workflows.CaseView) []string {
	if v.Status.Final() || v.Ticket.IsZero() || s.ZendeskURL == "" {
		return nil
	}
	return slices.Sorted(maps.Keys(s.TeamChannels))
}

// macrosFor lists the macros that apply in the case's state: the triage gate's while it waits
// for triage, the legal team's on a legal matter, the case macros otherwise.
func (s *Sandbox) macrosFor(v *workflows.CaseView) []string {
	applies := map[string]bool{}
	for _, d := range workflows.AgentDecisions {
		triage, legal := slices.Contains(workflows.TriageDecisions, d), slices.Contains(workflows.LegalDecisions, d)
		reinstate := slices.Contains(workflows.ReinstatementDecisions, d)
		switch {
		case d == workflows.DecisionHotlineReported:
			// A CSAM notice's report to the hotline, once, while its case is open.
			applies[macroTitle(d)] = v.Category == abuse.CSAM && !v.Status.Final() && v.Legal != nil &&
				v.Legal.Hotline != nil && v.Legal.Hotline.ReportedAt.IsZero()
		case v.Status == workflows.StatusNeedsTriage:
			applies[macroTitle(d)] = triage || d == workflows.DecisionMoveToLegal
		case v.Status == workflows.StatusLegalReview:
			applies[macroTitle(d)] = legal
		case v.Status.Final():
			// A closed case's ticket takes the decisions on a request for reinstatement.
			applies[macroTitle(d)] = reinstate && standing(v)
		case d == workflows.DecisionHandOff:
			// Its own form: the team is set in the ticket's field first.
			applies[macroTitle(d)] = false
		default:
			applies[macroTitle(d)] = !triage && !legal && !reinstate
		}
	}
	var out []string
	for _, m := range s.Macros {
		if applies[m] {
			out = append(out, m)
		}
	}
	return out
}

func (s *Sandbox) render(name string, data any) (template.HTML, error) {
	var b bytes.Buffer
	if err := s.tmpl.ExecuteTemplate(&b, name, data); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil //nolint:gosec // html/template output
}

// AgentEmails lists the Zendesk agents.
func (s *Sandbox) AgentEmails() []string {
	var out []string
	for _, a := range s.Agents {
		out = append(out, a.Email)
	}
	return out
}

// MacroTitles lists the decision macros.
func (s *Sandbox) MacroTitles() []string { return s.Macros }

func (s *Sandbox) client() *http.Client {
	if s.HTTP == nil {
		return &http.Client{Timeout: 30 * time.Second}
	}
	return s.HTTP
}

// sandboxAction is a button on a case page; NoText leaves out the customer's words.
type sandboxAction struct {
	Do     string
	Label  string
	Hint   string
	NoText bool
}

// actionsFor lists what the customer can do in the case's state, through the services the
// sandbox runs.
func (s *Sandbox) actionsFor(v *workflows.CaseView) []sandboxAction {
	var out []sandboxAction
	email := func(label, hint string) {
		if s.IMAPAddr != "" {
			out = append(out, sandboxAction{Do: "reply_email", Label: label, Hint: hint})
		}
	}
	switch v.Status {
	case workflows.StatusNoticed, workflows.StatusAwaitingResponse, workflows.StatusUnderReview:
		email("Reply as the customer (email)", "an email to the abuse mailbox with the case number in the subject")
		if s.ZendeskURL != "" && !v.Ticket.IsZero() {
			out = append(out, sandboxAction{Do: "reply_zendesk", Label: "Reply as the customer (Zendesk)", Hint: "a comment by the requester on the case ticket"})
		}
	case workflows.StatusPendingApproval:
		email("Reply as the customer (email)", "answering now withdraws the approval request")
	case workflows.StatusEnforced:
		email("Appeal as the customer (email)", "a reply to the enforcement notice is an appeal")
	case workflows.StatusAppealReview:
		email("Write again as the customer", "")
	default:
		if standing(v) {
			email("Ask for reinstatement as the customer (email)", "after the appeal window: a reply to the closed case opens a reinstatement review")
		}
	}
	if s.HostingURL != "" && !v.Status.Final() {
		if urls, addrs := reported(v); len(urls) > 0 {
			out = append(out, sandboxAction{"takedown", "Take the reported page down (as the customer)", "the sandbox's stand-in for the customer's server answers 404 for " + strings.Join(urls, ", ") + " from now on", true})
		} else if len(addrs) > 0 {
			out = append(out, sandboxAction{"delist", "Get the address off the blocklist (as the customer)", "the sandbox's blocklist stops listing " + strings.Join(addrs, ", "), true})
		}
	}
	return out
}

// standing says whether a closed case's action still stands (a reinstatement could lift it).
func standing(v *workflows.CaseView) bool {
	return v.Status.Final() && (v.Outcome == workflows.OutcomeEnforced || v.Outcome == workflows.OutcomeUpheld) &&
		v.Enforcement != nil && v.Enforcement.LiftedAt.IsZero()
}

// reported lists the URLs and addresses a case's latest reports name.
func reported(v *workflows.CaseView) (urls, addrs []string) {
	for _, r := range v.Reports.Recent {
		for _, subj := range r.Subjects {
			val := subj.Value
			switch {
			case subj.Kind == abuse.SubjectURL && !slices.Contains(urls, val):
				urls = append(urls, val)
			case subj.Kind == abuse.SubjectIP && !slices.Contains(addrs, val):
				addrs = append(addrs, val)
			}
		}
	}
	return urls, addrs
}

// ---- actions -----------------------------------------------------------------------------------

func (sb *Sandbox) act(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	back := "/cases/" + id
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	v, err := sb.Cases.Status(ctx, id)
	if err != nil {
		dashboard.Redirect(w, r, back, "no such case: "+err.Error())
		return
	}
	back = "/cases/" + v.CaseNumber
	text := strings.TrimSpace(r.FormValue("text"))
	var msg string
	answered := false // the desk's answer was waited for
	switch r.FormValue("do") {
	case "reply_email":
		if text == "" {
			dashboard.Refused(w, r, back, "Type the customer's reply in the box first: the desk reads what the customer wrote, and an empty reply says nothing.")
			return
		}
		raw := fmt.Appendf(nil, "From: %s\r\nTo: abuse@provider.example\r\nSubject: Re: [%s] Abuse report\r\nMessage-ID: <sandbox-%d@customer.example>\r\nDate: %s\r\n\r\n%s\r\n",
			v.Account.ContactEmail, v.CaseNumber, time.Now().UnixNano(), time.Now().UTC().Format(time.RFC1123Z), text)
		err = imapsandbox.Append(sb.IMAPAddr, sb.IMAPUser, sb.IMAPPass, "INBOX", raw)
		msg = "The customer's email is in the abuse mailbox; the watcher takes it from there."
	case "reply_zendesk":
		if text == "" {
			dashboard.Refused(w, r, back, "Type the customer's reply in the box first: the desk reads what the customer wrote, and an empty reply says nothing.")
			return
		}
		err = sb.zendesk(ctx, v.Account.ContactEmail, http.MethodPut, fmt.Sprintf("/api/v2/requests/%s.json", v.Ticket.ID),
			map[string]any{"request": map[string]any{"comment": map[string]any{"body": text}}}, nil)
		msg = "The customer commented on the ticket; Zendesk's trigger calls the desk."
	case "takedown", "delist":
		urls, addrs := reported(v)
		field, list := "url", urls
		if r.FormValue("do") == "delist" {
			field, list = "ip", addrs
		}
		for _, x := range list {
			if err = sb.hosting(ctx, r.FormValue("do"), field, x); err != nil {
				break
			}
		}
		msg = fmt.Sprintf("Done on the sandbox's stand-in: %s. The desk sees it at its next check of the fix.", strings.Join(list, ", "))
	case "handoff":
		agent, team := r.FormValue("agent"), r.FormValue("team")
		var refused string
		if err = sb.setField(ctx, agent, v.Ticket, "Abuse hand-off team", team); err == nil {
			if refused, err = sb.applyMacro(ctx, agent, v.Ticket, macroTitle(workflows.DecisionHandOff), text); err == nil && refused != "" {
				dashboard.Refused(w, r, back, fmt.Sprintf("%s handed the case to %s in Zendesk, and the desk refused it: %s", agent, team, refused))
				return
			}
		}
		msg, answered = fmt.Sprintf("%s handed the case to %s; the team's message is in its Slack channel.", agent, team), true
	case "macro":
		agent, title := r.FormValue("agent"), r.FormValue("macro")
		var refused string
		if refused, err = sb.applyMacro(ctx, agent, v.Ticket, title, text); err == nil && refused != "" {
			dashboard.Refused(w, r, back, fmt.Sprintf("%s applied %q in Zendesk, and the desk refused it: %s", agent, title, refused))
			return
		}
		msg, answered = fmt.Sprintf("%s applied %q in Zendesk; the desk took it.", agent, title), true
	case "team_answer":
		n, _ := strconv.Atoi(r.FormValue("n"))
		answer, person := r.FormValue("answer"), r.FormValue("person")
		if text == "" && answer != "resolve" {
			dashboard.Refused(w, r, back, "Type the team's words in the box first: the question for the agent, or the team to pass it to. The desk records what the team wrote, never words nobody gave.")
			return
		}
		var refused string
		if msg, refused, err = sb.answerHandOff(ctx, v, n, answer, person, text); err == nil && refused != "" {
			dashboard.Refused(w, r, back, fmt.Sprintf("%s answered the hand-off in Slack, and the desk refused it: %s", sb.slackName(person), refused))
			return
		}
		answered = true
	case "approve", "deny", "extend":
		if r.FormValue("do") == "deny" && text == "" {
			dashboard.Refused(w, r, back, "Type the reason for the deny in the box first: the desk records the lead's own words, never a reason nobody gave.")
			return
		}
		lead := r.FormValue("lead")
		var refused string
		if msg, refused, err = sb.clickApproval(ctx, v, r.FormValue("do"), lead, text); err == nil && refused != "" {
			dashboard.Refused(w, r, back, fmt.Sprintf("%s clicked %s in Slack, and the desk refused it: %s", sb.slackName(lead), r.FormValue("do"), refused))
			return
		}
		answered = true
	default:
		err = fmt.Errorf("unknown action %q", r.FormValue("do"))
	}
	if err != nil {
		dashboard.Refused(w, r, back, "That did not work: "+err.Error())
		return
	}
	if !answered {
		// A customer's message has no answer to wait for: give the desk a moment to act, so
		// the page shows the result.
		time.Sleep(700 * time.Millisecond)
	}
	dashboard.Redirect(w, r, back, msg)
}

// setField sets a ticket field (by its title) as an agent would before a macro.
func (sb *Sandbox) setField(ctx context.Context, agent string, ref workflows.TicketRef, title, value string) error {
	ticket, err := zendesk.IDOf(ref)
	if err != nil {
		return err
	}
	var fields struct {
		Fields []struct {
			ID    int64  `json:"id"`
			Title string `json:"title"`
		} `json:"ticket_fields"`
	}
	if err := sb.zendesk(ctx, agent, http.MethodGet, "/api/v2/ticket_fields.json", nil, &fields); err != nil {
		return err
	}
	for _, f := range fields.Fields {
		if f.Title == title {
			return sb.zendesk(ctx, agent, http.MethodPut, fmt.Sprintf("/api/v2/tickets/%d.json", ticket),
				map[string]any{"ticket": map[string]any{"custom_fields": []map[string]any{{"id": f.ID, "value": value}}}}, nil)
		}
	}
	return fmt.Errorf("no ticket field %q (is the sandbox provisioned?)", title)
}

// hosting calls the stand-in's control API (POST /sandbox/takedown, /sandbox/delist).
func (sb *Sandbox) hosting(ctx context.Context, verb, field, value string) error {
	body, _ := json.Marshal(map[string]string{field: value})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(sb.HostingURL, "/")+"/sandbox/"+verb, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := sb.client().Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusNoContent {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<12))
		return fmt.Errorf("the stand-in answered %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	return nil
}

// asMessage is a pasted report as the mailbox gets it: a message (headers, then the body) or
// X-ARF JSON as pasted; free text — a complaint typed or copied from a web form — becomes the
// body of a mail from a sandbox reporter (it used to arrive as one malformed header line and
// an empty message).
func asMessage(raw string, now time.Time) []byte {
	trimmed := strings.TrimSpace(raw)
	if strings.HasPrefix(trimmed, "{") {
		return []byte(raw)
	}
	if m, err := mail.ReadMessage(strings.NewReader(strings.TrimLeft(raw, "\n"))); err == nil && (m.Header.Get("From") != "" || m.Header.Get("Subject") != "") {
		return []byte(raw)
	}
	subject, _, _ := strings.Cut(trimmed, "\n")
	if len([]rune(subject)) > 70 {
		subject = string([]rune(subject)[:70]) + "…"
	}
	return fmt.Appendf(nil, "From: Sandbox Reporter <reporter@reporter.example>\r\nTo: abuse@provider.example\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <pasted-%d@reporter.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
		mime.QEncoding.Encode("utf-8", subject), now.UTC().Format(time.RFC1123Z), now.UnixNano(), strings.ReplaceAll(trimmed, "\n", "\r\n"))
}

func (sb *Sandbox) dropReport(w http.ResponseWriter, r *http.Request) {
	name := r.FormValue("sample")
	var sample demo.Sample
	if raw := strings.ReplaceAll(r.FormValue("raw"), "\r\n", "\n"); strings.TrimSpace(raw) != "" {
		sample = demo.Sample{Name: "the pasted report", Raw: asMessage(raw, time.Now())}
	} else {
		for _, s := range sb.Samples {
			if s.Name == name {
				sample = s
			}
		}
	}
	if len(bytes.TrimSpace(sample.Raw)) == 0 {
		dashboard.Redirect(w, r, "/sandbox", "Pick a sample or paste a report.")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	how, err := sb.Deliver(ctx, sample, true)
	if err != nil {
		dashboard.Redirect(w, r, "/sandbox", "The report was not delivered: "+err.Error())
		return
	}
	time.Sleep(700 * time.Millisecond)
	dashboard.Redirect(w, r, "/", fmt.Sprintf("%s was %s; its case appears below.", sample.Name, how))
}

// Deliver sends a sample the way it would arrive: X-ARF 4 JSON to the reports API, a message
// to the abuse mailbox (or to the API when the mailbox is a real one). fresh gives it a new
// Message-ID, so the same sample can be sent twice as two reports. It says where it went.
func (s *Sandbox) Deliver(ctx context.Context, sample demo.Sample, fresh bool) (string, error) {
	raw := sample.Raw
	if fresh {
		raw = unique(raw)
	}
	if sample.JSON() || s.IMAPAddr == "" {
		if s.APIURL == "" {
			return "", fmt.Errorf("neither the sandbox mailbox nor the reports API is available")
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.APIURL, bytes.NewReader(raw))
		if err != nil {
			return "", err
		}
		req.Header.Set("Authorization", "Bearer "+s.APIToken)
		req.Header.Set("Content-Type", "message/rfc822")
		if sample.JSON() {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := s.client().Do(req)
		if err != nil {
			return "", err
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		if resp.StatusCode >= 300 {
			return "", fmt.Errorf("reports API: %d %s", resp.StatusCode, strings.TrimSpace(string(b)))
		}
		return "posted to the reports API", nil
	}
	if err := imapsandbox.Append(s.IMAPAddr, s.IMAPUser, s.IMAPPass, "INBOX", raw); err != nil {
		return "", fmt.Errorf("the mailbox refused it: %w", err)
	}
	return "mailed to the abuse mailbox", nil
}

var spamcopID = regexp.MustCompile(`(?m)^Subject: \[SpamCop [^\n]*id:(\d{6,})\]`)

// unique gives a message a fresh Message-ID (an X-ARF 4 document a fresh report_id and the time
// of sending as its timestamp: another report of the same kind, not the same evidence again),
// so sending it twice makes two reports. A mail sample sent again is the same evidence under a
// new Message-ID, which a case counts once.
func unique(raw []byte) []byte {
	n := time.Now().UnixNano()
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
		var doc map[string]any
		if json.Unmarshal(raw, &doc) != nil {
			return raw
		}
		doc["report_id"] = fmt.Sprintf("sandbox-%d", n)
		doc["timestamp"] = time.Now().UTC().Format(time.RFC3339Nano)
		b, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return raw
		}
		return b
	}
	// SpamCop names its reports by the number in the subject ("id:7412589630"): a new copy
	// gets a new number everywhere it appears.
	if m := spamcopID.FindSubmatch(raw); m != nil {
		raw = bytes.ReplaceAll(raw, m[1], fmt.Appendf(nil, "%d", n%1e10))
	}
	id := fmt.Sprintf("<sandbox-%d@abusedesk>", n)
	lines := bytes.Split(raw, []byte("\n"))
	for i, l := range lines {
		if len(bytes.TrimSpace(l)) == 0 {
			break
		}
		if bytes.HasPrefix(bytes.ToLower(l), []byte("message-id:")) {
			lines[i] = []byte("Message-ID: " + id)
			if bytes.HasSuffix(l, []byte("\r")) {
				lines[i] = append(lines[i], '\r')
			}
			return bytes.Join(lines, []byte("\n"))
		}
	}
	header := []byte("Message-ID: " + id + "\r\n")
	if bytes.HasPrefix(raw, []byte("From ")) { // an mbox separator line stays first
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			return slices.Concat(raw[:i+1], header, raw[i+1:])
		}
	}
	return append(header, raw...)
}

// zendesk calls the sandbox Zendesk as a user (any user's email with the API token).
func (s *Sandbox) zendesk(ctx context.Context, user, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.ZendeskURL+path, body)
	if err != nil {
		return err
	}
	req.SetBasicAuth(user+"/token", s.ZendeskToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client().Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 300 {
		return fmt.Errorf("zendesk %s %s: %d %s", method, path, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// applyMacro does what an agent's click does: Zendesk computes the macro's result, the agent
// may add to the text, and submits the ticket. Then it waits for the desk's answer, as the agent
// would see it on the ticket: the macro's tags taken off (the desk has it), and an internal note
// when the desk refused it, whose reason it returns.
func (s *Sandbox) applyMacro(ctx context.Context, agent string, ref workflows.TicketRef, title, extra string) (refused string, err error) {
	ticket, err := zendesk.IDOf(ref)
	if err != nil {
		return "", err
	}
	var macros struct {
		Macros []struct {
			ID    int64  `json:"id"`
			Title string `json:"title"`
		} `json:"macros"`
	}
	if err := s.zendesk(ctx, agent, http.MethodGet, "/api/v2/macros.json", nil, &macros); err != nil {
		return "", err
	}
	var id int64
	for _, m := range macros.Macros {
		if m.Title == title {
			id = m.ID
		}
	}
	if id == 0 {
		return "", fmt.Errorf("no macro %q (is the sandbox provisioned?)", title)
	}
	before, err := s.ticketState(ctx, agent, ticket)
	if err != nil {
		return "", err
	}
	var applied struct {
		Result struct {
			Ticket  map[string]any `json:"ticket"`
			Comment map[string]any `json:"comment"`
		} `json:"result"`
	}
	if err := s.zendesk(ctx, agent, http.MethodGet, fmt.Sprintf("/api/v2/tickets/%d/macros/%d/apply.json", ticket, id), nil, &applied); err != nil {
		return "", err
	}
	update := map[string]any{"tags": applied.Result.Ticket["tags"]}
	if c := applied.Result.Comment; c != nil {
		if extra != "" {
			body, _ := c["body"].(string)
			c["body"] = fillPlaceholder(body, extra)
		}
		update["comment"] = c
	}
	if st, ok := applied.Result.Ticket["status"]; ok {
		update["status"] = st
	}
	if err := s.zendesk(ctx, agent, http.MethodPut, fmt.Sprintf("/api/v2/tickets/%d.json", ticket), map[string]any{"ticket": update}, nil); err != nil {
		return "", err
	}
	var added []string
	if tags, ok := applied.Result.Ticket["tags"].([]any); ok {
		for _, t := range tags {
			if t, ok := t.(string); ok && !slices.Contains(before.tags, t) {
				added = append(added, t)
			}
		}
	}
	for range 150 {
		now, err := s.ticketState(ctx, agent, ticket)
		if err != nil {
			return "", err
		}
		for _, c := range now.comments[min(len(before.comments), len(now.comments)):] {
			if reason, ok := strings.CutPrefix(c, "abusedesk did not apply "); ok {
				return reason, nil
			}
		}
		if !slices.ContainsFunc(added, func(t string) bool { return slices.Contains(now.tags, t) }) {
			return "", nil // the desk took the decision and its tags off
		}
		time.Sleep(100 * time.Millisecond)
	}
	return "", errors.New("the macro is on the ticket, and the desk has not answered within 15 s (the export poll will find it if the webhook was lost)")
}

// ticketView is what an agent sees of a ticket: its tags and its comments' texts.
type ticketView struct {
	tags, comments []string
}

func (s *Sandbox) ticketState(ctx context.Context, agent string, ticket int64) (ticketView, error) {
	var t struct {
		Ticket struct {
			Tags []string `json:"tags"`
		} `json:"ticket"`
	}
	if err := s.zendesk(ctx, agent, http.MethodGet, fmt.Sprintf("/api/v2/tickets/%d.json", ticket), nil, &t); err != nil {
		return ticketView{}, err
	}
	var c struct {
		Comments []struct {
			Body string `json:"body"`
		} `json:"comments"`
	}
	if err := s.zendesk(ctx, agent, http.MethodGet, fmt.Sprintf("/api/v2/tickets/%d/comments.json", ticket), nil, &c); err != nil {
		return ticketView{}, err
	}
	v := ticketView{tags: t.Ticket.Tags}
	for _, cm := range c.Comments {
		v.comments = append(v.comments, cm.Body)
	}
	return v, nil
}

// fillPlaceholder puts the agent's words where the macro left "[Write …]" (or appends them).
func fillPlaceholder(body, text string) string {
	if i := strings.Index(body, "["); i >= 0 {
		if j := strings.Index(body[i:], "]"); j >= 0 {
			return body[:i] + text + body[i+j+1:]
		}
	}
	return body + "\n\n" + text
}

// clickApproval clicks a button of the case's approval request as a lead (a signed
// interaction from the sandbox Slack), filling the reason dialog for a denial.
func (s *Sandbox) clickApproval(ctx context.Context, before *workflows.CaseView, decision, lead, reason string) (msg, refused string, err error) {
	ts, err := s.findApproval(ctx, before.CaseNumber)
	if err != nil {
		return "", "", err
	}
	action := map[string]string{"approve": activitiesApprove, "deny": activitiesDeny, "extend": activitiesExtend}[decision]
	seen, refused, err := s.press(ctx, s.SlackChannel, ts, action, lead, reason, decision == "deny")
	if err != nil || refused != "" {
		return "", refused, err
	}
	name := s.slackName(lead)
	msg = fmt.Sprintf("%s clicked %s in Slack", name, decision)
	if decision == "deny" {
		msg = fmt.Sprintf("%s denied in Slack (%s)", name, reason)
	}
	// The desk's answer: the case moving on (the decision taken), or a message only the
	// clicker sees while the case stays where it was (a refusal; the desk also confirms a
	// decision it took that way, after taking it).
	moved := func(v *workflows.CaseView) bool {
		decided := func(v *workflows.CaseView) string {
			if v.Approval == nil {
				return ""
			}
			return v.Approval.Decision + v.Approval.DecidedAt.String()
		}
		return v.Status != before.Status || !v.Deadline.Equal(before.Deadline) || decided(v) != decided(before)
	}
	for range 150 {
		now, err := s.ephemeralsFor(ctx, lead)
		if err != nil {
			return "", "", err
		}
		v, err := s.Cases.Status(ctx, before.CaseID)
		if err != nil {
			return "", "", err
		}
		if moved(v) {
			return fmt.Sprintf("%s; the desk took it: the case is %s now.", msg, strings.ReplaceAll(string(v.Status), "_", " ")), "", nil
		}
		if len(now) > len(seen) {
			return "", now[len(now)-1], nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return "", "", fmt.Errorf("%s; the desk has not answered within 15 s", msg)
}

// answerHandOff answers hand-off n of the case as someone of its team: the button of the
// team's message in its Slack channel, then the dialog it opens, filled in — signed Slack
// interactions, as a person's would be. It waits for the desk's answer: the hand-off moving on,
// or a message only the clicker sees.
func (s *Sandbox) answerHandOff(ctx context.Context, v *workflows.CaseView, n int, answer, person, text string) (msg, refused string, err error) {
	i := slices.IndexFunc(v.HandOffs, func(h workflows.HandOffState) bool { return h.N == n })
	if i < 0 {
		return "", "", fmt.Errorf("the case has no hand-off %d", n)
	}
	h := v.HandOffs[i]
	action, ok := map[string]string{"resolve": handOffResolve, "need_info": handOffNeedInfo, "reassign": handOffReassign}[answer]
	if !ok {
		return "", "", fmt.Errorf("unknown answer %q", answer)
	}
	channel := s.TeamChannels[h.Team]
	ts, err := s.findMessage(ctx, channel, strconv.Quote(h.ChildID), handOffResolve)
	switch {
	case err != nil:
		return "", "", err
	case ts == "":
		return "", "", fmt.Errorf("no hand-off message with buttons for %s in #%s", v.CaseNumber, channel)
	}
	seen, refused, err := s.press(ctx, channel, ts, action, person, text, true)
	if err != nil || refused != "" {
		return "", refused, err
	}
	name := s.slackName(person)
	for range 150 {
		now, err := s.ephemeralsFor(ctx, person)
		if err != nil {
			return "", "", err
		}
		cv, err := s.Cases.Status(ctx, v.CaseID)
		if err != nil {
			return "", "", err
		}
		if j := slices.IndexFunc(cv.HandOffs, func(x workflows.HandOffState) bool { return x.N == n }); j >= 0 && (cv.HandOffs[j].Status != h.Status || cv.HandOffs[j].Team != h.Team || cv.HandOffs[j].Asked != h.Asked) {
			return fmt.Sprintf("%s answered the hand-off in Slack as the %s team (%s); the case has it.", name, h.Title, strings.ReplaceAll(answer, "_", " ")), "", nil
		}
		if len(now) > len(seen) && !strings.HasPrefix(now[len(now)-1], "Resolved") && !strings.HasPrefix(now[len(now)-1], "Asked") && !strings.HasPrefix(now[len(now)-1], "Reassigned") {
			return "", now[len(now)-1], nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return "", "", fmt.Errorf("%s answered in Slack; the desk has not answered within 15 s", name)
}

// findMessage finds the newest message in a channel whose blocks hold every one of needles (a
// case number or a button's value, and a button's action ID); "" when none does.
func (s *Sandbox) findMessage(ctx context.Context, channel string, needles ...string) (string, error) {
	body, _ := json.Marshal(map[string]string{"channel": channel, "limit": "200"})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.SlackAPIURL+"conversations.history", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.SlackBotToken)
	resp, err := s.client().Do(req)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	var hist struct {
		OK       bool   `json:"ok"`
		Error    string `json:"error"`
		Messages []struct {
			TS     string          `json:"ts"`
			Blocks json.RawMessage `json:"blocks"`
		} `json:"messages"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&hist); err != nil {
		return "", err
	}
	if !hist.OK && hist.Error != "" {
		return "", fmt.Errorf("slack: read #%s: %s", channel, hist.Error)
	}
	for _, m := range hist.Messages {
		if !slices.ContainsFunc(needles, func(n string) bool { return !bytes.Contains(m.Blocks, []byte(n)) }) {
			return m.TS, nil
		}
	}
	return "", nil
}

// press clicks button action of message ts in channel as user (a signed interaction from the
// sandbox Slack); with dialog, the click opens one (Deny, a hand-off's answer) and text is
// submitted in it. It returns the messages only user saw before the click (the desk's answer is
// the next), and refused when the desk answered the click, or the dialog, with a refusal.
func (s *Sandbox) press(ctx context.Context, channel, ts, action, user, text string, dialog bool) (seen []string, refused string, err error) {
	if seen, err = s.ephemeralsFor(ctx, user); err != nil {
		return nil, "", err
	}
	views, err := s.views(ctx)
	if err != nil {
		return nil, "", err
	}
	if err := s.slackSandbox(ctx, "click", map[string]string{"channel": channel, "ts": ts, "action_id": action, "user": user}, nil); err != nil {
		return nil, "", err
	}
	if !dialog {
		return seen, "", nil
	}
	// The dialog opens once the desk has the click; a refused click gets a message instead.
	viewID, err := s.openedView(ctx, user, len(views))
	if err != nil {
		return nil, "", err
	}
	if viewID == "" {
		if now, err := s.ephemeralsFor(ctx, user); err == nil && len(now) > len(seen) {
			return seen, now[len(now)-1], nil
		}
		return nil, "", errors.New("the desk opened no dialog for the click within 5 s")
	}
	refused, err = s.submitView(ctx, viewID, text)
	return seen, refused, err
}

// openedView waits for the dialog a click opened for user (views after the first before) and
// returns its ID ("" when none opened within 5 s).
func (s *Sandbox) openedView(ctx context.Context, user string, before int) (string, error) {
	for range 50 {
		views, err := s.views(ctx)
		if err != nil {
			return "", err
		}
		for i := len(views) - 1; i >= min(before, len(views)); i-- {
			if views[i].User == user {
				return views[i].ID, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return "", nil
}

// sandboxView is a dialog the sandbox Slack opened: its ID and for whom.
type sandboxView struct {
	ID   string `json:"id"`
	User string `json:"user"`
}

// views lists the dialogs the sandbox Slack opened, oldest first.
func (s *Sandbox) views(ctx context.Context) ([]sandboxView, error) {
	var out struct {
		Views []sandboxView `json:"views"`
	}
	err := s.slackSandbox(ctx, "views", nil, &out)
	return out.Views, err
}

// submitView fills a dialog's one line of text and submits it; refused is the dialog's own
// complaint (a required line left empty), else "".
func (s *Sandbox) submitView(ctx context.Context, viewID, text string) (refused string, err error) {
	var submitted struct {
		Body string `json:"body"`
	}
	if err := s.slackSandbox(ctx, "submit", map[string]any{"view_id": viewID, "values": map[string]map[string]string{"reason": {"reason_input": text}}}, &submitted); err != nil {
		return "", err
	}
	if strings.Contains(submitted.Body, `"errors"`) {
		return "Slack's dialog refused it: " + submitted.Body, nil
	}
	return "", nil
}

// ephemeralsFor lists the texts of the messages only user saw in Slack, oldest first.
func (s *Sandbox) ephemeralsFor(ctx context.Context, user string) ([]string, error) {
	var out struct {
		Ephemerals []struct {
			User string `json:"user"`
			Text string `json:"text"`
		} `json:"ephemerals"`
	}
	if err := s.slackSandbox(ctx, "ephemerals", nil, &out); err != nil {
		return nil, err
	}
	var texts []string
	for _, e := range out.Ephemerals {
		if e.User == user {
			texts = append(texts, e.Text)
		}
	}
	return texts, nil
}

// slackName is the name of a sandbox Slack user.
func (s *Sandbox) slackName(id string) string {
	for _, p := range slices.Concat(s.Leads, []Person{s.Bystander}) {
		if p.SlackID == id && p.Name != "" {
			return p.Name
		}
	}
	return id
}

// Slack action IDs of the approval buttons (integrations/slack).
const (
	handOffResolve    = "abusedesk_handoff_resolve"
	handOffNeedInfo   = "abusedesk_handoff_need_info"
	handOffReassign   = "abusedesk_handoff_reassign"
	activitiesApprove = "abusedesk_approve"
	activitiesDeny    = "abusedesk_deny"
	activitiesExtend  = "abusedesk_extend"
	activitiesUndo    = "abusedesk_undo"
)

func (s *Sandbox) findApproval(ctx context.Context, caseNumber string) (string, error) {
	ts, err := s.findMessage(ctx, s.SlackChannel, caseNumber, activitiesApprove)
	if err == nil && ts == "" {
		err = fmt.Errorf("no open approval request for %s in #%s", caseNumber, s.SlackChannel)
	}
	return ts, err
}

func (s *Sandbox) slackSandbox(ctx context.Context, path string, in, out any) error {
	method := http.MethodGet
	var body io.Reader
	if in != nil {
		method = http.MethodPost
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.SlackSandboxURL+path, body)
	if err != nil {
		return err
	}
	resp, err := s.client().Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		var e struct{ Error string }
		_ = json.Unmarshal(b, &e)
		return fmt.Errorf("slack: %s", cmp.Or(e.Error, string(b)))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// accountState is an account with its actions, for the sandbox page.
type accountState struct {
	ID      string
	Actions []abuse.ActionState
	Err     string
}

func (s *Sandbox) accountStates(ctx context.Context) []accountState {
	c := enforcement.New(s.EnforcementURL, s.EnforcementToken)
	var out []accountState
	for _, id := range s.Accounts {
		acts, err := c.Actions(ctx, id)
		st := accountState{ID: id, Actions: acts}
		if err != nil {
			st.Err = err.Error()
		}
		out = append(out, st)
	}
	return out
}

func (s *Sandbox) sandboxPage(w http.ResponseWriter, r *http.Request, page dashboard.PageFunc) {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	body, err := s.render("sandbox.html", struct {
		Sandbox  *Sandbox
		Accounts []accountState
	}{s, s.accountStates(ctx)})
	if err != nil {
		http.Error(w, "the sandbox page could not be rendered: "+err.Error(), http.StatusInternalServerError)
		return
	}
	page(w, r, "Sandbox", body)
}

// New tells the playground how to act as the other parties through the sandbox's services
// (only those that are sandboxed: s and mailbox may be nil, api too when the reports API is
// off), with the samples it offers and the decision macros' titles.
func New(cases Cases, s *sandbox.Sandbox, mailbox *config.IMAP, api *config.APIEndpoint, samples []demo.Sample, macros []string) (*Sandbox, error) {
	tmpl, err := parsePages()
	if err != nil {
		return nil, err
	}
	sb := &Sandbox{Cases: cases, Samples: samples, Macros: macros, tmpl: tmpl}
	if api != nil {
		sb.APIURL, sb.APIToken = api.URL, api.Token
	}
	if mailbox != nil {
		sb.IMAPAddr, sb.IMAPUser, sb.IMAPPass = mailbox.Addr, mailbox.Username, mailbox.Password
	}
	if s != nil {
		if s.Zendesk != nil {
			sb.ZendeskURL, sb.ZendeskToken = s.ZendeskURL, s.ZendeskToken
			for _, p := range sandbox.Agents {
				sb.Agents = append(sb.Agents, Person{Name: p.Name, Email: p.Email})
			}
		}
		if s.Slack != nil {
			sb.SlackAPIURL, sb.SlackSandboxURL, sb.SlackBotToken, sb.SlackChannel = s.SlackURL+"/api/", s.SlackURL+"/sandbox/", s.SlackBotToken, sandbox.LeadsChannel
			for _, p := range sandbox.Leads {
				sb.Leads = append(sb.Leads, Person{SlackID: p.SlackID, Name: p.Name, Email: p.Email})
			}
			sb.Bystander = Person{SlackID: sandbox.Bystander.SlackID, Name: sandbox.Bystander.Name, Email: sandbox.Bystander.Email}
		}
		if s.Hosting != nil {
			sb.HostingURL = s.HostingProxy
		}
		if s.Enforcement != nil {
			sb.EnforcementURL, sb.EnforcementToken = s.EnforcementURL, s.EnforcementToken
			for _, acct := range s.Enforcement.Accounts() {
				sb.Accounts = append(sb.Accounts, acct.ID)
			}
		}
	}
	return sb, nil
}

// FeedOnce sends the samples once per data dir, the way they would arrive (`desk dev --demo`).
func (sb *Sandbox) FeedOnce(ctx context.Context, dataDir string, samples []demo.Sample, log *slog.Logger) {
	marker := filepath.Join(dataDir, "demo-fed")
	if _, err := os.Stat(marker); err == nil {
		log.Info("the demo reports were fed on an earlier start; delete the marker to feed them again", "marker", marker)
		return
	}
	sent := 0
	for _, s := range samples {
		how, err := sb.Deliver(ctx, s, false)
		if err != nil {
			log.Error("demo report not delivered", "sample", s.Name, "error", err)
			continue
		}
		sent++
		log.Info("demo report", "sample", s.Name, "delivered", how)
	}
	if err := os.WriteFile(marker, fmt.Appendf(nil, "%d samples fed at %s\n", sent, time.Now().UTC().Format(time.RFC3339)), 0o600); err != nil {
		log.Warn("demo marker", "error", err)
	}
}

// macroTitle is the title of one decision's macro as Zendesk shows it.
func macroTitle(d workflows.Decision) string { return zendesk.MacroTitle(provision.Macro(d)) }

// MacroTitles lists the decision macros' titles as provisioned, in the order agents see them.
func MacroTitles() []string {
	var out []string
	for _, m := range provision.Macros(nil, 0, 0) {
		out = append(out, zendesk.MacroTitle(m))
	}
	return out
}
