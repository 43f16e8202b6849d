// Package evidence is the content-addressed store for raw reports: each message is kept once,
// under the SHA-256 of its bytes, in a file below the data directory. Workflows carry only the
// digest; activities read the bytes back to attach them to tickets.
package evidence

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"abusedesk/domain/fault"
	"abusedesk/platform/durable"
)

// Store keeps raw reports in dir/<aa>/<bb>/<sha256>.
type Store struct {
	dir string
	// Sync makes Put return only once the file is on disk, so an accepted report survives a
	// power loss, not only a crash of the process. On Linux concurrent Puts share one
	// syncfs(2) (group commit); elsewhere each file is fsynced.
	Sync  bool
	group *durable.Group
}

// Open makes (if needed) and opens a store in dir.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("evidence store %s: %w", dir, err)
	}
	s := &Store{dir: dir, Sync: true}
	if flush, ok := newFlusher(dir); ok {
		s.group = durable.NewGroup(flush)
	}
	return s, nil
}

// Digest is the hex SHA-256 of raw.
func Digest(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

func (s *Store) path(digest string) (string, error) {
	if len(digest) != 64 {
		return "", &fault.Error{Kind: fault.Invalid, Service: "evidence", Op: "locate", Message: fmt.Sprintf("%q is not a SHA-256 digest", digest)}
	}
	if _, err := hex.DecodeString(digest); err != nil {
		return "", &fault.Error{Kind: fault.Invalid, Service: "evidence", Op: "locate", Message: fmt.Sprintf("%q is not a SHA-256 digest", digest)}
	}
	return filepath.Join(s.dir, digest[:2], digest[2:4], digest), nil
}

// Put stores raw durably and returns its digest. Storing the same bytes again is a no-op.
func (s *Store) Put(raw []byte) (string, error) {
	digest, err := s.Write(raw)
	if err != nil {
		return "", err
	}
	if err := s.Flush(); err != nil {
		return "", fmt.Errorf("evidence: sync %s: %w", digest, err)
	}
	return digest, nil
}

// Keep stores raw durably and returns its digest (Put, for the activities' Evidence).
func (s *Store) Keep(_ context.Context, raw []byte) (string, error) { return s.Put(raw) }

// Flush returns once everything written before it is durable (with Sync; a no-op without,
// or where each Write syncs its own file).
func (s *Store) Flush() error {
	if !s.Sync || s.group == nil {
		return nil
	}
	return s.group.Wait()
}

// Group is the store's group commit (syncfs of its file system), for writers on the same
// file system that want one flush to cover their files and the store's; nil where there is
// none.
func (s *Store) Group() *durable.Group {
	if !s.Sync {
		return nil
	}
	return s.group
}

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

// Write stores raw and returns its digest; it is durable after the next Flush (or a flush of
// the Group). Writing the same bytes again is a no-op.
//
// The file is written in place, not renamed into place: a crash in the middle leaves a short
// file, which was never reported durable, and which the next Write of the same bytes (its size
// is wrong) rewrites; Get checks every file against its digest anyway. Three system calls per
// report instead of seven matter in a storm.
func (s *Store) Write(raw []byte) (string, error) {
	digest := Digest(raw)
	p, _ := s.path(digest)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			return "", fmt.Errorf("evidence: %w", err)
		}
		f, err = os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	}
	if errors.Is(err, fs.ErrExist) {
		if fi, serr := os.Stat(p); serr == nil && fi.Size() == int64(len(raw)) {
			return digest, nil // stored already (perhaps not flushed yet: the caller's flush covers it)
		}
		f, err = os.OpenFile(p, os.O_WRONLY|os.O_TRUNC, 0o640) // a torn earlier write
	}
	if err != nil {
		return "", fmt.Errorf("evidence: %w", err)
	}
	_, werr := f.Write(raw)
	if werr == nil && s.Sync && s.group == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		_ = os.Remove(p)
		return "", fmt.Errorf("evidence: write %s: %w", digest, werr)
	}
	return digest, nil
}

// Get returns the raw bytes stored under digest.
func (s *Store) Get(_ context.Context, digest string) ([]byte, error) {
	p, err := s.path(digest)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &fault.Error{Kind: fault.NotFound, Service: "evidence", Op: "get", Message: "no evidence " + digest}
	}
	if err != nil {
		return nil, fmt.Errorf("evidence: read %s: %w", digest, err)
	}
	if Digest(b) != digest {
		return nil, &fault.Error{Kind: fault.Conflict, Service: "evidence", Op: "get", Message: "evidence " + digest + " is corrupt (its bytes no longer match the digest)"}
	}
	return b, nil
}

// Hold is a legal hold: the evidence a case names must be kept, whatever retention later
// applies, until the hold is lifted by hand.
type Hold struct {
	Key     string    `json:"key"`
	Digests []string  `json:"digests"`
	Reason  string    `json:"reason"`
	At      time.Time `json:"at"`
}

// Hold records a legal hold under key (a case), in dir/holds/, durably: written to a temporary
// file, synced, renamed into place. Holding the same key again replaces the record (a retry is
// harmless). Every digest must be stored already: a hold on evidence the desk does not have
// would be a promise it cannot keep.
func (s *Store) Hold(_ context.Context, key string, digests []string, reason string) error {
	for _, d := range digests {
		p, err := s.path(d)
		if err != nil {
			return err
		}
		if _, err := os.Stat(p); err != nil {
			return &fault.Error{Kind: fault.NotFound, Service: "evidence", Op: "hold", Message: "no evidence " + d + " to hold"}
		}
	}
	b, err := json.MarshalIndent(Hold{Key: key, Digests: digests, Reason: reason, At: time.Now().UTC()}, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Join(s.dir, "holds")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("evidence hold: %w", err)
	}
	sum := sha256.Sum256([]byte(key))
	if err := durable.WriteFile(filepath.Join(dir, hex.EncodeToString(sum[:12])+".json"), b, 0o640); err != nil {
		return fmt.Errorf("evidence hold %s: %w", key, err)
	}
	return nil
}
