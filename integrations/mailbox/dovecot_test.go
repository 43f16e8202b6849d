package mailbox_test

import (
	"context"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"abusedesk/devenv/imapsandbox"
	"abusedesk/integrations/mailbox"
	"abusedesk/testenv/dovecot"
)

// TestWatcherOnDovecot runs the watcher against a real Dovecot with each hierarchy delimiter it
// ships: "." (its default Maildir++ layout, which refuses "abusedesk/processed") and "/"
// (LAYOUT=fs). Mail handled goes to the processed folder, named the server's way; one intake
// will never take goes to the failed one; the watcher says it works the mailbox.
func TestWatcherOnDovecot(t *testing.T) {
	for _, delim := range []string{".", "/"} {
		t.Run("delimiter "+delim, func(t *testing.T) {
			srv := dovecot.Start(t, delim)
			c, err := imapclient.DialInsecure(srv.Addr, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.Login(srv.Username, srv.Password).Wait(); err != nil {
				t.Fatalf("log in to %s: %v", srv, err)
			}
			for i := 1; i <= 3; i++ {
				raw := mail(i)
				cmd := c.Append("INBOX", int64(len(raw)), nil)
				if _, err := cmd.Write(raw); err != nil {
					t.Fatal(err)
				}
				if err := cmd.Close(); err != nil {
					t.Fatal(err)
				}
				if _, err := cmd.Wait(); err != nil {
					t.Fatalf("append to %s: %v", srv, err)
				}
			}
			rec := newRecorder()
			rec.permanent["report 3"] = true
			w, err := mailbox.New(mailbox.Config{Addr: srv.Addr, Security: mailbox.SecurityNone, Username: srv.Username, Password: srv.Password,
				Poll: 200 * time.Millisecond}, rec.handle, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- w.Run(ctx) }()
			defer func() { cancel(); <-done }()
			waitFor(t, "every message handled and moved", func() bool { s := w.Stats(); return s.Processed == 2 && s.Failed == 1 })
			if err := w.Ready(); err != nil {
				t.Errorf("the watcher says it cannot work the mailbox: %v", err)
			}
			count := func(box string) uint32 {
				t.Helper()
				st, err := c.Status(box, &imap.StatusOptions{NumMessages: true}).Wait()
				if err != nil {
					t.Fatalf("status of %s on %s: %v", box, srv, err)
				}
				return *st.NumMessages
			}
			processed, failed := mailbox.FolderName("abusedesk/processed", rune(delim[0])), mailbox.FolderName("abusedesk/failed", rune(delim[0]))
			if n := count(processed); n != 2 {
				t.Errorf("%s holds %d messages, want 2", processed, n)
			}
			if n := count(failed); n != 1 {
				t.Errorf("%s holds %d messages, want 1", failed, n)
			}
			if n := count("INBOX"); n != 0 {
				t.Errorf("INBOX holds %d messages, want none", n)
			}
		})
	}
}

// TestSandboxAnswersAsDovecot: the sandbox mailbox `desk dev` runs answers as Dovecot does where
// the watcher could tell them apart: a message of no bytes is refused. (A message with no header
// at all is still served empty by the sandbox's memory backend, whole by Dovecot.)
func TestSandboxAnswersAsDovecot(t *testing.T) {
	real := dovecot.Start(t, ".")
	sb, err := imapsandbox.Start("abuse", "secret")
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	for _, srv := range []struct{ name, addr, user, pass string }{
		{"dovecot", real.Addr, real.Username, real.Password},
		{"sandbox", sb.Addr, sb.Username, sb.Password},
	} {
		c, err := imapclient.DialInsecure(srv.addr, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Login(srv.user, srv.pass).Wait(); err != nil {
			t.Fatalf("%s: log in: %v", srv.name, err)
		}
		appendRaw := func(raw []byte) error {
			cmd := c.Append("INBOX", int64(len(raw)), nil)
			if _, err := cmd.Write(raw); err != nil {
				return err
			}
			if err := cmd.Close(); err != nil {
				return err
			}
			_, err := cmd.Wait()
			return err
		}
		if err := appendRaw(nil); err == nil {
			t.Errorf("%s took a message of no bytes", srv.name)
		}
		_ = c.Close()
	}
}
