package ledger

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// HandOver is a message intake did not give to a case: handed to a person on a triage ticket
// (Kind "triage"), or answered "not ours" (Kind "not_ours").
type HandOver struct {
	At       time.Time `json:"at"`
	Kind     string    `json:"kind"`
	TicketID int64     `json:"ticket_id"`
	Reason   string    `json:"reason"`
	Reporter string    `json:"reporter,omitempty"`
	Subject  string    `json:"subject,omitempty"`
	Digest   string    `json:"digest,omitempty"`
	// Legal says the message reads as a legal matter: for the legal team's eyes only.
	Legal bool `json:"legal,omitempty"`
}

// RecordHandOver keeps a hand-over once (by kind, ticket and message).
func (s *Store) RecordHandOver(ctx context.Context, h HandOver) error {
	if h.Kind == "" || h.At.IsZero() {
		return invalid(fmt.Sprintf("a hand-over without a kind or time (%q)", h.Kind))
	}
	if !s.postgres {
		s.writing.Lock()
		defer s.writing.Unlock()
	}
	legal := 0
	if h.Legal {
		legal = 1
	}
	_, err := s.db.ExecContext(ctx, s.Q(`INSERT INTO handovers (handover_key, at_ms, kind, ticket_id, reason, reporter, subject, digest, legal)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (handover_key) DO NOTHING`),
		h.Kind+"/"+strconv.FormatInt(h.TicketID, 10)+"/"+h.Digest, ms(h.At), h.Kind, h.TicketID, h.Reason, h.Reporter, h.Subject, h.Digest, legal)
	if err != nil {
		return fmt.Errorf("ledger %s: hand-over: %w", s.Where, err)
	}
	return nil
}

// HandOvers lists the hand-overs since a time, newest first, at most limit.
func (s *Store) HandOvers(ctx context.Context, since time.Time, limit int) ([]HandOver, error) {
	rows, err := s.db.QueryContext(ctx, s.Q(`SELECT at_ms, kind, ticket_id, reason, reporter, subject, digest, legal FROM handovers
		WHERE at_ms >= ? ORDER BY at_ms DESC, handover_key LIMIT `+strconv.Itoa(limit)), ms(since))
	if err != nil {
		return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
	}
	defer rows.Close()
	var out []HandOver
	for rows.Next() {
		var h HandOver
		var at, legal int64
		if err := rows.Scan(&at, &h.Kind, &h.TicketID, &h.Reason, &h.Reporter, &h.Subject, &h.Digest, &legal); err != nil {
			return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
		}
		h.At, h.Legal = time.UnixMilli(at).UTC(), legal != 0
		out = append(out, h)
	}
	return out, rows.Err()
}
