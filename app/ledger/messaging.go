package ledger

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"abusedesk/domain/abuse"
)

// IdentityFigures are what the platform recorded of one sending identity (a number, sender ID,
// campaign or messaging service) over the messaging cases of a period, as the cases read it
// when their notices went out: the signals a lead watches per campaign.
type IdentityFigures struct {
	// Identity is written "kind:value" (campaign:CX7K2PQ, phone:+13125550142).
	Identity string `json:"identity"`
	Account  string `json:"account"`
	Cases    int    `json:"cases"`
	abuse.MessagingCounts
	ComplaintsPer1000 float64 `json:"complaints_per_1000"`
	// OptOutRate and FilteredRate are shares of the messages sent (0–1).
	OptOutRate   float64 `json:"opt_out_rate"`
	FilteredRate float64 `json:"filtered_rate"`
}

// maxIdentities is how many identities the figures list, the most complained about first.
const maxIdentities = 20

// Messaging is, per sending identity, what the messaging cases whose records were read in the
// period recorded of it (the records read for the notice, not the check after an action):
// the identities with the most complaints per 1,000 messages first, at most 20. A query's
// category, track and hidden categories select the cases as for the other figures.
func (s *Store) Messaging(ctx context.Context, q Query) ([]IdentityFigures, error) {
	where := []string{"t.stop = 0", "t.until_ms >= ?", "t.until_ms < ?"}
	args := []any{ms(q.From), ms(q.To)}
	if q.Category != "" {
		where, args = append(where, "t.category = ?"), append(args, q.Category)
	}
	if q.Track != "" {
		where, args = append(where, "c.track = ?"), append(args, q.Track)
	}
	if q.Tier != "" {
		where, args = append(where, "c.tier = ?"), append(args, q.Tier)
	}
	for _, h := range q.Hidden {
		where, args = append(where, "t.category <> ?"), append(args, h)
	}
	rows, err := s.db.QueryContext(ctx, s.Q(`SELECT t.identity, t.account_id, COUNT(DISTINCT t.case_number),
			SUM(t.sent), SUM(t.delivered), SUM(t.failed), SUM(t.filtered), SUM(t.opt_outs), SUM(t.complaints)
		FROM messaging_traffic t JOIN cases c ON c.case_number = t.case_number
		WHERE `+strings.Join(where, " AND ")+`
		GROUP BY t.identity, t.account_id`), args...)
	if err != nil {
		return nil, fmt.Errorf("ledger %s: messaging figures: %w", s.Where, err)
	}
	defer rows.Close()
	var out []IdentityFigures
	for rows.Next() {
		var f IdentityFigures
		c := &f.MessagingCounts
		if err := rows.Scan(&f.Identity, &f.Account, &f.Cases, &c.Sent, &c.Delivered, &c.Failed, &c.Filtered, &c.OptOuts, &c.Complaints); err != nil {
			return nil, fmt.Errorf("ledger %s: messaging figures: %w", s.Where, err)
		}
		f.ComplaintsPer1000, f.OptOutRate, f.FilteredRate = c.ComplaintsPer1000(), c.OptOutRate(), c.FilteredRate()
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger %s: messaging figures: %w", s.Where, err)
	}
	slices.SortFunc(out, func(a, b IdentityFigures) int {
		return cmp.Or(cmp.Compare(b.ComplaintsPer1000, a.ComplaintsPer1000), cmp.Compare(b.Complaints, a.Complaints), strings.Compare(a.Identity, b.Identity))
	})
	return out[:min(len(out), maxIdentities)], nil
}
