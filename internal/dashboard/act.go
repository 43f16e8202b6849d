package dashboard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"abusedesk/internal/abuse"
	"abusedesk/internal/cases"
	"abusedesk/internal/signin"
	"abusedesk/workflows"
)

// Act lets a signed-in agent of the desk's team act on a case from its page, as the macro on
// its ticket would: today, move it into legal. The person is the ticketing system's agent with
// their sign-in address; the case checks that agent against the desk's team again, as it checks
// a macro's. Without sign-in (a shared password names nobody) the dashboard offers no action.
type Act struct {
	// Team lists the desk's team: ticketing user ID → e-mail address.
	Team func(ctx context.Context) (map[string]string, error)
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
	case v.Category.Track() == abuse.TrackLegal, v.Status.Final(),
		v.Status == workflows.StatusEnforced, v.Status == workflows.StatusAppealReview:
		return false
	}
	return true
}

// moveToLegal answers POST /act/move-to-legal/{id...}: the case's reports go to a confidential
// legal matter, in the name of the desk's agent who is signed in. The browser goes back to the
// case page with the case's answer, or a refusal saying why.
func (d *Dashboard) moveToLegal(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	back := "/cases/" + id
	who, ok := signin.From(r.Context())
	if !ok || d.opts.SignIn == nil {
		Refused(w, r, back, "only a person signed in may act on a case from the dashboard: a shared password names nobody the case could record")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	agentID, err := d.agentOf(ctx, who.Email)
	if err != nil {
		d.log.Warn("move to legal refused", "case", id, "who", who.Email, "error", err)
		Refused(w, r, back, err.Error())
		return
	}
	caseID := id
	if number := workflows.FindCaseNumber(id); number != "" && number == strings.ToUpper(id) {
		s, err := d.opts.Cases.FindByNumber(ctx, number)
		switch {
		case err != nil:
			Refused(w, r, back, "the case cannot be read now; try again in a moment")
			return
		case s == nil || !s.Running:
			Refused(w, r, back, fmt.Sprintf("case %s is not open", number))
			return
		}
		caseID = s.CaseID
	}
	res, err := d.opts.Act.Decide(ctx, caseID, workflows.AgentDecision{
		Decision: workflows.DecisionMoveToLegal, Agent: who.Email, AgentID: agentID,
		Note: strings.TrimSpace(r.PostFormValue("note")),
	})
	var refused *cases.Refused
	switch {
	case errors.As(err, &refused):
		Refused(w, r, back, refused.Reason)
		return
	case err != nil:
		d.log.Error("move to legal not delivered", "case", id, "who", who.Email, "error", err)
		Refused(w, r, back, "the case could not be reached; nothing was moved: try again in a moment")
		return
	}
	d.log.Info("case moved to legal from the dashboard", "case", id, "who", who.Email)
	redirect(w, r, back, res.Message)
}

// agentOf is the desk team's ticketing user ID of the person with this sign-in address.
func (d *Dashboard) agentOf(ctx context.Context, email string) (string, error) {
	team, err := d.opts.Act.Team(ctx)
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
