package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"time"

	"abusedesk/app/dashboard"
	"abusedesk/app/ledger"
	"abusedesk/domain/abuse"
	"abusedesk/workflows"
)

// benchMetrics fills a SQLite ledger with LedgerCases synthetic cases over a year (opened,
// reports, notice, and for some a reply, an approval, an enforcement, an appeal, breaches, a
// close) and times the operations figures over all of them: computed (Store.Metrics) and as
// the page a lead opens (/operations, charts included). The baseline, in the same run, is
// reading every case row without computing anything.
func benchMetrics(ctx context.Context, o *Options, r *Report) error {
	n := o.LedgerCases
	r.Params["ledger_cases"] = n
	dir := filepath.Join(o.DataDir, "metrics")
	store, err := ledger.Open(ctx, filepath.Join(dir, "ledger.db"))
	if err != nil {
		return err
	}
	defer store.Close()
	start := time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)
	have, _, err := store.Counts(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Log, "filling the ledger with %d cases\n", n)
	filled := time.Now()
	cats := []abuse.Category{abuse.Spam, abuse.Phishing, abuse.Malware, abuse.BruteForce, abuse.Copyright}
	for i := range n {
		if have > 0 {
			break // filled by an earlier run on this data dir
		}
		if err := store.Record(ctx, syntheticCase(i, start, cats[i%len(cats)])); err != nil {
			return err
		}
	}
	events, cases, err := store.Counts(ctx)
	if err != nil {
		return err
	}
	if cases < n {
		return fmt.Errorf("the ledger holds %d cases, want %d (remove %s)", cases, n, dir)
	}
	r.add("ledger: cases", float64(cases), "cases")
	r.add("ledger: events", float64(events), "events")
	if have == 0 {
		r.add("ledger: cases appended per second (one at a time)", float64(n)/time.Since(filled).Seconds(), "cases/s")
	}

	q := ledger.Query{From: start, To: start.Add(366 * 24 * time.Hour)}
	scan := median(5, func() error {
		rows, err := store.DB().QueryContext(ctx, `SELECT * FROM cases`)
		if err != nil {
			return err
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	compute := median(5, func() error {
		m, err := store.Metrics(ctx, q)
		if err == nil && m.Total.Cases != n {
			err = fmt.Errorf("the figures count %d cases, want %d", m.Total.Cases, n)
		}
		return err
	})
	d, err := dashboard.New(dashboard.Options{Metrics: store.Metrics})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	d.Routes(func(p string, h http.Handler) { mux.Handle(p, h) })
	get := func(path string) timed {
		return median(5, func() error {
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil).WithContext(ctx))
			if rec.Code != http.StatusOK {
				return fmt.Errorf("%s answered %d", path, rec.Code)
			}
			return nil
		})
	}
	// What a lead opens: the page's default period (its last twelve weeks), and the whole year.
	end := start.Add(365 * 24 * time.Hour)
	from := end.Add(-12 * 7 * 24 * time.Hour)
	page := get("/operations?from=" + from.Format(time.DateOnly) + "&to=" + end.Add(-24*time.Hour).Format(time.DateOnly))
	year := get("/operations?from=2025-12-01&to=2026-12-01")
	for _, m := range []timed{scan, compute, page, year} {
		if m.err != nil {
			return m.err
		}
	}
	recent, err := store.Metrics(ctx, ledger.Query{From: from, To: end})
	if err != nil {
		return err
	}
	r.note("the default period (twelve weeks) holds %d of the %d cases", recent.Total.Cases, n)
	r.add("baseline: read every case row, median of 5", scan.d.Seconds(), "s")
	r.add("figures over every case computed, median of 5", compute.d.Seconds(), "s")
	r.atMost("the operations page, default period, median of 5", page.d.Seconds(), "s", 0.5)
	r.add("the operations page over every case, median of 5", year.d.Seconds(), "s")
	r.add("the page over every case ÷ reading the rows", year.d.Seconds()/scan.d.Seconds(), "×")
	return nil
}

type timed struct {
	d   time.Duration
	err error
}

// median runs f k times and returns the median time (or the first error).
func median(k int, f func() error) timed {
	var ds []time.Duration
	for range k {
		t := time.Now()
		if err := f(); err != nil {
			return timed{err: err}
		}
		ds = append(ds, time.Since(t))
	}
	return timed{d: percentile(sortedDurations(ds), 50)}
}

// syntheticCase is case i of the metrics bench: opened on a day of the year, noticed within an
// hour; every third answered, every fifth enforced after approval, a third of those appealed
// (half granted), every seventh past a triage SLA; most closed.
func syntheticCase(i int, start time.Time, cat abuse.Category) workflows.RecordEventsInput {
	opened := start.Add(time.Duration(i%365)*24*time.Hour + time.Duration(i%1440)*time.Minute)
	c := workflows.LedgerCase{Number: fmt.Sprintf("TS-B%07d", i), ID: fmt.Sprintf("case/acct-%d/%s", i%20000, cat),
		Account: fmt.Sprintf("acct-%d", i%20000), Category: cat, Track: cat.Track(), Rules: "standard", Tier: []string{"standard", "business", "strategic"}[i%3], OpenedAt: opened}
	var evs []workflows.LedgerEvent
	add := func(d time.Duration, e workflows.LedgerEvent) {
		e.Key, e.At = fmt.Sprint(len(evs)+1), opened.Add(d)
		evs = append(evs, e)
	}
	h := time.Hour
	add(0, workflows.LedgerEvent{Kind: workflows.LedgerOpened})
	add(0, workflows.LedgerEvent{Kind: workflows.LedgerReports, Count: 1 + i%7, Reporters: []string{fmt.Sprintf("reporter%d@feeds.example", i%40)}})
	add(time.Duration(i%60)*time.Minute, workflows.LedgerEvent{Kind: workflows.LedgerNoticed, Decision: "violation"})
	outcome := workflows.OutcomeResolved
	switch {
	case i%3 == 0:
		add(time.Duration(1+i%48)*h, workflows.LedgerEvent{Kind: workflows.LedgerReplied})
		add(50*h, workflows.LedgerEvent{Kind: workflows.LedgerAgentDecision, Decision: "accept_remediation", Actor: fmt.Sprintf("agent%d@desk.example", i%12)})
		outcome = workflows.OutcomeRemediated
	case i%5 == 0:
		add(72*h, workflows.LedgerEvent{Kind: workflows.LedgerEscalated})
		add(72*h, workflows.LedgerEvent{Kind: workflows.LedgerApprovalAsked})
		add(time.Duration(73+i%10)*h, workflows.LedgerEvent{Kind: workflows.LedgerApprovalDecided, Decision: "approve", Actor: fmt.Sprintf("lead%d@desk.example", i%4)})
		add(83*h, workflows.LedgerEvent{Kind: workflows.LedgerEnforced, Decision: "throttle"})
		outcome = workflows.OutcomeEnforced
		if i%15 == 0 {
			add(90*h, workflows.LedgerEvent{Kind: workflows.LedgerAppealed})
			grant := i%30 == 0
			decision, o := workflows.AppealDenied, workflows.OutcomeUpheld
			if grant {
				decision, o = workflows.AppealGranted, workflows.OutcomeReinstated
			}
			add(time.Duration(92+i%60)*h, workflows.LedgerEvent{Kind: workflows.LedgerAppealDecided, Decision: decision, Actor: fmt.Sprintf("reviewer%d@desk.example", i%3)})
			outcome = o
		}
	case i%7 == 0:
		add(24*h, workflows.LedgerEvent{Kind: workflows.LedgerSLABreached, Decision: workflows.SLATriage})
	}
	if i%10 != 9 {
		add(200*h, workflows.LedgerEvent{Kind: workflows.LedgerClosed, Outcome: outcome})
	}
	return workflows.RecordEventsInput{Case: c, Events: evs}
}
