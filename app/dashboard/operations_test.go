package dashboard

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"abusedesk/app/ledger"
	"abusedesk/domain/abuse"
	"abusedesk/workflows"
)

// TestOperationsPageAndJSONAgree: the page shows the ledger's figures with its charts, and the
// JSON endpoint answers the very same numbers for the same query.
func TestOperationsPageAndJSONAgree(t *testing.T) {
	ctx := context.Background()
	store := newLedger(t)
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	for i, outcome := range []workflows.Outcome{workflows.OutcomeEnforced, workflows.OutcomeRemediated, ""} {
		c := workflows.LedgerCase{Number: "TS-" + string(rune('A'+i)), ID: "case/x", Account: "acct-1", Category: abuse.Phishing, Track: abuse.TrackAbuse, OpenedAt: t0.Add(time.Duration(i) * 24 * time.Hour)}
		evs := []workflows.LedgerEvent{{Key: "1", At: c.OpenedAt, Kind: workflows.LedgerOpened}, {Key: "2", At: c.OpenedAt.Add(time.Hour), Kind: workflows.LedgerNoticed}}
		if outcome == workflows.OutcomeEnforced {
			evs = append(evs, workflows.LedgerEvent{Key: "3", At: c.OpenedAt.Add(72 * time.Hour), Kind: workflows.LedgerEnforced, Decision: "suspend_account"})
		}
		if outcome != "" {
			evs = append(evs, workflows.LedgerEvent{Key: "4", At: c.OpenedAt.Add(80 * time.Hour), Kind: workflows.LedgerClosed, Outcome: outcome})
		}
		if err := store.Record(ctx, workflows.RecordEventsInput{Case: c, Events: evs}); err != nil {
			t.Fatal(err)
		}
	}
	d, err := New(Options{Metrics: store.Metrics})
	if err != nil {
		t.Fatal(err)
	}
	const q = "?from=2026-10-26&to=2026-11-15"
	page := get(d, "/operations"+q)
	body := page.Body.String()
	if page.Code != http.StatusOK {
		t.Fatalf("HTTP %d: %s", page.Code, body)
	}
	for _, want := range []string{"<b>3</b>", "33%", "1 of 3 cases", "72h", "<svg", ">W45<", "remediated", "phishing"} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}

	js := get(d, "/api/v1/metrics"+q)
	if js.Code != http.StatusOK || js.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("JSON: HTTP %d %s: %s", js.Code, js.Header().Get("Content-Type"), js.Body)
	}
	var got ledger.Metrics
	if err := json.Unmarshal(js.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want, err := store.Metrics(ctx, ledger.Query{From: time.Date(2026, 10, 26, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	// Compare as JSON: what a client reads.
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(want)
	var x, y any
	_ = json.Unmarshal(a, &x)
	_ = json.Unmarshal(b, &y)
	if !reflect.DeepEqual(x, y) {
		t.Errorf("the JSON differs from the ledger's figures:\n%s\n%s", a, b)
	}
	if got.Total.Cases != 3 || got.Total.Enforced != 1 {
		t.Errorf("JSON total: %+v", got.Total)
	}

	// A bad query is a 400 naming what is wrong.
	bad := get(d, "/api/v1/metrics?from=yesterday")
	if bad.Code != http.StatusBadRequest || !strings.Contains(bad.Body.String(), `from: \"yesterday\" is not a date`) {
		t.Errorf("bad from: HTTP %d %s", bad.Code, bad.Body)
	}
	if p := get(d, "/operations?category=nonsense"); p.Code != http.StatusBadRequest || !strings.Contains(p.Body.String(), "is not a category") {
		t.Errorf("bad category: HTTP %d", p.Code)
	}
}

// TestTrendsPage: a spike and two accounts linked by a phishing host show on the page.
func TestTrendsPage(t *testing.T) {
	ctx := context.Background()
	store := newLedger(t)
	now := time.Now()
	for i, acct := range []string{"acct-shop", "acct-blog"} {
		c := workflows.LedgerCase{Number: "TS-T" + acct, ID: "case/" + acct, Account: acct, Category: abuse.Phishing, Track: abuse.TrackAbuse, OpenedAt: now.Add(-10 * time.Minute)}
		evs := []workflows.LedgerEvent{{Key: "1", At: c.OpenedAt, Kind: workflows.LedgerOpened},
			{Key: "2", At: c.OpenedAt, Kind: workflows.LedgerReports, Count: 30 * (i + 1), Reporters: []string{"feed@phish.example"}, PerReporter: []int{30 * (i + 1)},
				Indicators: []abuse.Subject{{Kind: abuse.SubjectURL, Value: "https://secure-login.example/x" + acct}}}}
		if err := store.Record(ctx, workflows.RecordEventsInput{Case: c, Events: evs}); err != nil {
			t.Fatal(err)
		}
	}
	d, err := New(Options{Trends: &Trends{Store: store, Rules: ledger.TrendRules{Window: time.Hour, Baseline: 24 * time.Hour, Factor: 3, Floor: 20, ClusterMaxAccounts: 20}}})
	if err != nil {
		t.Fatal(err)
	}
	rec := get(d, "/trends")
	body := rec.Body.String()
	if rec.Code != http.StatusOK {
		t.Fatalf("HTTP %d: %s", rec.Code, body)
	}
	for _, want := range []string{"<td>category</td>", ">phishing<", "<td class=\"num\">90</td>", "2 accounts:", "secure-login.example", "TS-Tacct-blog"} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}

// newLedger opens a SQLite ledger in a temporary directory, closed when the test ends.
func newLedger(t *testing.T) *ledger.Store {
	t.Helper()
	store, err := ledger.Open(context.Background(), filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return store
}
