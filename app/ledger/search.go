package ledger

import (
	"context"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"abusedesk/app/cases"
	"abusedesk/workflows"
)

// Search finds cases by what their reports name and by their customer: an IP address (or every
// address in a CIDR range), a host or domain (and its subdomains), a sender address or domain, a
// phone number (any spacing; E.164 with or without "+" or "00"), an account ID, or part of the
// account's name. It returns at most limit case numbers, newest case first, and whether there
// were more.

// SearchKind says how Search read a query.
type SearchKind string

// How a query was read.
const (
	SearchIP     SearchKind = "ip"
	SearchRange  SearchKind = "range"
	SearchDomain SearchKind = "domain"
	SearchSender SearchKind = "sender"
	SearchPhone  SearchKind = "phone"
	SearchText   SearchKind = "account" // an account ID or part of its name
	// SearchIdentity: a campaign, messaging service or SMS sender ID the reports name (a text
	// query that names one; else it is SearchText).
	SearchIdentity SearchKind = "identity"
	// SearchCaseNumber: q is a case number (SearchClause only).
	SearchCaseNumber SearchKind = "case_number"
)

// Searcher finds case numbers by what their reports name or their customer (Store).
type Searcher interface {
	Search(ctx context.Context, q string, limit int) ([]string, SearchKind, bool, error)
}

// Matches is how a search query was read for a list of cases.
type Matches struct {
	// Clause is the visibility-query clause that finds the cases; None says nothing matches
	// (no clause can say so).
	Clause    string
	None      bool
	Kind      SearchKind
	Truncated bool
}

// SearchClause reads q the way the cases API and the dashboard's search box do: a case number;
// else, with a ledger (s not nil), the cases whose reports name the address, range, domain,
// sender or phone number (written any way), or whose customer's ID or name it is; without one,
// an account ID. At most limit cases; Truncated says there were more.
func SearchClause(ctx context.Context, s Searcher, q string, limit int) (Matches, error) {
	q = strings.TrimSpace(q)
	if n := workflows.FindCaseNumber(q); n != "" && n == strings.ToUpper(q) {
		return Matches{Clause: workflows.SearchCaseNumber.GetName() + " = " + cases.Quote(n), Kind: SearchCaseNumber}, nil
	}
	byAccount := workflows.SearchAccount.GetName() + " = " + cases.Quote(q)
	if s == nil {
		return Matches{Clause: byAccount, Kind: SearchText}, nil
	}
	numbers, kind, more, err := s.Search(ctx, q, limit)
	if err != nil {
		return Matches{}, err
	}
	m := Matches{Kind: kind, Truncated: more}
	switch {
	case kind == SearchText && len(numbers) == 0:
		m.Clause = byAccount // the account ID, for cases the ledger lacks
	case kind == SearchText:
		m.Clause = "(" + byAccount + " OR " + cases.In(workflows.SearchCaseNumber.GetName(), numbers...) + ")"
	case len(numbers) == 0:
		m.None = true
	default:
		m.Clause = cases.In(workflows.SearchCaseNumber.GetName(), numbers...)
	}
	return m, nil
}

// ReadQuery says how Search reads q, and the normalised value it looks for.
func ReadQuery(q string) (SearchKind, string) {
	q = strings.TrimSpace(q)
	if a, err := netip.ParseAddr(q); err == nil {
		return SearchIP, a.Unmap().String()
	}
	if p, err := netip.ParsePrefix(q); err == nil {
		return SearchRange, p.Masked().String()
	}
	if phone, ok := phoneOf(q); ok {
		return SearchPhone, phone
	}
	if strings.Contains(q, "@") && !strings.ContainsAny(q, " /") {
		return SearchSender, strings.ToLower(q)
	}
	host := q
	if u, err := url.Parse(q); err == nil && u.Hostname() != "" && strings.Contains(q, "://") {
		host = u.Hostname()
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if strings.Contains(host, ".") && !strings.ContainsAny(host, " /:@") {
		return SearchDomain, host
	}
	return SearchText, q
}

// phoneOf reads a phone number (or a tel: URI): digits with optional spaces, dots, dashes and brackets, at
// least 7 digits, starting "+" or "00" (international) — written as E.164.
func phoneOf(q string) (string, bool) {
	q = strings.TrimSpace(strings.TrimPrefix(strings.ToLower(q), "tel:")) // a tel: URI
	var digits strings.Builder
	for i, r := range q {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case r == '+' && i == 0:
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return "", false
		}
	}
	d := digits.String()
	switch {
	case strings.HasPrefix(q, "+"):
	case strings.HasPrefix(d, "00"):
		d = d[2:]
	default:
		return "", false
	}
	if len(d) < 7 || len(d) > 15 {
		return "", false
	}
	return "+" + d, true
}

// identityKinds are the kinds a query may name a sending identity by ("campaign:CX7K2PQ").
var identityKinds = []string{"campaign", "messaging-service", "sender-id"}

// Search returns the case numbers q finds (see ReadQuery), newest first, at most limit, and
// whether there were more.
func (s *Store) Search(ctx context.Context, q string, limit int) ([]string, SearchKind, bool, error) {
	kind, v := ReadQuery(q)
	if v == "" {
		return nil, kind, false, nil
	}
	var query string
	var args []any
	switch kind {
	case SearchIP:
		query, args = `SELECT DISTINCT c.case_number, c.opened_ms FROM indicators i JOIN cases c ON c.case_number = i.case_number
			WHERE i.kind = 'ip' AND i.value = ?`, []any{v}
	case SearchRange:
		return s.searchRange(ctx, netip.MustParsePrefix(v), limit)
	case SearchDomain:
		query, args = `SELECT DISTINCT c.case_number, c.opened_ms FROM indicators i JOIN cases c ON c.case_number = i.case_number
			WHERE i.kind IN ('host', 'domain', 'sender-domain') AND (i.value = ? OR i.value LIKE ?)`, []any{v, "%." + v}
	case SearchSender:
		_, domain, _ := strings.Cut(v, "@")
		query, args = `SELECT DISTINCT c.case_number, c.opened_ms FROM indicators i JOIN cases c ON c.case_number = i.case_number
			WHERE (i.kind = 'sender' AND LOWER(i.value) = ?) OR (i.kind = 'sender-domain' AND i.value = ?)`, []any{v, domain}
	case SearchPhone:
		query, args = `SELECT DISTINCT c.case_number, c.opened_ms FROM indicators i JOIN cases c ON c.case_number = i.case_number
			WHERE i.kind = 'phone' AND i.value = ?`, []any{v}
	default:
		// A campaign, messaging service or sender ID the reports name ("CX7K2PQ",
		// "campaign:cx7k2pq"), written in any case; else an account.
		id := v
		if k, rest, ok := strings.Cut(v, ":"); ok && slices.Contains(identityKinds, strings.ToLower(k)) {
			id = rest
		}
		numbers, more, err := s.caseNumbers(ctx, `SELECT DISTINCT c.case_number, c.opened_ms FROM indicators i JOIN cases c ON c.case_number = i.case_number
			WHERE i.kind IN ('campaign', 'messaging-service', 'sender-id') AND UPPER(i.value) = ?`+fmt.Sprintf(" ORDER BY 2 DESC LIMIT %d", limit+1),
			[]any{strings.ToUpper(strings.TrimSpace(id))}, limit)
		if err != nil || len(numbers) > 0 {
			return numbers, SearchIdentity, more, err
		}
		query, args = `SELECT case_number, opened_ms FROM cases WHERE account_id = ? OR LOWER(account_name) LIKE ?`,
			[]any{v, "%" + strings.ToLower(v) + "%"}
	}
	numbers, more, err := s.caseNumbers(ctx, query+fmt.Sprintf(" ORDER BY 2 DESC LIMIT %d", limit+1), args, limit)
	return numbers, kind, more, err
}

// searchRange finds the cases naming an address in p.
func (s *Store) searchRange(ctx context.Context, p netip.Prefix, limit int) ([]string, SearchKind, bool, error) {
	rows, err := s.db.QueryContext(ctx, s.Q(`SELECT i.value, c.case_number, c.opened_ms FROM indicators i JOIN cases c ON c.case_number = i.case_number
		WHERE i.kind = 'ip' ORDER BY c.opened_ms DESC`))
	if err != nil {
		return nil, SearchRange, false, fmt.Errorf("ledger %s: %w", s.Where, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v, number string
		var opened int64
		if err := rows.Scan(&v, &number, &opened); err != nil {
			return nil, SearchRange, false, fmt.Errorf("ledger %s: %w", s.Where, err)
		}
		if a, err := netip.ParseAddr(v); err == nil && p.Contains(a) && !slices.Contains(out, number) {
			if len(out) == limit {
				return out, SearchRange, true, nil
			}
			out = append(out, number)
		}
	}
	return out, SearchRange, false, rows.Err()
}

func (s *Store) caseNumbers(ctx context.Context, query string, args []any, limit int) ([]string, bool, error) {
	rows, err := s.db.QueryContext(ctx, s.Q(query), args...)
	if err != nil {
		return nil, false, fmt.Errorf("ledger %s: %w", s.Where, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var number string
		var opened int64
		if err := rows.Scan(&number, &opened); err != nil {
			return nil, false, fmt.Errorf("ledger %s: %w", s.Where, err)
		}
		out = append(out, number)
	}
	if len(out) > limit {
		return out[:limit], true, rows.Err()
	}
	return out, false, rows.Err()
}

// AccountNames are the customers' names of the accounts given, as their cases last recorded
// them (an account the ledger has no name for is left out). Names live in the ledger, not in
// Temporal's search attributes, which the payload codec does not encrypt.
func (s *Store) AccountNames(ctx context.Context, accounts []string) (map[string]string, error) {
	out := map[string]string{}
	ids := slices.Compact(slices.Sorted(slices.Values(accounts)))
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		args := make([]any, len(chunk))
		for i, a := range chunk {
			args[i] = a
		}
		rows, err := s.db.QueryContext(ctx, s.Q(`SELECT account_id, account_name, opened_ms FROM cases WHERE account_name <> '' AND account_id IN (?`+
			strings.Repeat(", ?", len(chunk)-1)+`) ORDER BY opened_ms`), args...)
		if err != nil {
			return nil, fmt.Errorf("ledger %s: account names: %w", s.Where, err)
		}
		for rows.Next() {
			var id, name string
			var opened int64
			if err := rows.Scan(&id, &name, &opened); err != nil {
				rows.Close()
				return nil, fmt.Errorf("ledger %s: account names: %w", s.Where, err)
			}
			out[id] = name // the newest case's name wins
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("ledger %s: account names: %w", s.Where, err)
		}
	}
	return out, nil
}
