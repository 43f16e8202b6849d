package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/proto"

	"abusedesk/app/cases"
	"abusedesk/domain/policy"
	"abusedesk/platform/config"
	"abusedesk/platform/httpx"
	"abusedesk/platform/tclient"
	"abusedesk/workflows"
)

// benchEnv is the world a bench desk runs in: stand-ins for Zendesk, Slack and the enforcement
// API served from the bench process (so the desk's own memory and CPU are measured alone),
// bench accounts owning 10.x.y.0/24 each, a policy, and the configuration pointing at them.
type benchEnv struct {
	o          *Options
	dir        string
	standIns   StandIns
	vars       map[string]string
	policyPath string
	accounts   int
}

// benchAccount is the ID of bench account i.
func benchAccount(i int) string { return fmt.Sprintf("acct-b%05d", i) }

// benchIP is an address of bench account i (host h).
func benchIP(i, h int) string { return fmt.Sprintf("10.%d.%d.%d", (i>>8)&255, i&255, 1+h%250) }

// newBenchEnv starts the stand-ins with n accounts and writes the policy (the default with
// edits, like the tests' fast policies) into dir.
func newBenchEnv(ctx context.Context, o *Options, dir string, n int, edits map[string]string) (*benchEnv, error) {
	if n > 65_000 {
		return nil, fmt.Errorf("at most 65,000 bench accounts (one /24 each in 10.0.0.0/8), not %d", n)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	b := &benchEnv{o: o, dir: dir, accounts: n}
	// The bench measures the machinery, not the judgment: one reporter's report may end in
	// an automatic action, as the scenarios expect.
	p := strings.Replace(string(policy.DefaultYAML()), "corroboration:\n    reporters: 2", "corroboration:\n    reporters: 1", 1)
	p = strings.Replace(p, "first_enforcement: true", "first_enforcement: false", 1)
	for from, to := range edits {
		if !strings.Contains(p, from) {
			return nil, fmt.Errorf("bench policy: the default policy no longer contains %q", from)
		}
		p = strings.ReplaceAll(p, from, to)
	}
	b.policyPath = filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(b.policyPath, []byte(p), 0o644); err != nil {
		return nil, err
	}
	if _, err := policy.Load(b.policyPath); err != nil {
		return nil, fmt.Errorf("bench policy: %w", err)
	}

	accounts := make([]Account, n)
	for i := range n {
		accounts[i] = Account{ID: benchAccount(i), Name: fmt.Sprintf("Bench Customer %d", i), ContactEmail: fmt.Sprintf("ops@b%05d.example", i),
			Range: fmt.Sprintf("10.%d.%d.0/24", (i>>8)&255, i&255)}
	}
	b.standIns = o.NewStandIns()
	vars, err := b.standIns.Serve(accounts)
	if err != nil {
		b.close()
		return nil, err
	}
	b.vars = vars
	// Provision the stand-in like a real account (fields, macros); nothing here calls the webhook.
	var out bytes.Buffer
	if err := b.o.Run(ctx, []string{"zendesk", "--webhook-url", "http://127.0.0.1:9/webhooks/zendesk", "--policy", b.policyPath, "provision"},
		&out, &out, config.MapLookup(b.vars)); err != nil {
		b.close()
		return nil, fmt.Errorf("provision the bench Zendesk: %w\n%s", err, out.String())
	}
	return b, nil
}

func (b *benchEnv) close() {
	if b.standIns != nil {
		b.standIns.Close()
	}
}

// benchDesk is one running `desk dev`, or the production topology (Options.Topology).
type benchDesk struct {
	env     *benchEnv
	dataDir string
	ep      config.Endpoints
	tc      client.Client
	cases   *cases.Client
	// pid is the desk process (this one with InProcess); cluster the production topology
	// instead, when it runs.
	pid       int
	cluster   ProductionTopology
	ledgerURL string
	cmd       *exec.Cmd
	cancel    context.CancelFunc
	done      chan error
	logFile   *os.File
	// ready is how long it took from the start to a ready /readyz.
	ready time.Duration
	// stopped is set by the first stop; later calls return nothing more.
	stopped bool
}

// startDesk runs desk dev on dataDir with the bench configuration (and extra variables).
func (b *benchEnv) startDesk(ctx context.Context, dataDir string, extra map[string]string) (*benchDesk, error) {
	vars := map[string]string{}
	for k, v := range b.vars {
		vars[k] = v
	}
	for k, v := range b.o.Set {
		vars[k] = v
	}
	for k, v := range extra {
		vars[k] = v
	}
	if b.o.Topology == Cluster {
		return b.startCluster(ctx, dataDir, vars)
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, err
	}
	_ = os.Remove(filepath.Join(dataDir, "endpoints.json"))
	logFile, err := os.OpenFile(filepath.Join(dataDir, "desk.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	args := []string{"dev", "--data-dir", dataDir, "--http-port", "0", "--temporal-port", "0", "--ui-port", "-1", "--policy", b.policyPath}
	d := &benchDesk{env: b, dataDir: dataDir, done: make(chan error, 1), logFile: logFile, ledgerURL: filepath.Join(dataDir, "ledger.db")}
	start := time.Now()
	if b.o.InProcess {
		dctx, cancel := context.WithCancel(context.Background())
		d.cancel, d.pid = cancel, os.Getpid()
		go func() { d.done <- b.o.Run(dctx, args, io.Discard, logFile, config.MapLookup(vars)) }()
	} else {
		self, err := os.Executable()
		if err != nil {
			return nil, err
		}
		cmd := exec.Command(self, args...)
		cmd.Env = childEnv(vars, b.o.ChildEnv)
		cmd.Stdout, cmd.Stderr = logFile, logFile
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("start desk dev: %w", err)
		}
		d.cmd, d.pid = cmd, cmd.Process.Pid
		go func() { d.done <- cmd.Wait() }()
	}
	if err := d.waitReady(ctx, 5*time.Minute); err != nil {
		_, _ = d.stop()
		return nil, fmt.Errorf("%w (log: %s)", err, filepath.Join(dataDir, "desk.log"))
	}
	d.ready = time.Since(start)
	if err := d.dial(); err != nil {
		return nil, err
	}
	return d, nil
}

// temporal is how the bench reaches the desk's Temporal: the cluster's (mTLS), or the desk
// dev's embedded server with the keys it keeps in its data dir.
func (d *benchDesk) temporal() (config.Temporal, error) {
	if d.cluster != nil {
		return d.cluster.Temporal(), nil
	}
	keys, err := tclient.DevKeys(d.dataDir)
	return config.Temporal{Address: d.ep.Temporal.Address, Namespace: d.ep.Temporal.Namespace, PayloadKeys: keys}, err
}

// dial connects the bench's Temporal client to the desk's server; a failure stops the desk.
func (d *benchDesk) dial() error {
	tcfg, err := d.temporal()
	if err != nil {
		_, _ = d.stop()
		return err
	}
	opts, err := tclient.Options(tcfg)
	if err != nil {
		_, _ = d.stop()
		return err
	}
	opts.Logger = tclient.SDKLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	tc, err := client.Dial(opts)
	if err != nil {
		_, _ = d.stop()
		return err
	}
	d.tc, d.cases = tc, &cases.Client{T: tc}
	return nil
}

// startCluster starts the production topology on dataDir (its processes log under its logs/).
func (b *benchEnv) startCluster(ctx context.Context, dataDir string, vars map[string]string) (*benchDesk, error) {
	fmt.Fprintf(b.o.Log, "starting the production topology in %s\n", dataDir)
	start := time.Now()
	c, err := b.o.StartCluster(ctx, dataDir, vars, b.policyPath)
	if err != nil {
		return nil, fmt.Errorf("start the cluster: %w", err)
	}
	d := &benchDesk{env: b, dataDir: dataDir, cluster: c, ep: c.Endpoints(), ledgerURL: c.LedgerURL(), ready: time.Since(start)}
	fmt.Fprintf(b.o.Log, "cluster up in %s (logs in %s)\n", d.ready.Round(time.Millisecond), dataDir)
	if err := d.dial(); err != nil {
		return nil, err
	}
	return d, nil
}

// startProfiled starts a desk for a scenario. With --profile the desk serves pprof and a
// 30-second CPU profile starts now; the returned func waits for it to be saved as
// desk-SCENARIO.pprof (without --profile it does nothing).
func (b *benchEnv) startProfiled(ctx context.Context, dataDir, scenario string) (*benchDesk, func(), error) {
	if b.o.Profile == "" {
		d, err := b.startDesk(ctx, dataDir, nil)
		return d, func() {}, err
	}
	d, err := b.startDesk(ctx, dataDir, map[string]string{"DESK_PPROF": "true"})
	if err != nil {
		return nil, nil, err
	}
	return d, d.profile(filepath.Join(b.o.Profile, "desk-"+scenario+".pprof"), 30*time.Second), nil
}

// childEnv is this process's environment without any desk configuration, plus vars and extra.
func childEnv(vars, extra map[string]string) []string {
	ours := map[string]bool{}
	for _, v := range config.Vars {
		ours[v.Name], ours[v.Name+"_FILE"] = true, true
	}
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !ours[k] {
			env = append(env, kv)
		}
	}
	for _, m := range []map[string]string{vars, extra} {
		for k, v := range m {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// waitReady waits for this start's endpoints.json and a ready /readyz.
func (d *benchDesk) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case err := <-d.done:
			return fmt.Errorf("desk dev stopped while starting: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		ep, err := config.ReadEndpoints(d.dataDir)
		if err != nil || ep.PID != d.pid || ep.Temporal == nil {
			continue
		}
		resp, err := http.Get(ep.HTTP + "/readyz")
		if err != nil {
			continue
		}
		_ = resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			d.ep = ep
			return nil
		}
	}
	return errors.New("desk dev was not ready in time")
}

// stop stops the desk as Ctrl-C would and returns how long that took.
func (d *benchDesk) stop() (time.Duration, error) {
	if d.stopped {
		return 0, nil
	}
	d.stopped = true
	if d.tc != nil {
		d.tc.Close()
		d.tc = nil
	}
	start := time.Now()
	if d.cluster != nil {
		d.cluster.Stop()
		return time.Since(start), nil
	}
	if d.cancel != nil {
		d.cancel()
	} else if d.cmd != nil && d.cmd.Process != nil {
		_ = d.cmd.Process.Signal(syscall.SIGINT)
	}
	var err error
	select {
	case err = <-d.done:
	case <-time.After(60 * time.Second):
		if d.cmd != nil {
			_ = d.cmd.Process.Kill()
		}
		err = errors.New("desk dev did not stop within 60 s")
	}
	_ = d.logFile.Close()
	return time.Since(start), err
}

// pids are the desk's processes: the one desk dev, or the cluster's desk processes.
func (d *benchDesk) pids() []int {
	if d.cluster != nil {
		return d.cluster.DeskPIDs()
	}
	return []int{d.pid}
}

// rss is the desk's resident memory now and at its peak, in bytes (Linux), summed over its
// processes.
func (d *benchDesk) rss() (now, peak int64) {
	for _, pid := range d.pids() {
		n, p := processRSS(pid)
		now, peak = now+n, peak+p
	}
	return now, peak
}

func processRSS(pid int) (now, peak int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && (f[0] == "VmRSS:" || f[0] == "VmHWM:") {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			if f[0] == "VmRSS:" {
				now = kb * 1024
			} else {
				peak = kb * 1024
			}
		}
	}
	return now, peak
}

// cpu is the CPU time the desk's processes have used (user + system; Linux, 100 ticks/s).
func (d *benchDesk) cpu() time.Duration {
	var t time.Duration
	for _, pid := range d.pids() {
		t += processCPU(pid)
	}
	return t
}

// serverCPU is the CPU time the cluster's Temporal server and database have used, their child
// processes included (PostgreSQL runs a process per connection); 0 on the embedded default,
// whose server runs inside the desk.
func (d *benchDesk) serverCPU() time.Duration {
	if d.cluster == nil {
		return 0
	}
	var t time.Duration
	for _, pid := range d.cluster.ServerPIDs() {
		t += processCPU(pid)
		for _, child := range childPIDs(pid) {
			t += processCPU(child)
		}
	}
	return t
}

// databaseBytes is the size of the cluster's Temporal databases (0 on the embedded default:
// dbBytes).
func (d *benchDesk) databaseBytes(ctx context.Context) (int64, error) {
	if d.cluster == nil {
		return 0, nil
	}
	return d.cluster.DatabaseBytes(ctx)
}

// statFields are the fields of /proc/PID/stat after the command name (which may hold spaces).
func statFields(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	s := string(b)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
}

func processCPU(pid int) time.Duration {
	f := statFields(pid)
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// childPIDs are the processes whose parent is pid.
func childPIDs(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if f := statFields(p); len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, p)
		}
	}
	return out
}

// dbBytes is the size of the embedded Temporal database with its WAL.
func (d *benchDesk) dbBytes() int64 {
	var n int64
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if fi, err := os.Stat(filepath.Join(d.dataDir, d.env.o.DatabaseFile+suffix)); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// metric reads one counter from the desk's /metrics.
func (d *benchDesk) metric(name string) float64 {
	req, err := http.NewRequest(http.MethodGet, d.ep.HTTP+"/metrics", nil)
	if err != nil {
		return 0
	}
	if d.ep.MetricsToken != "" {
		req.Header.Set("Authorization", "Bearer "+d.ep.MetricsToken)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer func() { _ = resp.Body.Close() }()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), " "); ok && k == name {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}

// profile saves a CPU profile of the desk (DESK_PPROF) taken over the next d to path, in the
// background; the returned func waits for it.
func (d *benchDesk) profile(path string, dur time.Duration) func() {
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, err := http.Get(fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", d.ep.HTTP, int(dur.Seconds())))
		if err != nil {
			fmt.Fprintf(d.env.o.Log, "profile: %v\n", err)
			return
		}
		defer func() { _ = resp.Body.Close() }()
		b, err := io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode == http.StatusOK {
			err = errors.Join(os.MkdirAll(filepath.Dir(path), 0o755), os.WriteFile(path, b, 0o644))
		} else if err == nil {
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if err != nil {
			fmt.Fprintf(d.env.o.Log, "profile: %v\n", err)
			return
		}
		fmt.Fprintf(d.env.o.Log, "CPU profile of the desk: %s\n", path)
	}()
	return func() { <-done }
}

// benchMail is an ARF complaint about addr, unique by n: each is about its own message (the
// reported headers' Message-ID), as an FBL's complaints are, so no two are the same evidence.
func benchMail(n int, addr string, at time.Time, fields ...string) []byte {
	return fmt.Appendf(nil, "From: fbl@isp.example\r\nTo: abuse@provider.example\r\nSubject: Complaint about %s\r\n"+
		"Message-ID: <bench-%d@isp.example>\r\nDate: %s\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: multipart/report; report-type=feedback-report; boundary=b\r\n\r\n"+
		"--b\r\nContent-Type: text/plain\r\n\r\nA subscriber reported this message as spam.\r\n"+
		"--b\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: BenchFBL/1\r\nVersion: 1\r\n"+
		"Source-IP: %s\r\nArrival-Date: %s\r\n%s\r\n"+
		"--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <reported-%d@sender.invalid>\r\nSubject: Offer\r\n\r\n--b--\r\n",
		addr, n, at.Format(time.RFC1123Z), addr, at.Format(time.RFC1123Z), strings.Join(fields, ""), n)
}

// stormPlan spreads reports over accounts with a Zipf skew (fixed seed: the same plan every run).
func stormPlan(reports, accounts int, s float64, seed uint64) []int {
	z := rand.NewZipf(rand.New(rand.NewPCG(seed, 42)), s, 1, uint64(accounts-1))
	plan := make([]int, reports)
	for i := range plan {
		plan[i] = int(z.Uint64())
	}
	return plan
}

// postResult is what posting reports to the API gave.
type postResult struct {
	accepted, retries int64
	first, last       time.Time
	failures          []string
}

func (p *postResult) rate() float64 {
	if p.accepted == 0 {
		return 0
	}
	return float64(p.accepted) / p.last.Sub(p.first).Seconds()
}

// post sends n messages to the reports API from clients concurrent clients as fast as they go;
// a 503 is sent again after its Retry-After (postReport), for up to ten minutes. stop, when
// closed, ends it early.
func (d *benchDesk) post(ctx context.Context, n, clients int, msg func(i int) []byte, stop <-chan struct{}) *postResult {
	tr := &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 2 * time.Minute}
	url, token := d.ep.API.URL, d.ep.API.Token
	res := &postResult{first: time.Now()}
	pctx, cancel := context.WithCancel(ctx) // stop ends the posting, requests under way too
	defer cancel()
	if stop != nil {
		go func() {
			select {
			case <-stop:
				cancel()
			case <-pctx.Done():
			}
		}()
	}
	var next, accepted, retries atomic.Int64
	var mu sync.Mutex
	var lastNanos atomic.Int64
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				status, _, again, err := httpx.PostUntilAcceptedPacing(pctx, hc, url, token, "message/rfc822", msg(i), time.Now().Add(10*time.Minute), d.pace())
				retries.Add(int64(again))
				switch {
				case status == http.StatusOK || status == http.StatusAccepted:
					accepted.Add(1)
					lastNanos.Store(time.Now().UnixNano())
				case pctx.Err() != nil:
					return
				default:
					mu.Lock()
					if len(res.failures) < 5 {
						res.failures = append(res.failures, fmt.Sprintf("report %d: status %d %v", i, status, err))
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	res.accepted, res.retries = accepted.Load(), retries.Load()
	res.last = time.Unix(0, lastNanos.Load())
	return res
}

// pace is how long the bench's clients wait before sending a refused report again: the
// server's Retry-After, or nothing at all with Options.Greedy.
func (d *benchDesk) pace() func(time.Duration) time.Duration {
	if d.env.o.Greedy {
		return func(time.Duration) time.Duration { return time.Millisecond }
	}
	return func(retryAfter time.Duration) time.Duration { return retryAfter }
}

// caseCounts sums the report counts of the cases matching a query (visibility).
func (d *benchDesk) caseCounts(ctx context.Context, query string) (map[string]int64, error) {
	out := map[string]int64{}
	var token []byte
	for {
		list, next, err := d.cases.List(ctx, query, 1000, token)
		if err != nil {
			return nil, err
		}
		for _, s := range list {
			out[s.Account] += s.ReportCount
		}
		if len(next) == 0 {
			return out, nil
		}
		token = next
	}
}

// historyStats counts, over every run of the workflows matching a query, the workflow tasks
// completed, the events and the bytes of history.
type historyStats struct {
	runs, workflowTasks, events, signals int64
	bytes                                int64
}

func (d *benchDesk) historyStats(ctx context.Context, query string) (historyStats, error) {
	var runs []*workflowservice.ListWorkflowExecutionsResponse
	var token []byte
	for {
		resp, err := d.tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query, PageSize: 1000, NextPageToken: token})
		if err != nil {
			return historyStats{}, err
		}
		runs = append(runs, resp)
		if len(resp.NextPageToken) == 0 {
			break
		}
		token = resp.NextPageToken
	}
	type exec struct{ id, run string }
	var execs []exec
	var st historyStats
	for _, r := range runs {
		for _, e := range r.Executions {
			execs = append(execs, exec{e.GetExecution().GetWorkflowId(), e.GetExecution().GetRunId()})
		}
	}
	st.runs = int64(len(execs))
	var mu sync.Mutex
	var firstErr error
	work := make(chan exec)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for e := range work {
				var tasks, events, signals, size int64
				it := d.tc.GetWorkflowHistory(ctx, e.id, e.run, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
				for it.HasNext() {
					ev, err := it.Next()
					if err != nil {
						mu.Lock()
						firstErr = errors.Join(firstErr, err)
						mu.Unlock()
						break
					}
					events++
					size += int64(proto.Size(ev))
					switch ev.GetEventType() {
					case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
						tasks++
					case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
						signals++
					}
				}
				mu.Lock()
				st.workflowTasks += tasks
				st.events += events
				st.signals += signals
				st.bytes += size
				mu.Unlock()
			}
		})
	}
	for _, e := range execs {
		work <- e
	}
	close(work)
	wg.Wait()
	return st, firstErr
}

// waitFor polls cond every interval until it holds or the timeout passes.
func waitFor(ctx context.Context, timeout, interval time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not done within %v", timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}

// percentile of sorted durations (p in 0..100).
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p / 100)
	return sorted[i]
}

func sortedDurations(d []time.Duration) []time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s
}

// caseIDsOf are the case IDs of a workflow query (visibility).
func (d *benchDesk) caseSummaries(ctx context.Context, query string) ([]cases.Summary, error) {
	var all []cases.Summary
	var token []byte
	for {
		list, next, err := d.cases.List(ctx, query, 1000, token)
		if err != nil {
			return nil, err
		}
		all = append(all, list...)
		if len(next) == 0 {
			return all, nil
		}
		token = next
	}
}

// caseQuery is a visibility query on the cases of one status.
func statusQuery(s workflows.Status) string {
	return workflows.SearchStatus.GetName() + " = " + cases.Quote(string(s))
}
