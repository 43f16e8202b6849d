package dashboard

import (
	"cmp"
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"abusedesk/app/cases"
	"abusedesk/app/intake"
	"abusedesk/app/ledger"
	"abusedesk/app/signin"
	"abusedesk/platform/httpx"
	"abusedesk/workflows"
)

// The work queue (/queue, /api/v1/queue): what needs a person now — cases waiting for triage,
// a lead's approval, an agent after the customer answered, an appeal decision or the legal
// team — soonest due first, overdue ones on top, with who waits on whom; and the desk's own
// loose ends (decisions waiting for quality review, messages it could not act on).

// waits says, for each status where a case waits for a person, on whom and who waits.
var waits = map[workflows.Status]struct{ On, Waiting string }{
	workflows.StatusNeedsTriage:     {"an agent, to triage the reports", "the reporters; nothing has gone to the customer"},
	workflows.StatusPendingApproval: {"a lead, to approve or deny the action in Slack", "the escalation"},
	workflows.StatusUnderReview:     {"an agent: the customer answered, their fix did not hold, a lead denied the action or a step failed (the case page says which)", "the customer"},
	workflows.StatusAppealReview:    {"a reviewer other than the approver, to decide the appeal", "the customer, whose service is limited"},
	workflows.StatusLegalReview:     {"the legal team, to decide the request", "the requesting authority"},
}

// soon is how close a due time counts as about to pass.
const soon = time.Hour

// QueueItem is one thing that needs a person.
type QueueItem struct {
	CaseNumber string           `json:"case_number,omitempty"`
	Status     workflows.Status `json:"status,omitempty"`
	Account    string           `json:"account,omitempty"`
	// AccountName is the customer's name (from the ledger), when known.
	AccountName string `json:"account_name,omitempty"`
	Category    string `json:"category,omitempty"`
	// Due is when the wait's deadline or SLA passes (absent: no due time, e.g. a customer's
	// answer); Overdue and Soon say where it stands.
	Due     time.Time `json:"due,omitzero"`
	DueWhat string    `json:"due_what,omitempty"`
	Overdue bool      `json:"overdue,omitempty"`
	Soon    bool      `json:"soon,omitempty"`
	// WaitingOn is who must act; Waiting who waits for them.
	WaitingOn string    `json:"waiting_on"`
	Waiting   string    `json:"waiting,omitempty"`
	Since     time.Time `json:"since,omitzero"`
	// URL is where to act (the case page, the review queue, …); empty for the desk's own loose
	// ends, which WaitingOn says where to find.
	URL string `json:"url,omitempty"`
	// TrustedFlagger: the case holds a trusted flagger's notice (DSA Art. 22): decided with
	// priority, so it leads the queue after the overdue.
	TrustedFlagger bool `json:"trusted_flagger,omitempty"`
	// AssigneeID is the ticketing user ID of the agent who owns the case, Assignee their
	// address ("": nobody).
	AssigneeID string `json:"assignee_id,omitempty"`
	Assignee   string `json:"assignee,omitempty"`
	// AssigneeName is the owner's name in the ticketing system, when known.
	AssigneeName string `json:"assignee_name,omitempty"`
	caseID       string
}

// Loose is a loose end of the desk itself for the queue: what, how many, and where they are
// kept (a folder, a URL).
type Loose struct {
	What, Where string
	Count       int
}

// Queue builds the work queue at now; legal cases only when legal (the person may see them).
func (d *Dashboard) Queue(ctx context.Context, now time.Time, legal bool) ([]QueueItem, error) {
	var statuses []string
	for s := range waits {
		statuses = append(statuses, string(s))
	}
	slices.Sort(statuses)
	query := cases.And("ExecutionStatus = 'Running'", cases.In(workflows.SearchStatus.GetName(), statuses...))
	if !legal {
		query = cases.And(query, cases.NotConfidential())
	}
	var items []QueueItem
	var token []byte
	for range 10 { // at most 10,000
		list, next, err := d.opts.Cases.List(ctx, query, 1000, token)
		if err != nil {
			return nil, err
		}
		for _, s := range list {
			w := waits[s.Status]
			it := QueueItem{CaseNumber: s.CaseNumber, Status: s.Status, Account: s.Account, Category: s.Category, Due: s.Deadline,
				DueWhat: deadlineOf(s.Status), WaitingOn: w.On, Waiting: w.Waiting, Since: s.StartedAt, URL: "/cases/" + s.CaseNumber, caseID: s.CaseID,
				AssigneeID: s.Assignee}
			items = append(items, it)
		}
		if token = next; len(token) == 0 {
			break
		}
	}
	d.markTrusted(ctx, items)
	d.sayWhyReview(ctx, items)
	if reviews, err := d.opts.Cases.Reviews(ctx); err != nil {
		d.log.Warn("work queue: requests for reinstatement not listed", "error", err)
	} else {
		for _, s := range reviews {
			it := QueueItem{CaseNumber: s.CaseNumber, Status: s.Status, Account: s.Account, Category: s.Category, Due: s.Deadline,
				DueWhat: "reinstatement decision", WaitingOn: "a reviewer other than the approver, to decide the request for reinstatement (macros on the case's ticket)",
				Waiting: "the customer, whose action stands", Since: s.StartedAt, URL: "/cases/" + s.CaseNumber}
			items = append(items, it)
		}
	}
	if hs, err := d.opts.Cases.HandOffs(ctx); err != nil {
		d.log.Warn("work queue: hand-offs not listed", "error", err)
	} else {
		for i, s := range hs {
			team := strings.TrimPrefix(string(s.Status), "handoff:")
			if !legal && onLegalTrack(s.Category) {
				continue
			}
			it := QueueItem{CaseNumber: s.CaseNumber, Status: s.Status, Account: s.Account, Category: s.Category, Due: s.Deadline,
				DueWhat: "hand-off to " + team, WaitingOn: "the " + team + " team, to answer the hand-off (in their Slack channel)",
				Waiting: "the agent on the case", Since: s.StartedAt, URL: "/cases/" + s.CaseNumber}
			if i < 50 { // at most 50 cases are read
				d.teamAsks(ctx, &it, s.CaseID)
			}
			items = append(items, it)
		}
	}
	if d.opts.QA != nil {
		waiting, err := d.opts.QA.Store.QAQueue(ctx, ledger.QAFilter{Limit: 1000})
		if err != nil {
			d.log.Warn("work queue: decisions waiting for review not counted", "error", err)
		}
		if !legal {
			waiting = slices.DeleteFunc(waiting, func(it ledger.QAItem) bool { return onLegalTrack(it.Category) })
		}
		if len(waiting) > 0 {
			items = append(items, QueueItem{WaitingOn: "a reviewer who did not make them, for quality review", Waiting: plural(len(waiting), "sampled decision"),
				Since: waiting[0].SampledAt, URL: "/qa"})
		}
	}
	if d.opts.Ledger != nil {
		if hs, err := d.opts.Ledger.HandOvers(ctx, now.Add(-24*time.Hour), 1000); err == nil {
			n, first := 0, time.Time{}
			for _, h := range hs {
				if h.Kind == intake.HandOverTriage && (legal || !h.Legal) {
					n++
					first = h.At
				}
			}
			if n > 0 {
				items = append(items, QueueItem{WaitingOn: "agents: messages handed to a person (triage tickets in Zendesk)", Waiting: plural(n, "message") + " of the last day",
					Since: first, URL: "/intake"})
			}
		}
	}
	if d.opts.Loose != nil {
		for _, l := range d.opts.Loose() {
			if l.Count > 0 {
				items = append(items, QueueItem{WaitingOn: "an operator: " + l.What + " (kept in " + l.Where + ")", Waiting: plural(l.Count, "item")})
			}
		}
	}
	d.nameAccounts(ctx, items)
	d.nameOwners(ctx, items)
	for i := range items {
		if due := items[i].Due; !due.IsZero() {
			items[i].Overdue, items[i].Soon = now.After(due), !now.After(due) && due.Sub(now) <= soon
		}
	}
	// Overdue first, then trusted flaggers' cases, then by due time; items without one after,
	// oldest first.
	slices.SortStableFunc(items, func(a, b QueueItem) int {
		if a.Overdue != b.Overdue {
			if a.Overdue {
				return -1
			}
			return 1
		}
		if a.TrustedFlagger != b.TrustedFlagger {
			if a.TrustedFlagger {
				return -1
			}
			return 1
		}
		if a.Due.IsZero() != b.Due.IsZero() {
			if a.Due.IsZero() {
				return 1
			}
			return -1
		}
		if c := a.Due.Compare(b.Due); c != 0 {
			return c
		}
		return cmp.Or(a.Since.Compare(b.Since), strings.Compare(a.CaseNumber, b.CaseNumber))
	})
	return items, nil
}

// sayWhyReview says, for the cases under review, why the agent has them (the customer answered,
// a lead denied the action, …): the status alone does not (at most 50 cases are read).
func (d *Dashboard) sayWhyReview(ctx context.Context, items []QueueItem) {
	read := 0
	for i := range items {
		if items[i].Status != workflows.StatusUnderReview || read >= 50 {
			continue
		}
		read++
		v, err := d.opts.Cases.Status(ctx, items[i].caseID)
		if err != nil || v == nil || v.Review == nil {
			continue
		}
		items[i].WaitingOn = "an agent: " + v.Review.Why
	}
}

// teamAsks turns a hand-off whose team asked the agent a question around: the agent owes the
// answer, due within the case's review_sla of the question (the case's view says).
func (d *Dashboard) teamAsks(ctx context.Context, it *QueueItem, handOffID string) {
	caseID, nth, ok := strings.Cut(handOffID, "/handoff/")
	n, err := strconv.Atoi(nth)
	if !ok || err != nil {
		return
	}
	v, err := d.opts.Cases.Status(ctx, caseID)
	if err != nil || v == nil {
		return
	}
	for _, h := range v.HandOffs {
		if h.N != n || h.Status != workflows.HandOffNeedInfo {
			continue
		}
		it.WaitingOn = "an agent: " + h.Title + " asks — " + h.Question
		it.Waiting, it.DueWhat, it.Due = "the "+h.Title+" team", "answer to "+h.Title, time.Time{}
		if sla := v.PolicyRules.ReviewSLA.D(); sla > 0 && !h.AskedAt.IsZero() {
			it.Due = h.AskedAt.Add(sla)
		}
	}
}

// nameAccounts gives the items their customers' names.
func (d *Dashboard) nameAccounts(ctx context.Context, items []QueueItem) {
	list := make([]cases.Summary, 0, len(items))
	for _, it := range items {
		list = append(list, cases.Summary{Account: it.Account})
	}
	names := d.accountNames(ctx, list)
	for i := range items {
		items[i].AccountName = names[items[i].Account]
	}
}

// nameOwners gives the cases' owners their addresses (from the desk's team; an agent who
// left it keeps their ID).
func (d *Dashboard) nameOwners(ctx context.Context, items []QueueItem) {
	if !slices.ContainsFunc(items, func(it QueueItem) bool { return it.AssigneeID != "" }) || d.opts.Act == nil {
		return
	}
	if _, err := d.team(ctx); err != nil {
		d.log.Warn("work queue: owners not named", "error", err)
	}
	for i := range items {
		if id := items[i].AssigneeID; id != "" {
			name, email := d.person(ctx, id)
			items[i].Assignee, items[i].AssigneeName = cmp.Or(email, "user "+id), name
		}
	}
}

// markTrusted marks the cases that hold a trusted flagger's notice (from the ledger).
func (d *Dashboard) markTrusted(ctx context.Context, items []QueueItem) {
	if d.opts.Ledger == nil || d.opts.TrustedFlagger == nil || len(items) == 0 {
		return
	}
	numbers := make([]string, 0, len(items))
	for _, it := range items {
		numbers = append(numbers, it.CaseNumber)
	}
	trusted, err := d.opts.Ledger.TrustedCases(ctx, numbers, d.opts.TrustedFlagger)
	if err != nil {
		d.log.Warn("work queue: trusted flaggers' cases not marked", "error", err)
		return
	}
	for i := range items {
		items[i].TrustedFlagger = trusted[items[i].CaseNumber]
	}
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

func (d *Dashboard) queuePage(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	now := time.Now()
	items, err := d.Queue(ctx, now, d.seesLegal(r))
	data := struct {
		Title, Home, Flash, Err string
		Items                   []QueueItem
		Overdue, Soon           int
		Now                     time.Time
		// Owner is the queue's filter ("": everyone's, "none", an agent's ID), Me the
		// signed-in agent's ID; CanAct offers the selection and the bulk actions.
		Owner, Me, Back string
		CanAct          bool
		Agents          []Agent
	}{Title: "Work queue", Home: d.home(), Flash: flashOf(r), Now: now, Back: "/queue"}
	if err != nil {
		data.Err = "the queue could not be read: " + err.Error()
		d.log.Error("work queue", "error", err)
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	if _, signed := signin.From(r.Context()); signed && d.opts.Act != nil && d.opts.SignIn != nil {
		if _, me, err := d.actor(ctx, r); err == nil {
			data.Me, data.CanAct, data.Agents = me, true, d.agents(ctx)
		}
	}
	switch data.Owner = r.URL.Query().Get("owner"); data.Owner {
	case "me":
		data.Owner = cmp.Or(data.Me, "nobody signed in")
	case "":
	default:
		data.Back = "/queue?owner=" + url.QueryEscape(data.Owner)
	}
	if data.Owner == data.Me && data.Me != "" {
		data.Back = "/queue?owner=me"
	}
	data.Items = ownedBy(items, data.Owner)
	for _, it := range data.Items {
		if it.Overdue {
			data.Overdue++
		} else if it.Soon {
			data.Soon++
		}
	}
	d.render(w, "queue.html", data)
}

func (d *Dashboard) queueJSON(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	items, err := d.Queue(ctx, time.Now(), d.seesLegal(r))
	if err != nil {
		d.log.Error("work queue", "error", err)
		httpx.Problem(w, http.StatusServiceUnavailable, "the queue could not be read: "+err.Error())
		return
	}
	owner := r.URL.Query().Get("owner")
	if owner == "me" {
		_, me, err := d.actor(ctx, r)
		if err != nil {
			httpx.Problem(w, http.StatusBadRequest, "owner=me: "+err.Error())
			return
		}
		owner = me
	}
	if items = ownedBy(items, owner); items == nil {
		items = []QueueItem{}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"items": items})
}
