package ledger

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"time"

	"abusedesk/domain/abuse"
)

// The reputation figures (/reputation, GET /api/v1/reputation): how the provider's own
// networks fare — what the reports name in each, what is on blocklists, the worst ranges and
// accounts — from the addresses the cases' reports named (the indicators table). Legal
// matters are never counted: their addresses are nobody's business here.

// ReputationQuery selects the addresses first reported from From to To, measured against the
// provider's Networks (the policy's monitoring.networks; none: only ranges and accounts).
type ReputationQuery struct {
	From, To time.Time
	Networks []netip.Prefix
}

// Reputation are the figures of a period.
type Reputation struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Networks are the provider's networks, in the policy's order.
	Networks []NetworkReputation `json:"networks"`
	// WorstRanges are the /24s (IPv4) and /48s (IPv6) the most cases named, at most 10.
	WorstRanges []RangeReputation `json:"worst_ranges"`
	// Accounts are the accounts with the most listings, then cases, at most 10.
	Accounts []AccountReputation `json:"accounts"`
	// ListingsByDay counts the addresses newly listed each day (blocklist cases' addresses),
	// every day of the period.
	ListingsByDay []DayCount `json:"listings_by_day"`
}

// NetworkReputation is one network's figures. Size counts its addresses (IPv4) or its /64s
// (IPv6; capped at 2³²), the unit Unit names; per-1,000 figures are per 1,000 of them.
type NetworkReputation struct {
	Network string `json:"network"`
	Size    uint64 `json:"size"`
	Unit    string `json:"unit"`
	// Reported counts the addresses reports named; Cases the cases that named one of them.
	Reported int `json:"reported"`
	Cases    int `json:"cases"`
	// CasesPer1000 is Cases per 1,000 units of Size.
	CasesPer1000 float64 `json:"cases_per_1000"`
	// Listed counts the addresses found on a blocklist.
	Listed int `json:"listed"`
}

// RangeReputation is a /24 or /48 the reports named.
type RangeReputation struct {
	Range    string `json:"range"`
	Cases    int    `json:"cases"`
	Reported int    `json:"reported"`
	Listed   int    `json:"listed"`
}

// AccountReputation is an account's share.
type AccountReputation struct {
	Account  string `json:"account"`
	Cases    int    `json:"cases"`
	Listings int    `json:"listings"`
}

// DayCount is a count on a day (YYYY-MM-DD, UTC).
type DayCount struct {
	Day   string `json:"day"`
	Count int    `json:"count"`
}

// Reputation computes the figures of the addresses first reported in the period.
func (s *Store) Reputation(ctx context.Context, q ReputationQuery) (*Reputation, error) {
	if !q.From.Before(q.To) {
		return nil, invalid(fmt.Sprintf("the period's start %s is not before its end %s", q.From.Format(time.RFC3339), q.To.Format(time.RFC3339)))
	}
	rows, err := s.db.QueryContext(ctx, s.Q(`SELECT case_number, account_id, category, value, first_ms FROM indicators
		WHERE kind = 'ip' AND first_ms >= ? AND first_ms < ?`), ms(q.From), ms(q.To))
	if err != nil {
		return nil, fmt.Errorf("ledger %s: reputation: %w", s.Where, err)
	}
	defer rows.Close()
	type sighting struct {
		caseNumber, account string
		listing             bool
		addr                netip.Addr
		at                  int64
	}
	var all []sighting
	for rows.Next() {
		var x sighting
		var category, value string
		if err := rows.Scan(&x.caseNumber, &x.account, &category, &value, &x.at); err != nil {
			return nil, fmt.Errorf("ledger %s: reputation: %w", s.Where, err)
		}
		c := abuse.Category(category)
		a, err := netip.ParseAddr(value)
		if err != nil || c.Confidential() {
			continue
		}
		x.addr, x.listing = a.Unmap(), c == abuse.Blocklist
		all = append(all, x)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger %s: reputation: %w", s.Where, err)
	}

	r := &Reputation{From: q.From.UTC(), To: q.To.UTC()}
	// tally counts distinct addresses, cases and listed addresses of a set of sightings.
	type tally struct{ addrs, cases, listed map[string]bool }
	newTally := func() *tally { return &tally{map[string]bool{}, map[string]bool{}, map[string]bool{}} }
	add := func(t *tally, x sighting) {
		t.addrs[x.addr.String()] = true
		t.cases[x.caseNumber] = true
		if x.listing {
			t.listed[x.addr.String()] = true
		}
	}
	for _, n := range q.Networks {
		t := newTally()
		for _, x := range all {
			if n.Contains(x.addr) {
				add(t, x)
			}
		}
		size, unit := networkSize(n)
		r.Networks = append(r.Networks, NetworkReputation{Network: n.String(), Size: size, Unit: unit, Reported: len(t.addrs), Cases: len(t.cases),
			CasesPer1000: math.Round(float64(len(t.cases))*1000/float64(size)*100) / 100, Listed: len(t.listed)})
	}
	ranges := map[string]*tally{}
	accounts := map[string]*tally{}
	days := map[string]map[string]bool{}
	for _, x := range all {
		bits := 24
		if x.addr.Is6() {
			bits = 48
		}
		p, _ := x.addr.Prefix(bits)
		if ranges[p.String()] == nil {
			ranges[p.String()] = newTally()
		}
		add(ranges[p.String()], x)
		if x.account != "" {
			if accounts[x.account] == nil {
				accounts[x.account] = newTally()
			}
			add(accounts[x.account], x)
		}
		if x.listing {
			day := time.UnixMilli(x.at).UTC().Format(time.DateOnly)
			if days[day] == nil {
				days[day] = map[string]bool{}
			}
			days[day][x.addr.String()] = true
		}
	}
	for k, t := range ranges {
		r.WorstRanges = append(r.WorstRanges, RangeReputation{Range: k, Cases: len(t.cases), Reported: len(t.addrs), Listed: len(t.listed)})
	}
	slices.SortFunc(r.WorstRanges, func(a, b RangeReputation) int {
		return cmp.Or(cmp.Compare(b.Cases, a.Cases), cmp.Compare(b.Listed, a.Listed), cmp.Compare(a.Range, b.Range))
	})
	r.WorstRanges = r.WorstRanges[:min(10, len(r.WorstRanges))]
	listingCases := map[string]bool{}
	for _, x := range all {
		if x.listing {
			listingCases[x.caseNumber] = true
		}
	}
	for k, t := range accounts {
		listings := 0
		for c := range t.cases {
			if listingCases[c] {
				listings++
			}
		}
		r.Accounts = append(r.Accounts, AccountReputation{Account: k, Cases: len(t.cases), Listings: listings})
	}
	slices.SortFunc(r.Accounts, func(a, b AccountReputation) int {
		return cmp.Or(cmp.Compare(b.Listings, a.Listings), cmp.Compare(b.Cases, a.Cases), cmp.Compare(a.Account, b.Account))
	})
	r.Accounts = r.Accounts[:min(10, len(r.Accounts))]
	if q.To.Sub(q.From) <= 2*366*24*time.Hour {
		for d := q.From.UTC().Truncate(24 * time.Hour); d.Before(q.To); d = d.Add(24 * time.Hour) {
			day := d.Format(time.DateOnly)
			r.ListingsByDay = append(r.ListingsByDay, DayCount{Day: day, Count: len(days[day])})
		}
	}
	return r, nil
}

// networkSize is how many addresses (IPv4) or /64s (IPv6, at most 2³²) a network holds.
func networkSize(n netip.Prefix) (uint64, string) {
	if n.Addr().Is4() {
		return 1 << (32 - n.Bits()), "address"
	}
	return 1 << max(0, min(64-n.Bits(), 32)), "/64"
}
