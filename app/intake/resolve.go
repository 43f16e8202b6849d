package intake

import (
	"context"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"abusedesk/domain/fault"
	"abusedesk/integrations/enforcement"
	"abusedesk/integrations/reports"
)

// resolver finds the account behind a report through the enforcement API, caching answers
// (found for 10 minutes, not found for 1) and sharing concurrent identical look-ups, so a storm
// about a few addresses costs a few look-ups.
type resolver struct {
	api   Lookup
	group singleflight.Group
	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	account string
	until   time.Time
}

const (
	foundTTL    = 10 * time.Minute
	notFoundTTL = time.Minute
	maxCached   = 200000
)

func newResolver(api Lookup) *resolver { return &resolver{api: api, cache: map[string]cached{}} }

// maxRangeAccounts bounds the accounts one listed range may name.
const maxRangeAccounts = 256

// resolve returns the accounts a report is about — one, or every customer in a listed range —
// or none and why (a reason starting "not ours" when the addresses belong to no customer, "no
// address" when the report names none). An error means the enforcement API could not answer.
//
// known are a big notification's answers per block (preresolve): a report whose one address
// is in a block they answer takes that answer without a look-up of its own.
func (rs *resolver) resolve(ctx context.Context, r reports.Report, known blockAnswers) ([]string, string, error) {
	if p, ok := blockOfReport(r); ok && len(known) > 0 {
		if acct, ok := known[p]; ok {
			if acct == "" {
				return nil, "not ours: no customer account holds ip:" + r.SourceIPs[0], nil
			}
			return []string{acct}, "", nil
		}
	}
	acct, reason, err := rs.resolveOne(ctx, r)
	if err != nil || acct != "" || len(r.Ranges) == 0 {
		if acct != "" {
			return []string{acct}, "", err
		}
		return nil, reason, err
	}
	var accounts []string
	for i, cidr := range r.Ranges {
		if i == 3 {
			break
		}
		ms, err := rs.api.LookupRange(ctx, cidr, r.EventTime)
		if err != nil {
			if fault.Is(err, fault.Invalid) {
				reason = "the range " + cidr + " cannot be looked up: " + err.Error()
				continue
			}
			return nil, "", fmt.Errorf("look up range %s: %w", cidr, err)
		}
		for _, m := range ms {
			if len(accounts) < maxRangeAccounts && !slices.Contains(accounts, m.AccountID) {
				accounts = append(accounts, m.AccountID)
			}
		}
	}
	if len(accounts) == 0 {
		if strings.HasPrefix(reason, "the range") {
			return nil, reason, nil
		}
		return nil, "not ours: no customer account holds " + strings.Join(r.Ranges, ", "), nil
	}
	return accounts, "", nil
}

// resolveOne returns the one account a report's addresses, senders, domains, numbers or
// account hint belong to.
func (rs *resolver) resolveOne(ctx context.Context, r reports.Report) (string, string, error) {
	if h := strings.TrimSpace(r.AccountHint); h != "" {
		acct, err := rs.cachedLookup(ctx, "hint:"+h, func() (string, error) {
			a, err := rs.api.GetAccount(ctx, h)
			if err != nil {
				return "", err
			}
			return a.ID, nil
		})
		if err != nil {
			return "", "", err
		}
		if acct != "" {
			return acct, "", nil
		}
	}
	var queries []enforcement.Query
	if r.FeedbackID != "" {
		queries = append(queries, enforcement.Query{FeedbackID: r.FeedbackID})
	}
	// The first few of each kind, most certain first.
	ask := func(values []string, most int, query func(string) enforcement.Query) {
		for _, v := range values[:min(len(values), most)] {
			queries = append(queries, query(v))
		}
	}
	ask(r.SourceIPs, 3, func(ip string) enforcement.Query { return enforcement.Query{IP: ip, At: r.EventTime} })
	ask(r.Senders, 2, func(s string) enforcement.Query { return enforcement.Query{Sender: s} })
	ask(r.Domains, 3, func(d string) enforcement.Query { return enforcement.Query{Domain: d} })
	// A campaign or a messaging service names the sending identity most closely: first.
	ask(r.Campaigns, 2, byCampaign)
	ask(r.Services, 2, byService)
	ask(r.Phones, 3, byPhone)
	ask(r.SenderIDs, 2, bySenderID)
	ask(r.Brands, 1, byBrand)
	if len(queries) == 0 {
		if len(r.Ranges) > 0 {
			return "", "", nil // the ranges are looked up next
		}
		return "", "no address, domain or sender to look the account up by", nil
	}
	var tried []string
	for _, q := range queries {
		acct, err := rs.accountOf(ctx, q)
		if err != nil {
			return "", "", err
		}
		if acct != "" {
			return acct, "", nil
		}
		tried = append(tried, strings.SplitN(queryKey(q), "@", 2)[0])
	}
	return "", "not ours: no customer account holds " + strings.Join(tried, ", "), nil
}

// otherAccounts returns the accounts other than acct that a report's first few source
// addresses belong to: a report that names sources of several customers is about one of them,
// and a person says which (the triage gate). Look-ups are cached like any other.
func (rs *resolver) otherAccounts(ctx context.Context, r reports.Report, acct string) ([]string, error) {
	if len(r.SourceIPs) < 2 {
		return nil, nil
	}
	var others []string
	for i, ip := range r.SourceIPs {
		if i == 3 {
			break
		}
		a, err := rs.ipAccount(ctx, ip, r.EventTime)
		if err != nil {
			return nil, err
		}
		if a != "" && a != acct && !slices.Contains(others, a) {
			others = append(others, a)
		}
	}
	return others, nil
}

// maxOwnURLs bounds the further URLs of one report kept for its case (each a takedown, a
// check).
const maxOwnURLs = 20

// maxURLLength bounds a URL a case keeps whole (one that is acted on must not be cut).
const maxURLLength = 2048

// The look-ups of a sending identity, by kind (resolveOne asks them in order; ownSenders asks
// who holds each one a report names).
func byPhone(v string) enforcement.Query    { return enforcement.Query{Phone: v} }
func bySenderID(v string) enforcement.Query { return enforcement.Query{SenderID: v} }
func byCampaign(v string) enforcement.Query { return enforcement.Query{Campaign: v} }
func byBrand(v string) enforcement.Query    { return enforcement.Query{Brand: v} }
func byService(v string) enforcement.Query  { return enforcement.Query{Service: v} }

// ownSenders keeps, of the numbers, sender IDs, campaigns, brands and messaging services a
// report names, those acct holds: another customer's never stays on acct's case, nor reaches its
// notice or its action. One no customer holds stays only when none of them is acct's (a
// complaint about texts through acct's gateway, found by its address, names the sending number
// the API does not know); beside acct's own numbers it is the complainant's ("call me back on
// …") and is left out.
func (rs *resolver) ownSenders(ctx context.Context, r *reports.Report, acct string) error {
	type field struct {
		list    *[]string
		query   func(string) enforcement.Query
		holders []string
	}
	fields := []*field{
		{list: &r.Phones, query: byPhone},
		{list: &r.SenderIDs, query: bySenderID},
		{list: &r.Campaigns, query: byCampaign},
		{list: &r.Brands, query: byBrand},
		{list: &r.Services, query: byService},
	}
	anyOwn := false
	for _, f := range fields {
		for _, v := range *f.list {
			a, err := rs.accountOf(ctx, f.query(v))
			if err != nil {
				return err
			}
			f.holders = append(f.holders, a)
			anyOwn = anyOwn || a == acct
		}
	}
	for _, f := range fields {
		var keep []string
		for i, v := range *f.list {
			if a := f.holders[i]; a == acct || (a == "" && !anyOwn) {
				keep = append(keep, v)
			}
		}
		*f.list = keep
	}
	return nil
}

// ownURLs are the report's URLs after its first (which its summary keeps whoever holds it)
// that are on a host of acct: a name of its domains, or an address it held when the report's
// event happened. A URL on another customer's host, or on no customer's, is left out, so
// nothing done or said on acct's case is about another's resource.
func (rs *resolver) ownURLs(ctx context.Context, r reports.Report, acct string) ([]string, error) {
	var out []string
	for i, raw := range r.URLs {
		if i == 0 {
			continue
		}
		if len(out) == maxOwnURLs {
			break
		}
		u, err := url.Parse(raw)
		if err != nil || u.Hostname() == "" || len(raw) > maxURLLength {
			continue // kept in the evidence; too long to act on by itself
		}
		host := strings.ToLower(u.Hostname())
		var a string
		if ip, perr := netip.ParseAddr(host); perr == nil {
			a, err = rs.ipAccount(ctx, ip.Unmap().String(), r.EventTime)
		} else {
			a, err = rs.accountOf(ctx, enforcement.Query{Domain: host})
		}
		if err != nil {
			return nil, err
		}
		if a == acct && !slices.Contains(out, raw) && raw != r.URLs[0] {
			out = append(out, raw)
		}
	}
	return out, nil
}

// ipAccount is the account that held an address at a time ("" for none), looked up once per
// address and hour.
func (rs *resolver) ipAccount(ctx context.Context, ip string, at time.Time) (string, error) {
	return rs.accountOf(ctx, enforcement.Query{IP: ip, At: at})
}

// accountOf is the account a look-up finds ("" for none), through the cache.
func (rs *resolver) accountOf(ctx context.Context, q enforcement.Query) (string, error) {
	return rs.cachedLookup(ctx, queryKey(q), func() (string, error) {
		m, err := rs.api.Lookup(ctx, q)
		if err != nil {
			return "", err
		}
		return m.AccountID, nil
	})
}

// accountPart is the part of a report about one account.
type accountPart struct {
	account string
	report  reports.Report
}

// maxSplitIPs bounds the addresses of one report looked up to split it.
const maxSplitIPs = 20

// splitByAccount splits a report whose source addresses belong to several customers into one
// report per customer, each with only that customer's addresses (its ID the report's and the
// account's). What cannot be told apart stays out of every part: links, domains and senders,
// and the report's text, whose other addresses are blotted out of its summary. One part, or
// none, when the addresses are one customer's (or no one's but one).
func (rs *resolver) splitByAccount(ctx context.Context, r reports.Report) ([]accountPart, error) {
	if len(r.SourceIPs) < 2 {
		return nil, nil
	}
	var order []string
	byAcct := map[string][]string{}
	for i, ip := range r.SourceIPs {
		if i == maxSplitIPs {
			break
		}
		a, err := rs.ipAccount(ctx, ip, r.EventTime)
		if err != nil {
			return nil, err
		}
		if a == "" {
			continue
		}
		if _, ok := byAcct[a]; !ok {
			order = append(order, a)
		}
		byAcct[a] = append(byAcct[a], ip)
	}
	if len(order) < 2 {
		return nil, nil
	}
	var out []accountPart
	for _, a := range order {
		p := r
		p.ID = r.ID + "@" + a
		p.SourceIPs = byAcct[a]
		p.URLs, p.Domains, p.Senders, p.Ranges = nil, nil, nil, nil
		summary := r.Summary
		others := slices.DeleteFunc(slices.Clone(r.SourceIPs), func(ip string) bool { return slices.Contains(p.SourceIPs, ip) })
		slices.SortFunc(others, func(x, y string) int { return len(y) - len(x) }) // 192.0.2.10 before 192.0.2.1
		for _, other := range others {
			summary = strings.ReplaceAll(summary, other, "[another address]")
		}
		p.Summary = summary
		p.Warnings = append(slices.Clone(r.Warnings), fmt.Sprintf("split: the report also names %d address(es) of other customers, which went to their own cases", len(r.SourceIPs)-len(p.SourceIPs)))
		out = append(out, accountPart{account: a, report: p})
	}
	return out, nil
}

// queryKey names a look-up for the cache; IPs are keyed by the hour they were seen in (an
// address can move between accounts).
func queryKey(q enforcement.Query) string {
	switch {
	case q.FeedbackID != "":
		return "feedback-id:" + q.FeedbackID
	case q.IP != "":
		hour := ""
		if !q.At.IsZero() {
			hour = "@" + q.At.UTC().Truncate(time.Hour).Format("2006010215")
		}
		return "ip:" + q.IP + hour
	case q.Sender != "":
		return "sender:" + strings.ToLower(q.Sender)
	case q.Phone != "":
		return "phone:" + q.Phone
	case q.SenderID != "":
		return "sender-id:" + strings.ToUpper(q.SenderID)
	case q.Campaign != "":
		return "campaign:" + strings.ToUpper(q.Campaign)
	case q.Brand != "":
		return "brand:" + strings.ToUpper(q.Brand)
	case q.Service != "":
		return "messaging-service:" + q.Service
	default:
		return "domain:" + strings.ToLower(q.Domain)
	}
}

// cachedLookup answers from the cache or calls look (once for concurrent callers). Not found
// is an answer ("", nil); other failures are errors and not cached.
func (rs *resolver) cachedLookup(ctx context.Context, key string, look func() (string, error)) (string, error) {
	now := time.Now()
	rs.mu.Lock()
	if c, ok := rs.cache[key]; ok && now.Before(c.until) {
		rs.mu.Unlock()
		return c.account, nil
	}
	rs.mu.Unlock()
	v, err, _ := rs.group.Do(key, func() (any, error) {
		acct, err := look()
		ttl := foundTTL
		switch {
		case fault.Is(err, fault.NotFound):
			acct, err, ttl = "", nil, notFoundTTL
		case err != nil:
			return "", err
		}
		rs.mu.Lock()
		if len(rs.cache) >= maxCached {
			rs.cache = map[string]cached{}
		}
		rs.cache[key] = cached{account: acct, until: time.Now().Add(ttl)}
		rs.mu.Unlock()
		return acct, nil
	})
	if err != nil {
		return "", fmt.Errorf("%s: %w", key, err)
	}
	return v.(string), nil
}

// bulkFrom is how many reports a message must have before their addresses are looked up by
// block rather than one by one.
const bulkFrom = 50

// blockAnswers are the accounts that hold whole blocks ("" for a block nobody holds).
type blockAnswers map[netip.Prefix]string

// blockOfReport is the block a report's address is looked up in — its /24 (IPv4) or /48
// (IPv6) — for a report that names one address and nothing that would find its account
// otherwise.
func blockOfReport(r reports.Report) (netip.Prefix, bool) {
	if len(r.SourceIPs) != 1 || r.FeedbackID != "" || r.AccountHint != "" {
		return netip.Prefix{}, false
	}
	a, err := netip.ParseAddr(r.SourceIPs[0])
	if err != nil {
		return netip.Prefix{}, false
	}
	bits := 24
	if a.Is6() {
		bits = 48
	}
	p, err := a.Prefix(bits)
	return p, err == nil
}

// preresolve looks the addresses of a big notification up by block: one range look-up per /24
// (or /48) instead of one per row. A block held whole by one account, with no change of
// holder in its assignment's lifetime, answers every address in it; a block nobody holds
// answers "not ours"; anything else (split blocks, moves) is left to the per-address look-up.
func (rs *resolver) preresolve(ctx context.Context, rr []reports.Report) (blockAnswers, error) {
	if len(rr) < bulkFrom {
		return nil, nil
	}
	at := time.Time{}
	seen := map[netip.Prefix]bool{}
	whole := blockAnswers{}
	for _, r := range rr {
		p, ok := blockOfReport(r)
		if !ok || seen[p] {
			continue
		}
		seen[p] = true
		if at.IsZero() {
			at = r.EventTime
		}
		ms, err := rs.api.LookupRange(ctx, p.String(), at)
		if err != nil {
			return nil, fmt.Errorf("look up block %s: %w", p, err)
		}
		switch {
		case len(ms) == 0:
			whole[p] = ""
		case len(ms) == 1 && ms[0].ValidFrom.IsZero() && ms[0].ValidUntil.IsZero():
			if held, err := netip.ParsePrefix(ms[0].Value); err == nil && held.Bits() <= p.Bits() && held.Contains(p.Addr()) {
				whole[p] = ms[0].AccountID
			}
		}
	}
	return whole, nil
}
