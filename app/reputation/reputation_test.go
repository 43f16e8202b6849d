package reputation

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"abusedesk/app/intake"
	"abusedesk/domain/abuse"
	"abusedesk/domain/policy"
	"abusedesk/integrations/probe"
	"abusedesk/integrations/reports"
)

func prefixes(t *testing.T, s ...string) []netip.Prefix {
	t.Helper()
	var out []netip.Prefix
	for _, x := range s {
		out = append(out, netip.MustParsePrefix(x))
	}
	return out
}

// TestPlanGoesRound: runs take consecutive slices of every network's addresses (IPv4 one by
// one, IPv6 one per /64) and come back to the start; a slice larger than the networks takes
// each address once.
func TestPlanGoesRound(t *testing.T) {
	nets := prefixes(t, "192.0.2.0/30", "2001:db8:0:10::/62")
	all := Plan(nets, 100, 0)
	want := []string{"192.0.2.0", "192.0.2.1", "192.0.2.2", "192.0.2.3", "2001:db8:0:10::1", "2001:db8:0:11::1", "2001:db8:0:12::1", "2001:db8:0:13::1"}
	if got := strs(all); !slices.Equal(got, want) {
		t.Fatalf("a slice larger than the networks: %v, want %v", got, want)
	}
	var seen []string
	for run := range int64(4) { // 8 addresses, 3 a run: the fourth run starts over
		seen = append(seen, strs(Plan(nets, 3, run))...)
	}
	if !slices.Equal(seen[:8], want) || seen[9] != want[1] {
		t.Errorf("slices of 3 over four runs: %v; want every address in order, then round again", seen)
	}
	// A /16 is 256 runs of 256: run 1 starts at 192.168.1.0, run 256 is back at the start.
	big := prefixes(t, "192.168.0.0/16")
	if first := Plan(big, 256, 1); first[0].String() != "192.168.1.0" || first[255].String() != "192.168.1.255" {
		t.Errorf("run 1 of a /16: %s … %s", first[0], first[255])
	}
	if again := Plan(big, 256, 256); again[0].String() != "192.168.0.0" {
		t.Errorf("run 256 of a /16 starts at %s, want 192.168.0.0", again[0])
	}
	// A whole IPv6 /32 is 2^32 /64s: the plan still takes a slice, from the network's start.
	if v6 := Plan(prefixes(t, "2001:db8::/32"), 2, 0); strs(v6)[1] != "2001:db8:0:1::1" {
		t.Errorf("a /32: %v", v6)
	}
	if Plan(nil, 10, 0) != nil {
		t.Error("no networks planned addresses")
	}
}

func strs(as []netip.Addr) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.String())
	}
	return out
}

// fakeList lists some addresses on one zone and refuses every query on another.
type fakeList struct {
	mu      sync.Mutex
	listed  map[string]bool
	refuses string
	asked   int
}

func (f *fakeList) Listed(_ context.Context, ip, zone string) probe.Result {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked++
	switch {
	case zone == f.refuses:
		return probe.Result{Verdict: probe.Unknown, Detail: "the list refused the query (127.255.255.254)"}
	case f.listed[ip]:
		return probe.Result{Verdict: probe.Still, Detail: "listed (127.0.0.2)"}
	}
	return probe.Result{Verdict: probe.Fixed, Detail: "not listed"}
}

// recorder is intake: it reads each report as intake would, and answers accepted.
type recorder struct {
	got []*reports.Result
	src []intake.Source
}

func (r *recorder) Ingest(_ context.Context, raw []byte, src intake.Source) (*intake.Outcome, error) {
	res := reports.New(reports.Options{}).Parse(raw)
	r.got, r.src = append(r.got, res), append(r.src, src)
	return &intake.Outcome{Accepted: []intake.Accepted{{ReportID: res.Reports[0].ID}}}, nil
}

// TestMonitorReportsEachListing: each listed address on each list is one report intake reads
// as a blocklist listing of that address, named by the list, once a window; a list that refuses
// is counted, not reported; nothing happens when monitoring is off.
func TestMonitorReportsEachListing(t *testing.T) {
	cfg := policy.Monitoring{Networks: []string{"192.0.2.0/28"}, Every: policy.Duration(time.Hour), PerRun: 1024,
		Blocklists: []policy.Blocklist{{Zone: "bl.example", Name: "Example BL", Delist: "https://bl.example/remove"}, {Zone: "quota.example"}}}
	lists := &fakeList{listed: map[string]bool{"192.0.2.5": true, "192.0.2.9": true}, refuses: "quota.example"}
	in := &recorder{}
	m := &Monitor{Policy: func() policy.Monitoring { return cfg }, Lookup: lists, Intake: in}
	window := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	res, err := m.Run(context.Background(), window)
	if err != nil {
		t.Fatal(err)
	}
	if res.Addresses != 16 || res.Lists != 2 || res.Listed != 2 || res.Unknown != 16 || res.Reports != 2 || res.Accepted != 2 || lists.asked != 32 {
		t.Fatalf("run: %+v (%d lookups); want 16 addresses on 2 lists, 2 listed, 16 unknown, 2 reports", res, lists.asked)
	}
	var ips []string
	for i, r := range in.got {
		if r.Kind != reports.KindReport || len(r.Reports) != 1 {
			t.Fatalf("report %d read as %+v", i, r)
		}
		rep := r.Reports[0]
		if rep.Category != abuse.Blocklist || rep.Category.Track() != abuse.TrackAdvisory || len(rep.SourceIPs) != 1 || in.src[i].Channel != Channel {
			t.Errorf("report %d: category %s, addresses %v, channel %s; want a blocklist listing of one address by the monitor", i, rep.Category, rep.SourceIPs, in.src[i].Channel)
		}
		ips = append(ips, rep.SourceIPs...)
		if rep.ID != "dnsbl:bl.example:"+rep.SourceIPs[0]+":20261207T100000Z" {
			t.Errorf("report ID %q", rep.ID)
		}
	}
	slices.Sort(ips)
	if !slices.Equal(ips, []string{"192.0.2.5", "192.0.2.9"}) {
		t.Errorf("listed addresses reported: %v", ips)
	}
	// The same window again: the same report IDs (the case keeps each once); the next window,
	// new ones.
	first := in.got[0].Reports[0].ID
	in.got = nil
	if _, err := m.Run(context.Background(), window); err != nil || in.got[0].Reports[0].ID != first {
		t.Errorf("the window again: %v %+v", err, in.got)
	}
	in.got = nil
	if _, err := m.Run(context.Background(), window.Add(time.Hour)); err != nil || in.got[0].Reports[0].ID == first {
		t.Errorf("the next window: %v %+v; want new report IDs", err, in.got)
	}
	cfg.Networks = nil
	if res, err := m.Run(context.Background(), window); err != nil || res.Addresses != 0 {
		t.Errorf("monitoring off: %+v %v", res, err)
	}
}
