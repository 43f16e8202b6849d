package inbound

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"abusedesk/app/intake"
	"abusedesk/app/ledger"
	"abusedesk/domain/abuse"
	"abusedesk/domain/ticket"
	"abusedesk/integrations/reports"
	"abusedesk/workflows"
)

// gatedIngester holds each message until the test lets it go, and counts them.
type gatedIngester struct {
	mu      sync.Mutex
	n       int
	gate    chan struct{}
	entered chan struct{} // told when a message waits at the gate
	fail    error
	out     *intake.Outcome
}

func (g *gatedIngester) Ingest(ctx context.Context, _ []byte, _ intake.Source) (*intake.Outcome, error) {
	if g.gate != nil {
		if g.entered != nil {
			g.entered <- struct{}{}
		}
		select {
		case <-g.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.fail != nil {
		return nil, g.fail
	}
	g.n++
	return g.out, nil
}

func (g *gatedIngester) count() int { g.mu.Lock(); defer g.mu.Unlock(); return g.n }

// reportsServer serves the reports API and the report status on records (nil: the memory keys).
func reportsServer(t *testing.T, in Ingester, records Records) *httptest.Server {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	mux := http.NewServeMux()
	mux.Handle("/api/v1/reports", ReportsAPI(in, "tok", 1<<20, APIOptions{Records: records}, log))
	if records == nil {
		records = newMemoryKeys()
	}
	tell := func(c abuse.Category) bool { return c == abuse.Spam }
	mux.Handle("GET /api/v1/reports/{id}", ReportStatusAPI(records, "tok", tell, log))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func call(t *testing.T, method, url, key, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer tok")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func openLedger(t *testing.T) *ledger.Store {
	t.Helper()
	s, err := ledger.Open(context.Background(), filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestIdempotencyKey: a request sent again with its Idempotency-Key gets the first answer and
// takes nothing twice, in the ledger and in memory; another body with the key is 422; a
// request that took nothing (503) frees its key; a second request while the first is under
// way is 409; a malformed key is 400.
func TestIdempotencyKey(t *testing.T) {
	out := &intake.Outcome{Kind: reports.KindReport, Digest: "d1", Accepted: []intake.Accepted{{ReportID: "r1", CaseID: "case/acct-a/spam", AccountID: "acct-a", Category: abuse.Spam}}}
	for name, records := range map[string]func(t *testing.T) Records{
		"ledger": func(t *testing.T) Records { return openLedger(t) },
		"memory": func(*testing.T) Records { return nil },
	} {
		t.Run(name, func(t *testing.T) {
			in := &gatedIngester{out: out}
			srv := reportsServer(t, in, records(t))
			url := srv.URL + "/api/v1/reports"
			resp, first := call(t, http.MethodPost, url, `"k-1"`, "a report")
			if resp.StatusCode != http.StatusOK || in.count() != 1 {
				t.Fatalf("first: HTTP %d, %d taken; want 200, 1", resp.StatusCode, in.count())
			}
			resp, again := call(t, http.MethodPost, url, `"k-1"`, "a report")
			if resp.StatusCode != http.StatusOK || again != first || resp.Header.Get("Idempotent-Replayed") != "true" || in.count() != 1 {
				t.Fatalf("again: HTTP %d %q (replayed %q), %d taken; want the first answer, nothing taken", resp.StatusCode, again, resp.Header.Get("Idempotent-Replayed"), in.count())
			}
			if resp, body := call(t, http.MethodPost, url, `"k-1"`, "another report"); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "another report") || in.count() != 1 {
				t.Fatalf("another body with the key: HTTP %d %s, %d taken; want 422", resp.StatusCode, body, in.count())
			}
			// Nothing taken on a 503: the same key goes through when sent again.
			in.fail = errors.New("enforcement API unavailable")
			if resp, _ := call(t, http.MethodPost, url, "k-2", "a third report"); resp.StatusCode != http.StatusServiceUnavailable {
				t.Fatalf("failing intake: HTTP %d, want 503", resp.StatusCode)
			}
			in.fail = nil
			if resp, _ := call(t, http.MethodPost, url, "k-2", "a third report"); resp.StatusCode != http.StatusOK || in.count() != 2 {
				t.Fatalf("after the 503, the same key: HTTP %d, %d taken; want 200, 2", resp.StatusCode, in.count())
			}
			// Without a key every request is taken.
			call(t, http.MethodPost, url, "", "a report")
			if in.count() != 3 {
				t.Fatalf("without a key: %d taken, want 3", in.count())
			}
			for _, bad := range []string{`""`, strings.Repeat("x", 256), "k\u00e9"} {
				if resp, _ := call(t, http.MethodPost, url, bad, "a report"); resp.StatusCode != http.StatusBadRequest {
					t.Errorf("key %q: HTTP %d, want 400", bad, resp.StatusCode)
				}
			}
			// While the first request with a key is under way, the second is told to wait.
			gate := make(chan struct{})
			in.gate = gate
			var once sync.Once
			release := func() { once.Do(func() { close(gate) }) }
			defer release() // a failure below must not leave the first request waiting
			done := make(chan int, 1)
			in.entered = make(chan struct{}, 1)
			go func() { resp, _ := call(t, http.MethodPost, url, "k-3", "slow"); done <- resp.StatusCode }()
			select {
			case <-in.entered:
			case <-time.After(10 * time.Second):
				t.Fatal("the first request never reached intake")
			}
			if resp, _ := call(t, http.MethodPost, url, "k-3", "slow"); resp.StatusCode != http.StatusConflict || resp.Header.Get("Retry-After") == "" {
				t.Fatalf("the second request under the same key: HTTP %d, want 409 with Retry-After", resp.StatusCode)
			}
			release()
			if code := <-done; code != http.StatusOK {
				t.Fatalf("the first request: HTTP %d", code)
			}
		})
	}
}

// TestReportStatusAPI: GET /api/v1/reports/{id} says where a report went and, when the policy
// tells reporters, the outcome; nothing of a legal report; 404 for a report never submitted.
func TestReportStatusAPI(t *testing.T) {
	store := openLedger(t)
	out := &intake.Outcome{Kind: reports.KindReport, Digest: "d1", Accepted: []intake.Accepted{
		{ReportID: "r-spam", CaseID: "case/acct-a/spam", AccountID: "acct-a", Category: abuse.Spam},
		{ReportID: "r-scan", CaseID: "case/acct-a/port-scan", AccountID: "acct-a", Category: abuse.PortScan},
		{ReportID: "r-police", CaseID: "case/acct-a/legal-request", AccountID: "acct-a", Category: abuse.LegalRequest},
	}, Triaged: []intake.Triaged{{Ticket: ticket.Ref{System: ticket.Zendesk, ID: "7"}, Reason: "no customer's address"}}}
	srv := reportsServer(t, &gatedIngester{out: out}, store)
	if resp, _ := call(t, http.MethodPost, srv.URL+"/api/v1/reports", "", "reports"); resp.StatusCode != http.StatusOK {
		t.Fatalf("POST: HTTP %d", resp.StatusCode)
	}
	status := func(id string) (int, ReportStatus, string) {
		t.Helper()
		resp, body := call(t, http.MethodGet, srv.URL+"/api/v1/reports/"+id, "", "")
		var st ReportStatus
		if resp.StatusCode == http.StatusOK {
			if err := json.Unmarshal([]byte(body), &st); err != nil {
				t.Fatal(err)
			}
		}
		return resp.StatusCode, st, body
	}
	if code, st, _ := status("r-spam"); code != 200 || st.Status != StatusReceived || len(st.Cases) != 0 {
		t.Fatalf("before its case opens: %d %+v; want received", code, st)
	}
	// The cases open; the spam case and the scan case close enforced.
	at := time.Now().UTC()
	for _, c := range []struct {
		number string
		cat    abuse.Category
	}{{"TS-SPAM000001", abuse.Spam}, {"TS-SCAN000001", abuse.PortScan}, {"TS-LEGAL00001", abuse.LegalRequest}} {
		lc := workflows.LedgerCase{Number: c.number, ID: "case/acct-a/" + string(c.cat), Account: "acct-a", Category: c.cat, Track: c.cat.Track(), OpenedAt: at}
		events := []workflows.LedgerEvent{{Key: "1", At: at, Kind: workflows.LedgerOpened}}
		if c.cat != abuse.LegalRequest {
			events = append(events, workflows.LedgerEvent{Key: "2", At: at.Add(time.Hour), Kind: workflows.LedgerEnforced, Decision: "throttle"},
				workflows.LedgerEvent{Key: "3", At: at.Add(2 * time.Hour), Kind: workflows.LedgerClosed, Outcome: workflows.OutcomeEnforced})
		}
		if err := store.Record(context.Background(), workflows.RecordEventsInput{Case: lc, Events: events}); err != nil {
			t.Fatal(err)
		}
	}
	code, st, _ := status("r-spam")
	if code != 200 || st.Status != StatusClosed || len(st.Cases) != 1 || st.Cases[0].CaseNumber != "TS-SPAM000001" || st.Cases[0].Outcome != "enforced" || st.Cases[0].Action != "throttle" {
		t.Errorf("spam (the policy tells reporters): %d %+v; want closed, enforced, throttle", code, st)
	}
	code, st, _ = status("r-scan")
	if code != 200 || st.Status != StatusClosed || len(st.Cases) != 1 || st.Cases[0].Outcome != "" || st.Cases[0].Action != "" {
		t.Errorf("port scan (the policy does not tell): %d %+v; want closed without the outcome", code, st)
	}
	code, st, body := status("r-police")
	if code != 200 || st.Status != StatusReceived || len(st.Cases) != 0 || strings.Contains(body, "TS-LEGAL") || strings.Contains(body, "legal") {
		t.Errorf("legal: %d %s; want received and nothing more", code, body)
	}
	if code, st, _ := status("d1"); code != 200 || st.Status != StatusWithAPerson {
		t.Errorf("the triaged message by its digest: %d %+v; want with_a_person", code, st)
	}
	if code, _, _ := status("r-nothing"); code != http.StatusNotFound {
		t.Errorf("a report never submitted: HTTP %d, want 404", code)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/reports/r-spam", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without the token: %v %v, want 401", resp.StatusCode, err)
	}
	// Without a ledger the status cannot be told, and says so.
	mem := reportsServer(t, &gatedIngester{out: out}, nil)
	if resp, body := call(t, http.MethodGet, mem.URL+"/api/v1/reports/r-spam", "", ""); resp.StatusCode != http.StatusNotImplemented || !strings.Contains(body, "ledger") {
		t.Errorf("without a ledger: HTTP %d %s, want 501 naming the ledger", resp.StatusCode, body)
	}
}

// BenchmarkIdempotencyKey: what an Idempotency-Key costs a report (its claim and its answer
// kept in a SQLite ledger) against the same request without one, intake stubbed out.
func BenchmarkIdempotencyKey(b *testing.B) {
	out := &intake.Outcome{Kind: reports.KindReport, Digest: "d", Accepted: []intake.Accepted{{ReportID: "r", CaseID: "case/acct-a/spam", Category: abuse.Spam}}}
	for _, withKey := range []bool{false, true} {
		name := "no key"
		if withKey {
			name = "key in the ledger"
		}
		b.Run(name, func(b *testing.B) {
			s, err := ledger.Open(context.Background(), filepath.Join(b.TempDir(), "ledger.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			h := ReportsAPI(&gatedIngester{out: out}, "tok", 1<<20, APIOptions{Records: s}, slog.New(slog.NewTextHandler(io.Discard, nil)))
			body := strings.Repeat("a report line\n", 40)
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				req := httptest.NewRequest(http.MethodPost, "/api/v1/reports", strings.NewReader(body+strconv.Itoa(i)))
				req.Header.Set("Authorization", "Bearer tok")
				if withKey {
					req.Header.Set("Idempotency-Key", "k-"+strconv.Itoa(i))
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("HTTP %d %s", w.Code, w.Body)
				}
			}
		})
	}
}
