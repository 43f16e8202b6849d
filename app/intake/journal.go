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
	"time"

	"abusedesk/domain/abuse"
	"abusedesk/platform/durable"
	"abusedesk/workflows"
)

// queued is one report accepted for its case and not yet delivered.
type queued struct {
	Seq      uint64                  `json:"seq"`
	Account  string                  `json:"account"`
	Category abuse.Category          `json:"category"`
	Report   workflows.ReportSummary `json:"report"`
}

// caseID is the case the report goes to (workflows.CaseIDFor).
func (q *queued) caseID() string {
	return workflows.CaseIDFor(q.Account, q.Category, workflows.MatterKey(q.Report.Reporter, q.Report.ID))
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
	// Recovered says what opening the journal found and set aside (torn or glued lines);
	// empty when the file was whole.
	Recovered []string

	mu        sync.Mutex
	f         journalFile
	old       journalFile // the file before the last compaction, closed at the next
	size      int64
	next      uint64
	live      map[uint64]*queued
	compactAt int64
	// torn is set when a failed write left a fragment it could not cut back.
	torn bool
}

// journalFile is what the journal needs of its file (a test stands in a failing disk).
type journalFile interface {
	Write(b []byte) (int, error)
	Truncate(size int64) error
	Sync() error
	Close() error
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
	var torn [][]byte
	for n := 1; ; n++ {
		line, err := r.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			var l journalLine
			if jerr := json.Unmarshal(line, &l); jerr != nil {
				// A write that failed part-way (a full disk, a crash) left a fragment, and the
				// next record may have been glued onto it. The fragment was never acknowledged;
				// the record after it may have been: take it, and keep the fragment aside.
				frag, rec := splitTorn(line)
				torn = append(torn, frag)
				j.Recovered = append(j.Recovered, fmt.Sprintf("line %d: %d torn bytes set aside%s", n, len(frag), map[bool]string{true: ", the record glued after them recovered"}[rec != nil]))
				if rec == nil || json.Unmarshal(rec, &l) != nil {
					continue
				}
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
			break
		}
		if err != nil {
			return fmt.Errorf("intake journal: %w", err)
		}
	}
	if len(torn) == 0 {
		return nil
	}
	// What could not be read is kept for a person, beside the journal; the start goes on.
	aside := fmt.Sprintf("%s.torn-%d", j.path, time.Now().UnixNano())
	if err := os.WriteFile(aside, bytes.Join(torn, []byte("\n")), 0o640); err != nil {
		return fmt.Errorf("intake journal: keep its torn lines: %w", err)
	}
	j.Recovered = append(j.Recovered, "torn bytes kept in "+aside)
	return nil
}

// splitTorn splits an unreadable journal line into the torn fragment before the last record
// that starts inside it, and that record (nil when none does).
func splitTorn(line []byte) (frag, rec []byte) {
	line = bytes.TrimRight(line, "\n")
	at := max(bytes.LastIndex(line, []byte(`{"add":`)), bytes.LastIndex(line, []byte(`{"done":`)))
	if at <= 0 || !json.Valid(line[at:]) {
		return line, nil
	}
	return line[:at], line[at:]
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
	err := j.append(buf.Bytes())
	if err == nil {
		for _, q := range items {
			j.live[q.Seq] = q
		}
	}
	j.mu.Unlock()
	if err != nil {
		return err
	}
	return j.group.Wait()
}

// append writes whole lines or nothing (j.mu held): a write that fails part-way (a full disk)
// is cut back to where it began, so the next record never glues onto a fragment. If even that
// fails, the journal starts its next write on a fresh line and reading sets the fragment aside.
func (j *journal) append(b []byte) error {
	if j.torn {
		b = append([]byte{'\n'}, b...)
	}
	n, err := j.f.Write(b)
	if err == nil {
		j.size += int64(n)
		j.torn = false
		return nil
	}
	if n > 0 {
		if terr := j.f.Truncate(j.size); terr != nil {
			j.size += int64(n)
			j.torn = true
		}
	}
	return fmt.Errorf("intake journal: write: %w", err)
}

// done marks reports delivered. It is not flushed on its own: a crash before the next flush
// only means a duplicate delivery, which the case ignores.
func (j *journal) done(seqs []uint64) error {
	b, _ := json.Marshal(journalLine{Done: seqs})
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.append(append(b, '\n')); err != nil {
		return err
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
