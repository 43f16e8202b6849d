package main

import (
	"flag"
	"os"
	"strconv"
	"testing"
	"time"
)

// TestMain lets this test binary stand in for the desk binary: the cluster test and the
// port-base test run desks as child processes of os.Executable() (they kill them -9), and with
// DESK_TEST_AS_DESK=1 in its environment this binary runs `desk` instead of the tests. (The
// benches' own tests are the benchtest package's, which builds the desk binary.)
//
// This package's tests run whole desks end to end and take most of `go test ./...` (minutes on
// 2 cores, more under load). The go command's default timeout, 10 minutes a test
// binary, is too close: left at that default, the binary's own alarm is raised to 40 minutes.
// That does not move the go command's own kill (SIGQUIT at the -timeout it passed plus one
// minute): CI passes -timeout=30m (GOFLAGS in .ci/run); a plain `go test ./...` has 11 minutes.
// parallelDesks is how many end-to-end tests run at once by default.
const parallelDesks = 3

func TestMain(m *testing.M) {
	if os.Getenv("DESK_TEST_AS_DESK") == "1" {
		main()
		os.Exit(0)
	}
	flag.Parse()
	if f := flag.Lookup("test.timeout"); f != nil && f.Value.String() == (10*time.Minute).String() {
		_ = f.Value.Set((40 * time.Minute).String())
	}
	// The end-to-end tests mostly wait — on timers of seconds, on Temporal, on Chromium — so
	// several run at once (each with its own desk, data dir and ports) unless -parallel is given.
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if f := flag.Lookup("test.parallel"); f != nil && !given {
		_ = f.Value.Set(strconv.Itoa(parallelDesks))
	}
	os.Exit(m.Run())
}
