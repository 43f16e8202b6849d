package ledger

import (
	"context"
	"fmt"

	"abusedesk/app/cases"
	"abusedesk/workflows"
)

// Cases is what backfilling needs of Temporal: the incidents (cases.Client implements it).
type Cases interface {
	List(ctx context.Context, query string, pageSize int, token []byte) ([]cases.Summary, []byte, error)
	StatusRun(ctx context.Context, caseID, runID string) (*workflows.CaseView, error)
}

// BackfillResult says what a backfill did.
type BackfillResult struct {
	// Rebuilt cases had their events rebuilt from their state; Recorded ones had recorded
	// their own since they opened and were left alone.
	Rebuilt, Recorded int
	// Failed lists the incidents that could not be read or kept, with why.
	Failed []string
}

// Backfill rebuilds the events of every incident Temporal still knows (open or closed within
// its retention) that did not record its own: cases that started before the ledger existed.
// Each incident is read through the status query of its last run, so a worker must be running.
// Running it again, or while such a case rebuilds itself (it does at its next run), keeps every
// event once: both rebuild the same keys from the same state. query narrows the incidents (a
// visibility query, "" for all).
func Backfill(ctx context.Context, c Cases, s *Store, query string, progress func(BackfillResult)) (BackfillResult, error) {
	var res BackfillResult
	q := "ExecutionStatus != 'ContinuedAsNew'"
	if query != "" {
		q += " AND (" + query + ")"
	}
	var token []byte
	for {
		page, next, err := c.List(ctx, q, 200, token)
		if err != nil {
			return res, err
		}
		for _, sum := range page {
			if err := ctx.Err(); err != nil {
				return res, err
			}
			if sum.CaseNumber != "" {
				if done, err := s.Recorded(ctx, sum.CaseNumber); err != nil {
					return res, err
				} else if done {
					res.Recorded++
					continue
				}
			}
			v, err := c.StatusRun(ctx, sum.CaseID, sum.RunID)
			if err != nil {
				res.Failed = append(res.Failed, fmt.Sprintf("%s (%s run %s): %v", sum.CaseNumber, sum.CaseID, sum.RunID, err))
				continue
			}
			// Visibility's number is the one the case shows, unless the case is older than
			// its search attribute; then ask again by the number its state gives.
			if v.CaseNumber != sum.CaseNumber {
				if done, err := s.Recorded(ctx, v.CaseNumber); err != nil {
					return res, err
				} else if done {
					res.Recorded++
					continue
				}
			}
			in := workflows.RecordEventsInput{Case: workflows.LedgerCaseOf(v), Events: workflows.LedgerFromView(v)}
			if err := s.Record(ctx, in); err != nil {
				res.Failed = append(res.Failed, fmt.Sprintf("%s: %v", v.CaseNumber, err))
				continue
			}
			res.Rebuilt++
		}
		if progress != nil {
			progress(res)
		}
		if len(next) == 0 {
			return res, nil
		}
		token = next
	}
}
