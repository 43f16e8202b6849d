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

	"abusedesk/domain/abuse"
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
	Orders     Orders     `json:"orders"`
	Notices    Notices    `json:"notices"`
	Actions    Actions    `json:"actions"`
	Complaints Complaints `json:"complaints"`
	// laws are the categories whose actions rest on the law.
	laws map[string]bool
}

// Orders are the orders from authorities received in the period (Art. 15(1)(a)): legal
// requests, by what they ask. Art. 9 orders act against illegal content (a takedown); Art. 10
// orders ask for information (preservation, production, an emergency disclosure). Counts only:
// nothing else of a legal matter leaves the legal team.
type Orders struct {
	ToAct          int            `json:"to_act"`          // Art. 9
	ForInformation int            `json:"for_information"` // Art. 10
	Unclassified   int            `json:"unclassified"`    // the request did not say what it asks
	ByKind         map[string]int `json:"by_kind"`
	// MedianTimeToConfirmReceipt is from the request's arrival to the acknowledgement of
	// receipt sent to the authority; MedianTimeToGiveEffect to the legal team's decision.
	MedianTimeToConfirmReceipt Duration `json:"median_time_to_confirm_receipt"`
	MedianTimeToGiveEffect     Duration `json:"median_time_to_give_effect"`
}

// Notices are the notifications received in the period: a message of reports counts once,
// whatever its rows (a feed's CSV of 50,000 rows is one notice). ReportsReceived counts the
// rows, as cases took them.
type Notices struct {
	Received        int            `json:"received"`
	ByCategory      map[string]int `json:"by_category"`
	ReportsReceived int            `json:"reports_received"`
	// FromTrustedFlaggers are notices whose reporter is a trusted flagger.
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
	// Automated actions were applied with no person approving them (the policy enforces);
	// AutomatedOverturned of them were reversed on appeal, and AutomatedErrorRate is the
	// share (overturned ÷ automated; 0 without automated actions).
	Automated           int     `json:"automated"`
	AutomatedOverturned int     `json:"automated_overturned"`
	AutomatedErrorRate  float64 `json:"automated_error_rate"`
	// OwnInitiative are the actions on cases no notice started (the desk's own findings).
	OwnInitiative           int            `json:"own_initiative"`
	OwnInitiativeByCategory map[string]int `json:"own_initiative_by_category"`
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
		Orders:     Orders{ByKind: map[string]int{}},
		Notices:    Notices{ByCategory: map[string]int{}, TrustedByCategory: map[string]int{}},
		Actions:    Actions{ByGround: map[string]int{}, ByCategory: map[string]int{}, ByType: map[string]int{}, OwnInitiativeByCategory: map[string]int{}},
		Complaints: Complaints{ByBasis: map[string]int{}, ByCategory: map[string]int{}, Decisions: map[string]int{}},
		laws:       map[string]bool{},
	}
	if err := s.notifications(ctx, t, f); err != nil {
		return nil, err
	}
	if err := s.orders(ctx, t); err != nil {
		return nil, err
	}
	// Events of the period, with what their case row says.
	rows, err := s.db.QueryContext(ctx, s.Q(`SELECT e.kind, e.at_ms, e.actor, e.decision, e.n, e.detail, e.category,
			c.opened_ms, c.action, c.appealed_ms, c.decided_by, c.approved_by, c.reports, c.appeal_decision
		FROM case_events e JOIN cases c ON c.case_number = e.case_number
		WHERE e.at_ms >= ? AND e.at_ms < ? AND e.kind IN (?, ?, ?, ?, ?)`),
		ms(from), ms(to), workflows.LedgerReports, workflows.LedgerEnforced, workflows.LedgerAppealed, workflows.LedgerAppealDecided, workflows.LedgerClosed)
	if err != nil {
		return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
	}
	defer rows.Close()
	var toAction, toDecision []time.Duration
	for rows.Next() {
		var kind, actor, decision, detail, category, action, decidedBy, approvedBy, appealDecision string
		var at, opened int64
		var n, caseReports int
		var appealed sql.NullInt64
		if err := rows.Scan(&kind, &at, &actor, &decision, &n, &detail, &category, &opened, &action, &appealed, &decidedBy, &approvedBy, &caseReports, &appealDecision); err != nil {
			return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
		}
		switch kind {
		case workflows.LedgerReports:
			t.Notices.ReportsReceived += n
		case workflows.LedgerEnforced:
			t.Actions.Taken++
			t.Actions.ByGround[f.Ground(abuse.Category(category))]++
			t.laws[category] = f.Ground(abuse.Category(category)) == "law"
			t.Actions.ByCategory[category]++
			t.Actions.ByType[decision]++
			// Automated: no person approved it, or a rule of the policy allowed it alone (the
			// statement of reasons says the same).
			if actor == "" || detail != "" {
				t.Actions.Automated++
				if appealDecision == workflows.AppealGranted {
					t.Actions.AutomatedOverturned++
				}
			}
			if caseReports == 0 {
				t.Actions.OwnInitiative++
				t.Actions.OwnInitiativeByCategory[category]++
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
	if t.Actions.Automated > 0 {
		t.Actions.AutomatedErrorRate = float64(t.Actions.AutomatedOverturned) / float64(t.Actions.Automated)
	}
	return t, nil
}

// notifications counts the period's notices: one a message, whatever its rows.
func (s *Store) notifications(ctx context.Context, t *Transparency, f Flagging) error {
	rows, err := s.db.QueryContext(ctx, s.Q(`SELECT reporter, category FROM notifications WHERE received_ms >= ? AND received_ms < ?`), ms(t.From), ms(t.To))
	if err != nil {
		return fmt.Errorf("ledger %s: notifications: %w", s.Where, err)
	}
	defer rows.Close()
	for rows.Next() {
		var reporter, category string
		if err := rows.Scan(&reporter, &category); err != nil {
			return fmt.Errorf("ledger %s: notifications: %w", s.Where, err)
		}
		// A legal-track notice (a hotline's CSAM notice) counts among the notices: only
		// the figure leaves the legal team.
		t.Notices.Received++
		t.Notices.ByCategory[category]++
		if reporter != "" && f.Trusted(reporter) {
			t.Notices.FromTrustedFlaggers++
			t.Notices.TrustedByCategory[category]++
		}
	}
	return rows.Err()
}

// Order kinds: what a legal request asks (workflows' legal request kinds).
var articleNine = map[string]bool{"takedown": true}

// orders counts the period's orders from authorities: legal requests opened in it, with the
// time each took to be acknowledged and to be given effect (the legal team's first decision).
func (s *Store) orders(ctx context.Context, t *Transparency) error {
	rows, err := s.db.QueryContext(ctx, s.Q(`SELECT e.case_number, e.at_ms, e.decision, c.opened_ms,
			(SELECT MIN(r.at_ms) FROM case_events r WHERE r.case_number = e.case_number AND r.kind = ?),
			(SELECT MIN(d.at_ms) FROM case_events d WHERE d.case_number = e.case_number AND d.kind = ?)
		FROM case_events e JOIN cases c ON c.case_number = e.case_number
		WHERE e.kind = ? AND e.category = ? AND e.at_ms >= ? AND e.at_ms < ?`),
		workflows.LedgerLegalReceipt, workflows.LedgerLegalDecided, workflows.LedgerLegalOpened, string(abuse.LegalRequest), ms(t.From), ms(t.To))
	if err != nil {
		return fmt.Errorf("ledger %s: orders: %w", s.Where, err)
	}
	defer rows.Close()
	var toReceipt, toEffect []time.Duration
	for rows.Next() {
		var number, kind string
		var at, opened int64
		var receipt, decided sql.NullInt64
		if err := rows.Scan(&number, &at, &kind, &opened, &receipt, &decided); err != nil {
			return fmt.Errorf("ledger %s: orders: %w", s.Where, err)
		}
		switch {
		case kind == "":
			t.Orders.Unclassified++
			kind = "not stated"
		case articleNine[kind]:
			t.Orders.ToAct++
		default:
			t.Orders.ForInformation++
		}
		t.Orders.ByKind[kind]++
		start := min(opened, at)
		if receipt.Valid && receipt.Int64 >= start {
			toReceipt = append(toReceipt, time.Duration(receipt.Int64-start)*time.Millisecond)
		}
		if decided.Valid && decided.Int64 >= start {
			toEffect = append(toEffect, time.Duration(decided.Int64-start)*time.Millisecond)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("ledger %s: orders: %w", s.Where, err)
	}
	t.Orders.MedianTimeToConfirmReceipt = QuantilesOf(toReceipt).P50
	t.Orders.MedianTimeToGiveEffect = QuantilesOf(toEffect).P50
	return nil
}

// Notification is one message of reports that went to cases, for the transparency report.
type Notification struct {
	Digest   string
	At       time.Time
	Reporter string
	Category abuse.Category
	Reports  int
}

// RecordNotification keeps a notification; the same message again is kept once.
func (s *Store) RecordNotification(ctx context.Context, n Notification) error {
	if n.Digest == "" || n.Category == "" {
		return invalid("a notification without its message's digest or a category")
	}
	if !s.postgres {
		s.writing.Lock()
		defer s.writing.Unlock()
	}
	if _, err := s.db.ExecContext(ctx, s.Q(`INSERT INTO notifications (digest, received_ms, reporter, category, reports) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (digest) DO NOTHING`), n.Digest, ms(n.At), n.Reporter, string(n.Category), n.Reports); err != nil {
		return fmt.Errorf("ledger %s: notification: %w", s.Where, err)
	}
	return nil
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
		{"orders", "to_act", "all", strconv.Itoa(t.Orders.ToAct)},
		{"orders", "for_information", "all", strconv.Itoa(t.Orders.ForInformation)},
		{"orders", "unclassified", "all", strconv.Itoa(t.Orders.Unclassified)}}
	rows = append(rows, grouped("orders", "received", t.Orders.ByKind)...)
	rows = append(rows, []string{"orders", "median_time_to_confirm_receipt", "all", t.Orders.MedianTimeToConfirmReceipt.String()},
		[]string{"orders", "median_time_to_give_effect", "all", t.Orders.MedianTimeToGiveEffect.String()},
		[]string{"notices", "received", "all", strconv.Itoa(t.Notices.Received)})
	rows = append(rows, grouped("notices", "received", t.Notices.ByCategory)...)
	rows = append(rows, []string{"notices", "reports_received", "all", strconv.Itoa(t.Notices.ReportsReceived)})
	rows = append(rows, []string{"notices", "from_trusted_flaggers", "all", strconv.Itoa(t.Notices.FromTrustedFlaggers)})
	rows = append(rows, grouped("notices", "from_trusted_flaggers", t.Notices.TrustedByCategory)...)
	rows = append(rows, []string{"notices", "processed_automatically", "all", strconv.Itoa(t.Notices.ProcessedAutomatically)},
		[]string{"actions", "taken", "all", strconv.Itoa(t.Actions.Taken)})
	rows = append(rows, grouped("actions", "taken_by_ground", t.Actions.ByGround)...)
	rows = append(rows, grouped("actions", "taken_by_category", t.Actions.ByCategory)...)
	rows = append(rows, grouped("actions", "taken_by_type", t.Actions.ByType)...)
	rows = append(rows, []string{"actions", "own_initiative", "all", strconv.Itoa(t.Actions.OwnInitiative)})
	rows = append(rows, grouped("actions", "own_initiative", t.Actions.OwnInitiativeByCategory)...)
	rows = append(rows, []string{"actions", "automated", "all", strconv.Itoa(t.Actions.Automated)},
		[]string{"actions", "automated_overturned", "all", strconv.Itoa(t.Actions.AutomatedOverturned)},
		[]string{"actions", "automated_error_rate", "all", strconv.FormatFloat(t.Actions.AutomatedErrorRate, 'f', 4, 64)},
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
