package dashboard

import (
	"context"
	"net/http"
	"slices"
	"time"

	"abusedesk/app/intake"
	"abusedesk/app/ledger"
)

// intakePeriod is how far back the intake page lists hand-overs.
const intakePeriod = 7 * 24 * time.Hour

// intakePage (/intake) lists the messages intake did not give to a case in the last week:
// handed to a person on a triage ticket (with why), or answered "not ours".
func (d *Dashboard) intakePage(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	data := struct {
		Title, Home, Flash, Err            string
		Items                              []ledger.HandOver
		Triage, NotOurs, Noted, Operations int
	}{Title: "Handed to people", Home: d.home(), Flash: flashOf(r)}
	items, err := d.opts.Ledger.HandOvers(ctx, time.Now().Add(-intakePeriod), 500)
	if err != nil {
		d.log.Error("intake page", "error", err)
		data.Err = "the hand-overs could not be read: " + err.Error()
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	if !d.seesLegal(r) {
		items = slices.DeleteFunc(items, func(h ledger.HandOver) bool { return h.Legal })
	}
	data.Items = items
	for _, h := range items {
		switch h.Kind {
		case intake.HandOverTriage:
			data.Triage++
		case intake.HandOverNoted:
			data.Noted++
		case intake.HandOverOperations:
			data.Operations++
		default:
			data.NotOurs++
		}
	}
	d.render(w, "intake.html", data)
}
