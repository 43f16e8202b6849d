package intake

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"abusedesk/internal/abuse"
	"abusedesk/internal/durable"
	"abusedesk/workflows"
)

// queued is one report accepted for its case and not yet delivered.
type queued struct {
	Seq      uint64                  `json:"seq"`
	Account  string                  `json:"account"`
	Category abuse.Category          `json:"category"`
	Report   workflows.ReportSummary `json:"report"`
}

// journalLine is one line of the journal: a report accepted, or reports delivered.
type journalLine struct {
	Add  *queued  `json:"add,omitempty"`
	Done []uint64 `json:"done,omitempty"`
}

// journal is the intake's write-ahead log: a report is written (and flushed with the other
// reports accepted at the same moment) before intake answers for it, and marked done once its
// case has it. After a crash the reports not marked done are delivered again; a case drops a
// report it already has, so a lost "done" costs nothing but a duplicate delivery.
type journal struct {
	path  string
	group *durable.Group
	// shared is the evidence store's flush when it covers the journal too.
	shared *durable.Group

	mu        sync.Mutex
	f         *os.File
	old       *os.File // the file before the last compaction, closed at the next
	size      int64
	next      uint64
	live      map[uint64]*queued
	compactAt int64
}

// journalCompactAt is the size from which delivered entries are dropped from the file.
const journalCompactAt = 64 << 20

// openJournal opens (or creates) the journal in dir and returns the reports it holds that
// were never delivered, oldest first. A torn last line (a crash while writing it) is skipped:
// nobody was told that report was accepted. shared, when given, is a file-system-wide flush
// (the evidence store's) that makes the journal durable too; otherwise the file is fsynced.
func openJournal(dir string, shared *durable.Group) (*journal, []*queued, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, nil, fmt.Errorf("intake journal: %w", err)
	}
	j := &journal{path: filepath.Join(dir, "journal.jsonl"), live: map[uint64]*queued{}, compactAt: journalCompactAt}
	if err := j.read(); err != nil {
		return nil, nil, err
	}
	if err := j.rewrite(); err != nil {
		return nil, nil, err
	}
	j.group, j.shared = shared, shared
	if j.group == nil {
		j.group = durable.NewGroup(func() error {
			j.mu.Lock()
			f := j.f
			j.mu.Unlock()
			return f.Sync()
		})
	}
	return j, j.sortedLive(), nil
}

// sortedLive is the undelivered reports, oldest first.
func (j *journal) sortedLive() []*queued {
	live := make([]*queued, 0, len(j.live))
	for _, q := range j.live {
		live = append(live, q)
	}
	slices.SortFunc(live, func(a, b *queued) int { return cmp.Compare(a.Seq, b.Seq) })
	return live
}

func (j *journal) read() error {
	f, err := os.Open(j.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("intake journal: %w", err)
	}
	defer func() { _ = f.Close() }()
	r := bufio.NewReaderSize(f, 1<<20)
	for n := 1; ; n++ {
		line, err := r.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			var l journalLine
			if jerr := json.Unmarshal(line, &l); jerr != nil {
				if err == io.EOF {
					break // torn last line
				}
				return fmt.Errorf("intake journal %s line %d: %w", j.path, n, jerr)
			}
			if l.Add != nil {
				j.live[l.Add.Seq] = l.Add
				j.next = max(j.next, l.Add.Seq)
			}
			for _, s := range l.Done {
				delete(j.live, s)
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("intake journal: %w", err)
		}
	}
	return nil
}

// rewrite replaces the file with one holding only the live entries (j.mu held or not yet
// shared), durably, and appends to it from then on.
func (j *journal) rewrite() error {
	tmp := j.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return fmt.Errorf("intake journal: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var size int64
	for _, q := range j.sortedLive() {
		b, _ := json.Marshal(journalLine{Add: q})
		n, _ := w.Write(append(b, '\n'))
		size += int64(n)
	}
	err = errors.Join(w.Flush(), f.Sync(), f.Close())
	if err == nil {
		err = os.Rename(tmp, j.path)
	}
	if err == nil {
		err = syncDir(filepath.Dir(j.path))
	}
	if err != nil {
		return fmt.Errorf("intake journal: rewrite: %w", err)
	}
	af, err := os.OpenFile(j.path, os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return fmt.Errorf("intake journal: %w", err)
	}
	if j.old != nil {
		_ = j.old.Close()
	}
	j.old, j.f, j.size = j.f, af, size
	j.compactAt = max(journalCompactAt, 4*size)
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer func() { _ = d.Close() }()
	return d.Sync()
}

// add writes reports (giving them their sequence numbers) and returns once they are on disk.
func (j *journal) add(items []*queued) error {
	var buf bytes.Buffer
	j.mu.Lock()
	for _, q := range items {
		j.next++
		q.Seq = j.next
		b, err := json.Marshal(journalLine{Add: q})
		if err != nil {
			j.mu.Unlock()
			return fmt.Errorf("intake journal: %w", err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	n, err := j.f.Write(buf.Bytes())
	j.size += int64(n)
	if err == nil {
		for _, q := range items {
			j.live[q.Seq] = q
		}
	}
	j.mu.Unlock()
	if err != nil {
		return fmt.Errorf("intake journal: write: %w", err)
	}
	return j.group.Wait()
}

// done marks reports delivered. It is not flushed on its own: a crash before the next flush
// only means a duplicate delivery, which the case ignores.
func (j *journal) done(seqs []uint64) error {
	b, _ := json.Marshal(journalLine{Done: seqs})
	j.mu.Lock()
	defer j.mu.Unlock()
	n, err := j.f.Write(append(b, '\n'))
	j.size += int64(n)
	if err != nil {
		return fmt.Errorf("intake journal: write: %w", err)
	}
	for _, s := range seqs {
		delete(j.live, s)
	}
	if j.size > j.compactAt {
		return j.rewrite()
	}
	return nil
}

// pending is how many reports are accepted and not yet delivered.
func (j *journal) pending() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.live)
}

func (j *journal) close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.old != nil {
		_ = j.old.Close()
	}
	return j.f.Close()
}
