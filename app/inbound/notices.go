package inbound

import (
	"bytes"
	"context"
	"crypto/rand"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/idna"
	"golang.org/x/time/rate"

	"abusedesk/app/intake"
	"abusedesk/app/ledger"
	"abusedesk/domain/abuse"
	"abusedesk/domain/ticket"
	"abusedesk/integrations/reports"
	"abusedesk/platform/httpx"
	"abusedesk/templates"
)

// The notice form (DSA Art. 16): a public page — no sign-in — where anyone can tell the desk
// about illegal content or a breach of the terms on our service, and the same as JSON (POST
// /api/v1/notices). A notice asks for the kind, the exact locations, an explanation, the
// notifier's name and e-mail (optional for child sexual abuse material) and the statement of
// good faith. It becomes a message like any other report (channel "form"): intake reads it,
// finds the customer and hands it to a case or to a person. The notifier gets a confirmation of
// receipt with its reference, then the decision when the case decides (acknowledge_reporters),
// and can look the reference up at /notice/{reference}.

// NoticeKinds are what a notifier can report, in the form's order.
var NoticeKinds = []abuse.Category{abuse.Phishing, abuse.Malware, abuse.Spam, abuse.Copyright, abuse.CSAM,
	abuse.DoS, abuse.BruteForce, abuse.PortScan, abuse.Other}

// NoticeLimits bound the form.
const (
	maxNoticeBytes      = 64 << 10
	maxNoticeLocations  = 50
	maxExplanation      = 10000
	minExplanation      = 10
	noticeTagReceipt    = "abusedesk_reporter_receipt"
	anonymousNotifier   = "anonymous@notice-form.invalid"
	noticeReferenceSize = 10
)

// ReceiptTickets opens the ticket whose public comment is the notifier's receipt (the ticket
// port).
type ReceiptTickets interface {
	CreateTicket(ctx context.Context, t ticket.New) (*ticket.Ticket, error)
}

// NoticeForm serves the notice form, its JSON twin and the notices' status pages.
type NoticeForm struct {
	Intake  Ingester
	Records Records
	Tickets ReceiptTickets // nil: no receipt e-mail (the page still shows the reference)
	// LegalGroupID places the receipt of a legal-track notice (child sexual abuse material) in
	// the legal team's group, where no other agent sees it (0: the desk's group).
	LegalGroupID int64
	Templates    *templates.Renderer
	// BaseURL is the desk's public URL, for the status link in the receipt.
	BaseURL string
	// TellOutcome says whether the policy tells a category's reporters the outcome.
	TellOutcome func(abuse.Category) bool
	// PerClient is how many notices one client (remote address) may send an hour (default
	// 10); lookups of a status page are limited to ten times that.
	PerClient int
	Log       *slog.Logger

	mu       sync.Mutex
	limiters map[string]*clientLimit // made on first use
}

type clientLimit struct {
	send, look *rate.Limiter
	seen       time.Time
}

// Notice is a notice as the form and the JSON API take it.
type Notice struct {
	Kind        string   `json:"kind"`
	Locations   []string `json:"locations"`
	Explanation string   `json:"explanation"`
	Name        string   `json:"name,omitempty"`
	Email       string   `json:"email,omitempty"`
	GoodFaith   bool     `json:"good_faith"`
}

// NoticeAnswer is the answer of POST /api/v1/notices.
type NoticeAnswer struct {
	Reference   string    `json:"reference"`
	ReceivedAt  time.Time `json:"received_at"`
	StatusURL   string    `json:"status_url"`
	ReceiptSent bool      `json:"receipt_sent"`
}

// fieldError is a notice field that is wrong, said for the notifier.
type fieldError struct{ Field, Message string }

func (e fieldError) Error() string { return e.Field + ": " + e.Message }

//go:embed notice.html notice.css
var noticeFiles embed.FS

var noticePage = template.Must(template.New("notice.html").Funcs(template.FuncMap{
	"title": abuse.Category.Title,
	"ts":    func(t time.Time) string { return t.UTC().Format("2 January 2006, 15:04 MST") },
}).ParseFS(noticeFiles, "notice.html"))

// Routes mounts the form, its style sheet, the status page and the JSON API; public mounts the
// form's post, which acts with no one's credentials (ingress.Server.HandlePublic: no session
// CSRF token; the form checks the Origin itself).
func (f *NoticeForm) Routes(handle, public func(pattern string, h http.Handler)) {
	handle("GET /notice", http.HandlerFunc(f.form))
	public("POST /notice", http.HandlerFunc(f.submitForm))
	handle("GET /notice/notice.css", http.HandlerFunc(f.css))
	handle("GET /notice/{reference}", http.HandlerFunc(f.status))
	handle("POST /api/v1/notices", http.HandlerFunc(f.submitJSON))
}

func securePage(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

func (f *NoticeForm) css(w http.ResponseWriter, _ *http.Request) {
	b, _ := noticeFiles.ReadFile("notice.css")
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(b)
}

// formData is what the page shows: the form (with what was typed and what is wrong), or a
// notice's status.
type formData struct {
	Kinds    []abuse.Category
	Notice   Notice
	Errors   map[string]string
	Problem  string
	Status   *ReportStatus
	Receipt  bool
	Sent     bool
	Email    string
	KindName string
}

func (f *NoticeForm) render(w http.ResponseWriter, status int, d formData) {
	d.Kinds = NoticeKinds
	securePage(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	var b bytes.Buffer
	if err := noticePage.Execute(&b, d); err != nil {
		f.Log.Error("notice form: render", "error", err)
		http.Error(w, "the page could not be shown", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

func (f *NoticeForm) form(w http.ResponseWriter, _ *http.Request) {
	f.render(w, http.StatusOK, formData{})
}

// sameOrigin refuses a form posted from another site (the form needs no session, but a page
// elsewhere must not send notices in a visitor's name).
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || origin == "null" {
		return r.Header.Get("Sec-Fetch-Site") == "" || r.Header.Get("Sec-Fetch-Site") == "same-origin"
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

func (f *NoticeForm) submitForm(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		f.render(w, http.StatusForbidden, formData{Problem: "This form can only be sent from this site's own page."})
		return
	}
	if !f.allow(r, true) {
		w.Header().Set("Retry-After", "600")
		f.render(w, http.StatusTooManyRequests, formData{Problem: "Too many notices from your address in the last hour: please wait a while and send it again. Nothing you typed here was sent."})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxNoticeBytes)
	if err := r.ParseForm(); err != nil {
		f.render(w, http.StatusRequestEntityTooLarge, formData{Problem: "The notice is too long (at most 64 KiB): shorten the explanation or the list of locations."})
		return
	}
	n := Notice{Kind: r.PostFormValue("kind"), Explanation: r.PostFormValue("explanation"), Name: r.PostFormValue("name"),
		Email: r.PostFormValue("email"), GoodFaith: r.PostFormValue("good_faith") == "yes"}
	for _, l := range strings.Split(r.PostFormValue("locations"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			n.Locations = append(n.Locations, l)
		}
	}
	ans, errs, err := f.take(r.Context(), n)
	switch {
	case len(errs) > 0:
		d := formData{Notice: n, Errors: map[string]string{}, Problem: "The notice was not sent: please correct what is marked below."}
		for _, e := range errs {
			d.Errors[e.Field] = e.Message
		}
		f.render(w, http.StatusUnprocessableEntity, d)
		return
	case err != nil:
		w.Header().Set("Retry-After", "30")
		f.render(w, http.StatusServiceUnavailable, formData{Notice: n, Problem: "The desk could not take the notice just now; nothing was lost — please send it again in a minute."})
		return
	}
	q := url.Values{"sent": {"1"}}
	if ans.ReceiptSent {
		q.Set("receipt", "1")
	}
	http.Redirect(w, r, "/notice/"+ans.Reference+"?"+q.Encode(), http.StatusSeeOther)
}

func (f *NoticeForm) submitJSON(w http.ResponseWriter, r *http.Request) {
	if !f.allow(r, true) {
		w.Header().Set("Retry-After", "600")
		httpx.Problem(w, http.StatusTooManyRequests, "too many notices from this client in the last hour: send it again later")
		return
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		httpx.Problem(w, http.StatusUnsupportedMediaType, "send the notice as application/json")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxNoticeBytes))
	if err != nil {
		httpx.Problem(w, http.StatusRequestEntityTooLarge, "the notice is over 64 KiB")
		return
	}
	var n Notice
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&n); err != nil {
		httpx.Problem(w, http.StatusBadRequest, "not a notice: "+err.Error())
		return
	}
	ans, errs, err := f.take(r.Context(), n)
	switch {
	case len(errs) > 0:
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
		}
		httpx.Problem(w, http.StatusUnprocessableEntity, "the notice was not taken: "+strings.Join(msgs, "; "))
		return
	case err != nil:
		w.Header().Set("Retry-After", "30")
		httpx.Problem(w, http.StatusServiceUnavailable, "not taken now, nothing was lost — send it again")
		return
	}
	httpx.WriteJSON(w, http.StatusAccepted, ans)
}

// check says what is wrong with a notice, field by field.
func check(n *Notice) []fieldError {
	var errs []fieldError
	kind := abuse.Category(strings.TrimSpace(n.Kind))
	if !slices.Contains(NoticeKinds, kind) {
		errs = append(errs, fieldError{"kind", "choose what kind of content or behaviour you report"})
	}
	n.Kind = string(kind)
	var locs []string
	for _, l := range n.Locations {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if len(l) > 2048 || !isLocation(l) {
			errs = append(errs, fieldError{"locations", fmt.Sprintf("%q is not a web address (https://…), a host name or an IP address", reports.OneLine(l, 80))})
			continue
		}
		locs = append(locs, l)
	}
	n.Locations = locs
	switch {
	case len(locs) == 0 && !hasField(errs, "locations"):
		errs = append(errs, fieldError{"locations", "name at least one exact location: the web address, host name or IP address"})
	case len(locs) > maxNoticeLocations:
		errs = append(errs, fieldError{"locations", fmt.Sprintf("at most %d locations in one notice: send the rest in another", maxNoticeLocations)})
	}
	n.Explanation = strings.TrimSpace(n.Explanation)
	switch l := len([]rune(n.Explanation)); {
	case l < minExplanation:
		errs = append(errs, fieldError{"explanation", "explain why the content is illegal or breaks the terms (a sentence or more)"})
	case l > maxExplanation:
		errs = append(errs, fieldError{"explanation", fmt.Sprintf("at most %d characters", maxExplanation)})
	}
	n.Name, n.Email = strings.TrimSpace(n.Name), strings.TrimSpace(n.Email)
	if strings.ContainsAny(n.Name, "\r\n<>") || len(n.Name) > 200 {
		errs = append(errs, fieldError{"name", "a name of at most 200 characters, on one line"})
	}
	optional := kind == abuse.CSAM // Art. 16(2)(c): no name or address needed for CSAM
	switch {
	case n.Email == "" && !optional:
		errs = append(errs, fieldError{"email", "your e-mail address, to send you the receipt and the decision"})
	case n.Email != "":
		a, err := mail.ParseAddress(n.Email)
		if err != nil || a.Name != "" || !strings.Contains(a.Address, ".") || strings.HasSuffix(strings.ToLower(a.Address), ".invalid") {
			errs = append(errs, fieldError{"email", "not an e-mail address like name@example.org"})
		} else {
			n.Email = a.Address
		}
	}
	if n.Name == "" && !optional {
		errs = append(errs, fieldError{"name", "your name (Art. 16(2)(c) of the Digital Services Act asks for it)"})
	}
	if !n.GoodFaith {
		errs = append(errs, fieldError{"good_faith", "confirm that you believe in good faith that the notice is accurate and complete"})
	}
	return errs
}

func hasField(errs []fieldError, field string) bool {
	return slices.ContainsFunc(errs, func(e fieldError) bool { return e.Field == field })
}

// isLocation says whether s is an http(s) URL, a host name or an IP address.
func isLocation(s string) bool {
	if strings.ContainsAny(s, " \t") {
		return false
	}
	if u, err := url.Parse(s); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		return true
	}
	if net.ParseIP(s) != nil {
		return true
	}
	if _, _, err := net.ParseCIDR(s); err == nil {
		return true
	}
	// A host name, international ones as their ASCII form.
	host, err := idna.Lookup.ToASCII(strings.TrimSuffix(s, "."))
	return err == nil && reports.ValidDomain(host)
}

// take checks a notice, hands it to intake as a message, keeps where it went and sends the
// receipt. A notice that is wrong comes back field by field; an error means nothing was taken.
func (f *NoticeForm) take(ctx context.Context, n Notice) (*NoticeAnswer, []fieldError, error) {
	if errs := check(&n); len(errs) > 0 {
		return nil, errs, nil
	}
	ref := newReference()
	now := time.Now().UTC()
	raw := noticeMessage(n, ref, now)
	out, err := f.Intake.Ingest(ctx, raw, intake.Source{Channel: "form", ReceivedAt: now, ReportID: ref})
	if err != nil {
		f.Log.Warn("notice form: not taken; the notifier is asked to send it again", "error", err)
		return nil, nil, err
	}
	if len(out.Accepted) == 0 && len(out.Triaged) == 0 {
		// Read as no report at all (say, an automatic message): a person reads it all the same.
		f.Log.Warn("notice form: the notice was read as no report", "reference", ref, "kind", out.Kind, "note", out.Note)
	}
	for i := range out.Triaged {
		if out.Triaged[i].ReportID == "" {
			out.Triaged[i].ReportID = ref // the whole notice went to a person
		}
	}
	recordSubmitted(ctx, f.Records, out, now, f.Log)
	ans := &NoticeAnswer{Reference: ref, ReceivedAt: now, StatusURL: strings.TrimRight(f.BaseURL, "/") + "/notice/" + ref}
	if n.Email != "" && f.Tickets != nil {
		ans.ReceiptSent = f.sendReceipt(ctx, n, ans)
	}
	return ans, nil, nil
}

// sendReceipt e-mails the notifier the confirmation of receipt (Art. 16(4)), through a solved
// ticket of its own. A failure is logged; the page shows the reference all the same.
func (f *NoticeForm) sendReceipt(ctx context.Context, n Notice, ans *NoticeAnswer) bool {
	body, err := f.Templates.Render("intake_notice_receipt", "", templates.DefaultLocale, templates.NoticeReceiptData{
		Reference: ans.Reference, Name: n.Name, ReceivedAt: ans.ReceivedAt, Kind: abuse.Category(n.Kind).Title(), Locations: n.Locations, StatusURL: ans.StatusURL})
	if err == nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
		defer cancel()
		t := ticket.New{
			ExternalID: "notice-receipt#" + ans.Reference, Subject: "[" + ans.Reference + "] We received your notice",
			RequesterEmail: n.Email, RequesterName: n.Name, Comment: ticket.Comment{Body: body, Public: true},
			Status: "solved", Tags: []string{ticket.TagCase, noticeTagReceipt},
		}
		if abuse.Category(n.Kind).Confidential() {
			// Confidential: the legal team's group, and the legal tag that keeps it there.
			t.GroupID, t.Tags = f.LegalGroupID, append(t.Tags, ticket.TagLegal)
		}
		_, err = f.Tickets.CreateTicket(ctx, t)
	}
	if err != nil {
		f.Log.Error("notice form: the receipt was not sent (the notice is taken)", "reference", ans.Reference, "error", err)
		return false
	}
	return true
}

// noticeMessage is the notice as a message intake reads like any other report.
func noticeMessage(n Notice, ref string, at time.Time) []byte {
	from := mail.Address{Name: "Anonymous notifier", Address: anonymousNotifier}
	if n.Email != "" {
		from = mail.Address{Name: n.Name, Address: n.Email}
	}
	kind := abuse.Category(n.Kind)
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\n", from.String())
	fmt.Fprintf(&b, "To: abuse desk <abuse@notice-form.invalid>\r\n")
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", "Notice of "+kind.Title()+" ("+ref+")"))
	fmt.Fprintf(&b, "Date: %s\r\n", at.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%s@notice-form.invalid>\r\n", ref)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	b.WriteString("A notice sent through the notice form (Digital Services Act, Art. 16).\r\n\r\n")
	fmt.Fprintf(&b, "Kind: %s\r\n\r\nLocations:\r\n", kind.Title())
	for _, l := range n.Locations {
		fmt.Fprintf(&b, "  %s\r\n", l)
	}
	b.WriteString("\r\nExplanation:\r\n")
	for _, line := range strings.Split(strings.ReplaceAll(n.Explanation, "\r\n", "\n"), "\n") {
		b.WriteString(line + "\r\n")
	}
	b.WriteString("\r\nThe notifier states in good faith that the information and allegations in this notice are accurate and complete.\r\n")
	return []byte(b.String())
}

// newReference is a notice's reference: "N-" and ten Crockford base-32 characters (50 random
// bits), so a status page cannot be found by guessing.
func newReference() string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	var buf [noticeReferenceSize]byte
	_, _ = rand.Read(buf[:])
	for i := range buf {
		buf[i] = alphabet[buf[i]&31]
	}
	return "N-" + string(buf[:])
}

// status shows what became of a notice, by its reference.
func (f *NoticeForm) status(w http.ResponseWriter, r *http.Request) {
	ref := strings.ToUpper(r.PathValue("reference"))
	if !f.allow(r, false) {
		w.Header().Set("Retry-After", "600")
		f.render(w, http.StatusTooManyRequests, formData{Problem: "Too many look-ups from your address: please wait a while."})
		return
	}
	if len(ref) != 2+noticeReferenceSize || !strings.HasPrefix(ref, "N-") {
		f.render(w, http.StatusNotFound, formData{Problem: "There is no notice " + reports.OneLine(ref, 20) + ": check the reference in your receipt."})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	st, err := f.Records.ReportStatus(ctx, ref)
	if errors.Is(err, ledger.ErrNoSuchReport) || errors.Is(err, errNoLedger) && r.URL.Query().Get("sent") == "" {
		f.render(w, http.StatusNotFound, formData{Problem: "There is no notice " + ref + ": check the reference in your receipt."})
		return
	}
	d := formData{Sent: r.URL.Query().Get("sent") != "", Receipt: r.URL.Query().Get("receipt") != ""}
	switch {
	case errors.Is(err, errNoLedger):
		d.Status = &ReportStatus{ReportID: ref, Status: StatusReceived}
	case err != nil:
		f.Log.Error("notice status", "reference", ref, "error", err)
		f.render(w, http.StatusServiceUnavailable, formData{Problem: "The notice's status could not be read just now: please try again in a minute."})
		return
	default:
		s := statusOf(st, f.TellOutcome)
		d.Status, d.KindName = &s, st.Category.Title()
		if st.Legal {
			d.KindName = ""
		}
	}
	f.render(w, http.StatusOK, d)
}

// allow takes one notice (send) or one look-up from the client's allowance.
func (f *NoticeForm) allow(r *http.Request, send bool) bool {
	per := f.PerClient
	if per <= 0 {
		per = 10
	}
	now := time.Now()
	client := clientOf(r)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.limiters == nil {
		f.limiters = map[string]*clientLimit{}
	}
	if len(f.limiters) > 10000 {
		for k, l := range f.limiters {
			if now.Sub(l.seen) > time.Hour {
				delete(f.limiters, k)
			}
		}
	}
	l, ok := f.limiters[client]
	if !ok {
		l = &clientLimit{send: rate.NewLimiter(rate.Every(time.Hour/time.Duration(per)), per),
			look: rate.NewLimiter(rate.Every(time.Hour/time.Duration(10*per)), 10*per)}
		f.limiters[client] = l
	}
	l.seen = now
	if send {
		return l.send.AllowN(now, 1)
	}
	return l.look.AllowN(now, 1)
}
