package mailbox_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"abusedesk/devenv/imapsandbox"
	"abusedesk/integrations/mailbox"
)

func mail(i int) []byte {
	return fmt.Appendf(nil, "From: fbl@isp.example\r\nTo: abuse@provider.example\r\nSubject: report %d\r\nMessage-ID: <m-%d@isp.example>\r\n\r\nspam from 192.0.2.%d\r\n", i, i, i)
}

func subjectOf(raw []byte) string {
	for _, l := range strings.Split(string(raw), "\r\n") {
		if s, ok := strings.CutPrefix(l, "Subject: "); ok {
			return s
		}
	}
	return ""
}

// recorder is a handler that counts what it saw; it can fail some messages.
type recorder struct {
	mu        sync.Mutex
	seen      map[string]int
	transient map[string]int // subject → failures left
	permanent map[string]bool
	block     chan struct{} // when set, handling waits on it
}

func newRecorder() *recorder {
	return &recorder{seen: map[string]int{}, transient: map[string]int{}, permanent: map[string]bool{}}
}

func (r *recorder) handle(ctx context.Context, raw []byte, _ time.Time) (mailbox.Disposition, error) {
	s := subjectOf(raw)
	if r.block != nil {
		select {
		case <-r.block:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen[s]++
	if r.transient[s] > 0 {
		r.transient[s]--
		return 0, errors.New("temporal unavailable")
	}
	if r.permanent[s] {
		return mailbox.Failed, nil
	}
	return mailbox.Processed, nil
}

func (r *recorder) count(s string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[s]
}

func start(t *testing.T, srv *imapsandbox.Server, h mailbox.Handler) (*mailbox.Watcher, context.CancelFunc, <-chan error) {
	t.Helper()
	w, err := mailbox.New(mailbox.Config{Addr: srv.Addr, Security: mailbox.SecurityNone, Username: srv.Username, Password: srv.Password,
		Poll: 200 * time.Millisecond, Batch: 4, Concurrency: 3}, h, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	return w, cancel, done
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestWatcherMovesOnlyHandledMail(t *testing.T) {
	srv, err := imapsandbox.Start("abuse", "secret")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for i := range 10 {
		if err := srv.Append("INBOX", mail(i)); err != nil {
			t.Fatal(err)
		}
	}
	rec := newRecorder()
	rec.transient["report 3"] = 2
	rec.permanent["report 7"] = true
	w, cancel, done := start(t, srv, rec.handle)
	defer func() { cancel(); <-done }()

	waitFor(t, "9 processed and 1 failed", func() bool {
		return srv.Count("abusedesk/processed") == 9 && srv.Count("abusedesk/failed") == 1 && srv.Count("INBOX") == 0
	})
	if n := rec.count("report 3"); n != 3 {
		t.Errorf("the temporarily failing message was handled %d times, want 3 (two failures, then success)", n)
	}
	// New mail arrives while the watcher idles.
	if err := srv.Append("INBOX", mail(10), mail(11)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new mail processed", func() bool { return srv.Count("abusedesk/processed") == 11 })
	st := w.Stats()
	if st.Processed != 11 || st.Failed != 1 || st.Retried < 2 {
		t.Errorf("stats %+v", st)
	}
}

// TestWatcherKilledMidBatch: the watcher stops while messages are being handled; the next one
// handles everything not moved, so every message is handled at least once and moved once.
func TestWatcherKilledMidBatch(t *testing.T) {
	srv, err := imapsandbox.Start("abuse", "secret")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	const n = 20
	for i := range n {
		if err := srv.Append("INBOX", mail(i)); err != nil {
			t.Fatal(err)
		}
	}
	rec := newRecorder()
	rec.block = make(chan struct{})
	// Let the first 6 through, then kill the watcher while others wait.
	_, cancel, done := start(t, srv, rec.handle)
	for range 6 {
		rec.block <- struct{}{}
	}
	waitFor(t, "a first chunk moved", func() bool { return srv.Count("abusedesk/processed") > 0 })
	cancel()
	<-done
	moved := srv.Count("abusedesk/processed")
	if moved == 0 || moved == n {
		t.Fatalf("%d moved before the kill; want the kill mid-way", moved)
	}
	rec.block = nil
	_, cancel2, done2 := start(t, srv, rec.handle)
	defer func() { cancel2(); <-done2 }()
	waitFor(t, "everything processed after the restart", func() bool { return srv.Count("abusedesk/processed") == n })
	for i := range n {
		if c := rec.count(fmt.Sprintf("report %d", i)); c < 1 {
			t.Errorf("report %d never handled", i)
		}
	}
	msgs, err := srv.Messages("abusedesk/processed")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, m := range msgs {
		s := subjectOf(m)
		if seen[s] {
			t.Errorf("%s moved twice", s)
		}
		seen[s] = true
	}
}

func TestWatcherReconnects(t *testing.T) {
	srv, err := imapsandbox.Start("abuse", "secret")
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	addr := srv.Addr
	w, cancel, done := start(t, srv, rec.handle)
	defer func() { cancel(); <-done }()
	waitFor(t, "connected", func() bool { return w.Stats().Connects == 1 })
	srv.Close()
	waitFor(t, "the failure noticed", func() bool { return w.Stats().LastError != "" })
	// The server comes back on the same address.
	srv2, err := imapsandbox.StartOn(addr, "abuse", "secret")
	if err != nil {
		t.Skipf("could not reuse %s: %v", addr, err)
	}
	defer srv2.Close()
	if err := srv2.Append("INBOX", mail(1)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "reconnected and processed", func() bool { return srv2.Count("abusedesk/processed") == 1 })
	if w.Stats().Connects < 2 {
		t.Errorf("stats %+v", w.Stats())
	}
}

func TestWrongPasswordIsReported(t *testing.T) {
	srv, err := imapsandbox.Start("abuse", "secret")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	w, err := mailbox.New(mailbox.Config{Addr: srv.Addr, Security: mailbox.SecurityNone, Username: "abuse", Password: "wrong",
		NotReadyAfter: 200 * time.Millisecond}, newRecorder().handle, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	waitFor(t, "the login failure", func() bool { return strings.Contains(w.Stats().LastError, "log in as abuse") })
	// It says so where people look (/readyz, the work queue), once it is no mere reconnect.
	waitFor(t, "the watcher to say it cannot work the mailbox", func() bool {
		err := w.Ready()
		return err != nil && strings.Contains(err.Error(), "cannot work the mailbox") && strings.Contains(err.Error(), "log in as abuse")
	})
	cancel()
	<-done
}
