package workflows

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"abusedesk/domain/abuse"
	"abusedesk/domain/approval"
	"abusedesk/domain/policy"
)

// A reviewed bulk action: a lead proposes one action on the accounts a cluster links (from the
// trends page, signed in), another lead approves it in Slack, the desk applies it to every
// account (each one recorded, with its own idempotency key), and one click on the same message
// undoes the whole action. Nothing is done to any account before a second person approved.
const (
	BulkActionWorkflowType = "BulkAction"
	ActivityPostBulk       = "PostBulkAction"
	ActivityShowBulk       = "ShowBulkAction"
	ActivityRecordBulk     = "RecordBulkAction"
	ActivityNotifyBulk     = "NotifyBulkAction"
	// QueryBulk answers the bulk action's BulkState.
	QueryBulk = "bulk"
)

// bulkAskFor is how long a proposal waits for a lead before it lapses (nothing done);
// bulkUndoFor how long the action can be undone with one click (after that, each account's
// action is lifted as any other, by appeal or an agent).
const (
	bulkAskFor  = 72 * time.Hour
	bulkUndoFor = 90 * 24 * time.Hour
	// MaxBulkAccounts bounds the accounts of one bulk action.
	MaxBulkAccounts = 50
)

// BulkWorkflowID is the workflow of bulk action number (B-…).
func BulkWorkflowID(number string) string { return approval.BulkIDPrefix + number }

// BulkInput is a lead's proposal, as the dashboard made it from a cluster it read itself.
type BulkInput struct {
	Number string `json:"number"`
	// Proposer is the signed-in person who proposed it (their address and name).
	Proposer     string `json:"proposer"`
	ProposerName string `json:"proposer_name,omitempty"`
	// Accounts are the linked accounts; Links what their reports share, each with the accounts
	// whose reports name it and their cases.
	Accounts []string         `json:"accounts"`
	Links    []BulkLink       `json:"links"`
	Action   abuse.ActionType `json:"action"`
	Level    int              `json:"level,omitempty"`
	// Reason is the proposer's, for the leads and the desk's records: a customer's notice says
	// only its own account's facts.
	Reason string `json:"reason"`
	// Approvers are the policy's leads: the desk resolves who of Slack they are, and only they
	// decide.
	Approvers approval.Approvers `json:"approvers"`
	// Reasons are the ground and the redress routes each customer's statement of reasons names.
	Reasons policy.Reasons `json:"reasons"`
}

// BulkLink is one indicator the accounts' reports share.
type BulkLink struct {
	Kind     string   `json:"kind"`
	Value    string   `json:"value"`
	Accounts []string `json:"accounts"`
	// Cases are each account's cases that name it.
	Cases map[string][]string `json:"cases,omitempty"`
}

// Shared says what links the accounts, one line per indicator with the accounts that share it
// (for the leads and the desk's pages, never a customer).
func (in BulkInput) Shared() []string {
	out := make([]string, len(in.Links))
	for i, l := range in.Links {
		out[i] = fmt.Sprintf("%s %s (%s)", l.Kind, l.Value, strings.Join(l.Accounts, ", "))
	}
	return out
}

// FactsOf are the indicators one account's reports name ("domain evil.example") and the cases
// of that account that name them: what its own notice may say.
func (in BulkInput) FactsOf(account string) (indicators, cases []string) {
	for _, l := range in.Links {
		if !slices.Contains(l.Accounts, account) {
			continue
		}
		indicators = append(indicators, l.Kind+" "+l.Value)
		for _, c := range l.Cases[account] {
			if !slices.Contains(cases, c) {
				cases = append(cases, c)
			}
		}
	}
	return indicators, cases
}

// Validate says what is wrong with a proposal.
func (in BulkInput) Validate() error {
	var errs []error
	if in.Number == "" {
		errs = append(errs, errors.New("no number"))
	}
	if strings.TrimSpace(in.Proposer) == "" {
		errs = append(errs, errors.New("no proposer: a bulk action is proposed by a signed-in lead"))
	}
	if len(in.Accounts) < 2 {
		errs = append(errs, fmt.Errorf("%d account(s): a bulk action is on two or more linked accounts", len(in.Accounts)))
	}
	if len(in.Accounts) > MaxBulkAccounts {
		errs = append(errs, fmt.Errorf("%d accounts: at most %d in one bulk action", len(in.Accounts), MaxBulkAccounts))
	}
	if len(slices.Compact(slices.Sorted(slices.Values(in.Accounts)))) != len(in.Accounts) {
		errs = append(errs, errors.New("an account is named twice"))
	}
	switch in.Action {
	case abuse.ActionThrottle, abuse.ActionSuspendSending, abuse.ActionSuspendAccount:
	default:
		errs = append(errs, fmt.Errorf("action %q: a bulk action throttles, suspends sending or suspends the account", in.Action))
	}
	if strings.TrimSpace(in.Reason) == "" {
		errs = append(errs, errors.New("no reason: the leads decide on it, and the record keeps it"))
	}
	if len(in.Links) == 0 {
		errs = append(errs, errors.New("nothing shared: a bulk action is on accounts the desk linked"))
	}
	for _, a := range in.Accounts {
		if ind, _ := in.FactsOf(a); len(ind) == 0 {
			errs = append(errs, fmt.Errorf("%s: none of the links names it", a))
		}
	}
	return errors.Join(errs...)
}

// BulkAccount is what the bulk action did to one account.
type BulkAccount struct {
	Account   string    `json:"account"`
	ActionID  string    `json:"action_id,omitempty"`
	AppliedAt time.Time `json:"applied_at,omitzero"`
	// Error says why the action could not be applied (the others went on).
	Error     string    `json:"error,omitempty"`
	LiftedAt  time.Time `json:"lifted_at,omitzero"`
	LiftError string    `json:"lift_error,omitempty"`
	// Ticket is where the customer was told (their own notice with its statement of reasons);
	// NoticeError why they could not be (a person tells them).
	Ticket      TicketRef `json:"ticket,omitzero"`
	NoticeError string    `json:"notice_error,omitempty"`
}

// BulkNoticeInput tells one customer what a bulk action did to their account: the action
// applied (with its statement of reasons), or, Lifted, that it was undone.
type BulkNoticeInput struct {
	Number      string           `json:"number"`
	Account     string           `json:"account"`
	ActionID    string           `json:"action_id"`
	Action      abuse.ActionType `json:"action"`
	Level       int              `json:"level,omitempty"`
	AppliedAt   time.Time        `json:"applied_at"`
	AppealUntil time.Time        `json:"appeal_until"`
	LiftedAt    time.Time        `json:"lifted_at,omitzero"`
	Lifted      bool             `json:"lifted,omitempty"`
	// Indicators and Cases are this account's own facts (BulkInput.FactsOf).
	Indicators []string       `json:"indicators"`
	Cases      []string       `json:"cases,omitempty"`
	Reasons    policy.Reasons `json:"reasons"`
}

// BulkState is a bulk action as it stands: the ledger keeps it, the page shows it.
type BulkState struct {
	BulkInput
	Status     string    `json:"status"`
	ProposedAt time.Time `json:"proposed_at"`
	Deadline   time.Time `json:"deadline,omitzero"`
	// DecidedBy is the Slack user who approved or denied it (DecidedByName, DecidedByEmail),
	// DecidedAt when; Note a denial's reason.
	DecidedBy      string    `json:"decided_by,omitempty"`
	DecidedByName  string    `json:"decided_by_name,omitempty"`
	DecidedByEmail string    `json:"decided_by_email,omitempty"`
	DecidedAt      time.Time `json:"decided_at,omitzero"`
	Note           string    `json:"note,omitempty"`
	// UndoUntil is until when one click undoes it all (zero: no longer, or nothing to undo).
	UndoUntil time.Time `json:"undo_until,omitzero"`
	// UndoneBy and UndoneAt say who undid the whole action, when.
	UndoneBy  string           `json:"undone_by,omitempty"`
	UndoneAt  time.Time        `json:"undone_at,omitzero"`
	Results   []BulkAccount    `json:"results,omitempty"`
	Deciders  []string         `json:"deciders,omitempty"`
	Message   approval.Message `json:"message,omitzero"`
	UpdatedAt time.Time        `json:"updated_at"`
}

// Applied counts the accounts whose action is in place (applied, not lifted).
func (s BulkState) Applied() int {
	n := 0
	for _, r := range s.Results {
		if r.ActionID != "" && r.LiftedAt.IsZero() {
			n++
		}
	}
	return n
}

// Outcome is a sentence of what the action did.
func (s BulkState) Outcome() string {
	applied, failed, lifted := 0, 0, 0
	for _, r := range s.Results {
		switch {
		case r.ActionID == "":
			failed++
		case !r.LiftedAt.IsZero():
			lifted++
			applied++
		default:
			applied++
		}
	}
	what := s.What()
	switch s.Status {
	case approval.BulkProposed:
		return fmt.Sprintf("Proposed on %d accounts (%s), waiting for a second lead.", len(s.Accounts), what)
	case approval.BulkDenied:
		return "Denied: nothing was done to any account. " + s.Note
	case approval.BulkExpired:
		return "No lead decided in time: nothing was done to any account."
	case approval.BulkApplying:
		return fmt.Sprintf("Applying (%s): %d of %d accounts done.", what, applied+failed, len(s.Accounts))
	case approval.BulkUndoing, approval.BulkUndone:
		out := fmt.Sprintf("Undone: %d of %d actions lifted.", lifted, applied)
		if applied-lifted > 0 {
			out += fmt.Sprintf(" %d could not be lifted: an agent lifts them.", applied-lifted)
		}
		return out
	}
	out := fmt.Sprintf("Applied to %d of %d accounts: %s.", applied, len(s.Accounts), what)
	if failed > 0 {
		out += fmt.Sprintf(" %d could not be reached: see each account.", failed)
	}
	return out
}

// What says the action each account gets.
func (s BulkState) What() string { return s.Action.Describe(s.Level) }

// bulkAction is one run of the BulkAction workflow: its state says everything (a decision
// moves Status on from proposed, an undo to undoing).
type bulkAction struct {
	st BulkState
}

// BulkAction runs one reviewed bulk action, from the proposal to its undo.
func BulkAction(ctx workflow.Context, in BulkInput) (*BulkState, error) {
	if err := in.Validate(); err != nil {
		return nil, temporal.NewNonRetryableApplicationError("bulk action: "+err.Error(), "Invalid", nil)
	}
	now := workflow.Now(ctx)
	b := &bulkAction{st: BulkState{BulkInput: in, Status: approval.BulkProposed, ProposedAt: now, Deadline: now.Add(bulkAskFor)}}
	if err := workflow.SetQueryHandler(ctx, QueryBulk, func() (BulkState, error) { return b.st, nil }); err != nil {
		return nil, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateApproval, b.onDecision,
		workflow.UpdateHandlerOptions{Validator: b.validate}); err != nil {
		return nil, err
	}
	b.record(ctx)
	var res ResolveDecidersResult
	if err := workflow.ExecuteActivity(withDeciders(ctx), ActivityResolveDeciders, ResolveDecidersInput{Approvers: in.Approvers}).Get(ctx, &res); err != nil {
		res.Users = in.Approvers.Users // only the leads the policy names by ID
	}
	b.st.Deciders = slices.Compact(slices.Sorted(slices.Values(res.Users)))
	var msg approval.Message
	if err := workflow.ExecuteActivity(withStep(ctx), ActivityPostBulk, b.st).Get(ctx, &msg); err != nil {
		b.st.Status, b.st.Note = approval.BulkExpired, "the request could not be posted to the leads: "+err.Error()
		b.record(ctx)
		return &b.st, nil
	}
	b.st.Message = msg
	b.record(ctx)

	ok, err := workflow.AwaitWithTimeout(ctx, b.st.Deadline.Sub(workflow.Now(ctx)), func() bool { return b.st.Status != approval.BulkProposed })
	if err != nil {
		return nil, err
	}
	if !ok {
		b.st.Status, b.st.DecidedAt = approval.BulkExpired, workflow.Now(ctx)
	}
	if b.st.Status != approval.BulkApplying {
		b.show(ctx)
		b.record(ctx)
		return &b.st, nil
	}
	b.show(ctx)
	b.apply(ctx)
	b.st.Status = approval.BulkApplied
	if b.st.Applied() > 0 {
		b.st.UndoUntil = workflow.Now(ctx).Add(bulkUndoFor)
	}
	b.record(ctx)
	b.show(ctx)

	if b.st.Applied() == 0 {
		return &b.st, nil
	}
	undone, err := workflow.AwaitWithTimeout(ctx, bulkUndoFor, func() bool { return b.st.Status == approval.BulkUndoing })
	if err != nil {
		return nil, err
	}
	if !undone {
		b.st.UndoUntil = time.Time{} // the undo button goes: the window is over
		b.record(ctx)
		b.show(ctx)
		return &b.st, nil
	}
	b.lift(ctx)
	b.st.Status = approval.BulkUndone
	b.record(ctx)
	b.show(ctx)
	return &b.st, nil
}

// bulkActionOptions apply and lift one account's action: a few tries, then the account's
// failure is recorded and the others go on.
var bulkActionOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 2 * time.Minute,
	RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute, MaximumAttempts: 5},
}

// apply applies the action to each account, one idempotency key each, and tells each customer
// what was done to their account alone.
func (b *bulkAction) apply(ctx workflow.Context) {
	actx := workflow.WithActivityOptions(ctx, bulkActionOptions)
	for _, acct := range b.st.Accounts {
		r := BulkAccount{Account: acct}
		indicators, _ := b.st.FactsOf(acct)
		// The action's reason is this account's: the platform may show it to the customer.
		reason := fmt.Sprintf("Reviewed bulk action %s, approved by %s: reports about this account name %s, as reports about other accounts do.",
			b.st.Number, cmp.Or(b.st.DecidedByEmail, b.st.DecidedByName, b.st.DecidedBy), strings.Join(indicators, ", "))
		var res ActionResult
		err := workflow.ExecuteActivity(actx, ActivityEnforce, EnforceInput{
			Key: BulkWorkflowID(b.st.Number) + "/" + acct, CaseID: BulkWorkflowID(b.st.Number), CaseNumber: b.st.Number,
			AccountID: acct, Type: b.st.Action, Level: b.st.Level, Reason: reason,
		}).Get(ctx, &res)
		if err != nil {
			r.Error = err.Error()
		} else {
			r.ActionID, r.AppliedAt = res.ActionID, res.AppliedAt
			b.notify(ctx, &r, false)
		}
		b.st.Results = append(b.st.Results, r)
		b.record(ctx)
	}
}

// bulkAppealFor is how long a customer has to appeal a bulk action's action on their account.
const bulkAppealFor = bulkUndoFor

// notify tells the customer of one account what the action did to it (lifted: that it was
// undone), on their own ticket; a notice that cannot be sent is recorded for a person.
func (b *bulkAction) notify(ctx workflow.Context, r *BulkAccount, lifted bool) {
	indicators, cases := b.st.FactsOf(r.Account)
	var ticket TicketRef
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, bulkActionOptions), ActivityNotifyBulk, BulkNoticeInput{
		Number: b.st.Number, Account: r.Account, ActionID: r.ActionID, Action: b.st.Action, Level: b.st.Level,
		AppliedAt: r.AppliedAt, AppealUntil: r.AppliedAt.Add(bulkAppealFor), LiftedAt: r.LiftedAt, Lifted: lifted,
		Indicators: indicators, Cases: cases, Reasons: b.st.Reasons,
	}).Get(ctx, &ticket)
	if err != nil {
		r.NoticeError = err.Error()
		return
	}
	r.Ticket, r.NoticeError = ticket, ""
}

// lift lifts every action the bulk action applied.
func (b *bulkAction) lift(ctx workflow.Context) {
	actx := workflow.WithActivityOptions(ctx, bulkActionOptions)
	for i := range b.st.Results {
		r := &b.st.Results[i]
		if r.ActionID == "" || !r.LiftedAt.IsZero() {
			continue
		}
		var res ActionResult
		err := workflow.ExecuteActivity(actx, ActivityLiftAction, LiftInput{
			Key: BulkWorkflowID(b.st.Number) + "/" + r.Account + "/undo", ActionID: r.ActionID,
			Reason: fmt.Sprintf("Bulk action %s undone by %s.", b.st.Number, b.st.UndoneBy), Overturned: true,
		}).Get(ctx, &res)
		if err != nil {
			r.LiftError = err.Error()
		} else {
			r.LiftedAt = cmp.Or(res.LiftedAt, workflow.Now(ctx))
			b.notify(ctx, r, true)
		}
		b.record(ctx)
	}
}

// validate is the decision update's validator: who may decide is the desk's to say (the
// deciders it resolved), and a proposal is approved by someone else than who proposed it.
func (b *bulkAction) validate(d approval.Decision) error {
	if err := b.fits(d); err != nil {
		return err
	}
	if d.UserID == "" || !slices.Contains(b.st.Deciders, d.UserID) {
		return fmt.Errorf("%s is not one of the leads who decide bulk actions", cmp.Or(d.UserName, d.UserID, "a decision naming no one"))
	}
	if d.Decision == approval.Approve {
		if d.UserEmail == "" {
			return errors.New("the desk could not read your Slack address, so it cannot tell you from the lead who proposed this: not approved")
		}
		if strings.EqualFold(strings.TrimSpace(d.UserEmail), strings.TrimSpace(b.st.Proposer)) {
			return errors.New("you proposed this bulk action: another lead approves it")
		}
	}
	return nil
}

// fits checks a decision against the action's state (the handler checks again: two clicks in
// one workflow task both pass the validator).
func (b *bulkAction) fits(d approval.Decision) error {
	switch d.Decision {
	case approval.Approve, approval.Deny:
		if b.st.Status != approval.BulkProposed {
			return fmt.Errorf("bulk action %s is %s: there is nothing to approve or deny", b.st.Number, b.st.Status)
		}
		if d.Decision == approval.Deny && strings.TrimSpace(d.Reason) == "" {
			return errors.New("a denial needs a reason")
		}
	case approval.Undo:
		if b.st.Status != approval.BulkApplied || b.st.UndoUntil.IsZero() {
			return fmt.Errorf("bulk action %s is %s: there is nothing to undo", b.st.Number, b.st.Status)
		}
	default:
		return fmt.Errorf("unknown decision %q on a bulk action: want approve, deny or undo", d.Decision)
	}
	return nil
}

func (b *bulkAction) onDecision(ctx workflow.Context, d approval.Decision) (*DecisionResult, error) {
	if err := b.fits(d); err != nil {
		return nil, err
	}
	now := workflow.Now(ctx)
	who := cmp.Or(d.UserName, d.UserID)
	switch d.Decision {
	case approval.Undo:
		b.st.Status, b.st.UndoneBy, b.st.UndoneAt = approval.BulkUndoing, cmp.Or(d.UserEmail, who), now
		return &DecisionResult{Status: Status(b.st.Status), Message: fmt.Sprintf("Undoing bulk action %s: every account's action is being lifted.", b.st.Number)}, nil
	case approval.Approve:
		b.st.Status = approval.BulkApplying
	default:
		b.st.Status, b.st.Note = approval.BulkDenied, d.Reason
	}
	b.st.DecidedBy, b.st.DecidedByName, b.st.DecidedByEmail, b.st.DecidedAt = d.UserID, d.UserName, d.UserEmail, now
	if d.Decision == approval.Approve {
		return &DecisionResult{Status: Status(b.st.Status), Message: fmt.Sprintf("Approved: applying it to the %d accounts (%s).", len(b.st.Accounts), b.st.What())}, nil
	}
	return &DecisionResult{Status: Status(b.st.Status), Message: "Denied. Nothing is done to the accounts."}, nil
}

// record keeps the action as it stands in the ledger.
func (b *bulkAction) record(ctx workflow.Context) {
	b.st.UpdatedAt = workflow.Now(ctx)
	if err := workflow.ExecuteLocalActivity(withLedger(ctx), ActivityRecordBulk, b.st).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Error("bulk action not recorded in the ledger", "number", b.st.Number, "error", err)
	}
}

// show rewrites the message in Slack to the action as it stands.
func (b *bulkAction) show(ctx workflow.Context) {
	if b.st.Message.TS == "" {
		return
	}
	if err := workflow.ExecuteActivity(withStep(ctx), ActivityShowBulk, b.st).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Error("bulk action's message not updated", "number", b.st.Number, "error", err)
	}
}
