package inbound

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"abusedesk/app/intake"
	"abusedesk/domain/abuse"
	"abusedesk/domain/ticket"
	"abusedesk/integrations/reports"
	"abusedesk/templates"
)

// echoIngester takes every message into the case the test names, under the report ID intake
// was given, and keeps what it got.
type echoIngester struct {
	mu   sync.Mutex
	raw  [][]byte
	srcs []intake.Source
	cat  abuse.Category
}

func (e *echoIngester) Ingest(_ context.Context, raw []byte, src intake.Source) (*intake.Outcome, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.raw, e.srcs = append(e.raw, raw), append(e.srcs, src)
	return &intake.Outcome{Kind: reports.KindReport, Digest: "d", Accepted: []intake.Accepted{{ReportID: src.ReportID, CaseID: "case/acct-shop/" + string(e.cat), AccountID: "acct-shop", Category: e.cat}}}, nil
}

type receiptTickets struct {
	mu  sync.Mutex
	got []ticket.New
}

func (r *receiptTickets) CreateTicket(_ context.Context, t ticket.New) (*ticket.Ticket, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, t)
	return &ticket.Ticket{Ref: ticket.Ref{System: "memory", ID: fmt.Sprint(len(r.got))}}, nil
}

func noticeServer(t *testing.T, in Ingester, tk *receiptTickets, perClient int) *httptest.Server {
	t.Helper()
	tpl, err := templates.New()
	if err != nil {
		t.Fatal(err)
	}
	f := &NoticeForm{Intake: in, Records: openLedger(t), Tickets: tk, LegalGroupID: 7, Templates: tpl, BaseURL: "https://desk.example", PerClient: perClient,
		TellOutcome: func(abuse.Category) bool { return true }, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	mux := http.NewServeMux()
	f.Routes(mux.Handle, mux.Handle)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func postForm(t *testing.T, srv *httptest.Server, origin string, v url.Values) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/notice", strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func validForm() url.Values {
	return url.Values{"kind": {"phishing"}, "locations": {"https://login.shop.example/verify\n192.0.2.10\n"},
		"explanation": {"This page imitates my bank's login and asks for card numbers."}, "name": {"Ana Example"},
		"email": {"ana@example.org"}, "good_faith": {"yes"}}
}

// TestNoticeForm: the form takes a whole notice — a message for intake, a receipt with the
// reference to the notifier, a status page — and sends back one that is not whole, field by
// field, taking nothing; a CSAM notice needs no name; other sites cannot post it; a client is
// rate-limited.
func TestNoticeForm(t *testing.T) {
	in := &echoIngester{cat: abuse.Phishing}
	tk := &receiptTickets{}
	srv := noticeServer(t, in, tk, 4)

	resp, err := http.Get(srv.URL + "/notice")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`<form method="post" action="/notice"`, `name="kind"`, `name="locations"`, `name="explanation"`, `name="email"`, `name="good_faith"`, `<main>`, `name="viewport"`} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the form lacks %s", want)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q", csp)
	}

	resp, _ = postForm(t, srv, srv.URL, validForm())
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/notice/N-") || !strings.Contains(loc, "receipt=1") {
		t.Fatalf("a whole notice: HTTP %d to %q, want 303 to its status page", resp.StatusCode, loc)
	}
	ref := strings.TrimPrefix(strings.SplitN(loc, "?", 2)[0], "/notice/")
	if len(in.raw) != 1 || in.srcs[0].Channel != "form" || in.srcs[0].ReportID != ref {
		t.Fatalf("intake got %d messages (%+v), want one from the form under %s", len(in.raw), in.srcs, ref)
	}
	msg := string(in.raw[0])
	for _, want := range []string{"From: \"Ana Example\" <ana@example.org>", "Message-ID: <" + ref + "@notice-form.invalid>", "https://login.shop.example/verify", "192.0.2.10", "imitates my bank", "in good faith"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the message lacks %q:\n%s", want, msg)
		}
	}
	if len(tk.got) != 1 || tk.got[0].RequesterEmail != "ana@example.org" || !tk.got[0].Comment.Public || !strings.Contains(tk.got[0].Comment.Body, ref) ||
		!strings.Contains(tk.got[0].Comment.Body, "https://desk.example/notice/"+ref) {
		t.Fatalf("receipts %+v, want one public comment to the notifier naming %s and its status page", tk.got, ref)
	}
	resp, err = http.Get(srv.URL + loc)
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "we received your notice") || !strings.Contains(string(page), "Received: it is on its way") {
		t.Errorf("the status page: HTTP %d\n%s", resp.StatusCode, page)
	}

	// Not whole: nothing is taken, each field says what is wrong, what was typed stays.
	bad := url.Values{"kind": {"phishing"}, "locations": {"see my screenshot"}, "explanation": {"bad"}, "name": {"Ana"}, "email": {"ana@"}}
	resp, body := postForm(t, srv, srv.URL, bad)
	if resp.StatusCode != http.StatusUnprocessableEntity || len(in.raw) != 1 {
		t.Fatalf("a notice not whole: HTTP %d, %d taken", resp.StatusCode, len(in.raw))
	}
	for _, want := range []string{`id="locations-error"`, `&#34;see my screenshot&#34; is not a web address`, `id="explanation-error"`, `id="email-error"`, `id="good_faith-error"`, `aria-invalid="true"`, `value="Ana"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the refused form lacks %s", want)
		}
	}
	// A CSAM notice with an address: its receipt is confidential, in the legal team's group.
	csam := url.Values{"kind": {"csam"}, "locations": {"https://files.shop.example/a/c.jpg"}, "explanation": {"Images of child sexual abuse are hosted at this address."},
		"email": {"analyst@hotline.example"}, "good_faith": {"yes"}}
	if resp, _ := postForm(t, srv, srv.URL, csam); resp.StatusCode != http.StatusSeeOther || len(tk.got) != 2 {
		t.Fatalf("a CSAM notice with an address: HTTP %d, %d receipts", resp.StatusCode, len(tk.got))
	}
	if r := tk.got[1]; r.GroupID != 7 || !slices.Contains(r.Tags, ticket.TagLegal) {
		t.Errorf("the CSAM notice's receipt: group %d, tags %v; want the legal group (7), tagged legal", r.GroupID, r.Tags)
	}
	if tk.got[0].GroupID != 0 || slices.Contains(tk.got[0].Tags, ticket.TagLegal) {
		t.Errorf("the phishing notice's receipt went to the legal group: %+v", tk.got[0])
	}
	// A CSAM notice may be anonymous: taken, no receipt (there is nobody to send it to).
	anon := url.Values{"kind": {"csam"}, "locations": {"https://files.shop.example/a/b.jpg"}, "explanation": {"Images of child sexual abuse are hosted at this address."}, "good_faith": {"yes"}}
	if resp, _ := postForm(t, srv, "", anon); resp.StatusCode != http.StatusSeeOther || len(in.raw) != 3 || len(tk.got) != 2 ||
		!strings.Contains(string(in.raw[2]), anonymousNotifier) {
		t.Fatalf("an anonymous CSAM notice: HTTP %d, %d taken, %d receipts", resp.StatusCode, len(in.raw), len(tk.got))
	}
	// From another site: refused.
	if resp, _ := postForm(t, srv, "https://evil.example", validForm()); resp.StatusCode != http.StatusForbidden || len(in.raw) != 3 {
		t.Errorf("posted from another site: HTTP %d, %d taken", resp.StatusCode, len(in.raw))
	}
	// The fifth from one client within the hour (4 allowed, the refused one counts too; a post from another site is refused before it counts).
	if resp, body := postForm(t, srv, srv.URL, validForm()); resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "Too many notices") {
		t.Errorf("over the limit: HTTP %d", resp.StatusCode)
	}
	// A reference nobody was given.
	if resp, err := http.Get(srv.URL + "/notice/N-0000000000"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown reference: %v %v", resp.StatusCode, err)
	}
}

// TestNoticesAPI: the JSON twin answers 202 with the reference, and names what is wrong.
func TestNoticesAPI(t *testing.T) {
	in := &echoIngester{cat: abuse.Malware}
	srv := noticeServer(t, in, &receiptTickets{}, 10)
	post := func(ct, body string) (int, string) {
		resp, err := http.Post(srv.URL+"/api/v1/notices", ct, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := post("application/json", `{"kind":"malware","locations":["https://cdn.shop.example/x.exe"],"explanation":"This file is a banking trojan (VirusTotal 52/70).","name":"CERT desk","email":"cert@example.org","good_faith":true}`)
	var ans NoticeAnswer
	if err := json.Unmarshal([]byte(body), &ans); code != http.StatusAccepted || err != nil || !strings.HasPrefix(ans.Reference, "N-") || !ans.ReceiptSent ||
		ans.StatusURL != "https://desk.example/notice/"+ans.Reference {
		t.Fatalf("HTTP %d %s", code, body)
	}
	for _, tc := range []struct {
		ct, body string
		code     int
		want     string
	}{
		{"application/json", `{"kind":"weather","locations":[],"explanation":"x","good_faith":false}`, 422, "kind: choose"},
		{"application/json", `{"kind":"spam","locations":["mail.shop.example"],"explanation":"Spam from this host every day.","name":"A","email":"a@example.org"}`, 422, "good_faith"},
		{"application/json", `{"kind":"spam","colour":"red"}`, 400, "unknown field"},
		{"text/plain", `kind=spam`, 415, "application/json"},
	} {
		if code, body := post(tc.ct, tc.body); code != tc.code || !strings.Contains(body, tc.want) {
			t.Errorf("%s: HTTP %d %s, want %d naming %q", tc.body, code, body, tc.code, tc.want)
		}
	}
	if len(in.raw) != 1 {
		t.Errorf("%d notices taken, want the one whole", len(in.raw))
	}
}

// TestNoticeMessagesReadRight: the message a notice becomes is read by the parser as the kind
// the notifier chose, naming the locations they gave — for every kind the form offers.
func TestNoticeMessagesReadRight(t *testing.T) {
	p := reports.New(reports.Options{})
	for _, kind := range NoticeKinds {
		n := Notice{Kind: string(kind), Locations: []string{"https://www.shop.example/promo/login.php", "192.0.2.10"},
			Explanation: "I found this while checking our logs this morning; please look into it.", Name: "Ana", Email: "ana@example.org", GoodFaith: true}
		if kind == abuse.CSAM {
			n.Name, n.Email = "", ""
		}
		res := p.Parse(noticeMessage(n, "N-TEST000001", time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)))
		if res.Kind != reports.KindReport || len(res.Reports) == 0 {
			t.Errorf("%s: read as %s (%s), want a report", kind, res.Kind, res.Error)
			continue
		}
		r := res.Reports[0]
		t.Logf("%s: confidence %.2f %v", kind, r.Confidence, r.Signals)
		if r.Category != kind {
			t.Errorf("%s: read as category %s", kind, r.Category)
		}
		if !strings.Contains(strings.Join(r.SourceIPs, " ")+" "+strings.Join(r.URLs, " "), "192.0.2.10") {
			t.Errorf("%s: the locations are not read: ips %v urls %v", kind, r.SourceIPs, r.URLs)
		}
	}
}
