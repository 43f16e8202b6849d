package slacksandbox

import (
	"html"
	"html/template"
	"regexp"
	"strings"
)

// Slack's mrkdwn, rendered as Slack shows it: links <url|text> and <url>, mentions <@U…>,
// <!subteam^S…> and <#C…>, *bold*, _italic_, ~strike~ and `code`; everything else as text.
var (
	reAngle  = regexp.MustCompile(`<([^<>|]+)(?:\|([^<>]+))?>`)
	reMarks  = regexp.MustCompile("(^|[\\s(>])([*_~`])([^*_~`\\s](?:[^*_~`\\n]*?[^*_~`\\s])?)([*_~`])($|[\\s).,!?:;<])")
	markTags = map[string]string{"*": "b", "_": "i", "~": "s", "`": "code"}
)

// mrkdwn renders a mrkdwn text as HTML; names resolves a user or group ID to a name.
func mrkdwn(s string, names func(id string) string) template.HTML {
	var b strings.Builder
	last := 0
	for _, m := range reAngle.FindAllStringSubmatchIndex(s, -1) {
		b.WriteString(marks(html.EscapeString(s[last:m[0]])))
		target, label := s[m[2]:m[3]], ""
		if m[4] >= 0 {
			label = s[m[4]:m[5]]
		}
		switch {
		case strings.HasPrefix(target, "@"):
			b.WriteString(`<b class="mention">@` + html.EscapeString(names(target[1:])) + `</b>`)
		case strings.HasPrefix(target, "!subteam^"):
			b.WriteString(`<b class="mention">@` + html.EscapeString(names(strings.TrimPrefix(target, "!subteam^"))) + `</b>`)
		case strings.HasPrefix(target, "#"):
			b.WriteString(`<b class="mention">#` + html.EscapeString(strings.TrimPrefix(target, "#")) + `</b>`)
		case strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://") || strings.HasPrefix(target, "mailto:"):
			if label == "" {
				label = target
			}
			b.WriteString(`<a href="` + html.EscapeString(target) + `">` + html.EscapeString(label) + `</a>`)
		default:
			b.WriteString(html.EscapeString(s[m[0]:m[1]]))
		}
		last = m[1]
	}
	b.WriteString(marks(html.EscapeString(s[last:])))
	return template.HTML(b.String()) //nolint:gosec // every piece of the text is escaped above
}

// marks turns *bold*, _italic_, ~strike~ and `code` of an escaped text into tags.
func marks(escaped string) string {
	for range 3 { // nested or adjacent marks
		escaped = reMarks.ReplaceAllStringFunc(escaped, func(m string) string {
			p := reMarks.FindStringSubmatch(m)
			if p[2] != p[4] {
				return m
			}
			tag := markTags[p[2]]
			return p[1] + "<" + tag + ">" + p[3] + "</" + tag + ">" + p[5]
		})
	}
	return escaped
}
