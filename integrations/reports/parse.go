package reports

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // decode the charsets real mail uses
	"golang.org/x/net/html"
)

// Options bound the parser and tell it what the provider puts on its own mail.
type Options struct {
	// MaxBytes, MaxParts and MaxDepth limit a message (defaults 25 MiB, 200 parts, 10 levels of
	// nesting). A message over a limit is unparseable, with the limit named.
	MaxBytes int
	MaxParts int
	MaxDepth int
	// MaxUnpacked, MaxEntries and MaxRatio bound the zip and gzip attachments of one message:
	// the bytes they unpack to (default 64 MiB), the files in them (default 100), and how many
	// times its compressed size one file may unpack to (default 200).
	MaxUnpacked int64
	MaxEntries  int
	MaxRatio    int
	// MaxRows bounds the reports one notification (a CSV or JSON list) expands into
	// (default 100,000); rows past it are named in a warning.
	MaxRows int
	// AccountHeaders are headers the provider adds to its customers' outbound mail naming the
	// account (read from the reported message). Default: X-Abusedesk-Account, X-Account-ID.
	AccountHeaders []string
	// FindCaseNumber finds one of our case numbers in a subject (nil: replies are not
	// recognised).
	FindCaseNumber func(string) string
}

func (o Options) withDefaults() Options {
	if o.MaxBytes <= 0 {
		o.MaxBytes = 25 << 20
	}
	if o.MaxParts <= 0 {
		o.MaxParts = 200
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = 10
	}
	if o.MaxUnpacked <= 0 {
		o.MaxUnpacked = 64 << 20
	}
	if o.MaxEntries <= 0 {
		o.MaxEntries = 100
	}
	if o.MaxRatio <= 0 {
		o.MaxRatio = 200
	}
	if o.MaxRows <= 0 {
		o.MaxRows = 100_000
	}
	if o.AccountHeaders == nil {
		o.AccountHeaders = []string{"X-Abusedesk-Account", "X-Account-ID"}
	}
	return o
}

// Parser parses abuse mail. It is safe for concurrent use.
type Parser struct{ opts Options }

// New makes a parser.
func New(opts Options) *Parser { return &Parser{opts: opts.withDefaults()} }

// bodyDigest is the hex SHA-256 of the parts' bodies: text with its whitespace collapsed, a
// report ID written in it (X-ARF 4's "report_id", X-ARF 0.2's Report-ID line: a re-send gives
// it a new one) left out.
func bodyDigest(parts []part) string {
	h := sha256.New()
	bp := digestBuf.Get().(*[]byte)
	defer digestBuf.Put(bp)
	for _, p := range parts {
		h.Write([]byte(p.mediaType))
		h.Write(zero)
		if !(strings.HasPrefix(p.mediaType, "text/") || strings.HasSuffix(p.mediaType, "json") || p.mediaType == "message/feedback-report") {
			h.Write(p.body)
			h.Write(zero)
			continue
		}
		b, out, space := p.body, (*bp)[:0], false
		for i := 0; i < len(b); i++ {
			c := b[i]
			if c <= ' ' && (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
				space = len(out) > 0
				continue
			}
			if c == '"' || c == 'R' || c == 'r' {
				if n := reportIDAt(b, i); n > 0 {
					i += n - 1
					continue
				}
			}
			if space {
				out = append(out, ' ')
				space = false
			}
			out = append(out, c)
		}
		h.Write(out)
		h.Write(zero)
		*bp = out
	}
	return hex.EncodeToString(h.Sum(nil))
}

var (
	zero      = []byte{0}
	digestBuf = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}
)

// reportIDAt is the length of a report ID field that starts at b[i] ("report_id": "…" in
// JSON, or a Report-ID: line), 0 when none does.
func reportIDAt(b []byte, i int) int {
	switch c := b[i]; {
	case c == '"' && hasFoldPrefix(b[i:], `"report_id"`):
		j := i + len(`"report_id"`)
		for j < len(b) && (b[j] == ' ' || b[j] == ':' || b[j] == '\t') {
			j++
		}
		if j < len(b) && b[j] == '"' {
			if k := bytes.IndexByte(b[j+1:], '"'); k >= 0 {
				return j + 1 + k + 1 - i
			}
		}
	case (c == 'R' || c == 'r') && (i == 0 || b[i-1] == '\n') && hasFoldPrefix(b[i:], "report-id:"):
		if k := bytes.IndexByte(b[i:], '\n'); k >= 0 {
			return k
		}
		return len(b) - i
	}
	return 0
}

// hasFoldPrefix says whether b starts with the ASCII prefix p, ignoring case.
func hasFoldPrefix(b []byte, p string) bool {
	return len(b) >= len(p) && strings.EqualFold(string(b[:len(p)]), p)
}

// Digest is the hex SHA-256 of raw bytes (the evidence store's key).
func Digest(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

// part is one leaf of the MIME tree, decoded.
type part struct {
	mediaType string
	params    map[string]string
	filename  string
	header    message.Header
	body      []byte
	depth     int
}

// msg is a parsed message: its header and leaves.
type msg struct {
	header message.Header
	parts  []part
	// top is the top-level media type.
	top       string
	topParams map[string]string
}

// errLimit marks a message over one of the limits.
type errLimit struct{ what string }

func (e errLimit) Error() string { return e.what }

// Parse reads one raw message (or a bare X-ARF 4 JSON document). It never panics and never
// returns nil: a parser bug on some message makes that message unparseable, not the desk fail.
func (p *Parser) Parse(raw []byte) (res *Result) {
	defer func() {
		if r := recover(); r != nil {
			res = &Result{Digest: Digest(raw), Kind: KindUnparseable,
				Error: fmt.Sprintf("the parser failed on this message (%v); it is kept for a person to read", r)}
		}
	}()
	return p.parse(raw)
}

// parse is Parse without the safety net (the fuzz test calls it to see panics).
func (p *Parser) parse(raw []byte) *Result {
	res := &Result{Digest: Digest(raw)}
	if len(raw) > p.opts.MaxBytes {
		res.Kind = KindUnparseable
		res.Error = fmt.Sprintf("message too large: %d bytes, the limit is %d", len(raw), p.opts.MaxBytes)
		return res
	}
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(bytes.TrimSpace(raw), []byte("\ufeff"))) // a UTF-8 byte order mark
	if len(trimmed) == 0 {
		res.Kind, res.Error = KindUnparseable, "empty message"
		return res
	}
	if trimmed[0] == '{' {
		r, err := parseXARF4(trimmed)
		if err != nil {
			res.Kind, res.Error = KindUnparseable, "not a mail, and not an X-ARF 4 report: "+err.Error()
			return res
		}
		r.Digest, r.BodyDigest = res.Digest, bodyDigest([]part{{mediaType: "application/json", body: trimmed}})
		res.Kind, res.Reports = KindReport, []Report{*r}
		return res
	}
	m, err := p.read(stripMbox(bytes.TrimPrefix(raw, []byte("\ufeff"))))
	if err != nil {
		var lim errLimit
		if errors.As(err, &lim) {
			res.Kind, res.Error = KindUnparseable, lim.what
			return res
		}
		// A header we cannot read: the text may still name a source.
		return p.unreadable(raw, res, err)
	}
	res.MessageID = strings.Trim(m.header.Get("Message-Id"), "<> ;")
	res.Subject = decodeHeader(m.header, "Subject")
	res.From = cleanAddress(decodeHeader(m.header, "From"))
	if orig := originalSender(m.header, res.From); orig != "" {
		// A list re-sent it: the report is from whoever wrote it, not from our own group.
		res.From = orig
	}
	p.classify(m, res)
	body := ""
	if len(res.Reports) > 0 {
		body = bodyDigest(m.parts)
	}
	for i := range res.Reports {
		res.Reports[i].Digest, res.Reports[i].BodyDigest = res.Digest, body
		if res.Reports[i].Subject == "" {
			res.Reports[i].Subject = res.Subject
		}
		finish(&res.Reports[i])
	}
	return res
}

// unreadable handles a message whose header cannot be read: the text may still be a report.
func (p *Parser) unreadable(raw []byte, res *Result, err error) *Result {
	text := string(raw)
	if len(text) > 1<<20 {
		text = text[:1<<20]
	}
	if r := freeform(text, "", "", time.Time{}); r != nil && len(r.SourceIPs) > 0 {
		r.Warnings = append(r.Warnings, "the mail header is malformed ("+err.Error()+"); read as plain text")
		r.ID = "sha256:" + res.Digest[:32]
		r.Digest = res.Digest
		finish(r)
		res.Kind, res.Reports = KindReport, []Report{*r}
		return res
	}
	res.Kind = KindUnparseable
	res.Error = "malformed mail header: " + err.Error()
	return res
}

// stripMbox drops an mbox "From " separator line (and a ">From " one) before the header.
func stripMbox(raw []byte) []byte {
	for bytes.HasPrefix(raw, []byte("From ")) || bytes.HasPrefix(raw, []byte(">From ")) {
		i := bytes.IndexByte(raw, '\n')
		if i < 0 {
			return nil
		}
		raw = raw[i+1:]
	}
	return raw
}

// readers are the buffered readers messages are read through; reused, they spare a 4 KiB
// buffer per message and per embedded header.
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}

func getReader(b []byte) *bufio.Reader {
	r := readers.Get().(*bufio.Reader)
	r.Reset(bytes.NewReader(b))
	return r
}

func putReader(r *bufio.Reader) {
	r.Reset(nil)
	readers.Put(r)
}

// read parses the MIME tree within the limits. Every body is read before it returns.
func (p *Parser) read(raw []byte) (*msg, error) {
	br := getReader(raw) // go-message keeps a *bufio.Reader it is given
	defer putReader(br)
	e, err := message.ReadWithOptions(br, &message.ReadOptions{MaxHeaderBytes: 1 << 20})
	if e == nil {
		return nil, err
	}
	m := &msg{header: e.Header}
	m.top, m.topParams, _ = e.Header.ContentType()
	if m.top == "" {
		m.top = "text/plain"
	}
	count := 0
	if err := p.walk(e, 0, &count, m); err != nil {
		return nil, err
	}
	u := &unpacker{left: p.opts.MaxUnpacked, opts: p.opts}
	parts, err := u.unpack(m.parts)
	if err != nil {
		return nil, err
	}
	m.parts = parts
	return m, nil
}

func (p *Parser) walk(e *message.Entity, depth int, count *int, m *msg) error {
	if depth > p.opts.MaxDepth {
		return errLimit{fmt.Sprintf("MIME nesting deeper than %d levels", p.opts.MaxDepth)}
	}
	if mr := e.MultipartReader(); mr != nil {
		for {
			child, err := mr.NextPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				if child == nil {
					// A broken boundary: keep what was read.
					return nil
				}
			}
			*count++
			if *count > p.opts.MaxParts {
				return errLimit{fmt.Sprintf("more than %d MIME parts", p.opts.MaxParts)}
			}
			if err := p.walk(child, depth+1, count, m); err != nil {
				return err
			}
		}
	}
	mt, params, _ := e.Header.ContentType()
	if mt == "" {
		mt = "text/plain"
	}
	body, err := io.ReadAll(io.LimitReader(e.Body, int64(p.opts.MaxBytes)))
	if err != nil && len(body) == 0 {
		// Undecodable transfer encoding: keep the raw bytes.
		body = nil
	}
	_, dparams, _ := e.Header.ContentDisposition()
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	if isOpaqueSigned(mt, params, name) {
		// An S/MIME notice signed "opaque" (as national CERTs send them): the message is
		// inside the signature. Read it as the part (the signature is not verified: who sent
		// the mail is what the desk knows of the sender anyway).
		if inner, err := smimeContent(body); err == nil {
			if ie, err := message.Read(bytes.NewReader(inner)); ie != nil {
				_ = err // a part of the inner message that cannot be decoded is kept raw, as elsewhere
				return p.walk(ie, depth+1, count, m)
			}
		}
	}
	m.parts = append(m.parts, part{mediaType: strings.ToLower(mt), params: params, filename: name, header: e.Header, body: body, depth: depth})
	return nil
}

// decodeHeader reads a header with encoded words decoded.
func decodeHeader(h message.Header, key string) string {
	if v, err := h.Text(key); err == nil {
		return strings.TrimSpace(v)
	}
	v := h.Get(key)
	dec := new(mime.WordDecoder)
	if d, err := dec.DecodeHeader(v); err == nil {
		return strings.TrimSpace(d)
	}
	return strings.TrimSpace(v)
}

// readFields reads "Name: value" lines (with folding) as a feedback report or YAML-free
// X-ARF block would have them. Keys are canonicalised; repeated keys keep every value. A block
// that is a proper header ends at its first blank line; otherwise every line that looks like
// a field is read, and the rest skipped.
func readFields(b []byte) map[string][]string {
	if out, ok := headerFields(string(b)); ok {
		return out
	}
	out := map[string][]string{}
	var key string
	for line := range strings.SplitSeq(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n") {
		if line == "" {
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && key != "" {
			vs := out[key]
			vs[len(vs)-1] += " " + strings.TrimSpace(line)
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			key = ""
			continue
		}
		key = canonicalKey(k)
		out[key] = append(out[key], strings.TrimSpace(v))
	}
	return out
}

// headerFields reads s as a header (RFC 5322 fields up to the first blank line, folded lines
// joined, runs of white space made one space); false when some line is not a field.
func headerFields(s string) (map[string][]string, bool) {
	out := map[string][]string{}
	var key, val string
	flush := func() {
		if key != "" {
			out[key] = append(out[key], strings.Join(strings.Fields(val), " "))
		}
	}
	for len(s) > 0 {
		line := s
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			line, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if key == "" {
				return nil, false
			}
			val += " " + line
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || !fieldName(k) {
			return nil, false
		}
		flush()
		key, val = canonicalKey(k), v
	}
	flush()
	return out, true
}

// fieldName reports whether k is a header field name (printable ASCII, no spaces or colons).
func fieldName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] <= ' ' || k[i] > '~' {
			return false
		}
	}
	return true
}

// canonicalKey writes a field name like Source-IP and Reported-URI the same however cased.
func canonicalKey(k string) string {
	k = strings.ToLower(strings.TrimSpace(k))
	var b strings.Builder
	b.Grow(len(k))
	for i, p := range strings.Split(k, "-") {
		if i > 0 {
			b.WriteByte('-')
		}
		switch p {
		case "ip", "uri", "url", "id", "mta", "dkim", "spf", "arf", "xarf":
			b.WriteString(strings.ToUpper(p))
		default:
			if p != "" {
				b.WriteByte(upperASCII(p[0]))
				b.WriteString(p[1:])
			}
		}
	}
	return b.String()
}

func upperASCII(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

func first(m map[string][]string, key string) string {
	if v := m[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// textOf is the concatenated text of the message's text parts (for free-form reading).
func (m *msg) textOf(limit int) string {
	var b strings.Builder
	for _, p := range m.parts {
		if strings.HasPrefix(p.mediaType, "text/") && !strings.Contains(p.mediaType, "rfc822") {
			t := string(p.body)
			if p.mediaType == "text/html" {
				t = htmlText(t)
			}
			b.WriteString(t)
			b.WriteString("\n")
		}
		if b.Len() > limit {
			break
		}
	}
	s := b.String()
	if len(s) > limit {
		s = s[:limit]
	}
	return s
}

// htmlText is the text of an HTML complaint as a reader sees it (golang.org/x/net/html's
// tokenizer: every entity decoded, scripts and styles left out, a line per block and a space
// per cell), with each link's target after its text when the text does not show it ("click
// here" → the phishing URL).
func htmlText(s string) string {
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(s))
	skip := 0 // inside <script> or <style>
	var href string
	anchorAt := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return b.String()
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			switch string(name) {
			case "script", "style":
				skip++
			case "a":
				href, anchorAt = "", b.Len()
				for hasAttr {
					var k, v []byte
					k, v, hasAttr = z.TagAttr()
					if string(k) == "href" {
						href = strings.TrimSpace(string(v))
					}
				}
			case "br", "p", "div", "tr", "li", "table", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote":
				b.WriteByte('\n')
			case "td", "th":
				b.WriteByte(' ')
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style":
				skip = max(0, skip-1)
			case "a":
				if href != "" && !strings.HasPrefix(strings.ToLower(href), "mailto:") && !strings.Contains(b.String()[anchorAt:], href) {
					b.WriteString(" (" + href + ")")
				}
				href = ""
			case "p", "div", "tr", "li", "table", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote":
				b.WriteByte('\n')
			case "td", "th":
				b.WriteByte(' ')
			}
		}
	}
}

// finish fills what every report needs: a summary, a severity, tidy subject lists.
func finish(r *Report) {
	r.Track = r.Category.Track()
	if r.Severity == 0 {
		r.Severity = r.Category.DefaultSeverity()
	}
	if r.EventTime.IsZero() {
		r.EventTime = r.ReceivedAt
	}
	if r.Summary == "" {
		var what []string
		if len(r.SourceIPs) > 0 {
			what = append(what, r.SourceIPs[0])
		} else if len(r.Ranges) > 0 {
			what = append(what, r.Ranges[0])
		} else if len(r.Phones) > 0 {
			what = append(what, r.Phones[0])
		}
		if len(r.URLs) > 0 {
			what = append(what, r.URLs[0])
		} else if len(r.Domains) > 0 {
			what = append(what, r.Domains[0])
		}
		r.Summary = OneLine(fmt.Sprintf("%s %s report about %s", r.Format, r.Category, strings.Join(what, " / ")), 200)
	}
}
