package ledger

import (
	"context"
	"fmt"
	"time"
)

// Access is one look at, or action on, a case by a person.
type Access struct {
	At         time.Time `json:"at"`
	Who        string    `json:"who"`
	CaseNumber string    `json:"case_number"`
	What       string    `json:"what"`
}

// RecordAccess puts a look or an action on record.
func (s *Store) RecordAccess(ctx context.Context, a Access) error {
	if a.Who == "" || a.CaseNumber == "" || a.At.IsZero() {
		return invalid(fmt.Sprintf("an access without who, case or time (%q, %q)", a.Who, a.CaseNumber))
	}
	if !s.postgres {
		s.writing.Lock()
		defer s.writing.Unlock()
	}
	if _, err := s.db.ExecContext(ctx, s.Q(`INSERT INTO audit (at_ms, who, case_number, what) VALUES (?, ?, ?, ?)`),
		ms(a.At), a.Who, a.CaseNumber, a.What); err != nil {
		return fmt.Errorf("ledger %s: audit: %w", s.Where, err)
	}
	return nil
}

// Accesses lists the looks at and actions on a case, newest first, at most limit.
func (s *Store) Accesses(ctx context.Context, caseNumber string, limit int) ([]Access, error) {
	rows, err := s.db.QueryContext(ctx, s.Q(fmt.Sprintf(`SELECT at_ms, who, case_number, what FROM audit WHERE case_number = ?
		ORDER BY at_ms DESC LIMIT %d`, limit)), caseNumber)
	if err != nil {
		return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
	}
	defer rows.Close()
	var out []Access
	for rows.Next() {
		var a Access
		var at int64
		if err := rows.Scan(&at, &a.Who, &a.CaseNumber, &a.What); err != nil {
			return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
		}
		a.At = time.UnixMilli(at).UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}
