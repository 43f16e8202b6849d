package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"abusedesk/domain/abuse"
	"abusedesk/domain/policy"
)

// What the case shows: search attributes for lists, the timeline, the data templates render,
// and the status query's view.

type searchValue struct {
	key string
	val any
	upd temporal.SearchAttributeUpdate
}

// publish upserts the search attributes that changed since the last call (all of them at the
// start of a run).
func (w *caseWorkflow) publish(ctx workflow.Context) {
	st := w.st
	vals := []searchValue{
		{SearchStatus.GetName(), string(st.Status), SearchStatus.ValueSet(string(st.Status))},
		{SearchAccount.GetName(), st.Account.ID, SearchAccount.ValueSet(st.Account.ID)},
		{SearchCategory.GetName(), string(st.Category), SearchCategory.ValueSet(string(st.Category))},
		{SearchCaseNumber.GetName(), st.CaseNumber, SearchCaseNumber.ValueSet(st.CaseNumber)},
		{SearchReportCount.GetName(), int64(st.Reports.Count), SearchReportCount.ValueSet(int64(st.Reports.Count))},
	}
	if st.Account.Tier != "" {
		vals = append(vals, searchValue{SearchTier.GetName(), st.Account.Tier, SearchTier.ValueSet(st.Account.Tier)})
	}
	if !st.Ticket.IsZero() {
		vals = append(vals, searchValue{SearchTicket.GetName(), st.Ticket.String(), SearchTicket.ValueSet(st.Ticket.String())})
	}
	if n, ok := st.Ticket.Number(); ok {
		vals = append(vals, searchValue{SearchTicketID.GetName(), n, SearchTicketID.ValueSet(n)})
	}
	if a := st.Assignee; a != nil {
		vals = append(vals, searchValue{SearchAssignee.GetName(), a.ID, SearchAssignee.ValueSet(a.ID)})
	} else if _, was := w.published[SearchAssignee.GetName()]; was {
		vals = append(vals, searchValue{SearchAssignee.GetName(), "", SearchAssignee.ValueUnset()})
	}
	if deadline, _ := w.deadline(); deadline.IsZero() {
		vals = append(vals, searchValue{SearchDeadline.GetName(), time.Time{}, SearchDeadline.ValueUnset()})
	} else {
		vals = append(vals, searchValue{SearchDeadline.GetName(), deadline.UTC(), SearchDeadline.ValueSet(deadline.UTC())})
	}
	var updates []temporal.SearchAttributeUpdate
	for _, v := range vals {
		if old, ok := w.published[v.key]; ok && old == v.val {
			continue
		}
		w.published[v.key] = v.val
		updates = append(updates, v.upd)
	}
	if len(updates) > 0 {
		if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
			w.log.Warn("search attributes not updated", "error", err)
		}
	}
}

// deadline is the time the current wait ends, and what it is.
func (w *caseWorkflow) deadline() (time.Time, string) {
	switch w.st.Status {
	case StatusLegalReview:
		l := w.st.Legal
		switch {
		case l == nil:
		case !l.Lifecycle || !l.Answered:
			return l.Due, "legal decision"
		case l.Preservation.Running():
			return l.Preservation.Until, "preservation lapses"
		}
	case StatusMonitoring:
		if a := w.st.Advisory; a != nil {
			return a.LastListedAt.Add(w.policy.Advisory.Quiet.D()), "quiet period"
		}
	case StatusNeedsTriage:
		if t := w.st.Triage; t != nil && t.Decision == "" {
			return t.Due, "triage"
		}
	case StatusAwaitingResponse:
		if w.st.Wait != nil && !w.st.Wait.PausedAt.IsZero() {
			return time.Time{}, "" // paused while a team has the hand-off
		}
		if w.st.Wait != nil {
			return w.st.Wait.Deadline, "response"
		}
	case StatusPendingApproval:
		if a := w.st.Approval; a != nil && !a.Deadline.IsZero() {
			return a.Deadline, "approval"
		}
	case StatusEnforced:
		if e := w.st.Enforcement; e != nil {
			return e.AppealUntil, "appeal window"
		}
	case StatusAppealReview:
		if ap := w.st.Appeal; ap != nil && !ap.SLADeadline.IsZero() {
			return ap.SLADeadline, "appeal decision"
		}
	case StatusUnderReview:
		if r := w.st.Review; r != nil {
			return r.Due, "agent's review"
		}
	case StatusVerifying:
		if rm := w.st.Remediation; rm != nil && rm.Done < len(rm.Due) {
			return rm.Due[rm.Done], "re-check of the fix"
		}
	}
	return time.Time{}, ""
}

func (w *caseWorkflow) note(ctx workflow.Context, kind, text, actor string) {
	w.reportsOpen = false
	w.st.Timeline = append(w.st.Timeline, TimelineEntry{At: workflow.Now(ctx), Kind: kind, Text: text, Actor: actor})
	w.trimTimeline()
}

// noteReports coalesces consecutive report batches into one timeline entry, so a storm does
// not push everything else out of the bounded timeline.
func (w *caseWorkflow) noteReports(ctx workflow.Context, added, dups int) {
	if n := len(w.st.Timeline); w.reportsOpen && n > 0 && w.st.Timeline[n-1].Kind == EventReports {
		w.reportsAdded += added
		w.reportsDups += dups
		e := &w.st.Timeline[n-1]
		e.At = workflow.Now(ctx)
		e.Text = reportsText(w.reportsAdded, w.reportsDups)
		return
	}
	w.note(ctx, EventReports, reportsText(added, dups), "")
	w.reportsOpen, w.reportsAdded, w.reportsDups = true, added, dups
}

func reportsText(added, dups int) string {
	s := fmt.Sprintf("%d new report(s)", added)
	if dups > 0 {
		s += fmt.Sprintf(", %d duplicate(s) ignored", dups)
	}
	return s
}

func (w *caseWorkflow) trimTimeline() {
	if over := len(w.st.Timeline) - maxTimeline; over > 0 {
		w.st.Timeline = slices.Delete(w.st.Timeline, 0, over)
		w.st.TimelineLost += over
	}
}

func (w *caseWorkflow) evidenceDigests(n int) []string {
	var out []string
	for _, r := range w.st.Reports.Recent {
		if r.Evidence != "" && !slices.Contains(out, r.Evidence) {
			out = append(out, r.Evidence)
		}
		if len(out) == n {
			break
		}
	}
	return out
}

// noticeData is the template data for the case as it stands.
func (w *caseWorkflow) noticeData(ctx workflow.Context) NoticeData {
	st := w.st
	rs := st.Reports
	examples := certainFirst(rs.Recent, w.policy.Triage.Confidence)
	if len(examples) > 5 {
		examples = examples[len(examples)-5:]
	}
	d := NoticeData{
		CaseID: st.CaseID, Status: st.Status, CaseNumber: st.CaseNumber, Account: st.Account, Category: st.Category,
		CategoryTitle: st.Category.Title(), Track: st.Track,
		Reports: ReportDigest{Count: rs.Count, FirstSeen: rs.FirstSeen, LastSeen: rs.LastSeen,
			Severity: rs.Severity.String(), Examples: slices.Clone(examples), Reporters: len(rs.Reporters) + rs.ReportersLost},
		Action:  ActionView{Type: st.Rules.Action.Type, Level: st.Rules.Action.Level},
		Outcome: st.Outcome, DiscloseReporters: st.Rules.DiscloseReporters,
		Delisting: w.delistingLists(), Traffic: st.Traffic,
	}
	if st.Wait != nil {
		d.Deadline, d.Window = st.Wait.Deadline, st.Wait.Deadline.Sub(st.Wait.StartedAt)
	}
	d.Reasons = w.statementReasons()
	if e := st.Enforcement; e != nil {
		d.Action.ID, d.Action.AppliedAt, d.Action.ExpiresAt = e.ActionID, e.AppliedAt, e.ExpiresAt
		d.AppealUntil = e.AppealUntil
		d.Action.Scope = e.Scope
	} else {
		d.Action.Scope = w.actionScope() // what the notice warns of
	}
	d.Action.Description = st.Rules.Action.Type.DescribeOn(st.Rules.Action.Level, d.Action.Scope)
	if st.Category.Track() == abuse.TrackMessaging && d.Action.Scope == nil && st.Enforcement == nil {
		// Texts with no one number, sender or campaign to act on: no automatic action, a
		// person decides (never the whole account on its own).
		d.Action.Type, d.Action.Description = abuse.ActionNone, abuse.ActionNone.Describe(0)
	}
	if ap := st.Appeal; ap != nil {
		d.AppealSLA = ap.SLADeadline
	}
	if st.Approval != nil || st.Rules.Approval.Required {
		d.ApprovalNeeds = w.approvalReason()
	}
	if t := st.Triage; t != nil {
		d.TriageReason, d.TriageDue = t.Reason, t.Due
	}
	d.Unverified = st.Unverified
	if l := st.Legal; l != nil {
		d.Deadline = l.Due
		if l.Lifecycle {
			d.Legal = l
			d.Authority, d.AuthorityLocale = w.authorityOf()
		}
	}
	d.Remediation = st.Remediation
	return d
}

// certainFirst are the reports a customer's notice quotes: the certain ones when there are any
// (an uncertain report that rode along with them is not quoted), else all.
func certainFirst(recent []ReportSummary, threshold float64) []ReportSummary {
	var certain []ReportSummary
	for _, r := range recent {
		if reportDoubt(r, threshold) == "" {
			certain = append(certain, r)
		}
	}
	if len(certain) == 0 || len(certain) == len(recent) {
		return recent
	}
	return certain
}

// statementReasons are the ground and redress routes the case's policy names (a case started
// before the policy named them takes the defaults), and who decided its action.
func (w *caseWorkflow) statementReasons() StatementReasons {
	p := w.policy.Reasons
	if p.Ground == "" || p.OutOfCourt == "" || p.Judicial == "" {
		p = policy.DefaultReasonsFor(w.st.Category)
	}
	r := StatementReasons{Ground: p.Ground, Law: p.Law, OutOfCourt: p.OutOfCourt, Judicial: p.Judicial, Detected: true, Notices: w.st.Reports.Count}
	if e := w.st.Enforcement; e != nil {
		r.Decided = e.AllowedBy != "" || e.ApprovedBy == "" && e.ApprovedByEmail == ""
	}
	return r
}

func (w *caseWorkflow) view(ctx workflow.Context) *CaseView {
	st := w.st
	deadline, kind := w.deadline()
	v := &CaseView{
		CaseID: st.CaseID, CaseNumber: st.CaseNumber, Status: st.Status, Account: st.Account,
		Category: st.Category, Track: st.Track, Severity: st.Reports.Severity.String(), OpenedAt: st.OpenedAt,
		Deadline: deadline, DeadlineKind: kind, Reports: st.Reports, Replies: st.Replies, AutoReplies: st.AutoReplies,
		CategoryTrack: st.Category.Track(), Ticket: st.Ticket, Triage: st.Triage, Legal: st.Legal, Advisory: st.Advisory, Traffic: st.Traffic, Approval: st.Approval, Enforcement: st.Enforcement, Appeal: st.Appeal,
		Remediation: st.Remediation, HandOffs: st.HandOffs, Review: st.Review, Assignee: st.Assignee,
		Outcome: st.Outcome, ClosedAt: st.ClosedAt, Timeline: st.Timeline, TimelineLost: st.TimelineLost, PolicyRules: st.Rules, Runs: st.Runs,
	}
	return v
}

func fmtTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// noteIf records a decision as an internal note when the agent's macro answered the customer.
func noteIf(notified bool) string {
	if notified {
		return NoteDecision
	}
	return ""
}

func noteSuffix(n string) string {
	if n = strings.TrimSpace(n); n == "" {
		return ""
	}
	return ": " + excerpt(n, 200)
}

func excerpt(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && (s[cut]&0xC0) == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}

// rootMessage is the innermost message of an activity error, which is what people need.
func rootMessage(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Error()
	}
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}

// delistingLists are the monitored blocklists the case's reports say listed it (the blocklist
// watch's report IDs name the list's zone: "dnsbl:ZONE:ADDRESS:TIME"), or every monitored list
// when no report says (a feed's or a person's report of a listing).
func (w *caseWorkflow) delistingLists() []policy.Blocklist {
	var named []policy.Blocklist
	for _, bl := range w.policy.Blocklists {
		prefix := "dnsbl:" + strings.Trim(bl.Zone, ".") + ":"
		if slices.ContainsFunc(w.st.Reports.Recent, func(r ReportSummary) bool { return strings.HasPrefix(r.ID, prefix) }) {
			named = append(named, bl)
		}
	}
	if len(named) == 0 {
		return slices.Clone(w.policy.Blocklists)
	}
	return named
}
