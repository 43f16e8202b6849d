package tclient

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"abusedesk/platform/config"
)

// TestDialWaitingAsksAgain: a cluster that refuses connections is asked again until the wait
// is over (and the error still names it); a configuration that cannot work fails at once.
func TestDialWaitingAsksAgain(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nobody listens there now: connections are refused
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := config.Temporal{Address: addr, Namespace: "default"}

	start := time.Now()
	if _, err := DialWaiting(context.Background(), cfg, log, nil, 2*time.Second); err == nil || !unreachable(err) {
		t.Fatalf("a refusing address: %v, want an unreachable error", err)
	}
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("gave up after %s; want it to ask again for about the wait (2s)", waited)
	}

	bad := cfg
	bad.TLSCert, bad.TLSKey = "/nonexistent/cert.pem", "/nonexistent/key.pem"
	start = time.Now()
	if _, err := DialWaiting(context.Background(), bad, log, nil, time.Minute); err == nil || unreachable(err) {
		t.Fatalf("a missing TLS file: %v, want a configuration error", err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("a configuration error was asked again for %s", waited)
	}
}
