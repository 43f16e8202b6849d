package slacksandbox

import (
	"encoding/json"
	"html/template"
	"net/http"
	"slices"
	"strings"
)

// archivePage is what a message's permalink shows: the message (its blocks' text and
// buttons, read-only) and its thread, as the leads see it in Slack.
var archivePage = template.Must(template.New("msg").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>#{{.Channel}} · sandbox Slack</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:14px system-ui,sans-serif;margin:1em;max-width:50em;color:#1d1c1d}.t,code{overflow-wrap:anywhere}.m{border-left:4px solid #ddd;padding:.3em 1em;margin:.8em 0}
.meta{color:#666;font-size:12px}.t{white-space:pre-wrap;margin:.3em 0}code{background:#f4f4f4;border:1px solid #ddd;border-radius:3px;padding:0 .2em}.mention{color:#1264a3;background:#e8f5fa}button{margin-right:.5em}.r{margin-left:2em}</style></head>
<body><p class="meta"><a href="/sandbox/">Channels</a> · Sandbox Slack · <a href="/sandbox/channels/{{.Channel}}">#{{.Channel}}</a> · read-only (click the buttons from the desk's case page)</p>
{{range .Messages}}<div class="m{{if .Reply}} r{{end}}"><div class="meta">{{.Who}} · {{.TS}}{{if .Edited}} · edited{{end}}</div>
{{range .Lines}}<div class="t">{{.}}</div>{{end}}{{with .Buttons}}<p>{{range .}}<button disabled>{{.}}</button>{{end}}</p>{{end}}</div>{{end}}
</body></html>`))

type archiveMsg struct {
	Who, TS       string
	Reply, Edited bool
	Lines         []template.HTML
	Buttons       []string
}

// archive serves GET /archives/{channel}/p{ts}.
func (s *Server) archive(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/archives/"), "/")
	if len(parts) != 2 || !strings.HasPrefix(parts[1], "p") || len(parts[1]) < 8 {
		http.NotFound(w, r)
		return
	}
	digits := parts[1][1:]
	ts := digits[:len(digits)-6] + "." + digits[len(digits)-6:]
	name, msgs := s.channelMessages(parts[0], func(m *Message) bool { return m.TS == ts || m.ThreadTS == ts })
	if len(msgs) == 0 {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = archivePage.Execute(w, map[string]any{"Channel": name, "Messages": msgs})
}

// channelPage serves GET /sandbox/channels/{channel}: every message of a channel, threads
// under their message, as the channel shows in Slack.
func (s *Server) channelPage(w http.ResponseWriter, r *http.Request, channel string) {
	name, msgs := s.channelMessages(channel, func(*Message) bool { return true })
	if name == "" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = archivePage.Execute(w, map[string]any{"Channel": name, "Messages": msgs})
}

// channelsPage serves GET /sandbox/: the channels and how many messages each holds.
func (s *Server) channelsPage(w http.ResponseWriter, _ *http.Request) {
	type row struct {
		Name     string
		Messages int
	}
	s.mu.Lock()
	var rows []row
	for name, id := range s.channels {
		rows = append(rows, row{Name: name, Messages: len(s.messages[id])})
	}
	s.mu.Unlock()
	slices.SortFunc(rows, func(a, b row) int { return strings.Compare(a.Name, b.Name) })
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = channelsPage.Execute(w, rows)
}

var channelsPage = template.Must(template.New("channels").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Channels · sandbox Slack</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:14px system-ui,sans-serif;margin:1em;max-width:50em;color:#1d1c1d}.meta{color:#666;font-size:12px}li{margin:.3em 0}</style></head>
<body><p class="meta">Sandbox Slack · read-only</p><h1>Channels</h1>
<ul>{{range .}}<li><a href="/sandbox/channels/{{.Name}}">#{{.Name}}</a> <span class="meta">{{.Messages}} message(s)</span></li>{{else}}<li>No channels yet.</li>{{end}}</ul>
</body></html>`))

// channelMessages are the messages of a channel (by name or ID) that keep says to, rendered;
// name is the channel's name ("" when there is no such channel).
func (s *Server) channelMessages(channel string, keep func(*Message) bool) (name string, msgs []archiveMsg) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.resolve(channel)
	for n, id := range s.channels {
		if id == ch {
			name = n
		}
	}
	if name == "" && len(s.messages[ch]) > 0 {
		name = ch
	}
	for _, m := range s.messages[ch] {
		if !keep(m) {
			continue
		}
		am := archiveMsg{Who: "abusedesk (bot)", TS: m.TS, Reply: m.ThreadTS != "" && m.ThreadTS != m.TS, Edited: m.Edited != nil}
		if u, ok := s.users[m.User]; ok {
			am.Who = u.RealName
		}
		lines, buttons := blockText(m.Blocks)
		if len(lines) == 0 {
			lines = []string{m.Text}
		}
		for _, l := range lines {
			am.Lines = append(am.Lines, mrkdwn(l, s.nameOf))
		}
		am.Buttons = buttons
		msgs = append(msgs, am)
	}
	return name, msgs
}

// nameOf is a user's name, for mentions (the ID when unknown). The caller holds s.mu.
func (s *Server) nameOf(id string) string {
	if u, ok := s.users[id]; ok && u.RealName != "" {
		return u.RealName
	}
	return id // a user group: the sandbox knows its ID only
}

// blockText pulls the text of sections, contexts and headers, and the buttons' labels.
func blockText(raw json.RawMessage) (lines, buttons []string) {
	var blocks []map[string]any
	if json.Unmarshal(raw, &blocks) != nil {
		return nil, nil
	}
	text := func(v any) string {
		if m, ok := v.(map[string]any); ok {
			s, _ := m["text"].(string)
			return s
		}
		return ""
	}
	for _, b := range blocks {
		if t := text(b["text"]); t != "" {
			lines = append(lines, t)
		}
		if fields, ok := b["fields"].([]any); ok {
			for _, f := range fields {
				if t := text(f); t != "" {
					lines = append(lines, t)
				}
			}
		}
		if els, ok := b["elements"].([]any); ok {
			for _, e := range els {
				em, _ := e.(map[string]any)
				if em["type"] == "button" {
					buttons = append(buttons, text(em["text"]))
				} else if t := text(e); t != "" {
					lines = append(lines, t)
				} else if t, ok := em["text"].(string); ok {
					lines = append(lines, t)
				}
			}
		}
	}
	return lines, buttons
}
