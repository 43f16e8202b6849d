// Package casesapi is the desk's JSON API for cases: GET /api/v1/cases lists and searches them,
// GET /api/v1/cases/{case number} returns one case's whole view. Integrations and scripts read
// cases here instead of scraping the dashboard or querying Temporal. cmd/desk/openapi.yaml
// describes it with the rest of the desk's API; a test keeps the two equal.
//
// Legal-track cases (law-enforcement requests, CSAM notices) are never listed or shown here,
// whoever asks: they are confidential to the legal team, which reads them in the dashboard.
package casesapi

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"abusedesk/app/cases"
	"abusedesk/app/ledger"
	"abusedesk/domain/abuse"
	"abusedesk/domain/ticket"
	"abusedesk/platform/httpx"
	"abusedesk/workflows"
)

// Searcher finds case numbers by what their reports name or their customer (ledger.Store).
type Searcher = ledger.Searcher

// API serves the cases API.
type API struct {
	Cases *cases.Client
	// Search, when set, finds cases by address, range, domain, sender, phone or account name;
	// without it a search finds a case number or an account ID only.
	Search Searcher
	// Token is the reports API's bearer token: a request carrying it is let in. Dashboard is the
	// dashboard's own guard (a signed-in session, or its password; open when it is open): any
	// other request goes through it (none: the token only).
	Token     string
	Dashboard func(http.Handler) http.Handler
	Log       *slog.Logger
}

// Routes mounts the API.
func (a *API) Routes(handle func(pattern string, h http.Handler)) {
	handle("GET /api/v1/cases", a.auth(http.HandlerFunc(a.list)))
	handle("GET /api/v1/cases/{number}", a.auth(http.HandlerFunc(a.one)))
}

func (a *API) auth(next http.Handler) http.Handler {
	guarded := http.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="abusedesk"`)
		httpx.Problem(w, http.StatusUnauthorized, "the cases API needs the API token (Authorization: Bearer, DESK_API_TOKEN)")
	}))
	if a.Dashboard != nil {
		guarded = a.Dashboard(next)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if httpx.HasBearer(r, a.Token) {
			next.ServeHTTP(w, r)
			return
		}
		guarded.ServeHTTP(w, r)
	})
}

// Case is a case as the list returns it.
type Case struct {
	CaseNumber string `json:"case_number"`
	CaseID     string `json:"case_id"`
	Status     string `json:"status"`
	Open       bool   `json:"open"`
	Account    string `json:"account"`
	Category   string `json:"category"`
	Track      string `json:"track"`
	Tier       string `json:"tier,omitempty"`
	// Deadline is when the case's current wait ends (absent when nothing is timed).
	Deadline time.Time `json:"deadline,omitzero"`
	Reports  int64     `json:"reports"`
	// Ticket is the case ticket, "system#id"; TicketID its number when it has one (Zendesk's).
	Ticket   string    `json:"ticket,omitempty"`
	TicketID int64     `json:"ticket_id,omitempty"`
	OpenedAt time.Time `json:"opened_at"`
	ClosedAt time.Time `json:"closed_at,omitzero"`
	URL      string    `json:"url"`
}

// List is a page of cases.
type List struct {
	Cases []Case `json:"cases"`
	// Next is the cursor of the next page (pass it as ?cursor=); absent on the last page.
	Next string `json:"next,omitempty"`
	// Search says how q was read (ip, range, domain, sender, phone, account, case_number), and
	// SearchTruncated that it matched more cases than one search returns (500: narrow it).
	Search          string `json:"search,omitempty"`
	SearchTruncated bool   `json:"search_truncated,omitempty"`
}

// searchLimit is how many cases one search may match.
const searchLimit = 500

// badRequest is a query parameter that is wrong, said as such.
type badRequest struct{ msg string }

func (b badRequest) Error() string { return b.msg }

// query builds the visibility query of a list request.
func (a *API) query(ctx context.Context, v map[string][]string) (string, List, error) {
	get := func(k string) string {
		if len(v[k]) == 0 {
			return ""
		}
		return strings.TrimSpace(v[k][0])
	}
	var out List
	parts := []string{cases.NotConfidential()}
	switch s := get("state"); s {
	case "", "open":
		parts = append(parts, "ExecutionStatus = 'Running'")
	case "closed":
		parts = append(parts, "ExecutionStatus != 'Running'", "ExecutionStatus != 'ContinuedAsNew'")
	case "all":
		parts = append(parts, "ExecutionStatus != 'ContinuedAsNew'")
	default:
		return "", out, badRequest{fmt.Sprintf("state %q: want open, closed or all", s)}
	}
	if s := get("status"); s != "" {
		if !slices.Contains(workflows.Statuses, workflows.Status(s)) {
			return "", out, badRequest{fmt.Sprintf("status %q is not a case status", s)}
		}
		parts = append(parts, workflows.SearchStatus.GetName()+" = "+cases.Quote(s))
	}
	if c := get("category"); c != "" {
		if !abuse.Category(c).Valid() {
			return "", out, badRequest{fmt.Sprintf("category %q is not a category", c)}
		}
		parts = append(parts, workflows.SearchCategory.GetName()+" = "+cases.Quote(c))
	}
	if t := get("track"); t != "" {
		if !slices.Contains(abuse.Tracks, abuse.Track(t)) {
			return "", out, badRequest{fmt.Sprintf("track %q: want one of %v", t, abuse.Tracks)}
		}
		parts = append(parts, cases.InTrack(abuse.Track(t)))
	}
	if t := get("tier"); t != "" {
		parts = append(parts, workflows.SearchTier.GetName()+" = "+cases.Quote(t))
	}
	if acct := get("account"); acct != "" {
		parts = append(parts, workflows.SearchAccount.GetName()+" = "+cases.Quote(acct))
	}
	if q := get("q"); q != "" {
		var s ledger.Searcher
		if a.Search != nil {
			s = a.Search
		}
		m, err := ledger.SearchClause(ctx, s, q, searchLimit)
		if err != nil {
			return "", out, err
		}
		out.Search, out.SearchTruncated = string(m.Kind), m.Truncated
		if m.None {
			return "", out, nil // nothing matches
		}
		parts = append(parts, m.Clause)
	}
	return strings.Join(parts, " AND "), out, nil
}

func (a *API) list(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	v := r.URL.Query()
	limit := 50
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 200 {
			httpx.Problem(w, http.StatusBadRequest, fmt.Sprintf("limit %q: want a number from 1 to 200", s))
			return
		}
		limit = n
	}
	query, out, err := a.query(ctx, v)
	var bad badRequest
	if errors.As(err, &bad) {
		httpx.Problem(w, http.StatusBadRequest, bad.msg)
		return
	}
	if err != nil {
		a.Log.Error("cases API: search", "error", err)
		httpx.Problem(w, http.StatusServiceUnavailable, "the search could not be run: "+err.Error())
		return
	}
	var token []byte
	if c := v.Get("cursor"); c != "" {
		t, ok := a.openCursor(query, c)
		if !ok {
			httpx.Problem(w, http.StatusBadRequest, "cursor: not a cursor this API returned for this search")
			return
		}
		token = t
	}
	out.Cases = []Case{}
	if query != "" {
		list, next, err := a.Cases.List(ctx, query, limit, token)
		if err != nil {
			a.Log.Error("cases API: list", "error", err)
			httpx.Problem(w, http.StatusServiceUnavailable, "the cases could not be listed: "+err.Error())
			return
		}
		for _, s := range list {
			out.Cases = append(out.Cases, Case{CaseNumber: s.CaseNumber, CaseID: s.CaseID, Status: string(s.Status), Open: s.Running,
				Account: s.Account, Category: s.Category, Track: string(abuse.Category(s.Category).Track()), Tier: s.Tier,
				Deadline: s.Deadline, Reports: s.ReportCount, Ticket: s.Ticket.String(), TicketID: ticketNumber(s.Ticket), OpenedAt: s.StartedAt, ClosedAt: s.ClosedAt,
				URL: "/api/v1/cases/" + s.CaseNumber})
		}
		if len(next) > 0 {
			out.Next = a.sealCursor(query, next)
		}
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

// A cursor is Temporal's page token with the API's signature over it and the search it pages:
// a cursor the API did not return (or returned for another search) is a 400 at once, never a
// token handed to Temporal to choke on.
func (a *API) sealCursor(query string, token []byte) string {
	return base64.RawURLEncoding.EncodeToString(token) + "." + base64.RawURLEncoding.EncodeToString(a.cursorMAC(query, token))
}

func (a *API) openCursor(query, c string) ([]byte, bool) {
	t, sig, ok := strings.Cut(c, ".")
	if !ok {
		return nil, false
	}
	token, err1 := base64.RawURLEncoding.DecodeString(t)
	mac, err2 := base64.RawURLEncoding.DecodeString(sig)
	if err1 != nil || err2 != nil || len(token) == 0 || !hmac.Equal(mac, a.cursorMAC(query, token)) {
		return nil, false
	}
	return token, true
}

// cursorMAC signs a page token for a search, with a key every ingress process shares (from the
// API token) or, without one, this process's own.
func (a *API) cursorMAC(query string, token []byte) []byte {
	m := hmac.New(sha256.New, a.cursorKey())
	m.Write([]byte(query))
	m.Write([]byte{0})
	m.Write(token)
	return m.Sum(nil)
}

func (a *API) cursorKey() []byte {
	if a.Token != "" {
		k := sha256.Sum256([]byte("abusedesk cases API cursor\x00" + a.Token))
		return k[:]
	}
	return processCursorKey
}

var processCursorKey = func() []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic("casesapi: no randomness: " + err.Error())
	}
	return k
}()

// one answers GET /api/v1/cases/{number}: the case's view (the run under way, or the run that
// closed it), durations as text ("24h").
func (a *API) one(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	number := strings.ToUpper(r.PathValue("number"))
	if workflows.FindCaseNumber(number) != number {
		httpx.Problem(w, http.StatusBadRequest, fmt.Sprintf("%q is not a case number (TS- and ten letters or digits)", r.PathValue("number")))
		return
	}
	s, err := a.Cases.FindByNumber(ctx, number)
	if err != nil {
		a.Log.Error("cases API: find", "case_number", number, "error", err)
		httpx.Problem(w, http.StatusServiceUnavailable, "the case could not be looked up: "+err.Error())
		return
	}
	if s == nil || abuse.Category(s.Category).Confidential() {
		httpx.Problem(w, http.StatusNotFound, "no case "+number)
		return
	}
	run := s.RunID
	if s.Running {
		run = ""
	}
	view, err := a.Cases.StatusRun(ctx, s.CaseID, run)
	if err != nil {
		a.Log.Error("cases API: view", "case_number", number, "error", err)
		httpx.Problem(w, http.StatusServiceUnavailable, "the case could not be read: "+err.Error())
		return
	}
	httpx.WriteJSON(w, http.StatusOK, view)
}

// ticketNumber is a ticket's ID as a number, 0 when it is none.
func ticketNumber(ref ticket.Ref) int64 {
	n, _ := ref.Number()
	return n
}
