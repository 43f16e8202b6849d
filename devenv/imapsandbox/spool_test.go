package imapsandbox

import (
	"fmt"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// TestSpooledInboxSurvivesARestart: acknowledged messages are back in INBOX after the server
// stops (a kill leaves the same spool), and a message moved out of INBOX does not come back.
func TestSpooledInboxSurvivesARestart(t *testing.T) {
	dir := t.TempDir()
	s, err := StartSpooled(dir, "127.0.0.1:0", "abuse@provider.example", "pw", "processed")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := s.Append("INBOX", fmt.Appendf(nil, "Subject: m%d\r\n\r\nbody %d\r\n", i, i)); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()

	s2, err := StartSpooled(dir, "127.0.0.1:0", "abuse@provider.example", "pw", "processed")
	if err != nil {
		t.Fatal(err)
	}
	if n := s2.Count("INBOX"); n != 3 {
		t.Fatalf("%d messages after the restart, want 3", n)
	}
	// The desk moves the first one to processed.
	c, err := imapclient.DialInsecure(s2.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login("abuse@provider.example", "pw").Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Move(imap.SeqSetNum(1), "processed").Wait(); err != nil {
		t.Fatal(err)
	}
	_ = c.Logout().Wait()
	time.Sleep(500 * time.Millisecond) // the spool follows the move
	s2.Close()

	s3, err := StartSpooled(dir, "127.0.0.1:0", "abuse@provider.example", "pw", "processed")
	if err != nil {
		t.Fatal(err)
	}
	defer s3.Close()
	if n := s3.Count("INBOX"); n != 2 {
		t.Errorf("%d messages after the move and a restart, want 2", n)
	}
}
