package dashboard

import (
	"context"
	"net/http"
	"slices"
	"time"

	"abusedesk/app/cases"
	"abusedesk/app/ledger"
	"abusedesk/domain/abuse"
	"abusedesk/workflows"
)

// accountPage (/accounts/{id}) is one customer account: who it is, every incident (newest
// first) and every action taken on it — enforcements, lifts, appeal decisions — from the ledger.
func (d *Dashboard) accountPage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	data := struct {
		Title, Home, Flash string
		Errors             []string
		ID                 string
		Account            *abuse.Account
		Incidents          []cases.Summary
		Actions            []ledger.Event
		Bulk               []workflows.BulkState
	}{Title: "Account " + id, Home: d.home(), Flash: flashOf(r), ID: id}
	var err error
	if data.Incidents, err = d.opts.Cases.History(ctx, id); err != nil {
		data.Errors = append(data.Errors, "incidents: "+err.Error())
	}
	data.Incidents = d.visible(r, data.Incidents)
	// Who the customer is, as the newest incident that loaded the account knows it (a case
	// waiting for triage, or one whose look-up failed, has not: its zero count is no count).
	for i, inc := range data.Incidents {
		if i == 5 {
			break
		}
		run := inc.RunID
		if inc.Running {
			run = ""
		}
		if v, err := d.opts.Cases.StatusRun(ctx, inc.CaseID, run); err == nil && v.Account.ID != "" {
			data.Account = &v.Account
			break
		}
	}
	if d.opts.Ledger != nil {
		if data.Actions, err = d.opts.Ledger.AccountEvents(ctx, id, 200, workflows.LedgerEnforced, workflows.LedgerLifted,
			workflows.LedgerAppealDecided, workflows.LedgerApprovalDecided, workflows.LedgerClosed); err != nil {
			data.Errors = append(data.Errors, "actions: "+err.Error())
		}
		if !d.seesLegal(r) {
			data.Actions = slices.DeleteFunc(data.Actions, func(e ledger.Event) bool { return onLegalTrack(e.Category) })
		}
		if data.Bulk, err = d.opts.Ledger.BulkActions(ctx, time.Time{}, id); err != nil {
			data.Errors = append(data.Errors, "bulk actions: "+err.Error())
		}
	}
	status := http.StatusOK
	switch {
	case len(data.Errors) > 0:
		d.log.Error("account page", "account", id, "errors", data.Errors)
		status = http.StatusServiceUnavailable
	case len(data.Incidents) == 0 && len(data.Actions) == 0 && len(data.Bulk) == 0:
		status = http.StatusNotFound
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	d.render(w, "account.html", data)
}
