package inbound

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestSubmitterSendsAgainAndNamesFailures: a 503 is sent again, the answer is read; a refusal
// and an answer that is not JSON are errors naming the status, not a crash or a success.
func TestSubmitterSendsAgainAndNamesFailures(t *testing.T) {
	var calls atomic.Int32
	var answer, contentType string
	status := http.StatusAccepted
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		contentType = r.Header.Get("Content-Type")
		if r.Header.Get("Authorization") != "Bearer t0k" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "0")
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(answer))
	}))
	defer srv.Close()
	dir := t.TempDir()
	eml, js := filepath.Join(dir, "a.eml"), filepath.Join(dir, "b.JSON")
	for _, f := range []string{eml, js} {
		if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s := Submitter{URL: srv.URL, Token: "t0k"}
	ctx := context.Background()

	answer = `{"report_ids":["r1"]}`
	got, err := s.SubmitFile(ctx, eml)
	if err != nil || calls.Load() != 2 || got["report_ids"] == nil || contentType != "message/rfc822" {
		t.Errorf("after a 503: %v, %v, %d calls, %s", got, err, calls.Load(), contentType)
	}
	calls.Store(1)
	if _, err := s.SubmitFile(ctx, js); err != nil || contentType != "application/json" {
		t.Errorf("a .JSON file: %v, sent as %s", err, contentType)
	}
	calls.Store(1)
	answer = "<html>proxy</html>"
	if _, err := s.SubmitFile(ctx, eml); err == nil || !strings.Contains(err.Error(), "not the reports API's JSON") {
		t.Errorf("an answer that is not JSON: %v", err)
	}
	calls.Store(1)
	status, answer = http.StatusUnprocessableEntity, "too big"
	if _, err := s.SubmitFile(ctx, eml); err == nil || !strings.Contains(err.Error(), "HTTP 422: too big") {
		t.Errorf("a refusal: %v", err)
	}
	if _, err := s.SubmitFile(ctx, filepath.Join(dir, "missing.eml")); err == nil || !strings.Contains(err.Error(), "missing.eml") {
		t.Errorf("a missing file: %v", err)
	}
}
