package workflows

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"abusedesk/domain/abuse"
	"abusedesk/domain/policy"
)

// The tracks besides abuse, each with its own lifecycle in the same Case workflow (one case
// per account and category, the same ticket, timeline, decisions and dashboard):
//
//   - legal (law-enforcement requests, CSAM notices): confidential. A restricted ticket in the
//     legal group, the evidence under legal hold, an alert to the legal channel, a due time with
//     reminders; the legal team decides (preserve, disclose, reject, ask for more) and who
//     decided is recorded. Never a word to the customer: every customer notice is withheld, and
//     the Notify activity refuses a public comment on a legal ticket. A CSAM notice also goes
//     straight to a lead for the takedown (the policy's action, with approval).
//   - advisory (vulnerable, infected, compromised): fix-it guidance to the customer, an update at
//     most once per renotify period while reports still list the host, closed when no report
//     listed it for the quiet period. Never enforced, never a violation.
//   - customer (a customer asking for help, e.g. their mail is blocked): a support ticket in the
//     support group with the account linked and the listings extracted; an agent answers and
//     closes it. Never enforced, never a violation.

// track is the case's track: its category's.
func (w *caseWorkflow) track() abuse.Track { return w.st.Category.Track() }

// confidential says no customer may hear of the case.
func (w *caseWorkflow) confidential() bool { return w.track().Confidential() }

// openTrack starts the legal or customer lifecycle; false for the other tracks.
func (w *caseWorkflow) openTrack(ctx workflow.Context) bool {
	switch w.track() {
	case abuse.TrackLegal:
		w.openLegal(ctx)
	case abuse.TrackCustomer:
		w.openSupport(ctx)
	default:
		return false
	}
	return true
}

// openInternal opens one of the case's internal tickets — triage, legal or support: nothing
// reaches the customer, the first reporter is the requester — and makes it the case's ticket.
// When it fails the case goes to review, still sending nothing (false).
func (w *caseWorkflow) openInternal(ctx workflow.Context, kind TicketKind) (TicketRef, bool) {
	name := cmp.Or(string(kind), "triage")
	var ref TicketRef
	err := workflow.ExecuteActivity(withStep(ctx), ActivityOpenTriage, OpenTriageInput{
		Kind: kind, ExternalID: w.st.ExternalID + "/" + name, Requester: w.requester(), Data: w.noticeData(ctx), Evidence: w.evidenceDigests(3),
	}).Get(ctx, &ref)
	if err != nil {
		w.stepFailed(ctx, "open the "+name+" ticket", err)
		return TicketRef{}, false
	}
	w.st.Ticket = ref
	return ref, true
}

// requester is who an internal ticket is from: the first reporter.
func (w *caseWorkflow) requester() string {
	if len(w.st.Reports.Reporters) > 0 {
		return w.st.Reports.Reporters[0]
	}
	return ""
}

// nextWake is when a wait with reminders at offsets from since wakes next: the next reminder
// not yet sent (true), else the due time until it has passed, else never (zero).
func nextWake(since time.Time, reminders []policy.Duration, sent int, due time.Time, breached bool) (time.Time, bool) {
	switch {
	case sent < len(reminders):
		return since.Add(reminders[sent].D()), true
	case !breached:
		return due, false
	}
	return time.Time{}, false
}

// ---- legal ----------------------------------------------------------------------------------

func (w *caseWorkflow) openLegal(ctx workflow.Context) {
	now := workflow.Now(ctx)
	l := &LegalState{Since: now, Due: now.Add(w.policy.Legal.Due.D())}
	if w.policy.Legal.Hours != nil && workflow.GetVersion(ctx, versionBusinessHours, workflow.DefaultVersion, 1) >= 1 {
		l.Due = w.policy.Legal.DueAt(now) // working time on the legal team's calendar
	}
	w.st.Legal = l
	csam := w.st.Category == abuse.CSAM
	if csam {
		l.Hotline = &HotlineStep{Due: now.Add(w.policy.Legal.HotlineWindow())}
	}
	if !csam && workflow.GetVersion(ctx, versionLegalLifecycle, workflow.DefaultVersion, 1) >= 1 {
		l.Lifecycle, l.Stage, l.Requests = true, LegalReceived, 1
		if n := len(w.st.Reports.Recent); n > 0 {
			w.readRequest(w.st.Reports.Recent[n-1], now)
		}
	}
	w.resolveLegalTeam(ctx)
	if !csam {
		w.setStatus(StatusLegalReview)
	}
	ref, ok := w.openInternal(ctx, TicketLegal)
	if !ok {
		return
	}
	w.note(ctx, EventLegal, fmt.Sprintf("legal matter in restricted ticket #%s; due %s; nothing goes to the customer", ref.ID, fmtTime(l.Due)), "")
	w.record(ctx, LedgerEvent{Kind: LedgerLegalOpened, Decision: l.Kind})
	if held := w.evidenceDigests(maxRecentReports); len(held) > 0 {
		err := workflow.ExecuteActivity(withStep(ctx), ActivityHoldEvidence, HoldInput{
			Key: w.st.CaseID + " " + w.st.CaseNumber, Digests: held, Reason: fmt.Sprintf("%s from %s", w.st.Category, w.requester()),
		}).Get(ctx, nil)
		if err != nil {
			w.stepFailedNoReview(ctx, "hold the evidence", err)
		} else {
			l.Held = held
			w.note(ctx, EventLegal, fmt.Sprintf("legal hold on %d piece(s) of evidence", len(held)), "")
		}
	}
	w.alertLegal(ctx, "opened", fmt.Sprintf("New %s%s for account %s: case %s, restricted ticket #%s, due %s%s.",
		w.st.Category.Title(), kindNote(l.Kind), w.st.Account.ID, w.st.CaseNumber, ref.ID, fmtTime(l.Due), statedNote(l)))
	w.pageOnCall(ctx, "opened")
	w.sendReceipt(ctx)
	if csam {
		// The takedown path: a lead approves the policy's action at once; the customer is not
		// told (the notices are withheld), and the reporting checklist is on the ticket.
		w.st.Escalations++
		w.st.EscalatedFor = fmt.Sprintf("a CSAM notice from %s; no notice to the customer (legal track)", cmp.Or(w.requester(), "a hotline"))
		w.setStatus(StatusEscalated)
		w.note(ctx, EventEscalation, "CSAM notice: takedown sent to the leads for approval", "")
		w.record(ctx, LedgerEvent{Kind: LedgerEscalated, Decision: "takedown"})
	}
}

// alertLegal posts to the legal team's channel; a failure is recorded, not fatal.
func (w *caseWorkflow) alertLegal(ctx workflow.Context, step, text string) {
	err := workflow.ExecuteActivity(withStep(ctx), ActivityAlert, AlertInput{Step: "legal-" + step, Channel: AlertChannelLegal, Text: text}).Get(ctx, nil)
	if err != nil {
		w.stepFailedNoReview(ctx, "alert the legal team", err)
	}
}

// awaitLegal waits for the legal team's decision, with reminders and an alert at the due time.
func (w *caseWorkflow) awaitLegal(ctx workflow.Context) {
	l := w.st.Legal
	if !l.TeamResolved && l.TeamError == "" {
		w.resolveLegalTeam(ctx) // a matter opened before the desk kept its legal team
	}
	if l.Lifecycle {
		w.awaitLegalMatter(ctx)
		return
	}
	next, isReminder := nextWake(l.Since, w.policy.Legal.Reminders, l.RemindersSent, l.Due, l.Breached)
	if !w.waitUntil(ctx, next) {
		return
	}
	w.drainSignals(ctx)
	if w.st.Status != StatusLegalReview {
		return
	}
	if l.TeamError != "" {
		w.resolveLegalTeam(ctx) // the team could not be read before: try again
	}
	data := w.noticeData(ctx)
	if isReminder {
		l.RemindersSent++
		data.Reminder = l.RemindersSent
		w.notify(ctx, NotifyInput{Step: fmt.Sprintf("legal-reminder-%d", l.RemindersSent), Note: NoteLegalReminder, Status: TicketOpen, Data: data})
		w.alertLegal(ctx, fmt.Sprintf("reminder-%d", l.RemindersSent), fmt.Sprintf("Reminder %d: case %s (%s, account %s) is due %s; ticket #%s.",
			l.RemindersSent, w.st.CaseNumber, w.st.Category.Title(), w.st.Account.ID, fmtTime(l.Due), w.st.Ticket.ID))
		w.note(ctx, EventLegal, fmt.Sprintf("legal reminder %d; due %s", l.RemindersSent, fmtTime(l.Due)), "")
		return
	}
	l.Breached = true
	w.notify(ctx, NotifyInput{Step: "legal-due", Note: NoteLegalReminder, Status: TicketOpen, Data: data})
	w.alertLegal(ctx, "due", fmt.Sprintf("Case %s (%s, account %s) is past its due time %s; ticket #%s.",
		w.st.CaseNumber, w.st.Category.Title(), w.st.Account.ID, fmtTime(l.Due), w.st.Ticket.ID))
	w.note(ctx, EventLegal, "the legal matter is past its due time; the legal team was alerted", "")
	w.record(ctx, LedgerEvent{At: l.Due, Kind: LedgerSLABreached, Decision: SLALegal})
}

// resolveLegalTeam reads the legal group's agents and keeps them in the case: only they decide
// the matter. When the ticketing system cannot say, nobody may until it can (the next reminder
// asks again), and the case says why.
func (w *caseWorkflow) resolveLegalTeam(ctx workflow.Context) {
	l := w.st.Legal
	if l == nil || workflow.GetVersion(ctx, versionLegalTeam, workflow.DefaultVersion, 1) < 1 {
		return
	}
	var res ResolveLegalTeamResult
	if err := workflow.ExecuteActivity(withDeciders(ctx), ActivityResolveLegalTeam, ResolveLegalTeamInput{}).Get(ctx, &res); err != nil {
		l.TeamError = err.Error()
		w.note(ctx, EventLegal, "could not read who is on the legal team ("+err.Error()+"); no decision is accepted until the desk can", "")
		return
	}
	l.Team, l.TeamResolved, l.TeamError = res.Agents, true, ""
}

// legalDecider checks that an agent is on the legal team the case resolved: every decision on
// a legal-track case is the legal team's, wherever it comes from.
func (w *caseWorkflow) legalDecider(d AgentDecision) error {
	l := w.st.Legal
	switch {
	case l == nil:
		return nil // no matter opened: nothing legal to decide yet (the status checks refuse)
	case l.TeamError != "":
		return fmt.Errorf("the desk could not read who is on the legal team (%s); no decision on this matter is accepted until it can", l.TeamError)
	case !l.TeamResolved:
		return errors.New("the legal team of this matter is not known yet; the desk reads it when the case next wakes (a reminder or a new report)")
	case d.AgentID == "" || !slices.Contains(l.Team, d.AgentID):
		return fmt.Errorf("%s is not on the legal team: only the legal group's agents decide a legal matter", cmp.Or(d.Agent, d.AgentID, "a decision naming no one"))
	}
	return nil
}

// validateLegal checks a legal decision.
func (w *caseWorkflow) validateLegal(ctx workflow.Context, d AgentDecision) error {
	l := w.st.Legal
	if w.st.Status != StatusLegalReview || l == nil {
		return fmt.Errorf("%s is a legal decision; the case is %s", d.Decision, w.st.Status)
	}
	if !l.Lifecycle {
		if !slices.Contains(legalSteps, d.Decision) {
			return fmt.Errorf("%s does not apply to this matter: it was opened before matters had a lifecycle (preserve, disclose or reject close it)", d.Decision)
		}
		return nil
	}
	now, p := workflow.Now(ctx), l.Preservation
	switch d.Decision {
	case DecisionExtendPreservation, DecisionReleasePreservation:
		if !p.Active(now) {
			return fmt.Errorf("%s needs records under preservation; %s", d.Decision, preservationState(p))
		}
	case DecisionCloseMatter:
		if p.Active(now) {
			return fmt.Errorf("the records are preserved until %s: release the preservation first (Legal: release preservation), or let it lapse", fmtTime(p.Until))
		}
		if l.Stage == LegalReceived || l.Stage == "" {
			return errors.New("nothing was decided on this matter yet: validate, preserve, disclose or reject the request before closing it")
		}
	case DecisionNotLegal:
		if !d.Category.Valid() || d.Category.Confidential() {
			return fmt.Errorf("not_legal needs the category the reports are (set the ticket's category field to one outside the legal track; it is %q)", d.Category)
		}
		if p.Active(now) {
			return fmt.Errorf("the records are preserved until %s: release the preservation first", fmtTime(p.Until))
		}
	case DecisionReject, DecisionDisclose:
		if strings.TrimSpace(d.Note) == "" {
			return fmt.Errorf("%s needs the basis in the note (the order, or why the request is refused): it is the record, and the answer to the authority", d.Decision)
		}
	}
	return nil
}

// preservationState says where a preservation stands, for a refusal.
func preservationState(p *Preservation) string {
	switch {
	case p == nil:
		return "nothing is preserved"
	case !p.ReleasedAt.IsZero():
		return "the preservation was released " + fmtTime(p.ReleasedAt)
	case !p.LapsedAt.IsZero():
		return "the preservation lapsed " + fmtTime(p.LapsedAt)
	}
	return "the preservation ended " + fmtTime(p.Until)
}

// onLegal records a legal decision. A matter with a lifecycle stays open until close_matter;
// one opened before closes on any decision but ask_more. Never a word to the customer.
func (w *caseWorkflow) onLegal(ctx workflow.Context, d AgentDecision) string {
	l := w.st.Legal
	l.Decisions = append(l.Decisions, LegalDecision{Decision: d.Decision, DecidedBy: d.Agent, DecidedAt: workflow.Now(ctx), Note: d.Note})
	if l.Lifecycle {
		return w.onLegalStep(ctx, d)
	}
	data := w.noticeData(ctx)
	data.Decision, data.DecidedBy, data.Note = string(d.Decision), d.Agent, d.Note
	w.queueNotify(fmt.Sprintf("legal-decision-%d", len(l.Decisions)), NotifyInput{Note: NoteDecision, Data: data})
	if d.Decision == DecisionAskMore {
		return "Recorded: more asked of the requester; the matter stays open, due " + fmtTime(l.Due) + "."
	}
	outcome := map[Decision]Outcome{DecisionPreserve: OutcomePreserved, DecisionDisclose: OutcomeDisclosed, DecisionReject: OutcomeRejected}[d.Decision]
	w.closeQuietly(ctx, outcome, true, false)
	return "Recorded: " + string(outcome) + " by " + d.Agent + "; the matter is closed. Nothing was sent to the customer."
}

// withhold drops the customer-facing part of a post on a confidential case (the internal note
// stays); false when nothing is left to post.
func (w *caseWorkflow) withhold(ctx workflow.Context, in *NotifyInput) bool {
	if in.Public == "" || !w.confidential() {
		return true
	}
	if slices.Contains(AuthorityNotices, in.Public) && in.Data.Authority != "" {
		return true // to the authority that is the ticket's requester (the activity checks it)
	}
	w.note(ctx, EventLegal, "customer notice "+in.Public+" withheld: legal track", "")
	in.Public = ""
	return in.Note != ""
}

// ---- customer -------------------------------------------------------------------------------

func (w *caseWorkflow) openSupport(ctx workflow.Context) {
	w.review(ctx, "our customer asks for help")
	// Only the account's own contacts hear about it: a stranger who says they are the
	// customer is asked to write from a known address, and learns nothing of the account.
	if !KnownContact(w.requester(), w.st.Account.ContactEmail) && workflow.GetVersion(ctx, versionSupportRequester, workflow.DefaultVersion, 1) >= 1 {
		w.st.Unverified = true
	}
	ref, ok := w.openInternal(ctx, TicketSupport)
	if !ok {
		return
	}
	if w.st.Unverified {
		w.queueNotify("support-unverified", NotifyInput{Public: NoticeSupportUnverified, Status: TicketPending, Data: w.noticeData(ctx)})
		w.note(ctx, EventNote, fmt.Sprintf("a request for help from %s, who is not a known contact of the account: support ticket #%s; they were asked to write from the account's address and told nothing of it", w.requester(), ref.ID), "")
		return
	}
	w.note(ctx, EventNote, fmt.Sprintf("the customer asks for help: support ticket #%s; no enforcement, no violation", ref.ID), "")
}

// versionSupportRequester checks that a request for help comes from a contact of the account.
const versionSupportRequester = "support-requester"

// KnownContact says whether who wrote is the account's contact, or writes from its domain (the
// customer track's check of who asks, and the Notify activity's that an authority is not the
// customer).
func KnownContact(who, contact string) bool {
	who, contact = strings.ToLower(strings.TrimSpace(who)), strings.ToLower(strings.TrimSpace(contact))
	if who == "" || contact == "" {
		return false
	}
	_, wd, ok1 := strings.Cut(who, "@")
	_, cd, ok2 := strings.Cut(contact, "@")
	return who == contact || ok1 && ok2 && wd == cd
}

// ---- advisory -------------------------------------------------------------------------------

// sendAdvice sends the advisory (fix-it guidance for the class) in the customer's ticket and
// starts watching later reports.
func (w *caseWorkflow) sendAdvice(ctx workflow.Context) {
	relisted := w.relisting(ctx)
	data := w.noticeData(ctx)
	data.Relisted = relisted
	data.Window = w.policy.Advisory.Renotify.D() // how often updates may follow
	var res OpenCaseResult
	err := workflow.ExecuteActivity(withStep(ctx), ActivityOpenCase, OpenCaseInput{
		ExternalID: w.st.ExternalID, Notice: data, Evidence: w.evidenceDigests(3), NoticeKind: NoticeAdvisory, SubjectKind: "advisory_subject",
	}).Get(ctx, &res)
	if err != nil {
		w.stepFailed(ctx, "open the ticket and send the advisory", err)
		return
	}
	now := workflow.Now(ctx)
	w.st.Ticket = res.Ticket
	w.st.Advisory = &AdvisoryState{NotifiedAt: now, LastUpdateAt: now, LastListedAt: now, ReportsAtUpdate: w.st.Reports.Count, CountSeen: w.st.Reports.Count,
		Relisted: relisted}
	w.setStatus(StatusMonitoring)
	w.note(ctx, EventNotice, fmt.Sprintf("advisory sent to %s (ticket #%s); closes after %s without a new report", w.st.Account.ContactEmail, res.Ticket.ID, w.policy.Advisory.Quiet), "")
	w.record(ctx, LedgerEvent{Kind: LedgerNoticed, Decision: "advisory"})
}

// relisting says whether a blocklist incident is a relisting: the account's previous blocklist
// incident closed delisted (quiet) within the policy's monitoring.relisted. It notes it on the
// case and in the ledger. Nil for every other incident.
func (w *caseWorkflow) relisting(ctx workflow.Context) *Relisting {
	window := w.policy.Relisted.D()
	if w.st.Category != abuse.Blocklist || window <= 0 || workflow.GetVersion(ctx, versionRelisting, workflow.DefaultVersion, 1) < 1 {
		return nil
	}
	var prev PreviousIncidentResult
	if err := workflow.ExecuteLocalActivity(withHint(ctx), ActivityPreviousIncident, PreviousIncidentInput{CaseID: w.st.CaseID}).Get(ctx, &prev); err != nil {
		w.log.Warn("previous incident not read; the listing is taken as a first one", "error", err)
		return nil
	}
	if !prev.Found || prev.Result.Outcome != OutcomeQuiet || workflow.Now(ctx).Sub(prev.Result.ClosedAt) > window {
		return nil
	}
	r := &Relisting{Previous: prev.Result.CaseNumber, ClosedAt: prev.Result.ClosedAt}
	w.note(ctx, EventNote, fmt.Sprintf("a relisting: incident %s closed delisted %s, within %s; the fix did not hold", r.Previous, fmtTime(r.ClosedAt), w.policy.Relisted), "")
	w.record(ctx, LedgerEvent{Kind: LedgerRelisted, Text: r.Previous})
	return r
}

// awaitMonitoring sends one update per renotify period while reports still list the host, and
// closes the case after the quiet period.
func (w *caseWorkflow) awaitMonitoring(ctx workflow.Context) {
	a, cfg := w.st.Advisory, w.policy.Advisory
	w.noteListed(ctx)
	quietAt := a.LastListedAt.Add(cfg.Quiet.D())
	next, isUpdate := quietAt, false
	if w.st.Reports.Count > a.ReportsAtUpdate {
		if at := a.LastUpdateAt.Add(cfg.Renotify.D()); at.Before(next) {
			next, isUpdate = at, true
		}
	}
	if !w.waitUntil(ctx, next) {
		return
	}
	w.drainSignals(ctx)
	w.noteListed(ctx)
	if w.st.Status != StatusMonitoring {
		return
	}
	now := workflow.Now(ctx)
	if isUpdate && w.st.Reports.Count > a.ReportsAtUpdate {
		data := w.noticeData(ctx)
		data.Reminder = w.st.Reports.Count - a.ReportsAtUpdate
		a.Updates++
		if w.notify(ctx, NotifyInput{Step: fmt.Sprintf("advisory-update-%d", a.Updates), Public: NoticeAdvisoryUpdate, Status: TicketPending, Data: data}) {
			w.note(ctx, EventReminder, fmt.Sprintf("advisory update %d: %d new report(s) still list the host", a.Updates, data.Reminder), "")
			w.record(ctx, LedgerEvent{Kind: LedgerReminded, Decision: "advisory update", Count: a.Updates})
		}
		a.LastUpdateAt, a.ReportsAtUpdate = now, w.st.Reports.Count
		return
	}
	if !now.Before(a.LastListedAt.Add(cfg.Quiet.D())) {
		w.finish(ctx, OutcomeQuiet, StatusResolved)
	}
}

// noteListed moves the quiet period on when new reports arrived.
func (w *caseWorkflow) noteListed(ctx workflow.Context) {
	if a := w.st.Advisory; a != nil && w.st.Reports.Count > a.CountSeen {
		a.CountSeen, a.LastListedAt = w.st.Reports.Count, workflow.Now(ctx)
	}
}
