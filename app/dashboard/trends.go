package dashboard

import (
	"net/http"
	"time"

	"abusedesk/app/ledger"
	"abusedesk/domain/abuse"
	"abusedesk/domain/policy"
	"abusedesk/workflows"
)

// Trends is what the trends page (/trends) reads: spikes now, the alerts sent, and accounts
// linked by what their reports share.
type Trends struct {
	Store *ledger.Store
	Rules ledger.TrendRules
}

// clusterPeriod is how far back the page links accounts; alertPeriod how far back it lists
// the alerts sent.
const (
	clusterPeriod = 30 * 24 * time.Hour
	alertPeriod   = 7 * 24 * time.Hour
)

func (d *Dashboard) trendsPage(w http.ResponseWriter, r *http.Request) {
	t := d.opts.Trends
	now := time.Now()
	data := struct {
		Title, Home, Flash string
		Errors             []string
		Rules              ledger.TrendRules
		Window, Baseline   ledger.Duration
		Spikes, Alerted    []ledger.Spike
		Clusters           []ledger.Cluster
		NewAccounts        []ledger.NewAccount
		NewAge             policy.Duration
		// CanPropose offers the bulk action's form on each cluster (a signed-in lead);
		// SignInOff says why it is not (the dashboard signs nobody in).
		CanPropose, SignInOff bool
		ActionTypes           []bulkActionType
		BulkActions           []workflows.BulkState
	}{CanPropose: d.canProposeBulk(r), SignInOff: d.opts.Bulk != nil && d.opts.SignIn == nil, ActionTypes: bulkActionTypes, NewAge: policy.Duration(abuse.NewAccountAge), Title: "Trends", Home: d.home(), Flash: flashOf(r), Rules: t.Rules, Window: ledger.Duration(t.Rules.Window), Baseline: ledger.Duration(t.Rules.Baseline)}
	var err error
	if data.Spikes, err = t.Store.Spikes(r.Context(), now, t.Rules, d.hiddenCategories(r)...); err != nil {
		data.Errors = append(data.Errors, "spikes: "+err.Error())
	}
	if data.Alerted, err = t.Store.Alerted(r.Context(), now.Add(-alertPeriod)); err != nil {
		data.Errors = append(data.Errors, "alerts: "+err.Error())
	}
	if data.Clusters, err = t.Store.Clusters(r.Context(), now.Add(-clusterPeriod), t.Rules.ClusterMaxAccounts, d.hiddenCategories(r)...); err != nil {
		data.Errors = append(data.Errors, "linked accounts: "+err.Error())
	}
	if data.NewAccounts, err = t.Store.NewAccounts(r.Context(), now.Add(-clusterPeriod), d.hiddenCategories(r)...); err != nil {
		data.Errors = append(data.Errors, "new accounts: "+err.Error())
	}
	if data.BulkActions, err = t.Store.BulkActions(r.Context(), now.Add(-clusterPeriod), ""); err != nil {
		data.Errors = append(data.Errors, "bulk actions: "+err.Error())
	}
	if len(data.Errors) > 0 {
		d.log.Error("trends", "errors", data.Errors)
		w.WriteHeader(http.StatusInternalServerError)
	}
	d.render(w, "trends.html", data)
}
