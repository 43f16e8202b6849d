package imapsandbox

import (
	"abusedesk/platform/durable"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// A spool keeps the mailbox's INBOX on disk, so a message the server acknowledged survives a
// kill: APPEND writes the message to dir (synced) before it answers OK, and a message leaves
// the spool once it is no longer in INBOX (the desk moved it after accepting its reports). At
// the next start the spool's messages are put back into INBOX.
type spool struct {
	dir string

	mu      sync.Mutex
	pending bool
	list    func() ([][]byte, error)
}

func openSpool(dir string) (*spool, [][]byte, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("imap sandbox spool: %w", err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil {
		return nil, nil, err
	}
	var msgs [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, fmt.Errorf("imap sandbox spool: %w", err)
		}
		if name := strings.TrimSuffix(filepath.Base(f), ".eml"); name != digestOf(b) {
			_ = os.Remove(f) // torn by a kill mid-write: never acknowledged
			continue
		}
		msgs = append(msgs, b)
	}
	return &spool{dir: dir}, msgs, nil
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// keep writes a message durably.
func (s *spool) keep(b []byte) error {
	final := filepath.Join(s.dir, digestOf(b)+".eml")
	if _, err := os.Stat(final); err == nil {
		return nil
	}
	return durable.WriteFile(final, b, 0o600)
}

// reconcileSoon drops, shortly, the spooled messages that are no longer in INBOX.
func (s *spool) reconcileSoon() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending || s.list == nil {
		return
	}
	s.pending = true
	go func() {
		time.Sleep(200 * time.Millisecond)
		s.mu.Lock()
		s.pending = false
		s.mu.Unlock()
		_ = s.reconcile()
	}()
}

func (s *spool) reconcile() error {
	msgs, err := s.list()
	if err != nil {
		return err
	}
	in := map[string]bool{}
	for _, m := range msgs {
		in[digestOf(m)] = true
	}
	files, err := filepath.Glob(filepath.Join(s.dir, "*.eml"))
	if err != nil {
		return err
	}
	for _, f := range files {
		if !in[strings.TrimSuffix(filepath.Base(f), ".eml")] {
			if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}

// session is a memory-backend session that answers as Dovecot does where the memory backend
// does not (it refuses a message of no bytes), and whose INBOX appends go through the spool
// (when there is one).
type session struct {
	imapserver.Session
	spool *spool
}

type literal struct {
	*bytes.Reader
}

func (l literal) Size() int64 { return l.Reader.Size() }

func (s *session) Append(mailbox string, r imap.LiteralReader, options *imap.AppendOptions) (*imap.AppendData, error) {
	if r.Size() == 0 {
		// Dovecot: "NO Can't save a zero byte message".
		return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Text: "Can't save a zero byte message"}
	}
	if s.spool == nil || !strings.EqualFold(mailbox, "INBOX") {
		return s.Session.Append(mailbox, r, options)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if err := s.spool.keep(b); err != nil {
		return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Text: "cannot store the message: " + err.Error()}
	}
	return s.Session.Append(mailbox, literal{bytes.NewReader(b)}, options)
}

func (s *session) Move(w *imapserver.MoveWriter, numSet imap.NumSet, dest string) error {
	err := s.Session.(imapserver.SessionMove).Move(w, numSet, dest)
	if s.spool != nil {
		s.spool.reconcileSoon()
	}
	return err
}

func (s *session) Expunge(w *imapserver.ExpungeWriter, uids *imap.UIDSet) error {
	err := s.Session.Expunge(w, uids)
	if s.spool != nil {
		s.spool.reconcileSoon()
	}
	return err
}

func (s *session) Namespace() (*imap.NamespaceData, error) {
	return s.Session.(imapserver.SessionNamespace).Namespace()
}
