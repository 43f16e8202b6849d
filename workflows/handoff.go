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

	"abusedesk/domain/approval"
	"abusedesk/domain/policy"
)

// Hand-offs: an agent hands work on a case to another team named in the policy (security, a
// service team, a senior agent…) with a reason. A HandOff child workflow opens the team's work
// item — a ticket in the team's Zendesk group linked to the case, and a message in the team's
// Slack channel with Resolve, Need info and Reassign — runs the team's SLA (on its calendar),
// pings up the team's chain once it passes (the team lead, then the T&S manager), and tells the
// case what happens (signal SignalHandOff); the case shows it and goes on with the answer.
// Several hand-offs may run at once; the case's own timers keep running.

// HandOffWorkflowType is the workflow type name.
const HandOffWorkflowType = "HandOff"

// DecisionHandOff hands work to a team (AgentDecision.Team names it, Note says why).
const DecisionHandOff Decision = "hand_off"

// Hand-off signals and updates.
const (
	// SignalHandOff carries a hand-off's news to its case (HandOffEvent).
	SignalHandOff = "handoff"
	// UpdateHandOffAnswer applies a team's answer (approval.TeamAnswer → DecisionResult).
	UpdateHandOffAnswer = "handoff-answer"
	// SignalHandOffCaseClosed tells a hand-off that its case closed (a string: the outcome).
	SignalHandOffCaseClosed = "handoff-case-closed"
)

// States of a hand-off.
const (
	HandOffOpen     = "open"
	HandOffNeedInfo = "need_info"
	HandOffResolved = "resolved"
)

// Ledger kinds of hand-offs (recorded on the case).
const (
	LedgerHandedOff   = "handed_off"
	LedgerHandOffDone = "handoff_resolved"
)

// maxHandOffs bounds the hand-offs of one case.
const maxHandOffs = 20

// HandOffWorkflowID is the workflow of a case's n-th hand-off.
func HandOffWorkflowID(caseID string, n int) string { return fmt.Sprintf("%s/handoff/%d", caseID, n) }

// HandOffInput starts a hand-off.
type HandOffInput struct {
	CaseID     string `json:"case_id"`
	CaseNumber string `json:"case_number"`
	N          int    `json:"n"`
	Team       string `json:"team"`
	// Teams are the policy's teams (a reassignment goes to one of them).
	Teams  map[string]policy.Team `json:"teams"`
	Reason string                 `json:"reason"`
	By     string                 `json:"by"`
	Ticket TicketRef              `json:"ticket"`
	Data   NoticeData             `json:"data"`
}

// HandOffEvent is a hand-off's news for its case.
type HandOffEvent struct {
	N     int       `json:"n"`
	Kind  string    `json:"kind"` // opened, need_info, reassigned, escalated, resolved, failed
	Team  string    `json:"team"`
	Due   time.Time `json:"due,omitzero"`
	By    string    `json:"by,omitempty"`
	Text  string    `json:"text,omitempty"`
	At    time.Time `json:"at"`
	Level int       `json:"level,omitempty"`
	// Work is the team's linked ticket.
	Work TicketRef `json:"work,omitzero"`
}

// HandOffState is one hand-off as the case shows it.
type HandOffState struct {
	N        int       `json:"n"`
	Team     string    `json:"team"`
	Title    string    `json:"title"`
	Reason   string    `json:"reason"`
	By       string    `json:"by"`
	At       time.Time `json:"at"`
	Due      time.Time `json:"due,omitzero"`
	Status   string    `json:"status"`
	Level    int       `json:"level,omitempty"`
	Work     TicketRef `json:"work,omitzero"`
	ChildID  string    `json:"child_id"`
	Question string    `json:"question,omitempty"`
	// AskedAt is when the team asked its latest question (the agent's turn, due within the
	// policy's review_sla).
	AskedAt time.Time `json:"asked_at,omitzero"`
	// Asked counts the team's questions (each one's note is its own step).
	Asked   int       `json:"asked,omitempty"`
	Outcome string    `json:"outcome,omitempty"`
	DoneBy  string    `json:"done_by,omitempty"`
	DoneAt  time.Time `json:"done_at,omitzero"`
}

// HandOffResult is how a hand-off ended.
type HandOffResult struct {
	Team       string    `json:"team"`
	Resolution string    `json:"resolution"`
	By         string    `json:"by"`
	At         time.Time `json:"at"`
}

// OpenHandOffInput opens (or finds, on a retry) a hand-off's work item: the linked ticket in the
// team's group and the message in its channel; a note on the case's ticket says so.
type OpenHandOffInput struct {
	Step       string           `json:"step"`
	WorkflowID string           `json:"workflow_id"`
	Team       string           `json:"team"`
	Title      string           `json:"title"`
	Group      int64            `json:"group,omitempty"`
	Channel    string           `json:"channel"`
	Reason     string           `json:"reason"`
	By         string           `json:"by"`
	Due        time.Time        `json:"due"`
	CaseTicket TicketRef        `json:"case_ticket"`
	Work       TicketRef        `json:"work,omitzero"`
	Data       NoticeData       `json:"data"`
	Message    approval.Message `json:"message,omitzero"`
}

// OpenHandOffResult is the work item.
type OpenHandOffResult struct {
	Work    TicketRef        `json:"work"`
	Message approval.Message `json:"message"`
}

// HandOffNoteInput posts on a hand-off's Slack thread (Mention pinged) and, optionally, updates
// its message to show the outcome and comments on its linked ticket (solving it when Solve).
type HandOffNoteInput struct {
	Message approval.Message      `json:"message"`
	Mention string                `json:"mention,omitempty"`
	Text    string                `json:"text,omitempty"`
	Show    *approval.HandOffShow `json:"show,omitempty"`
	Work    TicketRef             `json:"work,omitzero"`
	Comment string                `json:"comment,omitempty"`
	Solve   bool                  `json:"solve,omitempty"`
	// Group moves the linked ticket to another team's group (a reassignment; 0: stays).
	Group int64 `json:"group,omitempty"`
}

// Hand-off activities.
const (
	ActivityOpenHandOff = "OpenHandOff"
	ActivityHandOffNote = "HandOffNote"
)

type handOff struct {
	in      HandOffInput
	team    string
	t       policy.Team
	log     log.Logger
	answer  *approval.TeamAnswer
	answers []approval.TeamAnswer
	seq     int
	msg     approval.Message
	work    TicketRef
	due     time.Time
	level   int
	opened  time.Time
	// closedAs is the case's outcome once it closed while this ran; closedSeen once the
	// hand-off stopped chasing the team for it.
	closedAs   string
	closedSeen bool
}

// HandOffWorkflow runs one hand-off until the team resolves it.
func HandOffWorkflow(ctx workflow.Context, in HandOffInput) (*HandOffResult, error) {
	t, ok := in.Teams[in.Team]
	if !ok || in.CaseID == "" {
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("hand-off input names no case or an unknown team %q", in.Team), ErrInvalidCaseInput, nil)
	}
	h := &handOff{in: in, team: in.Team, t: t, log: log.With(workflow.GetLogger(ctx), "case_id", in.CaseID, "handoff", in.N)}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateHandOffAnswer, h.onAnswer, workflow.UpdateHandlerOptions{Validator: h.validate}); err != nil {
		return nil, err
	}
	closed := workflow.GetSignalChannel(ctx, SignalHandOffCaseClosed)
	workflow.Go(ctx, func(ctx workflow.Context) {
		var outcome string
		closed.Receive(ctx, &outcome)
		h.closedAs = cmpOr(outcome, "closed")
	})
	return h.run(ctx)
}

func (h *handOff) validate(_ workflow.Context, a approval.TeamAnswer) error {
	if strings.TrimSpace(a.UserID) == "" && strings.TrimSpace(a.UserEmail) == "" {
		return errors.New("the answer names nobody")
	}
	if h.answer != nil && h.answer.Action == approval.HandOffResolve {
		return fmt.Errorf("the hand-off was already resolved by %s", cmpOr(h.answer.UserName, h.answer.UserID))
	}
	switch a.Action {
	case approval.HandOffResolve:
	case approval.HandOffNeedInfo:
		if strings.TrimSpace(a.Text) == "" {
			return errors.New("asking for information needs the question")
		}
	case approval.HandOffReassign:
		to := strings.ToLower(strings.TrimSpace(a.Text))
		if _, ok := h.in.Teams[to]; !ok {
			return fmt.Errorf("no team %q in the policy (teams: %s)", a.Text, teamList(h.in.Teams))
		}
		if to == h.team {
			return fmt.Errorf("the hand-off is already with %s", h.t.Name(to))
		}
	default:
		return fmt.Errorf("unknown answer %q", a.Action)
	}
	return nil
}

func (h *handOff) onAnswer(ctx workflow.Context, a approval.TeamAnswer) (*DecisionResult, error) {
	if err := h.validate(ctx, a); err != nil {
		return nil, err
	}
	h.answers = append(h.answers, a)
	if a.Action == approval.HandOffResolve {
		h.answer = &a
	}
	msg := map[string]string{
		approval.HandOffResolve:  "Resolved; the case has it.",
		approval.HandOffNeedInfo: "Asked; the agent reads it on the case's ticket.",
		approval.HandOffReassign: "Reassigned to " + strings.ToLower(strings.TrimSpace(a.Text)) + ".",
	}[a.Action]
	return &DecisionResult{Status: StatusOpen, Message: msg}, nil
}

func (h *handOff) run(ctx workflow.Context) (*HandOffResult, error) {
	h.opened = workflow.Now(ctx)
	if err := h.open(ctx, ""); err != nil {
		h.tell(ctx, HandOffEvent{Kind: "failed", Text: "the team's work item could not be opened: " + rootMessage(err)})
		return nil, err
	}
	for {
		var next time.Time
		if h.level <= len(h.t.Chain) {
			next = h.due
			if h.level > 0 {
				next = h.t.StepAfter(h.due)
				for i := 1; i < h.level; i++ {
					next = h.t.StepAfter(next)
				}
			}
		}
		fired := h.wait(ctx, next)
		if h.closedAs != "" && !h.closedSeen {
			h.caseClosed(ctx)
			fired = false
		}
		for len(h.answers) > 0 {
			a := h.answers[0]
			h.answers = h.answers[1:]
			if done := h.apply(ctx, a); done != nil {
				return done, nil
			}
		}
		if fired {
			h.escalate(ctx)
		}
	}
}

// wait blocks until at (zero: no timer) or an answer; true when the timer fired.
func (h *handOff) wait(ctx workflow.Context, at time.Time) bool {
	news := func() bool { return len(h.answers) > 0 || h.closedAs != "" && !h.closedSeen }
	if at.IsZero() {
		_ = workflow.Await(ctx, news)
		return false
	}
	ok, _ := workflow.AwaitWithTimeout(ctx, max(time.Millisecond, at.Sub(workflow.Now(ctx))), news)
	return !ok
}

// caseClosed stops chasing the team once the case closed (issue 34, item 7): no more
// escalations, no due time on the work queue, and the team's message and work item say so. The
// hand-off stays open for the team to finish or resolve.
func (h *handOff) caseClosed(ctx workflow.Context) {
	h.closedSeen = true
	h.level = len(h.t.Chain) + 1
	h.due = time.Time{}
	text := fmt.Sprintf("Case %s closed (%s) while this hand-off was open: it is no longer due; resolve it when your work is done.", h.in.CaseNumber, h.closedAs)
	h.note(ctx, HandOffNoteInput{Message: h.msg, Text: text, Work: h.work, Comment: text})
	h.publish(ctx)
}

// open opens the work item for the current team (a reassignment opens a new message).
func (h *handOff) open(ctx workflow.Context, why string) error {
	h.due, h.level = h.t.Due(workflow.Now(ctx)), 0
	h.seq++
	in := OpenHandOffInput{
		Step: fmt.Sprintf("handoff-%d-%d", h.in.N, h.seq), WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID,
		Team: h.team, Title: h.t.Name(h.team), Group: h.t.Group, Channel: h.t.Channel, Reason: h.in.Reason + why, By: h.in.By, Due: h.due,
		CaseTicket: h.in.Ticket, Work: h.work, Data: h.in.Data,
	}
	var res OpenHandOffResult
	if err := workflow.ExecuteActivity(withStep(ctx), ActivityOpenHandOff, in).Get(ctx, &res); err != nil {
		return err
	}
	h.work, h.msg = res.Work, res.Message
	kind := "opened"
	if h.seq > 1 {
		kind = "reassigned"
	}
	h.tell(ctx, HandOffEvent{Kind: kind, Team: h.team, Due: h.due, Work: h.work, Text: why})
	h.publish(ctx)
	return nil
}

// apply acts on one answer; it returns the result when the hand-off is done.
func (h *handOff) apply(ctx workflow.Context, a approval.TeamAnswer) *HandOffResult {
	who := cmpOr(a.UserName, a.UserEmail, a.UserID)
	now := workflow.Now(ctx)
	switch a.Action {
	case approval.HandOffNeedInfo:
		h.note(ctx, HandOffNoteInput{Message: h.msg, Text: who + " asked the agent: " + a.Text, Work: h.work, Comment: who + " asked the agent: " + a.Text})
		h.tell(ctx, HandOffEvent{Kind: HandOffNeedInfo, Team: h.team, By: who, Text: a.Text, Due: h.due})
		return nil
	case approval.HandOffReassign:
		to := strings.ToLower(strings.TrimSpace(a.Text))
		from := h.t.Name(h.team)
		h.note(ctx, HandOffNoteInput{Message: h.msg, Show: &approval.HandOffShow{CaseNumber: h.in.CaseNumber, Team: from, Outcome: approval.HandOffReassign,
			By: who, At: now, Text: "to " + h.in.Teams[to].Name(to)}, Work: h.work, Group: h.in.Teams[to].Group,
			Comment: fmt.Sprintf("Reassigned by %s from %s to %s.", who, from, h.in.Teams[to].Name(to))})
		h.team, h.t = to, h.in.Teams[to]
		if err := h.open(ctx, fmt.Sprintf(" (reassigned from %s by %s)", from, who)); err != nil {
			h.tell(ctx, HandOffEvent{Kind: "failed", Team: h.team, Text: "the reassignment could not open the team's work item: " + rootMessage(err)})
		}
		return nil
	}
	h.note(ctx, HandOffNoteInput{Message: h.msg, Show: &approval.HandOffShow{CaseNumber: h.in.CaseNumber, Team: h.t.Name(h.team), Outcome: approval.HandOffResolve, By: who, At: now, Text: a.Text},
		Work: h.work, Comment: "Resolved by " + who + noteSuffix(a.Text), Solve: true})
	h.tell(ctx, HandOffEvent{Kind: HandOffResolved, Team: h.team, By: who, Text: a.Text})
	return &HandOffResult{Team: h.team, Resolution: a.Text, By: who, At: now}
}

// escalate pings the next of the chain once the SLA (or the last ping's step) passed; after the
// chain the hand-off waits for the team with no further timer.
func (h *handOff) escalate(ctx workflow.Context) {
	h.level++
	if h.level > len(h.t.Chain) {
		return
	}
	mention := h.t.Chain[h.level-1]
	if strings.HasPrefix(mention, "S") {
		mention = "<!subteam^" + mention + ">"
	} else {
		mention = "<@" + mention + ">"
	}
	text := fmt.Sprintf("Hand-off of case %s to %s is past its SLA (due %s, %s). Please see that it is answered.", h.in.CaseNumber, h.t.Name(h.team), fmtTime(h.due), h.in.Reason)
	h.note(ctx, HandOffNoteInput{Message: h.msg, Mention: mention, Text: text})
	h.tell(ctx, HandOffEvent{Kind: "escalated", Team: h.team, Level: h.level, Due: h.due, Text: h.t.Chain[h.level-1]})
}

func (h *handOff) note(ctx workflow.Context, in HandOffNoteInput) {
	if err := workflow.ExecuteActivity(withStep(ctx), ActivityHandOffNote, in).Get(ctx, nil); err != nil {
		h.log.Error("hand-off note failed", "error", err)
	}
}

// tell signals the case; a case that closed meanwhile is noted, not an error.
func (h *handOff) tell(ctx workflow.Context, e HandOffEvent) {
	e.N, e.At = h.in.N, workflow.Now(ctx)
	if e.Team == "" {
		e.Team = h.team
	}
	if err := workflow.SignalExternalWorkflow(ctx, h.in.CaseID, "", SignalHandOff, e).Get(ctx, nil); err != nil {
		h.log.Warn("the case was not told of its hand-off", "kind", e.Kind, "error", err)
	}
}

// publish keeps the search attributes current for the work queue: the case, the team, due.
func (h *handOff) publish(ctx workflow.Context) {
	due := SearchDeadline.ValueSet(h.due.UTC())
	if h.due.IsZero() {
		due = SearchDeadline.ValueUnset() // the case closed: nothing is due
	}
	err := workflow.UpsertTypedSearchAttributes(ctx,
		SearchCaseNumber.ValueSet(h.in.CaseNumber), SearchAccount.ValueSet(h.in.Data.Account.ID),
		SearchCategory.ValueSet(string(h.in.Data.Category)), SearchStatus.ValueSet("handoff:"+h.team), due)
	if err != nil {
		h.log.Warn("search attributes not updated", "error", err)
	}
}

// teamList names the teams, sorted (the map's order does not reach the result).
//
//workflowcheck:ignore
func teamList(teams map[string]policy.Team) string {
	names := make([]string, 0, len(teams))
	for name := range teams {
		names = append(names, name)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

func cmpOr(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}
