package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"abusedesk/workflows"
)

// ErrNoSuchBulkAction means no bulk action has that number.
var ErrNoSuchBulkAction = errors.New("no such bulk action")

// RecordBulk keeps a bulk action as it stands, and each account it reached; an older state
// than the one kept (a retried write) changes nothing. It implements activities.BulkLedger.
func (s *Store) RecordBulk(ctx context.Context, st workflows.BulkState) error {
	if st.Number == "" || st.ProposedAt.IsZero() || st.UpdatedAt.IsZero() {
		return invalid(fmt.Sprintf("a bulk action without a number or its times (%q)", st.Number))
	}
	state, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("ledger %s: bulk action %s: %w", s.Where, st.Number, err)
	}
	if !s.postgres {
		s.writing.Lock()
		defer s.writing.Unlock()
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("ledger %s: %w", s.Where, err)
	}
	defer func() { _ = tx.Rollback() }()
	res, err := s.exec(ctx, tx, `INSERT INTO bulk_actions (number, proposed_ms, updated_ms, status, state) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (number) DO UPDATE SET updated_ms = excluded.updated_ms, status = excluded.status, state = excluded.state
		WHERE bulk_actions.updated_ms <= excluded.updated_ms`,
		st.Number, ms(st.ProposedAt), ms(st.UpdatedAt), st.Status, string(state))
	if err != nil {
		return fmt.Errorf("ledger %s: bulk action %s: %w", s.Where, st.Number, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // a newer state is kept already
	}
	for _, acct := range st.Accounts {
		r := workflows.BulkAccount{Account: acct}
		for _, x := range st.Results {
			if x.Account == acct {
				r = x
			}
		}
		if _, err := s.exec(ctx, tx, `INSERT INTO bulk_action_accounts (number, account_id, action_id, applied_ms, error, lifted_ms) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (number, account_id) DO UPDATE SET action_id = excluded.action_id, applied_ms = excluded.applied_ms,
				error = excluded.error, lifted_ms = excluded.lifted_ms`,
			st.Number, acct, r.ActionID, nullMS(r.AppliedAt), r.Error+r.LiftError, nullMS(r.LiftedAt)); err != nil {
			return fmt.Errorf("ledger %s: bulk action %s: %w", s.Where, st.Number, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("ledger %s: bulk action %s: %w", s.Where, st.Number, err)
	}
	return nil
}

// BulkAction is the bulk action with that number as last recorded.
func (s *Store) BulkAction(ctx context.Context, number string) (workflows.BulkState, error) {
	var state string
	err := s.db.QueryRowContext(ctx, s.Q(`SELECT state FROM bulk_actions WHERE number = ?`), number).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return workflows.BulkState{}, fmt.Errorf("%w: %s", ErrNoSuchBulkAction, number)
	}
	if err != nil {
		return workflows.BulkState{}, fmt.Errorf("ledger %s: bulk action %s: %w", s.Where, number, err)
	}
	return decodeBulk(state)
}

// BulkActions lists the bulk actions proposed since a time, newest first; with account, only
// those that reached it.
func (s *Store) BulkActions(ctx context.Context, since time.Time, account string) ([]workflows.BulkState, error) {
	query, args := `SELECT state FROM bulk_actions WHERE proposed_ms >= ?`, []any{ms(since)}
	if account != "" {
		query += ` AND number IN (SELECT number FROM bulk_action_accounts WHERE account_id = ?)`
		args = append(args, account)
	}
	rows, err := s.db.QueryContext(ctx, s.Q(query+` ORDER BY proposed_ms DESC, number DESC LIMIT 200`), args...)
	if err != nil {
		return nil, fmt.Errorf("ledger %s: bulk actions: %w", s.Where, err)
	}
	defer rows.Close()
	var out []workflows.BulkState
	for rows.Next() {
		var state string
		if err := rows.Scan(&state); err != nil {
			return nil, fmt.Errorf("ledger %s: bulk actions: %w", s.Where, err)
		}
		st, err := decodeBulk(state)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger %s: bulk actions: %w", s.Where, err)
	}
	return out, nil
}

func decodeBulk(state string) (workflows.BulkState, error) {
	var st workflows.BulkState
	if err := json.Unmarshal([]byte(state), &st); err != nil {
		return st, fmt.Errorf("ledger: a bulk action kept unreadable: %w", err)
	}
	return st, nil
}
