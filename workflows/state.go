package workflows

import (
	"encoding/binary"
	"hash/fnv"
	"slices"
	"time"

	"abusedesk/domain/abuse"
	"abusedesk/domain/approval"
	"abusedesk/domain/policy"
	"abusedesk/domain/ticket"
)

// Bounds on what a case keeps, so its state (and a continue-as-new input) stays small however
// many reports arrive.
const (
	maxRecentReports = 10
	maxReporters     = 20
	maxSeenReportIDs = 16384
	maxTimeline      = 200
	maxReplyIDs      = 64
	maxIndicators    = 32
)

// CaseState is everything a case carries from one run to the next when it continues as new.
type CaseState struct {
	CaseID     string `json:"case_id"`
	CaseNumber string `json:"case_number"`
	// ExternalID ties the Zendesk ticket to this case (and not to an earlier, closed case of
	// the same account and category).
	ExternalID string         `json:"external_id"`
	Status     Status         `json:"status"`
	Account    abuse.Account  `json:"account"`
	Category   abuse.Category `json:"category"`
	Track      string         `json:"track"`
	// Rules are the effective rules for this account (the policy snapshot after the track).
	Rules    policy.Rules `json:"rules"`
	OpenedAt time.Time    `json:"opened_at"`
	Ticket   TicketRef    `json:"ticket"`

	// Wait is the current response wait (awaiting_response), nil otherwise.
	Wait *WaitState `json:"wait,omitempty"`
	// Round counts response waits; it keys reminders so each is sent once.
	Round int `json:"round"`

	Reports ReportStats `json:"reports"`
	// Seen holds the 64-bit hashes of the most recent report IDs (a ring of maxSeenReportIDs),
	// packed little-endian; SeenNext is the ring's next slot.
	Seen     []byte `json:"seen,omitempty"`
	SeenNext int    `json:"seen_next,omitempty"`

	Replies     int      `json:"replies"`
	AutoReplies int      `json:"auto_replies"`
	ReplyIDs    []string `json:"reply_ids,omitempty"`

	// Triage is the triage gate's wait (needs_triage) and its decision; nil when the case
	// never waited for triage.
	Triage *TriageState `json:"triage,omitempty"`
	// Legal is a legal matter's review (legal track); Advisory an advisory case's updates.
	Legal    *LegalState    `json:"legal,omitempty"`
	Advisory *AdvisoryState `json:"advisory,omitempty"`
	// Traffic is what the platform recorded of the sending identity a messaging case's reports
	// name, read when the notice went out (the last 48 hours of it; the whole in the evidence).
	Traffic *abuse.Traffic `json:"traffic,omitempty"`

	Approval *ApprovalState `json:"approval,omitempty"`
	// Unverified says a customer-track request came from someone who is not a known contact
	// of the account: its ticket and messages name nothing of the account.
	Unverified bool `json:"unverified,omitempty"`
	// Team is who may take agent decisions, as last read (see deskAgent); nil until a
	// decision needed it.
	Team        *DeskTeam    `json:"team,omitempty"`
	Enforcement *Enforcement `json:"enforcement,omitempty"`
	Appeal      *AppealState `json:"appeal,omitempty"`
	// Remediation is the verification of the customer's fix (verifying), kept after it ends;
	// nil when no fix was accepted or checked.
	Remediation *RemediationState `json:"remediation,omitempty"`
	// Review is why the case waits under review for an agent, and by when (the policy's
	// review_sla); nil in any other status.
	Review *ReviewState `json:"review,omitempty"`
	// Assignee is the agent who owns the case (nil: nobody).
	Assignee *Assignment `json:"assignee,omitempty"`
	// HandOffs are the work handed to other teams, in order.
	HandOffs []HandOffState `json:"handoffs,omitempty"`
	// Escalations counts escalations; it keys approval requests and enforcement calls.
	Escalations int `json:"escalations"`
	// EscalatedFor is why the latest escalation happened, in words the enforcement's recorded
	// reason repeats (only what is true of this case: "no answer to the notice" only when a
	// notice went out and its deadline passed).
	EscalatedFor string `json:"escalated_for,omitempty"`
	// AllowedBy is what let the desk act alone on the latest escalation (empty: a lead
	// approved); the enforcement and the ledger keep it.
	AllowedBy string `json:"allowed_by,omitempty"`

	Outcome  Outcome   `json:"outcome,omitempty"`
	ClosedAt time.Time `json:"closed_at,omitzero"`

	Timeline     []TimelineEntry `json:"timeline"`
	TimelineLost int             `json:"timeline_lost,omitempty"`
	// Runs counts continue-as-new generations (1 for the first run).
	Runs int `json:"runs"`
	// LedgerSeq numbers the case's ledger events (the last one given); zero before the case
	// recorded any.
	LedgerSeq int `json:"ledger_seq,omitempty"`
}

// TriageState is a case's wait for triage.
type TriageState struct {
	// Reason says why the case waits ("category other", "parser confidence 0.40 < 0.50", …).
	Reason        string    `json:"reason"`
	Since         time.Time `json:"since"`
	Due           time.Time `json:"due"`
	RemindersSent int       `json:"reminders_sent"`
	// Breached is set once the SLA passed (the leads were alerted).
	Breached bool `json:"breached,omitempty"`
	// Ticket is the internal triage ticket (the customer's ticket opens only on confirm).
	Ticket TicketRef `json:"ticket"`
	// Decision is the agent's, by whom and when.
	Decision  Decision  `json:"decision,omitempty"`
	DecidedBy string    `json:"decided_by,omitempty"`
	DecidedAt time.Time `json:"decided_at,omitzero"`
}

// LegalState is a legal matter under review.
type LegalState struct {
	Since         time.Time `json:"since"`
	Due           time.Time `json:"due"`
	RemindersSent int       `json:"reminders_sent"`
	Breached      bool      `json:"breached,omitempty"`
	// Held lists the evidence under legal hold.
	Held []string `json:"held,omitempty"`
	// Decisions are the legal team's, in order (ask_more keeps the matter open).
	Decisions []LegalDecision `json:"decisions,omitempty"`
	// Lifecycle is set on matters opened with the lifecycle (versionLegalLifecycle): a matter
	// then stays open through its steps until close_matter; before it, each decision but
	// ask_more closed it.
	Lifecycle bool `json:"lifecycle,omitempty"`
	// Stage is where the matter stands: received, validated, preserved, produced, rejected.
	Stage LegalStage `json:"stage,omitempty"`
	// Answered is set once the legal team acted on the latest request (the due time's
	// reminders stop); a further request clears it.
	Answered bool `json:"answered,omitempty"`
	// Requests counts the requests and orders that make up the matter (the first one too);
	// Disclosures the productions made under them.
	Requests    int `json:"requests,omitempty"`
	Disclosures int `json:"disclosures,omitempty"`
	// Preservation is the preservation's clock; nil until records are preserved.
	Preservation *Preservation `json:"preservation,omitempty"`
	// ReceiptsSent counts the acknowledgements of receipt sent to the authority.
	ReceiptsSent int `json:"receipts_sent,omitempty"`
	// Kind is what the latest request asks (preservation, production, emergency, takedown;
	// "" when it does not say) and StatedDue the deadline it states (zero: none); the earlier
	// of that and the policy's due time is the matter's Due.
	Kind      string    `json:"kind,omitempty"`
	StatedDue time.Time `json:"stated_due,omitzero"`
	// Team is the legal group's agents (ticketing user IDs) as the desk resolved them;
	// TeamResolved says it did. Only they decide the matter; TeamError says why the desk could
	// not tell (then nobody may, until a reminder resolves them again).
	Team         []string `json:"team,omitempty"`
	TeamResolved bool     `json:"team_resolved,omitempty"`
	TeamError    string   `json:"team_error,omitempty"`
	// Hotline is a CSAM notice's report to the hotline, a step of its own with a due time.
	Hotline *HotlineStep `json:"hotline,omitempty"`
}

// HotlineStep is the legal team's report of CSAM to the hotline: due by Due; ReportedAt, By
// and Reference once made.
type HotlineStep struct {
	Due        time.Time `json:"due"`
	ReportedAt time.Time `json:"reported_at,omitzero"`
	ReportedBy string    `json:"reported_by,omitempty"`
	Reference  string    `json:"reference,omitempty"`
}

// LegalStage is where a legal matter stands.
type LegalStage string

// The stages of a legal matter: received (nothing decided), validated (the request checked),
// preserved (the records kept, the clock running), produced (records handed over under an
// order), rejected (the request refused).
const (
	LegalReceived  LegalStage = "received"
	LegalValidated LegalStage = "validated"
	LegalPreserved LegalStage = "preserved"
	LegalProduced  LegalStage = "produced"
	LegalRejected  LegalStage = "rejected"
)

// Preservation is the clock of records kept for an authority: since when, until when (each
// extension moves it), and how it ended (released by the legal team, or lapsed at Until).
type Preservation struct {
	Since        time.Time `json:"since"`
	Until        time.Time `json:"until"`
	Extensions   int       `json:"extensions,omitempty"`
	ReminderSent bool      `json:"reminder_sent,omitempty"`
	ReleasedAt   time.Time `json:"released_at,omitzero"`
	LapsedAt     time.Time `json:"lapsed_at,omitzero"`
}

// Running says the preservation was neither released nor has lapsed (its clock still runs).
func (p *Preservation) Running() bool {
	return p != nil && p.ReleasedAt.IsZero() && p.LapsedAt.IsZero()
}

// Active says the records are still kept at now.
func (p *Preservation) Active(now time.Time) bool { return p.Running() && now.Before(p.Until) }

// LegalDecision is one decision on a legal matter: what, who, when, why.
type LegalDecision struct {
	Decision  Decision  `json:"decision"`
	DecidedBy string    `json:"decided_by"`
	DecidedAt time.Time `json:"decided_at"`
	Note      string    `json:"note,omitempty"`
}

// AdvisoryState is an advisory case's correspondence: the first advice and the updates that
// followed while reports still listed the host.
type AdvisoryState struct {
	NotifiedAt   time.Time `json:"notified_at"`
	LastUpdateAt time.Time `json:"last_update_at"`
	// LastListedAt is when the latest report arrived (CountSeen the count then): the quiet
	// period runs from it.
	LastListedAt time.Time `json:"last_listed_at"`
	CountSeen    int       `json:"count_seen"`
	// ReportsAtUpdate is the report count the last advice or update covered.
	ReportsAtUpdate int `json:"reports_at_update"`
	Updates         int `json:"updates"`
	// Relisted is set when a blocklist incident came too soon after the account's previous
	// one closed delisted (the policy's monitoring.relisted): the fix did not hold.
	Relisted *Relisting `json:"relisted,omitempty"`
}

// Relisting names the previous blocklist incident a relisting follows.
type Relisting struct {
	Previous string    `json:"previous"`
	ClosedAt time.Time `json:"closed_at"`
}

// WaitState is a response wait: the deadline and which reminders went out.
type WaitState struct {
	StartedAt     time.Time `json:"started_at"`
	Deadline      time.Time `json:"deadline"`
	RemindersSent int       `json:"reminders_sent"`
	// Surged is set once the report surge pulled the deadline in.
	Surged bool `json:"surged,omitempty"`
	// PausedAt is set while a hand-off to a team whose policy pauses the case is open: the
	// deadline and reminders wait, and move on by the pause when it ends.
	PausedAt time.Time `json:"paused_at,omitzero"`
}

// ReportStats counts a case's reports and keeps the last few.
type ReportStats struct {
	Count         int             `json:"count"`
	Duplicates    int             `json:"duplicates"`
	FirstSeen     time.Time       `json:"first_seen,omitzero"`
	LastSeen      time.Time       `json:"last_seen,omitzero"`
	Severity      abuse.Severity  `json:"severity,omitempty"`
	Recent        []ReportSummary `json:"recent,omitempty"`
	Reporters     []string        `json:"reporters,omitempty"`
	ReportersLost int             `json:"reporters_lost,omitempty"`
}

// TicketRef points at a case's ticket in the ticketing system (a neutral reference: system,
// ID, agent's URL). Integer IDs saved before it named a system decode as Zendesk tickets.
type TicketRef = ticket.Ref

// Outcomes of an approval request besides a lead's decision (approval.Approve, Deny, Extend).
const (
	// ApprovalTimedOut: no lead decided after every re-ping and the policy enforces.
	ApprovalTimedOut = "timeout"
	// ApprovalWithdrawn: the customer answered or an agent decided first.
	ApprovalWithdrawn = "withdrawn"
)

// ApprovalState is a lead approval request and its decision.
type ApprovalState struct {
	// Escalation is the escalation this request belongs to.
	Escalation  int       `json:"escalation"`
	RequestedAt time.Time `json:"requested_at"`
	Deadline    time.Time `json:"deadline,omitzero"`
	Pings       int       `json:"pings"`
	Holding     bool      `json:"holding,omitempty"`
	// Why says why a lead decides when the policy did not ask for approval (uncorroborated
	// reports).
	Why string `json:"why,omitempty"`
	// Managers is set once the request went up the chain to the managers.
	Managers bool `json:"managers,omitempty"`
	// Deciders are the Slack users the desk resolved (users named by the policy, members of its
	// user groups) when it asked; Resolved says it did. An approval is accepted only from one
	// of them. A request from before the desk resolved them accepts only users the policy
	// names, never a group a decision claims.
	Deciders []string         `json:"deciders,omitempty"`
	Resolved bool             `json:"resolved,omitempty"`
	Message  approval.Message `json:"message"`
	// Decision is approval.Approve, Deny or Extend, ApprovalTimedOut or ApprovalWithdrawn.
	Decision       string    `json:"decision,omitempty"`
	DecidedBy      string    `json:"decided_by,omitempty"`
	DecidedByName  string    `json:"decided_by_name,omitempty"`
	DecidedByEmail string    `json:"decided_by_email,omitempty"`
	DecidedAt      time.Time `json:"decided_at,omitzero"`
	Reason         string    `json:"reason,omitempty"`
	// Shown is set once the Slack message shows the decision.
	Shown bool `json:"shown,omitempty"`
}

// Enforcement is the action applied to the account.
type Enforcement struct {
	ActionID string           `json:"action_id"`
	Type     abuse.ActionType `json:"type"`
	Level    int              `json:"level,omitempty"`
	// Scope is the one number or sender ID the action is on, or the resource a takedown removed
	// (nil: the whole account); Also the further actions of a takedown of several resources.
	Scope      *abuse.Scope   `json:"scope,omitempty"`
	Also       []ScopedAction `json:"also,omitempty"`
	AppliedAt  time.Time      `json:"applied_at"`
	VerifiedAt time.Time      `json:"verified_at,omitzero"`
	ExpiresAt  time.Time      `json:"expires_at,omitzero"`
	// ApprovedBy is the Slack user of the lead who approved (empty when policy enforced).
	ApprovedBy      string `json:"approved_by,omitempty"`
	ApprovedByEmail string `json:"approved_by_email,omitempty"`
	// AllowedBy is the rule that let the desk act without a lead (empty when one approved).
	AllowedBy   string    `json:"allowed_by,omitempty"`
	AppealUntil time.Time `json:"appeal_until"`
	LiftedAt    time.Time `json:"lifted_at,omitzero"`
	// StopDue is when a messaging action's identity is read again (stopCheck after the action;
	// zero: no check), Stop what the platform recorded of it from the action until then, and
	// StopCheckedAt when it was read (set also when the read failed).
	StopDue       time.Time      `json:"stop_due,omitzero"`
	Stop          *abuse.Traffic `json:"stop,omitempty"`
	StopCheckedAt time.Time      `json:"stop_checked_at,omitzero"`
}

// stopCheck is how long after a messaging action the desk reads its identity's traffic again.
const stopCheck = time.Hour

// AppealState is the customer's appeal and its decision.
type AppealState struct {
	Count       int       `json:"count"`
	ID          string    `json:"id,omitempty"`
	From        string    `json:"from,omitempty"`
	ReceivedAt  time.Time `json:"received_at,omitzero"`
	Excerpt     string    `json:"excerpt,omitempty"`
	ChildID     string    `json:"child_id,omitempty"`
	SLADeadline time.Time `json:"sla_deadline,omitzero"`
	Decision    string    `json:"decision,omitempty"`
	Reviewer    string    `json:"reviewer,omitempty"`
	Note        string    `json:"note,omitempty"`
	DecidedAt   time.Time `json:"decided_at,omitzero"`
	LateRefused int       `json:"late_refused,omitempty"`
}

// RemediationState is the verification of a customer's fix: what is checked, when, and what
// the checks found.
type RemediationState struct {
	// AcceptedAt and AcceptedBy: the agent's accept_remediation (zero when the checks ran only
	// on the customer's answer, for the agent to read). Notified: the agent's macro told the
	// customer, so the verified close sends no closing notice of its own.
	AcceptedAt time.Time `json:"accepted_at,omitzero"`
	AcceptedBy string    `json:"accepted_by,omitempty"`
	Notified   bool      `json:"notified,omitempty"`
	// Checks are the policy's checks that apply to this case (http only with reported URLs,
	// blocklist only with reported addresses); URLs, Addresses and Blocklists what they look at.
	Checks     []string `json:"checks,omitempty"`
	URLs       []string `json:"urls,omitempty"`
	Addresses  []string `json:"addresses,omitempty"`
	Blocklists []string `json:"blocklists,omitempty"`
	// Due are the re-checks' times; Done how many ran.
	Due  []time.Time `json:"due,omitempty"`
	Done int         `json:"done,omitempty"`
	// NewReports counts reports seen after the acceptance (the feed check), LastReport the
	// latest one's time.
	NewReports int       `json:"new_reports,omitempty"`
	LastReport time.Time `json:"last_report,omitzero"`
	// Results are the latest checks, at CheckedAt.
	Results   []CheckResult `json:"results,omitempty"`
	CheckedAt time.Time     `json:"checked_at,omitzero"`
	// Outcome is "" while verifying, then RemediationVerified, RemediationReopened or
	// RemediationStopped (an agent closed or asked the customer first); Reason says why it
	// reopened.
	Outcome string `json:"outcome,omitempty"`
	Reason  string `json:"reason,omitempty"`
	// Reopened counts the fixes of this case that did not hold.
	Reopened int `json:"reopened,omitempty"`
}

// Outcomes of a verification.
const (
	RemediationVerified = "verified"
	RemediationReopened = "reopened"
	RemediationStopped  = "stopped"
)

// rememberID adds a message ID to a bounded list of the latest ones (the oldest forgotten past
// maxReplyIDs) and says whether it is new; an empty ID is always new and not kept.
func rememberID(ids []string, id string) ([]string, bool) {
	if id == "" {
		return ids, true
	}
	if slices.Contains(ids, id) {
		return ids, false
	}
	ids = append(ids, id)
	if len(ids) > maxReplyIDs {
		ids = slices.Delete(ids, 0, len(ids)-maxReplyIDs)
	}
	return ids, true
}

// reportHash is the 64-bit FNV-1a of a report ID, what the dedupe ring keeps.
func reportHash(id string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(id))
	return h.Sum64()
}

// SeenOf packs the hashes of report IDs the way CaseState.Seen and CaseResult.Seen keep them.
func SeenOf(ids ...string) []byte {
	st := &CaseState{}
	s := seenSet{}
	for _, id := range ids {
		s.remember(st, reportHash(id))
	}
	return st.Seen
}

// seenSet is the in-memory index over CaseState.Seen; rebuilt at the start of each run.
type seenSet map[uint64]struct{}

func buildSeen(st *CaseState) seenSet {
	s := make(seenSet, len(st.Seen)/8)
	for i := 0; i+8 <= len(st.Seen); i += 8 {
		s[binary.LittleEndian.Uint64(st.Seen[i:])] = struct{}{}
	}
	return s
}

// remember adds h to the ring, forgetting the oldest hash once the ring is full.
func (s seenSet) remember(st *CaseState, h uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], h)
	if len(st.Seen) < maxSeenReportIDs*8 {
		st.Seen = append(st.Seen, b[:]...)
		s[h] = struct{}{}
		return
	}
	off := st.SeenNext * 8
	delete(s, binary.LittleEndian.Uint64(st.Seen[off:]))
	copy(st.Seen[off:], b[:])
	st.SeenNext = (st.SeenNext + 1) % maxSeenReportIDs
	s[h] = struct{}{}
}

// ScopedAction is one more action of an enforcement on several resources.
type ScopedAction struct {
	ActionID string       `json:"action_id"`
	Scope    *abuse.Scope `json:"scope"`
}

// Assignment is who owns a case: an agent of the desk's team, since when, and who assigned
// them.
type Assignment struct {
	// ID is the agent's ticketing user ID; Email their address there.
	ID    string    `json:"id"`
	Email string    `json:"email"`
	Since time.Time `json:"since"`
	By    string    `json:"by"`
}

// ReviewState is an agent's turn on a case: since when, why and by when.
type ReviewState struct {
	Since time.Time `json:"since"`
	Due   time.Time `json:"due"`
	Why   string    `json:"why"`
}
