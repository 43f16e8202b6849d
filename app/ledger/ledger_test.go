package ledger_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"abusedesk/app/ledger"
	"abusedesk/domain/abuse"
	"abusedesk/domain/fault"
	"abusedesk/testenv/pgtest"
	"abusedesk/workflows"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// eachDatabase runs fn against a new ledger on SQLite and on PostgreSQL.
func eachDatabase(t *testing.T, fn func(t *testing.T, s *ledger.Store)) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			url := filepath.Join(t.TempDir(), "ledger.db")
			if db == "postgres" {
				url = pgtest.URL(t)
			}
			s, err := ledger.Open(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			fn(t, s)
		})
	}
}

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func caseOf(n int) workflows.LedgerCase {
	return workflows.LedgerCase{
		Number: fmt.Sprintf("TS-%04d", n), ID: fmt.Sprintf("case/acct-%d/spam", n), Account: fmt.Sprintf("acct-%d", n),
		Category: abuse.Spam, Track: abuse.TrackAbuse, OpenedAt: t0,
	}
}

func ev(key string, at time.Duration, kind string) workflows.LedgerEvent {
	return workflows.LedgerEvent{Key: key, At: t0.Add(at), Kind: kind}
}

type row struct {
	reports, notices, replies, breaches, appeals int
	firstNotice, closed                          *int64
	decidedBy, outcome, tier, reporter, approved string
}

func caseRow(t *testing.T, s *ledger.Store, number string) row {
	t.Helper()
	var r row
	err := s.DB().QueryRow(s.Q(`SELECT reports, notices, replies, sla_breaches, appeals, first_notice_ms, closed_ms, decided_by, outcome, tier, reporter, approved_by
		FROM cases WHERE case_number = ?`), number).Scan(&r.reports, &r.notices, &r.replies, &r.breaches, &r.appeals, &r.firstNotice, &r.closed, &r.decidedBy, &r.outcome, &r.tier, &r.reporter, &r.approved)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRecordKeepsEachEventOnce: batches sent again, overlapping and out of order leave every
// event once and the case row as if each had come once, in order.
func TestRecordKeepsEachEventOnce(t *testing.T) {
	eachDatabase(t, func(t *testing.T, s *ledger.Store) {
		ctx := context.Background()
		c := caseOf(1)
		reports := ev("2", time.Minute, workflows.LedgerReports)
		reports.Count, reports.Reporters = 5, []string{"fbl@isp.example", "spamcop@example.net"}
		notice := ev("3", 2*time.Minute, workflows.LedgerNoticed)
		reply := ev("4", time.Hour, workflows.LedgerReplied)
		approved := ev("5", 2*time.Hour, workflows.LedgerApprovalDecided)
		approved.Decision, approved.Actor = "approve", "lead1@desk.example"
		decided := ev("6", 3*time.Hour, workflows.LedgerAgentDecision)
		decided.Decision, decided.Actor = "accept_remediation", "agent@desk.example"
		breach := ev("7", 3*time.Hour, workflows.LedgerSLABreached)
		closed := ev("8", 3*time.Hour, workflows.LedgerClosed)
		closed.Outcome = workflows.OutcomeRemediated

		batches := [][]workflows.LedgerEvent{
			{ev("1", 0, workflows.LedgerOpened), reports},
			{decided, breach, closed}, // a later flight lands first
			{notice, reply, approved},
			{ev("1", 0, workflows.LedgerOpened), reports, notice}, // a retry
			{decided, breach, closed},
		}
		c.Tier = ""
		for i, b := range batches {
			cc := c
			if i == 2 {
				cc.Tier, cc.Rules = "business", "standard"
			}
			if err := s.Record(ctx, workflows.RecordEventsInput{Case: cc, Events: b}); err != nil {
				t.Fatal(err)
			}
		}
		events, err := s.Events(ctx, c.Number)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 8 {
			t.Fatalf("%d events kept, want 8: %+v", len(events), events)
		}
		if events[0].Kind != workflows.LedgerOpened || events[7].Kind != workflows.LedgerClosed || !events[7].At.Equal(t0.Add(3*time.Hour)) {
			t.Errorf("events not in the order they happened: first %s, last %s at %s", events[0].Kind, events[7].Kind, events[7].At)
		}
		r := caseRow(t, s, c.Number)
		if r.reports != 5 || r.notices != 1 || r.replies != 1 || r.breaches != 1 {
			t.Errorf("counts reports=%d notices=%d replies=%d breaches=%d, want 5 1 1 1", r.reports, r.notices, r.replies, r.breaches)
		}
		if r.firstNotice == nil || *r.firstNotice != t0.Add(2*time.Minute).UnixMilli() {
			t.Errorf("first notice %v", r.firstNotice)
		}
		if r.decidedBy != "agent@desk.example" || r.approved != "lead1@desk.example" {
			t.Errorf("decided by %q (want the later decision's agent), approved by %q", r.decidedBy, r.approved)
		}
		if r.outcome != string(workflows.OutcomeRemediated) || r.closed == nil {
			t.Errorf("outcome %q closed %v", r.outcome, r.closed)
		}
		if r.tier != "business" || r.reporter != "fbl@isp.example" {
			t.Errorf("tier %q reporter %q: a later batch without the tier must not clear it", r.tier, r.reporter)
		}
		ok, err := s.Recorded(ctx, c.Number)
		if err != nil || !ok {
			t.Errorf("Recorded = %v, %v; want true", ok, err)
		}
	})
}

// TestConcurrentAppendsOfTheSameEvents: workers retrying the same batch at once keep it once.
func TestConcurrentAppendsOfTheSameEvents(t *testing.T) {
	eachDatabase(t, func(t *testing.T, s *ledger.Store) {
		ctx := context.Background()
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := range 8 {
					c := caseOf(n)
					r := ev("2", time.Minute, workflows.LedgerReports)
					r.Count = 3
					batch := []workflows.LedgerEvent{ev("1", 0, workflows.LedgerOpened), r, ev(fmt.Sprint(3+w%2), time.Hour, workflows.LedgerNoticed)}
					if err := s.Record(ctx, workflows.RecordEventsInput{Case: c, Events: batch}); err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		events, cases, err := s.Counts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if events != 8*4 || cases != 8 {
			t.Errorf("%d events in %d cases, want 32 in 8", events, cases)
		}
		for n := range 8 {
			if r := caseRow(t, s, caseOf(n).Number); r.reports != 3 || r.notices != 2 {
				t.Errorf("case %d: reports %d notices %d, want 3 and 2", n, r.reports, r.notices)
			}
		}
	})
}

// TestInvalidEventsAreRefusedForGood: an event without a key or time is a fault.Invalid (the
// activity does not retry it) and keeps nothing of its batch.
func TestInvalidEventsAreRefusedForGood(t *testing.T) {
	eachDatabase(t, func(t *testing.T, s *ledger.Store) {
		ctx := context.Background()
		err := s.Record(ctx, workflows.RecordEventsInput{Case: caseOf(1), Events: []workflows.LedgerEvent{ev("1", 0, workflows.LedgerOpened), {Kind: workflows.LedgerNoticed}}})
		if !fault.Is(err, fault.Invalid) {
			t.Fatalf("err %v, want a fault.Invalid", err)
		}
		if events, cases, _ := s.Counts(ctx); events != 0 || cases != 0 {
			t.Errorf("a refused batch kept %d events, %d cases", events, cases)
		}
	})
}

// TestSQLiteFileIsPrivateAndReopens: the SQLite ledger is the desk's alone, and opening it
// again (a restart) keeps what it had and migrates nothing twice.
func TestSQLiteFileIsPrivateAndReopens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "ledger.db")
	ctx := context.Background()
	s, err := ledger.Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Record(ctx, workflows.RecordEventsInput{Case: caseOf(1), Events: []workflows.LedgerEvent{ev("1", 0, workflows.LedgerOpened)}}); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("ledger file mode %v, want 0600", fi.Mode().Perm())
	}
	s, err = ledger.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	if events, cases, _ := s.Counts(ctx); events != 1 || cases != 1 {
		t.Errorf("after reopening %d events, %d cases; want 1, 1", events, cases)
	}
}

func TestOpenNamesWhatIsWrong(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := ledger.Open(ctx, "postgres://desk:secret@127.0.0.1:1/nowhere?sslmode=disable")
	if err == nil {
		t.Fatal("opened a ledger on a closed port")
	}
	if msg := err.Error(); !strings.Contains(msg, "127.0.0.1:1/nowhere") || strings.Contains(msg, "secret") {
		t.Errorf("error %q should name the database and not its password", msg)
	}
	if _, err := ledger.Open(ctx, ""); err == nil {
		t.Error("opened a ledger without a path")
	}
}

// TestReportsEventGrows: a reports event sent again under its key with more reports (a lost
// workflow task's next attempt folded later batches into it) adds the difference once; the same
// or fewer reports change nothing.
func TestReportsEventGrows(t *testing.T) {
	eachDatabase(t, func(t *testing.T, s *ledger.Store) {
		ctx := context.Background()
		c := caseOf(7)
		send := func(count int, reporters []string, per []int, indicators ...string) {
			t.Helper()
			e := ev("5", time.Duration(count)*time.Minute, workflows.LedgerReports)
			e.Count, e.Reporters, e.PerReporter, e.Indicators = count, reporters, per, abuse.ParseSubjects(indicators...)
			if err := s.Record(ctx, workflows.RecordEventsInput{Case: c, Events: []workflows.LedgerEvent{ev("1", 0, workflows.LedgerOpened), e}}); err != nil {
				t.Fatal(err)
			}
		}
		send(10, []string{"a@isp.example"}, []int{10}, "ip:192.0.2.1")
		send(15, []string{"a@isp.example", "b@isp.example"}, []int{10, 5}, "ip:192.0.2.1", "ip:192.0.2.9")
		send(15, []string{"a@isp.example", "b@isp.example"}, []int{10, 5})
		send(12, []string{"a@isp.example"}, []int{12})
		if r := caseRow(t, s, c.Number); r.reports != 15 {
			t.Errorf("the case sums %d reports, want 15", r.reports)
		}
		evs, err := s.Events(ctx, c.Number)
		if err != nil || len(evs) != 2 || evs[1].Count != 15 {
			t.Fatalf("events %+v, %v; want the reports event with 15", evs, err)
		}
		var n int
		if err := s.DB().QueryRow(s.Q(`SELECT COUNT(*) FROM indicators WHERE case_number = ?`), c.Number).Scan(&n); err != nil || n != 2 {
			t.Errorf("%d indicators (%v), want both addresses", n, err)
		}
	})
}

// TestWorkerWaits: each worker's latest report replaces its last; the longest fresh one is the
// wait, and a report older than the cut-off counts nothing.
func TestWorkerWaits(t *testing.T) {
	eachDatabase(t, func(t *testing.T, s *ledger.Store) {
		ctx := context.Background()
		if w, err := s.WorkerWait(ctx, t0); err != nil || w != 0 {
			t.Fatalf("no worker reported: %v, %v", w, err)
		}
		for _, r := range []struct {
			worker string
			wait   time.Duration
			at     time.Duration
		}{{"w1", 1500 * time.Millisecond, 0}, {"w2", 300 * time.Millisecond, time.Second}, {"w1", 200 * time.Millisecond, 2 * time.Second}, {"w3", 9 * time.Second, -time.Minute}} {
			if err := s.ReportWorkerWait(ctx, r.worker, r.wait, t0.Add(r.at)); err != nil {
				t.Fatal(err)
			}
		}
		if w, err := s.WorkerWait(ctx, t0); err != nil || w != 300*time.Millisecond {
			t.Errorf("fresh waits 200 ms (w1's latest) and 300 ms (w2), stale 9 s: got %v, %v; want 300ms", w, err)
		}
		if w, err := s.WorkerWait(ctx, t0.Add(90*time.Second)); err != nil || w != 0 {
			t.Errorf("nothing reported lately: %v, %v", w, err)
		}
	})
}
