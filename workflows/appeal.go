package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"abusedesk/domain/policy"
)

// Appeal decisions.
const (
	AppealGranted = "granted"
	AppealDenied  = "denied"
)

// AppealInput starts the Appeal child of a case.
type AppealInput struct {
	CaseID      string        `json:"case_id"`
	CaseNumber  string        `json:"case_number"`
	ExternalID  string        `json:"external_id"`
	Ticket      TicketRef     `json:"ticket"`
	Appeal      Appeal        `json:"appeal"`
	Number      int           `json:"number"`
	Enforcement Enforcement   `json:"enforcement"`
	Rules       policy.Appeal `json:"rules"`
	Data        NoticeData    `json:"data"`
}

// AppealDecision is the reviewer's decision, passed from the case (which checked the reviewer
// is not the lead who approved the enforcement).
type AppealDecision struct {
	Grant      bool   `json:"grant"`
	Reviewer   string `json:"reviewer"`
	ReviewerID string `json:"reviewer_id,omitempty"`
	Note       string `json:"note,omitempty"`
	// Notified: the reviewer's macro already told the customer.
	Notified bool `json:"notified,omitempty"`
}

// AppealResult is the decision and what it did.
type AppealResult struct {
	Decision  string    `json:"decision"`
	Reviewer  string    `json:"reviewer"`
	Note      string    `json:"note,omitempty"`
	DecidedAt time.Time `json:"decided_at"`
	LiftedAt  time.Time `json:"lifted_at,omitzero"`
}

// AppealWorkflow handles one appeal: it acknowledges it to the customer, waits for a reviewer's
// decision against the SLA (internal reminders at the policy's offsets, a breach noted once),
// and on a grant lifts the action (idempotently, verified) and tells the customer; on a denial
// it tells the customer the reasons.
func AppealWorkflow(ctx workflow.Context, in AppealInput) (*AppealResult, error) {
	a := &appealWorkflow{in: in}
	if err := a.setup(ctx); err != nil {
		return nil, err
	}
	return a.run(ctx)
}

type appealWorkflow struct {
	in        AppealInput
	log       log.Logger
	decisions workflow.ReceiveChannel
}

func (a *appealWorkflow) setup(ctx workflow.Context) error {
	if a.in.Enforcement.ActionID == "" || a.in.Ticket.IsZero() {
		return temporal.NewNonRetryableApplicationError("appeal input names no action or no ticket", ErrInvalidCaseInput, nil)
	}
	if a.in.Rules.SLA <= 0 {
		return temporal.NewNonRetryableApplicationError("appeal input has no SLA", ErrInvalidCaseInput, nil)
	}
	a.log = log.With(workflow.GetLogger(ctx), "case_id", a.in.CaseID, "appeal", a.in.Number)
	a.decisions = workflow.GetSignalChannel(ctx, signalAppealDecision)
	return nil
}

func (a *appealWorkflow) run(ctx workflow.Context) (*AppealResult, error) {
	actx := withStep(ctx)
	start := workflow.Now(ctx)
	sla := start.Add(a.in.Rules.SLA.D())
	if a.in.Rules.Hours != nil && workflow.GetVersion(ctx, versionBusinessHours, workflow.DefaultVersion, 1) >= 1 {
		sla = a.in.Rules.SLADue(start) // working time on the reviewers' calendar
	}
	data := a.in.Data
	data.AppealSLA = sla
	data.Reply, data.ReplyFrom = a.in.Appeal.Excerpt, a.in.Appeal.From
	step := func(s string) string { return fmt.Sprintf("appeal-%d-%s", a.in.Number, s) }
	notify := func(in NotifyInput) {
		in.Ticket = a.in.Ticket
		if err := workflow.ExecuteActivity(actx, ActivityNotify, in).Get(ctx, nil); err != nil {
			a.log.Error("appeal notice failed", "step", in.Step, "error", err)
		}
	}
	notify(NotifyInput{Step: step("ack"), Public: NoticeAppealAck, Status: TicketOpen, Data: data})

	var dec AppealDecision
	reminders := a.in.Rules.Reminders
	sent, breached := 0, false
	for {
		var next time.Time
		switch {
		case sent < len(reminders):
			next = start.Add(reminders[sent].D())
		case !breached:
			next = sla
		}
		got := false
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(a.decisions, func(c workflow.ReceiveChannel, _ bool) {
			c.Receive(ctx, &dec)
			got = true
		})
		var tctxCancel workflow.CancelFunc
		if !next.IsZero() {
			tctx, cancel := workflow.WithCancel(ctx)
			tctxCancel = cancel
			sel.AddFuture(workflow.NewTimer(tctx, max(0, next.Sub(workflow.Now(ctx)))), func(workflow.Future) {})
		}
		sel.Select(ctx)
		if tctxCancel != nil {
			tctxCancel()
		}
		if got {
			break
		}
		d := data
		if sent < len(reminders) {
			sent++
			d.Reminder = sent
			notify(NotifyInput{Step: step(fmt.Sprintf("reminder-%d", sent)), Note: NoteAppealReminder, Data: d})
			continue
		}
		breached = true
		d.Reminder = 0
		d.Note = "The appeal decision SLA has passed."
		notify(NotifyInput{Step: step("sla-breached"), Note: NoteAppealReminder, Data: d})
	}

	res := &AppealResult{Reviewer: dec.Reviewer, Note: dec.Note, DecidedAt: workflow.Now(ctx)}
	data.DecidedBy, data.Note = dec.Reviewer, dec.Note
	if !dec.Grant {
		res.Decision = AppealDenied
		data.Decision = AppealDenied
		notify(NotifyInput{Step: step("denied"), Public: publicUnless(dec.Notified, NoticeAppealDenied), Note: NoteDecision, Status: TicketPending, Data: data})
		return res, nil
	}
	res.Decision = AppealGranted
	lctx := withAction(ctx)
	var lifted ActionResult
	if err := workflow.ExecuteActivity(lctx, ActivityLiftAction, LiftInput{
		Key:        fmt.Sprintf("%s/lift/%d", a.in.ExternalID, a.in.Number),
		ActionID:   a.in.Enforcement.ActionID,
		Reason:     fmt.Sprintf("%s: appeal granted by %s", a.in.CaseNumber, dec.Reviewer),
		Overturned: true,
	}).Get(ctx, &lifted); err != nil {
		return nil, err
	}
	for i, more := range a.in.Enforcement.Also { // the other resources of a takedown
		if err := workflow.ExecuteActivity(lctx, ActivityLiftAction, LiftInput{
			Key:        fmt.Sprintf("%s/lift/%d/%d", a.in.ExternalID, a.in.Number, i+1),
			ActionID:   more.ActionID,
			Reason:     fmt.Sprintf("%s: appeal granted by %s", a.in.CaseNumber, dec.Reviewer),
			Overturned: true,
		}).Get(ctx, nil); err != nil {
			return nil, err
		}
	}
	res.LiftedAt = lifted.LiftedAt
	data.Decision = AppealGranted
	notify(NotifyInput{Step: step("granted"), Public: publicUnless(dec.Notified, NoticeAppealGranted), Note: NoteDecision, Status: TicketPending, Data: data})
	return res, nil
}

// publicUnless is the customer notice kind, or none when someone already told the customer.
func publicUnless(notified bool, kind string) string {
	if notified {
		return ""
	}
	return kind
}
