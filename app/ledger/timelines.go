package ledger

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Timeline is a case as the ledger recorded it: what the case was and its events in order. Policy
// simulation replays timelines against another policy.
type Timeline struct {
	Number, Account, Category, Track, Rules, Tier string
	Opened                                        time.Time
	Events                                        []Event
}

// Timelines returns the cases opened in [from, to) with their events, by case number.
func (s *Store) Timelines(ctx context.Context, from, to time.Time) ([]Timeline, error) {
	rows, err := s.db.QueryContext(ctx, s.Q(`SELECT case_number, account_id, category, track, rules, tier, opened_ms
		FROM cases WHERE opened_ms >= ? AND opened_ms < ? ORDER BY case_number`), ms(from), ms(to))
	if err != nil {
		return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
	}
	var out []Timeline
	index := map[string]int{}
	for rows.Next() {
		var t Timeline
		var opened int64
		if err := rows.Scan(&t.Number, &t.Account, &t.Category, &t.Track, &t.Rules, &t.Tier, &opened); err != nil {
			rows.Close()
			return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
		}
		t.Opened = time.UnixMilli(opened).UTC()
		index[t.Number] = len(out)
		out = append(out, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
	}
	// The events of those cases: one pass over the events of cases opened in the period.
	ev, err := s.db.QueryContext(ctx, s.Q(`SELECT e.event_key, e.case_number, e.at_ms, e.kind, e.account_id, e.category, e.actor, e.decision, e.outcome, e.n
		FROM case_events e JOIN cases c ON c.case_number = e.case_number
		WHERE c.opened_ms >= ? AND c.opened_ms < ? ORDER BY e.case_number, e.at_ms, e.recorded_ms, e.event_key`), ms(from), ms(to))
	if err != nil {
		return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
	}
	defer ev.Close()
	for ev.Next() {
		e, err := scanEvent(ev)
		if err != nil {
			return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
		}
		if i, ok := index[e.CaseNumber]; ok {
			out[i].Events = append(out[i].Events, e)
		}
	}
	if err := ev.Err(); err != nil {
		return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
	}
	return out, nil
}

// Enforcements returns, per account, when its cases were enforced, for every case enforced
// before to (the prior violations a case opened then had, as far as the ledger knows).
func (s *Store) Enforcements(ctx context.Context, to time.Time) (map[string][]time.Time, error) {
	rows, err := s.db.QueryContext(ctx, s.Q(`SELECT account_id, enforced_ms FROM cases
		WHERE enforced_ms IS NOT NULL AND enforced_ms < ? ORDER BY account_id, enforced_ms`), ms(to))
	if err != nil {
		return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
	}
	defer rows.Close()
	out := map[string][]time.Time{}
	for rows.Next() {
		var account string
		var at int64
		if err := rows.Scan(&account, &at); err != nil {
			return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
		}
		out[account] = append(out[account], time.UnixMilli(at).UTC())
	}
	return out, rows.Err()
}

// AccountEvents returns an account's events of the given kinds (all kinds when none), newest
// first, at most limit.
func (s *Store) AccountEvents(ctx context.Context, account string, limit int, kinds ...string) ([]Event, error) {
	q, args := `SELECT `+eventColumns+` FROM case_events WHERE account_id = ?`, []any{account}
	if len(kinds) > 0 {
		list, more := inList(kinds)
		q, args = q+` AND kind IN `+list, append(args, more...)
	}
	return s.events(ctx, q+fmt.Sprintf(` ORDER BY at_ms DESC, event_key LIMIT %d`, limit), args...)
}

// inList is an SQL list of placeholders for values, "(?, ?, ?)", and the values as arguments.
func inList(values []string) (string, []any) {
	args := make([]any, len(values))
	for i, v := range values {
		args[i] = v
	}
	return "(?" + strings.Repeat(", ?", len(values)-1) + ")", args
}
