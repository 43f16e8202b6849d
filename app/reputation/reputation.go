// Package reputation watches the provider's own networks on reputation blocklists before the
// complaints arrive (the policy's monitoring section). Each run — one per window of a Temporal
// Schedule — takes the window's slice of the networks' addresses, looks each up on every
// monitored DNS blocklist (RFC 5782), and hands each listing to intake as an X-ARF 4
// reputation/blocklist report. From there a listing is a report like any other: it opens or
// joins the advisory case of the account that holds the address, and an address nobody holds
// goes to a person. A listing is reported each time a run finds it, so the customer's case stays
// open while the address is listed and closes by itself once it is off the lists.
package reputation

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"abusedesk/app/intake"
	"abusedesk/domain/policy"
	"abusedesk/integrations/probe"
	"abusedesk/workflows"
)

// Lookup asks a DNS blocklist about an address (*probe.Prober).
type Lookup interface {
	Listed(ctx context.Context, ip, zone string) probe.Result
}

// Ingester takes a report the way every channel hands one to intake.
type Ingester interface {
	Ingest(ctx context.Context, raw []byte, src intake.Source) (*intake.Outcome, error)
}

// Channel is the intake channel listings arrive by.
const Channel = intake.ChannelMonitor

// Reporter is who the listing reports name as their reporter: the desk's own monitor, at an
// address that takes no mail (RFC 2606 .invalid), so nothing is ever sent to it.
const Reporter = "blocklist-monitor@abusedesk.invalid"

// Monitor is the blocklist watch.
type Monitor struct {
	// Policy is the monitoring section in force.
	Policy func() policy.Monitoring
	Lookup Lookup
	Intake Ingester
	// Parallel bounds the lookups under way at once (default 16).
	Parallel int
	Log      *slog.Logger
}

// Run does the window's slice and says what it found.
func (m *Monitor) Run(ctx context.Context, window time.Time) (workflows.BlocklistWatchResult, error) {
	var res workflows.BlocklistWatchResult
	cfg := m.Policy()
	if !cfg.On() {
		return res, nil
	}
	run := window.Unix() / int64(max(cfg.Every.D()/time.Second, 1))
	addrs := Plan(cfg.Prefixes(), cfg.PerRun, run)
	res.Addresses, res.Lists = len(addrs), len(cfg.Blocklists)

	type listing struct {
		addr   netip.Addr
		list   policy.Blocklist
		detail string
	}
	var (
		mu       sync.Mutex
		listings []listing
		wg       sync.WaitGroup
		sem      = make(chan struct{}, cmp.Or(m.Parallel, 16))
	)
	for _, a := range addrs {
		for _, bl := range cfg.Blocklists {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				r := m.Lookup.Listed(ctx, a.String(), bl.Zone)
				mu.Lock()
				defer mu.Unlock()
				switch r.Verdict {
				case probe.Still:
					res.Listed++
					listings = append(listings, listing{a, bl, r.Detail})
				case probe.Unknown:
					res.Unknown++
				}
			}()
		}
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return res, err
	}
	// In the networks' and the lists' order, whichever look-up answered first.
	slices.SortFunc(listings, func(a, b listing) int {
		return cmp.Or(a.addr.Compare(b.addr), strings.Compare(a.list.Zone, b.list.Zone))
	})
	for _, l := range listings {
		raw, id := Report(l.addr, l.list, l.detail, window)
		out, err := m.Intake.Ingest(ctx, raw, intake.Source{Channel: Channel, ReceivedAt: window})
		if err != nil {
			return res, fmt.Errorf("hand the listing of %s on %s to intake (report %s): %w", l.addr, l.list.Zone, id, err)
		}
		res.Reports++
		res.Accepted += len(out.Accepted)
		res.Triaged += len(out.Triaged)
	}
	if m.Log != nil && (res.Listed > 0 || res.Unknown > 0) {
		m.Log.Info("blocklist watch", "addresses", res.Addresses, "lists", res.Lists, "listed", res.Listed, "unknown", res.Unknown,
			"accepted", res.Accepted, "triaged", res.Triaged)
	}
	return res, nil
}

// Report is the X-ARF 4 reputation report of one listing, and its ID: one per address, list and
// window, so each look-up that finds the address still listed is a new report (its advisory case
// stays open while they come, and closes once they stop) and a window's run done again adds
// nothing.
func Report(addr netip.Addr, list policy.Blocklist, detail string, at time.Time) ([]byte, string) {
	id := fmt.Sprintf("dnsbl:%s:%s:%s", strings.Trim(list.Zone, "."), addr, at.UTC().Format("20060102T150405Z"))
	name := list.Name
	if name == "" {
		name = list.Zone
	}
	doc := map[string]any{
		"xarf_version":      "4.1.0",
		"report_id":         id,
		"timestamp":         at.UTC().Format(time.RFC3339),
		"reporter":          map[string]string{"org": "abusedesk blocklist monitor", "contact": Reporter, "domain": "abusedesk.invalid"},
		"sender":            map[string]string{"org": "abusedesk blocklist monitor", "contact": Reporter, "domain": "abusedesk.invalid"},
		"source_identifier": addr.String(),
		"category":          "reputation",
		"type":              "blocklist",
		"tags":              []string{"zone:" + list.Zone},
		"description":       fmt.Sprintf("%s is %s on %s (%s)", addr, detail, name, list.Zone),
	}
	if list.Delist != "" {
		doc["delist_url"] = list.Delist
	}
	b, _ := json.MarshalIndent(doc, "", "  ")
	return b, id
}

// Plan lists the addresses run number run looks up: IPv4 networks address by address, IPv6
// networks one address (::1) per /64, at most perRun of them, starting where run−1 stopped and
// going round all the networks, so every address is looked up once every ceil(total/perRun)
// runs. An IPv6 network shorter than /32 counts as its first 2³² /64s.
func Plan(nets []netip.Prefix, perRun int, run int64) []netip.Addr {
	sizes := make([]*big.Int, len(nets))
	total := new(big.Int)
	for i, n := range nets {
		sizes[i] = units(n)
		total.Add(total, sizes[i])
	}
	if total.Sign() == 0 || perRun <= 0 {
		return nil
	}
	count := int64(perRun)
	if total.IsInt64() && total.Int64() < count {
		count = total.Int64()
	}
	start := new(big.Int).Mul(big.NewInt(run), big.NewInt(int64(perRun)))
	start.Mod(start, total)
	out := make([]netip.Addr, 0, count)
	idx := start
	for range count {
		out = append(out, at(nets, sizes, idx))
		idx.Add(idx, big.NewInt(1))
		if idx.Cmp(total) >= 0 {
			idx.SetInt64(0)
		}
	}
	return out
}

// units is how many addresses Plan looks up in n.
func units(n netip.Prefix) *big.Int {
	if n.Addr().Is4() {
		return new(big.Int).Lsh(big.NewInt(1), uint(32-n.Bits()))
	}
	return new(big.Int).Lsh(big.NewInt(1), uint(max(0, min(64, 64-n.Bits(), 32))))
}

// at is the idx-th address of the networks, in order.
func at(nets []netip.Prefix, sizes []*big.Int, idx *big.Int) netip.Addr {
	i := new(big.Int).Set(idx)
	for k, n := range nets {
		if i.Cmp(sizes[k]) < 0 {
			base := new(big.Int).SetBytes(n.Masked().Addr().AsSlice())
			if n.Addr().Is4() {
				base.Add(base, i)
				var b [4]byte
				base.FillBytes(b[:])
				return netip.AddrFrom4(b)
			}
			base.Add(base, new(big.Int).Lsh(i, 64))
			base.Add(base, big.NewInt(1))
			var b [16]byte
			base.FillBytes(b[:])
			return netip.AddrFrom16(b)
		}
		i.Sub(i, sizes[k])
	}
	return netip.Addr{}
}
