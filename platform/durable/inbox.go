package durable

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Inbox keeps work that was acknowledged before it was done — a Slack click answered within
// Slack's 3 s, a Zendesk webhook within its 10 s — so that a crash or an unreachable service
// between the answer and the work loses nothing. Put writes an entry (one synced file) and
// returns; Run hands each entry to the handler, with a few at once, and removes it when the
// handler is done with it. A failed entry is tried again with a growing pause; one that fails
// for good (Permanent) or for longer than MaxAge is moved to failed/ beside the entries, kept,
// and given to GiveUp. Entries a crash left are run at the next start.
type Inbox struct {
	cfg  InboxConfig
	seq  atomic.Uint64
	wake chan struct{}

	mu    sync.Mutex
	busy  map[string]bool
	tries map[string]int
	due   map[string]time.Time
}

// InboxConfig configures an Inbox.
type InboxConfig struct {
	// Dir holds the entries (created if missing).
	Dir string
	// Handle does an entry's work; an error (not Permanent) means "try again later".
	Handle func(ctx context.Context, payload []byte) error
	// GiveUp is told about an entry set aside (optional): the person who clicked can be told.
	GiveUp func(ctx context.Context, payload []byte, err error)
	// MaxAge is how long an entry is tried again (default an hour); Workers how many entries
	// run at once (default 4).
	MaxAge  time.Duration
	Workers int
	Log     *slog.Logger
}

// permanent marks an error that trying again cannot mend. Any error with a Permanent() bool
// method saying true counts (so packages that may not import this one can say it too).
type permanent struct{ err error }

func (p permanent) Error() string   { return p.err.Error() }
func (p permanent) Unwrap() error   { return p.err }
func (p permanent) Permanent() bool { return true }

// Permanent wraps err so that the Inbox sets its entry aside at once instead of trying again.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// OpenInbox opens (or creates) the inbox in cfg.Dir; temporary files a crash left mid-write
// are removed (their Put had not returned, so nobody was told the work was taken).
func OpenInbox(cfg InboxConfig) (*Inbox, error) {
	if cfg.Handle == nil {
		return nil, errors.New("inbox: no handler")
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = time.Hour
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if err := os.MkdirAll(filepath.Join(cfg.Dir, "failed"), 0o700); err != nil {
		return nil, fmt.Errorf("inbox: %w", err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(cfg.Dir, ".*"))
	for _, f := range leftovers {
		_ = os.Remove(f)
	}
	return &Inbox{cfg: cfg, wake: make(chan struct{}, 1), busy: map[string]bool{}, tries: map[string]int{}, due: map[string]time.Time{}}, nil
}

// Put keeps payload durably and wakes Run: when it returns nil, the work will be done (or set
// aside in failed/), whatever happens to the process.
func (in *Inbox) Put(payload []byte) error {
	name := fmt.Sprintf("%020d-%06d.entry", time.Now().UnixNano(), in.seq.Add(1)%1_000_000)
	if err := WriteFile(filepath.Join(in.cfg.Dir, name), payload, 0o600); err != nil {
		return fmt.Errorf("inbox: keep the entry: %w", err)
	}
	in.poke()
	return nil
}

// Pending is how many entries wait or run.
func (in *Inbox) Pending() int { return len(in.entries()) }

// entries lists the entries, oldest first.
func (in *Inbox) entries() []string {
	names, _ := filepath.Glob(filepath.Join(in.cfg.Dir, "*.entry"))
	for i, n := range names {
		names[i] = filepath.Base(n)
	}
	slices.Sort(names)
	return names
}

// Run works through the entries until ctx ends, then waits for the ones under way. It looks
// at the folder when Put or a failed entry wakes it, or when a failed entry is due again —
// not on a clock while there is nothing to do.
func (in *Inbox) Run(ctx context.Context) {
	slots := make(chan struct{}, in.cfg.Workers)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		now := time.Now()
		for _, name := range in.entries() {
			in.mu.Lock()
			skip := in.busy[name] || now.Before(in.due[name])
			if !skip {
				in.busy[name] = true
			}
			in.mu.Unlock()
			if skip {
				continue
			}
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				in.mu.Lock()
				delete(in.busy, name)
				in.mu.Unlock()
				return
			}
			wg.Go(func() {
				defer func() { <-slots }()
				in.run(ctx, name)
			})
		}
		var due <-chan time.Time
		var timer *time.Timer
		if next, ok := in.nextDue(); ok {
			timer = time.NewTimer(time.Until(next))
			due = timer.C
		}
		select {
		case <-ctx.Done():
		case <-in.wake:
		case <-due:
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// nextDue is when the first failed entry is to be tried again.
func (in *Inbox) nextDue() (time.Time, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	var next time.Time
	for _, t := range in.due {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	return next, !next.IsZero()
}

// poke wakes Run.
func (in *Inbox) poke() {
	select {
	case in.wake <- struct{}{}:
	default:
	}
}

// run handles one entry once.
func (in *Inbox) run(ctx context.Context, name string) {
	defer func() {
		in.mu.Lock()
		delete(in.busy, name)
		in.mu.Unlock()
	}()
	path := filepath.Join(in.cfg.Dir, name)
	payload, err := os.ReadFile(path)
	if err != nil {
		in.cfg.Log.Error("inbox: entry unreadable; set aside", "entry", path, "error", err)
		in.setAside(ctx, name, nil, err)
		return
	}
	err = in.cfg.Handle(ctx, payload)
	if err == nil {
		if rerr := os.Remove(path); rerr != nil {
			in.cfg.Log.Error("inbox: done, but the entry could not be removed (it will run again)", "entry", path, "error", rerr)
		}
		in.forget(name)
		return
	}
	if ctx.Err() != nil {
		return // stopping: the entry stays for the next start
	}
	age := time.Since(entryTime(name))
	var p interface{ Permanent() bool }
	if errors.As(err, &p) && p.Permanent() || age > in.cfg.MaxAge {
		in.cfg.Log.Error("inbox: entry set aside, not tried again", "entry", name, "age", age.Round(time.Second).String(), "error", err)
		in.setAside(ctx, name, payload, err)
		return
	}
	in.mu.Lock()
	in.tries[name]++
	pause := min(time.Minute, time.Second<<min(in.tries[name]-1, 6))
	in.due[name] = time.Now().Add(pause)
	in.mu.Unlock()
	in.poke() // Run waits for this entry's due time now
	in.cfg.Log.Warn("inbox: entry failed; trying again", "entry", name, "in", pause.String(), "error", err)
}

func (in *Inbox) setAside(ctx context.Context, name string, payload []byte, err error) {
	if rerr := os.Rename(filepath.Join(in.cfg.Dir, name), filepath.Join(in.cfg.Dir, "failed", name)); rerr != nil {
		in.cfg.Log.Error("inbox: entry could not be set aside", "entry", name, "error", rerr)
		return
	}
	in.forget(name)
	if in.cfg.GiveUp != nil && payload != nil {
		in.cfg.GiveUp(ctx, payload, err)
	}
}

func (in *Inbox) forget(name string) {
	in.mu.Lock()
	delete(in.tries, name)
	delete(in.due, name)
	in.mu.Unlock()
}

// entryTime is when an entry was put, from its name.
func entryTime(name string) time.Time {
	ns, _ := strconv.ParseInt(strings.SplitN(name, "-", 2)[0], 10, 64)
	return time.Unix(0, ns)
}
