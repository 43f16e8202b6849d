package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"abusedesk/domain/abuse"
	"abusedesk/domain/policy"
)

// Reinstatement after the appeal window: a customer whose action still stands asks (by email or
// on the case's ticket) for it to be lifted, with their plan of action. One Reinstatement
// workflow per closed case reviews the request: a reviewer other than the lead who approved the
// action decides within the policy's SLA (internal reminders and a breach alert on the way); a
// grant lifts the action (verified; not overturned — the violation still counts) and starts a
// probation, during which a new abuse case on the account goes on the strict track with a lead's
// approval and is recorded here as a re-offence.

// ReinstatementWorkflowType is the workflow type name.
const ReinstatementWorkflowType = "Reinstatement"

// Reinstatement decisions (macros on the closed case's ticket).
const (
	DecisionGrantReinstatement Decision = "grant_reinstatement"
	DecisionDenyReinstatement  Decision = "deny_reinstatement"
)

// ReinstatementDecisions are the decisions on a reinstatement request.
var ReinstatementDecisions = []Decision{DecisionGrantReinstatement, DecisionDenyReinstatement}

// Signals of the Reinstatement workflow.
const (
	// SignalReinstatementRequest carries the customer's request and any further message
	// (CustomerReply); intake sends it with SignalWithStart.
	SignalReinstatementRequest = "reinstatement-request"
	// SignalReoffence tells a reinstatement on probation that a new case opened on the account
	// (Reoffence).
	SignalReoffence = "reoffence"
)

// Statuses of a reinstatement.
const (
	ReinstatementReview    = "reinstatement_review"
	ReinstatementProbation = "probation"
	ReinstatementDenied    = "denied"
	ReinstatementEnded     = "ended"
)

// Ledger event kinds of a reinstatement (recorded on the reinstated case).
const (
	LedgerReinstatementAsked   = "reinstatement_asked"
	LedgerReinstatementDecided = "reinstatement_decided"
	LedgerReoffended           = "reoffended"
	SLAReinstatement           = "reinstatement"
)

// ReinstatementWorkflowID is the one reinstatement review of a case (by its number).
func ReinstatementWorkflowID(caseNumber string) string { return "reinstatement/" + caseNumber }

// ReinstatementInput starts a review: the closed case as it ended, and the policy's rules.
type ReinstatementInput struct {
	CaseID      string         `json:"case_id"`
	CaseNumber  string         `json:"case_number"`
	ExternalID  string         `json:"external_id"`
	OpenedAt    time.Time      `json:"opened_at"`
	Account     abuse.Account  `json:"account"`
	Category    abuse.Category `json:"category"`
	Ticket      TicketRef      `json:"ticket"`
	Enforcement Enforcement    `json:"enforcement"`
	// Approver is the lead who approved the action (may not decide); empty when the policy
	// applied it.
	Approver string               `json:"approver,omitempty"`
	Rules    policy.Reinstatement `json:"rules"`
	// Checks is what the case's fix can be checked by (CheckPlan): a grant runs them first.
	Checks RemediationState `json:"checks,omitzero"`
}

// Reoffence is a new case on an account on probation.
type Reoffence struct {
	CaseID     string         `json:"case_id"`
	CaseNumber string         `json:"case_number"`
	Category   abuse.Category `json:"category"`
	At         time.Time      `json:"at"`
}

// ReinstatementView is what the status query answers.
type ReinstatementView struct {
	CaseNumber  string        `json:"case_number"`
	Account     string        `json:"account"`
	Status      string        `json:"status"`
	Request     CustomerReply `json:"request"`
	Messages    int           `json:"messages"`
	RequestedAt time.Time     `json:"requested_at"`
	Due         time.Time     `json:"due"`
	Breached    bool          `json:"breached,omitempty"`
	Decision    string        `json:"decision,omitempty"`
	Reviewer    string        `json:"reviewer,omitempty"`
	Note        string        `json:"note,omitempty"`
	DecidedAt   time.Time     `json:"decided_at,omitzero"`
	LiftedAt    time.Time     `json:"lifted_at,omitzero"`
	// Checked is what the checks before the latest grant found; Override the reviewer's reason
	// for granting over a failing one.
	Checked  string `json:"checked,omitempty"`
	Override string `json:"override,omitempty"`
	// ProbationUntil is when the probation ends; Reoffences the cases opened during it.
	ProbationUntil time.Time   `json:"probation_until,omitzero"`
	Reoffences     []Reoffence `json:"reoffences,omitempty"`
}

// ReinstatementResult is how a review ended.
type ReinstatementResult struct {
	Decision   string      `json:"decision"`
	Reviewer   string      `json:"reviewer"`
	LiftedAt   time.Time   `json:"lifted_at,omitzero"`
	Reoffences []Reoffence `json:"reoffences,omitempty"`
}

// maxReoffences bounds the re-offences a probation keeps.
const maxReoffences = 50

type reinstatement struct {
	in       ReinstatementInput
	v        ReinstatementView
	log      log.Logger
	requests workflow.ReceiveChannel
	reoffend workflow.ReceiveChannel
	decided  *AgentDecision
	team     *DeskTeam
	// decidedF is ready once a decision was taken.
	decidedF workflow.Future
	seq      int
	key      string
	seen     []string
}

// ReinstatementWorkflow reviews one request to lift a standing action.
func ReinstatementWorkflow(ctx workflow.Context, in ReinstatementInput) (*ReinstatementResult, error) {
	if in.Enforcement.ActionID == "" || in.Ticket.IsZero() || in.CaseNumber == "" {
		return nil, temporal.NewNonRetryableApplicationError("reinstatement input names no case, action or ticket", ErrInvalidCaseInput, nil)
	}
	if in.Rules.SLA <= 0 {
		return nil, temporal.NewNonRetryableApplicationError("reinstatement input has no SLA", ErrInvalidCaseInput, nil)
	}
	r := &reinstatement{
		in:       in,
		v:        ReinstatementView{CaseNumber: in.CaseNumber, Account: in.Account.ID, Status: ReinstatementReview},
		log:      log.With(workflow.GetLogger(ctx), "case_number", in.CaseNumber, "reinstatement", true),
		requests: workflow.GetSignalChannel(ctx, SignalReinstatementRequest),
		reoffend: workflow.GetSignalChannel(ctx, SignalReoffence),
		key:      fmt.Sprintf("reinstatement-%d", workflow.GetInfo(ctx).WorkflowStartTime.Unix()),
	}
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func(StatusQuery) (*ReinstatementView, error) { return &r.v, nil }); err != nil {
		return nil, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateAgentDecision, r.onDecision,
		workflow.UpdateHandlerOptions{Validator: r.validate}); err != nil {
		return nil, err
	}
	return r.run(ctx)
}

func (r *reinstatement) validate(_ workflow.Context, d AgentDecision) error {
	if strings.TrimSpace(d.Agent) == "" {
		return errors.New("the decision names no agent")
	}
	if !slices.Contains(ReinstatementDecisions, d.Decision) {
		return fmt.Errorf("%s does not apply to a request for reinstatement (use Grant reinstatement or Deny reinstatement)", d.Decision)
	}
	if r.v.Status != ReinstatementReview || r.decided != nil {
		return fmt.Errorf("the request for reinstatement was already decided (%s by %s)", r.v.Decision, r.v.Reviewer)
	}
	if r.in.Approver != "" && strings.EqualFold(strings.TrimSpace(d.Agent), r.in.Approver) {
		return fmt.Errorf("%s approved the action and may not decide its reinstatement; another reviewer must", d.Agent)
	}
	if d.Decision == DecisionDenyReinstatement && strings.TrimSpace(d.Note) == "" {
		return errors.New("denying a reinstatement needs the reasons in the note")
	}
	return nil
}

func (r *reinstatement) onDecision(ctx workflow.Context, d AgentDecision) (*DecisionResult, error) {
	if err := deskAgent(ctx, &r.team, &d); err != nil {
		return nil, err
	}
	if err := r.validate(ctx, d); err != nil {
		return nil, err
	}
	if d.Decision == DecisionGrantReinstatement {
		results, override, ran, refused := liftCheck(ctx, r.in.Checks, d.Note)
		if ran {
			r.v.Checked = fmtTime(workflow.Now(ctx)) + ": " + summarise(results)
			r.record(ctx, LedgerEvent{Kind: LedgerChecked, Decision: overall(results), Actor: d.Agent, Text: excerpt("before the grant: "+summarise(results), 500)})
			if override != "" {
				r.v.Override = d.Agent + ": " + override
				r.record(ctx, LedgerEvent{Kind: LedgerChecked, Decision: "override", Actor: d.Agent, Text: excerpt(override, 500)})
			}
		}
		if refused != nil {
			return nil, refused
		}
		if err := r.validate(ctx, d); err != nil {
			return nil, err // decided by someone else while the checks ran
		}
	}
	r.decided = &d
	msg := "Reinstatement denied; the action stands."
	if d.Decision == DecisionGrantReinstatement {
		msg = "Reinstatement granted; the action is being lifted."
		if p := r.in.Rules.Probation; p > 0 {
			msg += fmt.Sprintf(" Probation for %s.", p)
		}
	}
	return &DecisionResult{Status: StatusClosed, Message: msg}, nil
}

func (r *reinstatement) run(ctx workflow.Context) (*ReinstatementResult, error) {
	r.decidedF = r.decisionFuture(ctx)
	// The request that started the review (SignalWithStart delivers it first).
	var first CustomerReply
	r.requests.Receive(ctx, &first)
	if first.ReceivedAt.IsZero() {
		first.ReceivedAt = workflow.Now(ctx)
	}
	r.seen, _ = rememberID(r.seen, first.ID)
	start := workflow.Now(ctx)
	r.v.Request, r.v.RequestedAt, r.v.Messages = first, first.ReceivedAt, 1
	r.v.Due = r.in.Rules.Due(start)
	r.publish(ctx)
	r.record(ctx, LedgerEvent{At: first.ReceivedAt, Kind: LedgerReinstatementAsked, Actor: first.From, Text: excerpt(first.Excerpt, 500)})
	data := r.data()
	r.notify(ctx, NotifyInput{Step: "ack", Public: NoticeReinstatementAck, Note: NoteReinstatement, Status: TicketOpen, Data: data})

	reminders := r.in.Rules.Reminders
	sent := 0
	for r.decided == nil {
		var next time.Time
		switch {
		case sent < len(reminders):
			next = start.Add(reminders[sent].D())
		case !r.v.Breached:
			next = r.v.Due
		}
		fired := r.wait(ctx, next)
		if r.decided != nil || !fired {
			continue
		}
		d := r.data()
		if sent < len(reminders) {
			sent++
			d.Reminder = sent
			r.notify(ctx, NotifyInput{Step: fmt.Sprintf("reminder-%d", sent), Note: NoteReinstatement, Data: d})
			continue
		}
		r.v.Breached = true
		r.record(ctx, LedgerEvent{At: r.v.Due, Kind: LedgerSLABreached, Decision: SLAReinstatement})
		r.alert(ctx, "sla", fmt.Sprintf("The request to reinstate %s (%s) has had no decision since %s; it was due %s.", r.in.CaseNumber, r.in.Account.ID, fmtTime(start), fmtTime(r.v.Due)))
	}

	d := *r.decided
	now := workflow.Now(ctx)
	r.v.Reviewer, r.v.DecidedAt = d.Agent, now
	if !d.Notified {
		// A macro that answered the customer wrote its text on the ticket; the view keeps
		// only a reviewer's own note.
		r.v.Note = d.Note
	}
	res := &ReinstatementResult{Reviewer: d.Agent}
	if d.Decision == DecisionDenyReinstatement {
		r.v.Decision, r.v.Status, res.Decision = ReinstatementDenied, ReinstatementDenied, ReinstatementDenied
		r.publish(ctx)
		r.record(ctx, LedgerEvent{Kind: LedgerReinstatementDecided, Decision: "denied", Actor: d.Agent, Text: d.Note})
		data := r.data()
		r.notify(ctx, NotifyInput{Step: "denied", Public: publicUnless(d.Notified, NoticeReinstatementDenied), Note: NoteDecision, Status: TicketSolved, Data: data})
		return res, nil
	}
	r.v.Decision, res.Decision = "granted", "granted"
	var lifted ActionResult
	if err := workflow.ExecuteActivity(withAction(ctx), ActivityLiftAction, LiftInput{
		Key:      r.key + "/lift",
		ActionID: r.in.Enforcement.ActionID,
		Reason:   fmt.Sprintf("%s: reinstatement granted by %s", r.in.CaseNumber, d.Agent),
	}).Get(ctx, &lifted); err != nil {
		// The lift failed for good: people take over, and the request says so.
		r.alert(ctx, "lift", fmt.Sprintf("Reinstating %s (%s) was granted by %s, but lifting action %s failed: %s. Lift it by hand.", r.in.CaseNumber, r.in.Account.ID, d.Agent, r.in.Enforcement.ActionID, rootMessage(err)))
		return nil, err
	}
	for i, more := range r.in.Enforcement.Also { // the other resources of a takedown
		if err := workflow.ExecuteActivity(withAction(ctx), ActivityLiftAction, LiftInput{
			Key:      fmt.Sprintf("%s/lift/%d", r.key, i+1),
			ActionID: more.ActionID,
			Reason:   fmt.Sprintf("%s: reinstatement granted by %s", r.in.CaseNumber, d.Agent),
		}).Get(ctx, nil); err != nil {
			r.alert(ctx, "lift", fmt.Sprintf("Reinstating %s (%s) was granted by %s, but lifting action %s failed: %s. Lift it by hand.", r.in.CaseNumber, r.in.Account.ID, d.Agent, more.ActionID, rootMessage(err)))
			return nil, err
		}
	}
	r.v.LiftedAt, res.LiftedAt = lifted.LiftedAt, lifted.LiftedAt
	r.record(ctx, LedgerEvent{Kind: LedgerReinstatementDecided, Decision: "granted", Actor: d.Agent, Text: d.Note})
	r.record(ctx, LedgerEvent{Kind: LedgerLifted, Decision: "reinstatement"})
	if p := r.in.Rules.Probation.D(); p > 0 {
		r.v.ProbationUntil = workflow.Now(ctx).Add(p)
		r.v.Status = ReinstatementProbation
	} else {
		r.v.Status = ReinstatementEnded
	}
	r.publish(ctx)
	data = r.data()
	r.notify(ctx, NotifyInput{Step: "granted", Public: publicUnless(d.Notified, NoticeReinstatementGranted), Note: NoteDecision, Status: TicketSolved, Data: data})

	for r.v.Status == ReinstatementProbation {
		if r.wait(ctx, r.v.ProbationUntil) {
			r.v.Status = ReinstatementEnded
		}
	}
	r.publish(ctx)
	res.Reoffences = r.v.Reoffences
	return res, nil
}

// wait blocks until at (zero: no timer), a signal or a decision; true when the timer fired.
func (r *reinstatement) wait(ctx workflow.Context, at time.Time) bool {
	fired := false
	sel := workflow.NewSelector(ctx)
	var cancel workflow.CancelFunc
	if !at.IsZero() {
		tctx, c := workflow.WithCancel(ctx)
		cancel = c
		sel.AddFuture(workflow.NewTimer(tctx, max(0, at.Sub(workflow.Now(ctx)))), func(workflow.Future) { fired = true })
	}
	sel.AddReceive(r.requests, func(c workflow.ReceiveChannel, _ bool) {
		var m CustomerReply
		c.Receive(ctx, &m)
		r.onMessage(ctx, m)
	})
	sel.AddReceive(r.reoffend, func(c workflow.ReceiveChannel, _ bool) {
		var o Reoffence
		c.Receive(ctx, &o)
		r.onReoffence(ctx, o)
	})
	if r.decided == nil {
		sel.AddFuture(r.decidedF, func(workflow.Future) {})
	}
	sel.Select(ctx)
	if cancel != nil {
		cancel()
	}
	return fired
}

// decisionFuture is ready once a decision was taken (the update handler sets it).
func (r *reinstatement) decisionFuture(ctx workflow.Context) workflow.Future {
	f, set := workflow.NewFuture(ctx)
	workflow.Go(ctx, func(ctx workflow.Context) {
		_ = workflow.Await(ctx, func() bool { return r.decided != nil })
		set.Set(nil, nil)
	})
	return f
}

// onMessage notes a further message from the customer on the ticket.
func (r *reinstatement) onMessage(ctx workflow.Context, m CustomerReply) {
	var fresh bool
	if r.seen, fresh = rememberID(r.seen, m.ID); !fresh {
		return
	}
	r.v.Messages++
	if m.Kind == ReplyKindAutoReply || m.Kind == ReplyKindBounce {
		return
	}
	d := r.data()
	d.Reply, d.ReplyFrom = m.Excerpt, m.From
	status := ""
	if r.v.Status == ReinstatementReview {
		status = TicketOpen
	}
	r.notify(ctx, NotifyInput{Step: fmt.Sprintf("message-%d", r.v.Messages), Note: NoteReply, Status: status, Data: d})
}

// onReoffence records a new case on the account during probation.
func (r *reinstatement) onReoffence(ctx workflow.Context, o Reoffence) {
	if r.v.Status != ReinstatementProbation || slices.ContainsFunc(r.v.Reoffences, func(x Reoffence) bool { return x.CaseNumber == o.CaseNumber }) {
		return
	}
	if o.At.IsZero() {
		o.At = workflow.Now(ctx)
	}
	if len(r.v.Reoffences) < maxReoffences {
		r.v.Reoffences = append(r.v.Reoffences, o)
	}
	r.record(ctx, LedgerEvent{At: o.At, Kind: LedgerReoffended, Text: o.CaseNumber + " (" + string(o.Category) + ")"})
	d := r.data()
	d.Note = fmt.Sprintf("New case %s (%s) opened on %s during the probation that followed this reinstatement (until %s): a re-offence. It is on the strict track and needs a lead's approval.", o.CaseNumber, o.Category.Title(), r.in.Account.ID, fmtTime(r.v.ProbationUntil))
	r.notify(ctx, NotifyInput{Step: "reoffence-" + o.CaseNumber, Note: NoteReinstatement, Status: TicketOpen, Data: d})
	r.alert(ctx, "reoffence-"+o.CaseNumber, fmt.Sprintf("Re-offence: %s opened %s on %s, reinstated (%s) by %s until %s. The new case is on the strict track and waits for a lead's approval before any action.",
		o.CaseNumber, o.Category.Title(), r.in.Account.ID, r.in.CaseNumber, r.v.Reviewer, fmtTime(r.v.ProbationUntil)))
}

// data is the template data of the reinstatement's notices and notes.
func (r *reinstatement) data() NoticeData {
	e := r.in.Enforcement
	d := NoticeData{
		CaseID: r.in.CaseID, CaseNumber: r.in.CaseNumber, Account: r.in.Account, Category: r.in.Category, CategoryTitle: r.in.Category.Title(),
		Status: StatusClosed,
		Action: ActionView{Type: e.Type, Level: e.Level, Description: e.Type.Describe(e.Level), ID: e.ActionID, Scope: e.Scope, AppliedAt: e.AppliedAt},
		Reinstatement: &ReinstatementNotice{RequestedAt: r.v.RequestedAt, Due: r.v.Due, Request: r.v.Request.Excerpt, From: r.v.Request.From,
			Decision: r.v.Decision, Reviewer: r.v.Reviewer, Note: r.v.Note, ProbationUntil: r.v.ProbationUntil, Probation: r.in.Rules.Probation.D(), Breached: r.v.Breached},
		DecidedBy: r.v.Reviewer, Note: r.v.Note,
	}
	if d.Action.Scope != nil {
		d.Action.Description += " on " + d.Action.Scope.String()
	}
	return d
}

func (r *reinstatement) notify(ctx workflow.Context, in NotifyInput) {
	in.Ticket, in.Step = r.in.Ticket, r.key+"-"+in.Step
	if err := workflow.ExecuteActivity(withStep(ctx), ActivityNotify, in).Get(ctx, nil); err != nil {
		r.log.Error("reinstatement notice failed", "step", in.Step, "error", err)
	}
}

func (r *reinstatement) alert(ctx workflow.Context, step, text string) {
	if err := workflow.ExecuteActivity(withStep(ctx), ActivityAlert, AlertInput{Step: r.key + "-" + step, Text: text}).Get(ctx, nil); err != nil {
		r.log.Error("reinstatement alert failed", "step", step, "error", err)
	}
}

// record appends an event to the reinstated case's ledger (keyed by this review, so a second
// request's events never collide with the first's).
func (r *reinstatement) record(ctx workflow.Context, e LedgerEvent) {
	r.seq++
	e.Key = fmt.Sprintf("%s-%d", r.key, r.seq)
	if e.At.IsZero() {
		e.At = workflow.Now(ctx)
	}
	c := LedgerCase{Number: r.in.CaseNumber, ID: r.in.CaseID, Account: r.in.Account.ID, AccountName: r.in.Account.Name, Category: r.in.Category,
		Track: r.in.Category.Track(), Tier: r.in.Account.Tier, OpenedAt: r.in.OpenedAt}
	if err := workflow.ExecuteLocalActivity(withLedger(ctx), ActivityRecordEvents, RecordEventsInput{Case: c, Events: []LedgerEvent{e}}).Get(ctx, nil); err != nil {
		r.log.Error("reinstatement ledger event not recorded", "kind", e.Kind, "error", err)
	}
}

// publish keeps the search attributes current: the account, the case number and the status
// (probation is how a new case finds it), the due time or the probation's end.
func (r *reinstatement) publish(ctx workflow.Context) {
	due := r.v.Due
	if r.v.Status == ReinstatementProbation {
		due = r.v.ProbationUntil
	}
	updates := []temporal.SearchAttributeUpdate{
		SearchAccount.ValueSet(r.in.Account.ID), SearchCaseNumber.ValueSet(r.in.CaseNumber),
		SearchCategory.ValueSet(string(r.in.Category)), SearchStatus.ValueSet(r.v.Status),
	}
	if r.v.Status == ReinstatementReview || r.v.Status == ReinstatementProbation {
		updates = append(updates, SearchDeadline.ValueSet(due.UTC()))
	} else {
		updates = append(updates, SearchDeadline.ValueUnset())
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
		r.log.Warn("search attributes not updated", "error", err)
	}
}
