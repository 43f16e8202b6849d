package workflows

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"

	"abusedesk/domain/abuse"
)

// Inbox and timers: the case waits on one timer and its signals (reports, customer replies,
// appeals); reports are counted once, replies stop the clock.

// waitUntil blocks until at (zero: no timer), a signal, or an update handler's nudge. It
// returns true when the timer fired. The timer is kept across calls while its time stays the
// same, so signals do not churn timers in the history.
func (w *caseWorkflow) waitUntil(ctx workflow.Context, at time.Time) bool {
	fired := false
	sel := workflow.NewSelector(ctx)
	if !at.IsZero() {
		t := w.timerFor(ctx, at)
		sel.AddFuture(t, func(workflow.Future) { fired = true })
	} else {
		w.cancelTimer()
	}
	w.addSignals(ctx, sel)
	sel.AddReceive(w.wake, func(c workflow.ReceiveChannel, _ bool) { c.ReceiveAsync(nil) })
	w.flushLedger(ctx)
	sel.Select(ctx)
	if fired {
		w.timer, w.timerCancel, w.timerAt = nil, nil, time.Time{}
	}
	return fired
}

func (w *caseWorkflow) timerFor(ctx workflow.Context, at time.Time) workflow.Future {
	if w.timer != nil && w.timerAt.Equal(at) {
		return w.timer
	}
	w.cancelTimer()
	d := at.Sub(workflow.Now(ctx))
	if d < 0 {
		d = 0
	}
	tctx, cancel := workflow.WithCancel(ctx)
	w.timer, w.timerCancel, w.timerAt = workflow.NewTimer(tctx, d), cancel, at
	return w.timer
}

func (w *caseWorkflow) cancelTimer() {
	if w.timerCancel != nil {
		w.timerCancel()
	}
	w.timer, w.timerCancel, w.timerAt = nil, nil, time.Time{}
}

func (w *caseWorkflow) addSignals(ctx workflow.Context, sel workflow.Selector) {
	sel.AddReceive(w.reportsCh, func(c workflow.ReceiveChannel, _ bool) {
		var s ReportsSignal
		c.Receive(ctx, &s)
		w.recordSignal(ctx, s)
		// Take every batch already queued in one go.
		for {
			s = ReportsSignal{}
			if !c.ReceiveAsync(&s) {
				break
			}
			w.recordSignal(ctx, s)
		}
	})
	sel.AddReceive(w.replyCh, func(c workflow.ReceiveChannel, _ bool) {
		var r CustomerReply
		c.Receive(ctx, &r)
		w.onReply(ctx, r)
	})
	sel.AddReceive(w.appealCh, func(c workflow.ReceiveChannel, _ bool) {
		var a Appeal
		c.Receive(ctx, &a)
		w.onAppeal(ctx, a)
	})
	sel.AddReceive(w.handOffCh, func(c workflow.ReceiveChannel, _ bool) {
		var e HandOffEvent
		c.Receive(ctx, &e)
		w.onHandOff(ctx, e)
	})
}

// drainSignals handles every signal already delivered, without blocking.
func (w *caseWorkflow) drainSignals(ctx workflow.Context) {
	for {
		var s ReportsSignal
		var r CustomerReply
		var a Appeal
		var e HandOffEvent
		switch {
		case w.reportsCh.ReceiveAsync(&s):
			w.recordSignal(ctx, s)
		case w.replyCh.ReceiveAsync(&r):
			w.onReply(ctx, r)
		case w.appealCh.ReceiveAsync(&a):
			w.onAppeal(ctx, a)
		case w.handOffCh.ReceiveAsync(&e):
			w.onHandOff(ctx, e)
		default:
			return
		}
	}
}

// drainNewReports takes the reports delivered after the case closed (those it had not seen).
func (w *caseWorkflow) drainNewReports(ctx workflow.Context) []ReportsSignal {
	var out []ReportsSignal
	for {
		var s ReportsSignal
		if !w.reportsCh.ReceiveAsync(&s) {
			return out
		}
		fresh := ReportsSignal{Reporters: s.Reporters}
		for _, r := range s.Reports {
			if !r.isDuplicate(w.seen) {
				fresh.Reports = append(fresh.Reports, r)
			}
		}
		for _, ref := range s.Refs {
			if _, dup := w.seen[ref.Hash]; !dup {
				fresh.Refs = append(fresh.Refs, ref)
			}
		}
		if len(fresh.Reports)+len(fresh.Refs) > 0 {
			out = append(out, fresh)
		}
	}
}

// logDropped logs customer messages that arrived after the case closed; intake has already
// put them on the ticket, so nothing is lost, but the case does not act on them.
func (w *caseWorkflow) logDropped(ctx workflow.Context) {
	var r CustomerReply
	for w.replyCh.ReceiveAsync(&r) {
		w.log.Warn("customer message after the case closed", "message_id", r.ID, "kind", r.Kind)
	}
	var a Appeal
	for w.appealCh.ReceiveAsync(&a) {
		w.log.Warn("appeal after the case closed", "message_id", a.ID)
	}
}

// recordSignal counts a batch — its refs (counted only) and its whole reports (counted and
// kept among the recent ones) — skips reports already seen, and may raise severity or pull
// the deadline in (surge).
func (w *caseWorkflow) recordSignal(ctx workflow.Context, s ReportsSignal) {
	dups := 0
	var evidence []string     // of the new whole reports
	var latest *ReportSummary // the newest of them
	var added []ReportSummary // the new whole reports, for the triage ticket
	// The batch's new reports, for the ledger: how many, from whom, naming what.
	batch := LedgerEvent{Kind: LedgerReports}
	rs := &w.st.Reports
	before := rs.Severity
	count := func(h uint64, seenAt time.Time, sev abuse.Severity, reporter string) bool {
		if _, dup := w.seen[h]; dup {
			dups++
			return false
		}
		w.seen.remember(w.st, h)
		w.countForFeed(seenAt)
		batch.addReports(reporter, 1)
		rs.Count++
		if !seenAt.IsZero() && (rs.FirstSeen.IsZero() || seenAt.Before(rs.FirstSeen)) {
			rs.FirstSeen = seenAt
		}
		if seenAt.After(rs.LastSeen) {
			rs.LastSeen = seenAt
		}
		rs.Severity = max(rs.Severity, sev)
		if reporter != "" && !slices.Contains(rs.Reporters, reporter) {
			if len(rs.Reporters) < maxReporters {
				rs.Reporters = append(rs.Reporters, reporter)
			} else {
				rs.ReportersLost++
			}
		}
		return true
	}
	for _, ref := range s.Refs {
		var seenAt time.Time
		if ref.Seen != 0 {
			seenAt = time.Unix(ref.Seen, 0).UTC()
		}
		reporter := ""
		if ref.Reporter > 0 && ref.Reporter <= len(s.Reporters) {
			reporter = s.Reporters[ref.Reporter-1]
		}
		sev := ref.Severity
		if sev == 0 {
			sev = w.st.Category.DefaultSeverity()
		}
		count(ref.Hash, seenAt, sev, reporter)
	}
	for _, r := range s.Reports {
		sev := r.Severity
		if sev == 0 {
			sev = r.Category.DefaultSeverity()
		}
		if r.Content != "" && r.isDuplicate(w.seen) {
			dups++ // the same evidence under another ID (or counted by its ID before)
			continue
		}
		if count(r.dedupeHash(), r.seen(), sev, r.Reporter) {
			if r.Evidence != "" {
				evidence = append(evidence, r.Evidence)
			}
			latest = &r
			if len(added) < maxRecentReports {
				added = append(added, r)
			}
			batch.addIndicators(notReporters(r.Reporter, r.Subjects)...)
			rs.Recent = append(rs.Recent, r)
			if len(rs.Recent) > maxRecentReports {
				rs.Recent = slices.Delete(rs.Recent, 0, len(rs.Recent)-maxRecentReports)
			}
		}
	}
	rs.Duplicates += dups
	if batch.Count == 0 && dups == 0 {
		return
	}
	w.noteReports(ctx, batch.Count, dups)
	if batch.Count > 0 {
		w.record(ctx, batch)
	}
	if rs.Severity > before && before != 0 {
		w.note(ctx, EventReports, "severity raised to "+rs.Severity.String(), "")
	}
	if w.st.Status == StatusAwaitingResponse {
		w.applySurge(ctx)
	}
	if t := w.st.Triage; w.st.Status == StatusNeedsTriage && t != nil && t.Decision == "" && !t.Ticket.IsZero() && len(added) > 0 &&
		workflow.GetVersion(ctx, versionTriageUpdates, workflow.DefaultVersion, 1) >= 1 {
		// The person triaging sees every report the case will act on, not only the first.
		data := w.noticeData(ctx)
		data.Reports.Examples = added
		w.queueNotify(fmt.Sprintf("triage-reports-%d", rs.Count), NotifyInput{Note: NoteTriageReports, Status: TicketOpen, Data: data})
	}
	if l := w.st.Legal; l != nil && l.Lifecycle && w.st.Status == StatusLegalReview && batch.Count > 0 {
		w.onLegalRequest(ctx, batch.Count, latest, evidence)
	}
}

// onReply handles a customer's message in any state.
func (w *caseWorkflow) onReply(ctx workflow.Context, r CustomerReply) {
	var fresh bool
	if w.st.ReplyIDs, fresh = rememberID(w.st.ReplyIDs, r.ID); !fresh {
		return
	}
	if r.ReceivedAt.IsZero() {
		r.ReceivedAt = workflow.Now(ctx)
	}
	if r.Kind == ReplyKindAutoReply || r.Kind == ReplyKindBounce {
		w.st.AutoReplies++
		w.note(ctx, EventAutoReply, string(r.Kind)+" from "+r.From+" recorded; it does not count as an answer", r.From)
		return
	}
	w.st.Replies++
	if w.confidential() && w.st.Legal != nil && w.st.Legal.Lifecycle {
		// On a legal matter the only one who writes in its thread is the requester (the
		// authority): not a customer's answer, and not counted as one.
		w.note(ctx, EventLegal, "the requester wrote: "+excerpt(r.Excerpt, 200), r.From)
	} else {
		w.note(ctx, EventReply, "customer replied: "+excerpt(r.Excerpt, 200), r.From)
		w.record(ctx, LedgerEvent{At: r.ReceivedAt, Kind: LedgerReplied, Actor: r.From, Text: string(r.Channel)})
	}
	if r.Channel == ChannelEmail && !w.st.Ticket.IsZero() {
		data := w.noticeData(ctx)
		data.Reply, data.ReplyFrom = r.Excerpt, r.From
		w.queueNotify(fmt.Sprintf("reply-%d", w.st.Replies), NotifyInput{Note: NoteReply, Status: TicketOpen, Data: data})
	}
	switch w.st.Status {
	case StatusAwaitingResponse, StatusNoticed, StatusEscalated:
		w.st.Wait = nil
		w.review(ctx, "the customer answered")
		w.precheckOnReply(ctx)
	case StatusPendingApproval:
		w.withdrawApproval(ctx, "the customer replied")
		w.review(ctx, "the customer answered")
		w.precheckOnReply(ctx)
	case StatusEnforced:
		w.onAppeal(ctx, Appeal{ID: r.ID, From: r.From, ReceivedAt: r.ReceivedAt, Channel: r.Channel, Excerpt: r.Excerpt})
		if w.st.Status == StatusAppealReview && workflow.GetVersion(ctx, versionChecksBeforeLifting, workflow.DefaultVersion, 1) >= 1 {
			w.precheckOnReply(ctx) // the reviewer reads what the checks find before deciding
		}
	}
}

func (w *caseWorkflow) nudge() { w.wake.SendAsync(true) }

// versionTriageUpdates lists on the triage ticket the reports that arrive while a case waits for
// triage.
const versionTriageUpdates = "triage-updates"
