// Package dashboard is the desk's web dashboard: server-rendered pages (html/template, no
// front-end build) listing cases with their status, deadline countdown, account, category and
// report count, with filters and counts per status; a page per case with its whole timeline
// and links to the ticket and the approval message. A Playground (in `desk dev`, the sandbox's)
// plugs its own pages and a panel on each open case's page in, to play the other parties.
package dashboard

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"abusedesk/app/cases"
	"abusedesk/app/intake"
	"abusedesk/app/ledger"
	"abusedesk/app/signin"
	"abusedesk/domain/abuse"
	"abusedesk/domain/ticket"
	"abusedesk/platform/httpx"
	"abusedesk/workflows"
)

//go:embed pages/*.html pages/style.css pages/desk.js
var pages embed.FS

// Options configure the dashboard.
type Options struct {
	Cases *cases.Client
	// Playground, when set, lets a person play the other parties (desk dev only).
	Playground Playground
	// Reporters lists each reporter's parser health (nil: no reporters page).
	Reporters func() []intake.ReporterHealth
	// Metrics computes the operations figures from the ledger (nil: no operations page);
	// Trends reads spikes and linked accounts (nil: no trends page).
	Metrics MetricsFunc
	Trends  *Trends
	// Reputation computes the reputation figures of the provider's networks (nil: no
	// reputation page); Networks are those networks (the policy's monitoring.networks).
	Reputation func(ctx context.Context, q ledger.ReputationQuery) (*ledger.Reputation, error)
	Networks   func() []netip.Prefix
	// QA is the quality review queue (nil: no review pages).
	QA *QA
	// Ledger, when set, gives the account page each account's actions and decisions, and the
	// intake page the messages handed to people.
	Ledger *ledger.Store
	// TicketURL, when set, is a ticket's address in the ticketing system's agent interface,
	// for a reference that does not carry it (a listing's).
	TicketURL func(ref ticket.Ref) string
	// Loose, when set, lists the desk's own loose ends for the work queue (messages it could
	// not act on, …).
	Loose func() []Loose
	// TrustedFlagger, when set, says whether a reporter is a trusted flagger (the policy's
	// transparency.trusted_flaggers): their cases lead the work queue.
	TrustedFlagger func(reporter string) bool
	// Password, when set, is required (HTTP basic auth, any user name), unless SignIn is set.
	Password string
	// SignIn, when set, signs people in through the organisation's identity provider instead:
	// legal-track cases are then seen by the legal role only (and each look is on record),
	// quality reviews need the lead role and are by the person signed in.
	SignIn *signin.SignIn
	// Act, when set, lets a signed-in agent of the desk's team act on a case from its page
	// (with SignIn only: a shared password names nobody).
	Act *Act
	// Bulk, when set (with SignIn and Trends), lets a signed-in lead propose one reviewed
	// action on the accounts a cluster links.
	Bulk *Bulk
	Log  *slog.Logger
}

// Playground lets a person act as the other parties from the dashboard. `desk dev` plugs the
// sandbox's in (devenv/playground); the dashboard knows nothing of what is behind it.
type Playground interface {
	// Home is the path of the playground's own page, linked from every page.
	Home() string
	// Routes mounts the playground's handlers; page renders a body inside the dashboard's
	// layout.
	Routes(handle func(pattern string, h http.Handler), page PageFunc)
	// CasePanel is the HTML of a case's "act as the other parties" section ("" when none
	// applies).
	CasePanel(v *workflows.CaseView) (template.HTML, error)
	// BulkPanel is the HTML of a bulk action's "act as the leads" section ("" when none
	// applies).
	BulkPanel(st workflows.BulkState) (template.HTML, error)
}

// PageFunc writes a page of the dashboard with the given title and body.
type PageFunc func(w http.ResponseWriter, r *http.Request, title string, body template.HTML)

// Dashboard serves the pages.
type Dashboard struct {
	opts Options
	tmpl *template.Template
	css  []byte
	js   []byte
	log  *slog.Logger
	// teamCache is the desk's team as last read (the owners' addresses).
	teamCache teamCache
}

// New parses the page templates (a broken template stops the start).
func New(opts Options) (*Dashboard, error) {
	funcs := template.FuncMap{
		"hasPrefix": strings.HasPrefix,
		"ts": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04:05 UTC")
		},
		"iso": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format(time.RFC3339)
		},
		"caseURL": func(number string) string { return "/cases/" + number },
		"final":   func(s workflows.Status) bool { return s.Final() },
		"title":   func(c abuse.Category) string { return c.Title() },
		// query is a query-string pair for an href: template.URL, so html/template keeps its
		// "=" (a plain string there is escaped to %3d and the link filters nothing).
		"query": func(k, v string) template.URL { return template.URL(url.Values{k: {v}}.Encode()) }, //nolint:gosec // Encode escapes
		"join":  strings.Join,
		// subjects writes a report's subjects as "kind:value", comma-separated.
		"subjects": func(ss []abuse.Subject) string {
			out := make([]string, len(ss))
			for i, s := range ss {
				out[i] = s.String()
			}
			return strings.Join(out, ", ")
		},
		// action is an action in words ("outbound email sending suspended"), not its code.
		"action": func(t abuse.ActionType, level int) string { return t.Describe(level) },
		// decided is what a ledger event decided, in words: an action described, else the
		// decision or outcome with spaces for underscores.
		"decided": func(e ledger.Event) string {
			if e.Kind == workflows.LedgerEnforced && abuse.ActionType(e.Decision).Valid() {
				return abuse.ActionType(e.Decision).Describe(e.Count)
			}
			return strings.ReplaceAll(cmp.Or(e.Outcome, e.Decision), "_", " ")
		},
		// label is a status in words; deadlineOf says which deadline a status's countdown is.
		"label":      StatusLabel,
		"deadlineOf": deadlineOf,
		"category":   func(s string) abuse.Category { return abuse.Category(s) },
		"eventLabel": func(kind string) string { return strings.ReplaceAll(kind, "_", " ") },
		"ticketURL": func(ref ticket.Ref) string {
			if ref.URL != "" || opts.TicketURL == nil {
				return ref.URL
			}
			return opts.TicketURL(ref)
		},
		// refusal reads a flash: the refusal's text and true, or the text and false.
		"refusal": func(flash string) bool { return strings.HasPrefix(flash, refusedPrefix) },
		"pct":     func(r float64) string { return fmt.Sprintf("%.0f%%", r*100) },
		"pct1":    func(r float64) string { return fmt.Sprintf("%.1f %%", r*100) },
		"date": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format(time.DateOnly)
		},
	}
	t, err := template.New("").Funcs(funcs).ParseFS(pages, "pages/*.html")
	if err != nil {
		return nil, fmt.Errorf("dashboard templates: %w", err)
	}
	css, err := pages.ReadFile("pages/style.css")
	if err != nil {
		return nil, err
	}
	js, err := pages.ReadFile("pages/desk.js")
	if err != nil {
		return nil, err
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	return &Dashboard{opts: opts, tmpl: t, css: css, js: js, log: opts.Log.With("component", "dashboard")}, nil
}

// Routes mounts the pages on a mux-like Handle.
func (d *Dashboard) Routes(handle func(pattern string, h http.Handler)) {
	handle("GET /{$}", d.auth(http.HandlerFunc(d.list)))
	handle("GET /queue", d.auth(http.HandlerFunc(d.queuePage)))
	handle("GET /accounts/{id}", d.auth(http.HandlerFunc(d.accountPage)))
	if d.opts.Ledger != nil {
		handle("GET /intake", d.auth(http.HandlerFunc(d.intakePage)))
	}
	handle("GET /api/v1/queue", d.auth(http.HandlerFunc(d.queueJSON)))
	handle("GET /legal", d.auth(http.HandlerFunc(d.legalPage)))
	handle("GET /api/v1/legal", d.auth(http.HandlerFunc(d.legalJSON)))
	handle("GET /cases/{id...}", d.auth(http.HandlerFunc(d.casePage)))
	if d.opts.Act != nil {
		handle("POST /act/move-to-legal/{id...}", d.auth(http.HandlerFunc(d.moveToLegal)))
		handle("POST /act/assign/{id...}", d.auth(http.HandlerFunc(d.assignCase)))
		handle("POST /act/bulk", d.auth(http.HandlerFunc(d.bulk)))
	}
	if d.opts.Reporters != nil {
		handle("GET /reporters", d.auth(http.HandlerFunc(d.reportersPage)))
	}
	if d.opts.Metrics != nil {
		handle("GET /operations", d.auth(http.HandlerFunc(d.operationsPage)))
		handle("GET /api/v1/metrics", d.auth(http.HandlerFunc(d.metricsJSON)))
	}
	if d.opts.Trends != nil {
		handle("GET /trends", d.auth(http.HandlerFunc(d.trendsPage)))
		handle("GET /bulk/{number}", d.auth(http.HandlerFunc(d.bulkPage)))
		if d.opts.Bulk != nil {
			handle("POST /trends/bulk", d.auth(http.HandlerFunc(d.proposeBulk)))
		}
	}
	if d.opts.Reputation != nil {
		handle("GET /reputation", d.auth(http.HandlerFunc(d.reputationPage)))
		handle("GET /api/v1/reputation", d.auth(http.HandlerFunc(d.reputationJSON)))
	}
	if d.opts.QA != nil {
		handle("GET /qa", d.auth(http.HandlerFunc(d.qaPage)))
		handle("POST /qa/{id...}", d.auth(http.HandlerFunc(d.reviewForm)))
		handle("GET /api/v1/qa", d.auth(http.HandlerFunc(d.qaJSON)))
		handle("POST /api/v1/qa/{id...}", d.auth(http.HandlerFunc(d.reviewJSON)))
	}
	handle("GET /static/style.css", static("text/css; charset=utf-8", d.css))
	handle("GET /static/desk.js", static("text/javascript; charset=utf-8", d.js))
	if pg := d.opts.Playground; pg != nil {
		pg.Routes(func(pattern string, h http.Handler) { handle(pattern, d.auth(h)) }, d.page)
	}
}

// static serves one embedded file (the pages' style sheet and script: the Content-Security-Policy
// allows no inline script).
func static(contentType string, body []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "max-age=300")
		_, _ = w.Write(body)
	})
}

// Protect puts a handler behind the dashboard's password (when one is set).
func (d *Dashboard) Protect(h http.Handler) http.Handler { return d.auth(h) }

// ProtectLegal puts a handler behind the sign-in and serves it only to those who may see legal
// matters (with the shared password: anyone who has it).
func (d *Dashboard) ProtectLegal(h http.Handler) http.Handler {
	return d.auth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !d.seesLegal(r) {
			httpx.Problem(w, http.StatusForbidden, "only the legal team may read what the desk keeps in Temporal")
			return
		}
		h.ServeHTTP(w, r)
	}))
}

func (d *Dashboard) auth(next http.Handler) http.Handler {
	if d.opts.SignIn != nil {
		return d.opts.SignIn.Require(next)
	}
	if d.opts.Password == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pass, ok := r.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(pass), []byte(d.opts.Password)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="abusedesk dashboard"`)
			const why = "the dashboard needs the password (DESK_DASHBOARD_PASSWORD)"
			if strings.HasPrefix(r.URL.Path, "/api/") {
				httpx.Problem(w, http.StatusUnauthorized, why)
			} else {
				http.Error(w, why, http.StatusUnauthorized)
			}
			return
		}
		next.ServeHTTP(w, r)
	})
}

// statusCount is a status with how many cases have it.
type statusCount struct {
	Status workflows.Status
	Count  int64
	Open   bool
}

type listPage struct {
	// OwnerName is whose cases are listed (the owner filter), by address.
	OwnerName string
	Title     string
	Home      string
	Flash     string
	Cases     []cases.Summary
	Counts    []statusCount
	Open      bool
	Filter    filter
	Statuses  []workflows.Status
	Cats      []abuse.Category
	More      bool
	Err       string
	Now       time.Time
	// Search says how the search box's text was read ("the IP address 192.0.2.10"), and Found
	// which column to mark: "account" or "case".
	Search, Found string
	Truncated     bool
	// Names are the customers' names by account ID (from the ledger).
	Names map[string]string
}

// searchWords say how a search was read, for the page.
var searchWords = map[ledger.SearchKind]string{
	ledger.SearchIP: "the IP address", ledger.SearchRange: "the range", ledger.SearchDomain: "the domain (and its subdomains)",
	ledger.SearchSender: "the sender", ledger.SearchPhone: "the phone number", ledger.SearchText: "the account (ID or name)",
	ledger.SearchIdentity:   "the campaign, messaging service or sender ID",
	ledger.SearchCaseNumber: "the case number",
}

type filter struct {
	State    string // open (default) or closed or all
	Status   string
	Category string
	Account  string
	Q        string
	// Owner is the ticketing user ID of the agent whose cases are listed ("": anyone's);
	// "me" is read as the signed-in agent's.
	Owner string
}

func (f filter) query() string {
	var parts []string
	switch f.State {
	case "closed":
		parts = append(parts, "ExecutionStatus != 'Running'")
	case "all":
	default:
		parts = append(parts, "ExecutionStatus = 'Running'")
	}
	if f.Status != "" {
		parts = append(parts, workflows.SearchStatus.GetName()+" = "+cases.Quote(f.Status))
	}
	if f.Category != "" {
		parts = append(parts, workflows.SearchCategory.GetName()+" = "+cases.Quote(f.Category))
	}
	if f.Account != "" {
		parts = append(parts, workflows.SearchAccount.GetName()+" = "+cases.Quote(f.Account))
	}
	if f.Owner != "" {
		parts = append(parts, workflows.SearchAssignee.GetName()+" = "+cases.Quote(f.Owner))
	}
	return strings.Join(parts, " AND ")
}

func (d *Dashboard) list(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	q := r.URL.Query()
	f := filter{State: q.Get("state"), Status: q.Get("status"), Category: q.Get("category"), Account: q.Get("account"), Q: q.Get("q"), Owner: q.Get("owner")}
	if f.Owner == "me" {
		f.Owner = "none signed in" // matches no case: a shared password names nobody
		if _, me, err := d.actor(ctx, r); err == nil {
			f.Owner = me
		}
	}
	p := listPage{Title: "Cases", Home: d.home(), Flash: flashOf(r), Filter: f, Statuses: workflows.Statuses,
		Cats: abuse.Categories, Open: f.State == "" || f.State == "open", Now: time.Now()}
	if f.Owner != "" {
		p.OwnerName = "user " + f.Owner
		if name, email := d.person(ctx, f.Owner); email != "" {
			p.OwnerName = cmp.Or(name, email)
		}
	}
	query, outside := f.query(), ""
	if !d.seesLegal(r) {
		// Legal cases are not listed, not counted and their status is not offered.
		outside = cases.NotConfidential()
		query = cases.And(query, outside)
		p.Statuses = slices.DeleteFunc(slices.Clone(p.Statuses), func(s workflows.Status) bool { return s == workflows.StatusLegalReview })
		p.Cats = d.visibleCategories(r)
	}
	var list []cases.Summary
	var next []byte
	var err error
	none := false
	if q := strings.TrimSpace(f.Q); q != "" {
		// One search, as the cases API's: a case number, an address, range, domain, sender or
		// phone number the reports name (written any way), or the customer's ID or name.
		var s ledger.Searcher
		if d.opts.Ledger != nil {
			s = d.opts.Ledger
		}
		var m ledger.Matches
		if m, err = ledger.SearchClause(ctx, s, q, 500); err == nil {
			value := q
			if m.Kind != ledger.SearchText && m.Kind != ledger.SearchCaseNumber {
				_, value = ledger.ReadQuery(q)
			}
			p.Search, p.Truncated, none = searchWords[m.Kind]+" "+value, m.Truncated, m.None
			p.Found = map[ledger.SearchKind]string{ledger.SearchText: "account", ledger.SearchCaseNumber: "case"}[m.Kind]
			query = cases.And(query, m.Clause)
		}
	}
	if err == nil && !none {
		list, next, err = d.opts.Cases.List(ctx, query, 200, nil)
	}
	if err != nil {
		p.Err = err.Error()
	}
	p.Cases, p.More = list, len(next) > 0
	p.Names = d.accountNames(ctx, list)
	for _, s := range p.Statuses {
		running := "ExecutionStatus = 'Running'"
		if s.Final() {
			running = "ExecutionStatus != 'Running'"
		}
		n, err := d.opts.Cases.Count(ctx, cases.And(workflows.SearchStatus.GetName()+" = "+cases.Quote(string(s))+" AND "+running, outside))
		if err == nil {
			p.Counts = append(p.Counts, statusCount{Status: s, Count: n, Open: !s.Final()})
		}
	}
	d.render(w, "list.html", p)
}

type casePage struct {
	Title string
	Home  string
	Flash string
	V     *workflows.CaseView
	// Run is the incident shown ("" for the latest); History the account's incidents.
	Run     string
	History []cases.Summary
	// Panel is the playground's section for an open case.
	Panel template.HTML
	// Accesses are the looks at a legal case on record (newest first).
	Accesses []ledger.Access
	// Reinstatement is the request to lift the action of a closed case, when there is one.
	Reinstatement *workflows.ReinstatementView
	// MoveToLegal offers the signed-in agent "Move to legal" (Options.Act).
	MoveToLegal bool
	// Me is the signed-in agent's ticketing user ID when they may assign the case (an open
	// incident), Agents whom to; OwnerName the owner's name, when known.
	Me        string
	Agents    []Agent
	OwnerName string
	// TrafficCharts draw a messaging case's traffic hour by hour (none: no records).
	TrafficCharts []template.HTML
	Err           string
	Now           time.Time
}

// errNoIncident: no incident has the case number asked for.
var errNoIncident = errors.New("no incident has this number")

func (d *Dashboard) casePage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	asked := id // what the person asked for: all a page that finds nothing may repeat
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	run := r.URL.Query().Get("run")
	var v *workflows.CaseView
	var err error
	if number := workflows.FindCaseNumber(id); number != "" && number == strings.ToUpper(id) {
		// A case number names one incident: the run under way, or the run that closed it.
		var s *cases.Summary
		if s, err = d.opts.Cases.FindByNumber(ctx, number); err == nil && s == nil {
			err = errNoIncident
		}
		if err == nil {
			id, run = s.CaseID, s.RunID
			if s.Running {
				run = ""
			}
		}
	}
	if err == nil {
		v, err = d.opts.Cases.StatusRun(ctx, id, run)
	}
	p := casePage{Title: asked, Home: d.home(), Flash: flashOf(r), Now: time.Now(), Run: run}
	if err != nil || (onLegalTrack(string(v.Category)) && !d.seesLegal(r)) {
		// Not found, and a legal case to someone without the legal role, read the same: the
		// page names only what was asked, never the internal ID, account or message behind it.
		if err != nil && !errors.Is(err, errNoIncident) && !cases.IsNotFound(err) {
			d.log.Warn("case not read", "asked", asked, "error", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			p.Err = "the case cannot be read now; try again in a moment"
			d.render(w, "case.html", p)
			return
		}
		w.WriteHeader(http.StatusNotFound)
		p.Err = fmt.Sprintf("no case %s: no incident has this number or ID", asked)
		d.render(w, "case.html", p)
		return
	}
	if onLegalTrack(string(v.Category)) {
		if who, ok := signin.From(r.Context()); ok {
			var err error
			if d.opts.Ledger == nil {
				err = errors.New("no ledger is kept (DESK_LEDGER_URL=off)")
			} else {
				err = d.recordLook(ctx, who.Email, v.CaseNumber)
			}
			if err != nil {
				// A look that cannot be put on record is not shown.
				d.log.Error("legal case view not recorded; not shown", "case", v.CaseNumber, "who", who.Email, "error", err)
				w.WriteHeader(http.StatusServiceUnavailable)
				p.Err = "this legal case cannot be shown now: the record of who looked at it could not be written"
				d.render(w, "case.html", p)
				return
			}
			if p.Accesses, err = d.opts.Ledger.Accesses(ctx, v.CaseNumber, 50); err != nil {
				d.log.Warn("the looks at a legal case not listed", "case", v.CaseNumber, "error", err)
			}
		}
	}
	p.V, p.Title = v, v.CaseNumber+" · "+v.Account.ID
	p.MoveToLegal = run == "" && d.canMoveToLegal(r, v)
	if a := v.Assignee; a != nil && d.opts.Act != nil {
		p.OwnerName, _ = d.person(ctx, a.ID)
	}
	if _, signed := signin.From(r.Context()); signed && run == "" && !v.Status.Final() && d.opts.Act != nil && d.opts.SignIn != nil {
		if _, me, err := d.actor(ctx, r); err == nil {
			p.Me, p.Agents = me, d.agents(ctx)
		}
	}
	if v.Outcome == workflows.OutcomeEnforced || v.Outcome == workflows.OutcomeUpheld {
		if p.Reinstatement, err = d.opts.Cases.ReinstatementOf(ctx, v.CaseNumber); err != nil {
			d.log.Warn("the case's reinstatement not shown", "case", v.CaseNumber, "error", err)
		}
	}
	if h, err := d.opts.Cases.History(ctx, v.Account.ID); err == nil {
		p.History = d.visible(r, h)
	} else {
		d.log.Warn("account history not listed", "account", v.Account.ID, "error", err)
	}
	p.TrafficCharts = d.trafficCharts(v.Traffic)
	// The playground acts on the case under way, or on a closed incident (a request for
	// reinstatement); it offers nothing where nothing applies.
	if pg := d.opts.Playground; pg != nil && (run == "" || v.Status.Final()) {
		if p.Panel, err = pg.CasePanel(v); err != nil {
			d.log.Error("render the playground's panel", "case_id", id, "error", err)
		}
	}
	d.render(w, "case.html", p)
}

// trafficCharts draw a messaging case's traffic hour by hour: the messages sent, and the
// complaints and opt-outs. A chart that cannot be drawn is left out (the table stays).
func (d *Dashboard) trafficCharts(t *abuse.Traffic) []template.HTML {
	if t == nil || len(t.Hours) == 0 {
		return nil
	}
	var labels []string
	var sent, complaints, optOuts []float64
	for _, h := range t.Hours {
		labels = append(labels, h.Start.UTC().Format("15:04"))
		sent, complaints, optOuts = append(sent, float64(h.Sent)), append(complaints, float64(h.Complaints)), append(optOuts, float64(h.OptOuts))
	}
	var out []template.HTML
	for _, draw := range []func() ([]byte, error){
		func() ([]byte, error) { return countBars("Messages sent an hour (UTC)", labels, "sent", sent) },
		func() ([]byte, error) {
			return lines("Complaints and opt-outs an hour (UTC)", labels, []string{"complaints", "opt-outs"}, [][]float64{complaints, optOuts})
		},
	} {
		svg, err := draw()
		if err != nil {
			d.log.Warn("a traffic chart could not be drawn; the case page goes without it", "error", err)
			continue
		}
		out = append(out, template.HTML(svg)) //nolint:gosec // SVG the chart library drew from numbers and hours
	}
	return out
}

// reportersPage shows each reporter's parser health: drifting reporters first.
func (d *Dashboard) reportersPage(w http.ResponseWriter, r *http.Request) {
	d.render(w, "reporters.html", struct {
		Title, Home, Flash string
		Reporters          []intake.ReporterHealth
	}{"Reporters", d.home(), flashOf(r), d.reporters(r)})
}

// home is the playground's page, or "" without one.
func (d *Dashboard) home() string {
	if d.opts.Playground == nil {
		return ""
	}
	return d.opts.Playground.Home()
}

// page renders a playground page inside the layout.
func (d *Dashboard) page(w http.ResponseWriter, r *http.Request, title string, body template.HTML) {
	d.render(w, "page.html", struct {
		Title, Home, Flash string
		Body               template.HTML
	}{title, d.home(), flashOf(r), body})
}

// seesLegal says whether the person behind a request may see legal-track cases: without sign-in
// (the shared password, desk dev) everyone who is let in does.
// accountNames are the names of the cases' customers, for the pages to show names, not IDs
// (none without a ledger; a failure is logged and the IDs shown).
func (d *Dashboard) accountNames(ctx context.Context, list []cases.Summary) map[string]string {
	if d.opts.Ledger == nil || len(list) == 0 {
		return nil
	}
	ids := make([]string, 0, len(list))
	for _, c := range list {
		ids = append(ids, c.Account)
	}
	names, err := d.opts.Ledger.AccountNames(ctx, ids)
	if err != nil {
		d.log.Warn("account names not read; the pages show the IDs", "error", err)
	}
	return names
}

func (d *Dashboard) seesLegal(r *http.Request) bool {
	if d.opts.SignIn == nil {
		return true
	}
	p, ok := signin.From(r.Context())
	return ok && p.Has(signin.Legal)
}

// lookWindow: a person's looks at a legal case within this long of the last one on record are
// one look (the page refreshes itself every few seconds while open).
const lookWindow = 15 * time.Minute

// recordLook puts a look at a legal case on record, unless the same person's last look is
// recent: the record says who looked and when, not how often the page refreshed.
func (d *Dashboard) recordLook(ctx context.Context, who, number string) error {
	now := time.Now().UTC()
	last, err := d.opts.Ledger.Accesses(ctx, number, 1)
	if err != nil {
		return err
	}
	if len(last) == 1 && last[0].Who == who && last[0].What == "viewed" && now.Sub(last[0].At) < lookWindow {
		return nil
	}
	return d.opts.Ledger.RecordAccess(ctx, ledger.Access{At: now, Who: who, CaseNumber: number, What: "viewed"})
}

// reporters are the reporters' health the person may see: a reporter of legal matters (a police
// force, a hotline) only to the legal team.
func (d *Dashboard) reporters(r *http.Request) []intake.ReporterHealth {
	all := d.opts.Reporters()
	if d.seesLegal(r) {
		return all
	}
	return slices.DeleteFunc(all, func(h intake.ReporterHealth) bool { return h.Legal })
}

// hiddenCategories are the categories whose cases the person behind a request may not see,
// even as a count: the legal track's, for anyone without the legal role.
func (d *Dashboard) hiddenCategories(r *http.Request) []string {
	if d.seesLegal(r) {
		return nil
	}
	return ledger.LegalCategories()
}

// visibleCategories are the categories the person may filter by: all but the hidden ones.
func (d *Dashboard) visibleCategories(r *http.Request) []abuse.Category {
	hidden := d.hiddenCategories(r)
	return slices.DeleteFunc(slices.Clone(abuse.Categories), func(c abuse.Category) bool { return slices.Contains(hidden, string(c)) })
}

// visible leaves out the legal-track cases the person may not see.
func (d *Dashboard) visible(r *http.Request, list []cases.Summary) []cases.Summary {
	if d.seesLegal(r) {
		return list
	}
	return slices.DeleteFunc(list, func(c cases.Summary) bool { return onLegalTrack(c.Category) })
}

// onLegalTrack says whether a case of category c is a legal matter.
func onLegalTrack(c string) bool { return abuse.Category(c).Confidential() }

// statusLabels are the statuses in words (those not listed read as their name without "_").
var statusLabels = map[workflows.Status]string{
	workflows.StatusOpen:             "opening",
	workflows.StatusNeedsTriage:      "needs triage",
	workflows.StatusLegalReview:      "legal review",
	workflows.StatusMonitoring:       "advised, watching",
	workflows.StatusNoticed:          "noticed",
	workflows.StatusAwaitingResponse: "waiting for the customer",
	workflows.StatusUnderReview:      "agent review",
	workflows.ReinstatementReview:    "reinstatement review",
	workflows.StatusVerifying:        "checking the fix",
	workflows.StatusEscalated:        "escalating",
	workflows.StatusPendingApproval:  "waiting for a lead",
	workflows.StatusEnforced:         "enforced",
	workflows.StatusAppealReview:     "appeal under review",
	workflows.StatusResolved:         "resolved",
	workflows.StatusReinstated:       "reinstated",
	workflows.StatusUpheld:           "upheld",
	workflows.StatusClosed:           "closed",
}

// StatusLabel is a status (or an action's state) in words.
func StatusLabel(s workflows.Status) string {
	if l, ok := statusLabels[s]; ok {
		return l
	}
	if team, ok := strings.CutPrefix(string(s), "handoff:"); ok {
		return "with " + team
	}
	return strings.ReplaceAll(string(s), "_", " ")
}

// deadlineOf is which deadline a case in status s counts down to (as the case view's
// DeadlineKind says it).
func deadlineOf(s workflows.Status) string {
	switch s {
	case workflows.StatusNeedsTriage:
		return "triage SLA"
	case workflows.StatusLegalReview:
		return "legal clock (the answer due, or the preservation ending)"
	case workflows.StatusMonitoring:
		return "quiet period"
	case workflows.StatusAwaitingResponse:
		return "customer's answer"
	case workflows.StatusPendingApproval:
		return "lead's answer"
	case workflows.StatusEnforced:
		return "appeal window"
	case workflows.StatusAppealReview:
		return "appeal decision SLA"
	case workflows.StatusUnderReview:
		return "agent's review (review_sla)"
	}
	return ""
}

// Redirect sends the browser back to a page with a message shown at its top.
func Redirect(w http.ResponseWriter, r *http.Request, to, flash string) { redirect(w, r, to, flash) }

// refusedPrefix marks a flash that tells of a refusal (shown as one, not as a success).
const refusedPrefix = "Refused: "

// Refused sends the browser back to a page saying, as a refusal, that what was asked was not
// done and why.
func Refused(w http.ResponseWriter, r *http.Request, to, why string) {
	redirect(w, r, to, refusedPrefix+why)
}

func (d *Dashboard) render(w http.ResponseWriter, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := d.tmpl.ExecuteTemplate(w, name, data); err != nil {
		d.log.Error("render", "page", name, "error", err)
	}
}

// redirect sends the browser back to a page with a message. The message travels in the URL
// with the desk's signature: a page shows it only when the desk wrote it, so a link from
// elsewhere cannot put words (a false alert, a phishing line) at the top of a desk page.
func redirect(w http.ResponseWriter, r *http.Request, to, flash string) {
	sep := "?"
	if strings.Contains(to, "?") {
		sep = "&"
	}
	http.Redirect(w, r, to+sep+url.Values{"flash": {flash}, "fs": {flashSignature(flash)}}.Encode(), http.StatusSeeOther)
}

// flashKey signs flash messages; it is this process's own (a message is shown by the process
// that wrote it, which the redirect after a form sends the browser back to).
var flashKey = func() []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic("dashboard: no randomness for the flash key: " + err.Error())
	}
	return k
}()

func flashSignature(flash string) string {
	m := hmac.New(sha256.New, flashKey)
	m.Write([]byte(flash))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// flashOf is the message a redirect put on this page, or "" when there is none or the desk did
// not write it.
func flashOf(r *http.Request) string {
	q := r.URL.Query()
	flash := q.Get("flash")
	if flash == "" || !hmac.Equal([]byte(q.Get("fs")), []byte(flashSignature(flash))) {
		return ""
	}
	return flash
}
