package dashboard

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"abusedesk/app/cases"
	"abusedesk/platform/httpx"
	"abusedesk/workflows"
)

// The legal team's own view (/legal, /api/v1/legal): the open legal matters by their next
// clock — the answer an authority waits for, or a preservation about to lapse — with where each
// stands. For the legal role only; anyone else is answered as if there were no such page.

// Matter is one open legal matter as the legal team plans its day.
type Matter struct {
	CaseNumber string `json:"case_number"`
	Account    string `json:"account"`
	Category   string `json:"category"`
	// Authority is who sent the first request; Kind what the latest asks.
	Authority string               `json:"authority,omitempty"`
	Kind      string               `json:"kind,omitempty"`
	Stage     workflows.LegalStage `json:"stage,omitempty"`
	Requests  int                  `json:"requests"`
	// Disclosures counts the productions made; Receipts the acknowledgements sent.
	Disclosures int `json:"disclosures,omitempty"`
	Receipts    int `json:"receipts,omitempty"`
	// AnswerDue is when the latest request must be answered (zero once it is); StatedDue the
	// deadline the request itself states.
	AnswerDue time.Time `json:"answer_due,omitzero"`
	StatedDue time.Time `json:"stated_due,omitzero"`
	// PreservedUntil is when a running preservation lapses (zero: none runs); Extensions how
	// often it was extended.
	PreservedUntil time.Time `json:"preserved_until,omitzero"`
	Extensions     int       `json:"extensions,omitempty"`
	// HotlineDue is when a CSAM notice's report to the hotline is due (zero: none due, or
	// made); HotlineReported when it was made.
	HotlineDue      time.Time `json:"hotline_due,omitzero"`
	HotlineReported time.Time `json:"hotline_reported,omitzero"`
	// Next is the sooner of the two clocks and NextWhat which; Overdue and Soon where it stands.
	Next     time.Time `json:"next,omitzero"`
	NextWhat string    `json:"next_what,omitempty"`
	Overdue  bool      `json:"overdue,omitempty"`
	Soon     bool      `json:"soon,omitempty"`
	Since    time.Time `json:"since"`
	// Err says the matter's details could not be read (the row then shows what visibility
	// knows).
	Err string `json:"error,omitempty"`
}

// soonPreservation is how close a preservation's end counts as about to lapse: long enough to
// ask the authority whether it wants an extension.
const soonPreservation = 7 * 24 * time.Hour

// Matters lists the open legal matters at now, the soonest clock first, matters with no clock
// after (oldest first).
func (d *Dashboard) Matters(ctx context.Context, now time.Time) ([]Matter, error) {
	query := cases.And("ExecutionStatus = 'Running'", cases.Confidential())
	var out []Matter
	var token []byte
	for range 10 { // at most 10,000 open matters
		list, next, err := d.opts.Cases.List(ctx, query, 1000, token)
		if err != nil {
			return nil, err
		}
		for _, s := range list {
			out = append(out, d.matter(ctx, s, now))
		}
		if token = next; len(token) == 0 {
			break
		}
	}
	slices.SortStableFunc(out, func(a, b Matter) int {
		if a.Next.IsZero() != b.Next.IsZero() {
			if a.Next.IsZero() {
				return 1
			}
			return -1
		}
		return cmp.Or(a.Next.Compare(b.Next), a.Since.Compare(b.Since), strings.Compare(a.CaseNumber, b.CaseNumber))
	})
	return out, nil
}

// matter reads one matter's state; a matter whose state cannot be read is listed with what
// visibility knows and why.
func (d *Dashboard) matter(ctx context.Context, s cases.Summary, now time.Time) Matter {
	m := Matter{CaseNumber: s.CaseNumber, Account: s.Account, Category: s.Category, Since: s.StartedAt, Next: s.Deadline, NextWhat: "the legal decision"}
	v, err := d.opts.Cases.Status(ctx, s.CaseID)
	if err != nil || v.Legal == nil {
		if err == nil {
			err = errNoLegalState
		}
		d.log.Warn("legal view: matter not read", "case", s.CaseNumber, "error", err)
		m.Err = "its details could not be read now: " + err.Error()
	} else {
		l := v.Legal
		m.Kind, m.Stage, m.Requests, m.Disclosures, m.Receipts, m.StatedDue = l.Kind, l.Stage, max(l.Requests, 1), l.Disclosures, l.ReceiptsSent, l.StatedDue
		if len(v.Reports.Reporters) > 0 {
			m.Authority = v.Reports.Reporters[0]
		}
		if !l.Lifecycle || !l.Answered {
			m.AnswerDue = l.Due
		}
		if p := l.Preservation; p.Running() {
			m.PreservedUntil, m.Extensions = p.Until, p.Extensions
		}
		if h := l.Hotline; h != nil {
			if h.ReportedAt.IsZero() {
				m.HotlineDue = h.Due
			}
			m.HotlineReported = h.ReportedAt
		}
		m.Next, m.NextWhat = time.Time{}, ""
		if !m.AnswerDue.IsZero() {
			m.Next, m.NextWhat = m.AnswerDue, "the answer to the authority"
		}
		if !m.PreservedUntil.IsZero() && (m.Next.IsZero() || m.PreservedUntil.Before(m.Next)) {
			m.Next, m.NextWhat = m.PreservedUntil, "the preservation lapses"
		}
		if !m.HotlineDue.IsZero() && (m.Next.IsZero() || m.HotlineDue.Before(m.Next)) {
			m.Next, m.NextWhat = m.HotlineDue, "the report to the hotline"
		}
	}
	if !m.Next.IsZero() {
		window := soon
		if m.NextWhat == "the preservation lapses" {
			window = soonPreservation
		}
		m.Overdue, m.Soon = now.After(m.Next), !now.After(m.Next) && m.Next.Sub(now) <= window
	}
	return m
}

// errNoLegalState: a legal-track case that keeps no legal state (yet: it opens its ticket first).
var errNoLegalState = errors.New("the case keeps no legal state yet")

// legalPage serves /legal to the legal role; to anyone else it reads as a page that is not.
func (d *Dashboard) legalPage(w http.ResponseWriter, r *http.Request) {
	if !d.seesLegal(r) {
		http.NotFound(w, r)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	now := time.Now()
	matters, err := d.Matters(ctx, now)
	data := struct {
		Title, Home, Flash, Err string
		Matters                 []Matter
		Overdue, Soon, Kept     int
		Now                     time.Time
	}{Title: "Legal matters", Home: d.home(), Flash: flashOf(r), Matters: matters, Now: now}
	if err != nil {
		data.Err = "the legal matters could not be read: " + err.Error()
		d.log.Error("legal view", "error", err)
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	for _, m := range matters {
		switch {
		case m.Overdue:
			data.Overdue++
		case m.Soon:
			data.Soon++
		}
		if !m.PreservedUntil.IsZero() {
			data.Kept++
		}
	}
	d.render(w, "legal.html", data)
}

// legalJSON answers GET /api/v1/legal with the same list, for the legal role only.
func (d *Dashboard) legalJSON(w http.ResponseWriter, r *http.Request) {
	if !d.seesLegal(r) {
		http.NotFound(w, r)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	matters, err := d.Matters(ctx, time.Now())
	if err != nil {
		d.log.Error("legal view", "error", err)
		httpx.Problem(w, http.StatusServiceUnavailable, "the legal matters could not be read: "+err.Error())
		return
	}
	if matters == nil {
		matters = []Matter{}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"matters": matters})
}
