// Package pgtest gives tests a real PostgreSQL: a throw-away cluster in a temporary directory,
// started once per test binary from Debian's postgresql package (initdb and pg_ctl), with a
// fresh database for each caller (the cluster itself is platform/pglocal's). DESK_TEST_POSTGRES_URL points the tests at an existing
// server instead. Without PostgreSQL the tests skip, unless DESK_REQUIRE_POSTGRES=1 (CI sets
// it, having installed the package), which makes that a failure.
package pgtest

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"abusedesk/platform/pglocal"
)

var (
	once    sync.Once
	cluster *pglocal.Server
	err     error
	dbs     atomic.Int64
)

// Main runs the tests and then stops the cluster, if one was started: call it from TestMain.
func Main(m *testing.M) int {
	code := m.Run()
	if cluster != nil {
		cluster.Stop()
	}
	return code
}

// URL returns the URL of a new, empty database.
func URL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv("DESK_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	once.Do(func() { cluster, err = pglocal.Start("", 200) })
	if err != nil {
		if os.Getenv("DESK_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("PostgreSQL is required (DESK_REQUIRE_POSTGRES=1): %v", err)
		}
		t.Skipf("no PostgreSQL to test against (%v); install Debian's postgresql package or set DESK_TEST_POSTGRES_URL", err)
	}
	name := fmt.Sprintf("desk_test_%d_%d", os.Getpid(), dbs.Add(1))
	if err := cluster.CreateDatabase(name); err != nil {
		t.Fatal(err)
	}
	return cluster.URL(name)
}

// NeedServer skips the test when Debian's PostgreSQL is not installed (a failure under
// DESK_REQUIRE_POSTGRES=1, as in CI): for tests that start PostgreSQL servers of their own
// (a cluster).
func NeedServer(t testing.TB) {
	t.Helper()
	if _, err := pglocal.BinDir(); err != nil {
		if os.Getenv("DESK_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("PostgreSQL is required (DESK_REQUIRE_POSTGRES=1): %v", err)
		}
		t.Skipf("no PostgreSQL to start (%v); install Debian's postgresql package", err)
	}
}
