package ledger

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	"abusedesk/internal/abuse"
	"abusedesk/workflows"
)

// The DSA transparency report for hosting services (Regulation (EU) 2022/2065, Art. 15(1)(b)
// notices and (d) complaints), from the ledger. docs/transparency.md says how each figure is
// counted; this file is the one place that counts them.

// Flagging says who is a trusted flagger and on which ground an action in a category rests
// (policy.Transparency implements it).
type Flagging interface {
	Trusted(reporter string) bool
	Ground(c abuse.Category) string
}

// Transparency is the report for one period.
type Transparency struct {
	From       time.Time  `json:"from"`
	To         time.Time  `json:"to"`
	Notices    Notices    `json:"notices"`
	Actions    Actions    `json:"actions"`
	Complaints Complaints `json:"complaints"`
}

// Notices are the reports received in the period (each report is a notice).
type Notices struct {
	Received   int            `json:"received"`
	ByCategory map[string]int `json:"by_category"`
	// FromTrustedFlaggers are notices whose reporter is a trusted flagger; the reports of a
	// case rebuilt from its state (desk ledger backfill) without per-reporter counts count
	// only when every reporter of the batch is trusted.
	FromTrustedFlaggers int            `json:"from_trusted_flaggers"`
	TrustedByCategory   map[string]int `json:"trusted_by_category"`
	// ProcessedAutomatically are the notices of the cases closed or acted on in the period
	// without any person deciding (no agent, lead or reviewer decision on the case).
	ProcessedAutomatically int `json:"processed_automatically"`
}

// Actions are the enforcement actions applied in the period, on the notices' accounts.
type Actions struct {
	Taken      int            `json:"taken"`
	ByGround   map[string]int `json:"by_ground"` // law, terms
	ByCategory map[string]int `json:"by_category"`
	ByType     map[string]int `json:"by_type"` // throttle, suspend_sending, suspend_account, …
	// Automated actions were applied with no person approving them (the policy enforces).
	Automated int `json:"automated"`
	// MedianTimeToAction is from a case's opening (its first notice received) to its action.
	MedianTimeToAction Duration `json:"median_time_to_action"`
}

// Complaints are the appeals against actions (the internal complaint-handling system).
type Complaints struct {
	Received int `json:"received"`
	// ByBasis is what the complaints contest: the action they are against.
	ByBasis    map[string]int `json:"by_basis"`
	ByCategory map[string]int `json:"by_category"`
	// RefusedLate arrived after the appeal window; they are answered and not reviewed.
	RefusedLate int `json:"refused_late"`
	// Decided in the period, by decision (granted: the action was lifted; denied: it stands).
	Decided   int            `json:"decided"`
	Decisions map[string]int `json:"decisions"`
	// MedianDecisionTime is from receipt to decision; Reversed decisions granted the
	// complaint (the action was reversed).
	MedianDecisionTime Duration `json:"median_decision_time"`
	Reversed           int      `json:"reversed"`
}

// Transparency computes the report of the events in [from, to).
func (s *Store) Transparency(ctx context.Context, from, to time.Time, f Flagging) (*Transparency, error) {
	if !from.Before(to) {
		return nil, invalid(fmt.Sprintf("the period's start %s is not before its end %s", from.Format(time.RFC3339), to.Format(time.RFC3339)))
	}
	t := &Transparency{From: from.UTC(), To: to.UTC(),
		Notices:    Notices{ByCategory: map[string]int{}, TrustedByCategory: map[string]int{}},
		Actions:    Actions{ByGround: map[string]int{}, ByCategory: map[string]int{}, ByType: map[string]int{}},
		Complaints: Complaints{ByBasis: map[string]int{}, ByCategory: map[string]int{}, Decisions: map[string]int{}},
	}
	// Events of the period, with what their case row says.
	rows, err := s.db.QueryContext(ctx, s.Q(`SELECT e.kind, e.at_ms, e.actor, e.decision, e.n, e.reporters, e.category,
			c.opened_ms, c.action, c.appealed_ms, c.decided_by, c.approved_by, c.reports
		FROM case_events e JOIN cases c ON c.case_number = e.case_number
		WHERE e.at_ms >= ? AND e.at_ms < ? AND e.kind IN (?, ?, ?, ?, ?)`),
		ms(from), ms(to), workflows.LedgerReports, workflows.LedgerEnforced, workflows.LedgerAppealed, workflows.LedgerAppealDecided, workflows.LedgerClosed)
	if err != nil {
		return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
	}
	defer rows.Close()
	var toAction, toDecision []time.Duration
	for rows.Next() {
		var kind, actor, decision, reporters, category, action, decidedBy, approvedBy string
		var at, opened int64
		var n, caseReports int
		var appealed sql.NullInt64
		if err := rows.Scan(&kind, &at, &actor, &decision, &n, &reporters, &category, &opened, &action, &appealed, &decidedBy, &approvedBy, &caseReports); err != nil {
			return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
		}
		switch kind {
		case workflows.LedgerReports:
			t.Notices.Received += n
			t.Notices.ByCategory[category] += n
			trusted := trustedReports(n, reporters, f)
			t.Notices.FromTrustedFlaggers += trusted
			if trusted > 0 {
				t.Notices.TrustedByCategory[category] += trusted
			}
		case workflows.LedgerEnforced:
			t.Actions.Taken++
			t.Actions.ByGround[f.Ground(abuse.Category(category))]++
			t.Actions.ByCategory[category]++
			t.Actions.ByType[decision]++
			if actor == "" {
				t.Actions.Automated++
			}
			toAction = append(toAction, time.Duration(at-opened)*time.Millisecond)
			if decidedBy == "" && approvedBy == "" {
				t.Notices.ProcessedAutomatically += caseReports
			}
		case workflows.LedgerClosed:
			// A case closed without any person deciding and without an action (an action
			// counted its notices already).
			if decidedBy == "" && approvedBy == "" && action == "" {
				t.Notices.ProcessedAutomatically += caseReports
			}
		case workflows.LedgerAppealed:
			if decision == "late" {
				t.Complaints.RefusedLate++
				continue
			}
			t.Complaints.Received++
			t.Complaints.ByBasis[orUnknown(action)]++
			t.Complaints.ByCategory[category]++
		case workflows.LedgerAppealDecided:
			t.Complaints.Decided++
			t.Complaints.Decisions[decision]++
			if decision == workflows.AppealGranted {
				t.Complaints.Reversed++
			}
			if appealed.Valid && at >= appealed.Int64 {
				toDecision = append(toDecision, time.Duration(at-appealed.Int64)*time.Millisecond)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
	}
	t.Actions.MedianTimeToAction = QuantilesOf(toAction).P50
	t.Complaints.MedianDecisionTime = QuantilesOf(toDecision).P50
	return t, nil
}

// trustedReports is how many of a reports event's n reports came from trusted flaggers.
func trustedReports(n int, reporters string, f Flagging) int {
	names, counts := parseReporters(reporters)
	if len(names) == 0 {
		return 0
	}
	known, trusted, all := true, 0, true
	for i, r := range names {
		ok := r != "" && f.Trusted(r)
		all = all && ok
		if counts[i] < 0 {
			known = false
		} else if ok {
			trusted += counts[i]
		}
	}
	if !known {
		if all {
			return n
		}
		return 0
	}
	return min(trusted, n)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// WriteCSV writes the report as rows of section, measure, group and value: one row a figure,
// "all" for a figure in total, times like "36h".
func (t *Transparency) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	rows := [][]string{{"section", "measure", "group", "value"},
		{"period", "from", "all", t.From.Format(time.RFC3339)},
		{"period", "to", "all", t.To.Format(time.RFC3339)},
		{"notices", "received", "all", strconv.Itoa(t.Notices.Received)}}
	rows = append(rows, grouped("notices", "received", t.Notices.ByCategory)...)
	rows = append(rows, []string{"notices", "from_trusted_flaggers", "all", strconv.Itoa(t.Notices.FromTrustedFlaggers)})
	rows = append(rows, grouped("notices", "from_trusted_flaggers", t.Notices.TrustedByCategory)...)
	rows = append(rows, []string{"notices", "processed_automatically", "all", strconv.Itoa(t.Notices.ProcessedAutomatically)},
		[]string{"actions", "taken", "all", strconv.Itoa(t.Actions.Taken)})
	rows = append(rows, grouped("actions", "taken_by_ground", t.Actions.ByGround)...)
	rows = append(rows, grouped("actions", "taken_by_category", t.Actions.ByCategory)...)
	rows = append(rows, grouped("actions", "taken_by_type", t.Actions.ByType)...)
	rows = append(rows, []string{"actions", "automated", "all", strconv.Itoa(t.Actions.Automated)},
		[]string{"actions", "median_time_to_action", "all", t.Actions.MedianTimeToAction.String()},
		[]string{"complaints", "received", "all", strconv.Itoa(t.Complaints.Received)})
	rows = append(rows, grouped("complaints", "received_by_basis", t.Complaints.ByBasis)...)
	rows = append(rows, grouped("complaints", "received_by_category", t.Complaints.ByCategory)...)
	rows = append(rows, []string{"complaints", "refused_late", "all", strconv.Itoa(t.Complaints.RefusedLate)},
		[]string{"complaints", "decided", "all", strconv.Itoa(t.Complaints.Decided)})
	rows = append(rows, grouped("complaints", "decided", t.Complaints.Decisions)...)
	rows = append(rows, []string{"complaints", "median_decision_time", "all", t.Complaints.MedianDecisionTime.String()},
		[]string{"complaints", "reversed", "all", strconv.Itoa(t.Complaints.Reversed)})
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	return cw.Error()
}

// grouped is one CSV row a group, in the groups' order.
func grouped(section, measure string, m map[string]int) [][]string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out [][]string
	for _, k := range keys {
		out = append(out, []string{section, measure, k, strconv.Itoa(m[k])})
	}
	return out
}
