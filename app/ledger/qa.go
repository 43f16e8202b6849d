package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"time"

	"abusedesk/workflows"
)

// Quality sampling: a share of the decisions made on cases (the policy's qa.sample_rate, per
// category) enters a review queue as the ledger keeps their events. A reviewer who did not make
// the decision agrees or disagrees, with a note; the agreement rate per category and decider is
// an operations figure.

// What a sampled decision is about.
const (
	QAEnforcement = "enforcement" // an action applied (by a lead's approval, or by the desk at the deadline)
	QAAppeal      = "appeal"      // an appeal granted or denied
	QAAgent       = "agent"       // an agent closed the case: resolved, remediation accepted, withdrawn, not abuse
)

// QA verdicts.
const (
	Agree    = "agree"
	Disagree = "disagree"
)

// DeskDecider is the decider of an enforcement no person approved: the desk applied the
// policy's action at the deadline.
const DeskDecider = "desk"

// Errors of Review.
var (
	ErrNoSuchReview = errors.New("no such decision in the review queue")
	ErrSelfReview   = errors.New("a decision is reviewed by someone other than who made it")
	ErrReviewed     = errors.New("the decision was already reviewed")
	ErrBadReview    = errors.New("a review needs a reviewer and a verdict of agree or disagree")
)

// QAItem is a sampled decision and its review (Verdict empty while it waits).
type QAItem struct {
	ID         string    `json:"id"`
	CaseNumber string    `json:"case_number"`
	CaseID     string    `json:"case_id"`
	Account    string    `json:"account"`
	Category   string    `json:"category"`
	Subject    string    `json:"subject"`
	Decision   string    `json:"decision"`
	Decider    string    `json:"decider"`
	DecidedAt  time.Time `json:"decided_at"`
	SampledAt  time.Time `json:"sampled_at"`
	Reviewer   string    `json:"reviewer,omitempty"`
	Verdict    string    `json:"verdict,omitempty"`
	Note       string    `json:"note,omitempty"`
	ReviewedAt time.Time `json:"reviewed_at,omitzero"`
}

// qaDecision says whether a kept event is a decision quality sampling may pick, and what about
// and by whom.
func qaDecision(e workflows.LedgerEvent) (subject, decider string, ok bool) {
	switch e.Kind {
	case workflows.LedgerEnforced:
		if e.Actor == "" {
			return QAEnforcement, DeskDecider, true
		}
		return QAEnforcement, e.Actor, true
	case workflows.LedgerAppealDecided:
		return QAAppeal, e.Actor, e.Actor != ""
	case workflows.LedgerAgentDecision:
		switch workflows.Decision(e.Decision) {
		case workflows.DecisionResolve, workflows.DecisionAcceptRemediation, workflows.DecisionWithdraw:
			return QAAgent, e.Actor, e.Actor != ""
		}
	case workflows.LedgerTriaged:
		return QAAgent, e.Actor, e.Actor != "" && workflows.Decision(e.Decision) == workflows.DecisionNotAbuse
	}
	return "", "", false
}

// sampled says whether the decision with event key key falls in a sample of the given rate:
// the key's hash, not chance, so every process and every retry picks the same decisions.
func sampled(key string, rate float64) bool {
	if rate <= 0 {
		return false
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(key))
	return float64(h.Sum64()%1_000_000) < rate*1_000_000
}

// sample enters a newly kept decision into the review queue when the policy's rate picks it.
func (s *Store) sample(ctx context.Context, tx *sql.Tx, c workflows.LedgerCase, e workflows.LedgerEvent, now int64) error {
	if s.SampleRate == nil {
		return nil
	}
	subject, decider, ok := qaDecision(e)
	key := c.Number + "/" + e.Key
	if !ok || !sampled(key, s.SampleRate(c.Category)) {
		return nil
	}
	decision := e.Decision
	if e.Kind == workflows.LedgerEnforced && e.Count > 0 {
		decision += fmt.Sprintf(" level %d", e.Count)
	}
	if _, err := s.exec(ctx, tx, `INSERT INTO qa_reviews
		(review_id, case_number, case_id, account_id, category, subject, decision, decider, decided_ms, sampled_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (review_id) DO NOTHING`,
		key, c.Number, c.ID, c.Account, string(c.Category), subject, decision, decider, ms(e.At), now); err != nil {
		return fmt.Errorf("ledger %s: case %s: sample for review: %w", s.Where, c.Number, err)
	}
	return nil
}

// QAFilter selects review queue items: those waiting for review (oldest decision first), or
// with Reviewed those reviewed (newest review first); of Category when set; at most Limit (100
// when 0).
type QAFilter struct {
	Reviewed bool
	Category string
	Limit    int
}

const qaColumns = `review_id, case_number, case_id, account_id, category, subject, decision, decider, decided_ms, sampled_ms,
	reviewer, verdict, note, reviewed_ms`

// QAQueue lists sampled decisions.
func (s *Store) QAQueue(ctx context.Context, f QAFilter) ([]QAItem, error) {
	q := `SELECT ` + qaColumns + ` FROM qa_reviews WHERE reviewed_ms IS NULL`
	order := ` ORDER BY decided_ms, review_id`
	if f.Reviewed {
		q, order = `SELECT `+qaColumns+` FROM qa_reviews WHERE reviewed_ms IS NOT NULL`, ` ORDER BY reviewed_ms DESC, review_id`
	}
	var args []any
	if f.Category != "" {
		q += ` AND category = ?`
		args = append(args, f.Category)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.db.QueryContext(ctx, s.Q(q+order+fmt.Sprintf(" LIMIT %d", limit)), args...)
	if err != nil {
		return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
	}
	defer rows.Close()
	var items []QAItem
	for rows.Next() {
		it, err := scanQA(rows)
		if err != nil {
			return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
	}
	return items, nil
}

// QAItem reads one sampled decision.
func (s *Store) QAItem(ctx context.Context, id string) (QAItem, error) {
	it, err := scanQA(s.db.QueryRowContext(ctx, s.Q(`SELECT `+qaColumns+` FROM qa_reviews WHERE review_id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return QAItem{}, fmt.Errorf("%w: %s", ErrNoSuchReview, id)
	}
	if err != nil {
		return QAItem{}, fmt.Errorf("ledger %s: %w", s.Where, err)
	}
	return it, nil
}

func scanQA(r interface{ Scan(...any) error }) (QAItem, error) {
	var it QAItem
	var decided, sampledAt int64
	var reviewed sql.NullInt64
	if err := r.Scan(&it.ID, &it.CaseNumber, &it.CaseID, &it.Account, &it.Category, &it.Subject, &it.Decision, &it.Decider,
		&decided, &sampledAt, &it.Reviewer, &it.Verdict, &it.Note, &reviewed); err != nil {
		return QAItem{}, err
	}
	it.DecidedAt, it.SampledAt = time.UnixMilli(decided).UTC(), time.UnixMilli(sampledAt).UTC()
	if reviewed.Valid {
		it.ReviewedAt = time.UnixMilli(reviewed.Int64).UTC()
	}
	return it, nil
}

// Review records a reviewer's verdict on a sampled decision. It refuses a review by the decider
// (ErrSelfReview), a second review (ErrReviewed, naming the first reviewer) and a review without
// a reviewer or with another verdict (ErrBadReview); the item is unchanged then.
func (s *Store) Review(ctx context.Context, id, reviewer, verdict, note string, at time.Time) (QAItem, error) {
	reviewer = strings.TrimSpace(reviewer)
	if reviewer == "" || (verdict != Agree && verdict != Disagree) {
		return QAItem{}, fmt.Errorf("%w (reviewer %q, verdict %q)", ErrBadReview, reviewer, verdict)
	}
	it, err := s.QAItem(ctx, id)
	if err != nil {
		return QAItem{}, err
	}
	if samePerson(it.Decider, reviewer) {
		return it, fmt.Errorf("%w: %s made this decision", ErrSelfReview, it.Decider)
	}
	if !s.postgres {
		s.writing.Lock()
		defer s.writing.Unlock()
	}
	res, err := s.db.ExecContext(ctx, s.Q(`UPDATE qa_reviews SET reviewer = ?, verdict = ?, note = ?, reviewed_ms = ?
		WHERE review_id = ? AND reviewed_ms IS NULL`), reviewer, verdict, strings.TrimSpace(note), ms(at), id)
	if err != nil {
		return it, fmt.Errorf("ledger %s: %w", s.Where, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return it, fmt.Errorf("ledger %s: %w", s.Where, err)
	} else if n == 0 {
		first, err := s.QAItem(ctx, id)
		if err != nil {
			return it, err
		}
		return first, fmt.Errorf("%w: %s by %s at %s", ErrReviewed, first.Verdict, first.Reviewer, first.ReviewedAt.Format(time.RFC3339))
	}
	return s.QAItem(ctx, id)
}

// samePerson says whether a reviewer is the decider: the same address or name, in any case, or
// the same local part when one of them is an address and the other is not ("lead1" made the
// decision, "lead1@desk.example" reviews it).
func samePerson(decider, reviewer string) bool {
	d, r := strings.ToLower(strings.TrimSpace(decider)), strings.ToLower(strings.TrimSpace(reviewer))
	if d == r {
		return true
	}
	dl, _, dAddr := strings.Cut(d, "@")
	rl, _, rAddr := strings.Cut(r, "@")
	return dAddr != rAddr && dl == rl
}

// QAFigures are the review figures of a period: in total, by category and by decider.
type QAFigures struct {
	Total      QAAgreement   `json:"total"`
	ByCategory []QAAgreement `json:"by_category"`
	ByDecider  []QAAgreement `json:"by_decider"`
	BySubject  []QAAgreement `json:"by_subject"`
}

// QAAgreement counts the sampled decisions of a group and their reviews. AgreementRate =
// Agreed / Reviewed.
type QAAgreement struct {
	Key           string  `json:"key,omitempty"`
	Sampled       int     `json:"sampled"`
	Reviewed      int     `json:"reviewed"`
	Agreed        int     `json:"agreed"`
	Disagreed     int     `json:"disagreed"`
	AgreementRate float64 `json:"agreement_rate"`
}

// QA computes the review figures of the decisions made in [q.From, q.To), of q.Category when
// set (a review queue item has no track or tier; q.Track and q.Tier are not applied).
func (s *Store) QA(ctx context.Context, q Query) (*QAFigures, error) {
	query, args := `SELECT category, subject, decider, verdict FROM qa_reviews WHERE decided_ms >= ? AND decided_ms < ?`, []any{ms(q.From), ms(q.To)}
	if q.Category != "" {
		query, args = query+` AND category = ?`, append(args, q.Category)
	}
	for _, c := range q.Hidden {
		query, args = query+` AND category <> ?`, append(args, c)
	}
	rows, err := s.db.QueryContext(ctx, s.Q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
	}
	defer rows.Close()
	f := &QAFigures{}
	by := [3]map[string]*QAAgreement{{}, {}, {}}
	for rows.Next() {
		var keys [3]string
		var verdict string
		if err := rows.Scan(&keys[0], &keys[1], &keys[2], &verdict); err != nil {
			return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
		}
		f.Total.count(verdict)
		for i, k := range keys {
			a := by[i][k]
			if a == nil {
				a = &QAAgreement{Key: k}
				by[i][k] = a
			}
			a.count(verdict)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger %s: %w", s.Where, err)
	}
	f.Total.finish()
	lists := [3]*[]QAAgreement{&f.ByCategory, &f.BySubject, &f.ByDecider}
	for i, m := range by {
		for _, a := range m {
			a.finish()
			*lists[i] = append(*lists[i], *a)
		}
		sort.Slice(*lists[i], func(x, y int) bool { return (*lists[i])[x].Key < (*lists[i])[y].Key })
	}
	return f, nil
}

func (a *QAAgreement) count(verdict string) {
	a.Sampled++
	switch verdict {
	case Agree:
		a.Reviewed++
		a.Agreed++
	case Disagree:
		a.Reviewed++
		a.Disagreed++
	}
}

func (a *QAAgreement) finish() { a.AgreementRate = rate(a.Agreed, a.Reviewed) }
