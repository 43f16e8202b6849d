//go:build linux

package ledger_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"abusedesk/app/ledger"
	"abusedesk/devenv/bench"
	"abusedesk/workflows"
)

// TestRecordOnAFullDisk: appends to a SQLite ledger on a file system that fills up fail and are
// retried, as the RecordEvents activity retries them; once space is freed every event is kept
// exactly once and the case rows sum the reports as sent. (Mounting the small tmpfs needs root:
// skipped otherwise.)
func TestRecordOnAFullDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a file system")
	}
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=16m,mode=0755"); err != nil {
		t.Skipf("a tmpfs could not be mounted (%v); it needs root", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(mnt, syscall.MNT_DETACH) })
	ctx := context.Background()
	s, err := ledger.Open(ctx, filepath.Join(mnt, "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	filler := filepath.Join(mnt, "filler")

	const cases, batches = 40, 30
	type batch struct {
		in    workflows.RecordEventsInput
		count int
	}
	var mu sync.Mutex
	var failed []batch
	sent := map[string]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for c := range cases {
		wg.Go(func() {
			<-start
			lc := workflows.LedgerCase{Number: fmt.Sprintf("TS-FULL%03d", c), ID: fmt.Sprintf("case/acct-%d/spam", c), Account: fmt.Sprintf("acct-%d", c), Category: "spam", Track: "abuse", OpenedAt: t0}
			for b := range batches {
				e := workflows.LedgerEvent{Key: fmt.Sprint(b + 1), At: t0.Add(time.Duration(b) * time.Second), Kind: workflows.LedgerReports, Count: b%5 + 1,
					Reporters: []string{fmt.Sprintf("fbl%d@isp.example", b)}, PerReporter: []int{b%5 + 1}, Text: string(make([]byte, 512))}
				in := workflows.RecordEventsInput{Case: lc, Events: []workflows.LedgerEvent{e}}
				err := s.Record(ctx, in)
				mu.Lock()
				sent[lc.Account] += e.Count
				if err != nil {
					failed = append(failed, batch{in, e.Count})
				}
				mu.Unlock()
			}
		})
	}
	// Fill the disk while the appends run.
	close(start)
	if _, err := bench.FillDisk(filler); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if len(failed) == 0 {
		t.Fatal("no append failed: the disk never filled while appending, the test proves nothing")
	}
	// Appends keep failing while the disk is full, without taking the ledger down.
	if err := s.Record(ctx, failed[0].in); err == nil {
		t.Log("an append succeeded on the full disk (SQLite had a free page)")
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	// Retry every failed append, as the activity does, until each is taken.
	for _, b := range failed {
		deadline := time.Now().Add(30 * time.Second)
		for {
			err := s.Record(ctx, b.in)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after the disk was freed, %s still fails: %v", b.in.Case.Number, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	got := map[string]int{}
	rows, err := s.DB().Query(`SELECT account_id, reports FROM cases`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var a string
		var n int
		if err := rows.Scan(&a, &n); err != nil {
			t.Fatal(err)
		}
		got[a] = n
	}
	var events int
	if err := s.DB().QueryRow(`SELECT COUNT(*) FROM case_events`).Scan(&events); err != nil {
		t.Fatal(err)
	}
	if events != cases*batches {
		t.Errorf("the ledger keeps %d events, want %d", events, cases*batches)
	}
	for a, n := range sent {
		if got[a] != n {
			t.Errorf("%s: the ledger sums %d reports, %d were sent", a, got[a], n)
		}
	}
	t.Logf("%d of %d appends failed on the full disk and were retried", len(failed), cases*batches)
}
