package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"abusedesk/domain/abuse"
	"abusedesk/domain/policy"
)

// Verified remediation: a fix an agent accepts is checked again at the policy's offsets
// (remediation.verify) before the case closes as remediated — the reported URLs fetched, the
// reported addresses looked up on the policy's DNS blocklists, the reports watched for anything
// seen after the acceptance. A re-check that finds the problem still there reopens the case for
// an agent (under_review: nothing is done to the account); so does a last re-check that could
// not tell. When the customer answers, the same outside checks run once at once, for the agent
// who decides.

// maxCheckSubjects bounds how many URLs and how many addresses a verification looks at.
const maxCheckSubjects = 10

// verifyPlan is what a case's fix can be checked by: the policy's checks that have something
// to look at in the case's reports.
func (w *caseWorkflow) verifyPlan() RemediationState {
	return checkPlan(w.st.Rules.Remediation, w.st.Reports.Recent)
}

// CheckPlan is what a case's fix can be checked by, from its view (a closed case's too): the
// reinstatement review runs it before a grant.
func CheckPlan(v *CaseView) RemediationState {
	return checkPlan(v.PolicyRules.Remediation, v.Reports.Recent)
}

func checkPlan(r policy.Remediation, recent []ReportSummary) RemediationState {
	var plan RemediationState
	for _, rep := range recent {
		for _, s := range rep.Subjects {
			val := s.Value
			if val == "" {
				continue
			}
			switch {
			case s.Kind == abuse.SubjectURL && len(plan.URLs) < maxCheckSubjects && !slices.Contains(plan.URLs, val):
				plan.URLs = append(plan.URLs, val)
			case s.Kind == abuse.SubjectIP && len(plan.Addresses) < maxCheckSubjects && !slices.Contains(plan.Addresses, val):
				plan.Addresses = append(plan.Addresses, val)
			}
		}
	}
	if r.Has(policy.CheckHTTP) && len(plan.URLs) > 0 {
		plan.Checks = append(plan.Checks, policy.CheckHTTP)
	} else {
		plan.URLs = nil
	}
	if r.Has(policy.CheckBlocklist) && len(plan.Addresses) > 0 && len(r.Blocklists) > 0 {
		plan.Checks = append(plan.Checks, policy.CheckBlocklist)
		plan.Blocklists = slices.Clone(r.Blocklists)
	} else {
		plan.Addresses = nil
	}
	if r.Has(policy.CheckFeed) {
		plan.Checks = append(plan.Checks, policy.CheckFeed)
	}
	return plan
}

// verifies reports whether an accepted fix is verified before the case closes: an abuse-track
// case whose policy re-checks and has something to check.
func (w *caseWorkflow) verifies(ctx workflow.Context) bool {
	if !w.track().Violation() || len(w.st.Rules.Remediation.Verify) == 0 {
		return false
	}
	if len(w.verifyPlan().Checks) == 0 {
		return false
	}
	return workflow.GetVersion(ctx, versionVerifiedRemediation, workflow.DefaultVersion, 1) >= 1
}

// startVerification takes an agent's accept_remediation: the case waits in verifying for the
// re-checks.
func (w *caseWorkflow) startVerification(ctx workflow.Context, d AgentDecision) string {
	now := workflow.Now(ctx)
	plan := w.verifyPlan()
	plan.AcceptedAt, plan.AcceptedBy, plan.Notified = now, d.Agent, d.Notified
	for _, off := range w.st.Rules.Remediation.Verify {
		plan.Due = append(plan.Due, now.Add(off.D()))
	}
	if old := w.st.Remediation; old != nil {
		plan.Reopened = old.Reopened
		// The latest checks (on the customer's answer, or the re-check that reopened the case)
		// stay in view until the first re-check.
		plan.Results, plan.CheckedAt = old.Results, old.CheckedAt
	}
	w.st.Remediation = &plan
	w.st.Wait = nil
	w.withdrawApproval(ctx, "an agent accepted the customer's fix")
	w.setStatus(StatusVerifying)
	when := make([]string, len(plan.Due))
	for i, t := range plan.Due {
		when[i] = fmtTime(t)
	}
	w.note(ctx, EventRemediation, fmt.Sprintf("fix accepted by %s; checked (%s) at %s before the case closes", d.Agent, strings.Join(plan.Checks, ", "), strings.Join(when, ", ")), d.Agent)
	data := w.noticeData(ctx)
	w.queueNotify(fmt.Sprintf("remediation-accepted-%d", plan.Reopened), NotifyInput{Note: NoteRemediation, Status: TicketPending, Data: data})
	return fmt.Sprintf("Fix accepted; the desk checks it %d time(s), the last at %s, then closes the case (or reopens it if the problem is still there).", len(plan.Due), fmtTime(plan.Due[len(plan.Due)-1]))
}

// awaitVerification waits for the next re-check and acts on what it finds.
func (w *caseWorkflow) awaitVerification(ctx workflow.Context) {
	rm := w.st.Remediation
	if rm == nil || rm.Done >= len(rm.Due) {
		// Not reachable through startVerification; a person looks rather than the case closing.
		w.reopen(ctx, "the verification had nothing left to run")
		return
	}
	if !w.waitUntil(ctx, rm.Due[rm.Done]) || w.st.Status != StatusVerifying {
		return
	}
	results := w.checkFix(ctx, rm, true)
	rm.Done++
	rm.Results, rm.CheckedAt = results, workflow.Now(ctx)
	verdict := overall(results)
	w.note(ctx, EventRemediation, fmt.Sprintf("re-check %d of %d: %s", rm.Done, len(rm.Due), summarise(results)), "")
	w.record(ctx, LedgerEvent{Kind: LedgerChecked, Decision: verdict, Count: rm.Done, Text: excerpt(summarise(results), 500)})
	last := rm.Done == len(rm.Due)
	switch {
	case verdict == VerdictStill:
		w.reopen(ctx, "the problem is still there: "+summarise(stillOnly(results)))
	case last && verdict == VerdictUnknown:
		w.reopen(ctx, "the last re-check could not tell whether it is fixed: "+summarise(results))
	case last:
		rm.Outcome = RemediationVerified
		w.finishNotified(ctx, OutcomeRemediated, StatusResolved, rm.Notified)
	}
}

// checkFix runs the outside checks (and, after an acceptance, the feed check). A failed
// activity is a check that could not tell, never a verified fix.
func (w *caseWorkflow) checkFix(ctx workflow.Context, rm *RemediationState, feed bool) []CheckResult {
	results := outsideCheck(ctx, rm)
	if feed && slices.Contains(rm.Checks, policy.CheckFeed) {
		r := CheckResult{Check: policy.CheckFeed, Subject: "reports seen after the fix was accepted", Verdict: VerdictFixed, Detail: "none since " + fmtTime(rm.AcceptedAt)}
		if rm.NewReports > 0 {
			r.Verdict, r.Detail = VerdictStill, fmt.Sprintf("%d, the latest seen %s", rm.NewReports, fmtTime(rm.LastReport))
		}
		results = append(results, r)
	}
	return results
}

// outsideCheck runs the plan's checks of the world outside (URLs fetched, addresses looked up
// on blocklists); a failed activity is a check that could not tell.
func outsideCheck(ctx workflow.Context, rm *RemediationState) []CheckResult {
	if len(rm.URLs)+len(rm.Addresses) == 0 {
		return nil
	}
	var res VerifyResult
	in := VerifyInput{URLs: rm.URLs, Addresses: rm.Addresses, Blocklists: rm.Blocklists}
	if err := workflow.ExecuteActivity(withCheck(ctx), ActivityVerifyRemediation, in).Get(ctx, &res); err != nil {
		workflow.GetLogger(ctx).Warn("remediation checks failed", "error", err)
		return []CheckResult{{Check: strings.Join(outsideChecks(rm.Checks), "+"), Subject: "the reported URLs and addresses", Verdict: VerdictUnknown, Detail: "the checks failed: " + rootMessage(err)}}
	}
	return res.Results
}

func outsideChecks(checks []string) []string {
	return slices.DeleteFunc(slices.Clone(checks), func(c string) bool { return c == policy.CheckFeed })
}

// overall is a round's verdict: still when any check found the problem, unknown when none did
// but one could not tell, fixed otherwise.
func overall(results []CheckResult) string {
	v := VerdictFixed
	for _, r := range results {
		switch r.Verdict {
		case VerdictStill:
			return VerdictStill
		case VerdictFixed:
		default:
			v = VerdictUnknown
		}
	}
	return v
}

func stillOnly(results []CheckResult) []CheckResult {
	return slices.DeleteFunc(slices.Clone(results), func(r CheckResult) bool { return r.Verdict != VerdictStill })
}

// summarise is a round in one line: "http://x/ still (HTTP 200); feed fixed (none since …)".
func summarise(results []CheckResult) string {
	parts := make([]string, 0, len(results))
	for _, r := range results {
		s := r.Subject + " " + r.Verdict
		if r.Detail != "" {
			s += " (" + r.Detail + ")"
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "nothing to check"
	}
	return strings.Join(parts, "; ")
}

// reopen hands a case whose fix did not hold to an agent: under_review, the ticket open again
// with what the checks found. Nothing is done to the account.
func (w *caseWorkflow) reopen(ctx workflow.Context, reason string) {
	rm := w.st.Remediation
	if rm != nil {
		rm.Outcome, rm.Reason = RemediationReopened, reason
		rm.Reopened++
	}
	w.review(ctx, "the fix did not hold: "+reason)
	w.note(ctx, EventRemediation, "reopened for an agent: "+reason, "")
	w.record(ctx, LedgerEvent{Kind: LedgerReopened, Text: excerpt(reason, 500)})
	data := w.noticeData(ctx)
	step := "remediation-reopened"
	if rm != nil {
		step = fmt.Sprintf("remediation-reopened-%d", rm.Reopened)
	}
	w.queueNotify(step, NotifyInput{Note: NoteRemediation, Status: TicketOpen, Data: data})
}

// stopVerification ends a verification an agent overtook (closed the case, asked the customer).
func (w *caseWorkflow) stopVerification() {
	if rm := w.st.Remediation; rm != nil && w.st.Status == StatusVerifying {
		rm.Outcome = RemediationStopped
	}
}

// countForFeed notes a report seen while a fix is verified: the feed check fails on reports
// seen after the acceptance (one seen before and delivered late does not count).
func (w *caseWorkflow) countForFeed(seenAt time.Time) {
	rm := w.st.Remediation
	if w.st.Status != StatusVerifying || rm == nil || rm.AcceptedAt.IsZero() {
		return
	}
	if !seenAt.IsZero() && !seenAt.After(rm.AcceptedAt) {
		return
	}
	rm.NewReports++
	if seenAt.After(rm.LastReport) {
		rm.LastReport = seenAt
	}
}

// precheckOnReply runs the outside checks once when the customer answers, so the agent who
// decides reads whether the URLs still answer and the addresses are still listed.
func (w *caseWorkflow) precheckOnReply(ctx workflow.Context) {
	if !w.track().Violation() || len(w.st.Rules.Remediation.Verify) == 0 {
		return
	}
	plan := w.verifyPlan()
	if len(plan.URLs)+len(plan.Addresses) == 0 {
		return
	}
	if workflow.GetVersion(ctx, versionVerifiedRemediation, workflow.DefaultVersion, 1) < 1 {
		return
	}
	if old := w.st.Remediation; old != nil {
		plan.Reopened = old.Reopened
	}
	n := w.st.Replies
	w.effect("check the fix", func(ctx workflow.Context) error {
		results := w.checkFix(ctx, &plan, false)
		plan.Results, plan.CheckedAt = results, workflow.Now(ctx)
		if w.st.Remediation == nil || w.st.Remediation.AcceptedAt.IsZero() || w.st.Remediation.Outcome != "" {
			w.st.Remediation = &plan
		}
		w.note(ctx, EventRemediation, "checked after the customer's answer: "+summarise(results), "")
		data := w.noticeData(ctx)
		data.Remediation = &plan
		w.queueNotify(fmt.Sprintf("remediation-precheck-%d", n), NotifyInput{Note: NoteRemediation, Data: data})
		return nil
	})
}
