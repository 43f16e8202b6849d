package zendesksandbox

import (
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// agentPage is what /agent/tickets/{id} shows: the ticket as an agent sees it in Zendesk's
// agent workspace, read-only. Real Zendesk asks for a login there; the sandbox, on loopback,
// does not.
const agentStyle = `<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:14px system-ui,sans-serif;margin:1em;max-width:60em;color:#222}.c{border:1px solid #ddd;border-radius:6px;padding:.6em 1em;margin:.6em 0}
.internal{background:#fff8e1}.meta{color:#666;font-size:12px}pre{white-space:pre-wrap;overflow-wrap:anywhere;font:inherit;margin:.4em 0}code{background:#eee;padding:0 .3em;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #eee;padding:.3em .4em;text-align:left;vertical-align:top}.scroll{overflow-x:auto}</style>`

var agentPage = template.Must(template.New("ticket").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>#{{.T.ID}} {{.T.Subject}} · sandbox Zendesk</title>` + agentStyle + `</head>
<body><p class="meta"><a href="/agent/tickets">All tickets</a> · Sandbox Zendesk · agent view (read-only)</p>
<h1>#{{.T.ID}} {{.T.Subject}}</h1>
<p>Status <b>{{.T.Status}}</b> · requester {{.Requester}}{{with .T.Recipient}} · mail goes from {{.}}{{end}} · tags {{range .T.Tags}}<code>{{.}}</code> {{end}}</p>
{{with .Fields}}<p class="meta">{{range .}}{{.}} · {{end}}</p>{{end}}
{{range .Comments}}<div class="c{{if not .Public}} internal{{end}}"><div class="meta">{{.Author}} · {{.At}}{{if not .Public}} · internal note{{end}}</div><pre>{{.Body}}</pre>
{{range .Files}}<div class="meta">📎 {{.}}</div>{{end}}</div>{{end}}
</body></html>`))

// ticketList is what /agent/tickets shows: every ticket, newest first, as Zendesk's views list
// them — what the desk opened, for whom, and where it stands.
var ticketList = template.Must(template.New("tickets").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tickets · sandbox Zendesk</title>` + agentStyle + `</head>
<body><p class="meta">Sandbox Zendesk · agent view (read-only)</p>
<h1>Tickets <small class="meta">{{len .}}, newest first</small></h1>
<div class="scroll"><table><thead><tr><th>#</th><th>Subject</th><th>Requester</th><th>Status</th><th>Comments</th></tr></thead><tbody>
{{range .}}<tr><td><a href="/agent/tickets/{{.ID}}">#{{.ID}}</a></td><td>{{.Subject}}</td><td>{{.Requester}}</td><td>{{.Status}}</td><td>{{.Comments}}</td></tr>
{{else}}<tr><td colspan="5">No tickets yet.</td></tr>{{end}}
</tbody></table></div></body></html>`))

type ticketRow struct {
	ID                         int64
	Subject, Requester, Status string
	Comments                   int
	Tags                       []string
}

func (s *Server) agentTickets(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	rows := make([]ticketRow, 0, len(s.tickets))
	for id, t := range s.tickets {
		rows = append(rows, ticketRow{ID: id, Subject: t.Subject, Requester: s.nameOf(t.RequesterID), Status: t.Status, Comments: len(s.comments[id])})
	}
	s.mu.Unlock()
	slices.SortFunc(rows, func(a, b ticketRow) int { return int(b.ID - a.ID) })
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = ticketList.Execute(w, rows)
}

type agentComment struct {
	Author, At, Body string
	Public           bool
	Files            []string
}

func (s *Server) agentTicket(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	s.mu.Lock()
	t := s.tickets[id]
	if err != nil || t == nil {
		s.mu.Unlock()
		http.NotFound(w, r)
		return
	}
	data := struct {
		T         Ticket
		Requester string
		Fields    []string
		Comments  []agentComment
	}{T: *t, Requester: s.nameOf(t.RequesterID)}
	titles := map[int64]string{}
	for _, f := range s.fields {
		titles[f.ID] = f.Title
	}
	for _, f := range t.CustomFields {
		if f.Value != nil && f.Value != "" {
			data.Fields = append(data.Fields, titles[f.ID]+": "+strings.TrimSpace(toString(f.Value)))
		}
	}
	for _, c := range s.comments[id] {
		ac := agentComment{Author: s.nameOf(c.AuthorID), At: c.CreatedAt.Format("2006-01-02 15:04:05 UTC"), Body: c.Body, Public: c.Public}
		for _, a := range c.Attachments {
			ac.Files = append(ac.Files, a.FileName)
		}
		data.Comments = append(data.Comments, ac)
	}
	s.mu.Unlock()
	slices.Sort(data.Fields)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = agentPage.Execute(w, data)
}

func (s *Server) nameOf(id int64) string {
	if u := s.users[id]; u != nil {
		return u.Name + " <" + u.Email + ">"
	}
	return "user " + strconv.FormatInt(id, 10)
}

func toString(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}
