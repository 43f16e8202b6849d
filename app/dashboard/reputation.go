package dashboard

import (
	"fmt"
	"html/template"
	"math"
	"net/http"
	"time"

	"abusedesk/app/ledger"
	"abusedesk/platform/httpx"

	"github.com/go-analyze/charts"
)

// The reputation page (/reputation) and its JSON (/api/v1/reputation): how the provider's own
// networks fare — what the reports named in each per 1,000 addresses, what the blocklist watch
// found listed, the worst ranges and accounts, and new listings per day — so a lead sees at a
// glance where the network's name is being spent. Legal matters never count.

// reputationPeriod is how far back the page looks without a from date.
const reputationPeriod = 30 * 24 * time.Hour

func (d *Dashboard) reputationQuery(r *http.Request) (ledger.ReputationQuery, error) {
	v := r.URL.Query()
	if v.Get("from") == "" {
		v.Set("from", time.Now().UTC().Add(-reputationPeriod).Format(time.DateOnly))
	}
	mq, err := metricsQuery(v, time.Now())
	q := ledger.ReputationQuery{From: mq.From, To: mq.To}
	if d.opts.Networks != nil {
		q.Networks = d.opts.Networks()
	}
	return q, err
}

// reputationJSON answers GET /api/v1/reputation with the figures the page shows.
func (d *Dashboard) reputationJSON(w http.ResponseWriter, r *http.Request) {
	q, err := d.reputationQuery(r)
	if err != nil {
		httpx.Problem(w, http.StatusBadRequest, err.Error())
		return
	}
	rep, err := d.opts.Reputation(r.Context(), q)
	if err != nil {
		d.log.Error("reputation", "error", err)
		httpx.Problem(w, http.StatusInternalServerError, "the ledger could not be read: "+err.Error())
		return
	}
	httpx.WriteJSON(w, http.StatusOK, rep)
}

// reputationPage renders /reputation.
func (d *Dashboard) reputationPage(w http.ResponseWriter, r *http.Request) {
	q, qerr := d.reputationQuery(r)
	data := struct {
		Title, Home, Flash string
		Error              string
		From, ToDay        string
		R                  *ledger.Reputation
		Chart              template.HTML
		JSON               string
	}{Title: "Reputation", Home: d.home(), Flash: flashOf(r), From: q.From.Format(time.DateOnly), ToDay: q.To.Add(-time.Nanosecond).Format(time.DateOnly)}
	if qerr != nil {
		data.Error = qerr.Error()
		w.WriteHeader(http.StatusBadRequest)
		d.render(w, "reputation.html", data)
		return
	}
	data.JSON = "/api/v1/reputation?from=" + data.From + "&to=" + data.ToDay
	rep, err := d.opts.Reputation(r.Context(), q)
	if err != nil {
		d.log.Error("reputation", "error", err)
		data.Error = "The ledger could not be read: " + err.Error()
		w.WriteHeader(http.StatusInternalServerError)
		d.render(w, "reputation.html", data)
		return
	}
	data.R = rep
	var labels []string
	var counts []float64
	for _, day := range rep.ListingsByDay {
		labels = append(labels, day.Day[5:])
		counts = append(counts, float64(day.Count))
	}
	if len(counts) > 0 {
		svg, err := countBars(fmt.Sprintf("Addresses newly listed per day, %s to %s", data.From, data.ToDay), labels, "listed", counts)
		if err != nil {
			d.log.Warn("the reputation chart could not be drawn; the page goes without it", "error", err)
		} else {
			data.Chart = template.HTML(svg) //nolint:gosec // SVG the chart library drew from numbers and dates
		}
	}
	d.render(w, "reputation.html", data)
}

// countBars draws whole counts per day: the value axis in whole steps (0 to a multiple of 4),
// and at most seven day labels, so they neither collide nor read as fractions.
func countBars(title string, labels []string, name string, counts []float64) ([]byte, error) {
	top := 4.0
	for _, c := range counts {
		top = max(top, math.Ceil(c/4)*4)
	}
	return bars(title, labels, []string{name}, [][]float64{counts}, false, func(opt *charts.BarChartOption) {
		opt.CategoryAxis.LabelCount = min(7, len(labels))
		opt.ValueAxis[0].Min, opt.ValueAxis[0].Max, opt.ValueAxis[0].LabelCount = charts.Ptr(0.0), charts.Ptr(top), 5
		opt.ValueAxis[0].PreferNiceIntervals = charts.Ptr(false)
	})
}
