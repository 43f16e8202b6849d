package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"abusedesk/app/signin"
	"abusedesk/workflows"
)

// Act lets a signed-in agent of the desk's team act on a case from its page, as the macro on
// its ticket would: today, move it into legal. The person is the ticketing system's agent with
// their sign-in address; the case checks that agent against the desk's team again, as it checks
// a macro's. Without sign-in (a shared password names nobody) the dashboard offers no action.
type Act struct {
	// Team lists the desk's team: ticketing user ID → e-mail address.
	Team func(ctx context.Context) (map[string]string, error)
	// Name, when set, is an agent's name in the ticketing system (its user ID): the pages show
	// people by name, their address beside it.
	Name func(ctx context.Context, id string) (string, error)
	// Decide delivers the decision to the case (its workflow ID) and waits for its answer.
	Decide func(ctx context.Context, caseID string, d workflows.AgentDecision) (*workflows.DecisionResult, error)
}

// canMoveToLegal says whether the page offers "Move to legal" for the case: an open case of
// another track with reports, no action in force, to a person signed in (the case refuses
// others anyway; the page does not offer what would be refused).
func (d *Dashboard) canMoveToLegal(r *http.Request, v *workflows.CaseView) bool {
	if d.opts.Act == nil || d.opts.SignIn == nil || v == nil {
		return false
	}
	if _, ok := signin.From(r.Context()); !ok {
		return false
	}
	switch {
	case v.Category.Confidential(), v.Status.Final(),
		v.Status == workflows.StatusEnforced, v.Status == workflows.StatusAppealReview:
		return false
	}
	return true
}

// moveToLegal answers POST /act/move-to-legal/{id...}: the case's reports go to a confidential
// legal matter, in the name of the desk's agent who is signed in. The browser goes back to the
// case page with the case's answer, or a refusal saying why.
func (d *Dashboard) moveToLegal(w http.ResponseWriter, r *http.Request) {
	d.actOnCase(w, r, func(email, id string) (workflows.AgentDecision, string) {
		return workflows.AgentDecision{Decision: workflows.DecisionMoveToLegal, Agent: email, AgentID: id,
			Note: strings.TrimSpace(r.PostFormValue("note"))}, ""
	})
}

// actOnCase answers a form on a case's page (its number in the path): the decision the form
// makes (or why the form is refused), in the name of the signed-in agent, and the case page
// again with the case's answer or refusal.
func (d *Dashboard) actOnCase(w http.ResponseWriter, r *http.Request, decide func(email, id string) (workflows.AgentDecision, string)) {
	ref := r.PathValue("id")
	back := "/cases/" + ref
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	email, id, err := d.actor(ctx, r)
	if err != nil {
		d.log.Warn("a decision from the dashboard refused", "case", ref, "path", r.URL.Path, "error", err)
		Refused(w, r, back, err.Error())
		return
	}
	dec, why := decide(email, id)
	if why != "" {
		Refused(w, r, back, why)
		return
	}
	msg, ok := d.deliver(ctx, r, ref, dec)
	if !ok {
		Refused(w, r, back, msg)
		return
	}
	redirect(w, r, back, msg)
}

// agentOf is the desk team's ticketing user ID of the person with this sign-in address.
func (d *Dashboard) agentOf(ctx context.Context, email string) (string, error) {
	team, err := d.team(ctx)
	if err != nil {
		return "", fmt.Errorf("the desk could not read who is on its team (%v); nothing was done", err)
	}
	var ids []string
	for id, e := range team {
		if strings.EqualFold(strings.TrimSpace(e), strings.TrimSpace(email)) {
			ids = append(ids, id)
		}
	}
	switch len(ids) {
	case 0:
		return "", fmt.Errorf("%s is not an agent of the desk's groups in the ticketing system: only they act on cases", email)
	case 1:
		return ids[0], nil
	}
	slices.Sort(ids)
	return "", fmt.Errorf("%s is the address of %d agents in the ticketing system (%s): the desk cannot tell who acts; apply the macro on the ticket instead", email, len(ids), strings.Join(ids, ", "))
}
