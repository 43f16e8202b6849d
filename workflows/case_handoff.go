package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/workflow"
)

// The case's side of hand-offs (handoff.go): it starts a HandOff child per hand-off, keeps
// each one's state from the child's news, and puts what the team answered before the agent.

func (w *caseWorkflow) validateHandOff(d AgentDecision) error {
	team := strings.ToLower(strings.TrimSpace(d.Team))
	if len(w.policy.Teams) == 0 {
		return errors.New("the policy names no teams to hand work to (the teams section)")
	}
	if _, ok := w.policy.Teams[team]; !ok {
		return fmt.Errorf("no team %q in the policy (teams: %s)", d.Team, teamList(w.policy.Teams))
	}
	if strings.TrimSpace(d.Note) == "" {
		return errors.New("a hand-off needs the reason in the note: it is what the team reads")
	}
	if w.st.Status.Final() {
		return fmt.Errorf("the case is %s", w.st.Status)
	}
	if len(w.st.HandOffs) >= maxHandOffs {
		return fmt.Errorf("the case has %d hand-offs already", len(w.st.HandOffs))
	}
	for _, h := range w.st.HandOffs {
		if h.Team == team && h.Status != HandOffResolved {
			return fmt.Errorf("%s already has a hand-off of this case open (since %s)", h.Title, fmtTime(h.At))
		}
	}
	return nil
}

// startHandOff starts the n-th hand-off's child; it runs on if the case closes first (its team's
// work is not thrown away), and tells the case what happens while it runs.
func (w *caseWorkflow) startHandOff(ctx workflow.Context, d AgentDecision) string {
	team := strings.ToLower(strings.TrimSpace(d.Team))
	t := w.policy.Teams[team]
	n := len(w.st.HandOffs) + 1
	h := HandOffState{N: n, Team: team, Title: t.Name(team), Reason: d.Note, By: d.Agent, At: workflow.Now(ctx), Status: HandOffOpen,
		ChildID: HandOffWorkflowID(w.st.CaseID, n), Due: t.Due(workflow.Now(ctx))}
	w.st.HandOffs = append(w.st.HandOffs, h)
	w.note(ctx, EventHandOff, fmt.Sprintf("handed to %s by %s: %s (due %s)", h.Title, d.Agent, excerpt(d.Note, 200), fmtTime(h.Due)), d.Agent)
	w.record(ctx, LedgerEvent{Kind: LedgerHandedOff, Actor: d.Agent, Decision: team, Text: excerpt(d.Note, 500)})
	in := HandOffInput{CaseID: w.st.CaseID, CaseNumber: w.st.CaseNumber, N: n, Team: team, Teams: w.policy.Teams, Reason: d.Note, By: d.Agent,
		Ticket: w.st.Ticket, Data: w.noticeData(ctx)}
	w.effect("hand off to "+h.Title, func(ctx workflow.Context) error {
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: h.ChildID, ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_ABANDON})
		child := workflow.ExecuteChildWorkflow(cctx, HandOffWorkflowType, in)
		return child.GetChildWorkflowExecution().Get(ctx, nil)
	})
	w.syncPause(ctx)
	return fmt.Sprintf("Handed to %s; due %s. The case shows what they answer.", h.Title, fmtTime(h.Due))
}

// onHandOff takes a hand-off's news.
func (w *caseWorkflow) onHandOff(ctx workflow.Context, e HandOffEvent) {
	i := slices.IndexFunc(w.st.HandOffs, func(h HandOffState) bool { return h.N == e.N })
	if i < 0 {
		w.log.Warn("news of an unknown hand-off", "n", e.N)
		return
	}
	h := &w.st.HandOffs[i]
	title := func() string {
		if t, ok := w.policy.Teams[e.Team]; ok {
			return t.Name(e.Team)
		}
		return e.Team
	}
	switch e.Kind {
	case "opened":
		h.Work, h.Due = e.Work, e.Due
	case "reassigned":
		from := h.Title
		h.Team, h.Title, h.Due, h.Level, h.Work, h.Status = e.Team, title(), e.Due, 0, e.Work, HandOffOpen
		w.note(ctx, EventHandOff, fmt.Sprintf("hand-off %d reassigned from %s to %s%s", h.N, from, h.Title, e.Text), e.By)
	case "escalated":
		if h.Level == 0 {
			w.record(ctx, LedgerEvent{At: h.Due, Kind: LedgerSLABreached, Decision: SLAHandoff, Text: h.Team})
		}
		h.Level = e.Level
		w.note(ctx, EventHandOff, fmt.Sprintf("hand-off to %s past its SLA (due %s): %s pinged", h.Title, fmtTime(h.Due), e.Text), "")
	case HandOffNeedInfo:
		h.Status, h.Question, h.AskedAt = HandOffNeedInfo, e.Text, e.At
		h.Asked++
		w.note(ctx, EventHandOff, fmt.Sprintf("%s (%s) needs information: %s", h.Title, e.By, excerpt(e.Text, 300)), e.By)
		data := w.noticeData(ctx)
		data.Note = fmt.Sprintf("%s (%s) needs information for the hand-off of this case: %s\n\nAnswer them on their ticket (%s).", h.Title, e.By, e.Text, ticketLink(h.Work))
		w.queueNotify(fmt.Sprintf("handoff-%d-info-%d", h.N, h.Asked), NotifyInput{Note: NoteHandOff, Status: TicketOpen, Data: data})
	case HandOffResolved:
		h.Status, h.Outcome, h.DoneBy, h.DoneAt = HandOffResolved, e.Text, e.By, e.At
		w.note(ctx, EventHandOff, fmt.Sprintf("%s resolved the hand-off (%s)%s", h.Title, e.By, noteSuffix(e.Text)), e.By)
		w.record(ctx, LedgerEvent{At: e.At, Kind: LedgerHandOffDone, Actor: e.By, Decision: h.Team, Text: excerpt(e.Text, 500)})
		data := w.noticeData(ctx)
		data.Note = fmt.Sprintf("%s resolved the hand-off of this case (%s): %s", h.Title, e.By, cmpOr(e.Text, "(no note)"))
		w.queueNotify(fmt.Sprintf("handoff-%d-resolved", h.N), NotifyInput{Note: NoteHandOff, Status: TicketOpen, Data: data})
	case "failed":
		h.Status, h.Outcome = HandOffResolved, "failed: "+e.Text
		w.note(ctx, EventHandOff, "hand-off to "+h.Title+" failed: "+e.Text, "")
	}
	w.syncPause(ctx)
	w.nudge()
}

// syncPause stops the customer's response clock while a hand-off to a team whose policy pauses
// the case is open, and starts it again — deadline and reminders moved on by the pause — when
// none is.
func (w *caseWorkflow) syncPause(ctx workflow.Context) {
	wait := w.st.Wait
	if wait == nil || w.st.Status != StatusAwaitingResponse {
		return
	}
	var by string
	for _, h := range w.st.HandOffs {
		if h.Status != HandOffResolved && w.policy.Teams[h.Team].PauseCase {
			by = h.Title
			break
		}
	}
	now := workflow.Now(ctx)
	switch {
	case by != "" && wait.PausedAt.IsZero():
		wait.PausedAt = now
		w.note(ctx, EventHandOff, "the customer's deadline is paused while "+by+" has the hand-off", "")
	case by == "" && !wait.PausedAt.IsZero():
		d := now.Sub(wait.PausedAt)
		wait.StartedAt, wait.Deadline, wait.PausedAt = wait.StartedAt.Add(d), wait.Deadline.Add(d), time.Time{}
		w.note(ctx, EventHandOff, fmt.Sprintf("the customer's deadline runs again after a pause of %s; now %s", d.Round(time.Second), fmtTime(wait.Deadline)), "")
	}
}

func ticketLink(t TicketRef) string {
	if t.URL != "" {
		return t.URL
	}
	if !t.IsZero() {
		return "#" + t.ID
	}
	return "the team's ticket"
}
