package workflows

import (
	"cmp"
	"fmt"
	"slices"

	"go.temporal.io/sdk/workflow"
)

// Effects: activities decided inside handlers run in order from the main loop; a step that
// fails for good goes to people; closing a case solves its ticket and tells the reporters.

func (w *caseWorkflow) effect(name string, run func(ctx workflow.Context) error) {
	w.effects = append(w.effects, effect{name: name, run: run})
}

func (w *caseWorkflow) runEffects(ctx workflow.Context) {
	for len(w.effects) > 0 {
		e := w.effects[0]
		w.effects = w.effects[1:]
		if err := e.run(ctx); err != nil {
			w.stepFailedNoReview(ctx, e.name, err)
		}
	}
}

func (w *caseWorkflow) queueNotify(step string, in NotifyInput) {
	if w.st.Ticket.IsZero() {
		return
	}
	in.Ticket, in.Step = w.st.Ticket, step
	w.effect("post "+cmp.Or(in.Public, in.Note), func(ctx workflow.Context) error {
		if !w.withhold(ctx, &in) {
			return nil
		}
		return workflow.ExecuteActivity(withStep(ctx), ActivityNotify, in).Get(ctx, nil)
	})
}

// notify posts on the ticket now; false when it failed (already recorded).
func (w *caseWorkflow) notify(ctx workflow.Context, in NotifyInput) bool {
	if w.st.Ticket.IsZero() {
		return false
	}
	if !w.withhold(ctx, &in) {
		return false
	}
	in.Ticket = w.st.Ticket
	if err := workflow.ExecuteActivity(withStep(ctx), ActivityNotify, in).Get(ctx, nil); err != nil {
		w.stepFailedNoReview(ctx, "post "+cmp.Or(in.Public, in.Note), err)
		return false
	}
	return true
}

// stepFailed records a step that failed for good (its activity gave up) and hands the case to
// people: it moves to under_review, where an agent decides.
func (w *caseWorkflow) stepFailed(ctx workflow.Context, step string, err error) {
	w.stepFailedNoReview(ctx, step, err)
	if !w.st.Status.Final() && w.st.Status != StatusAppealReview {
		w.withdrawApproval(ctx, "a step failed")
		w.st.Wait = nil
		w.review(ctx, "a step failed: "+step)
	}
}

func (w *caseWorkflow) stepFailedNoReview(ctx workflow.Context, step string, err error) {
	w.log.Error("case step failed", "step", step, "error", err)
	w.note(ctx, EventNote, "failed to "+step+": "+rootMessage(err), "")
}

// finish sets the outcome and queues the closing effects.
func (w *caseWorkflow) finish(ctx workflow.Context, o Outcome, final Status) {
	w.finishNotified(ctx, o, final, false)
}

// finishNotified closes the case; notified says the customer already has the closing answer
// (an agent's macro), so the ticket is only solved.
func (w *caseWorkflow) finishNotified(ctx workflow.Context, o Outcome, final Status, notified bool) {
	w.closeState(ctx, o, final)
	// A legal matter closes without a word to the customer; a support ticket with the agent's.
	silent := w.confidential() || w.track().Rules().Support
	w.closeEffects(ctx, closing{solve: true, notified: notified || silent, ack: w.st.Rules.AcknowledgeReporters})
}

// closeQuietly ends a case without a closing notice of its own: its ticket is solved (or, with
// solve false, left open for the team it went to); reporters hear the outcome only with ack.
func (w *caseWorkflow) closeQuietly(ctx workflow.Context, o Outcome, solve, ack bool) {
	w.closeState(ctx, o, StatusResolved)
	w.closeEffects(ctx, closing{solve: solve, notified: true, ack: ack && w.st.Rules.AcknowledgeReporters})
}

// closeState records the outcome and the final status.
func (w *caseWorkflow) closeState(ctx workflow.Context, o Outcome, final Status) {
	w.st.Outcome = o
	w.setStatus(final)
	w.st.Wait = nil
	w.st.ClosedAt = workflow.Now(ctx)
	w.note(ctx, EventClosed, "closed: "+string(o), "")
	w.record(ctx, LedgerEvent{At: w.st.ClosedAt, Kind: LedgerClosed, Outcome: o})
	w.tellOpenHandOffs(ctx, o)
}

// versionHandOffCaseClosed tells a case's open hand-offs that it closed.
const versionHandOffCaseClosed = "handoff-case-closed"

// tellOpenHandOffs tells each hand-off still open that the case closed, so that it stops
// chasing its team and is no longer due on the work queue. (The version marker is written only
// on cases with an open hand-off.)
func (w *caseWorkflow) tellOpenHandOffs(ctx workflow.Context, o Outcome) {
	var open []string
	for _, h := range w.st.HandOffs {
		if h.Status != HandOffResolved {
			open = append(open, h.ChildID)
		}
	}
	if len(open) == 0 || workflow.GetVersion(ctx, versionHandOffCaseClosed, workflow.DefaultVersion, 1) < 1 {
		return
	}
	for _, id := range open {
		if err := workflow.SignalExternalWorkflow(ctx, id, "", SignalHandOffCaseClosed, string(o)).Get(ctx, nil); err != nil {
			w.log.Warn("an open hand-off was not told its case closed", "handoff", id, "error", err)
		}
	}
}

// closing says what closing a case does: solve its ticket (notified: with no closing notice of
// its own), tell the reporters the outcome.
type closing struct{ solve, notified, ack bool }

// closeEffects queues the closing effects.
func (w *caseWorkflow) closeEffects(ctx workflow.Context, c closing) {
	if w.st.Ticket.IsZero() {
		return
	}
	data := w.noticeData(ctx)
	if c.solve {
		w.effect("close the ticket", func(ctx workflow.Context) error {
			return workflow.ExecuteActivity(withStep(ctx), ActivityCloseCase, CloseCaseInput{Ticket: w.st.Ticket, Step: "closed", Data: data, Notified: c.notified}).Get(ctx, nil)
		})
	}
	if c.ack && len(w.st.Reports.Reporters) > 0 {
		reporters := slices.Clone(w.st.Reports.Reporters)
		w.effect("acknowledge the reporters", func(ctx workflow.Context) error {
			var res AcknowledgeResult
			if err := workflow.ExecuteActivity(withStep(ctx), ActivityAcknowledgeReporter, AcknowledgeInput{Step: "reporter-ack", Reporters: reporters, Data: data}).Get(ctx, &res); err != nil {
				return err
			}
			w.note(ctx, EventNote, fmt.Sprintf("outcome sent to %d reporter(s)", res.Sent), "")
			return nil
		})
	}
}
