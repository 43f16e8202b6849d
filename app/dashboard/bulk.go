package dashboard

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	"abusedesk/app/ledger"
	"abusedesk/app/signin"
	"abusedesk/domain/abuse"
	"abusedesk/domain/approval"
	"abusedesk/domain/policy"
	"abusedesk/workflows"
)

// Bulk lets a signed-in lead propose one reviewed action on the accounts a cluster links; a
// second lead approves it in Slack, and one click there undoes it all.
type Bulk struct {
	// Start starts the bulk action's workflow.
	Start func(ctx context.Context, in workflows.BulkInput) error
	// Approvers are the policy's leads, who decide it.
	Approvers func() approval.Approvers
	// Reasons are the ground and the redress routes each customer's statement of reasons
	// names.
	Reasons func() policy.Reasons
}

// bulkActionTypes are the actions a lead may propose on a cluster, with how the form says them.
var bulkActionTypes = []bulkActionType{
	{abuse.ActionSuspendSending, "Suspend sending"},
	{abuse.ActionThrottle, "Throttle"},
	{abuse.ActionSuspendAccount, "Suspend the accounts"},
}

type bulkActionType struct {
	Type  abuse.ActionType
	Label string
}

// canProposeBulk says whether the person may propose a bulk action: a signed-in lead (a shared
// password names nobody, and a proposal needs a proposer another lead is not).
func (d *Dashboard) canProposeBulk(r *http.Request) bool {
	if d.opts.Bulk == nil || d.opts.SignIn == nil || d.opts.Trends == nil {
		return false
	}
	p, ok := signin.From(r.Context())
	return ok && p.Has(signin.Lead)
}

// proposeBulk answers POST /trends/bulk: the cluster's accounts (as the page showed them) get
// one proposed action, once the desk found them linked again now — by the reports of the
// other tracks only, whoever proposes: legal matters never reach the leads' channel. The
// browser goes to the action's page, or back to the trends with why not.
func (d *Dashboard) proposeBulk(w http.ResponseWriter, r *http.Request) {
	const back = "/trends#clusters"
	if !d.canProposeBulk(r) {
		Refused(w, r, back, "only a signed-in lead proposes a bulk action")
		return
	}
	p, _ := signin.From(r.Context())
	if err := r.ParseForm(); err != nil {
		Refused(w, r, back, "the form could not be read: "+err.Error())
		return
	}
	accounts := slices.Sorted(slices.Values(r.PostForm["account"]))
	action := abuse.ActionType(r.PostFormValue("action"))
	if !slices.ContainsFunc(bulkActionTypes, func(t bulkActionType) bool { return t.Type == action }) {
		Refused(w, r, back, fmt.Sprintf("unknown action %q", action))
		return
	}
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	if reason == "" {
		Refused(w, r, back, "a bulk action needs a reason: the leads decide on it, and the record keeps it")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	links, err := d.linkedNow(ctx, accounts)
	if err != nil {
		Refused(w, r, back, err.Error())
		return
	}
	in := workflows.BulkInput{Number: bulkNumber(time.Now()), Proposer: strings.ToLower(p.Email), ProposerName: p.Name,
		Accounts: accounts, Links: links, Action: action, Reason: reason, Approvers: d.opts.Bulk.Approvers(), Reasons: d.opts.Bulk.Reasons()}
	if err := in.Validate(); err != nil {
		Refused(w, r, back, err.Error())
		return
	}
	if err := d.opts.Bulk.Start(ctx, in); err != nil {
		d.log.Error("bulk action not started", "number", in.Number, "error", err)
		Refused(w, r, back, "the bulk action could not be started: "+err.Error())
		return
	}
	d.log.Info("bulk action proposed", "number", in.Number, "proposer", in.Proposer, "accounts", len(in.Accounts), "action", in.Action)
	// The page reads the ledger, which the action writes as it starts (a busy desk takes a
	// moment).
	for i := 0; i < 150; i++ {
		if _, err := d.opts.Trends.Store.BulkAction(ctx, in.Number); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	redirect(w, r, "/bulk/"+in.Number, fmt.Sprintf("Proposed %s: the leads are asked in Slack. Another lead approves it; nothing is done to any account before.", in.Number))
}

// linkedNow checks that the accounts are, now, exactly one cluster of the reports of the
// tracks that are not confidential, and says what links them.
func (d *Dashboard) linkedNow(ctx context.Context, accounts []string) ([]workflows.BulkLink, error) {
	t := d.opts.Trends
	clusters, err := t.Store.Clusters(ctx, time.Now().Add(-clusterPeriod), t.Rules.ClusterMaxAccounts, ledger.LegalCategories()...)
	if err != nil {
		return nil, fmt.Errorf("the desk could not link the accounts again (%v); nothing was proposed", err)
	}
	for _, c := range clusters {
		if !slices.Equal(c.Accounts, accounts) { // both sorted
			continue
		}
		links := make([]workflows.BulkLink, len(c.Links))
		for i, l := range c.Links {
			links[i] = workflows.BulkLink{Kind: l.Kind, Value: l.Value, Accounts: l.Accounts, Cases: l.CasesOf}
		}
		return links, nil
	}
	return nil, errors.New("these accounts are not one cluster now (the reports changed since the page was drawn): look at the trends again; nothing was proposed")
}

// bulkNumber is a new bulk action's reference: B-, the day, and random hex.
func bulkNumber(now time.Time) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return "B-" + now.UTC().Format("20060102") + "-" + strings.ToUpper(hex.EncodeToString(b))
}

// bulkPage answers GET /bulk/{number}: a bulk action as the ledger last recorded it.
func (d *Dashboard) bulkPage(w http.ResponseWriter, r *http.Request) {
	number := r.PathValue("number")
	st, err := d.opts.Trends.Store.BulkAction(r.Context(), number)
	data := struct {
		Title, Home, Flash string
		Errors             []string
		B                  workflows.BulkState
		Outcome            string
		Panel              template.HTML
	}{Title: "Bulk action " + st.Number, Home: d.home(), Flash: flashOf(r), B: st, Outcome: st.Outcome()}
	if pg := d.opts.Playground; pg != nil && err == nil {
		var perr error
		if data.Panel, perr = pg.BulkPanel(st); perr != nil {
			d.log.Error("bulk action's sandbox panel", "number", number, "error", perr)
		}
	}
	switch {
	case errors.Is(err, ledger.ErrNoSuchBulkAction):
		data.Title = "Bulk action " + number
		data.Errors = append(data.Errors, fmt.Sprintf("no bulk action %s", number))
		w.WriteHeader(http.StatusNotFound)
	case err != nil:
		d.log.Error("bulk action", "number", number, "error", err)
		data.Errors = append(data.Errors, err.Error())
		w.WriteHeader(http.StatusInternalServerError)
	}
	d.render(w, "bulk.html", data)
}
