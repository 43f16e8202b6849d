package dashboard

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"abusedesk/app/ledger"
	"abusedesk/domain/abuse"
	"abusedesk/workflows"
)

// TestReputationPageAndJSON: the page shows each network's figures, the worst ranges, the
// accounts and the listings chart, the JSON the same numbers, and a legal matter's address
// shows nowhere.
func TestReputationPageAndJSON(t *testing.T) {
	ctx := context.Background()
	store := newLedger(t)
	t0 := time.Now().UTC().Add(-48 * time.Hour)
	for i, c := range []struct {
		account string
		cat     abuse.Category
		ip      string
	}{{"acct-1", abuse.Blocklist, "192.0.2.5"}, {"acct-1", abuse.Spam, "192.0.2.6"}, {"acct-2", abuse.LegalRequest, "192.0.2.77"}} {
		lc := workflows.LedgerCase{Number: "TS-R" + string(rune('A'+i)), ID: "case/" + c.account + "/" + string(c.cat), Account: c.account, Category: c.cat, Track: c.cat.Track(), OpenedAt: t0}
		evs := []workflows.LedgerEvent{{Key: "1", At: t0, Kind: workflows.LedgerOpened},
			{Key: "2", At: t0, Kind: workflows.LedgerReports, Count: 1, Indicators: []abuse.Subject{{Kind: abuse.SubjectIP, Value: c.ip}}}}
		if err := store.Record(ctx, workflows.RecordEventsInput{Case: lc, Events: evs}); err != nil {
			t.Fatal(err)
		}
	}
	nets := []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
	d, err := New(Options{Reputation: store.Reputation, Networks: func() []netip.Prefix { return nets }})
	if err != nil {
		t.Fatal(err)
	}
	page := get(d, "/reputation")
	body := page.Body.String()
	if page.Code != http.StatusOK {
		t.Fatalf("HTTP %d: %s", page.Code, body)
	}
	for _, want := range []string{"192.0.2.0/24", "256 addresses", "7.81", `href="/accounts/acct-1"`, "<svg", "Addresses newly listed per day"} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(body, "192.0.2.77") || strings.Contains(body, "acct-2") {
		t.Error("the page shows a legal matter's address or account")
	}
	js := get(d, "/api/v1/reputation")
	var r ledger.Reputation
	if err := json.Unmarshal(js.Body.Bytes(), &r); js.Code != http.StatusOK || err != nil {
		t.Fatalf("JSON: HTTP %d %v: %s", js.Code, err, js.Body)
	}
	if len(r.Networks) != 1 || r.Networks[0].Cases != 2 || r.Networks[0].Listed != 1 || r.Networks[0].Reported != 2 {
		t.Errorf("JSON networks: %+v", r.Networks)
	}
	if bad := get(d, "/api/v1/reputation?from=yesterday"); bad.Code != http.StatusBadRequest {
		t.Errorf("a bad from: HTTP %d", bad.Code)
	}
}
