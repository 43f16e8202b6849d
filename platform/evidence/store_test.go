package evidence

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"abusedesk/domain/fault"
)

func TestPutGet(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	raw := []byte("From: a@b\r\n\r\nspam!")
	d1, err := s.Put(raw)
	if err != nil {
		t.Fatal(err)
	}
	d2, err := s.Put(raw)
	if err != nil || d1 != d2 || d1 != Digest(raw) {
		t.Fatalf("second put: %s %v, want the same digest %s", d2, err, d1)
	}
	got, err := s.Get(context.Background(), d1)
	if err != nil || string(got) != string(raw) {
		t.Fatalf("get: %q %v", got, err)
	}
	if _, err := s.Get(context.Background(), Digest([]byte("other"))); !fault.Is(err, fault.NotFound) {
		t.Errorf("missing digest: %v, want NotFound", err)
	}
	if _, err := s.Get(context.Background(), "../../etc/passwd"); !fault.Is(err, fault.Invalid) {
		t.Errorf("path-like digest: %v, want Invalid", err)
	}
	// A file changed on disk is reported, not served.
	p, _ := s.path(d1)
	if err := os.WriteFile(p, []byte("tampered"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(context.Background(), d1); !fault.Is(err, fault.Conflict) {
		t.Errorf("tampered evidence: %v, want Conflict", err)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(p), ".put-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestTornWriteIsRepaired: a file cut short by a crash (never reported durable) is rewritten
// by the next Write of the same bytes, and Get never returns wrong bytes.
func TestTornWriteIsRepaired(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	raw := []byte("From: a@b\r\nSubject: storm\r\n\r\nbody body body")
	digest := Digest(raw)
	p, _ := s.path(digest)
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, raw[:10], 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(context.Background(), digest); !fault.Is(err, fault.Conflict) {
		t.Fatalf("a torn file read back: %v", err)
	}
	if got, err := s.Put(raw); err != nil || got != digest {
		t.Fatalf("put: %s %v", got, err)
	}
	back, err := s.Get(context.Background(), digest)
	if err != nil || string(back) != string(raw) {
		t.Fatalf("after the repair: %q %v", back, err)
	}
}

func TestHold(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.Put([]byte("a police request"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Hold(ctx, "case/acct-1/legal-request", []string{d}, "preservation request"); err != nil {
		t.Fatal(err)
	}
	// Again (a retried activity): one record.
	if err := s.Hold(ctx, "case/acct-1/legal-request", []string{d}, "preservation request"); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(s.Dir(), "holds", "*.json"))
	if len(files) != 1 {
		t.Fatalf("hold records %v, want one", files)
	}
	var h Hold
	if b, err := os.ReadFile(files[0]); err != nil || json.Unmarshal(b, &h) != nil || h.Key != "case/acct-1/legal-request" || h.Digests[0] != d {
		t.Fatalf("hold %+v %v, want the one hold", h, err)
	}
	missing := strings.Repeat("ab", 32)
	if err := s.Hold(ctx, "case/acct-2/legal-request", []string{missing}, "x"); !fault.Is(err, fault.NotFound) {
		t.Errorf("a hold on evidence the store does not have: %v, want NotFound", err)
	}
}
