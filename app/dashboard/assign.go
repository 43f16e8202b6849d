package dashboard

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"abusedesk/app/cases"
	"abusedesk/app/signin"
	"abusedesk/workflows"
)

// Assignment and bulk actions: a signed-in agent takes a case, assigns it to a colleague or
// gives it back from its page, and acts on several cases of the work queue at once. Every
// action is the decision a single click delivers, validated by each case in turn; the answer
// lists each case's result.

// teamCache keeps the desk's team for a minute: the queue names each case's owner on every
// refresh, and the ticketing system is not asked each time.
type teamCache struct {
	mu     sync.Mutex
	at     time.Time
	agents map[string]string
	// names are the agents' names (ID → name), each read once, when the team first lists them.
	names map[string]string
}

const teamFresh = time.Minute

// team is the desk's team (ticketing user ID → address), at most a minute old.
func (d *Dashboard) team(ctx context.Context) (map[string]string, error) {
	if d.opts.Act == nil {
		return nil, errors.New("the dashboard does not act on cases")
	}
	c := &d.teamCache
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.agents != nil && time.Since(c.at) < teamFresh {
		return c.agents, nil
	}
	agents, err := d.opts.Act.Team(ctx)
	if err != nil {
		return nil, err
	}
	// Names are read once per agent (a team of a hundred is not a hundred calls a minute);
	// one read for the first time since this process started.
	if c.names == nil {
		c.names = map[string]string{}
	}
	if d.opts.Act.Name != nil {
		for id := range agents {
			if _, known := c.names[id]; known {
				continue
			}
			n, err := d.opts.Act.Name(ctx, id)
			if err != nil {
				d.log.Warn("an agent's name not read; shown by address", "user", id, "error", err)
				continue
			}
			c.names[id] = strings.TrimSpace(n)
		}
	}
	c.agents, c.at = agents, time.Now()
	return agents, nil
}

// person names an agent for a page: their name and address ("Alex Agent <agent@…>"), their
// address when the name is not known, their user ID when they are not on the team.
func (d *Dashboard) person(ctx context.Context, id string) (name, email string) {
	team, err := d.team(ctx)
	if err != nil || team[id] == "" {
		return "", ""
	}
	d.teamCache.mu.Lock()
	defer d.teamCache.mu.Unlock()
	return d.teamCache.names[id], strings.ToLower(team[id])
}

// Agent is a member of the desk's team, for the assignment choices.
type Agent struct{ ID, Name, Email string }

// Label is how a page names the agent: their name, else their address.
func (a Agent) Label() string { return cmp.Or(a.Name, a.Email) }

// agents lists the desk's team by address.
func (d *Dashboard) agents(ctx context.Context) []Agent {
	team, err := d.team(ctx)
	if err != nil {
		d.log.Warn("the desk's team not listed", "error", err)
		return nil
	}
	out := make([]Agent, 0, len(team))
	for id := range team {
		name, email := d.person(ctx, id)
		out = append(out, Agent{ID: id, Name: name, Email: email})
	}
	slices.SortFunc(out, func(a, b Agent) int {
		return cmp.Or(strings.Compare(strings.ToLower(a.Label()), strings.ToLower(b.Label())), strings.Compare(a.ID, b.ID))
	})
	return out
}

// actor is the signed-in agent acting from the dashboard: their address and ticketing user ID,
// or why they may not act.
func (d *Dashboard) actor(ctx context.Context, r *http.Request) (email, id string, err error) {
	who, ok := signin.From(r.Context())
	if !ok || d.opts.SignIn == nil || d.opts.Act == nil {
		return "", "", errors.New("only a person signed in may act on a case from the dashboard: a shared password names nobody the case could record")
	}
	id, err = d.agentOf(ctx, who.Email)
	return who.Email, id, err
}

// openCase finds the case under way with a case number. A legal matter, to someone who may
// not see it, reads as a number no open case has.
func (d *Dashboard) openCase(ctx context.Context, r *http.Request, ref string) (string, error) {
	number := workflows.FindCaseNumber(ref)
	if number == "" || number != strings.ToUpper(ref) {
		return "", fmt.Errorf("%q is no case number", ref)
	}
	s, err := d.opts.Cases.FindByNumber(ctx, number)
	switch {
	case err != nil:
		return "", errors.New("the case cannot be read now; try again in a moment")
	case s == nil || !s.Running || (onLegalTrack(s.Category) && !d.seesLegal(r)):
		return "", fmt.Errorf("case %s is not open", number)
	}
	return s.CaseID, nil
}

// deliver gives one case a decision and says what happened in a sentence: the case's answer,
// its refusal, or that it could not be reached (ok false unless the case took it).
func (d *Dashboard) deliver(ctx context.Context, r *http.Request, ref string, dec workflows.AgentDecision) (string, bool) {
	caseID, err := d.openCase(ctx, r, ref)
	if err != nil {
		return err.Error(), false
	}
	res, err := d.opts.Act.Decide(ctx, caseID, dec)
	var refused *cases.Refused
	switch {
	case errors.As(err, &refused):
		return refused.Reason, false
	case err != nil:
		d.log.Error("decision not delivered", "case", ref, "decision", dec.Decision, "who", dec.Agent, "error", err)
		return "the case could not be reached; nothing was done: try again in a moment", false
	}
	d.log.Info("decision from the dashboard", "case", ref, "decision", dec.Decision, "who", dec.Agent)
	return res.Message, true
}

// assignee reads the form's choice of owner: "me", "" (nobody) or an agent's ID.
func assignee(r *http.Request, me string) string {
	switch a := strings.TrimSpace(r.PostFormValue("assignee")); a {
	case "me":
		return me
	default:
		return a
	}
}

// assignCase answers POST /act/assign/{id...}: take the case, give it to a colleague or to
// nobody.
func (d *Dashboard) assignCase(w http.ResponseWriter, r *http.Request) {
	d.actOnCase(w, r, func(email, id string) (workflows.AgentDecision, string) {
		to := assignee(r, id)
		if to == "?" {
			return workflows.AgentDecision{}, "choose who the case goes to"
		}
		return workflows.AgentDecision{Decision: workflows.DecisionAssign, Agent: email, AgentID: id, Assignee: to}, ""
	})
}

// bulkActions are what the queue applies to the cases selected: the decision each makes, and
// what the list of results calls it.
var bulkActions = map[string]struct {
	Decision workflows.Decision
	Label    string
}{
	"take":         {workflows.DecisionAssign, "take"},
	"assign":       {workflows.DecisionAssign, "assign"},
	"unassign":     {workflows.DecisionAssign, "give back"},
	"extend":       {workflows.DecisionExtendDeadline, "extend the deadline"},
	"request_info": {workflows.DecisionRequestInfo, "ask the customer for more information"},
	"resolve":      {workflows.DecisionResolve, "close as resolved"},
}

// maxBulk bounds the cases one bulk action reaches.
const maxBulk = 100

// bulk answers POST /act/bulk: one action over the cases selected on the queue, each through
// the case's own validation, and the queue again with one line per case.
func (d *Dashboard) bulk(w http.ResponseWriter, r *http.Request) {
	back := cmp.Or(safeBack(r.PostFormValue("back")), "/queue")
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Minute)
	defer cancel()
	email, id, err := d.actor(ctx, r)
	if err != nil {
		Refused(w, r, back, err.Error())
		return
	}
	action, known := bulkActions[r.PostFormValue("action")]
	if !known {
		Refused(w, r, back, "choose what to do with the cases selected")
		return
	}
	var refs []string
	for _, c := range r.PostForm["case"] {
		if c = strings.TrimSpace(c); c != "" && !slices.Contains(refs, c) {
			refs = append(refs, c)
		}
	}
	switch {
	case len(refs) == 0:
		Refused(w, r, back, "select the cases to "+action.Label+" (the boxes on the left of the queue)")
		return
	case len(refs) > maxBulk:
		Refused(w, r, back, fmt.Sprintf("%d cases selected; at most %d are acted on at once", len(refs), maxBulk))
		return
	}
	dec := workflows.AgentDecision{Decision: action.Decision, Agent: email, AgentID: id, Note: strings.TrimSpace(r.PostFormValue("note"))}
	switch r.PostFormValue("action") {
	case "take":
		dec.Assignee = id
	case "assign":
		if dec.Assignee = strings.TrimSpace(r.PostFormValue("assignee")); dec.Assignee == "" {
			Refused(w, r, back, "choose who the cases go to")
			return
		}
	case "resolve":
		if dec.Note == "" {
			Refused(w, r, back, "say why the cases close (a duplicate of which case, say): the note is the record")
			return
		}
	}
	lines := make([]string, 0, len(refs))
	done := 0
	for _, ref := range refs {
		msg, ok := d.deliver(ctx, r, ref, dec)
		if ok {
			done++
			lines = append(lines, ref+": "+msg)
		} else {
			lines = append(lines, ref+": not done — "+msg)
		}
	}
	head := fmt.Sprintf("%s: %d of %d done.", capitalise(action.Label), done, len(refs))
	flash := head + "\n" + strings.Join(lines, "\n")
	if done == 0 {
		Refused(w, r, back, flash)
		return
	}
	redirect(w, r, back, flash)
}

// safeBack keeps a form's way back on the dashboard: a path, never another site.
func safeBack(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n") {
		return ""
	}
	return p
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// ownedBy keeps the queue's cases owned by an agent ("none": nobody's); the desk's own loose
// ends go with nobody's.
func ownedBy(items []QueueItem, owner string) []QueueItem {
	if owner == "" {
		return items
	}
	return slices.DeleteFunc(slices.Clone(items), func(it QueueItem) bool {
		if owner == "none" {
			return it.AssigneeID != ""
		}
		return it.AssigneeID != owner
	})
}
