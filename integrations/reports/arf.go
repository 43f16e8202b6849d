package reports

import (
	"bufio"
	"bytes"
	"io"
	"strings"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"

	"abusedesk/domain/abuse"
)

// arfCategory maps an ARF Feedback-Type to a category (RFC 5965 §7.3, RFC 6591).
func arfCategory(ft string) (abuse.Category, bool) {
	switch strings.ToLower(strings.TrimSpace(ft)) {
	case "abuse", "opt-out", "optout":
		return abuse.Spam, true
	case "fraud":
		return abuse.Phishing, true
	case "virus":
		return abuse.Malware, true
	case "auth-failure", "dmarc":
		return abuse.AuthFailure, true
	case "not-spam":
		return abuse.Other, true
	case "other":
		return abuse.Spam, true
	}
	return abuse.Spam, false
}

// arf reads an ARF feedback report: a multipart/report of report-type feedback-report, or any
// message with a message/feedback-report part.
func (p *Parser) arf(m *msg, res *Result) *Report {
	var fb *part
	for i := range m.parts {
		if m.parts[i].mediaType == "message/feedback-report" {
			fb = &m.parts[i]
			break
		}
	}
	if fb == nil {
		return nil
	}
	fields := readFields(fb.body)
	r := &Report{Format: FormatARF, Fields: fields}
	r.sure(0.95, "0.95 ARF feedback report (RFC 5965)")
	ft := first(fields, "Feedback-Type")
	cat, known := arfCategory(ft)
	r.Category = cat
	if ft == "" {
		r.Warnings = append(r.Warnings, "no Feedback-Type; read as abuse")
	} else if !known && !strings.EqualFold(ft, "xarf") {
		r.Warnings = append(r.Warnings, "unknown Feedback-Type "+ft+"; read as abuse")
	}
	if ip := firstIP(first(fields, "Source-IP")); ip != "" {
		r.SourceIPs = appendUnique(r.SourceIPs, ip)
		if strings.Contains(first(fields, "Source-IP"), "(") {
			if host := hostInParens(first(fields, "Source-IP")); host != "" {
				r.Fields["Source-Host"] = []string{host}
			}
		}
	}
	for _, d := range fields["Reported-Domain"] {
		r.Domains = addDomain(r.Domains, d)
	}
	for _, u := range fields["Reported-URI"] {
		u = strings.Trim(u, "<> ")
		r.URLs = appendUnique(r.URLs, u)
		r.Domains = addDomain(r.Domains, hostOf(u))
		r.SourceIPs = appendUnique(r.SourceIPs, ipOfURL(u))
	}
	if from := cleanAddress(first(fields, "Original-Mail-From")); from != "" {
		r.Senders = appendUnique(r.Senders, from)
	}
	for _, key := range []string{"Arrival-Date", "Received-Date"} {
		if t, warn, ok := parseDate(first(fields, key)); ok {
			r.EventTime = t
			if warn != "" {
				r.Warnings = append(r.Warnings, key+": "+warn)
			}
			break
		}
	}
	r.Reporter = res.From
	if t, warn, ok := parseDate(m.header.Get("Date")); ok {
		r.ReceivedAt = t
		if warn != "" {
			r.Warnings = append(r.Warnings, "Date: "+warn)
		}
	}

	// The reported message: a message/rfc822 part, or only its header
	// (text/rfc822-headers, or the non-standard message/rfc822-headers).
	for _, pt := range m.parts {
		switch pt.mediaType {
		case "message/rfc822", "text/rfc822-headers", "message/rfc822-headers", "message/global", "message/global-headers":
			if pt.mediaType == "message/rfc822-headers" {
				r.Warnings = append(r.Warnings, "original header sent as message/rfc822-headers (non-standard)")
			}
			p.readOriginal(r, pt.body)
		}
	}
	if len(r.SourceIPs) == 0 {
		// The human-readable part often says "received from IP 192.0.2.1".
		for _, pt := range m.parts {
			if pt.mediaType == "text/plain" {
				if ip := firstIP(afterWord(string(pt.body), "from")); ip != "" {
					r.SourceIPs = appendUnique(r.SourceIPs, ip)
					r.Warnings = append(r.Warnings, "no Source-IP; the address is from the report's text")
					break
				}
			}
		}
	}
	// No arrival date: the receiving server's stamp on the reported message, then the date the
	// report's text gives ("received from IP … on <date>"). The reported message's own Date is
	// the sender's claim and is not used.
	if r.EventTime.IsZero() && r.Original != nil && !r.Original.Arrived.IsZero() {
		r.EventTime = r.Original.Arrived
	}
	if r.EventTime.IsZero() {
		for _, pt := range m.parts {
			if pt.mediaType == "text/plain" {
				if t := textDate(string(pt.body)); !t.IsZero() {
					r.EventTime = t
					break
				}
			}
		}
	}
	if len(r.Senders) > 0 && len(r.Domains) == 0 {
		r.Domains = addDomain(r.Domains, DomainOf(r.Senders[0]))
	}
	if r.Category == abuse.AuthFailure && first(fields, "Auth-Failure") != "" {
		r.Summary = OneLine("authentication failure ("+first(fields, "Auth-Failure")+") for "+strings.Join(r.Domains, ", ")+" from "+strings.Join(r.SourceIPs, ", "), 200)
	}
	r.ID = arfID(res, r)
	return r
}

func arfID(res *Result, r *Report) string {
	if res.MessageID != "" {
		return res.MessageID
	}
	return "sha256:" + res.Digest[:32]
}

// readOriginal reads the reported message's header (and a little of its body): sender,
// subject, CFBL feedback ID, the provider's account header, and — when the report has no
// Source-IP — the connecting address from the topmost Received header.
func (p *Parser) readOriginal(r *Report, b []byte) {
	b = stripMbox(bytes.TrimLeft(b, "\r\n"))
	br := getReader(b)
	h, err := textproto.ReadHeader(br)
	putReader(br)
	if err != nil {
		// A header cut short (text/rfc822-headers may end without a blank line) still has
		// its fields up to the break.
		h, err = textproto.ReadHeader(bufio.NewReader(bytes.NewReader(append(bytes.TrimRight(b, "\r\n"), '\n', '\n'))))
		if err != nil {
			r.Warnings = append(r.Warnings, "the reported message's header is unreadable: "+err.Error())
			return
		}
	}
	mh := message.Header{Header: h}
	o := &Original{
		From:      cleanAddress(decodeHeader(mh, "From")),
		To:        OneLine(decodeHeader(mh, "To"), 200),
		Subject:   OneLine(decodeHeader(mh, "Subject"), 200),
		MessageID: strings.Trim(mh.Get("Message-Id"), "<> ;"),
	}
	if t, _, ok := parseDate(mh.Get("Date")); ok {
		o.Date = t
	}
	r.Original = o
	if o.From != "" {
		r.Senders = appendUnique(r.Senders, o.From)
	}
	if id := strings.TrimSpace(mh.Get("Cfbl-Feedback-Id")); id != "" {
		r.FeedbackID = id
	}
	for _, key := range p.opts.AccountHeaders {
		if v := strings.TrimSpace(mh.Get(key)); v != "" {
			r.AccountHint = v
			break
		}
	}
	if rcv := h.Values("Received"); len(rcv) > 0 {
		if _, when, ok := strings.Cut(rcv[0], ";"); ok {
			if t, _, ok := parseDate(when); ok {
				o.Arrived = t
			}
		}
	}
	if len(r.SourceIPs) == 0 {
		if ip, skipped := receivedSource(h.Values("Received"), DomainOf(r.Reporter)); ip != "" {
			r.SourceIPs = appendUnique(r.SourceIPs, ip)
			w := "no Source-IP; the address is from the reported message's first Received header from outside the reporter"
			if len(skipped) > 0 {
				w += " (passed over: " + strings.Join(skipped, ", ") + ")"
			}
			r.Warnings = append(r.Warnings, w)
		}
	}
	// A phishing or malware report's evidence is in the links of the message.
	if r.Category == abuse.Phishing || r.Category == abuse.Malware {
		rest, _ := io.ReadAll(io.LimitReader(br, 256<<10))
		for _, u := range textURLs(string(rest)) {
			r.URLs = appendUnique(r.URLs, u)
			r.Domains = addDomain(r.Domains, hostOf(u))
		}
	}
}

// afterWord returns the text after the first " <word> " (case-insensitive).
func afterWord(s, word string) string {
	low := strings.ToLower(s)
	if i := strings.Index(low, " "+word+" "); i >= 0 {
		return s[i+len(word)+2:]
	}
	return s
}

// hostInParens returns "host" from "192.0.2.1 (host)".
func hostInParens(s string) string {
	i, j := strings.IndexByte(s, '('), strings.IndexByte(s, ')')
	if i < 0 || j < i {
		return ""
	}
	h := strings.TrimSpace(s[i+1 : j])
	if ValidDomain(h) {
		return strings.ToLower(h)
	}
	return ""
}
