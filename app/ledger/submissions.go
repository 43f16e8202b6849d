package ledger

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"abusedesk/domain/abuse"
	"abusedesk/domain/ticket"
)

// The reports API's records: the answers to requests made with an Idempotency-Key
// (draft-ietf-httpapi-idempotency-key-header), and where each report it accepted went, for
// GET /api/v1/reports/{id}. In the ledger, so that every desk process behind a load balancer
// answers the same.

// Stored is the answer an earlier request with the same Idempotency-Key was given.
type Stored struct {
	Status   int
	Response []byte
	At       time.Time
}

// ErrKeyReused is an Idempotency-Key sent again with another body; ErrKeyInFlight one whose
// first request is still under way.
var (
	ErrKeyReused   = errors.New("this Idempotency-Key was used for another request body")
	ErrKeyInFlight = errors.New("a request with this Idempotency-Key is still under way")
)

// KeyRules are how long keys are kept and when a claim whose request never finished (its
// process died) may be taken over.
type KeyRules struct {
	Keep  time.Duration
	Stale time.Duration
}

// ClaimKey claims an Idempotency-Key for a request whose body has the given digest. It returns
// nil when this request is the first with the key (it must then CompleteKey or ReleaseKey), the
// stored answer when an earlier one with the same body was answered, ErrKeyReused for another
// body and ErrKeyInFlight while the first request is under way. Keys older than r.Keep are
// forgotten.
func (s *Store) ClaimKey(ctx context.Context, key, digest string, now time.Time, r KeyRules) (*Stored, error) {
	if key == "" || digest == "" {
		return nil, invalid("an Idempotency-Key claim without a key or a body digest")
	}
	if !s.postgres {
		s.writing.Lock()
		defer s.writing.Unlock()
	}
	if _, err := s.db.ExecContext(ctx, s.Q(`DELETE FROM api_keys WHERE at_ms < ?`), ms(now.Add(-r.Keep))); err != nil {
		return nil, fmt.Errorf("ledger %s: idempotency keys: %w", s.Where, err)
	}
	res, err := s.db.ExecContext(ctx, s.Q(`INSERT INTO api_keys (idem_key, body_sha256, at_ms) VALUES (?, ?, ?)
		ON CONFLICT (idem_key) DO NOTHING`), key, digest, ms(now))
	if err != nil {
		return nil, fmt.Errorf("ledger %s: idempotency key: %w", s.Where, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil, nil
	}
	var body, response string
	var status int
	var at int64
	err = s.db.QueryRowContext(ctx, s.Q(`SELECT body_sha256, status, response, at_ms FROM api_keys WHERE idem_key = ?`), key).
		Scan(&body, &status, &response, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrKeyInFlight // released between the two statements: the client tries again
	}
	if err != nil {
		return nil, fmt.Errorf("ledger %s: idempotency key: %w", s.Where, err)
	}
	switch {
	case body != digest:
		return nil, ErrKeyReused
	case status != 0:
		return &Stored{Status: status, Response: []byte(response), At: time.UnixMilli(at).UTC()}, nil
	case at >= ms(now.Add(-r.Stale)):
		return nil, ErrKeyInFlight
	}
	// The first request's process died: take the claim over (one process wins).
	res, err = s.db.ExecContext(ctx, s.Q(`UPDATE api_keys SET at_ms = ? WHERE idem_key = ? AND status = 0 AND at_ms = ?`), ms(now), key, at)
	if err != nil {
		return nil, fmt.Errorf("ledger %s: idempotency key: %w", s.Where, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil, nil
	}
	return nil, ErrKeyInFlight
}

// CompleteKey stores the answer given to the request that claimed key.
func (s *Store) CompleteKey(ctx context.Context, key string, status int, response []byte) error {
	if status <= 0 {
		return invalid(fmt.Sprintf("an Idempotency-Key completed with HTTP status %d", status))
	}
	if !s.postgres {
		s.writing.Lock()
		defer s.writing.Unlock()
	}
	if _, err := s.db.ExecContext(ctx, s.Q(`UPDATE api_keys SET status = ?, response = ? WHERE idem_key = ?`), status, string(response), key); err != nil {
		return fmt.Errorf("ledger %s: idempotency key: %w", s.Where, err)
	}
	return nil
}

// ReleaseKey forgets a claimed key whose request took nothing (it failed; the client sends
// it again with the same key).
func (s *Store) ReleaseKey(ctx context.Context, key string) error {
	if !s.postgres {
		s.writing.Lock()
		defer s.writing.Unlock()
	}
	if _, err := s.db.ExecContext(ctx, s.Q(`DELETE FROM api_keys WHERE idem_key = ? AND status = 0`), key); err != nil {
		return fmt.Errorf("ledger %s: idempotency key: %w", s.Where, err)
	}
	return nil
}

// Submitted is where one report the reports API accepted went: a case (CaseID), or a person
// (Ticket, the triage ticket).
type Submitted struct {
	ReportID   string
	CaseID     string
	Category   abuse.Category
	Ticket     ticket.Ref
	ReceivedAt time.Time
}

// RecordSubmitted keeps where the reports of one request went; recording one again changes
// nothing.
func (s *Store) RecordSubmitted(ctx context.Context, subs []Submitted) error {
	if len(subs) == 0 {
		return nil
	}
	if !s.postgres {
		s.writing.Lock()
		defer s.writing.Unlock()
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("ledger %s: submitted reports: %w", s.Where, err)
	}
	defer func() { _ = tx.Rollback() }()
	for _, r := range subs {
		if r.ReportID == "" {
			return invalid("a submitted report without an ID")
		}
		number, _ := r.Ticket.Number()
		if _, err := s.exec(ctx, tx, `INSERT INTO submitted_reports (report_id, case_id, category, track, ticket_id, ticket, received_ms)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (report_id, case_id) DO NOTHING`,
			r.ReportID, r.CaseID, string(r.Category), string(r.Category.Track()), number, r.Ticket.String(), ms(r.ReceivedAt)); err != nil {
			return fmt.Errorf("ledger %s: submitted report: %w", s.Where, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("ledger %s: submitted reports: %w", s.Where, err)
	}
	return nil
}

// ReportStatus is what became of a report the reports API accepted.
type ReportStatus struct {
	ReportID   string
	ReceivedAt time.Time
	Category   abuse.Category
	// Legal is a report of the legal track: nothing more is said of it.
	Legal bool
	// Ticket is the ticket of a person who has it (triage), when it went to none of the cases.
	Ticket ticket.Ref
	// Incidents are the incidents of its cases that took it (one a customer; none yet while it
	// is on its way).
	Incidents []ReportIncident
	// Pending counts the cases it is on its way to whose incident the ledger does not show yet.
	Pending int
}

// ReportIncident is the incident of a case that took a report.
type ReportIncident struct {
	Number   string
	OpenedAt time.Time
	ClosedAt time.Time // zero while open
	Outcome  string
	Action   string
}

// ErrNoSuchReport is a report ID the reports API never accepted (or not through this ledger).
var ErrNoSuchReport = errors.New("no such report")

// ReportStatus returns what became of a report: for each case it went to, the incident that
// was open when it arrived, or the first opened after (the report opened it).
func (s *Store) ReportStatus(ctx context.Context, id string) (*ReportStatus, error) {
	rows, err := s.db.QueryContext(ctx, s.Q(`SELECT case_id, category, track, ticket, received_ms FROM submitted_reports
		WHERE report_id = ? ORDER BY case_id`), id)
	if err != nil {
		return nil, fmt.Errorf("ledger %s: report status: %w", s.Where, err)
	}
	st := &ReportStatus{ReportID: id}
	var caseIDs []string
	for rows.Next() {
		var caseID, category, track, ref string
		var received int64
		if err := rows.Scan(&caseID, &category, &track, &ref, &received); err != nil {
			rows.Close()
			return nil, fmt.Errorf("ledger %s: report status: %w", s.Where, err)
		}
		at := time.UnixMilli(received).UTC()
		if st.ReceivedAt.IsZero() || at.Before(st.ReceivedAt) {
			st.ReceivedAt = at
		}
		st.Category = cmp.Or(st.Category, abuse.Category(category))
		st.Legal = st.Legal || abuse.Track(track).Confidential()
		if caseID == "" {
			if st.Ticket, err = ticket.ParseRef(ref); err != nil {
				rows.Close()
				return nil, fmt.Errorf("ledger %s: report status: %w", s.Where, err)
			}
			continue
		}
		caseIDs = append(caseIDs, caseID)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger %s: report status: %w", s.Where, err)
	}
	if st.ReceivedAt.IsZero() {
		return nil, ErrNoSuchReport
	}
	if st.Legal {
		return st, nil
	}
	for _, caseID := range caseIDs {
		var inc ReportIncident
		var opened int64
		var closed sql.NullInt64
		err := s.db.QueryRowContext(ctx, s.Q(`SELECT case_number, opened_ms, closed_ms, outcome, action FROM cases
			WHERE case_id = ? AND (closed_ms IS NULL OR closed_ms >= ?) ORDER BY opened_ms LIMIT 1`), caseID, ms(st.ReceivedAt)).
			Scan(&inc.Number, &opened, &closed, &inc.Outcome, &inc.Action)
		if errors.Is(err, sql.ErrNoRows) {
			st.Pending++
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("ledger %s: report status: %w", s.Where, err)
		}
		inc.OpenedAt = time.UnixMilli(opened).UTC()
		if closed.Valid {
			inc.ClosedAt = time.UnixMilli(closed.Int64).UTC()
		}
		st.Incidents = append(st.Incidents, inc)
	}
	return st, nil
}
