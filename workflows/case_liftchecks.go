package workflows

import (
	"errors"
	"fmt"
	"strings"

	"go.temporal.io/sdk/workflow"
)

// Checks before lifting: before an appeal or a request for reinstatement is granted, the
// category's outside checks (the reported URLs fetched, the reported addresses looked up on the
// policy's blocklists) run over every URL and address the case's reports name, and the result is
// kept for the reviewer (the case's timeline, the review's view, the ledger). While a check
// still finds the problem the grant is refused; the reviewer may grant anyway only with an
// explicit override and its reason in the note ("override: …"), which is recorded.

// versionChecksBeforeLifting runs the checks before a grant.
const versionChecksBeforeLifting = "checks-before-lifting"

// overridePrefix starts a reviewer's note that grants over a failing check.
const overridePrefix = "override:"

// liftCheck runs the plan's outside checks before a grant: what they found, the reviewer's
// override reason when one was needed and given, and the refusal (nil: the grant may go ahead).
// ran is false when there was nothing to check.
func liftCheck(ctx workflow.Context, plan RemediationState, note string) (results []CheckResult, override string, ran bool, refused error) {
	if len(plan.URLs)+len(plan.Addresses) == 0 {
		return nil, "", false, nil // the category checks nothing outside, or the reports name nothing to check
	}
	if workflow.GetVersion(ctx, versionChecksBeforeLifting, workflow.DefaultVersion, 1) < 1 {
		return nil, "", false, nil
	}
	results = outsideCheck(ctx, &plan)
	if overall(results) != VerdictStill {
		return results, "", true, nil
	}
	if why := overrideReason(note); why != "" {
		return results, why, true, nil
	}
	return results, "", true, errors.New("the checks find the problem still there (" + summarise(stillOnly(results)) +
		"): grant only once it is gone, or grant anyway with \"" + overridePrefix + " <why>\" in the note")
}

// checkBeforeLifting runs the checks before an appeal is granted and keeps what they found on
// the timeline and in the ledger; it returns why the grant is refused (nil: it may go ahead).
func (w *caseWorkflow) checkBeforeLifting(ctx workflow.Context, d AgentDecision) error {
	results, override, ran, refused := liftCheck(ctx, w.verifyPlan(), d.Note)
	if !ran {
		return nil
	}
	w.note(ctx, EventRemediation, "checks before the grant: "+summarise(results), "")
	w.record(ctx, LedgerEvent{Kind: LedgerChecked, Decision: overall(results), Text: excerpt("before the grant: "+summarise(results), 500)})
	if override != "" {
		w.note(ctx, EventRemediation, fmt.Sprintf("granted over a failing check by %s: %s", d.Agent, override), d.Agent)
		w.record(ctx, LedgerEvent{Kind: LedgerChecked, Decision: "override", Actor: d.Agent, Text: excerpt(override, 500)})
	}
	return refused
}

// overrideReason is the reason of an explicit override in a reviewer's note ("" when the note
// has none, or gives no reason).
func overrideReason(note string) string {
	i := strings.Index(strings.ToLower(note), overridePrefix)
	if i < 0 {
		return ""
	}
	why := strings.TrimSpace(note[i+len(overridePrefix):])
	if len([]rune(why)) < 10 {
		return "" // an override says why
	}
	return why
}
