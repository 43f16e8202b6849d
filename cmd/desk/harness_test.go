package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"abusedesk/app/cases"
	"abusedesk/domain/abuse"
	"abusedesk/domain/policy"
	"abusedesk/platform/config"
	"abusedesk/platform/tclient"
	"abusedesk/workflows"
)

// devDesk is a `desk dev` running in-process for a test, with its endpoints and a Temporal
// client to watch its cases.
type devDesk struct {
	t       *testing.T
	dir     string
	ep      config.Endpoints
	cases   *cases.Client
	tc      client.Client
	stop    func()
	stderr  *syncBuffer
	policy  *policy.Policy
	sandbox map[string]map[string]any
}

// fastPolicy is the default policy with windows of seconds, for whole cases in a test.
func fastPolicy(t *testing.T, dir string, edits map[string]string) string {
	t.Helper()
	p := string(policy.DefaultYAML())
	repl := map[string]string{
		"response_window: 72h":  "response_window: 3s",
		"reminders: [24h, 48h]": "reminders: [1s]",
		"more_info_window: 48h": "more_info_window: 3s",
		"extend_by: 48h":        "extend_by: 3s",
		"timeout: 8h":           "timeout: 60s",
		"window: 14d":           "window: 60s",
		"sla: 48h":              "sla: 60s",
		"reminders: [24h]\n":    "reminders: [30s]\n",
		// An accepted fix is re-checked within seconds, not days.
		"verify: [1h, 24h, 7d]": "verify: [1s, 2s]",
		// The end-to-end paths act on one reporter's report; corroboration has its own tests.
		"corroboration:\n    reporters: 2": "corroboration:\n    reporters: 1",
		"first_enforcement: true":          "first_enforcement: false",
	}
	for k, v := range edits {
		repl[k] = v
	}
	for from, to := range repl {
		if !strings.Contains(p, from) {
			t.Fatalf("the default policy no longer contains %q", from)
		}
		p = strings.ReplaceAll(p, from, to)
	}
	path := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(path, []byte(p), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := policy.Load(path); err != nil {
		t.Fatalf("test policy: %v", err)
	}
	return path
}

func startDev(t *testing.T, policyPath string, extra ...string) *devDesk {
	t.Helper()
	return startDevIn(t, t.TempDir(), policyPath, nil, extra...)
}

// startDevIn runs desk dev on a given data dir (to restart on the same one) with extra
// environment variables.
func startDevIn(t *testing.T, dir, policyPath string, env map[string]string, extra ...string) *devDesk {
	t.Helper()
	skipShort(t)
	vars := map[string]string{"DESK_LOG_LEVEL": "warn"}
	for k, v := range env {
		vars[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	args := append([]string{"dev", "--data-dir", dir, "--http-port", "0", "--temporal-port", "0", "--ui-port", "-1", "--policy", policyPath}, extra...)
	go func() {
		done <- run(ctx, args, io.Discard, stderr, config.MapLookup(vars))
	}()
	ep := waitForEndpoints(t, dir, done)
	tc, err := dialDev(dir, ep, vars["DESK_PAYLOAD_KEYS"])
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	p, err := policy.Load(policyPath)
	if err != nil {
		t.Fatal(err)
	}
	d := &devDesk{t: t, dir: dir, ep: ep, cases: &cases.Client{T: tc}, tc: tc, stderr: stderr, policy: p, sandbox: map[string]map[string]any{}}
	for k, v := range ep.Sandbox {
		if m, ok := v.(map[string]any); ok {
			d.sandbox[k] = m
		}
	}
	stopped := false
	d.stop = func() {
		if stopped {
			return
		}
		stopped = true
		tc.Close()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("desk dev returned %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("desk dev did not stop within 15 s")
		}
		// The tests' requests share the default client: a kept-alive connection to a stopped
		// sandbox would answer a desk restarted on the same port with EOF (a POST is not
		// retried), so none is kept.
		http.DefaultClient.CloseIdleConnections()
	}
	t.Cleanup(func() {
		d.stop()
		if t.Failed() {
			t.Logf("desk dev log:\n%s", stderr.String())
		}
	})
	return d
}

// waitStatus polls the case until it reaches status (or fails the test after timeout).
func (d *devDesk) waitStatus(caseID string, want workflows.Status, timeout time.Duration) *workflows.CaseView {
	d.t.Helper()
	deadline := time.Now().Add(timeout)
	var last *workflows.CaseView
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		v, err := d.cases.Status(ctx, caseID)
		cancel()
		if err == nil {
			last = v
			if v.Status == want {
				return v
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if last != nil {
		d.t.Fatalf("case %s is %s after %v, want %s; timeline:\n%s", caseID, last.Status, timeout, want, timelineText(last))
	}
	d.t.Fatalf("case %s never answered its status query within %v", caseID, timeout)
	return nil
}

func timelineText(v *workflows.CaseView) string {
	var b strings.Builder
	for _, e := range v.Timeline {
		fmt.Fprintf(&b, "  %s %-12s %s\n", e.At.Format("15:04:05.000"), e.Kind, e.Text)
	}
	return b.String()
}

// slackAPI calls the sandbox Slack's Web API as the bot.
func (d *devDesk) slackAPI(method string, args map[string]string, out any) {
	d.t.Helper()
	s := d.sandbox["slack"]
	body, _ := json.Marshal(args)
	req, _ := http.NewRequest(http.MethodPost, s["api_url"].(string)+method, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s["bot_token"].(string))
	d.do(req, out)
}

// slackSandbox calls the sandbox Slack's controls (click, submit, views).
func (d *devDesk) slackSandbox(method, path string, in, out any) {
	d.t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, d.sandbox["slack"]["sandbox_url"].(string)+path, body)
	d.do(req, out)
}

// sandboxView is a dialog the sandbox Slack opened for a user.
type sandboxView struct {
	ID   string `json:"id"`
	User string `json:"user"`
}

// views lists the dialogs the sandbox Slack has opened, oldest first.
func (d *devDesk) views() []sandboxView {
	d.t.Helper()
	var out struct {
		Views []sandboxView `json:"views"`
	}
	d.slackSandbox("GET", "views", nil, &out)
	return out.Views
}

func (d *devDesk) do(req *http.Request, out any) {
	d.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		d.t.Fatalf("%s %s: %d %s", req.Method, req.URL, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			d.t.Fatalf("%s %s: %v in %s", req.Method, req.URL, err, b)
		}
	}
}

// approvalMessage waits for the approval request of a case in the leads' channel.
type slackMessage struct {
	TS     string          `json:"ts"`
	Text   string          `json:"text"`
	Blocks json.RawMessage `json:"blocks"`
}

func (d *devDesk) approvalMessage(caseNumber string) (channel string, msg slackMessage) {
	d.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var h struct {
			OK       bool           `json:"ok"`
			Messages []slackMessage `json:"messages"`
		}
		d.slackAPI("conversations.history", map[string]string{"channel": "abuse-leads"}, &h)
		for _, m := range h.Messages {
			if strings.Contains(string(m.Blocks), caseNumber) {
				return "C0LEADS", m
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	d.t.Fatalf("no approval request for %s in the leads' channel", caseNumber)
	return "", slackMessage{}
}

// submitReports starts or joins a case the way intake does (the account and category known).
func (d *devDesk) submitReports(account, category string, ids ...string) string {
	d.t.Helper()
	caseID := workflows.CaseWorkflowID(account, abuse.Category(category))
	var batch []workflows.ReportSummary
	for _, id := range ids {
		batch = append(batch, workflows.ReportSummary{ID: id, Format: "arf", Category: abuse.Category(category), Reporter: "fbl@isp.example",
			ReceivedAt: time.Now().UTC(), Subjects: []abuse.Subject{{Kind: abuse.SubjectIP, Value: "198.51.100.7"}}, Summary: "test report " + id})
	}
	snap := d.policy.Snapshot(abuse.Category(category))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := d.cases.Submit(ctx, caseID, workflows.CaseInput{AccountID: account, Category: abuse.Category(category), Policy: snap}, batch); err != nil {
		d.t.Fatal(err)
	}
	return caseID
}

// mailDate is the Date of the reports the tests mail: an hour ago, so no report is ever too
// old to act on (the policy's max_age).
var mailDate = time.Now().UTC().Add(-time.Hour).Format(time.RFC1123Z)

// skipShort skips a test that runs whole desks (end to end, in the browser) under -short, the
// fast inner loop; CI runs everything.
func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs desk dev end to end; skipped with -short")
	}
}

// intakeQueued is the desk's desk_intake_queued gauge (reports accepted and not yet delivered
// to their cases), -1 when it cannot be read.
func (d *devDesk) intakeQueued() int {
	resp, err := http.Get(d.ep.HTTP + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "desk_intake_queued "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return -1
			}
			return int(f)
		}
	}
	return -1
}

// dialDev connects a test's client to a desk dev's Temporal with the payload keys it was given
// (keys), or else those it keeps in its data dir.
func dialDev(dir string, ep config.Endpoints, keys string) (client.Client, error) {
	if keys == "" {
		var err error
		if keys, err = tclient.DevKeys(dir); err != nil {
			return nil, err
		}
	}
	opts, err := tclient.Options(config.Temporal{Address: ep.Temporal.Address, Namespace: ep.Temporal.Namespace, PayloadKeys: keys})
	if err != nil {
		return nil, err
	}
	return client.Dial(opts)
}

// waitTriage waits for the case to wait for triage with its triage ticket open: the status
// changes first and the ticket follows, later on a busy machine.
func (d *devDesk) waitTriage(caseID string, timeout time.Duration) *workflows.CaseView {
	d.t.Helper()
	return waitView(d.t, d, caseID, timeout, func(v *workflows.CaseView) bool {
		return v.Status == workflows.StatusNeedsTriage && v.Ticket.ID != ""
	})
}
