// Package evidence is the content-addressed store for raw reports: each message is kept once,
// under the SHA-256 of its bytes, in a file below the data directory. Workflows carry only the
// digest; activities read the bytes back to attach them to tickets.
package evidence

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"abusedesk/internal/fault"
)

// Store keeps raw reports in dir/<aa>/<bb>/<sha256>.
type Store struct {
	dir string
	// Sync makes Put fsync each file before it returns, so an accepted report survives a
	// power loss, not only a crash of the process.
	Sync bool
}

// Open makes (if needed) and opens a store in dir.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("evidence store %s: %w", dir, err)
	}
	return &Store{dir: dir, Sync: true}, nil
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

// Put stores raw and returns its digest. Storing the same bytes again is a no-op.
func (s *Store) Put(raw []byte) (string, error) {
	digest := Digest(raw)
	p, _ := s.path(digest)
	if _, err := os.Stat(p); err == nil {
		return digest, nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return "", fmt.Errorf("evidence: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".put-*")
	if err != nil {
		return "", fmt.Errorf("evidence: %w", err)
	}
	defer func() { _ = os.Remove(f.Name()) }()
	if _, err := f.Write(raw); err != nil {
		_ = f.Close()
		return "", fmt.Errorf("evidence: write %s: %w", digest, err)
	}
	if s.Sync {
		if err := f.Sync(); err != nil {
			_ = f.Close()
			return "", fmt.Errorf("evidence: sync %s: %w", digest, err)
		}
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("evidence: close %s: %w", digest, err)
	}
	if err := os.Rename(f.Name(), p); err != nil {
		return "", fmt.Errorf("evidence: store %s: %w", digest, err)
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
