package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// PutSession keeps a signed-in session (its data, opaque here) until it expires, and forgets
// the sessions that have.
func (s *Store) PutSession(ctx context.Context, id string, data []byte, expires time.Time) error {
	if id == "" {
		return invalid("a session without an ID")
	}
	if !s.postgres {
		s.writing.Lock()
		defer s.writing.Unlock()
	}
	if _, err := s.db.ExecContext(ctx, s.Q(`DELETE FROM sessions WHERE expires_ms < ?`), ms(time.Now())); err != nil {
		return fmt.Errorf("ledger %s: sessions: %w", s.Where, err)
	}
	_, err := s.db.ExecContext(ctx, s.Q(`INSERT INTO sessions (session_id, data, expires_ms) VALUES (?, ?, ?)
		ON CONFLICT (session_id) DO UPDATE SET data = excluded.data, expires_ms = excluded.expires_ms`), id, string(data), ms(expires))
	if err != nil {
		return fmt.Errorf("ledger %s: session: %w", s.Where, err)
	}
	return nil
}

// Session returns a session's data, or false when there is none (ended, expired, or never).
func (s *Store) Session(ctx context.Context, id string) ([]byte, bool, error) {
	var data string
	err := s.db.QueryRowContext(ctx, s.Q(`SELECT data FROM sessions WHERE session_id = ? AND expires_ms >= ?`), id, ms(time.Now())).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("ledger %s: session: %w", s.Where, err)
	}
	return []byte(data), true, nil
}

// DeleteSession ends a session.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	if !s.postgres {
		s.writing.Lock()
		defer s.writing.Unlock()
	}
	if _, err := s.db.ExecContext(ctx, s.Q(`DELETE FROM sessions WHERE session_id = ?`), id); err != nil {
		return fmt.Errorf("ledger %s: session: %w", s.Where, err)
	}
	return nil
}
