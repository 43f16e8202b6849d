// Package mailbox watches the abuse mailbox over IMAP (go-imap v2): it logs in (TLS, STARTTLS,
// or plain on loopback), waits for mail with IDLE (or polls where the server has no IDLE),
// reconnects with backoff, and hands each message to intake by UID. A message is moved to the
// processed folder only after intake accepted it (its reports are on disk in intake's journal,
// on their way to their cases), or to the
// failed folder when intake says it never will — so a crash between the two offers a message
// again rather than losing it, and intake's dedupe by report ID keeps it from counting twice.
package mailbox

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Security modes of the connection.
const (
	SecurityTLS      = "tls"
	SecurityStartTLS = "starttls"
	SecurityNone     = "none" // plain text: loopback and tests only
)

// Config says how to reach the mailbox.
type Config struct {
	Addr      string
	Security  string
	Username  string
	Password  string
	Mailbox   string // default INBOX
	Processed string // default abusedesk/processed
	Failed    string // default abusedesk/failed
	// Poll is how often a server without IDLE is asked for new mail, and how long an IDLE
	// lasts before it is renewed (default 30 s).
	Poll time.Duration
	// Concurrency is how many messages are handed to intake at once (default 16).
	Concurrency int
	// NotReadyAfter is how long the watcher may be without a working session before Ready
	// says it cannot work the mailbox (default a minute: a reconnect is not an outage).
	NotReadyAfter time.Duration
	// Batch is how many messages are fetched per round trip (default 50).
	Batch     int
	TLSConfig *tls.Config
}

// Disposition is what intake made of a message.
type Disposition int

// Dispositions.
const (
	// Processed: the message's effects are durable; move it to the processed folder.
	Processed Disposition = iota
	// Failed: the message can never be processed (it was still kept and triaged where
	// possible); move it to the failed folder.
	Failed
)

// Handler takes one message. A returned error is temporary: the message stays and is offered
// again later.
type Handler func(ctx context.Context, raw []byte, received time.Time) (Disposition, error)

// Watcher is the IMAP watcher. Run it; it returns when ctx ends.
type Watcher struct {
	cfg    Config
	handle Handler
	log    *slog.Logger

	mu    sync.Mutex
	stats Stats
	// working says the current session has its folders and is working the mailbox;
	// notWorking says why not (the last session's error), since when.
	working    bool
	notWorking string
	since      time.Time
	// processed and failed are the folders' names as this server writes them.
	processed, failed string
}

// Ready says whether the watcher works the mailbox, and if not, why: nil while a session works
// it, or while it has been without one for less than Config.NotReadyAfter (a reconnect); /readyz
// and the work queue show the error.
func (w *Watcher) Ready() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.working || time.Since(w.since) < w.cfg.NotReadyAfter {
		return nil
	}
	if w.notWorking == "" {
		return fmt.Errorf("not connected to the mailbox %s for %s", w.cfg.Addr, time.Since(w.since).Round(time.Second))
	}
	return fmt.Errorf("cannot work the mailbox %s for %s: %s", w.cfg.Addr, time.Since(w.since).Round(time.Second), w.notWorking)
}

// FolderName is a configured folder ("abusedesk/processed", "/" separating levels) as a server
// with hierarchy delimiter delim writes it: "abusedesk.processed" on Dovecot's default maildir
// layout; with no hierarchy at all (delim 0), "abusedesk-processed".
func FolderName(name string, delim rune) string {
	switch delim {
	case '/':
		return name
	case 0:
		return strings.ReplaceAll(name, "/", "-")
	}
	return strings.ReplaceAll(name, "/", string(delim))
}

// Stats counts what the watcher did.
type Stats struct {
	Connects  int
	Processed int
	Failed    int
	Retried   int
	LastError string
}

// New makes a watcher.
func New(cfg Config, handle Handler, log *slog.Logger) (*Watcher, error) {
	if cfg.Addr == "" || cfg.Username == "" {
		return nil, errors.New("mailbox: the address and the user name are required")
	}
	switch cfg.Security {
	case "":
		cfg.Security = SecurityTLS
	case SecurityTLS, SecurityStartTLS, SecurityNone:
	default:
		return nil, fmt.Errorf("mailbox: security %q is not tls, starttls or none", cfg.Security)
	}
	if cfg.Mailbox == "" {
		cfg.Mailbox = "INBOX"
	}
	if cfg.Processed == "" {
		cfg.Processed = "abusedesk/processed"
	}
	if cfg.Failed == "" {
		cfg.Failed = "abusedesk/failed"
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 30 * time.Second
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 16
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 50
	}
	if cfg.NotReadyAfter <= 0 {
		cfg.NotReadyAfter = time.Minute
	}
	if log == nil {
		log = slog.Default()
	}
	return &Watcher{cfg: cfg, handle: handle, log: log.With("component", "imap", "mailbox", cfg.Mailbox), since: time.Now()}, nil
}

// folder is the processed (or failed) folder as this session's server names it.
func (w *Watcher) folder(processed bool) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if processed {
		return w.processed
	}
	return w.failed
}

// Stats returns the counters so far.
func (w *Watcher) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}

// Run watches until ctx ends, reconnecting after failures with backoff (1 s doubling to 1 min,
// jittered).
func (w *Watcher) Run(ctx context.Context) error {
	backoff := time.Second
	for ctx.Err() == nil {
		start := time.Now()
		err := w.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		w.mu.Lock()
		w.stats.LastError = fmt.Sprint(err)
		if w.working {
			w.since = time.Now()
		}
		w.working, w.notWorking = false, fmt.Sprint(err)
		w.mu.Unlock()
		if time.Since(start) > time.Minute {
			backoff = time.Second
		}
		wait := backoff/2 + time.Duration(rand.Int64N(int64(backoff/2)+1))
		w.log.Warn("imap session ended; reconnecting", "error", err, "in", wait.String())
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		backoff = min(2*backoff, time.Minute)
	}
	return nil
}

// session is one connection: log in, process everything waiting, then wait for more.
func (w *Watcher) session(ctx context.Context) error {
	arrived := make(chan struct{}, 1)
	opts := &imapclient.Options{
		TLSConfig: w.cfg.TLSConfig,
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					select {
					case arrived <- struct{}{}:
					default:
					}
				}
			},
		},
	}
	var c *imapclient.Client
	var err error
	switch w.cfg.Security {
	case SecurityTLS:
		c, err = imapclient.DialTLS(w.cfg.Addr, opts)
	case SecurityStartTLS:
		c, err = imapclient.DialStartTLS(w.cfg.Addr, opts)
	default:
		c, err = imapclient.DialInsecure(w.cfg.Addr, opts)
	}
	if err != nil {
		return fmt.Errorf("connect to %s: %w", w.cfg.Addr, err)
	}
	defer func() { _ = c.Close() }()
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	defer stop()
	if err := c.Login(w.cfg.Username, w.cfg.Password).Wait(); err != nil {
		return fmt.Errorf("log in as %s: %w", w.cfg.Username, err)
	}
	// LIST "" "" answers the server's hierarchy delimiter (RFC 3501 6.3.8): the folders are
	// named with it, not with a "/" the server may refuse.
	root, err := c.List("", "", nil).Collect()
	if err != nil {
		return fmt.Errorf("ask %s its hierarchy delimiter: %w", w.cfg.Addr, err)
	}
	delim := '/'
	if len(root) > 0 {
		delim = root[0].Delim
	}
	processed, failed := FolderName(w.cfg.Processed, delim), FolderName(w.cfg.Failed, delim)
	for _, box := range []string{processed, failed} {
		if err := c.Create(box, nil).Wait(); err != nil && !alreadyExists(err) {
			return fmt.Errorf("create folder %s: %w", box, err)
		}
	}
	if _, err := c.Select(w.cfg.Mailbox, nil).Wait(); err != nil {
		return fmt.Errorf("select %s: %w", w.cfg.Mailbox, err)
	}
	w.mu.Lock()
	w.stats.Connects++
	w.working, w.notWorking = true, ""
	w.processed, w.failed = processed, failed
	w.mu.Unlock()
	w.log.Info("imap connected", "addr", w.cfg.Addr, "idle", c.Caps().Has(imap.CapIdle) || c.Caps().Has(imap.CapIMAP4rev2))
	canIdle := c.Caps().Has(imap.CapIdle) || c.Caps().Has(imap.CapIMAP4rev2)
	retryAt := time.Time{}
	for ctx.Err() == nil {
		if time.Now().After(retryAt) {
			transient, err := w.drain(ctx, c)
			if err != nil {
				return err
			}
			if transient {
				retryAt = time.Now().Add(w.cfg.Poll)
			}
		}
		if err := w.wait(ctx, c, canIdle, arrived); err != nil {
			return err
		}
	}
	_ = c.Logout().Wait()
	return nil
}

// wait blocks until new mail may be there: an IDLE notification, or the poll interval.
func (w *Watcher) wait(ctx context.Context, c *imapclient.Client, canIdle bool, arrived <-chan struct{}) error {
	if !canIdle {
		select {
		case <-ctx.Done():
		case <-time.After(w.cfg.Poll):
		}
		if ctx.Err() == nil {
			return c.Noop().Wait()
		}
		return nil
	}
	idle, err := c.Idle()
	if err != nil {
		return fmt.Errorf("idle: %w", err)
	}
	select {
	case <-ctx.Done():
	case <-arrived:
	case <-time.After(w.cfg.Poll):
	}
	if err := idle.Close(); err != nil {
		return fmt.Errorf("end idle: %w", err)
	}
	return idle.Wait()
}

// drain hands every message in the mailbox to intake and moves the ones it finished. It
// reports whether some messages were left for a later try (a temporary failure).
func (w *Watcher) drain(ctx context.Context, c *imapclient.Client) (bool, error) {
	data, err := c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagDeleted}}, nil).Wait()
	if err != nil {
		return false, fmt.Errorf("search: %w", err)
	}
	uids := data.AllUIDs()
	transient := false
	for start := 0; start < len(uids) && ctx.Err() == nil; start += w.cfg.Batch {
		chunk := uids[start:min(start+w.cfg.Batch, len(uids))]
		msgs, err := c.Fetch(imap.UIDSetNum(chunk...), &imap.FetchOptions{
			UID: true, InternalDate: true,
			BodySection: []*imap.FetchItemBodySection{{Peek: true}},
		}).Collect()
		if err != nil {
			return transient, fmt.Errorf("fetch: %w", err)
		}
		processed, failed, retried := w.handleAll(ctx, msgs)
		transient = transient || retried > 0
		for _, mv := range []struct {
			uids []imap.UID
			box  string
		}{{processed, w.folder(true)}, {failed, w.folder(false)}} {
			if len(mv.uids) == 0 {
				continue
			}
			if err := w.move(c, mv.uids, mv.box); err != nil {
				return transient, err
			}
		}
		w.mu.Lock()
		w.stats.Processed += len(processed)
		w.stats.Failed += len(failed)
		w.stats.Retried += retried
		w.mu.Unlock()
	}
	return transient, nil
}

// handleAll hands a fetched chunk to intake, Concurrency at a time.
func (w *Watcher) handleAll(ctx context.Context, msgs []*imapclient.FetchMessageBuffer) (processed, failed []imap.UID, retried int) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, w.cfg.Concurrency)
	for _, m := range msgs {
		var raw []byte
		if len(m.BodySection) > 0 {
			raw = m.BodySection[0].Bytes
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(uid imap.UID, raw []byte, when time.Time) {
			defer wg.Done()
			defer func() { <-sem }()
			d, err := w.handle(ctx, raw, when)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				retried++
				w.log.Warn("message left for a later try", "uid", uint32(uid), "error", err)
			case d == Failed:
				failed = append(failed, uid)
			default:
				processed = append(processed, uid)
			}
		}(m.UID, raw, m.InternalDate)
	}
	wg.Wait()
	return processed, failed, retried
}

// move moves messages to a folder: MOVE where the server has it, else COPY, flag deleted and
// expunge those UIDs (UIDPLUS) or all deleted ones.
func (w *Watcher) move(c *imapclient.Client, uids []imap.UID, box string) error {
	set := imap.UIDSetNum(uids...)
	if c.Caps().Has(imap.CapMove) || c.Caps().Has(imap.CapIMAP4rev2) {
		if _, err := c.Move(set, box).Wait(); err != nil {
			return fmt.Errorf("move %d message(s) to %s: %w", len(uids), box, err)
		}
		return nil
	}
	if _, err := c.Copy(set, box).Wait(); err != nil {
		return fmt.Errorf("copy %d message(s) to %s: %w", len(uids), box, err)
	}
	if err := c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		return fmt.Errorf("flag moved messages deleted: %w", err)
	}
	if c.Caps().Has(imap.CapUIDPlus) {
		return c.UIDExpunge(set).Close()
	}
	return c.Expunge().Close()
}

func alreadyExists(err error) bool {
	var ie *imap.Error
	if errors.As(err, &ie) && ie.Code == imap.ResponseCodeAlreadyExists {
		return true
	}
	return strings.Contains(strings.ToLower(err.Error()), "exist")
}
