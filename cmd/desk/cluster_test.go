package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"go.temporal.io/sdk/client"

	"abusedesk/app/cases"
	"abusedesk/devenv/cluster"
	"abusedesk/platform/config"
	"abusedesk/platform/tclient"
	"abusedesk/testenv/pgtest"
	"abusedesk/workflows"
)

// TestCluster runs the production topology — PostgreSQL, the Temporal server built from the
// module graph, two worker processes and an ingress — and storms it through the ingress while a
// worker is killed with SIGKILL and the Temporal server is killed and started again: every case
// must finish (notice, deadline, enforcement, appeal window), every report counted once in its
// case and in the PostgreSQL ledger.
func TestCluster(t *testing.T) {
	t.Parallel()
	skipShort(t)
	pgtest.NeedServer(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The customer's window outlasts the storm, the kill and the restart even on a busy machine
	// (the tests run side by side): every report must land in its case before it is enforced.
	p := fastPolicy(t, t.TempDir(), map[string]string{"window: 14d": "window: 40s"})
	// The blocklist watch runs too, on a few addresses of a list that answers nothing.
	appendFile(t, p, "\nmonitoring:\n  networks: [192.0.2.28/30]\n  blocklists: [{zone: dnsbl.cluster.invalid}]\n  every: 1m\n")
	ctx := context.Background()
	dir := t.TempDir()
	started := time.Now()
	c, err := cluster.Start(ctx, cluster.Options{Dir: dir, Workers: 2, Desk: []string{self}, DeskEnv: map[string]string{"DESK_TEST_AS_DESK": "1"}, PolicyFile: p})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	defer func() {
		if t.Failed() {
			for _, f := range []string{"ingress.log", "worker-1.log", "worker-2.log"} {
				b, _ := os.ReadFile(c.Logs() + "/" + f)
				t.Logf("%s:\n%s", f, tail(string(b), 4000))
			}
		}
	}()
	t.Logf("cluster up in %s", time.Since(started).Round(time.Millisecond))
	composeMatches(t, c.Processes())
	// Temporal is an admin surface: it takes mTLS only. A client without the cluster's
	// certificate gets nowhere (as the temporal CLI would without --tls-cert-path).
	for name, cfg := range map[string]config.Temporal{
		"no TLS":                           {Address: c.Frontend, Namespace: cluster.Namespace},
		"TLS without a client certificate": {Address: c.Frontend, Namespace: cluster.Namespace, TLSCA: c.TLS.CA},
	} {
		opts, err := tclient.Options(cfg)
		if err != nil {
			t.Fatal(err)
		}
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if tc, err := client.DialContext(dctx, opts); err == nil {
			_, err = tc.CheckHealth(dctx, &client.CheckHealthRequest{})
			tc.Close()
			if err == nil {
				t.Errorf("%s: the Temporal frontend answered", name)
			}
		}
		cancel()
	}

	sources := map[string]string{"acct-shop": "192.0.2.30", "acct-again": "203.0.113.10", "acct-blaster": "10.17.18.5"}
	accounts := []string{"acct-shop", "acct-again", "acct-blaster"}
	const total = 300
	var posted atomic.Int64
	sent := map[string]int{}
	post := func(i int) error {
		acct := accounts[i%len(accounts)]
		msg := fmt.Appendf(nil, "From: fbl@isp.example\r\nTo: abuse@provider.example\r\nSubject: Complaint %d\r\nMessage-ID: <cluster-%d@isp.example>\r\n"+
			"Date: "+mailDate+"\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=feedback-report; boundary=b\r\n\r\n"+
			"--b\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nSource-IP: %s\r\n\r\n--b--\r\n", i, i, sources[acct])
		for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(250 * time.Millisecond) {
			req, _ := http.NewRequest(http.MethodPost, c.IngressURL+"/api/v1/reports", bytes.NewReader(msg))
			req.Header.Set("Authorization", "Bearer "+c.APIToken)
			req.Header.Set("Content-Type", "message/rfc822")
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusOK {
					posted.Add(1)
					return nil
				}
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("report %d not accepted in 2 minutes (last: %v)", i, err)
			}
		}
	}
	for i := range total {
		sent[accounts[i%len(accounts)]]++
	}
	var wg sync.WaitGroup
	errs := make(chan error, total)
	next := atomic.Int64{}
	stormStart := time.Now()
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= total {
					return
				}
				if err := post(i); err != nil {
					errs <- err
				}
			}
		}()
	}
	// Mid-storm: a worker killed outright, then the Temporal server.
	waitPosted := func(n int64) {
		for posted.Load() < n {
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitPosted(total / 3)
	if err := c.KillWorker(0); err != nil {
		t.Fatal(err)
	}
	waitPosted(2 * total / 3)
	failover, err := c.RestartTemporal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.StartWorker(0); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	accepted := time.Since(stormStart)

	opts, err := tclient.Options(c.Temporal(""))
	if err != nil {
		t.Fatal(err)
	}
	tc, err := client.Dial(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	cc := &cases.Client{T: tc}
	for _, acct := range accounts {
		id := workflows.CaseWorkflowID(acct, "spam")
		var v *workflows.CaseView
		for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
			if v, err = cc.Status(ctx, id); err == nil && v.Status.Final() {
				break
			}
		}
		if v == nil || !v.Status.Final() {
			t.Fatalf("%s did not finish: %+v %v", id, v, err)
		}
		if v.Outcome != workflows.OutcomeEnforced || v.Reports.Count != sent[acct] || v.Reports.Duplicates != 0 {
			t.Errorf("%s: outcome %s, %d reports (%d duplicates), want enforced with %d", id, v.Outcome, v.Reports.Count, v.Reports.Duplicates, sent[acct])
		}
	}
	done := time.Since(stormStart)
	db, err := sql.Open("pgx", c.LedgerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ledgered int
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		if err := db.QueryRow(`SELECT COALESCE(SUM(reports), 0) FROM cases WHERE category = 'spam'`).Scan(&ledgered); err != nil {
			t.Fatal(err)
		}
		if ledgered == total || time.Now().After(deadline) {
			break
		}
	}
	if ledgered != total {
		t.Errorf("the PostgreSQL ledger counts %d reports, want %d", ledgered, total)
	}
	// Each worker process writes its task wait for the ingress (the restarted one under a new
	// process ID), fresh while it runs.
	var workers, fresh int
	if err := db.QueryRow(`SELECT COUNT(*), COUNT(*) FILTER (WHERE at_ms > $1) FROM worker_waits`, time.Now().Add(-5*time.Second).UnixMilli()).Scan(&workers, &fresh); err != nil {
		t.Fatal(err)
	}
	if workers < c.Workers() || fresh < c.Workers() {
		t.Errorf("worker_waits: %d workers wrote, %d lately; want each of the %d", workers, fresh, c.Workers())
	}
	// The periodic work is Temporal Schedules the workers made: each survived the worker's kill
	// and the server's restart, and ran once per window whatever the number of workers.
	for _, id := range []string{workflows.TrendWatchScheduleID, workflows.BlocklistWatchScheduleID} {
		h := tc.ScheduleClient().GetHandle(ctx, id)
		var desc *client.ScheduleDescription
		for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(time.Second) {
			desc, err = h.Describe(ctx)
			if (err == nil && len(desc.Info.RecentActions) > 0) || time.Now().After(deadline) {
				break
			}
		}
		if err != nil || len(desc.Info.RecentActions) == 0 {
			t.Errorf("schedule %s: %v, no run yet", id, err)
			continue
		}
		windows := map[time.Time]bool{}
		for _, a := range desc.Info.RecentActions {
			if windows[a.ScheduleTime] {
				t.Errorf("schedule %s ran twice for the window %s", id, a.ScheduleTime)
			}
			windows[a.ScheduleTime] = true
		}
		t.Logf("schedule %s: %d run(s), one per window", id, len(windows))
	}
	t.Logf("%d reports through the ingress in %s (a worker killed, the Temporal server restarted: frontend back in %s); every case finished and counted %s after the storm began",
		total, accepted.Round(time.Millisecond), failover.Round(time.Millisecond), done.Round(time.Millisecond))
}

// composeMatches keeps docker-compose.yml and the cluster in step: the same desk processes (by
// their components), each variable the cluster gives one set in compose's service too (but for
// the stand-ins' own), and each variable compose demands of the operator given by the cluster.
func composeMatches(t *testing.T, procs []cluster.Process) {
	t.Helper()
	doc := readCompose(t)
	byComps := map[string]composeService{}
	for _, svc := range doc.Services {
		if comps := svc.components(); comps != "" {
			byComps[comps] = svc
		}
	}
	seen := map[string]bool{}
	for _, p := range procs {
		svc, ok := byComps[p.Components]
		if !ok {
			t.Errorf("the cluster's %s runs --components=%s; docker-compose.yml has no such service", p.Name, p.Components)
			continue
		}
		seen[p.Components] = true
		for k := range p.Env {
			if _, set := svc.Environment[k]; !set && !slices.Contains(cluster.StandInOnly, k) {
				t.Errorf("the cluster's %s sets %s; docker-compose.yml's --components=%s service does not", p.Name, k, p.Components)
			}
		}
		for k, v := range svc.Environment {
			if strings.Contains(v, ":?") {
				if _, set := p.Env[k]; !set {
					t.Errorf("docker-compose.yml demands %s for --components=%s; the cluster's %s does not set it", k, p.Components, p.Name)
				}
			}
		}
	}
	for comps := range byComps {
		if !seen[comps] {
			t.Errorf("docker-compose.yml runs --components=%s; the cluster does not", comps)
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
