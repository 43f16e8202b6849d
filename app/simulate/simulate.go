// Package simulate replays the recorded timelines of past cases (the case ledger) against a
// candidate policy and says what would have differed: enforcements added or avoided (and how
// many of the avoided were overturned on appeal), approvals requested, actions changed, time to
// action.
//
// Both policies are replayed by the same model, so what the model cannot know cancels out; the
// replay of the current policy is also compared with what was recorded (Result.Matched), which
// says how far to trust it. The model, per abuse-track case with a notice:
//
//   - the track and rules are the policy's for the case's category, its account's tier and its
//     prior violations (the account's enforcements the ledger holds before the case opened; at
//     least the current policy's threshold when the case ran on the strict track);
//   - the wait starts at the first notice with the response window; a surge pulls it in when the
//     reports reach the surge count; an agent's "request info" starts a new wait and "extend"
//     adds to it, as the policy says;
//   - a customer's reply, or an agent's resolve, accepted remediation or withdrawal, before the
//     deadline ends the wait: no enforcement;
//   - at the deadline, an action of type none enforces nothing; an action needing approval asks
//     a lead: the recorded answer (approve or deny) is taken with its recorded wait; without one
//     the case "waits for a lead" and counts as neither enforced nor avoided;
//   - otherwise the action is applied at the deadline.
//
// Cases on other tracks (advisory, legal, customer), and cases never noticed (triage, duplicates)
// are counted but not replayed: the policy's windows and actions do not decide them.
package simulate

import (
	"slices"
	"sort"
	"time"

	"abusedesk/app/ledger"
	"abusedesk/domain/abuse"
	"abusedesk/domain/approval"
	"abusedesk/domain/policy"
	"abusedesk/workflows"
)

// Outcome is what a policy does with one case in the replay.
type Outcome struct {
	Track string `json:"track"`
	// Enforced: the action applied at At; Action says which ("suspend_sending", "throttle 2").
	Enforced bool      `json:"enforced"`
	At       time.Time `json:"at,omitzero"`
	Action   string    `json:"action,omitempty"`
	// AskedLead: the policy asks a lead to approve; WaitsForLead: it would, and nothing recorded
	// says what the lead answered.
	AskedLead    bool   `json:"asked_lead,omitempty"`
	WaitsForLead bool   `json:"waits_for_lead,omitempty"`
	Deadline     string `json:"deadline,omitempty"`
	// Why says in words how the case ended.
	Why string `json:"why"`
}

// Case is one replayed case.
type Case struct {
	Number    string  `json:"case_number"`
	Account   string  `json:"account"`
	Category  string  `json:"category"`
	Recorded  bool    `json:"recorded_enforced"`
	Overruled bool    `json:"overturned_on_appeal"`
	Current   Outcome `json:"current"`
	Candidate Outcome `json:"candidate"`
	// Change is "added", "avoided", "action", "approval", "time" or "" (the same).
	Change string `json:"change,omitempty"`
}

// Side sums up one policy's replay.
type Side struct {
	Enforced     int              `json:"enforced"`
	AskedLead    int              `json:"approvals_requested"`
	WaitsForLead int              `json:"waiting_for_a_lead"`
	TimeToAction ledger.Quantiles `json:"time_to_action"`
	ByCategory   map[string]int   `json:"enforced_by_category"`
	times        []time.Duration
}

// Result is a whole simulation.
type Result struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Cases counts the cases opened in the period; Replayed those the model replays; the rest
	// are on another track or were never noticed.
	Cases    int `json:"cases"`
	Replayed int `json:"replayed"`
	// Matched: replaying the current policy gives the recorded enforcement (enforced or not) in
	// this many of the replayed cases (a case still waiting for a lead is not enforced).
	Matched   int  `json:"matched_recorded"`
	Current   Side `json:"current"`
	Candidate Side `json:"candidate"`
	// Added and Avoided count enforcements the candidate adds or avoids; AvoidedOverturned those
	// avoided whose recorded enforcement was overturned on appeal.
	Added             int `json:"enforcements_added"`
	Avoided           int `json:"enforcements_avoided"`
	AvoidedOverturned int `json:"avoided_later_overturned"`
	// ActionChanged counts cases both enforce with another action.
	ActionChanged int `json:"action_changed"`
	// Differ are the cases whose replay differs, by case number.
	Differ []Case `json:"cases_that_differ"`
}

// Run replays the timelines under the current and the candidate policy. priors holds each
// account's enforcement times (ledger.Store.Enforcements). Deterministic: the same input gives
// the same Result.
func Run(current, candidate *policy.Policy, timelines []ledger.Timeline, priors map[string][]time.Time, from, to time.Time) *Result {
	r := &Result{From: from, To: to, Cases: len(timelines)}
	r.Current.ByCategory, r.Candidate.ByCategory = map[string]int{}, map[string]int{}
	for _, t := range timelines {
		f, ok := factsOf(t)
		if !ok {
			continue
		}
		r.Replayed++
		n := countBefore(priors[t.Account], t.Opened)
		if t.Rules == policy.TrackStrict {
			n = max(n, current.RepeatOffender.MinPriorViolations)
		}
		c := Case{Number: t.Number, Account: t.Account, Category: t.Category, Recorded: f.enforced, Overruled: f.overturned,
			Current: replay(current, f, n), Candidate: replay(candidate, f, n)}
		if c.Current.Enforced == f.enforced {
			r.Matched++
		}
		r.Current.add(c.Current, f, t.Category)
		r.Candidate.add(c.Candidate, f, t.Category)
		switch {
		case c.Current.WaitsForLead != c.Candidate.WaitsForLead:
			c.Change = "approval" // one side waits for a lead: neither added nor avoided
		case c.Candidate.Enforced && !c.Current.Enforced:
			c.Change = "added"
			r.Added++
		case c.Current.Enforced && !c.Candidate.Enforced:
			c.Change = "avoided"
			r.Avoided++
			if f.overturned {
				r.AvoidedOverturned++
			}
		case c.Current.Enforced && c.Current.Action != c.Candidate.Action:
			c.Change = "action"
			r.ActionChanged++
		case c.Current.AskedLead != c.Candidate.AskedLead:
			c.Change = "approval"
		case !c.Current.At.Equal(c.Candidate.At):
			c.Change = "time"
		}
		if c.Change != "" {
			r.Differ = append(r.Differ, c)
		}
	}
	r.Current.finish()
	r.Candidate.finish()
	return r
}

func (s *Side) add(o Outcome, f facts, category string) {
	if o.AskedLead {
		s.AskedLead++
	}
	if o.WaitsForLead {
		s.WaitsForLead++
	}
	if o.Enforced {
		s.Enforced++
		s.ByCategory[category]++
		s.times = append(s.times, o.At.Sub(f.opened))
	}
}

func (s *Side) finish() { s.TimeToAction = ledger.QuantilesOf(s.times) }

func countBefore(ts []time.Time, t time.Time) int {
	return sort.Search(len(ts), func(i int) bool { return !ts[i].Before(t) })
}

// step is a recorded event the replay reacts to.
type step struct {
	at       time.Time
	kind     string
	decision string
	count    int
}

// facts are what the replay needs of a recorded case.
type facts struct {
	category   abuse.Category
	tier       string
	opened     time.Time
	notice     time.Time
	steps      []step
	enforced   bool
	overturned bool
	// approval is the first recorded answer of a lead (approve or deny) and how long it took.
	approval     string
	approvalWait time.Duration
}

// factsOf reads a timeline; false when the model does not replay it.
func factsOf(t ledger.Timeline) (facts, bool) {
	c := abuse.Category(t.Category)
	f := facts{category: c, tier: t.Tier, opened: t.Opened}
	if !c.Track().Violation() || (t.Track != "" && !abuse.Track(t.Track).Violation()) {
		return f, false
	}
	var asked time.Time
	for _, e := range t.Events {
		switch e.Kind {
		case workflows.LedgerNoticed:
			if f.notice.IsZero() {
				f.notice = e.At
			}
		case workflows.LedgerEnforced:
			f.enforced = true
		case workflows.LedgerAppealDecided:
			f.overturned = f.overturned || e.Decision == workflows.AppealGranted
		case workflows.LedgerClosed:
			f.overturned = f.overturned || e.Outcome == string(workflows.OutcomeReinstated)
		case workflows.LedgerApprovalAsked:
			if asked.IsZero() {
				asked = e.At
			}
		case workflows.LedgerApprovalDecided:
			if f.approval == "" && (e.Decision == approval.Approve || e.Decision == approval.Deny) && !asked.IsZero() {
				f.approval, f.approvalWait = e.Decision, e.At.Sub(asked)
			}
		}
		switch e.Kind {
		case workflows.LedgerReports, workflows.LedgerReplied, workflows.LedgerAgentDecision, workflows.LedgerTriaged:
			f.steps = append(f.steps, step{at: e.At, kind: e.Kind, decision: e.Decision, count: e.Count})
		}
	}
	return f, !f.notice.IsZero()
}

// replay runs one case's recorded steps under a policy.
func replay(p *policy.Policy, f facts, priors int) Outcome {
	rules, track := p.Snapshot(f.category).Effective(f.tier, priors)
	o := Outcome{Track: track}
	deadline := f.notice.Add(rules.ResponseWindow.D())
	waiting := true
	reports := 0
	surge := func(at time.Time) {
		if s := rules.Surge; s.Reports > 0 && reports >= s.Reports && waiting {
			deadline = minTime(deadline, maxTime(at, f.notice).Add(s.Deadline.D()))
		}
	}
	for _, s := range f.steps {
		if s.kind == workflows.LedgerReports {
			reports += s.count
		}
		if waiting && !s.at.Before(deadline) {
			break // the deadline comes first
		}
		switch s.kind {
		case workflows.LedgerReports:
			surge(s.at)
		case workflows.LedgerReplied:
			if s.at.Before(f.notice) {
				continue
			}
			if waiting {
				o.Why = "the customer answered " + since(f.notice, s.at) + " after the notice, within " + rules.ResponseWindow.String()
				waiting = false
			}
		case workflows.LedgerAgentDecision, workflows.LedgerTriaged:
			switch workflows.Decision(s.decision) {
			case workflows.DecisionRequestInfo:
				deadline, waiting = s.at.Add(rules.MoreInfoWindow.D()), true
			case workflows.DecisionExtendDeadline:
				if waiting {
					deadline = deadline.Add(rules.ExtendBy.D())
				} else {
					deadline, waiting = s.at.Add(rules.ExtendBy.D()), true
				}
			case workflows.DecisionResolve, workflows.DecisionAcceptRemediation, workflows.DecisionWithdraw, workflows.DecisionNotAbuse:
				o.Why = "an agent decided " + s.decision + " before the deadline"
				return o
			}
		}
	}
	if !waiting {
		return o
	}
	o.Deadline = deadline.UTC().Format(time.RFC3339)
	act := rules.Action
	if act.Type == abuse.ActionNone || act.Type == "" {
		o.Why = "no answer by the deadline; the policy's action is none"
		return o
	}
	o.Action = act.Type.Describe(act.Level)
	at := deadline
	if rules.Approval.Required {
		o.AskedLead = true
		switch f.approval {
		case approval.Approve:
			at = at.Add(f.approvalWait)
		case approval.Deny:
			o.Why = "no answer by the deadline; a lead denied the action (as recorded)"
			return o
		default:
			o.WaitsForLead = true
			o.Why = "no answer by the deadline; waits for a lead's approval (none recorded)"
			return o
		}
	}
	o.Enforced, o.At = true, at
	o.Why = "no answer by the deadline"
	if o.AskedLead {
		o.Why += "; a lead approved (as recorded)"
	}
	return o
}

func since(a, b time.Time) string { return ledger.Duration(b.Sub(a)).String() }

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Categories lists the categories with enforcements on either side, sorted.
func (r *Result) Categories() []string {
	var out []string
	for c := range r.Current.ByCategory {
		out = append(out, c)
	}
	for c := range r.Candidate.ByCategory {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}
