package ledger

import (
	"context"
	"database/sql"
	"time"
)

// ReportWorkerWait records how long the worker process's workflow tasks wait to be picked up
// now (its own measure: tclient.Pressure), replacing what it reported before.
func (s *Store) ReportWorkerWait(ctx context.Context, worker string, wait time.Duration, at time.Time) error {
	_, err := s.db.ExecContext(ctx, s.Q(`INSERT INTO worker_waits (worker, wait_ms, at_ms) VALUES (?, ?, ?)
		ON CONFLICT (worker) DO UPDATE SET wait_ms = excluded.wait_ms, at_ms = excluded.at_ms`), worker, wait.Milliseconds(), at.UnixMilli())
	return err
}

// WorkerWait is the longest wait the workers reported at or after since (zero when none did:
// no worker runs, or none wrote lately).
func (s *Store) WorkerWait(ctx context.Context, since time.Time) (time.Duration, error) {
	var ms sql.NullInt64
	err := s.db.QueryRowContext(ctx, s.Q(`SELECT MAX(wait_ms) FROM worker_waits WHERE at_ms >= ?`), since.UnixMilli()).Scan(&ms)
	return time.Duration(ms.Int64) * time.Millisecond, err
}
