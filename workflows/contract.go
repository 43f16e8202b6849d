package workflows

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"strings"
	"time"

	"abusedesk/domain/abuse"
	"abusedesk/domain/policy"
	"abusedesk/domain/ticket"
)

// TaskQueue is the one task queue abusedesk's workers poll.
const TaskQueue = "abusedesk"

// Workflow type names.
const (
	CaseWorkflowType   = "Case"
	AppealWorkflowType = "Appeal"
)

// Signal, update and query names of the Case workflow.
const (
	// SignalReports carries a batch of reports (ReportsSignal). Intake sends it with
	// SignalWithStart, so the first batch opens the case.
	SignalReports = "reports"
	// SignalCustomerReply carries a customer's message (CustomerReply): an answer while the
	// case waits, an appeal once it is enforced; auto-replies and bounces are recorded only.
	SignalCustomerReply = "customer-reply"
	// SignalAppeal carries an explicit appeal (Appeal), e.g. from an appeal form.
	SignalAppeal = "appeal"
	// UpdateAgentDecision applies an agent's macro (AgentDecision → DecisionResult). Its
	// validator refuses decisions that do not fit the case's state.
	UpdateAgentDecision = "agent-decision"
	// UpdateApproval applies a lead's click in Slack (approval.Decision → DecisionResult). Its
	// validator admits only configured approvers, only while approval is pending; the first
	// decision wins and later clicks are refused.
	UpdateApproval = "approval"
	// QueryStatus returns the case view (StatusQuery → CaseView).
	QueryStatus = "status"

	// signalAppealDecision is sent by the Case to its Appeal child.
	signalAppealDecision = "appeal-decision"
)

// Decision is an agent's decision on a case, one per macro `desk zendesk provision` creates.
type Decision string

// Agent decisions.
const (
	DecisionAcceptRemediation Decision = "accept_remediation"
	DecisionRequestInfo       Decision = "request_info"
	DecisionExtendDeadline    Decision = "extend_deadline"
	DecisionTreatAsAppeal     Decision = "treat_as_appeal"
	DecisionGrantAppeal       Decision = "grant_appeal"
	DecisionDenyAppeal        Decision = "deny_appeal"
	DecisionResolve           Decision = "resolve"
	DecisionWithdraw          Decision = "withdraw"
	// The triage gate's decisions (needs_triage): confirm and notify; move the reports to
	// another account's or category's case; close as not abuse; route to a team.
	DecisionConfirm    Decision = "confirm"
	DecisionReclassify Decision = "reclassify"
	DecisionNotAbuse   Decision = "not_abuse"
	DecisionRoute      Decision = "route"
	// The legal track's decisions (legal_review): the request checked and found valid; keep
	// the records (a preservation with its clock), extend or release a preservation; hand the
	// records over under an order; refuse the request; ask the requester for more; close the
	// matter (the explicit last step: the others leave it open, as a production order often
	// follows a preservation weeks later).
	DecisionValidate            Decision = "validate"
	DecisionPreserve            Decision = "preserve"
	DecisionExtendPreservation  Decision = "extend_preservation"
	DecisionReleasePreservation Decision = "release_preservation"
	DecisionDisclose            Decision = "disclose"
	DecisionReject              Decision = "reject"
	DecisionAskMore             Decision = "ask_more"
	DecisionCloseMatter         Decision = "close_matter"
	// DecisionNotLegal returns a matter that is no legal one to the abuse desk: its reports go
	// to the account's case of the category the legal team sets, and the matter closes.
	DecisionNotLegal Decision = "not_legal"
	// DecisionMoveToLegal makes a case the parser did not see as a legal matter one: its
	// reports move to a confidential legal matter and leave this case and its ticket.
	DecisionMoveToLegal Decision = "move_to_legal"
	// DecisionHotlineReported records that the legal team reported a CSAM notice's content to
	// the hotline (NCMEC's CyberTipline, the IWF, a national hotline): who, when, and the
	// hotline's reference in the note.
	DecisionHotlineReported Decision = "hotline_reported"
	// DecisionAssign makes an agent of the desk's team the case's owner (AgentDecision.Assignee;
	// none: nobody). It is no macro: the dashboard assigns, and an assignee set on the ticket
	// in the ticketing system comes back as one.
	DecisionAssign Decision = ticket.DecisionAssign
)

// AgentDecisions lists the decisions in macro order.
var AgentDecisions = []Decision{DecisionAcceptRemediation, DecisionRequestInfo, DecisionExtendDeadline,
	DecisionTreatAsAppeal, DecisionGrantAppeal, DecisionDenyAppeal, DecisionResolve, DecisionWithdraw,
	DecisionConfirm, DecisionReclassify, DecisionNotAbuse, DecisionRoute, DecisionMoveToLegal,
	DecisionValidate, DecisionPreserve, DecisionExtendPreservation, DecisionReleasePreservation,
	DecisionDisclose, DecisionReject, DecisionAskMore, DecisionCloseMatter, DecisionNotLegal, DecisionHotlineReported,
	DecisionGrantReinstatement, DecisionDenyReinstatement, DecisionHandOff}

// LegalDecisions are the decisions of the legal track.
var LegalDecisions = []Decision{DecisionValidate, DecisionPreserve, DecisionExtendPreservation, DecisionReleasePreservation,
	DecisionDisclose, DecisionReject, DecisionAskMore, DecisionCloseMatter, DecisionNotLegal}

// legalSteps are the legal decisions a matter opened before the lifecycle (versionLegalLifecycle)
// takes: each but ask_more closes it.
var legalSteps = []Decision{DecisionPreserve, DecisionDisclose, DecisionReject, DecisionAskMore}

// TriageDecisions are the decisions of the triage gate.
var TriageDecisions = []Decision{DecisionConfirm, DecisionReclassify, DecisionNotAbuse, DecisionRoute}

// CaseWorkflowID is the one workflow ID of the open case for an account and category; a new
// report for the same pair joins that case. Characters outside [A-Za-z0-9._@-] in the account
// are escaped so the ID stays unambiguous.
func CaseWorkflowID(account string, category abuse.Category) string {
	return "case/" + escapeIDPart(account) + "/" + escapeIDPart(string(category))
}

// PerRequest reports whether a category's reports make a matter per requester rather than
// joining the account's open case: a legal request (each authority's has its own scope, due
// time and answers; its further requests and orders join it).
func PerRequest(c abuse.Category) bool { return c == abuse.LegalRequest }

// MatterKey keys the case of a report of a category handled per request: its sender, so that a
// further request or order from the same sender (a production order after a preservation) joins
// the matter while it is open; hashed, so the workflow ID does not carry the address. A report
// with no sender address is a matter of its own (its ID).
func MatterKey(reporter, reportID string) string {
	a := strings.ToLower(strings.TrimSpace(reporter))
	if !strings.Contains(a, "@") {
		return reportID
	}
	sum := sha256.Sum256([]byte("abusedesk matter\x00" + a))
	return "from-" + hex.EncodeToString(sum[:8])
}

// CaseIDFor is the workflow ID of the case a report joins: the account's case of the category,
// or, for a category handled per request, that request's own (keyed by MatterKey).
func CaseIDFor(account string, category abuse.Category, key string) string {
	if PerRequest(category) && key != "" {
		return CaseWorkflowID(account, category) + "/" + escapeIDPart(key)
	}
	return CaseWorkflowID(account, category)
}

// ParseCaseWorkflowID splits a case workflow ID back into account and category (a request's
// key after them, if any, is left out).
func ParseCaseWorkflowID(id string) (account string, category abuse.Category, ok bool) {
	rest, found := strings.CutPrefix(id, "case/")
	if !found {
		return "", "", false
	}
	a, c, found := strings.Cut(rest, "/")
	c, _, _ = strings.Cut(c, "/")
	if !found || a == "" || c == "" {
		return "", "", false
	}
	account, ok1 := unescapeIDPart(a)
	cat, ok2 := unescapeIDPart(c)
	return account, abuse.Category(cat), ok1 && ok2
}

func escapeIDPart(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '@', c == '-':
			b.WriteByte(c)
		default:
			const hex = "0123456789ABCDEF"
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

func unescapeIDPart(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		hi, lo := unhex(s[i+1]), unhex(s[i+2])
		if hi < 0 || lo < 0 {
			return "", false
		}
		b.WriteByte(byte(hi<<4 | lo))
		i += 2
	}
	return b.String(), true
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// crockford is Crockford's base32 alphabet: no I, L, O or U, so a number read aloud or typed
// from a printout survives.
var crockford = base32.NewEncoding(crockfordAlphabet).WithPadding(base32.NoPadding)

const crockfordAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// CaseNumber is the human-facing number of a case, e.g. "TS-7F3K2QXM": "TS-" and eight
// Crockford base32 characters (40 bits) of the workflow ID's SHA-256. Stable, short, and safe
// in an email subject. Forty bits keep the chance of two numbers colliding below 1 in 5,000 even
// with 20,000 cases open at once (six characters would make it about 1 in 5).
//
// Cases opened before incident numbers keep it; new incidents get an IncidentNumber.
func CaseNumber(workflowID string) string {
	sum := sha256.Sum256([]byte(workflowID))
	return "TS-" + crockford.EncodeToString(sum[:5])
}

// IncidentNumber is the number of one incident of a case — the run of its workflow that opened
// it — e.g. "TS-7F3K2QXM4B": ten characters (50 bits), so that numbers stay unique across every
// incident a desk ever opens (about 1 in 2,000 that any two of a million collide).
func IncidentNumber(workflowID, firstRunID string) string {
	sum := sha256.Sum256([]byte(workflowID + "\x00" + firstRunID))
	return "TS-" + crockford.EncodeToString(sum[:7])[:10]
}

// FindCaseNumber returns the first case number in s (a mail subject, say), or "": an incident's
// number (ten characters) or an older case's (eight).
func FindCaseNumber(s string) string {
	up := strings.ToUpper(s)
	for i := 0; i+11 <= len(up); i++ {
		if up[i:i+3] != "TS-" || (i > 0 && isAlnum(up[i-1])) {
			continue
		}
		n := 0
		for i+3+n < len(up) && isAlnum(up[i+3+n]) {
			n++
		}
		if n != 8 && n != 10 {
			continue
		}
		cand := up[i+3 : i+3+n]
		if strings.IndexFunc(cand, func(r rune) bool { return !strings.ContainsRune(crockfordAlphabet, r) }) >= 0 {
			continue
		}
		return "TS-" + cand
	}
	return ""
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

// ReportSummary is what a case keeps of one report: the extracted facts and the evidence
// digest, never the raw message (that stays in the evidence store).
type ReportSummary struct {
	// ID is the report's stable ID (Message-ID, X-ARF report ID, Zendesk ticket, or digest).
	ID         string         `json:"id"`
	Format     string         `json:"format"`
	Category   abuse.Category `json:"category"`
	Severity   abuse.Severity `json:"severity,omitempty"`
	Reporter   string         `json:"reporter,omitempty"`
	ReceivedAt time.Time      `json:"received_at"`
	EventTime  time.Time      `json:"event_time,omitzero"`
	// Subjects are the first few things the report names, each written "kind:value"
	// ("ip:192.0.2.1", "url:…") in JSON as before they were typed.
	Subjects []abuse.Subject `json:"subjects,omitempty"`
	// Evidence is the SHA-256 (hex) of the raw report in the evidence store.
	Evidence string `json:"evidence,omitempty"`
	// Summary is one line for people.
	Summary string `json:"summary,omitempty"`
	// Confidence is the parser's (0..1; 0 when not known). OtherAccounts are further accounts
	// the report's sources belong to. Confirmed says a person classified the report (it was
	// reclassified into this case), so the triage gate does not hold it again.
	Confidence    float64  `json:"confidence,omitempty"`
	OtherAccounts []string `json:"other_accounts,omitempty"`
	Confirmed     bool     `json:"confirmed,omitempty"`
	// Language is the language a person wrote the report in (ISO 639-1), when known.
	Language string `json:"language,omitempty"`
	// LegalKind is what a legal request asks (preservation, production, emergency, takedown)
	// and Deadline the deadline it states, when it does.
	LegalKind string    `json:"legal_kind,omitempty"`
	Deadline  time.Time `json:"deadline,omitzero"`
	// Content identifies the report's evidence whatever its ID (intake's ContentKey): the same
	// evidence from the same reporter sent again with a new Message-ID or report ID is one
	// report. Empty: the ID alone identifies it.
	Content string `json:"content,omitempty"`
}

// dedupeHash is what a case counts a report by: its content when intake gave one, else its
// ID.
func (r ReportSummary) dedupeHash() uint64 {
	if r.Content != "" {
		return reportHash("content:" + r.Content)
	}
	return reportHash(r.ID)
}

// isDuplicate says whether seen holds the report already, by its content or by its ID (a
// report counted before content keys, delivered again).
func (r ReportSummary) isDuplicate(seen seenSet) bool {
	if _, dup := seen[r.dedupeHash()]; dup {
		return true
	}
	_, dup := seen[reportHash(r.ID)]
	return dup
}

// ReportsSignal is a batch of reports for one case. The newest reports of a batch come whole
// (a case shows its latest few); the older ones of a big batch come as refs — what a case
// counts, not what it shows — which keeps a storm's history a fraction of the size.
type ReportsSignal struct {
	Reports []ReportSummary `json:"reports"`
	Refs    []ReportRef     `json:"refs,omitempty"`
	// Reporters are the refs' reporters, each once.
	Reporters []string `json:"reporters,omitempty"`
}

// ReportRef is a report counted but not shown: the hash of its ID (the case dedupes by it),
// when the abuse happened (or the report came), who sent it and how bad it is.
type ReportRef struct {
	Hash uint64 `json:"h"`
	// Seen is Unix seconds of the event, else of the report's receipt; 0 for unknown.
	Seen int64 `json:"t,omitempty"`
	// Reporter is 1 + the index in ReportsSignal.Reporters; 0 for none.
	Reporter int            `json:"r,omitempty"`
	Severity abuse.Severity `json:"s,omitempty"`
}

// NewReportsSignal makes the signal for a batch: the last reports whole, the rest as refs.
func NewReportsSignal(batch []ReportSummary) ReportsSignal {
	if len(batch) <= maxRecentReports {
		return ReportsSignal{Reports: batch}
	}
	split := len(batch) - maxRecentReports
	s := ReportsSignal{Reports: batch[split:], Refs: make([]ReportRef, split)}
	index := map[string]int{}
	for i, r := range batch[:split] {
		ref := ReportRef{Hash: r.dedupeHash(), Severity: r.Severity}
		if seen := r.seen(); !seen.IsZero() {
			ref.Seen = seen.Unix()
		}
		if r.Reporter != "" {
			n, ok := index[r.Reporter]
			if !ok {
				s.Reporters = append(s.Reporters, r.Reporter)
				n = len(s.Reporters)
				index[r.Reporter] = n
			}
			ref.Reporter = n
		}
		s.Refs[i] = ref
	}
	return s
}

// seen is when the abuse happened, else when the report came.
func (r ReportSummary) seen() time.Time {
	if !r.EventTime.IsZero() {
		return r.EventTime
	}
	return r.ReceivedAt
}

// ReplyKind is what a customer's message is.
type ReplyKind string

// Kinds of customer message.
const (
	ReplyKindAnswer    ReplyKind = "answer"
	ReplyKindAutoReply ReplyKind = "auto-reply"
	ReplyKindBounce    ReplyKind = "bounce"
)

// Channel is how a message reached the case.
type Channel string

// Channels.
const (
	ChannelEmail   Channel = "email"
	ChannelZendesk Channel = "zendesk"
)

// CustomerReply is a message from the customer on the case: an answer to the notice, an
// appeal once enforced, or an auto-reply or bounce (recorded, never counted as an answer).
type CustomerReply struct {
	// ID identifies the message (Message-ID or Zendesk comment ID) so redelivery is ignored.
	ID         string    `json:"id"`
	Kind       ReplyKind `json:"kind"`
	From       string    `json:"from,omitempty"`
	ReceivedAt time.Time `json:"received_at"`
	Channel    Channel   `json:"channel,omitempty"`
	// Excerpt is the first few hundred characters, for the timeline.
	Excerpt string `json:"excerpt,omitempty"`
}

// Appeal is an explicit appeal against an enforcement.
type Appeal struct {
	ID         string    `json:"id"`
	From       string    `json:"from,omitempty"`
	ReceivedAt time.Time `json:"received_at"`
	Channel    Channel   `json:"channel,omitempty"`
	Excerpt    string    `json:"excerpt,omitempty"`
}

// AgentDecision is an agent's macro applied to the case ticket.
type AgentDecision struct {
	Decision Decision `json:"decision"`
	// Agent is the agent's email (compared with the approving lead's for appeals).
	Agent   string `json:"agent"`
	AgentID string `json:"agent_id,omitempty"`
	Note    string `json:"note,omitempty"`
	// ExtendBy overrides the policy's extend_by for DecisionExtendDeadline.
	ExtendBy time.Duration `json:"extend_by,omitempty"`
	// Notified says the agent's macro already answered the customer, so the case sends no
	// customer notice of its own for this decision (its internal notes and fields still go).
	Notified bool `json:"notified,omitempty"`
	// RequestID, when set, identifies the decision (the Zendesk comment its macro wrote): a
	// decision delivered twice with one ID is applied once.
	RequestID string `json:"request_id,omitempty"`
	// Account and Category are where DecisionReclassify moves the reports (either may stay
	// the case's own); Team is who DecisionRoute hands the matter to.
	Account  string         `json:"account,omitempty"`
	Category abuse.Category `json:"category,omitempty"`
	Team     string         `json:"team,omitempty"`
	// Assignee is who DecisionAssign makes the case's owner: an agent's ticketing user ID
	// ("": nobody).
	Assignee string `json:"assignee,omitempty"`
}

// DecisionResult tells the caller of an update what the decision did.
type DecisionResult struct {
	Status Status `json:"status"`
	// Message is a sentence for the person who clicked.
	Message string `json:"message"`
}

// StatusQuery is the (empty) input of QueryStatus.
type StatusQuery struct{}

// CaseInput starts a case. Intake fills Account (the ID at least), Category and Policy; State
// is set only when a case continues as new.
type CaseInput struct {
	AccountID string          `json:"account_id"`
	Category  abuse.Category  `json:"category"`
	Policy    policy.Snapshot `json:"policy"`
	// State is the carried state of a case that continued as new.
	State *CaseState `json:"state,omitempty"`
	// PendingBatches are reports to record first, as they came (whole reports and refs):
	// those that arrived while the previous case of the same account and category was closing.
	PendingBatches []ReportsSignal `json:"pending_batches,omitempty"`
}

// CaseResult is how a case ended.
type CaseResult struct {
	CaseNumber  string    `json:"case_number"`
	Outcome     Outcome   `json:"outcome"`
	Status      Status    `json:"status"`
	ReportCount int       `json:"report_count"`
	ClosedAt    time.Time `json:"closed_at"`
	// Seen are the hashes of the report IDs the incident handled (CaseState.Seen), so the
	// account's next incident can tell a report sent again from a new one.
	Seen []byte `json:"seen,omitempty"`
}

// TimelineEntry is one event in a case's history, for the dashboard and the status query.
type TimelineEntry struct {
	At    time.Time `json:"at"`
	Kind  string    `json:"kind"`
	Text  string    `json:"text"`
	Actor string    `json:"actor,omitempty"`
}

// Timeline entry kinds.
const (
	EventReports     = "reports"
	EventNotice      = "notice"
	EventReminder    = "reminder"
	EventReply       = "reply"
	EventAutoReply   = "auto-reply"
	EventDecision    = "decision"
	EventApproval    = "approval"
	EventTriage      = "triage"
	EventLegal       = "legal"
	EventEscalation  = "escalation"
	EventEnforcement = "enforcement"
	EventAppeal      = "appeal"
	EventLifted      = "lifted"
	EventClosed      = "closed"
	EventNote        = "note"
	// EventRemediation: a fix accepted, re-checked, verified or not.
	EventRemediation = "remediation"
	// EventHandOff: work handed to a team, and what became of it.
	EventHandOff = "handoff"
)

// CaseView is the answer to QueryStatus.
type CaseView struct {
	CaseID     string         `json:"case_id"`
	CaseNumber string         `json:"case_number"`
	Status     Status         `json:"status"`
	Account    abuse.Account  `json:"account"`
	Category   abuse.Category `json:"category"`
	Track      string         `json:"track"`
	Severity   string         `json:"severity"`
	OpenedAt   time.Time      `json:"opened_at"`
	// Deadline is when the current wait ends (response, approval, appeal window or SLA);
	// zero when nothing is timed.
	Deadline     time.Time   `json:"deadline,omitzero"`
	DeadlineKind string      `json:"deadline_kind,omitempty"`
	Reports      ReportStats `json:"reports"`
	Replies      int         `json:"replies"`
	AutoReplies  int         `json:"auto_replies"`
	Ticket       TicketRef   `json:"ticket"`
	// CategoryTrack is the track of the case's category (abuse, advisory, legal, customer, messaging);
	// Track is the account's rules (standard, strict, strategic).
	CategoryTrack abuse.Track       `json:"category_track,omitempty"`
	Triage        *TriageState      `json:"triage,omitempty"`
	Legal         *LegalState       `json:"legal,omitempty"`
	Advisory      *AdvisoryState    `json:"advisory,omitempty"`
	Traffic       *abuse.Traffic    `json:"traffic,omitempty"`
	Approval      *ApprovalState    `json:"approval,omitempty"`
	Enforcement   *Enforcement      `json:"enforcement,omitempty"`
	Appeal        *AppealState      `json:"appeal,omitempty"`
	Remediation   *RemediationState `json:"remediation,omitempty"`
	HandOffs      []HandOffState    `json:"handoffs,omitempty"`
	// Review is why the case waits for an agent, and by when (under review only).
	Review *ReviewState `json:"review,omitempty"`
	// Assignee is the agent who owns the case (nil: nobody).
	Assignee     *Assignment     `json:"assignee,omitempty"`
	Outcome      Outcome         `json:"outcome,omitempty"`
	ClosedAt     time.Time       `json:"closed_at,omitzero"`
	Timeline     []TimelineEntry `json:"timeline"`
	TimelineLost int             `json:"timeline_lost,omitempty"`
	PolicyRules  policy.Rules    `json:"policy_rules"`
	Runs         int             `json:"runs"`
}
