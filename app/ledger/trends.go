package ledger

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"abusedesk/domain/abuse"
	"abusedesk/workflows"
)

// Trends: report spikes against their own baseline, and accounts linked by what their reports
// name. docs/metrics.md ("Spikes and linked accounts") describes both.

type indicator struct{ kind, value string }

// indicatorsOf turns report subjects into indicators: "ip:…" stays an address, "url:…" becomes
// its host, "domain:…" a domain, "sender:a@b" the sender's domain ("sender:ACME" an SMS sender
// ID), "phone:…" a number, "sender-id:…" an SMS sender ID or short code, "campaign:…" and
// "messaging-service:…" a sending identity above numbers. Others (feedback IDs, brands) are not indicators.
func indicatorsOf(subjects []abuse.Subject) []indicator {
	var out []indicator
	add := func(kind, value string) {
		value = strings.TrimSpace(value)
		if value == "" || len(value) > 255 {
			return
		}
		in := indicator{kind, value}
		if !slices.Contains(out, in) {
			out = append(out, in)
		}
	}
	for _, s := range subjects {
		v := s.Value
		switch s.Kind {
		case abuse.SubjectIP:
			if a, err := netip.ParseAddr(v); err == nil {
				add("ip", a.Unmap().String())
			}
		case abuse.SubjectURL:
			if u, err := url.Parse(v); err == nil && u.Hostname() != "" {
				add("host", strings.ToLower(strings.TrimSuffix(u.Hostname(), ".")))
			}
		case abuse.SubjectDomain:
			add("domain", strings.ToLower(strings.TrimSuffix(v, ".")))
		case abuse.SubjectSender:
			if _, domain, ok := strings.Cut(v, "@"); ok {
				add("sender-domain", strings.ToLower(domain))
			} else {
				add("sender", v)
			}
		case abuse.SubjectPhone:
			add("phone", v)
		case abuse.SubjectSenderID:
			add("sender-id", strings.ToUpper(v))
		case abuse.SubjectCampaign:
			add("campaign", strings.ToUpper(v))
		case abuse.SubjectService:
			add("messaging-service", v)
		}
	}
	return out
}

// TrendRules are the spike rules (policy.Trends).
type TrendRules struct {
	// Window is the period a count covers; Baseline how far back its usual level is taken
	// (the mean over the windows before the current one).
	Window, Baseline time.Duration
	// A spike is a count of at least Floor and Factor times its baseline.
	Factor float64
	Floor  int
	// ClusterMaxAccounts: an indicator shared by more accounts than this is too common to
	// link them (a webmail domain, a shared host).
	ClusterMaxAccounts int
}

// Spike is a count well above its own baseline.
type Spike struct {
	// Dimension is category, reporter, account, network/24 or network/16; Subject the
	// category, reporter, account or network.
	Dimension string  `json:"dimension"`
	Subject   string  `json:"subject"`
	Count     int     `json:"count"`
	Baseline  float64 `json:"baseline"` // the mean count of a window before
	// WindowStart is the start of the window counted.
	WindowStart time.Time `json:"window_start"`
}

// Factor is how many times its baseline the count is.
func (s Spike) Factor() float64 { return float64(s.Count) / max(s.Baseline, 1) }

// Spikes counts the reports of the window ending at now per category, reporter, account and
// network (the addresses the reports name, by /24 and /16), against the mean of the windows in
// the baseline before it, and returns the spikes, biggest factor first.
// Reports of the excluded categories count nowhere (a legal matter is no spike to anyone
// without the legal role).
func (s *Store) Spikes(ctx context.Context, now time.Time, r TrendRules, exclude ...string) ([]Spike, error) {
	if r.Window <= 0 || r.Baseline < r.Window {
		return nil, invalid(fmt.Sprintf("spike window %s and baseline %s: the baseline must hold at least one window", r.Window, r.Baseline))
	}
	start := now.Add(-r.Window)
	from := start.Add(-r.Baseline)
	windows := float64(r.Baseline / r.Window)
	type tally struct {
		cur  int
		base int
	}
	counts := map[[2]string]*tally{}
	count := func(dim, subject string, n int, current bool) {
		if subject == "" || n <= 0 {
			return
		}
		k := [2]string{dim, subject}
		t := counts[k]
		if t == nil {
			t = &tally{}
			counts[k] = t
		}
		if current {
			t.cur += n
		} else {
			t.base += n
		}
	}
	// not leaves the excluded categories out of a query on case_events (notE: aliased e).
	not, notE, notArgs := "", "", []any{}
	if len(exclude) > 0 {
		var list string
		list, notArgs = inList(exclude)
		not, notE = ` AND category NOT IN `+list, ` AND e.category NOT IN `+list
	}
	rows, err := s.db.QueryContext(ctx, s.Q(`SELECT at_ms, n, category, account_id, reporters FROM case_events
		WHERE kind = ? AND at_ms >= ? AND at_ms < ?`+not), append([]any{workflows.LedgerReports, ms(from), ms(now)}, notArgs...)...)
	if err != nil {
		return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
	}
	for rows.Next() {
		var at int64
		var n int
		var category, account, reporters string
		if err := rows.Scan(&at, &n, &category, &account, &reporters); err != nil {
			rows.Close()
			return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
		}
		cur := at >= ms(start)
		count("category", category, n, cur)
		count("account", account, n, cur)
		names, per := parseReporters(reporters)
		for i, name := range names {
			c := per[i]
			if c < 0 { // counts not known: the batch is the first reporter's
				c = 0
				if i == 0 {
					c = n
				}
			}
			count("reporter", name, c, cur)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
	}
	// Networks: each address a case's reports named, counted once, when first named.
	rows, err = s.db.QueryContext(ctx, s.Q(`SELECT value, first_ms FROM indicators WHERE kind = 'ip' AND first_ms >= ? AND first_ms < ?`+not),
		append([]any{ms(from), ms(now)}, notArgs...)...)
	if err != nil {
		return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
	}
	for rows.Next() {
		var v string
		var at int64
		if err := rows.Scan(&v, &at); err != nil {
			rows.Close()
			return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
		}
		a, err := netip.ParseAddr(v)
		if err != nil {
			continue
		}
		cur := at >= ms(start)
		for _, bits := range []int{24, 16} {
			if a.Is6() {
				bits *= 2 // /48 and /32 for IPv6
			}
			p, _ := a.Prefix(bits)
			count(fmt.Sprintf("network/%d", bits), p.String(), 1, cur)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
	}
	// Campaigns and messaging services: the reports of the cases whose reports name one.
	rows, err = s.db.QueryContext(ctx, s.Q(`SELECT e.at_ms, e.n, i.kind, i.value FROM case_events e
		JOIN indicators i ON i.case_number = e.case_number AND i.kind IN ('campaign', 'messaging-service')
		WHERE e.kind = ? AND e.at_ms >= ? AND e.at_ms < ?`+notE),
		append([]any{workflows.LedgerReports, ms(from), ms(now)}, notArgs...)...)
	if err != nil {
		return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
	}
	for rows.Next() {
		var at int64
		var n int
		var kind, v string
		if err := rows.Scan(&at, &n, &kind, &v); err != nil {
			rows.Close()
			return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
		}
		count(kind, v, n, at >= ms(start))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
	}
	var out []Spike
	for k, t := range counts {
		base := float64(t.base) / windows
		if t.cur >= r.Floor && float64(t.cur) >= r.Factor*max(base, 1) {
			out = append(out, Spike{Dimension: k[0], Subject: k[1], Count: t.cur, Baseline: base, WindowStart: start.UTC()})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if fi, fj := out[i].Factor(), out[j].Factor(); fi != fj {
			return fi > fj
		}
		return out[i].Dimension+out[i].Subject < out[j].Dimension+out[j].Subject
	})
	return out, nil
}

// NewAlert records that sp is being alerted, unless its dimension and subject were alerted
// within quiet: true when the caller is to send the alert (one process of several wins).
func (s *Store) NewAlert(ctx context.Context, sp Spike, window, quiet time.Duration) (bool, error) {
	var recent int
	if err := s.db.QueryRowContext(ctx, s.Q(`SELECT COUNT(*) FROM alerts WHERE dimension = ? AND subject = ? AND at_ms >= ?`),
		sp.Dimension, sp.Subject, ms(sp.WindowStart.Add(window).Add(-quiet))).Scan(&recent); err != nil {
		return false, fmt.Errorf("ledger %s: %w", s.Where, err)
	}
	if recent > 0 {
		return false, nil
	}
	res, err := s.db.ExecContext(ctx, s.Q(`INSERT INTO alerts (alert_key, at_ms, dimension, subject, count, baseline) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (alert_key) DO NOTHING`), alertKey(sp, window), ms(sp.WindowStart.Add(window)), sp.Dimension, sp.Subject, sp.Count, sp.Baseline)
	if err != nil {
		return false, fmt.Errorf("ledger %s: %w", s.Where, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func alertKey(sp Spike, window time.Duration) string {
	return fmt.Sprintf("%s/%s/%d", sp.Dimension, sp.Subject, ms(sp.WindowStart)/max(1, window.Milliseconds()))
}

// forgetAlert drops an alert that could not be sent, so that the next look sends it.
func (s *Store) forgetAlert(ctx context.Context, sp Spike, window time.Duration) error {
	_, err := s.db.ExecContext(ctx, s.Q(`DELETE FROM alerts WHERE alert_key = ?`), alertKey(sp, window))
	return err
}

// AlertSpikes looks for spikes at now (legal-track reports left out) and sends the new ones to
// post (the leads' channel) as
// one message listing them all, with a link to the trends page (one batch that spikes a
// category, a reporter, an account and a dozen networks is one alert, not fifteen). What could
// not be sent is sent at the next look. It returns how many spikes it reported.
func (s *Store) AlertSpikes(ctx context.Context, now time.Time, r TrendRules, quiet time.Duration, link string, post func(ctx context.Context, text string) error) (int, error) {
	// The alert goes to the leads: reports of the legal track are not theirs to see.
	spikes, err := s.Spikes(ctx, now, r, LegalCategories()...)
	if err != nil {
		return 0, err
	}
	var fresh []Spike
	for _, sp := range spikes {
		ok, err := s.NewAlert(ctx, sp, r.Window, quiet)
		if err != nil {
			return 0, errors.Join(err, s.forgetAlerts(ctx, fresh, r.Window))
		}
		if ok {
			fresh = append(fresh, sp)
		}
	}
	if len(fresh) == 0 {
		return 0, nil
	}
	if err := post(ctx, SpikesText(fresh, r.Window, link)); err != nil {
		return 0, errors.Join(err, s.forgetAlerts(ctx, fresh, r.Window))
	}
	return len(fresh), nil
}

// forgetAlerts drops alerts that could not be sent.
func (s *Store) forgetAlerts(ctx context.Context, spikes []Spike, window time.Duration) error {
	var errs []error
	for _, sp := range spikes {
		errs = append(errs, s.forgetAlert(ctx, sp, window))
	}
	return errors.Join(errs...)
}

// maxSpikeLines is how many spikes one alert lists; the rest are counted.
const maxSpikeLines = 10

// SpikesText is one alert about several spikes: one spike is its own line; several are a
// list, the biggest first, at most maxSpikeLines of them.
func SpikesText(spikes []Spike, window time.Duration, link string) string {
	if len(spikes) == 1 {
		return spikes[0].Text(window, link)
	}
	sorted := slices.Clone(spikes)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Count > sorted[j].Count })
	var b strings.Builder
	fmt.Fprintf(&b, ":chart_with_upwards_trend: %d spikes in the %s to %s UTC:", len(sorted), Duration(window),
		sorted[0].WindowStart.Add(window).UTC().Format("2006-01-02 15:04"))
	for i, sp := range sorted {
		if i == maxSpikeLines {
			fmt.Fprintf(&b, "\n• and %d more", len(sorted)-maxSpikeLines)
			break
		}
		fmt.Fprintf(&b, "\n• %d %s, %.0f× the usual %.1f", sp.Count, sp.what(), sp.Factor(), sp.Baseline)
	}
	if link != "" {
		b.WriteString("\nTrends: " + link)
	}
	return b.String()
}

// what says what a spike counts.
func (sp Spike) what() string {
	what := map[string]string{"category": "reports of " + sp.Subject, "reporter": "reports from " + sp.Subject,
		"account": "reports about account " + sp.Subject}[sp.Dimension]
	if what == "" {
		what = "addresses named in " + sp.Subject
	}
	return what
}

// Text is the alert's message.
func (sp Spike) Text(window time.Duration, link string) string {
	s := fmt.Sprintf(":chart_with_upwards_trend: Spike: %d %s in the %s to %s UTC, %.0f× the usual %.1f.",
		sp.Count, sp.what(), Duration(window), sp.WindowStart.Add(window).UTC().Format("2006-01-02 15:04"), sp.Factor(), sp.Baseline)
	if link != "" {
		s += " Trends: " + link
	}
	return s
}

// Alerted lists the spike alerts sent since a time, newest first.
func (s *Store) Alerted(ctx context.Context, since time.Time) ([]Spike, error) {
	rows, err := s.db.QueryContext(ctx, s.Q(`SELECT dimension, subject, count, baseline, at_ms FROM alerts WHERE at_ms >= ? ORDER BY at_ms DESC LIMIT 200`), ms(since))
	if err != nil {
		return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
	}
	defer rows.Close()
	var out []Spike
	for rows.Next() {
		var sp Spike
		var at int64
		if err := rows.Scan(&sp.Dimension, &sp.Subject, &sp.Count, &sp.Baseline, &at); err != nil {
			return nil, err
		}
		sp.WindowStart = time.UnixMilli(at).UTC()
		out = append(out, sp)
	}
	return out, rows.Err()
}

// Cluster is accounts linked by indicators their reports share.
type Cluster struct {
	Accounts []string `json:"accounts"`
	// Links are the shared indicators ("host:login-bank.example"), each with the accounts and
	// cases that named it.
	Links []Link `json:"links"`
}

// Link is one indicator shared by several accounts.
type Link struct {
	Kind     string   `json:"kind"`
	Value    string   `json:"value"`
	Accounts []string `json:"accounts"`
	Cases    []string `json:"cases"`
	// CasesOf are each account's own cases among Cases.
	CasesOf map[string][]string `json:"cases_of"`
}

// reporterDomains are the domains of the reporters of the cases opened since a time: a
// reporter's own domain (its signature, its reporting site) in several customers' reports says
// who reported them, not that the customers are linked.
func (s *Store) reporterDomains(ctx context.Context, since time.Time) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, s.Q(`SELECT DISTINCT reporter FROM cases WHERE opened_ms >= ? AND reporter <> ''`), ms(since))
	if err != nil {
		return nil, fmt.Errorf("ledger %s: reporters: %w", s.Where, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, fmt.Errorf("ledger %s: reporters: %w", s.Where, err)
		}
		if _, d, ok := strings.Cut(r, "@"); ok && !slices.Contains(out, strings.ToLower(d)) {
			out = append(out, strings.ToLower(d))
		}
	}
	return out, rows.Err()
}

// reporterIndicator says whether a host, domain or sender domain is one of the reporters'
// domains or below one.
func reporterIndicator(reporters []string, kind, value string) bool {
	if kind != "host" && kind != "domain" && kind != "sender-domain" {
		return false
	}
	return slices.ContainsFunc(reporters, func(d string) bool { return abuse.InDomain(value, d) })
}

// ownIndicator says whether an indicator names the provider itself: a host, domain or sender
// domain that is one of OwnDomains or below one.
func (s *Store) ownIndicator(kind, value string) bool {
	if kind == "phone" || kind == "sender-id" {
		return false
	}
	if _, d, ok := strings.Cut(value, "@"); ok {
		value = d
	}
	return slices.ContainsFunc(s.OwnDomains, func(own string) bool { return abuse.InDomain(value, own) })
}

// Clusters links accounts whose reports since a time name the same host, domain, sender
// domain, SMS sender ID or phone number (addresses belong to one account, so they link
// nothing); an indicator named for more than maxAccounts accounts is too common to link.
// Linked accounts are one cluster however many steps apart; biggest cluster first.
func (s *Store) Clusters(ctx context.Context, since time.Time, maxAccounts int, excludeCategories ...string) ([]Cluster, error) {
	not, args := "", []any{}
	if len(excludeCategories) > 0 {
		var list string
		list, args = inList(excludeCategories)
		not = ` AND category NOT IN ` + list
	}
	// The reporters' domains first: one query at a time holds a connection.
	reporters, err := s.reporterDomains(ctx, since)
	if err != nil {
		return nil, err
	}
	all := append(append(append(append([]any{ms(since)}, args...), ms(since)), args...), maxAccounts)
	rows, err := s.db.QueryContext(ctx, s.Q(`SELECT kind, value, account_id, case_number FROM indicators
		WHERE kind <> 'ip' AND first_ms >= ?`+not+` AND (kind, value) IN (
			SELECT kind, value FROM indicators WHERE kind <> 'ip' AND first_ms >= ?`+not+`
			GROUP BY kind, value HAVING COUNT(DISTINCT account_id) BETWEEN 2 AND ?)
		ORDER BY kind, value, account_id, case_number`), all...)
	if err != nil {
		return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
	}
	defer rows.Close()
	links := map[[2]string]*Link{}
	var order [][2]string
	for rows.Next() {
		var kind, value, account, number string
		if err := rows.Scan(&kind, &value, &account, &number); err != nil {
			return nil, err
		}
		if s.ownIndicator(kind, value) || reporterIndicator(reporters, kind, value) {
			continue
		}
		k := [2]string{kind, value}
		l := links[k]
		if l == nil {
			l = &Link{Kind: kind, Value: value, CasesOf: map[string][]string{}}
			links[k] = l
			order = append(order, k)
		}
		if !slices.Contains(l.CasesOf[account], number) {
			l.CasesOf[account] = append(l.CasesOf[account], number)
		}
		if !slices.Contains(l.Accounts, account) {
			l.Accounts = append(l.Accounts, account)
		}
		if !slices.Contains(l.Cases, number) {
			l.Cases = append(l.Cases, number)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Union the accounts each link names.
	parent := map[string]string{}
	var find func(string) string
	find = func(a string) string {
		if p, ok := parent[a]; ok && p != a {
			parent[a] = find(p)
			return parent[a]
		}
		parent[a] = a
		return a
	}
	for _, k := range order {
		l := links[k]
		for _, a := range l.Accounts[1:] {
			parent[find(a)] = find(l.Accounts[0])
		}
	}
	byRoot := map[string]*Cluster{}
	var roots []string
	for _, k := range order {
		l := links[k]
		root := find(l.Accounts[0])
		c := byRoot[root]
		if c == nil {
			c = &Cluster{}
			byRoot[root] = c
			roots = append(roots, root)
		}
		c.Links = append(c.Links, *l)
		for _, a := range l.Accounts {
			if !slices.Contains(c.Accounts, a) {
				c.Accounts = append(c.Accounts, a)
			}
		}
	}
	out := make([]Cluster, 0, len(roots))
	for _, r := range roots {
		c := byRoot[r]
		sort.Strings(c.Accounts)
		out = append(out, *c)
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i].Accounts) > len(out[j].Accounts) })
	return out, nil
}

// LegalCategories are the categories of the legal track, for leaving them out of what people
// without the legal role see.
func LegalCategories() []string {
	var out []string
	for _, c := range abuse.ConfidentialCategories() {
		out = append(out, string(c))
	}
	return out
}

// NewAccount is an account whose first case opened within abuse.NewAccountAge of the account's
// own opening: an account opened to abuse.
type NewAccount struct {
	Account string    `json:"account"`
	Name    string    `json:"name,omitempty"`
	Created time.Time `json:"created"`
	// FirstCase is when its first case opened; Cases and Reports count its cases since.
	FirstCase time.Time `json:"first_case"`
	Cases     int       `json:"cases"`
	Reports   int       `json:"reports"`
}

// NewAccounts lists the accounts reported in their first days (abuse.NewAccountAge) whose first
// case opened since a time, newest first, at most 50; the hidden categories' cases count nowhere.
func (s *Store) NewAccounts(ctx context.Context, since time.Time, hidden ...string) ([]NewAccount, error) {
	not, args := "", []any{}
	if len(hidden) > 0 {
		var list string
		list, args = inList(hidden)
		not = ` AND category NOT IN ` + list
	}
	rows, err := s.db.QueryContext(ctx, s.Q(`SELECT account_id, MAX(account_name), MAX(account_created_ms), MIN(opened_ms), COUNT(*), SUM(reports)
		FROM cases WHERE account_created_ms IS NOT NULL`+not+`
		GROUP BY account_id
		HAVING MIN(opened_ms) >= ? AND MIN(opened_ms) - MAX(account_created_ms) BETWEEN 0 AND ?
		ORDER BY MIN(opened_ms) DESC LIMIT 50`), append(args, ms(since), abuse.NewAccountAge.Milliseconds())...)
	if err != nil {
		return nil, fmt.Errorf("ledger %s: new accounts: %w", s.Where, err)
	}
	defer rows.Close()
	var out []NewAccount
	for rows.Next() {
		var a NewAccount
		var created, first int64
		if err := rows.Scan(&a.Account, &a.Name, &created, &first, &a.Cases, &a.Reports); err != nil {
			return nil, fmt.Errorf("ledger %s: new accounts: %w", s.Where, err)
		}
		a.Created, a.FirstCase = time.UnixMilli(created).UTC(), time.UnixMilli(first).UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}
