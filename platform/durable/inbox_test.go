package durable

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// recorder is an inbox handler that fails each payload a given number of times first.
type recorder struct {
	mu      sync.Mutex
	fails   map[string]int
	perm    map[string]bool
	done    []string
	gaveUp  []string
	attempt map[string]int
}

func (r *recorder) handle(_ context.Context, p []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := string(p)
	r.attempt[s]++
	if r.perm[s] {
		return Permanent(errors.New("no such ticket"))
	}
	if r.attempt[s] <= r.fails[s] {
		return errors.New("service unavailable")
	}
	r.done = append(r.done, s)
	return nil
}

func (r *recorder) giveUp(_ context.Context, p []byte, _ error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gaveUp = append(r.gaveUp, string(p))
}

func (r *recorder) snapshot() (done, gaveUp []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Sorted(slices.Values(r.done)), slices.Clone(r.gaveUp)
}

// failed counts the entries set aside.
func failed(t *testing.T, dir string) int {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "failed", "*.entry"))
	if err != nil {
		t.Fatal(err)
	}
	return len(names)
}

func open(t *testing.T, dir string, r *recorder, maxAge time.Duration) *Inbox {
	t.Helper()
	in, err := OpenInbox(InboxConfig{Dir: dir, Handle: r.handle, GiveUp: r.giveUp, MaxAge: maxAge, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestInboxDoesEachEntryOnce: entries put before a "crash" (an inbox that never ran) are done by
// the next one; one that fails for a while is tried again until it succeeds; one that fails for
// good is set aside in failed/ (kept) and given up on; a temporary file left mid-write is
// removed.
func TestInboxDoesEachEntryOnce(t *testing.T) {
	dir := t.TempDir()
	r := &recorder{fails: map[string]int{"flaky": 2}, perm: map[string]bool{"bad": true}, attempt: map[string]int{}}
	first := open(t, dir, r, time.Hour)
	for _, p := range []string{"a", "flaky", "bad", "b"} {
		if err := first.Put([]byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, ".00001-000001.entry.123"), []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The process "crashed" here: nothing ran. The next start does the work.
	second := open(t, dir, r, time.Hour)
	if _, err := os.Stat(filepath.Join(dir, ".00001-000001.entry.123")); !os.IsNotExist(err) {
		t.Errorf("a temporary file left mid-write is still there: %v", err)
	}
	if n := second.Pending(); n != 4 {
		t.Fatalf("%d entries pending after the restart, want 4", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { second.Run(ctx); close(stopped) }()
	waitUntil(t, "every entry is done or set aside", func() bool { return second.Pending() == 0 })
	cancel()
	<-stopped
	done, gaveUp := r.snapshot()
	if !slices.Equal(done, []string{"a", "b", "flaky"}) {
		t.Errorf("done %v, want a, b and flaky once each", done)
	}
	if r.attempt["flaky"] != 3 {
		t.Errorf("flaky tried %d times, want 3 (two failures, then done)", r.attempt["flaky"])
	}
	if !slices.Equal(gaveUp, []string{"bad"}) || failed(t, dir) != 1 || r.attempt["bad"] != 1 {
		t.Errorf("gave up on %v (%d set aside, bad tried %d times), want bad once, set aside", gaveUp, failed(t, dir), r.attempt["bad"])
	}
}

// TestInboxGivesUpAfterMaxAge: an entry failing for longer than MaxAge is set aside, not tried
// for ever.
func TestInboxGivesUpAfterMaxAge(t *testing.T) {
	r := &recorder{fails: map[string]int{"down": 1_000}, perm: map[string]bool{}, attempt: map[string]int{}}
	dir := t.TempDir()
	in := open(t, dir, r, 500*time.Millisecond)
	if err := in.Put([]byte("down")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go in.Run(ctx)
	waitUntil(t, "the entry is set aside", func() bool { return failed(t, dir) == 1 })
	if _, gaveUp := r.snapshot(); !slices.Equal(gaveUp, []string{"down"}) {
		t.Errorf("gave up on %v", gaveUp)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.attempt["down"] < 2 {
		t.Errorf("tried %d times before giving up, want again after the first failure", r.attempt["down"])
	}
}
