// Package imapsandbox runs an in-process IMAP server (go-imap v2's imapserver with its memory
// backend) on loopback: the sandbox's abuse mailbox, which accepts APPEND from any IMAP client,
// and the mailbox the watcher's tests read. It speaks IMAP4rev1 with IDLE, MOVE and UIDPLUS,
// plain-text login (loopback only).
package imapsandbox

import (
	"bytes"
	"fmt"
	"net"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// Server is a running IMAP server with one user.
type Server struct {
	Addr     string
	Username string
	Password string

	srv  *imapserver.Server
	user *imapmemserver.User
	ln   net.Listener
	done chan struct{}
}

// Start serves an IMAP server on 127.0.0.1 with one user and the given mailboxes (INBOX is
// always there).
func Start(username, password string, mailboxes ...string) (*Server, error) {
	return StartOn("127.0.0.1:0", username, password, mailboxes...)
}

// StartOn is Start on a given address.
func StartOn(addr, username, password string, mailboxes ...string) (*Server, error) {
	return StartSpooled("", addr, username, password, mailboxes...)
}

// StartSpooled is StartOn with INBOX kept in spoolDir ("": in memory only): a message the
// server acknowledged survives a kill and is back in INBOX at the next start, until it is moved
// out of INBOX.
func StartSpooled(spoolDir, addr, username, password string, mailboxes ...string) (*Server, error) {
	mem := imapmemserver.New()
	user := imapmemserver.NewUser(username, password)
	for _, mb := range append([]string{"INBOX"}, mailboxes...) {
		if err := user.Create(mb, nil); err != nil {
			return nil, fmt.Errorf("imap sandbox: create %s: %w", mb, err)
		}
	}
	mem.AddUser(user)
	var sp *spool
	if spoolDir != "" {
		var kept [][]byte
		var err error
		if sp, kept, err = openSpool(spoolDir); err != nil {
			return nil, err
		}
		for _, m := range kept {
			if _, err := user.Append("INBOX", literal{bytes.NewReader(m)}, &imap.AppendOptions{}); err != nil {
				return nil, fmt.Errorf("imap sandbox: restore a spooled message: %w", err)
			}
		}
	}
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &session{Session: mem.NewSession(), spool: sp}, nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIdle: {}, imap.CapMove: {}, imap.CapUIDPlus: {}, imap.CapNamespace: {}, imap.CapUnselect: {}},
		InsecureAuth: true,
		Logger:       discard{},
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("imap sandbox: %w", err)
	}
	s := &Server{Addr: ln.Addr().String(), Username: username, Password: password, srv: srv, user: user, ln: ln, done: make(chan struct{})}
	if sp != nil {
		sp.list = func() ([][]byte, error) { return s.Messages("INBOX") }
	}
	go func() {
		defer close(s.done)
		_ = srv.Serve(ln)
	}()
	return s, nil
}

// Close stops the server.
func (s *Server) Close() {
	_ = s.srv.Close()
	<-s.done
}

// Count returns how many messages a mailbox holds (0 when it does not exist).
func (s *Server) Count(mailbox string) int {
	st, err := s.user.Status(mailbox, &imap.StatusOptions{NumMessages: true})
	if err != nil || st.NumMessages == nil {
		return 0
	}
	return int(*st.NumMessages)
}

// Append delivers messages to a mailbox the way any mail client would: an IMAP APPEND per
// message over a fresh connection.
func Append(addr, username, password, mailbox string, msgs ...[]byte) error {
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }()
	if err := c.Login(username, password).Wait(); err != nil {
		return err
	}
	for _, m := range msgs {
		cmd := c.Append(mailbox, int64(len(m)), &imap.AppendOptions{Time: time.Now()})
		if _, err := cmd.Write(m); err != nil {
			return err
		}
		if err := cmd.Close(); err != nil {
			return err
		}
		if _, err := cmd.Wait(); err != nil {
			return err
		}
	}
	return c.Logout().Wait()
}

// Append delivers messages to this server's mailbox over IMAP.
func (s *Server) Append(mailbox string, msgs ...[]byte) error {
	return Append(s.Addr, s.Username, s.Password, mailbox, msgs...)
}

// Messages returns the raw messages of a mailbox, oldest first (over IMAP).
func (s *Server) Messages(mailbox string) ([][]byte, error) {
	c, err := imapclient.DialInsecure(s.Addr, nil)
	if err != nil {
		return nil, err
	}
	defer func() { _ = c.Close() }()
	if err := c.Login(s.Username, s.Password).Wait(); err != nil {
		return nil, err
	}
	sel, err := c.Select(mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil || sel.NumMessages == 0 {
		return nil, err
	}
	msgs, err := c.Fetch(imap.SeqSetNum(seq(sel.NumMessages)...), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for _, m := range msgs {
		if len(m.BodySection) > 0 {
			out = append(out, bytes.Clone(m.BodySection[0].Bytes))
		}
	}
	return out, nil
}

func seq(n uint32) []uint32 {
	out := make([]uint32, n)
	for i := range out {
		out[i] = uint32(i + 1)
	}
	return out
}

type discard struct{}

func (discard) Printf(string, ...interface{}) {}
