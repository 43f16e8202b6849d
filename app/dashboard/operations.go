package dashboard

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-analyze/charts"

	"abusedesk/app/ledger"
	"abusedesk/domain/abuse"
	"abusedesk/platform/httpx"
)

// The operations page (/operations) and its JSON (/api/v1/metrics): the figures a lead runs the
// desk with, from the case ledger, with charts rendered here as SVG (no script, no CDN: the
// page works offline).

// MetricsFunc computes the operations figures (ledger.Store.Metrics).
type MetricsFunc func(ctx context.Context, q ledger.Query) (*ledger.Metrics, error)

// defaultPeriod is how far back the page looks without a from date.
const defaultPeriod = 12 * 7 * 24 * time.Hour

// metricsQuery reads from, to (dates, to inclusive), category, track and tier.
func metricsQuery(v url.Values, now time.Time) (ledger.Query, error) {
	q := ledger.Query{To: now.UTC(), Category: v.Get("category"), Track: v.Get("track"), Tier: v.Get("tier")}
	day := func(name string) (time.Time, bool, error) {
		s := strings.TrimSpace(v.Get(name))
		if s == "" {
			return time.Time{}, false, nil
		}
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return time.Time{}, false, fmt.Errorf("%s: %q is not a date like 2026-11-02", name, s)
		}
		return t, true, nil
	}
	to, set, err := day("to")
	if err != nil {
		return q, err
	}
	if set {
		q.To = to.Add(24 * time.Hour)
	}
	from, set, err := day("from")
	if err != nil {
		return q, err
	}
	q.From = q.To.Add(-defaultPeriod).Truncate(24 * time.Hour)
	if set {
		q.From = from
	}
	if q.Category != "" && !abuse.Category(q.Category).Valid() {
		return q, fmt.Errorf("category: %q is not a category", q.Category)
	}
	if !q.From.Before(q.To) {
		return q, fmt.Errorf("from %s is not before to %s", q.From.Format(time.DateOnly), q.To.Add(-time.Nanosecond).Format(time.DateOnly))
	}
	return q, nil
}

// metricsJSON answers GET /api/v1/metrics with the figures the page shows.
func (d *Dashboard) metricsJSON(w http.ResponseWriter, r *http.Request) {
	q, err := metricsQuery(r.URL.Query(), time.Now())
	if err != nil {
		httpx.Problem(w, http.StatusBadRequest, err.Error())
		return
	}
	q.Hidden = d.hiddenCategories(r)
	m, err := d.opts.Metrics(r.Context(), q)
	if err != nil {
		d.log.Error("metrics", "error", err)
		httpx.Problem(w, http.StatusInternalServerError, "the ledger could not be read: "+err.Error())
		return
	}
	httpx.WriteJSON(w, http.StatusOK, m)
}

// operationsPage renders /operations.
func (d *Dashboard) operationsPage(w http.ResponseWriter, r *http.Request) {
	q, qerr := metricsQuery(r.URL.Query(), time.Now())
	q.Hidden = d.hiddenCategories(r)
	tracks := abuse.Tracks
	if len(q.Hidden) > 0 {
		tracks = slices.DeleteFunc(slices.Clone(tracks), func(t abuse.Track) bool { return t.Confidential() })
	}
	data := struct {
		Title, Home, Flash string
		Error              string
		Q                  ledger.Query
		ToDay              string
		M                  *ledger.Metrics
		Charts             []template.HTML
		Breakdowns         []breakdown
		Categories         []abuse.Category
		Tracks             []abuse.Track
		Tiers              []string
		JSON               string
	}{Title: "Operations", Home: d.home(), Flash: flashOf(r), Q: q, Categories: d.visibleCategories(r),
		Tracks: tracks, Tiers: []string{abuse.TierStandard, "business", abuse.TierStrategic}}
	data.ToDay = q.To.Add(-time.Nanosecond).Format(time.DateOnly)
	if qerr != nil {
		data.Error = qerr.Error()
		w.WriteHeader(http.StatusBadRequest)
		d.render(w, "operations.html", data)
		return
	}
	data.JSON = "/api/v1/metrics"
	if enc := r.URL.Query().Encode(); enc != "" {
		data.JSON += "?" + enc
	}
	m, err := d.opts.Metrics(r.Context(), q)
	if err != nil {
		d.log.Error("metrics", "error", err)
		data.Error = "The ledger could not be read: " + err.Error()
		w.WriteHeader(http.StatusInternalServerError)
		d.render(w, "operations.html", data)
		return
	}
	data.M = m
	data.Charts = weeklyCharts(m.By["week"], d.log.Warn)
	for _, g := range []struct{ key, title string }{{"category", "By category"}, {"track", "By track"}, {"tier", "By tier"}, {"decider", "By decider (who made the last decision)"}, {"reporter", "By reporter (a case's first)"}} {
		rows := m.By[g.key]
		more := 0
		if len(rows) > 20 {
			more, rows = len(rows)-20, rows[:20]
		}
		data.Breakdowns = append(data.Breakdowns, breakdown{Title: g.title, Rows: rows, More: more})
	}
	d.render(w, "operations.html", data)
}

type breakdown struct {
	Title string
	Rows  []ledger.Figures
	More  int
}

// weeklyCharts draws the weekly series: cases and enforcements, time to notice and to action,
// SLA breaches by SLA. A chart that fails to draw is left out (and logged).
func weeklyCharts(weeks []ledger.Figures, warn func(string, ...any)) []template.HTML {
	if len(weeks) == 0 {
		return nil
	}
	labels := make([]string, len(weeks))
	series := func(f func(ledger.Figures) float64) []float64 {
		out := make([]float64, len(weeks))
		for i, w := range weeks {
			out[i] = f(w)
		}
		return out
	}
	// "W45" when the weeks are of one year; "2026-W45" otherwise.
	oneYear := weeks[0].Key[:4] == weeks[len(weeks)-1].Key[:4]
	for i, w := range weeks {
		labels[i] = w.Key
		if oneYear {
			_, labels[i], _ = strings.Cut(w.Key, "-")
		}
	}
	// Times in hours, or in minutes when every median is under two hours.
	unit, unitName := time.Hour, "hours"
	short := true
	for _, w := range weeks {
		for _, q := range []ledger.Quantiles{w.TimeToNotice, w.TimeToAction, w.TimeToAppealDecision} {
			short = short && time.Duration(q.P50) < 2*time.Hour
		}
	}
	if short {
		unit, unitName = time.Minute, "minutes"
	}
	hours := func(q ledger.Quantiles) float64 { return float64(time.Duration(q.P50)) / float64(unit) }
	var out []template.HTML
	add := func(svg []byte, err error) {
		if err != nil {
			warn("chart not drawn", "error", err)
			return
		}
		out = append(out, template.HTML(svg)) //nolint:gosec // drawn here from numbers and week labels
	}
	add(bars("Cases, noticed and enforced per week", labels, []string{"cases", "noticed", "enforced"}, [][]float64{
		series(func(f ledger.Figures) float64 { return float64(f.Cases) }),
		series(func(f ledger.Figures) float64 { return float64(f.Noticed) }),
		series(func(f ledger.Figures) float64 { return float64(f.Enforced) }),
	}, false))
	add(lines("Median "+unitName+", by week opened", labels, []string{"to notice", "to action", "to appeal decision"}, [][]float64{
		series(func(f ledger.Figures) float64 { return hours(f.TimeToNotice) }),
		series(func(f ledger.Figures) float64 { return hours(f.TimeToAction) }),
		series(func(f ledger.Figures) float64 { return hours(f.TimeToAppealDecision) }),
	}))
	add(bars("SLA breaches per week", labels, []string{"triage", "approval", "appeal", "legal", "hand-off"}, [][]float64{
		series(func(f ledger.Figures) float64 { return float64(f.Breaches.Triage) }),
		series(func(f ledger.Figures) float64 { return float64(f.Breaches.Approval) }),
		series(func(f ledger.Figures) float64 { return float64(f.Breaches.Appeal) }),
		series(func(f ledger.Figures) float64 { return float64(f.Breaches.Legal) }),
		series(func(f ledger.Figures) float64 { return float64(f.Breaches.Handoff) }),
	}, true))
	return out
}

func painter() *charts.Painter {
	return charts.NewPainter(charts.PainterOptions{OutputFormat: charts.ChartOutputSVG, Width: 880, Height: 300})
}

// bars draws a bar chart; tune, when given, adjusts its options before it is drawn.
func bars(title string, labels, names []string, values [][]float64, stack bool, tune ...func(*charts.BarChartOption)) ([]byte, error) {
	opt := charts.NewBarChartOptionWithData(values)
	opt.Title.Text = title
	opt.CategoryAxis.Labels = labels
	opt.Legend.SeriesNames = names
	opt.Legend.Offset = charts.OffsetRight
	if stack {
		opt.StackSeries = charts.Ptr(true)
	}
	for _, f := range tune {
		f(&opt)
	}
	p := painter()
	if err := p.BarChart(opt); err != nil {
		return nil, err
	}
	return svgOf(p)
}

func lines(title string, labels, names []string, values [][]float64) ([]byte, error) {
	opt := charts.NewLineChartOptionWithData(values)
	opt.Title.Text = title
	opt.XAxis.Labels = labels
	opt.Legend.SeriesNames = names
	opt.Legend.Offset = charts.OffsetRight
	opt.ValueFormatter = axisNumber
	p := painter()
	if err := p.LineChart(opt); err != nil {
		return nil, err
	}
	return svgOf(p)
}

func svgOf(p *charts.Painter) ([]byte, error) {
	b, err := p.Bytes()
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(bytes.TrimSpace(b), []byte("<svg")) {
		return nil, fmt.Errorf("the chart library wrote %q, not SVG", b[:min(len(b), 20)])
	}
	return b, nil
}

// axisNumber writes an axis value with the precision its size needs: 120, 12.5, 1.25, 0.2.
func axisNumber(f float64) string {
	prec := 2
	switch a := math.Abs(f); {
	case a >= 100:
		prec = 0
	case a >= 10:
		prec = 1
	}
	s := strconv.FormatFloat(f, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
