package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"abusedesk/app/ledger"
	"abusedesk/devenv/devdesk"
	"abusedesk/domain/abuse"
	"abusedesk/domain/policy"
	"abusedesk/platform/config"
	"abusedesk/workflows"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader in different goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func noEnv(string) (string, bool) { return "", false }

func TestEveryCommandHasHelp(t *testing.T) {
	t.Parallel()
	for _, c := range commands() {
		var out bytes.Buffer
		err := run(context.Background(), []string{c.name, "--help"}, &out, io.Discard, noEnv)
		if err != nil && !errors.Is(err, flag.ErrHelp) {
			t.Errorf("desk %s --help: %v", c.name, err)
		}
		if !strings.Contains(out.String(), "Usage: desk "+c.name) {
			t.Errorf("desk %s --help printed %q", c.name, out.String())
		}
	}
}

// TestHelpAndFlagsAsDocumented: the README's "desk zendesk provision --dry-run" takes its flag
// after the subcommand as before it (both reach the configuration check), and no flag's help
// shows a backquoted phrase as its argument name ("-data-dir desk dev").
func TestHelpAndFlagsAsDocumented(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"zendesk", "provision", "--dry-run"}, {"zendesk", "--dry-run", "provision"}} {
		err := run(context.Background(), args, io.Discard, io.Discard, noEnv)
		if err == nil || !strings.Contains(err.Error(), "ZENDESK_URL: not set") {
			t.Errorf("desk %s: %v, want the missing ZENDESK_URL named", strings.Join(args, " "), err)
		}
	}
	for _, c := range commands() {
		var out bytes.Buffer
		_ = run(context.Background(), []string{c.name, "--help"}, &out, io.Discard, noEnv)
		for _, m := range flagLine.FindAllStringSubmatch(out.String(), -1) {
			if strings.Contains(m[1], " ") {
				t.Errorf("desk %s --help: %q names its argument from a backquoted phrase", c.name, m[0])
			}
		}
	}
}

// flagLine is a flag in PrintDefaults' listing: "  -name argname" (the usage on the next line).
var flagLine = regexp.MustCompile(`(?m)^  -[a-z][a-z0-9-]* ([^\t\n]+)$`)

func TestUnknownCommand(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"frobnicate"}, io.Discard, &stderr, noEnv)
	var u usageError
	if !errors.As(err, &u) || !strings.Contains(err.Error(), `unknown command "frobnicate"`) {
		t.Errorf("got %v, want a usage error naming the command", err)
	}
}

func TestRunNeedsTemporalAddress(t *testing.T) {
	t.Parallel()
	start := time.Now()
	err := run(context.Background(), []string{"run"}, io.Discard, io.Discard, noEnv)
	if err == nil || !strings.Contains(err.Error(), "TEMPORAL_ADDRESS: not set") {
		t.Fatalf("desk run without TEMPORAL_ADDRESS: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v to fail; it should fail at once", d)
	}
	env := config.MapLookup(map[string]string{"TEMPORAL_ADDRESS": "no-port", "DESK_LOG_LEVEL": "loud"})
	err = run(context.Background(), []string{"run"}, io.Discard, io.Discard, env)
	for _, want := range []string{`TEMPORAL_ADDRESS: "no-port" is not host:port`, `DESK_LOG_LEVEL: "loud" is not one of debug, info, warn, error`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %q", err, want)
		}
	}
}

// TestRunRefusesAnOpenDashboard: desk run with an HTTP server and neither sign-in nor a
// password stops at once, naming what to set; --insecure-open or the worker alone go on (and
// fail later, here on the unconfigured services).
func TestRunRefusesAnOpenDashboard(t *testing.T) {
	t.Parallel()
	env := config.MapLookup(map[string]string{"TEMPORAL_ADDRESS": "127.0.0.1:1", "DESK_PAYLOAD_KEYS": "off"})
	err := run(context.Background(), []string{"run"}, io.Discard, io.Discard, env)
	if err == nil || !strings.Contains(err.Error(), "open to anyone who reaches 127.0.0.1:8080") || !strings.Contains(err.Error(), "DESK_DASHBOARD_PASSWORD") {
		t.Fatalf("desk run with an open dashboard: %v", err)
	}
	for _, args := range [][]string{{"run", "--insecure-open"}, {"run", "--components=worker"}} {
		err := run(context.Background(), args, io.Discard, io.Discard, env)
		if err == nil || strings.Contains(err.Error(), "open to anyone") || !strings.Contains(err.Error(), "not configured") {
			t.Errorf("desk %s: %v, want it past the dashboard check", strings.Join(args, " "), err)
		}
	}
}

// TestRunRefusesOpenMetrics: desk run listening beyond loopback needs DESK_METRICS_TOKEN
// (or --insecure-open); on loopback, or with the token, it goes on.
func TestRunRefusesOpenMetrics(t *testing.T) {
	t.Parallel()
	base := map[string]string{"TEMPORAL_ADDRESS": "127.0.0.1:1", "DESK_PAYLOAD_KEYS": "off", "DESK_DASHBOARD_PASSWORD": "pw"}
	with := func(kv ...string) config.Lookup {
		m := maps.Clone(base)
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return config.MapLookup(m)
	}
	err := run(context.Background(), []string{"run"}, io.Discard, io.Discard, with("DESK_HTTP_ADDR", ":8080"))
	if err == nil || !strings.Contains(err.Error(), "/metrics would be open to anyone who reaches :8080") || !strings.Contains(err.Error(), "DESK_METRICS_TOKEN") {
		t.Fatalf("desk run on every interface without a metrics token: %v", err)
	}
	for name, env := range map[string]config.Lookup{
		"on loopback":    with("DESK_HTTP_ADDR", "127.0.0.1:8080"),
		"on [::1]":       with("DESK_HTTP_ADDR", "[::1]:8080"),
		"with the token": with("DESK_HTTP_ADDR", "0.0.0.0:8080", "DESK_METRICS_TOKEN", "t0ken"),
	} {
		if err := run(context.Background(), []string{"run"}, io.Discard, io.Discard, env); err == nil || strings.Contains(err.Error(), "/metrics would be open") {
			t.Errorf("desk run %s: %v, want it past the metrics check", name, err)
		}
	}
	if err := run(context.Background(), []string{"run", "--insecure-open"}, io.Discard, io.Discard, with("DESK_HTTP_ADDR", ":8080")); err == nil || strings.Contains(err.Error(), "/metrics would be open") {
		t.Errorf("desk run --insecure-open: %v, want it past the metrics check", err)
	}
}

func TestHelpEnvListsEveryVariable(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"help", "env"}, &out, io.Discard, noEnv); err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range config.Vars {
		if !strings.Contains(out.String(), v.Name) {
			t.Errorf("desk help env does not list %s", v.Name)
		}
	}
	_, rest, _ := strings.Cut(string(readme), "<!-- BEGIN env table")
	_, table, _ := strings.Cut(rest, "-->\n")
	table, _, found := strings.Cut(table, "<!-- END env table -->")
	if !found || table != config.Table() {
		t.Errorf("docs/configuration.md's table is not current: regenerate it with `go run ./cmd/desk help env --markdown`")
	}
}

func TestPolicyCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	var def bytes.Buffer
	if err := run(context.Background(), []string{"policy", "show"}, &def, io.Discard, noEnv); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(good, def.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	broken := strings.Replace(def.String(), "response_window: 24h\n    reminders: [12h]", "response_window: 24h\n    reminders: [36h]", 1)
	if err := os.WriteFile(bad, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"policy", "check", good}, &out, io.Discard, noEnv); err != nil {
		t.Fatalf("good policy: %v\n%s", err, out.String())
	}
	for _, want := range []string{good + ": ok", "phishing        answer within 24h", "fixes checked after [1h 24h 7d] (http, feed)",
		"reinstatement   decided within 3d, reminders [2d], then a probation of 90d", "teams           none: hand-offs are refused"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	err := run(context.Background(), []string{"policy", "check", bad}, &out, io.Discard, noEnv)
	if err == nil {
		t.Fatal("broken policy passed")
	}
	if !strings.Contains(out.String(), "categories.phishing.reminders[0]: 36h is not before the end of categories.phishing.response_window (24h)") {
		t.Errorf("the report does not name the field and reason:\n%s", out.String())
	}
}

// TestDevStartsAndStops runs `desk dev` in-process on free ports: the banner appears,
// /healthz and /readyz answer 200, endpoints.json lists the addresses, and cancelling (what
// Ctrl-C does) returns nil well within 10 s.
func TestDevStartsAndStops(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"dev", "--data-dir", dir, "--http-port", "0", "--temporal-port", "0", "--ui-port", "-1"}, &stdout, &stderr, noEnv)
	}()
	ep := waitForEndpoints(t, dir, done)
	if !strings.Contains(stdout.String(), ep.HTTP+"/healthz") {
		t.Errorf("banner does not show the health URL:\n%s", stdout.String())
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		resp, err := http.Get(ep.HTTP + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
		if path == "/metrics" && !strings.Contains(string(body), "desk_build_info") {
			t.Errorf("/metrics lacks desk_build_info")
		}
	}
	if ep.Temporal == nil || ep.Temporal.Address == "" || ep.Temporal.Namespace != devdesk.Namespace {
		t.Errorf("endpoints.json temporal = %+v", ep.Temporal)
	}

	stopAt := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("desk dev returned %v\n%s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("desk dev did not stop within 10 s")
	}
	t.Logf("stopped in %v", time.Since(stopAt))
	if _, err := os.Stat(filepath.Join(dir, "endpoints.json")); !os.IsNotExist(err) {
		t.Errorf("endpoints.json left behind after a clean stop: %v", err)
	}
}

func waitForEndpoints(t *testing.T, dir string, done <-chan error) config.Endpoints {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("desk dev ended early: %v", err)
		default:
		}
		b, err := os.ReadFile(filepath.Join(dir, "endpoints.json"))
		if err == nil {
			var ep config.Endpoints
			if err := json.Unmarshal(b, &ep); err != nil {
				t.Fatalf("endpoints.json: %v", err)
			}
			return ep
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no endpoints.json within 60 s")
	return config.Endpoints{}
}

// TestDevNamesATakenPort: a port already in use stops desk dev with the flag to change, not a
// panic inside the embedded server.
func TestDevNamesATakenPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	var stderr syncBuffer
	err = run(context.Background(), []string{"dev", "--data-dir", t.TempDir(), "--http-port", "0", "--temporal-port", strconv.Itoa(port), "--ui-port", "-1"}, io.Discard, &stderr, noEnv)
	var u usageError
	if !errors.As(err, &u) || !strings.Contains(err.Error(), fmt.Sprintf("--temporal-port %d", port)) {
		t.Fatalf("desk dev on a taken Temporal port: %v, want a usage error naming --temporal-port %d", err, port)
	}
	skipShort(t)
	err = run(context.Background(), []string{"dev", "--data-dir", t.TempDir(), "--http-port", strconv.Itoa(port), "--temporal-port", "0", "--ui-port", "-1"}, io.Discard, &stderr, noEnv)
	if !errors.As(err, &u) || !strings.Contains(err.Error(), fmt.Sprintf("--http-port %d", port)) {
		t.Fatalf("desk dev on a taken HTTP port: %v, want a usage error naming --http-port %d", err, port)
	}
}

// TestLedgerCommandsRefuseNoLedger: with DESK_LEDGER_URL=off the ledger commands say so
// instead of opening a SQLite file called "off".
func TestLedgerCommandsRefuseNoLedger(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	lookup := config.MapLookup(map[string]string{"DESK_LEDGER_URL": "off"})
	candidate := filepath.Join(dir, "candidate.yaml")
	if err := os.WriteFile(candidate, policy.DefaultYAML(), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"ledger", "events", "TS-1"}, {"report", "transparency", "--from", "2026-01-01", "--to", "2026-01-31"},
		{"report", "sor", "--since", "2026-01-01"}, {"policy", "simulate", candidate}} {
		err := run(context.Background(), args, io.Discard, io.Discard, lookup)
		if err == nil || !strings.Contains(err.Error(), "keeps no ledger") {
			t.Errorf("%v: %v, want it to say the desk keeps no ledger", args, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "off")); err == nil {
		t.Error("a file called off was created")
	}
}

// TestReportSorCommand: desk report sor prints the period's statements of reasons in the
// Transparency Database's shape from the data dir's ledger; bad flags are usage errors.
func TestReportSorCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	store, err := ledger.Open(ctx, filepath.Join(dir, "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	opened := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	c := workflows.LedgerCase{Number: "TS-SOR1", ID: "case/acct-1/spam", Account: "acct-1", Category: abuse.Spam, Track: abuse.TrackAbuse, OpenedAt: opened}
	if err := store.Record(ctx, workflows.RecordEventsInput{Case: c, Events: []workflows.LedgerEvent{
		{Key: "1", At: opened, Kind: workflows.LedgerOpened},
		{Key: "2", At: opened, Kind: workflows.LedgerReports, Count: 2, Reporters: []string{"fbl@isp.example"}, PerReporter: []int{2}},
		{Key: "3", At: opened.Add(24 * time.Hour), Kind: workflows.LedgerEnforced, Decision: "throttle", Count: 1},
	}}); err != nil {
		t.Fatal(err)
	}
	_ = store.Close()
	var out bytes.Buffer
	if err := run(ctx, []string{"report", "sor", "--data-dir", dir, "--since", "2026-03-01", "--until", "2026-03-31"}, &out, io.Discard, noEnv); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Statements []map[string]any `json:"statements"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || len(got.Statements) != 1 {
		t.Fatalf("output %s: %v, want one statement", out.String(), err)
	}
	st := got.Statements[0]
	if st["puid"] != "TS-SOR1/3" || st["decision_provision"] != "DECISION_PROVISION_PARTIAL_SUSPENSION" || st["application_date"] != "2026-03-03" ||
		st["source_type"] != "SOURCE_ARTICLE_16" || st["automated_decision"] != "AUTOMATED_DECISION_FULLY" {
		t.Errorf("statement %v", st)
	}
	out.Reset()
	if err := run(ctx, []string{"report", "sor", "--data-dir", dir, "--since", "2026-04-01", "--until", "2026-04-30"}, &out, io.Discard, noEnv); err != nil || !strings.Contains(out.String(), `"statements": []`) {
		t.Errorf("an empty period: %v %s, want an empty list", err, out.String())
	}
	// The transparency report in the official template's layout: one file a section.
	out.Reset()
	euDir := filepath.Join(dir, "eu")
	if err := run(ctx, []string{"report", "transparency", "--data-dir", dir, "--from", "2026-03-01", "--to", "2026-03-31", "--format", "eu-2024-2835", "--out", euDir}, &out, io.Discard, noEnv); err != nil {
		t.Fatal(err)
	}
	notices, err := os.ReadFile(filepath.Join(euDir, "eu-2024-2835-notices.csv"))
	if err != nil || strings.Count(out.String(), "\n") != len(ledger.EUSections) || !strings.Contains(string(notices), "2026-03-01,2026-03-31,spam,0,0,1,0,1,,") {
		t.Errorf("eu-2024-2835: %v, files %q, notices:\n%s", err, out.String(), notices)
	}
	for flag, args := range map[string][]string{
		"--out":    {"report", "transparency", "--data-dir", dir, "--from", "2026-03-01", "--to", "2026-03-31", "--format", "eu-2024-2835"},
		"--format": {"report", "sor", "--data-dir", dir, "--since", "2026-03-01", "--format", "csv"},
		"--since":  {"report", "sor", "--data-dir", dir},
		"--until":  {"report", "sor", "--data-dir", dir, "--since", "2026-03-01", "--until", "March"},
	} {
		var u usageError
		if err := run(ctx, args, io.Discard, io.Discard, noEnv); !errors.As(err, &u) || !strings.Contains(err.Error(), flag) {
			t.Errorf("%v: %v, want a usage error naming %s", args, err, flag)
		}
	}
}

// TestPolicySimulateCommand: desk policy simulate reads the data dir's ledger and prints what a
// candidate changes, as text and as JSON; bad flags are usage errors naming the flag.
func TestPolicySimulateCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	store, err := ledger.Open(ctx, filepath.Join(dir, "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	// A phishing case answered 30 h after its notice: enforced at 24 h under the default policy,
	// not under a candidate that gives 48 h.
	opened := time.Now().Add(-10 * 24 * time.Hour).UTC().Truncate(time.Second)
	c := workflows.LedgerCase{Number: "TS-SIM1", ID: "case/acct-1/phishing", Account: "acct-1", Category: abuse.Phishing, Track: abuse.TrackAbuse, Rules: "standard", Tier: "business", OpenedAt: opened}
	if err := store.Record(ctx, workflows.RecordEventsInput{Case: c, Events: []workflows.LedgerEvent{
		{Key: "1", At: opened, Kind: workflows.LedgerOpened},
		{Key: "2", At: opened, Kind: workflows.LedgerNoticed},
		{Key: "3", At: opened.Add(24 * time.Hour), Kind: workflows.LedgerEnforced, Decision: "suspend_sending"},
		{Key: "4", At: opened.Add(30 * time.Hour), Kind: workflows.LedgerReplied},
	}}); err != nil {
		t.Fatal(err)
	}
	_ = store.Close()
	candidate := filepath.Join(dir, "candidate.yaml")
	y := strings.Replace(string(policy.DefaultYAML()), "  phishing:\n    response_window: 24h", "  phishing:\n    response_window: 48h", 1)
	if err := os.WriteFile(candidate, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"policy", "simulate", "--data-dir", dir, "--since", "30d", candidate}, &out, io.Discard, noEnv); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"1 of 1 replayed cases (100.0%)", "adds 0 enforcement(s) and avoids 1", "TS-SIM1  phishing  acct-1  avoided", "the customer answered 30h after the notice, within 2d"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the text lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := run(ctx, []string{"policy", "simulate", "--data-dir", dir, "--format", "json", candidate}, &out, io.Discard, noEnv); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Avoided int `json:"enforcements_avoided"`
		Differ  []struct {
			Number string `json:"case_number"`
		} `json:"cases_that_differ"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || got.Avoided != 1 || len(got.Differ) != 1 || got.Differ[0].Number != "TS-SIM1" {
		t.Errorf("JSON %s: %+v, %v", out.String(), got, err)
	}
	// A desk dev that ran on the data dir under the candidate recorded it: simulate compares
	// against the policy the desk ran under, not the embedded default, so nothing differs.
	if err := config.RecordPolicyInUse(dir, candidate); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(ctx, []string{"policy", "simulate", "--data-dir", dir, "--since", "30d", candidate}, &out, io.Discard, noEnv); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "adds 0 enforcement(s) and avoids 0") || strings.Contains(out.String(), "embedded") {
		t.Errorf("against the policy in use:\n%s", out.String())
	}
	for flag, args := range map[string][]string{
		"--format":  {"policy", "simulate", "--data-dir", dir, "--format", "xml", candidate},
		"--since":   {"policy", "simulate", "--data-dir", dir, "--since", "soon", candidate},
		"CANDIDATE": {"policy", "simulate", "--data-dir", dir},
	} {
		var u usageError
		if err := run(ctx, args, io.Discard, io.Discard, noEnv); !errors.As(err, &u) || !strings.Contains(err.Error(), flag) {
			t.Errorf("%v: %v, want a usage error naming %s", args, err, flag)
		}
	}
}

// TestDevUIOffWithSignIn: with people signed in by role, desk dev runs no Temporal Web UI
// (it has no roles) unless its port is given; without sign-in it runs as asked.
func TestDevUIOffWithSignIn(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		given, signin bool
		want          int
		off           bool
	}{{false, false, 8233, false}, {false, true, -1, true}, {true, true, 8233, false}, {true, false, 8233, false}} {
		port, why := devUIPort(8233, tc.given, tc.signin)
		if port != tc.want || (why != "") != tc.off {
			t.Errorf("given %v, signin %v: port %d (%q); want %d, off %v", tc.given, tc.signin, port, why, tc.want, tc.off)
		}
	}
}

// TestPortBase: `desk dev --port-base` listens only inside its range — the HTTP server,
// Temporal and its own services, the UI, every stand-in and the mailbox, over TCP and UDP — and
// a base whose range holds a taken port is refused, naming the flag.
func TestPortBase(t *testing.T) {
	skipShort(t)
	if _, err := os.Stat("/proc/self/net/tcp"); err != nil {
		t.Skip("needs Linux's /proc to list a process's sockets")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	base := freeRange(t, devdesk.PortRange)
	dir := t.TempDir()
	cmd := exec.Command(self, "dev", "--data-dir", dir, "--port-base", strconv.Itoa(base))
	cmd.Env = append(os.Environ(), "DESK_TEST_AS_DESK=1", "DESK_LOG_LEVEL=warn")
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	deadline := time.Now().Add(90 * time.Second)
	for !strings.Contains(out.String(), "Press Ctrl-C to stop") {
		if time.Now().After(deadline) {
			t.Fatalf("desk dev --port-base %d did not start:\n%s", base, out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	ports := listening(t, cmd.Process.Pid)
	if len(ports) < 10 {
		t.Fatalf("only %d listening sockets found: %v", len(ports), ports)
	}
	for _, p := range ports {
		if n, _ := strconv.Atoi(p[strings.LastIndex(p, ":")+1:]); n < base || n >= base+devdesk.PortRange {
			t.Errorf("desk dev --port-base %d listens on %s, outside %d–%d", base, p, base, base+devdesk.PortRange-1)
		}
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()

	// A taken port in the range: refused, naming the flag.
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(base+devdesk.PortOffsets["zendesk"])))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = run(context.Background(), []string{"dev", "--data-dir", t.TempDir(), "--port-base", strconv.Itoa(base)}, io.Discard, io.Discard, noEnv)
	var u usageError
	if !errors.As(err, &u) || !strings.Contains(err.Error(), "--port-base") {
		t.Errorf("a taken port in the range: %v, want a usage error naming --port-base", err)
	}
}

// freeRange finds n consecutive free loopback ports.
func freeRange(t *testing.T, n int) int {
	t.Helper()
	for try := 0; try < 50; try++ {
		base := 20000 + (os.Getpid()*7919+try*1237)%30000
		ok := true
		for p := base; p < base+n && ok; p++ {
			ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
			if err != nil {
				ok = false
				continue
			}
			_ = ln.Close()
			pc, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
			if err != nil {
				ok = false
				continue
			}
			_ = pc.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no range of free ports found")
	return 0
}

// listening lists the TCP ports a process listens on and the UDP ports it has bound
// ("tcp:127.0.0.1:8080"), from /proc.
func listening(t *testing.T, pid int) []string {
	t.Helper()
	inodes := map[string]bool{}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	var out []string
	for _, proto := range []string{"tcp", "tcp6", "udp", "udp6"} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, proto))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 10 || !inodes[f[9]] {
				continue
			}
			if strings.HasPrefix(proto, "tcp") && f[3] != "0A" { // LISTEN
				continue
			}
			local := f[1]
			port, err := strconv.ParseInt(local[strings.LastIndex(local, ":")+1:], 16, 32)
			if err != nil || port == 0 {
				continue
			}
			out = append(out, fmt.Sprintf("%s:%d", proto, port))
		}
	}
	return out
}

// TestProductionBuildLeavesOutTheDevenv: `go build -tags nodev` (the compose file's build)
// links none of the development environment — the embedded Temporal server, the sandbox, the
// benchmarks, the test stand-ins — and its dev command says what it is instead of running.
func TestProductionBuildLeavesOutTheDevenv(t *testing.T) {
	t.Parallel()
	skipShort(t)
	out, err := exec.Command("go", "list", "-deps", "-tags", "nodev", "abusedesk/cmd/desk").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, dev := range []string{"abusedesk/devenv", "abusedesk/testenv", "abusedesk/devenv/bench", "abusedesk/platform/pglocal", "go.temporal.io/server"} {
			if dep == dev || strings.HasPrefix(dep, dev+"/") {
				t.Errorf("the production build links %s", dep)
			}
		}
	}
	bin := filepath.Join(t.TempDir(), "desk")
	if out, err := exec.Command("go", "build", "-tags", "nodev", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build -tags nodev: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "dev").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "built for production (-tags nodev)") {
		t.Errorf("desk dev in the production build: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, "run", "--help").CombinedOutput(); err != nil || !strings.Contains(string(out), "Usage") {
		t.Errorf("desk run --help in the production build: %v\n%s", err, out)
	}
}
