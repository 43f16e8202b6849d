package workflows

import "slices"

// The lifecycle of a case, in one place: its statuses, how it may move between them, and how it
// ends. The Case workflow changes a case's status only through one method that checks Moves;
// README.md and the dashboard point here.
//
//	open ─(legal track)─> legal_review ─preserve, disclose, reject─> resolved
//	open ─(CSAM)─> escalated ─> pending_approval ─approve─> enforced   (no word to the customer)
//	open ─(advisory track)─> monitoring ─quiet period, agent─> resolved
//	open ─(customer track)─> under_review ─agent─> resolved            (a support ticket)
//	open ─(uncertain)─> needs_triage ─confirm─> noticed ; ─not abuse, reclassify, route─> resolved
//	open ─> noticed ─> awaiting_response ──reply──> under_review ──agent──> resolved
//	noticed, awaiting_response, under_review, pending_approval ─accept remediation─> verifying
//	verifying ─every re-check fixed─> resolved ; ─a re-check not fixed (or none could tell)─> under_review
//	                        │   ▲                        ▲  │
//	                        │   └──request info, extend──┼──┘
//	                        └─deadline─> escalated ─> pending_approval ─deny─> under_review
//	                                        │               └─approve / timeout─> escalated
//	                                        └──(no approval needed)──> enforced
//	enforced ─appeal─> appeal_review ─granted─> reinstated ; ─denied─> upheld
//	enforced ─appeal window ends─> closed
//
// A closed case whose action stands may be reinstated later: the customer's request opens a
// Reinstatement workflow of its own (reinstatement.go), not a status of the case.
//
// A step that fails for good (its activity gave up) hands the case to people: under_review. A
// case whose every report the account's previous incident already handled closes at once
// (open ─> closed, outcome duplicate).

// Status is where a case stands.
type Status string

// Case statuses. The last four are final.
const (
	StatusOpen             Status = "open"
	StatusNeedsTriage      Status = "needs_triage"
	StatusLegalReview      Status = "legal_review"
	StatusMonitoring       Status = "monitoring"
	StatusNoticed          Status = "noticed"
	StatusAwaitingResponse Status = "awaiting_response"
	StatusUnderReview      Status = "under_review"
	StatusVerifying        Status = "verifying"
	StatusEscalated        Status = "escalated"
	StatusPendingApproval  Status = "pending_approval"
	StatusEnforced         Status = "enforced"
	StatusAppealReview     Status = "appeal_review"
	StatusResolved         Status = "resolved"
	StatusReinstated       Status = "reinstated"
	StatusUpheld           Status = "upheld"
	StatusClosed           Status = "closed"
)

// Statuses lists every status in lifecycle order (the dashboard's filter uses it).
var Statuses = []Status{StatusOpen, StatusNeedsTriage, StatusLegalReview, StatusMonitoring, StatusNoticed, StatusAwaitingResponse, StatusUnderReview, StatusVerifying, StatusEscalated,
	StatusPendingApproval, StatusEnforced, StatusAppealReview, StatusResolved, StatusReinstated, StatusUpheld, StatusClosed}

// Final reports whether the case is over.
func (s Status) Final() bool {
	switch s {
	case StatusResolved, StatusReinstated, StatusUpheld, StatusClosed:
		return true
	}
	return false
}

// Outcome is how a case ended.
type Outcome string

// Outcomes.
const (
	OutcomeResolved   Outcome = "resolved"   // an agent closed it without action (e.g. not a violation)
	OutcomeRemediated Outcome = "remediated" // the customer fixed the problem
	OutcomeEnforced   Outcome = "enforced"   // the action stands; the appeal window passed
	OutcomeReinstated Outcome = "reinstated" // an appeal was granted and the action lifted
	OutcomeUpheld     Outcome = "upheld"     // an appeal was denied
	OutcomeWithdrawn  Outcome = "withdrawn"  // the reports were withdrawn or found invalid
	OutcomeDuplicate  Outcome = "duplicate"  // every report was already handled by the account's previous incident
	// Outcomes of the triage gate.
	OutcomeNotAbuse     Outcome = "not_abuse"    // an agent found the reports are not abuse
	OutcomeReclassified Outcome = "reclassified" // the reports moved to another account's or category's case
	OutcomeRouted       Outcome = "routed"       // handed to another team; the desk does not act
	// Outcomes of the legal track.
	OutcomePreserved Outcome = "preserved" // the records were preserved as requested
	OutcomeDisclosed Outcome = "disclosed" // the records were handed over under legal process
	OutcomeRejected  Outcome = "rejected"  // the request was refused (invalid, not ours, no legal basis)
	// OutcomeQuiet: an advisory case closed because no report listed the host for the policy's
	// quiet period.
	OutcomeQuiet Outcome = "quiet"
)

// Moves are the status changes a case may make, from each status that is not final. Staying in
// the same status (a new wait after "request more information") is not a move.
var Moves = map[Status][]Status{
	StatusOpen:             {StatusNoticed, StatusNeedsTriage, StatusLegalReview, StatusMonitoring, StatusEscalated, StatusUnderReview, StatusClosed},
	StatusNeedsTriage:      {StatusNoticed, StatusMonitoring, StatusUnderReview, StatusResolved},
	StatusLegalReview:      {StatusUnderReview, StatusResolved},
	StatusMonitoring:       {StatusUnderReview, StatusResolved},
	StatusNoticed:          {StatusAwaitingResponse, StatusUnderReview, StatusVerifying, StatusResolved},
	StatusAwaitingResponse: {StatusEscalated, StatusUnderReview, StatusVerifying, StatusResolved},
	StatusUnderReview:      {StatusAwaitingResponse, StatusVerifying, StatusResolved},
	StatusVerifying:        {StatusUnderReview, StatusAwaitingResponse, StatusResolved},
	StatusEscalated:        {StatusPendingApproval, StatusEnforced, StatusUnderReview},
	StatusPendingApproval:  {StatusEscalated, StatusUnderReview, StatusAwaitingResponse, StatusVerifying, StatusResolved},
	StatusEnforced:         {StatusAppealReview, StatusClosed},
	StatusAppealReview:     {StatusReinstated, StatusUpheld, StatusUnderReview},
}

// awaitingCustomer are the statuses of a case that waits on its customer (or on the lead who
// decides what happens when it does not answer).
var awaitingCustomer = []Status{StatusNoticed, StatusAwaitingResponse, StatusUnderReview, StatusPendingApproval}

// awaitingOrVerifying are those and a fix being verified.
var awaitingOrVerifying = append(slices.Clone(awaitingCustomer), StatusVerifying)

// DecisionStatuses are the statuses in which an agent's decision applies to a case on the abuse
// track, beside Moves: the Case workflow's validator refuses a decision in any other status,
// then checks the decision's own conditions (an appeal window, who may review an appeal). While
// a fix is verified an agent may close the case or ask the customer again; there is no deadline
// to extend and the fix is already accepted.
var DecisionStatuses = map[Decision][]Status{
	DecisionAcceptRemediation: awaitingCustomer,
	DecisionExtendDeadline:    awaitingCustomer,
	DecisionResolve:           awaitingOrVerifying,
	DecisionWithdraw:          awaitingOrVerifying,
	DecisionRequestInfo:       awaitingOrVerifying,
	DecisionTreatAsAppeal:     {StatusEnforced},
	DecisionGrantAppeal:       {StatusAppealReview},
	DecisionDenyAppeal:        {StatusAppealReview},
}

// ClosingDecisions are the decisions that apply outside the abuse track (before enforcement):
// an advisory, legal or customer matter is closed by an agent, never answered with a
// deadline that ends in enforcement. They apply in legal review and monitoring too.
var ClosingDecisions = []Decision{DecisionResolve, DecisionWithdraw, DecisionAcceptRemediation}

// CanMove reports whether a case may move from one status to another.
func CanMove(from, to Status) bool { return slices.Contains(Moves[from], to) }
