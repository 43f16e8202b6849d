package workflows

import (
	"cmp"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"
)

// versionDeskTeam gates who may take an agent decision: before it, a decision's payload named
// its agent; from it, the agent is a ticketing user on the desk's team and is named by the
// team, never by the payload.
const versionDeskTeam = "desk-team"

// deskTeamFresh is how long a case trusts the team it read: an agent who left the desk's
// groups is refused once it is older.
const deskTeamFresh = time.Hour

// DeskTeam is who may take agent decisions: the agents of the desk's group and of the legal
// group, as the ticketing system listed them when a decision last needed it.
type DeskTeam struct {
	// Agents maps each agent's ticketing user ID to the e-mail address the ticketing system
	// knows.
	Agents     map[string]string `json:"agents"`
	ResolvedAt time.Time         `json:"resolved_at"`
}

// ResolveDeskTeamInput asks who is on the desk's team. Fresh asks past the worker's cache: a
// decision by someone the last read did not list (they may have just joined).
type ResolveDeskTeamInput struct {
	Fresh bool `json:"fresh,omitempty"`
}

// ResolveDeskTeamResult is the desk team's agents (ticketing user ID → e-mail address).
type ResolveDeskTeamResult struct {
	Agents map[string]string `json:"agents"`
}

// deskAgent checks who made an agent decision and names them: d.AgentID must be an agent of
// the desk's team, and d.Agent becomes the address the ticketing system gives that agent,
// whatever the payload said. The team is read when a decision first needs it, again when it
// is older than deskTeamFresh, and again when it does not list the agent (they may have
// joined since). A case's handler runs it before anything else, so the checks that follow
// (the approver may not review the appeal, …) compare the real person.
func deskAgent(ctx workflow.Context, team **DeskTeam, d *AgentDecision) error {
	if workflow.GetVersion(ctx, versionDeskTeam, workflow.DefaultVersion, 1) < 1 {
		return nil // a decision taken before the team was checked
	}
	if strings.TrimSpace(d.AgentID) == "" {
		return errors.New("the decision names no ticketing user; the desk takes an agent's decision only from the ticket's own record of who applied the macro")
	}
	email, known := "", false
	if t := *team; t != nil && workflow.Now(ctx).Sub(t.ResolvedAt) < deskTeamFresh {
		email, known = t.Agents[d.AgentID]
	}
	if !known {
		var res ResolveDeskTeamResult
		err := workflow.ExecuteActivity(withDeciders(ctx), ActivityResolveDeskTeam, ResolveDeskTeamInput{Fresh: *team != nil}).Get(ctx, &res)
		if err != nil {
			return fmt.Errorf("the desk could not read who is on its team (%s); no decision is taken until it can: apply the macro again later", rootMessage(err))
		}
		*team = &DeskTeam{Agents: res.Agents, ResolvedAt: workflow.Now(ctx)}
		email, known = res.Agents[d.AgentID]
	}
	switch {
	case !known:
		return fmt.Errorf("%s is not an agent of the desk's groups: only they decide its cases", cmp.Or(d.Agent, "user "+d.AgentID))
	case strings.TrimSpace(email) == "":
		return fmt.Errorf("agent %s has no e-mail address in the ticketing system; the desk records who decided by it", d.AgentID)
	}
	d.Agent = strings.ToLower(strings.TrimSpace(email))
	return nil
}
