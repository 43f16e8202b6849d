package ledger

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"abusedesk/domain/abuse"
	"abusedesk/workflows"
)

// Statements of reasons (DSA Art. 17) in the field shape of the EU's DSA Transparency Database
// (Art. 24(5)): one for every restriction the desk applied, throttling included, from the
// ledger. `desk report sor` writes them; docs/transparency.md says how each field is filled.
// Legal-track cases (law-enforcement requests, CSAM notices) are left out: they are
// confidential, and what is done on an authority's order is not a decision of ours to state.

// Grounds is what the statements take from the policy: trusted flaggers, whether a category
// rests on the law, and the clause it rests on (policy.Transparency implements it).
type Grounds interface {
	Flagging
	ClauseFor(c abuse.Category) string
}

// Statement is one statement of reasons, as the Transparency Database's API takes it.
type Statement struct {
	PUID                             string   `json:"puid"`
	DecisionVisibility               []string `json:"decision_visibility,omitempty"`
	DecisionProvision                string   `json:"decision_provision,omitempty"`
	DecisionAccount                  string   `json:"decision_account,omitempty"`
	DecisionGround                   string   `json:"decision_ground"`
	IllegalContentLegalGround        string   `json:"illegal_content_legal_ground,omitempty"`
	IllegalContentExplanation        string   `json:"illegal_content_explanation,omitempty"`
	IncompatibleContentGround        string   `json:"incompatible_content_ground,omitempty"`
	IncompatibleContentExplanation   string   `json:"incompatible_content_explanation,omitempty"`
	Category                         string   `json:"category"`
	CategorySpecification            []string `json:"category_specification,omitempty"`
	ContentType                      []string `json:"content_type"`
	ContentTypeOther                 string   `json:"content_type_other,omitempty"`
	TerritorialScope                 []string `json:"territorial_scope"`
	ContentDate                      string   `json:"content_date"`
	ApplicationDate                  string   `json:"application_date"`
	EndDateVisibilityRestriction     string   `json:"end_date_visibility_restriction,omitempty"`
	EndDateServiceRestriction        string   `json:"end_date_service_restriction,omitempty"`
	EndDateAccountRestriction        string   `json:"end_date_account_restriction,omitempty"`
	SourceType                       string   `json:"source_type"`
	DecisionFacts                    string   `json:"decision_facts"`
	AutomatedDetection               string   `json:"automated_detection"`
	AutomatedDecision                string   `json:"automated_decision"`
	CaseNumber                       string   `json:"-"`
	ActionType                       string   `json:"-"`
	appliedAt, liftedAt, contentTime time.Time
}

// EEA are the territorial scope of a restriction on a hosting service: it applies wherever
// the service is offered, so every member state of the European Economic Area.
var EEA = []string{"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IS", "IT",
	"LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK"}

// sorCategory is the Transparency Database's category (and keyword) of a desk category, and
// what the restricted content is ("other" content types, described).
func sorCategory(c abuse.Category) (category string, keywords []string, content string) {
	switch c {
	case abuse.Phishing:
		return "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", []string{"KEYWORD_PHISHING"}, "hosted website"
	case abuse.Malware:
		return "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY", []string{"KEYWORD_OTHER"}, "hosted malicious software"
	case abuse.Copyright:
		return "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS", []string{"KEYWORD_COPYRIGHT_INFRINGEMENT"}, "hosted file or website"
	case abuse.Spam, abuse.AuthFailure:
		return "STATEMENT_CATEGORY_OTHER_VIOLATION_TC", nil, "email sent from the service"
	default: // port scans, attacks, brute force, other
		return "STATEMENT_CATEGORY_OTHER_VIOLATION_TC", nil, "network traffic sent from the service"
	}
}

// Statements returns the statement of reasons of every restriction applied in [from, to), in
// the order applied.
func (s *Store) Statements(ctx context.Context, from, to time.Time, g Grounds) ([]Statement, error) {
	if !from.Before(to) {
		return nil, invalid(fmt.Sprintf("the period's start %s is not before its end %s", from.Format(time.RFC3339), to.Format(time.RFC3339)))
	}
	rows, err := s.db.QueryContext(ctx, s.Q(`SELECT e.event_key, e.case_number, e.at_ms, e.actor, e.decision, e.n, e.detail, e.category, e.account_id,
			c.opened_ms, c.reports, c.lifted_ms, c.track
		FROM case_events e JOIN cases c ON c.case_number = e.case_number
		WHERE e.kind = ? AND e.at_ms >= ? AND e.at_ms < ? ORDER BY e.at_ms, e.event_key`),
		workflows.LedgerEnforced, ms(from), ms(to))
	if err != nil {
		return nil, fmt.Errorf("ledger %s: statements: %w", s.Where, err)
	}
	var out []Statement
	for rows.Next() {
		var key, number, actor, action, allowedBy, category, account, track string
		var at, opened int64
		var level, reports int
		var lifted sql.NullInt64
		if err := rows.Scan(&key, &number, &at, &actor, &action, &level, &allowedBy, &category, &account, &opened, &reports, &lifted, &track); err != nil {
			rows.Close()
			return nil, fmt.Errorf("ledger %s: statements: %w", s.Where, err)
		}
		if abuse.Track(track).Confidential() || abuse.Category(category).Confidential() {
			continue
		}
		st := Statement{PUID: key, CaseNumber: number, ActionType: action, appliedAt: time.UnixMilli(at).UTC(), contentTime: time.UnixMilli(opened).UTC()}
		if lifted.Valid && lifted.Int64 >= at {
			st.liftedAt = time.UnixMilli(lifted.Int64).UTC()
		}
		cat := abuse.Category(category)
		st.fill(cat, abuse.ActionType(action), level, reports, actor == "" || allowedBy != "", g)
		out = append(out, st)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger %s: statements: %w", s.Where, err)
	}
	// The source: a trusted flagger's notice, another notice, or our own initiative.
	for i := range out {
		st := &out[i]
		if st.SourceType != "" {
			continue
		}
		reporters, err := s.caseReporters(ctx, st.CaseNumber)
		if err != nil {
			return nil, err
		}
		st.SourceType = "SOURCE_ARTICLE_16"
		for _, r := range reporters {
			if r != "" && g.Trusted(r) {
				st.SourceType = "SOURCE_TRUSTED_FLAGGER"
				break
			}
		}
	}
	return out, nil
}

// fill writes the fields that follow from the case and its action.
func (st *Statement) fill(c abuse.Category, a abuse.ActionType, level, notices int, automated bool, g Grounds) {
	end := ""
	if !st.liftedAt.IsZero() {
		end = st.liftedAt.Format(time.DateOnly)
	}
	switch a {
	case abuse.ActionTakedown:
		st.DecisionVisibility = []string{"DECISION_VISIBILITY_CONTENT_REMOVED"}
		st.EndDateVisibilityRestriction = end
	case abuse.ActionSuspendAccount:
		st.DecisionAccount = "DECISION_ACCOUNT_SUSPENDED"
		st.DecisionProvision = "DECISION_PROVISION_TOTAL_SUSPENSION"
		st.EndDateAccountRestriction, st.EndDateServiceRestriction = end, end
	default: // throttle, suspend sending: a part of the service is restricted
		st.DecisionProvision = "DECISION_PROVISION_PARTIAL_SUSPENSION"
		st.EndDateServiceRestriction = end
	}
	category, keywords, content := sorCategory(c)
	st.Category, st.CategorySpecification = category, keywords
	st.ContentType, st.ContentTypeOther = []string{"CONTENT_TYPE_OTHER"}, content
	st.TerritorialScope = EEA
	st.ContentDate, st.ApplicationDate = st.contentTime.Format(time.DateOnly), st.appliedAt.Format(time.DateOnly)
	measure := a.Describe(level)
	source := "on our own initiative"
	if notices > 0 {
		source = strconv.Itoa(notices) + " " + plural(notices, "notice", "notices") + " from third parties"
	} else {
		st.SourceType = "SOURCE_VOLUNTARY"
	}
	facts := fmt.Sprintf("%s reported from the customer's service (%s), first on %s. Measure: %s.",
		upperFirst(c.Title()), source, st.ContentDate, measure)
	st.DecisionFacts = facts
	clause := g.ClauseFor(c)
	if g.Ground(c) == "law" {
		st.DecisionGround = "DECISION_GROUND_ILLEGAL_CONTENT"
		st.IllegalContentLegalGround, st.IllegalContentExplanation = clause, facts
	} else {
		st.DecisionGround = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
		st.IncompatibleContentGround, st.IncompatibleContentExplanation = clause, facts
	}
	// Every report is read and matched to its account by automated means; the decision is
	// automated when no person approved it (a rule of the policy allowed it).
	st.AutomatedDetection = "Yes"
	st.AutomatedDecision = "AUTOMATED_DECISION_NOT_AUTOMATED"
	if automated {
		st.AutomatedDecision = "AUTOMATED_DECISION_FULLY"
	}
}

// caseReporters are the reporters of a case's reports.
func (s *Store) caseReporters(ctx context.Context, number string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, s.Q(`SELECT reporters FROM case_events WHERE case_number = ? AND kind = ?`), number, workflows.LedgerReports)
	if err != nil {
		return nil, fmt.Errorf("ledger %s: statements: %w", s.Where, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var text string
		if err := rows.Scan(&text); err != nil {
			return nil, fmt.Errorf("ledger %s: statements: %w", s.Where, err)
		}
		names, _ := parseReporters(text)
		out = append(out, names...)
	}
	return out, rows.Err()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// TrustedCases are the cases among numbers that hold a notice from a trusted flagger.
func (s *Store) TrustedCases(ctx context.Context, numbers []string, trusted func(reporter string) bool) (map[string]bool, error) {
	out := map[string]bool{}
	for start := 0; start < len(numbers); start += 500 {
		chunk := numbers[start:min(start+500, len(numbers))]
		args := []any{workflows.LedgerReports}
		for _, n := range chunk {
			args = append(args, n)
		}
		rows, err := s.db.QueryContext(ctx, s.Q(`SELECT case_number, reporters FROM case_events WHERE kind = ? AND case_number IN (?`+
			strings.Repeat(", ?", len(chunk)-1)+`)`), args...)
		if err != nil {
			return nil, fmt.Errorf("ledger %s: trusted flaggers' cases: %w", s.Where, err)
		}
		for rows.Next() {
			var number, text string
			if err := rows.Scan(&number, &text); err != nil {
				rows.Close()
				return nil, fmt.Errorf("ledger %s: trusted flaggers' cases: %w", s.Where, err)
			}
			names, _ := parseReporters(text)
			for _, r := range names {
				if r != "" && trusted(r) {
					out[number] = true
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("ledger %s: trusted flaggers' cases: %w", s.Where, err)
		}
	}
	return out, nil
}
