package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"abusedesk/platform/config"
	"abusedesk/platform/tclient"
	"abusedesk/workflows"
)

// TestSplitIngress runs the production topology's ingress half: `desk run --components=http`
// against the Temporal server (and worker) of a `desk dev`, with the same stand-ins. A report
// posted to the ingress becomes a case the other process's worker runs; the ingress, which has
// no worker, reads the task queue's backlog from the server's statistics (its gauge is on
// /metrics) to hold intake back on.
func TestSplitIngress(t *testing.T) {
	t.Parallel()
	p := fastPolicy(t, t.TempDir(), map[string]string{"response_window: 72h": "response_window: 1h"})
	d := startDev(t, p)
	// One data dir, one desk: a second desk dev on it stops at once, naming the first.
	second := run(context.Background(), []string{"dev", "--data-dir", d.dir, "--http-port", "0", "--temporal-port", "0", "--ui-port", "-1"}, io.Discard, io.Discard, config.MapLookup(nil))
	if second == nil || !strings.Contains(second.Error(), "is in use by process") {
		t.Fatalf("a second desk dev on the same data dir: %v", second)
	}
	if _, err := os.Stat(filepath.Join(d.dir, "endpoints.json")); err != nil {
		t.Errorf("the first desk's endpoints.json: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	keys, err := tclient.DevKeys(d.dir) // the ingress writes to the dev desk's cases: its keys
	if err != nil {
		t.Fatal(err)
	}
	z, s, e := d.sandbox["zendesk"], d.sandbox["slack"], d.sandbox["enforcement"]
	env := config.MapLookup(map[string]string{
		"TEMPORAL_ADDRESS": d.ep.Temporal.Address, "TEMPORAL_NAMESPACE": d.ep.Temporal.Namespace,
		"DESK_DATA_DIR": t.TempDir(), "DESK_HTTP_ADDR": addr, "DESK_API_TOKEN": "split-token", "DESK_DASHBOARD_PASSWORD": "split-pass", "DESK_PAYLOAD_KEYS": keys, "DESK_POLICY_FILE": p,
		"DESK_LEDGER_URL": "off", "DESK_LOG_LEVEL": "warn",
		"ZENDESK_URL": z["url"].(string), "ZENDESK_EMAIL": z["email"].(string), "ZENDESK_API_TOKEN": z["api_token"].(string),
		"ZENDESK_WEBHOOK_SECRET": z["webhook_secret"].(string),
		"SLACK_API_URL":          s["api_url"].(string), "SLACK_BOT_TOKEN": s["bot_token"].(string), "SLACK_SIGNING_SECRET": s["signing_secret"].(string),
		"SLACK_CHANNEL":   s["channel"].(string),
		"ENFORCEMENT_URL": e["url"].(string), "ENFORCEMENT_TOKEN": e["token"].(string),
	})
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"run", "--components=http"}, io.Discard, stderr, env) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("desk run returned %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("desk run did not stop within 15 s")
		}
		if t.Failed() {
			t.Logf("desk run log:\n%s", stderr.String())
		}
	}()
	base := "http://" + addr
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the ingress did not get ready:\n%s", stderr.String())
		}
	}
	arf := "From: fbl@isp.example\r\nTo: abuse@provider.example\r\nSubject: Complaint\r\nMessage-ID: <split-1@isp.example>\r\n" +
		"Date: " + mailDate + "\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=feedback-report; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nSource-IP: 192.0.2.25\r\n\r\n--b--\r\n"
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/reports", bytes.NewReader([]byte(arf)))
	req.Header.Set("Authorization", "Bearer split-token")
	req.Header.Set("Content-Type", "message/rfc822")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusOK {
		t.Fatalf("the ingress answered %d: %s", resp.StatusCode, body)
	}
	v := d.waitStatus(workflows.CaseWorkflowID("acct-shop", "spam"), workflows.StatusAwaitingResponse, 30*time.Second)
	if v.Ticket.ID == "" || v.Reports.Count != 1 {
		t.Errorf("the case the other process runs: %+v", v)
	}
	metrics := getText(t, base+"/metrics")
	if !strings.Contains(metrics, "desk_task_queue_backlog_seconds ") {
		t.Error("the ingress exports no task queue backlog")
	}
	if strings.Contains(stderr.String(), "task queue statistics unreadable") {
		t.Errorf("the ingress could not read the task queue's statistics:\n%s", stderr.String())
	}
}
