package ledger

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"abusedesk/domain/ticket"
)

// HandOver is a message intake did not give to a case: handed to a person on a triage ticket
// (Kind "triage"), put in the operations queue (Kind "operations"), answered "not ours" (Kind
// "not_ours"), or noted (Kind "noted").
type HandOver struct {
	At   time.Time `json:"at"`
	Kind string    `json:"kind"`
	// Ticket is the triage ticket (none for "not ours" and noted hand-overs).
	Ticket   ticket.Ref `json:"ticket,omitzero"`
	Reason   string     `json:"reason"`
	Reporter string     `json:"reporter,omitempty"`
	Subject  string     `json:"subject,omitempty"`
	Digest   string     `json:"digest,omitempty"`
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
	number, _ := h.Ticket.Number()
	_, err := s.db.ExecContext(ctx, s.Q(`INSERT INTO handovers (handover_key, at_ms, kind, ticket_id, ticket, reason, reporter, subject, digest, legal)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (handover_key) DO NOTHING`),
		h.Kind+"/"+ticketKey(h.Ticket)+"/"+h.Digest, ms(h.At), h.Kind, number, h.Ticket.String(), h.Reason, h.Reporter, h.Subject, h.Digest, legal)
	if err != nil {
		return fmt.Errorf("ledger %s: hand-over: %w", s.Where, err)
	}
	return nil
}

// ticketKey is how a hand-over's key names its ticket: the number alone for a Zendesk ticket,
// as keys were written before references named a system, so a hand-over kept then is not kept
// twice.
func ticketKey(ref ticket.Ref) string {
	if n, ok := ref.Number(); ok && ref.System == ticket.Zendesk {
		return strconv.FormatInt(n, 10)
	}
	if ref.IsZero() {
		return "0"
	}
	return ref.String()
}

// HandOvers lists the hand-overs since a time, newest first, at most limit.
func (s *Store) HandOvers(ctx context.Context, since time.Time, limit int) ([]HandOver, error) {
	rows, err := s.db.QueryContext(ctx, s.Q(`SELECT at_ms, kind, ticket, reason, reporter, subject, digest, legal FROM handovers
		WHERE at_ms >= ? ORDER BY at_ms DESC, handover_key LIMIT `+strconv.Itoa(limit)), ms(since))
	if err != nil {
		return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
	}
	defer rows.Close()
	var out []HandOver
	for rows.Next() {
		var h HandOver
		var at, legal int64
		var ref string
		if err := rows.Scan(&at, &h.Kind, &ref, &h.Reason, &h.Reporter, &h.Subject, &h.Digest, &legal); err != nil {
			return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
		}
		if h.Ticket, err = ticket.ParseRef(ref); err != nil {
			return nil, fmt.Errorf("ledger %s: hand-over: %w", s.Where, err)
		}
		h.At, h.Legal = time.UnixMilli(at).UTC(), legal != 0
		out = append(out, h)
	}
	return out, rows.Err()
}
