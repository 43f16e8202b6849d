package workflows

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"abusedesk/domain/abuse"
)

// The case ledger: every case records what happened to it (opened, noticed, replied, escalated,
// approved, enforced, appealed, closed with its outcome, …) as ledger events, appended to a SQL
// database by the RecordEvents activity. An event's key is its case number and its place in the
// case (LedgerEvent.Key), so a retried or repeated append records nothing twice.

// RecordEventsInput appends events of one case to the ledger.
type RecordEventsInput struct {
	Case   LedgerCase    `json:"case"`
	Events []LedgerEvent `json:"events"`
}

// LedgerCase is what the ledger knows of a case besides its events; the latest values win.
type LedgerCase struct {
	Number  string `json:"number"`
	ID      string `json:"id"`
	Account string `json:"account"`
	// AccountName is the customer's name, for searching cases by it (empty until the account is
	// loaded).
	AccountName string         `json:"account_name,omitempty"`
	Category    abuse.Category `json:"category"`
	// Track is the category's track (abuse, advisory, legal, customer, messaging); Rules the account's
	// (standard, strict, strategic), Tier its tier, both empty until the account is loaded.
	Track    abuse.Track `json:"track"`
	Rules    string      `json:"rules,omitempty"`
	Tier     string      `json:"tier,omitempty"`
	OpenedAt time.Time   `json:"opened_at"`
	// AccountCreated is when the account was opened (zero: not known).
	AccountCreated time.Time `json:"account_created,omitzero"`
}

// LedgerEvent is one event of a case.
type LedgerEvent struct {
	// Key is unique within the case: the event's number ("7") for events a case records as they
	// happen, "state-<kind>-<n>" for events rebuilt from a case's state (LedgerFromView).
	Key  string    `json:"key"`
	At   time.Time `json:"at"`
	Kind string    `json:"kind"`
	// Actor is who did it (an agent, a lead, a reviewer, a customer's address); empty for the desk.
	Actor string `json:"actor,omitempty"`
	// Decision is what was decided (approve, deny, grant, …) or, for LedgerSLABreached, which
	// SLA (triage, approval, appeal, legal).
	Decision string  `json:"decision,omitempty"`
	Outcome  Outcome `json:"outcome,omitempty"`
	// Count is how many (reports in a LedgerReports event, the reminder's number, …).
	Count     int      `json:"count,omitempty"`
	Reporters []string `json:"reporters,omitempty"`
	// PerReporter is how many of Count each of Reporters sent (same order; "" is a report
	// without a known reporter); empty when not known (events rebuilt from a case's state).
	PerReporter []int `json:"per_reporter,omitempty"`
	// Indicators are what the reports name (at most maxIndicators), for spikes and linked
	// accounts; each is written "kind:value" as before they were typed.
	Indicators []abuse.Subject `json:"indicators,omitempty"`
	Text       string          `json:"text,omitempty"`
	// Traffic is what the platform recorded of a messaging case's sending identity
	// (LedgerTraffic; Decision "stop" for the check after an action).
	Traffic *abuse.Traffic `json:"traffic,omitempty"`
}

// Ledger event kinds.
const (
	LedgerOpened          = "opened"
	LedgerTraffic         = "traffic"
	LedgerReports         = "reports"
	LedgerTriageAsked     = "triage_asked"
	LedgerTriaged         = "triaged"
	LedgerNoticed         = "noticed"
	LedgerReminded        = "reminded"
	LedgerReplied         = "replied"
	LedgerAgentDecision   = "agent_decision"
	LedgerEscalated       = "escalated"
	LedgerApprovalAsked   = "approval_asked"
	LedgerApprovalDecided = "approval_decided"
	LedgerEnforced        = "enforced"
	LedgerLifted          = "lifted"
	LedgerAppealed        = "appealed"
	LedgerAppealDecided   = "appeal_decided"
	LedgerLegalOpened     = "legal_opened"
	LedgerLegalDecided    = "legal_decided"
	// LedgerLegalReceipt: the authority was sent an acknowledgement of receipt.
	LedgerLegalReceipt = "legal_receipt"
	LedgerSLABreached  = "sla_breached"
	// LedgerChecked is a re-check of a fix (Decision: its verdict, fixed, still or unknown;
	// Count: which re-check; Text: what was seen); LedgerReopened a case a re-check reopened.
	LedgerChecked  = "remediation_checked"
	LedgerReopened = "reopened"
	// LedgerRelisted: a blocklist incident is a relisting (Text: the previous incident).
	LedgerRelisted = "relisted"
	LedgerClosed   = "closed"
)

// SLAs a LedgerSLABreached event names.
const (
	SLATriage   = "triage"
	SLAApproval = "approval"
	SLAAppeal   = "appeal"
	SLALegal    = "legal"
	SLAHandoff  = "handoff"
)

// ledger is a run's side of the ledger: the events not yet sent and the appends under way.
type ledger struct {
	on      bool
	pending []LedgerEvent
	flights []workflow.Future
}

// record adds an event; it is sent at the end of the step (flushLedger). Consecutive report
// batches fold into one event, so a storm adds one event a step, not one a batch.
func (w *caseWorkflow) record(ctx workflow.Context, e LedgerEvent) {
	if !w.ledger.on {
		return
	}
	if e.At.IsZero() {
		e.At = workflow.Now(ctx)
	}
	if n := len(w.ledger.pending); e.Kind == LedgerReports && n > 0 && w.ledger.pending[n-1].Kind == LedgerReports {
		w.ledger.pending[n-1].merge(e)
		return
	}
	w.st.LedgerSeq++
	e.Key = strconv.Itoa(w.st.LedgerSeq)
	w.ledger.pending = append(w.ledger.pending, e)
}

// addReports counts n reports from reporter into a reports event; past maxReporters a new
// reporter's reports are counted without it being named.
func (e *LedgerEvent) addReports(reporter string, n int) {
	e.Count += n
	if i := slices.Index(e.Reporters, reporter); i >= 0 {
		e.PerReporter[i] += n
	} else if len(e.Reporters) < maxReporters {
		e.Reporters, e.PerReporter = append(e.Reporters, reporter), append(e.PerReporter, n)
	}
}

// notReporters are the subjects of a report that are not its reporter's own: a host, domain or
// sender of the reporter's domain (or a domain above or below it) names the reporter, so it
// links no accounts (issue 28, item 11: clusters were built from reporters' own domains).
func notReporters(reporter string, subjects []abuse.Subject) []abuse.Subject {
	_, rd, ok := strings.Cut(strings.ToLower(strings.TrimSpace(reporter)), "@")
	reporterDomain := ok && strings.Contains(rd, ".")
	same := func(d string) bool {
		return abuse.InDomain(d, rd) || strings.Contains(d, ".") && abuse.InDomain(rd, d)
	}
	var out []abuse.Subject
	for _, s := range subjects {
		v := s.Value
		switch {
		case !reporterDomain:
		case s.Kind == abuse.SubjectURL:
			if u, err := url.Parse(v); err == nil && same(u.Hostname()) {
				continue
			}
		case s.Kind == abuse.SubjectDomain:
			if same(v) {
				continue
			}
		case s.Kind == abuse.SubjectSender:
			if _, d, ok := strings.Cut(v, "@"); ok && same(d) {
				continue
			}
		}
		out = append(out, s)
	}
	return out
}

// addIndicators adds what a report names, each once, up to maxIndicators.
func (e *LedgerEvent) addIndicators(subjects ...abuse.Subject) {
	for _, s := range subjects {
		if !slices.Contains(e.Indicators, s) && len(e.Indicators) < maxIndicators {
			e.Indicators = append(e.Indicators, s)
		}
	}
}

// merge folds a later reports event (with per-reporter counts) into e.
func (e *LedgerEvent) merge(later LedgerEvent) {
	e.At = later.At
	unnamed := later.Count
	for i, r := range later.Reporters {
		e.addReports(r, later.PerReporter[i])
		unnamed -= later.PerReporter[i]
	}
	e.Count += unnamed
	e.addIndicators(later.Indicators...)
}

// ledgerCase is what the ledger keeps of the case itself.
func ledgerCase(st *CaseState) LedgerCase {
	return LedgerCase{
		Number: st.CaseNumber, ID: st.CaseID, Account: st.Account.ID, AccountName: st.Account.Name, Category: st.Category,
		Track: st.Category.Track(), Rules: st.Track, Tier: st.Account.Tier, OpenedAt: st.OpenedAt, AccountCreated: st.Account.CreatedAt,
	}
}

// LedgerCaseOf is what the ledger keeps of the case a view shows.
func LedgerCaseOf(v *CaseView) LedgerCase {
	return LedgerCase{
		Number: v.CaseNumber, ID: v.CaseID, Account: v.Account.ID, AccountName: v.Account.Name, Category: v.Category,
		Track: v.CategoryTrack, Rules: v.Track, Tier: v.Account.Tier, OpenedAt: v.OpenedAt, AccountCreated: v.Account.CreatedAt,
	}
}

// flushLedger starts appending the pending events; the case calls it whenever it is about to
// wait (for a timer, a message, a decision), so the ledger is never more than a step behind
// and the steps between two waits cost one append. The case goes on meanwhile: a slow or
// unreachable ledger delays no deadline; awaitLedger waits for every append when the run ends.
func (w *caseWorkflow) flushLedger(ctx workflow.Context) {
	if len(w.ledger.pending) == 0 {
		return
	}
	in := RecordEventsInput{Case: ledgerCase(w.st), Events: w.ledger.pending}
	w.ledger.pending = nil
	w.ledger.flights = slices.DeleteFunc(w.ledger.flights, workflow.Future.IsReady)
	w.ledger.flights = append(w.ledger.flights, workflow.ExecuteLocalActivity(withLedger(ctx), ActivityRecordEvents, in))
}

// awaitLedger sends what is pending and waits until the ledger has every event of this run.
func (w *caseWorkflow) awaitLedger(ctx workflow.Context) {
	w.flushLedger(ctx)
	for _, f := range w.ledger.flights {
		if err := f.Get(ctx, nil); err != nil {
			// Only a non-retryable failure (invalid events) ends the retries; the case goes on.
			w.log.Error("ledger did not take the case's events", "error", err)
		}
	}
	w.ledger.flights = nil
}

// LedgerFromView rebuilds the events of a case from what its state shows, for a case that
// started before the ledger existed (desk ledger backfill, and such a case itself when it first
// records). Keys are "state-<kind>-<n>", the same from the same state, so rebuilding twice
// records once. The timeline is bounded, so counts come from the state, not from the timeline.
func LedgerFromView(v *CaseView) []LedgerEvent {
	var out []LedgerEvent
	n := map[string]int{}
	add := func(e LedgerEvent) {
		if e.At.IsZero() {
			return
		}
		n[e.Kind]++
		e.Key = fmt.Sprintf("state-%s-%d", e.Kind, n[e.Kind])
		out = append(out, e)
	}
	add(LedgerEvent{At: v.OpenedAt, Kind: LedgerOpened})
	if v.Reports.Count > 0 {
		add(LedgerEvent{At: v.Reports.FirstSeen, Kind: LedgerReports, Count: v.Reports.Count, Reporters: v.Reports.Reporters})
	}
	if t := v.Triage; t != nil {
		add(LedgerEvent{At: t.Since, Kind: LedgerTriageAsked, Text: t.Reason})
		if t.Breached {
			add(LedgerEvent{At: t.Due, Kind: LedgerSLABreached, Decision: SLATriage})
		}
		if t.Decision != "" {
			add(LedgerEvent{At: t.DecidedAt, Kind: LedgerTriaged, Decision: string(t.Decision), Actor: t.DecidedBy})
		}
	}
	if l := v.Legal; l != nil {
		add(LedgerEvent{At: l.Since, Kind: LedgerLegalOpened})
		if l.Breached {
			add(LedgerEvent{At: l.Due, Kind: LedgerSLABreached, Decision: SLALegal})
		}
		for _, d := range l.Decisions {
			add(LedgerEvent{At: d.DecidedAt, Kind: LedgerLegalDecided, Decision: string(d.Decision), Actor: d.DecidedBy, Text: d.Note})
		}
	}
	for _, e := range v.Timeline {
		switch e.Kind {
		case EventNotice:
			add(LedgerEvent{At: e.At, Kind: LedgerNoticed, Text: e.Text})
		case EventReply:
			add(LedgerEvent{At: e.At, Kind: LedgerReplied, Actor: e.Actor})
		}
	}
	if a := v.Approval; a != nil {
		add(LedgerEvent{At: a.RequestedAt, Kind: LedgerApprovalAsked})
		if a.Decision != "" {
			add(LedgerEvent{At: a.DecidedAt, Kind: LedgerApprovalDecided, Decision: a.Decision, Actor: cmp.Or(a.DecidedByEmail, a.DecidedBy), Text: a.Reason})
		}
	}
	if e := v.Enforcement; e != nil {
		add(LedgerEvent{At: e.AppliedAt, Kind: LedgerEnforced, Decision: string(e.Type), Actor: e.ApprovedByEmail, Count: e.Level})
		add(LedgerEvent{At: e.LiftedAt, Kind: LedgerLifted})
	}
	if ap := v.Appeal; ap != nil {
		add(LedgerEvent{At: ap.ReceivedAt, Kind: LedgerAppealed, Actor: ap.From})
		if ap.Decision != "" {
			add(LedgerEvent{At: ap.DecidedAt, Kind: LedgerAppealDecided, Decision: ap.Decision, Actor: ap.Reviewer, Text: ap.Note})
		}
	}
	if v.Status.Final() {
		add(LedgerEvent{At: v.ClosedAt, Kind: LedgerClosed, Outcome: v.Outcome})
	}
	slices.SortStableFunc(out, func(a, b LedgerEvent) int { return a.At.Compare(b.At) })
	return out
}
