package reports

import (
	"cmp"
	"regexp"
	"strings"

	"github.com/emersion/go-message"

	"abusedesk/domain/abuse"
)

// classify decides what a message is, most certain first: structured reports (ARF, X-ARF),
// bounces, replies to our cases (and their auto-replies), the known text formats, then
// free-form complaints. What names nothing to act on is unparseable.
func (p *Parser) classify(m *msg, res *Result) {
	received, _, _ := parseDate(m.header.Get("Date"))
	if b := findXARF4(m); b != nil {
		r, err := parseXARF4(b)
		if err == nil {
			if res.From != "" && (r.Reporter == "" || !strings.Contains(r.Reporter, "@")) {
				r.Reporter = res.From
			}
			if !received.IsZero() {
				r.ReceivedAt = received
			}
			res.Kind, res.Reports = KindReport, []Report{*r}
			return
		}
	}
	if r := p.arf(m, res); r != nil {
		res.Kind, res.Reports = KindReport, []Report{*r}
		return
	}
	if y := findXARF02(m); y != nil {
		res.Kind, res.Reports = KindReport, []Report{*p.xarf02(m, res, y)}
		return
	}
	if why := bounceReason(m, res); why != "" {
		res.Kind = KindBounce
		res.Reply = p.reply(m, res, why)
		return
	}
	if p.opts.FindCaseNumber != nil {
		if cn := p.caseNumberOf(m, res); cn != "" {
			res.Kind = KindReply
			why := autoReplyReason(m.header, res.Subject)
			if why != "" {
				res.Kind = KindAutoReply
			}
			res.Reply = p.reply(m, res, why)
			res.Reply.CaseNumber = cn
			return
		}
	}
	var r *Report
	switch {
	case isSpamCop(m, res):
		r = spamcop(m, res)
	case isSpamhaus(m, res):
		r = spamhaus(m, res)
	case isFail2ban(m, res):
		r = fail2ban(m, res)
	}
	if r == nil {
		if rows := p.tables(m, res); len(rows) > 0 {
			res.Kind, res.Reports = KindReport, rows
			return
		}
		rows, why := p.xmlReports(m, res)
		if len(rows) > 0 {
			res.Kind, res.Reports = KindReport, rows
			return
		}
		if why != "" {
			res.Kind, res.Error = KindUnparseable, why
			return
		}
	}
	text := m.textOf(512 << 10)
	if r == nil {
		if why := statusReason(res.Subject, text); why != "" {
			// A reporting platform or another desk telling how a request of ours went: never
			// a report, never a case.
			res.Kind, res.Reply = KindAutoReply, p.reply(m, res, why)
			return
		}
	}
	if r == nil && reCopyright.MatchString(res.Subject+"\n"+text) {
		r = copyright(m, res)
	}
	if r == nil && reTakedownSubject.MatchString(res.Subject) {
		r = takedown(m, res, received)
	}
	if r == nil {
		// Machine-written mail (Auto-Submitted, Precedence: bulk) that answers none of our
		// cases is a reporter's system at work: read it as a report like any other.
		r = freeform(text, res.Subject, res.From, received)
	}
	if r != nil && r.Format == FormatFreeform && (len(r.SourceIPs) == 0 || r.Category == abuse.Other) && isNewsletter(m.header) {
		res.Kind, res.Reply = KindAutoReply, p.reply(m, res, "a newsletter or bulk mailing (List-Unsubscribe) naming no source: not a report")
		return
	}
	if r == nil || (len(r.SourceIPs) == 0 && len(r.URLs) == 0 && len(r.Domains) == 0 && len(r.Senders) == 0 && len(r.Ranges) == 0 && !r.namesSenders()) {
		if why := autoReplyReason(m.header, res.Subject); why != "" {
			// An out-of-office or another machine's answer that names nothing: an automatic
			// message, answering none of our cases.
			res.Kind, res.Reply = KindAutoReply, p.reply(m, res, why)
			return
		}
		res.Kind = KindUnparseable
		res.Error = "no report format recognised and no address, link or sender found in the text"
		return
	}
	if r.ReceivedAt.IsZero() {
		r.ReceivedAt = received
	}
	if r.ID == "" {
		r.ID = cmp.Or(res.MessageID, "sha256:"+res.Digest[:32])
	}
	res.Kind, res.Reports = KindReport, []Report{*r}
}

// isNewsletter says whether a message is a newsletter or bulk mailing: it offers to unsubscribe
// (RFC 2369, RFC 8058) and no mailing list of ours re-sent someone's report (a group that
// re-sends keeps the writer in X-Original-Sender or X-Original-From).
func isNewsletter(h message.Header) bool {
	return h.Get("List-Unsubscribe") != "" && h.Get("X-Original-Sender") == "" && h.Get("X-Original-From") == "" &&
		!strings.Contains(strings.ToLower(h.Get("From")), " via ")
}

// caseNumberOf finds our case number in the subject, or in In-Reply-To/References (message IDs
// of mail about a case carry its number).
func (p *Parser) caseNumberOf(m *msg, res *Result) string {
	if cn := p.opts.FindCaseNumber(res.Subject); cn != "" {
		return cn
	}
	for _, key := range []string{"In-Reply-To", "References"} {
		if cn := p.opts.FindCaseNumber(strings.NewReplacer("<", " ", ">", " ", ".", " ", "@", " ").Replace(m.header.Get(key))); cn != "" {
			return cn
		}
	}
	return ""
}

var reAutoSubject = regexp.MustCompile(`(?i)^(auto(matic)?[ -]?(reply|response|antwort)|out of (the )?office|abwesenheit|absence|autosvar|r[ée]ponse automatique|auto:)`)

// autoReplyReason says why a message is an automatic reply (RFC 3834 and common practice), or
// "".
func autoReplyReason(h message.Header, subject string) string {
	if v := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted"))); v != "" && v != "no" {
		return "Auto-Submitted: " + v
	}
	// Precedence: list is a mailing list's, not the writer's: a customer's answer the desk's
	// own abuse@ group re-sent is still an answer.
	switch strings.ToLower(strings.TrimSpace(h.Get("Precedence"))) {
	case "auto_reply", "bulk", "junk":
		return "Precedence: " + h.Get("Precedence")
	}
	for _, k := range []string{"X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"} {
		if v := h.Get(k); v != "" && !(k == "X-Auto-Response-Suppress" && !strings.Contains(strings.ToLower(v), "all")) {
			return k + ": " + v
		}
	}
	if reAutoSubject.MatchString(BaseSubject(subject)) {
		return "subject " + subject
	}
	return ""
}

// bounceReason says why a message is a delivery failure report, or "".
func bounceReason(m *msg, res *Result) string {
	if m.top == "multipart/report" && strings.EqualFold(m.topParams["report-type"], "delivery-status") {
		return "delivery status notification"
	}
	for _, pt := range m.parts {
		if pt.mediaType == "message/delivery-status" {
			return "delivery status notification"
		}
	}
	from := strings.ToLower(res.From + " " + m.header.Get("From"))
	subj := strings.ToLower(res.Subject)
	if (strings.Contains(from, "mailer-daemon") || strings.Contains(from, "postmaster@")) &&
		(strings.Contains(subj, "undeliver") || strings.Contains(subj, "delivery") || strings.Contains(subj, "returned mail") || strings.Contains(subj, "failure")) {
		return "bounce from " + res.From
	}
	return ""
}

// reply builds the reply view: who, when, and the new text without quotes or signature.
func (p *Parser) reply(m *msg, res *Result, why string) *Reply {
	r := &Reply{MessageID: res.MessageID, From: res.From, Subject: res.Subject, Why: why}
	if t, _, ok := parseDate(m.header.Get("Date")); ok {
		r.Date = t
	}
	for _, key := range []string{"In-Reply-To", "References"} {
		for _, f := range strings.Fields(m.header.Get(key)) {
			r.InReplyTo = appendUnique(r.InReplyTo, strings.Trim(f, "<>"))
		}
	}
	if p.opts.FindCaseNumber != nil && r.CaseNumber == "" {
		// A bounce carries the subject of the mail it returns.
		for _, pt := range m.parts {
			if strings.HasPrefix(pt.mediaType, "message/rfc822") || strings.Contains(pt.mediaType, "headers") {
				if cn := p.opts.FindCaseNumber(headerLine(string(pt.body), "Subject")); cn != "" {
					r.CaseNumber = cn
					break
				}
			}
		}
	}
	r.Excerpt = excerpt(m.textOf(64<<10), 1000)
	return r
}

// excerpt keeps the new text of a reply: it stops at the quoted original ("On … wrote:",
// "-----Original Message-----", "> " lines) and at a signature ("-- ").
func excerpt(s string, n int) string {
	var kept []string
	for _, line := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		t := strings.TrimSpace(line)
		low := strings.ToLower(t)
		if t == "--" || strings.HasPrefix(t, "-- ") || strings.HasPrefix(low, "-----original message") ||
			(strings.HasPrefix(low, "on ") && strings.HasSuffix(low, "wrote:")) || (strings.HasPrefix(low, "am ") && strings.HasSuffix(low, "schrieb:")) {
			break
		}
		if strings.HasPrefix(t, ">") {
			continue
		}
		kept = append(kept, t)
	}
	return OneLine(strings.Join(kept, " "), n)
}

// reStatus finds what a reporting platform, a registrar or another abuse desk writes about a
// request someone made to it ("your takedown request has been approved", "your report was
// received", "listing removed", "thank you for your report"), in the languages the desk reads.
var reStatus = regexp.MustCompile(`(?i)(\byour (?:\w+ ){0,3}(?:request|report|complaint|submission|ticket|case|enquiry|inquiry)\b[^\n]{0,200}?\b(?:has been|have been|was|were|is now)\s+(?:approved|accepted|completed|resolved|closed|received|processed|actioned|escalated|forwarded|rejected|declined|removed|taken down)\b|\bthank you for (?:your (?:report|submission|request|complaint)|reporting|contacting (?:us|our abuse))\b|\b(?:listing|entry)\b[^\n]{0,80}?\b(?:has been|have been|was|is now)\s+(?:removed|delisted|expired)\b|\bdelisting (?:complete|completed|successful|done)\b|\bwe have received your (?:report|request|complaint|message|e-?mail)\b|\bthis is an automated (?:acknowledg(?:e)?ment|confirmation)\b|votre (?:demande|signalement|plainte)\b[^\n]{0,200}?\ba été (?:approuvée?|acceptée?|traitée?|reçue?|clôturée?)|Ihre (?:Anfrage|Meldung|Beschwerde)\b[^\n]{0,200}?\bwurde (?:angenommen|bearbeitet|genehmigt|erhalten|geschlossen)|su (?:solicitud|denuncia|reporte)\b[^\n]{0,200}?\bha sido (?:aprobada|recibida|procesada|cerrada))`)

// statusReason says why a message is a status message about someone's request rather than a
// report ("" when it is not): its subject, or the opening of its text, says so.
func statusReason(subject, text string) string {
	if len(text) > 1500 {
		text = text[:1500]
	}
	if m := reStatus.FindString(subject + "\n" + text); m != "" {
		return "a status message about a request (\"" + OneLine(m, 80) + "\"), not a report"
	}
	return ""
}

// BaseSubject is a subject without the prefixes a reply or a forward adds ("Re:", "Fwd:",
// "AW:", "WG:", "TR:", "RV:"), lower case, its spaces collapsed.
func BaseSubject(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	for {
		cut := false
		for _, pre := range []string{"re:", "fwd:", "fw:", "aw:", "wg:", "tr:", "rv:", "enc:"} {
			if rest, ok := strings.CutPrefix(s, pre); ok {
				s, cut = strings.TrimSpace(rest), true
			}
		}
		if !cut {
			return strings.Join(strings.Fields(s), " ")
		}
	}
}
