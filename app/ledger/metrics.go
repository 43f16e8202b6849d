package ledger

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"abusedesk/domain/abuse"
	"abusedesk/workflows"

	"golang.org/x/sync/errgroup"
)

// The operations figures a lead runs the desk with, computed from the ledger's case rows. Each
// figure is defined once, here, and docs/metrics.md says the same in words.

// Query selects the cases the figures are about: those opened in [From, To), of one category,
// track (abuse, advisory, legal, customer, messaging) or tier when those are set.
type Query struct {
	From, To time.Time
	Category string
	Track    string
	Tier     string
	// Hidden are categories left out of every figure (the legal track's, for anyone without
	// the legal role): their cases, decisions and reviews count nowhere.
	Hidden []string
}

// Groupings the figures are broken down by.
var Groupings = []string{"week", "category", "track", "tier", "reporter", "decider"}

// Metrics are the figures of the cases a Query selects, in total and by each grouping.
type Metrics struct {
	From  time.Time            `json:"from"`
	To    time.Time            `json:"to"`
	Total Figures              `json:"total"`
	By    map[string][]Figures `json:"by"`
	// QA are the quality reviews of the decisions made in the period.
	QA *QAFigures `json:"qa"`
	// Messaging are the sending identities of the period's messaging cases, the most
	// complained about first (complaints per 1,000 messages, opt-out rate).
	Messaging []IdentityFigures `json:"messaging"`
}

// Figures are the operations figures of a set of cases. Rates are shares (0–1) of the count
// named in their comment; times are from the events named.
type Figures struct {
	// Key names the group ("2026-W45", "phishing", "lead1@desk.example", …; "" in Total).
	Key     string `json:"key,omitempty"`
	Cases   int    `json:"cases"`
	Reports int    `json:"reports"`
	// Noticed cases had a notice (violation or advisory); Notices counts the notices.
	Noticed int `json:"noticed"`
	Notices int `json:"notices"`
	Closed  int `json:"closed"`
	// Enforced cases had an action applied; EnforcementRate = Enforced / Cases.
	Enforced        int     `json:"enforced"`
	EnforcementRate float64 `json:"enforcement_rate"`
	Appealed        int     `json:"appealed"`
	// Overturned appeals were granted; OverturnRate = Overturned / Appealed.
	Overturned   int     `json:"overturned"`
	OverturnRate float64 `json:"overturn_rate"`
	// Reinstated cases ended with the action lifted; ReinstatementRate = Reinstated / Enforced.
	Reinstated        int     `json:"reinstated"`
	ReinstatementRate float64 `json:"reinstatement_rate"`
	// Restumbles: of the cases closed remediated or reinstated (Fixed), those whose account had
	// a new case opened within 30 (90) days of the close.
	Fixed         int     `json:"fixed"`
	Restumble30   int     `json:"restumble_30d"`
	Restumble90   int     `json:"restumble_90d"`
	RestumbleRate float64 `json:"restumble_rate_30d"`
	Restumble90R  float64 `json:"restumble_rate_90d"`
	// Fixes an agent accepted, those a re-check found not to hold (the case reopened), and
	// FixReopenRate = FixesReopened / FixesAccepted.
	FixesAccepted int     `json:"fixes_accepted"`
	FixesReopened int     `json:"fixes_reopened"`
	FixReopenRate float64 `json:"fix_reopen_rate"`
	// Times: opened → first notice, first notice → first customer reply, opened → enforced,
	// appeal received → decided, approval asked → first answer.
	TimeToNotice         Quantiles `json:"time_to_notice"`
	TimeToReply          Quantiles `json:"time_to_reply"`
	TimeToAction         Quantiles `json:"time_to_action"`
	TimeToAppealDecision Quantiles `json:"time_to_appeal_decision"`
	ApprovalWait         Quantiles `json:"approval_wait"`
	// TimeToDelist is, for the blocklist cases that closed once the listings stopped, the
	// first listing seen → the last.
	TimeToDelist Quantiles `json:"time_to_delist"`
	// Relisted are the blocklist cases that came too soon after the account's previous one
	// closed delisted (the policy's monitoring.relisted): fixes that did not hold.
	Relisted       int `json:"relisted"`
	ApprovalsAsked int `json:"approvals_asked"`
	// ApprovalTimeouts were answered by the policy's timeout, no lead having decided.
	ApprovalTimeouts int            `json:"approval_timeouts"`
	Breaches         Breaches       `json:"sla_breaches"`
	Outcomes         map[string]int `json:"outcomes"`

	times [6][]time.Duration
}

// Quantiles are the median and 90th percentile of N durations, written like "36h" or "1h30m".
type Quantiles struct {
	N   int      `json:"n"`
	P50 Duration `json:"p50"`
	P90 Duration `json:"p90"`
}

// Duration is a time.Duration that reads as text ("24h", "1h30m", "45s").
type Duration time.Duration

// MarshalText writes the duration to the second, without zero parts.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads what MarshalText wrote (any Go duration).
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

func (d Duration) String() string {
	s := time.Duration(d).Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Breaches counts SLA breaches by SLA.
type Breaches struct {
	Triage   int `json:"triage"`
	Approval int `json:"approval"`
	Appeal   int `json:"appeal"`
	Legal    int `json:"legal"`
	Handoff  int `json:"handoff"`
}

// Total is all of them.
func (b Breaches) Total() int { return b.Triage + b.Approval + b.Appeal + b.Legal + b.Handoff }

// caseFacts is one case row, as the figures need it.
type caseFacts struct {
	account, category, track, tier, reporter, decider, outcome, appealDecision string
	opened                                                                     int64
	reports, notices, approvalsAsked, approvalTimeouts, appeals                int
	fixesAccepted, fixesReopened, relisted                                     int
	firstNotice, firstReply, approvalAsked, approvalDecided, lastReport        sql.NullInt64
	enforced, appealed, appealDecided, closed                                  sql.NullInt64
	breaches                                                                   Breaches
}

// dayMs is a day in Unix milliseconds.
const dayMs = int64(24 * time.Hour / time.Millisecond)

// Metrics computes the figures of the cases q selects.
func (s *Store) Metrics(ctx context.Context, q Query) (*Metrics, error) {
	if q.To.IsZero() {
		q.To = time.Now()
	}
	if !q.From.Before(q.To) {
		return nil, invalid(fmt.Sprintf("the period's start %s is not before its end %s", q.From.Format(time.RFC3339), q.To.Format(time.RFC3339)))
	}
	// Restumbles look at the accounts' cases up to 90 days after the period. The rows are
	// read in parts of the period at once, one connection each (reading them is most of the
	// time the figures take).
	lo, hi := ms(q.From), ms(q.To)+90*dayMs
	parts := max(1, min(runtime.GOMAXPROCS(0), 4))
	results := make([][]caseFacts, parts)
	g, gctx := errgroup.WithContext(ctx)
	for i := range parts {
		from, to := lo+(hi-lo)*int64(i)/int64(parts), lo+(hi-lo)*int64(i+1)/int64(parts)
		g.Go(func() error {
			var err error
			results[i], err = s.caseFacts(gctx, from, to)
			return err
		})
	}
	var qa *QAFigures
	var messaging []IdentityFigures
	g.Go(func() error {
		var err error
		qa, err = s.QA(gctx, q)
		return err
	})
	g.Go(func() error {
		var err error
		messaging, err = s.Messaging(gctx, q)
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	m := compute(q, slices.Concat(results...))
	m.QA, m.Messaging = qa, messaging
	return m, nil
}

// caseFacts reads the case rows opened in [from, to) (Unix milliseconds).
func (s *Store) caseFacts(ctx context.Context, from, to int64) ([]caseFacts, error) {
	rows, err := s.db.QueryContext(ctx, s.Q(`SELECT account_id, category, track, tier, reporter, decided_by, outcome, appeal_decision,
			opened_ms, reports, notices, approvals_asked, approval_timeouts, appeals,
			first_notice_ms, first_reply_ms, approval_asked_ms, approval_decided_ms, enforced_ms, appealed_ms, appeal_decided_ms, closed_ms,
			triage_breaches, approval_breaches, appeal_breaches, legal_breaches, handoff_breaches, fixes_accepted, fixes_reopened, last_report_ms, relisted
		FROM cases WHERE opened_ms >= ? AND opened_ms < ?`), from, to)
	if err != nil {
		return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
	}
	defer rows.Close()
	var all []caseFacts
	for rows.Next() {
		var c caseFacts
		if err := rows.Scan(&c.account, &c.category, &c.track, &c.tier, &c.reporter, &c.decider, &c.outcome, &c.appealDecision,
			&c.opened, &c.reports, &c.notices, &c.approvalsAsked, &c.approvalTimeouts, &c.appeals,
			&c.firstNotice, &c.firstReply, &c.approvalAsked, &c.approvalDecided, &c.enforced, &c.appealed, &c.appealDecided, &c.closed,
			&c.breaches.Triage, &c.breaches.Approval, &c.breaches.Appeal, &c.breaches.Legal, &c.breaches.Handoff, &c.fixesAccepted, &c.fixesReopened, &c.lastReport, &c.relisted); err != nil {
			return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
		}
		all = append(all, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
	}
	return all, nil
}

// compute turns case rows into figures: all are cases opened from q.From to 90 days past q.To
// (the later ones only count as restumbles).
func compute(q Query, all []caseFacts) *Metrics {
	// Each account's case openings, sorted, for restumbles.
	opens := map[string][]int64{}
	for _, c := range all {
		opens[c.account] = append(opens[c.account], c.opened)
	}
	for _, o := range opens {
		slices.Sort(o)
	}
	m := &Metrics{From: q.From.UTC(), To: q.To.UTC()}
	groups := make([]map[string]*Figures, len(Groupings)) // by index in Groupings
	for i := range groups {
		groups[i] = map[string]*Figures{}
	}
	// Every week of the period shows, quiet ones too (up to two years of them); week is the
	// first grouping.
	if q.To.Sub(q.From) <= 2*366*24*time.Hour {
		for t := q.From; t.Before(q.To); t = t.Add(24 * time.Hour) {
			k := week(ms(t))
			if groups[0][k] == nil {
				groups[0][k] = &Figures{Key: k}
			}
		}
	}
	to := ms(q.To)
	weeks := map[int64]string{} // by day
	for i := range all {
		c := &all[i]
		if c.opened >= to || (q.Category != "" && c.category != q.Category) || (q.Track != "" && c.track != q.Track) || (q.Tier != "" && c.tier != q.Tier) ||
			slices.Contains(q.Hidden, c.category) {
			continue
		}
		r30, r90 := restumbles(c, opens[c.account])
		day := c.opened / dayMs
		wk, ok := weeks[day]
		if !ok {
			wk = week(c.opened)
			weeks[day] = wk
		}
		// In the order of Groupings.
		keys := [...]string{wk, c.category, cmp.Or(c.track, "unknown"), cmp.Or(c.tier, "unknown"),
			cmp.Or(c.reporter, "unknown"), cmp.Or(c.decider, "the desk (no person decided)")}
		m.Total.add(c, r30, r90)
		for gi, k := range keys {
			g := groups[gi]
			f := g[k]
			if f == nil {
				f = &Figures{Key: k}
				g[k] = f
			}
			f.add(c, r30, r90)
		}
	}
	m.Total.finish()
	m.By = map[string][]Figures{}
	for gi, g := range Groupings {
		var list []Figures
		for _, f := range groups[gi] {
			f.finish()
			list = append(list, *f)
		}
		if g == "week" {
			sort.Slice(list, func(i, j int) bool { return list[i].Key < list[j].Key })
		} else {
			sort.Slice(list, func(i, j int) bool {
				return list[i].Cases > list[j].Cases || list[i].Cases == list[j].Cases && list[i].Key < list[j].Key
			})
		}
		m.By[g] = list
	}
	return m
}

// restumbles says whether a case closed remediated or reinstated was followed, on its account,
// by a new case within 30 and within 90 days of its close.
func restumbles(c *caseFacts, opens []int64) (bool, bool) {
	if !fixed(c) {
		return false, false
	}
	i := sort.Search(len(opens), func(i int) bool { return opens[i] > c.closed.Int64 })
	if i == len(opens) {
		return false, false
	}
	next := opens[i] - c.closed.Int64
	return next <= 30*dayMs, next <= 90*dayMs
}

func fixed(c *caseFacts) bool {
	return c.closed.Valid && (c.outcome == string(workflows.OutcomeRemediated) || c.outcome == string(workflows.OutcomeReinstated))
}

func week(at int64) string {
	y, w := time.UnixMilli(at).UTC().ISOWeek()
	return fmt.Sprintf("%04d-W%02d", y, w)
}

func (f *Figures) add(c *caseFacts, r30, r90 bool) {
	f.Cases++
	f.Reports += c.reports
	f.Notices += c.notices
	if c.notices > 0 {
		f.Noticed++
	}
	if c.closed.Valid {
		f.Closed++
		if f.Outcomes == nil {
			f.Outcomes = map[string]int{}
		}
		f.Outcomes[c.outcome]++
	}
	if c.enforced.Valid {
		f.Enforced++
	}
	if c.appeals > 0 {
		f.Appealed++
	}
	if c.appealDecision == workflows.AppealGranted {
		f.Overturned++
	}
	if c.outcome == string(workflows.OutcomeReinstated) {
		f.Reinstated++
	}
	if fixed(c) {
		f.Fixed++
	}
	if r30 {
		f.Restumble30++
	}
	if r90 {
		f.Restumble90++
	}
	f.ApprovalsAsked += c.approvalsAsked
	f.ApprovalTimeouts += c.approvalTimeouts
	f.FixesAccepted += c.fixesAccepted
	f.FixesReopened += c.fixesReopened
	f.Relisted += c.relisted
	f.Breaches.Triage += c.breaches.Triage
	f.Breaches.Approval += c.breaches.Approval
	f.Breaches.Appeal += c.breaches.Appeal
	f.Breaches.Legal += c.breaches.Legal
	f.Breaches.Handoff += c.breaches.Handoff
	span := func(i int, from int64, fromOK bool, to sql.NullInt64) {
		if fromOK && to.Valid && to.Int64 >= from {
			f.times[i] = append(f.times[i], time.Duration(to.Int64-from)*time.Millisecond)
		}
	}
	span(0, c.opened, true, c.firstNotice)
	span(1, c.firstNotice.Int64, c.firstNotice.Valid, c.firstReply)
	span(2, c.opened, true, c.enforced)
	span(3, c.appealed.Int64, c.appealed.Valid, c.appealDecided)
	span(4, c.approvalAsked.Int64, c.approvalAsked.Valid, c.approvalDecided)
	if c.category == string(abuse.Blocklist) && c.outcome == string(workflows.OutcomeQuiet) {
		span(5, c.opened, true, c.lastReport)
	}
}

func (f *Figures) finish() {
	if f.Outcomes == nil {
		f.Outcomes = map[string]int{}
	}
	f.EnforcementRate = rate(f.Enforced, f.Cases)
	f.OverturnRate = rate(f.Overturned, f.Appealed)
	f.ReinstatementRate = rate(f.Reinstated, f.Enforced)
	f.RestumbleRate = rate(f.Restumble30, f.Fixed)
	f.Restumble90R = rate(f.Restumble90, f.Fixed)
	f.FixReopenRate = rate(f.FixesReopened, f.FixesAccepted)
	for i, q := range []*Quantiles{&f.TimeToNotice, &f.TimeToReply, &f.TimeToAction, &f.TimeToAppealDecision, &f.ApprovalWait, &f.TimeToDelist} {
		*q = QuantilesOf(f.times[i])
	}
	f.times = [6][]time.Duration{}
}

func rate(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

// QuantilesOf is the median and 90th percentile of d (sorted in place; the nearest rank).
func QuantilesOf(d []time.Duration) Quantiles {
	if len(d) == 0 {
		return Quantiles{}
	}
	slices.Sort(d)
	at := func(p float64) Duration {
		i := int(p*float64(len(d))+0.999999) - 1
		return Duration(d[max(0, min(i, len(d)-1))])
	}
	return Quantiles{N: len(d), P50: at(0.5), P90: at(0.9)}
}
