package main

import (
	"cmp"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"abusedesk/activities"
	"abusedesk/integrations/enforcement"
	"abusedesk/integrations/mailbox"
	"abusedesk/integrations/probe"
	"abusedesk/integrations/reports"
	deskslack "abusedesk/integrations/slack"
	"abusedesk/integrations/zendesk"
	"abusedesk/internal/app/cases"
	"abusedesk/internal/app/casesapi"
	"abusedesk/internal/app/dashboard"
	"abusedesk/internal/app/inbound"
	"abusedesk/internal/app/intake"
	"abusedesk/internal/app/ledger"
	"abusedesk/internal/app/signin"
	"abusedesk/internal/domain/abuse"
	"abusedesk/internal/domain/approval"
	"abusedesk/internal/domain/policy"
	"abusedesk/internal/platform/config"
	"abusedesk/internal/platform/durable"
	"abusedesk/internal/platform/evidence"
	"abusedesk/internal/platform/ingress"
	"abusedesk/internal/platform/metrics"
	"abusedesk/internal/platform/tclient"
	"abusedesk/templates"
	"abusedesk/workflows"
)

// components says which parts a process runs (`desk run --components`).
type components struct {
	worker, http, imap bool
}

// services are the outside systems the activities and intake talk to.
type services struct {
	tickets     activities.Tickets
	accounts    activities.Accounts
	enforcement activities.Enforcement
	approvals   activities.Approvals
	handOffs    activities.HandOffs
	alerts      activities.Alerts
}

// The integrations' clients are what the activities need of the outside systems.
var (
	_ activities.Tickets     = (*zendesk.Client)(nil)
	_ activities.Accounts    = (*enforcement.Client)(nil)
	_ activities.Enforcement = (*enforcement.Client)(nil)
	_ activities.Approvals   = (*deskslack.Client)(nil)
	_ activities.Alerts      = (*deskslack.Client)(nil)
	_ activities.Reports     = cases.Forwarder{}
)

// app is one running desk process: its components in start order, stopped in reverse.
type app struct {
	log     *slog.Logger
	cfg     config.Desk
	metrics *metrics.Metrics
	policy  *policy.Policy
	// templates are parsed once at start: a broken template stops the start.
	templates *templates.Renderer
	evidence  *evidence.Store
	ledger    *ledger.Store
	// apiToken is the reports API's bearer token, which the cases API takes too.
	apiToken string
	temporal client.Client
	// codec encrypts the payloads (nil: DESK_PAYLOAD_KEYS=off); /codec serves it.
	codec *tclient.Codec
	// watcher watches the abuse mailbox (nil: none here).
	watcher *mailbox.Watcher
	// pressure is how far behind this process's worker is (nothing when no worker runs here).
	pressure *tclient.Pressure
	// backlog is how far behind the task queue's workers are, from the server's statistics:
	// what a process without a worker holds intake back on (nil when a worker runs here).
	backlog *tclient.Backlog
	svc     services

	integrations config.Integrations
	zendesk      *zendesk.Client
	slack        *deskslack.Client
	enforcement  *enforcement.Client
	cases        *cases.Client
	intake       *intake.Intake
	reporters    *intake.Reporters
	// dev are the development environment's parts (desk dev): nothing in a build without it.
	dev    devParts
	http   *ingress.Server
	worker worker.Worker

	workerUp atomic.Bool
	// stops run in reverse order at shutdown, each with what is left of the shutdown budget.
	stops []func(ctx context.Context)
	// endpoints are written to <data-dir>/endpoints.json.
	endpoints config.Endpoints
	// uiOff says why desk dev runs no Temporal Web UI ("": it runs one, or was told not to).
	uiOff string
}

func newLogger(cfg config.Desk, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func (a *app) onStop(f func(ctx context.Context)) { a.stops = append(a.stops, f) }

// shutdown stops everything in reverse start order within the shutdown budget.
func (a *app) shutdown() {
	budget := a.cfg.ShutdownTimeout
	if budget <= 0 {
		budget = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	for i := len(a.stops) - 1; i >= 0; i-- {
		a.stops[i](ctx)
	}
}

// loadShared parses the templates, loads the policy and opens the evidence store.
func (a *app) loadShared(policyPath string) error {
	r, err := templates.New()
	if err != nil {
		return fmt.Errorf("templates: %w", err)
	}
	a.templates = r
	p, err := policy.Load(policyPath)
	if err != nil {
		return err
	}
	a.policy = p
	store, err := evidence.Open(filepath.Join(a.cfg.DataDir, "evidence"))
	if err != nil {
		return err
	}
	a.evidence = store
	return nil
}

// openLedger opens the case ledger (DESK_LEDGER_URL, or SQLite under the data dir) and brings
// its schema up to date.
func (a *app) openLedger(ctx context.Context) error {
	if a.cfg.LedgerOff() {
		a.log.Warn("no ledger is kept (DESK_LEDGER_URL=off): case events are not recorded, there are no operations figures")
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	l, err := ledger.Open(ctx, a.cfg.Ledger())
	if err != nil {
		return fmt.Errorf("%w (DESK_LEDGER_URL)", err)
	}
	l.OnKept = func(c workflows.LedgerCase, e workflows.LedgerEvent) {
		result := cmp.Or(string(e.Outcome), e.Decision)
		a.metrics.CaseEvents.WithLabelValues(e.Kind, string(c.Category), string(c.Track), result).Inc()
		switch e.Kind {
		case workflows.LedgerNoticed:
			a.metrics.CaseStep.WithLabelValues("notice", string(c.Category)).Observe(e.At.Sub(c.OpenedAt).Seconds())
		case workflows.LedgerEnforced:
			a.metrics.CaseStep.WithLabelValues("action", string(c.Category)).Observe(e.At.Sub(c.OpenedAt).Seconds())
		}
	}
	l.SampleRate = a.policy.QA.Rate
	l.OwnDomains = a.policy.Trends.OwnDomains
	a.ledger = l
	a.onStop(func(context.Context) { _ = l.Close() })
	a.log.Info("ledger open", "database", l.Where)
	return nil
}

// trendRules are the policy's spike rules.
func (a *app) trendRules() ledger.TrendRules {
	t := a.policy.Trends
	return ledger.TrendRules{Window: t.Window.D(), Baseline: t.Baseline.D(), Factor: t.Factor, Floor: t.Floor, ClusterMaxAccounts: t.ClusterMaxAccounts}
}

// spikes is one turn of the spike watch: the window's spikes to the leads' channel in one
// message (the ledger lets one process post a window's alert).
func (a *app) spikes(ctx context.Context) (int, error) {
	if a.ledger == nil || a.svc.alerts == nil {
		return 0, nil
	}
	link := strings.TrimRight(a.publicURL(), "/") + "/trends"
	n, err := a.ledger.AlertSpikes(ctx, time.Now(), a.trendRules(), a.policy.Trends.Quiet.D(), link,
		func(ctx context.Context, text string) error {
			return a.svc.alerts.PostAlertTo(ctx, "", text, approval.Approvers{})
		})
	if n > 0 {
		a.log.Info("spike alerts sent", "count", n)
	}
	return n, err
}

// scheduleTrends makes sure the spike watch runs as a Temporal Schedule, every minute, one run
// at a time whatever the number of workers (each worker tries; the first creates it). A desk
// without a ledger or Slack watches nothing.
func (a *app) scheduleTrends(ctx context.Context) {
	if a.ledger == nil || a.svc.alerts == nil {
		return
	}
	_, err := a.temporal.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:   workflows.TrendWatchScheduleID,
		Spec: client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: workflows.TrendWatchEvery}}},
		Action: &client.ScheduleWorkflowAction{
			ID: workflows.TrendWatchScheduleID, Workflow: workflows.TrendWatchWorkflowType, TaskQueue: workflows.TaskQueue,
			WorkflowRunTimeout: 5 * time.Minute,
		},
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		Note:    "abusedesk: report spikes to the leads, once a minute (created by the desk at start)",
	})
	switch {
	case err == nil:
		a.log.Info("the spike watch is scheduled", "schedule", workflows.TrendWatchScheduleID, "every", workflows.TrendWatchEvery)
	case errors.Is(err, temporal.ErrScheduleAlreadyRunning):
	default:
		a.log.Error("the spike watch could not be scheduled: no spike alerts until a desk starts that can", "error", err)
	}
}

// openAPI describes the desk's HTTP API (served at /api/v1/openapi.yaml; TestOpenAPIMatchesRoutes
// keeps it equal to the routes).
//
//go:embed openapi.yaml
var openAPI []byte

// testHookHTTP, set by a test, hears of each desk's HTTP server as it is made.
var testHookHTTP func(*ingress.Server)

// listenHTTP binds the HTTP server, so its address is known before anything is served.
func (a *app) listenHTTP(addr string) error {
	a.http = ingress.New(a.log, a.metrics)
	a.http.RequireMetricsToken(a.cfg.MetricsToken)
	// CSRF tokens one ingress gives are good at every other: they share these secrets.
	if secret := cmp.Or(string(a.cfg.OIDC.SessionKey), a.cfg.DashboardPassword); secret != "" {
		a.http.SetCSRFKey(ingress.CSRFKeyFrom(secret))
	}
	if a.cfg.PublicURL != "" {
		// Pages served through a proxy at the public URL may post to the desk.
		u, err := url.Parse(a.cfg.PublicURL)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return fmt.Errorf("DESK_PUBLIC_URL: %q is not an absolute URL", a.cfg.PublicURL)
		}
		if err := a.http.TrustOrigin(u.Scheme + "://" + u.Host); err != nil {
			return fmt.Errorf("DESK_PUBLIC_URL: %w", err)
		}
	}
	a.http.Handle("GET /api/v1/openapi.yaml", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(openAPI)
	}))
	if testHookHTTP != nil {
		testHookHTTP(a.http)
	}
	a.http.AddReadyCheck(ingress.ReadyCheck{Name: "temporal", Check: func(ctx context.Context) error {
		_, err := a.temporal.CheckHealth(ctx, &client.CheckHealthRequest{})
		return err
	}})
	if err := a.http.Listen(addr); err != nil {
		return fmt.Errorf("http: %w", err)
	}
	a.endpoints.HTTP = "http://" + a.http.Addr()
	return nil
}

// serveHTTP serves the routes mounted so far (and later ones: the mux is live).
func (a *app) serveHTTP() {
	errc := make(chan error, 1)
	go func() { errc <- a.http.Serve() }()
	a.onStop(func(ctx context.Context) {
		if err := a.http.Shutdown(ctx); err != nil {
			a.log.Warn("http shutdown", "error", err)
		}
		if err := <-errc; err != nil {
			a.log.Error("http server", "error", err)
		}
	})
}

// buildServices makes the integration clients from their configuration and adds the
// configured Slack approvers to the policy's.
func (a *app) buildServices(ic config.Integrations) error {
	if missing := ic.Missing(); len(missing) > 0 {
		return fmt.Errorf("not configured: %s", strings.Join(missing, ", "))
	}
	a.integrations = ic
	zc, err := zendesk.New(zendesk.Config{URL: ic.Zendesk.URL, Email: ic.Zendesk.Email, Token: ic.Zendesk.Token,
		GroupID: ic.Zendesk.GroupID, BrandID: ic.Zendesk.BrandID})
	if err != nil {
		return err
	}
	for _, id := range ic.Slack.Approvers {
		if strings.HasPrefix(id, "S") {
			a.policy.Approvers.Groups = appendNew(a.policy.Approvers.Groups, id)
		} else {
			a.policy.Approvers.Users = appendNew(a.policy.Approvers.Users, id)
		}
	}
	sc, err := deskslack.New(deskslack.Config{BotToken: ic.Slack.BotToken, AppToken: ic.Slack.AppToken, Channel: ic.Slack.Channel,
		APIURL: ic.Slack.APIURL, Mention: a.policy.Approvers.Mention()})
	if err != nil {
		return err
	}
	ec := enforcement.New(ic.Enforcement.URL, ic.Enforcement.Token)
	a.zendesk, a.slack, a.enforcement = zc, sc, ec
	a.svc = services{tickets: zc, accounts: ec, enforcement: ec, approvals: sc, alerts: sc, handOffs: sc}
	a.cases = &cases.Client{T: a.temporal, Reinstatement: a.policy.Reinstatement}
	return nil
}

// startSlack mounts the interactivity endpoint (with a signing secret) and runs Socket Mode
// (with an app token): one handler behind both.
func (a *app) startSlack(ctx context.Context) error {
	ic := a.integrations.Slack
	h := &deskslack.Interactions{API: a.slack.API(), Decider: inbound.Slack{Cases: a.cases}, HandOffs: inbound.Slack{Cases: a.cases}, Approvers: a.policy.Approvers.With(a.policy.Managers).With(a.policy.Legal.Approvers), Log: a.log.With("component", "slack")}
	q, err := a.startInbox(ctx, "slack", h.Process, h.GiveUp)
	if err != nil {
		return err
	}
	h.Queue = q
	if ic.SigningSecret != "" && a.http != nil {
		a.http.Handle("POST /slack/interactions", h.HTTPHandler(ic.SigningSecret))
	}
	if ic.AppToken != "" {
		sctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			if err := h.RunSocketMode(sctx, a.slack.API()); err != nil {
				a.log.Error("slack socket mode stopped", "error", err)
			}
		}()
		a.onStop(func(context.Context) { cancel(); <-done })
	}
	return nil
}

// startInbox opens <data-dir>/inbox/NAME, where a channel keeps what it acknowledged before
// doing it (durable.Inbox), and works through it until the desk stops: what a crash left is
// done at this start.
func (a *app) startInbox(ctx context.Context, name string, handle func(context.Context, []byte) error, giveUp func(context.Context, []byte, error)) (*durable.Inbox, error) {
	log := a.log.With("component", name+"-inbox")
	q, err := durable.OpenInbox(durable.InboxConfig{Dir: filepath.Join(a.cfg.DataDir, "inbox", name), Handle: handle, GiveUp: giveUp, Log: log})
	if err != nil {
		return nil, err
	}
	if n := q.Pending(); n > 0 {
		log.Info("doing what the last run acknowledged and did not finish", "entries", n)
	}
	qctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); q.Run(qctx) }()
	a.onStop(func(context.Context) { cancel(); <-done })
	return q, nil
}

// recordHandOver keeps a message intake handed to a person (or answered "not ours") in the
// ledger for the dashboard's intake page. The ticket is in Zendesk already: a failure here only
// leaves the page short, and is logged.
func (a *app) recordHandOver(h intake.HandOver) {
	if a.ledger == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.ledger.RecordHandOver(ctx, ledger.HandOver{At: h.At, Kind: h.Kind, TicketID: h.TicketID, Reason: h.Reason,
		Reporter: h.Reporter, Subject: h.Subject, Digest: h.Digest, Legal: h.Legal}); err != nil {
		a.log.Error("hand-over not listed on the dashboard (the ticket is in Zendesk)", "ticket_id", h.TicketID, "kind", h.Kind, "error", err)
	}
}

// recordNotice keeps a notice for the transparency report. The reports are taken already: a
// failure here leaves the report's notice count short, and is logged.
func (a *app) recordNotice(n intake.Notice) {
	if a.ledger == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.ledger.RecordNotification(ctx, ledger.Notification{Digest: n.Digest, At: n.At, Reporter: n.Reporter, Category: n.Category, Reports: n.Reports}); err != nil {
		a.log.Error("notice not kept for the transparency report (its reports are in their cases)", "digest", n.Digest, "error", err)
	}
}

// looseEnds are the desk's own loose ends for the work queue: inbox entries (Zendesk webhooks,
// mailbox messages, …) that failed for good, kept under <data-dir>/inbox/<name>/failed/.
func (a *app) looseEnds() []dashboard.Loose {
	dirs, _ := filepath.Glob(filepath.Join(a.cfg.DataDir, "inbox", "*", "failed"))
	var out []dashboard.Loose
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil || len(entries) == 0 {
			continue
		}
		name := filepath.Base(filepath.Dir(dir))
		out = append(out, dashboard.Loose{What: name + " messages the desk could not act on", Where: dir, Count: len(entries)})
	}
	if a.watcher != nil {
		if err := a.watcher.Ready(); err != nil {
			out = append(out, dashboard.Loose{What: "the abuse mailbox: " + err.Error(), Where: "the mailbox (IMAP_ADDR)", Count: 1})
		}
	}
	return out
}

func appendNew(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

// startWorker registers the workflows and activities and starts polling.
func (a *app) startWorker() error {
	if a.http != nil {
		a.http.AddReadyCheck(ingress.ReadyCheck{Name: "worker", Check: func(context.Context) error {
			if !a.workerUp.Load() {
				return errors.New("not started")
			}
			return nil
		}})
	}
	worker.SetStickyWorkflowCacheSize(a.cfg.WorkflowCache)
	w := worker.New(a.temporal, workflows.TaskQueue, worker.Options{
		WorkerStopTimeout: a.cfg.ShutdownTimeout,
		// Separate pollers for the normal and the sticky queue. With one mixed poller the SDK
		// polls the sticky queue whenever it has a backlog, so in a report storm the busy
		// cases' tasks starve every new case and every first task after a restart (measured:
		// minutes). Autoscaling keeps both queues polled.
		WorkflowTaskPollerBehavior: worker.NewPollerBehaviorAutoscaling(worker.PollerBehaviorAutoscalingOptions{
			InitialNumberOfPollers: 4, MinimumNumberOfPollers: 2, MaximumNumberOfPollers: 16,
		}),
	})
	workflows.Register(w)
	acts := &activities.Activities{
		Tickets: a.svc.tickets, Accounts: a.svc.accounts, Enforcement: a.svc.enforcement,
		Approvals: a.svc.approvals, Evidence: a.evidence, Incidents: a.cases, Templates: a.templates,
		Alerts: a.svc.alerts, Reports: cases.Forwarder{Cases: a.cases, Policy: a.policy},
		LegalChannel: a.integrations.Slack.LegalChannel, LegalGroupID: a.integrations.Zendesk.LegalGroupID, SupportGroupID: a.integrations.Zendesk.SupportGroupID,
		LegalAddress: a.integrations.Zendesk.LegalAddress,
		DashboardURL: a.publicURL(),
	}
	if a.ledger != nil {
		acts.Ledger = a.ledger
	}
	p, err := probe.New(probe.Options{Proxy: a.cfg.Checks.Proxy, DNS: a.cfg.Checks.DNS, Timeout: a.cfg.Checks.Timeout})
	if err != nil {
		return err
	}
	acts.Probes = probes{p}
	acts.Probations = a.cases
	acts.HandOffs = a.svc.handOffs
	acts.Spikes = a.spikes
	acts.Register(w)
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	a.worker = w
	a.workerUp.Store(true)
	a.onStop(func(context.Context) {
		// Stop polls no more and waits for running activities up to WorkerStopTimeout.
		a.workerUp.Store(false)
		w.Stop()
	})
	return nil
}

// probes adapts integrations/probe to the activities' Probes.
type probes struct{ p *probe.Prober }

func (p probes) URL(ctx context.Context, url string) (string, string) {
	r := p.p.URL(ctx, url)
	return string(r.Verdict), r.Detail
}

func (p probes) Listed(ctx context.Context, ip, zone string) (string, string) {
	r := p.p.Listed(ctx, ip, zone)
	return string(r.Verdict), r.Detail
}

func (a *app) publicURL() string {
	if a.cfg.PublicURL != "" {
		return a.cfg.PublicURL
	}
	return a.endpoints.HTTP
}

// limitMemory sets the soft memory limit (DESK_MEMORY_LIMIT) unless GOMEMLIMIT does, and puts
// the previous one back at shutdown. The embedded server and the worker keep caches whose
// garbage would otherwise let the heap double before a collection.
func (a *app) limitMemory() {
	if a.cfg.MemoryLimit <= 0 || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	prev := debug.SetMemoryLimit(a.cfg.MemoryLimit)
	a.onStop(func(context.Context) { debug.SetMemoryLimit(prev) })
}

// dialTemporal connects the SDK client and registers its close.
func (a *app) dialTemporal(ctx context.Context, cfg config.Temporal) error {
	a.pressure = tclient.NewPressure()
	a.metrics.WatchWorker(func() float64 { return a.pressure.Wait().Seconds() })
	c, err := tclient.Dial(ctx, cfg, a.log, a.pressure.MetricsHandler())
	if err != nil {
		return err
	}
	if a.codec, err = tclient.NewCodec(cfg.PayloadKeys); err != nil {
		return err
	}
	a.temporal = c
	a.onStop(func(context.Context) { c.Close() })
	return nil
}

// writeEndpoints writes endpoints.json atomically and removes it at shutdown.
func (a *app) writeEndpoints() error {
	a.endpoints.PID = os.Getpid()
	a.endpoints.Started = time.Now().UTC()
	b, err := json.MarshalIndent(a.endpoints, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(a.cfg.DataDir, "endpoints.json")
	if err := durable.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	a.onStop(func(context.Context) { _ = os.Remove(path) })
	return nil
}

// hostPortFlag turns a port flag into a loopback listen address.
// loopbackAddr reports whether a listen address (host:port) takes connections from this
// machine only: a loopback IP or "localhost"; an empty host is every interface.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

func loopback(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// watchBacklog reads the task queue's statistics from the server, for a process that runs
// intake without a worker: its own worker's wait says nothing there.
func (a *app) watchBacklog(ctx context.Context) {
	a.backlog = tclient.NewBacklog(a.temporal, workflows.TaskQueue, workerWaitEvery, a.log.With("component", "backlog"))
	if a.ledger != nil && a.ledger.Postgres() {
		// The workers' own measure, which the server's view can miss, through the shared ledger.
		a.backlog.AlsoWait(func(ctx context.Context) (time.Duration, error) {
			return a.ledger.WorkerWait(ctx, time.Now().Add(-workerWaitFresh))
		})
	}
	a.metrics.WatchBacklog(func() float64 { return a.behind().Seconds() })
	a.every(ctx, workerWaitEvery, a.backlog.Read)
}

// workerWaitEvery is how often a worker writes its task wait to the shared ledger and an
// ingress without a worker reads the longest (with the server's view); a report older than workerWaitFresh counts
// nothing (the worker stopped).
const (
	workerWaitEvery = 500 * time.Millisecond
	workerWaitFresh = 3 * workerWaitEvery
)

// reportWorkerWait writes how long this process's worker's tasks wait (its sticky queue
// included) to the shared ledger, for the ingress processes that run no worker.
func (a *app) reportWorkerWait(ctx context.Context) {
	host, _ := os.Hostname()
	id := fmt.Sprintf("%s/%d", host, os.Getpid())
	failed := time.Time{}
	a.every(ctx, workerWaitEvery, func(ctx context.Context) {
		if err := a.ledger.ReportWorkerWait(ctx, id, a.pressure.Wait(), time.Now()); err != nil && ctx.Err() == nil && time.Since(failed) > time.Minute {
			failed = time.Now()
			a.log.Warn("the worker's task wait not written to the ledger; ingress processes hold back on the server's view alone", "error", err)
		}
	})
}

// every runs f now and then every interval until the desk stops.
func (a *app) every(ctx context.Context, interval time.Duration, f func(context.Context)) {
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			f(rctx)
			select {
			case <-rctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	a.onStop(func(context.Context) {
		cancel()
		<-done
	})
}

// intakeCases is what intake delivers to: the cases, and, where the server's backlog is
// read, each case delivered to noted for it (its next workflow task may wait in a worker's
// sticky queue, which the queue's statistics do not show).
func (a *app) intakeCases() intake.Cases {
	if a.backlog == nil {
		return a.cases
	}
	return noteDeliveries{Cases: a.cases, backlog: a.backlog}
}

// noteDeliveries tells the backlog which cases reports were delivered to.
type noteDeliveries struct {
	intake.Cases
	backlog *tclient.Backlog
}

func (n noteDeliveries) Submit(ctx context.Context, caseID string, in workflows.CaseInput, batch []workflows.ReportSummary) (string, error) {
	run, err := n.Cases.Submit(ctx, caseID, in, batch)
	if err == nil {
		n.backlog.Delivered(caseID)
	}
	return run, err
}

// behind is how long workflow tasks wait to be picked up: where no worker runs in this
// process, the backlog (the server's view and the workers' own waits in the shared ledger);
// this process's worker's wait otherwise.
func (a *app) behind() time.Duration {
	if a.backlog != nil {
		return a.backlog.Wait()
	}
	return a.pressure.Wait()
}

// startIntake builds the intake pipeline and mounts its routes: the reports API (with a
// token), the Zendesk webhook, and the Zendesk export poll.
func (a *app) startIntake(ctx context.Context, ic config.Intake) error {
	reporters, err := intake.OpenReporters(filepath.Join(a.cfg.DataDir, "intake", "reporters.json"), a.driftAlert, a.metrics, a.log.With("component", "reporters"))
	if err != nil {
		return err
	}
	a.reporters = reporters
	a.onStop(func(context.Context) { reporters.Close() })
	in, err := intake.New(intake.Config{
		Policy: a.policy, BatchWindow: ic.BatchWindow, BatchMax: ic.BatchMax, MaxQueued: ic.MaxQueued, MaxInFlight: ic.Concurrency,
		JournalDir: filepath.Join(a.cfg.DataDir, "intake"),
		Yield:      intake.Yield{Wait: a.behind, At: ic.YieldAt},
		Parser:     reports.Options{AccountHeaders: ic.AccountHeaders}, Templates: a.templates, Reporters: reporters, Log: a.log, Metrics: a.metrics,
		OnHandOver: a.recordHandOver, OnNotice: a.recordNotice,
		LegalGroupID: a.integrations.Zendesk.LegalGroupID, SupportGroupID: a.integrations.Zendesk.SupportGroupID,
	}, a.enforcement, a.intakeCases(), a.zendesk, a.evidence)
	if err != nil {
		return err
	}
	a.intake = in
	a.onStop(func(ctx context.Context) { a.intake.Close(ctx) })
	if a.http != nil {
		a.http.AddReadyCheck(ingress.DiskCheck(a.cfg.DataDir, uint64(a.cfg.MinFreeDisk), in.StorageError))
	}
	if a.http == nil {
		return nil
	}
	a.apiToken = ic.APIToken
	if ic.APIToken != "" {
		opts := inbound.APIOptions{Budget: inbound.Budget(a.cfg.MemoryLimit, 25<<20), BodyTimeout: ic.BodyTimeout}
		var records inbound.Records = inbound.NoLedger()
		if a.ledger != nil {
			opts.Records, records = a.ledger, a.ledger
		}
		a.http.Handle("/api/v1/reports", inbound.ReportsAPI(a.intake, ic.APIToken, 25<<20, opts, a.log.With("component", "reports-api")))
		tell := func(c abuse.Category) bool { return a.policy.Snapshot(c).Rules.AcknowledgeReporters }
		a.http.Handle("GET /api/v1/reports/{id}", inbound.ReportStatusAPI(records, ic.APIToken, tell, a.log.With("component", "reports-api")))
		a.endpoints.API = &config.APIEndpoint{URL: a.endpoints.HTTP + "/api/v1/reports"}
	} else {
		a.log.Warn("the reports API is off: DESK_API_TOKEN is not set")
	}
	// The notice form (DSA Art. 16): public, no sign-in; its receipts go out as tickets.
	var receipts inbound.ReceiptTickets
	if a.zendesk != nil {
		receipts = a.zendesk
	}
	var noticeRecords inbound.Records = inbound.NoLedger()
	if a.ledger != nil {
		noticeRecords = a.ledger
	}
	form := &inbound.NoticeForm{Intake: a.intake, Records: noticeRecords, Tickets: receipts, LegalGroupID: a.integrations.Zendesk.LegalGroupID, Templates: a.templates, BaseURL: a.publicURL(),
		TellOutcome: func(c abuse.Category) bool { return a.policy.Snapshot(c).Rules.AcknowledgeReporters }, Log: a.log.With("component", "notice-form")}
	form.Routes(a.http.Handle, a.http.HandlePublic)
	zc := a.integrations.Zendesk
	zi := &inbound.Zendesk{Intake: a.intake, API: a.zendesk, Cases: a.cases, Decider: a.cases, Templates: a.templates, Secret: zc.WebhookSecret,
		IntakeGroupID: zc.IntakeGroupID, CaseGroupID: zc.GroupID, CursorFile: filepath.Join(a.cfg.DataDir, "zendesk-export-cursor.json"), Log: a.log.With("component", "zendesk-intake")}
	q, err := a.startInbox(ctx, "zendesk", zi.Process, nil)
	if err != nil {
		return err
	}
	zi.Queue = q
	if zc.WebhookSecret == "" {
		a.log.Warn("Zendesk webhooks are refused: ZENDESK_WEBHOOK_SECRET is not set (the export poll still catches up)")
	}
	a.http.Handle("POST /webhooks/zendesk", zi.WebhookHandler())
	if ic.ZendeskPoll > 0 {
		pctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); zi.Poll(pctx, ic.ZendeskPoll) }()
		a.onStop(func(context.Context) { cancel(); <-done })
	}
	return nil
}

// driftAlert tells the leads in Slack that a reporter's reports stopped parsing.
func (a *app) driftAlert(ctx context.Context, h intake.ReporterHealth) error {
	text, err := a.templates.Render("intake_reporter_drift", "", templates.DefaultLocale, templates.ReporterDriftData{
		Reporter: h.Reporter, FailStreak: h.FailStreak, Parsed: h.Parsed, LastError: h.LastError, DashboardURL: a.publicURL() + "/reporters"})
	if err != nil {
		return err
	}
	return a.slack.PostAlert(ctx, text)
}

// startDashboard mounts the web dashboard; pg, in desk dev, lets it act as the other parties.
func (a *app) startDashboard(pg dashboard.Playground) error {
	if a.http == nil {
		return nil
	}
	opts := dashboard.Options{Cases: a.cases, Playground: pg, Reporters: a.reporters.Snapshot, Password: a.cfg.DashboardPassword, Log: a.log}
	if a.ledger != nil {
		opts.Metrics = a.ledger.Metrics
		opts.Trends = &dashboard.Trends{Store: a.ledger, Rules: a.trendRules()}
		opts.Ledger = a.ledger
		if a.zendesk != nil {
			opts.TicketURL = a.zendesk.AgentURL
		}
		opts.QA = &dashboard.QA{Store: a.ledger, OnReview: func(it ledger.QAItem) {
			a.metrics.QAReviews.WithLabelValues(it.Category, it.Subject, it.Decider, it.Verdict).Inc()
		}}
	}
	opts.Loose = a.looseEnds
	opts.TrustedFlagger = a.policy.Transparency.Trusted
	if tickets := a.svc.tickets; tickets != nil {
		// A signed-in agent acts on a case from its page as its macro would: as the ticketing
		// system's agent with their address (the case checks the team again).
		legalGroup := a.integrations.Zendesk.LegalGroupID
		opts.Act = &dashboard.Act{
			Team: func(ctx context.Context) (map[string]string, error) {
				return activities.DeskTeam(ctx, tickets, legalGroup)
			},
			Decide: a.cases.Decide,
		}
		if z := a.zendesk; z != nil {
			opts.Act.Name = func(ctx context.Context, id string) (string, error) {
				n, err := strconv.ParseInt(id, 10, 64)
				if err != nil {
					return "", err
				}
				u, err := z.User(ctx, n)
				if err != nil {
					return "", err
				}
				return u.Name, nil
			}
		}
	}
	if oc := a.cfg.OIDC; oc.Issuer != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var sessions signin.Sessions // without a ledger: this process's own
		if a.ledger != nil {
			sessions = ledgerSessions{a.ledger}
		}
		s, err := signin.New(ctx, signin.Config{Issuer: oc.Issuer, ClientID: oc.ClientID, ClientSecret: oc.ClientSecret,
			RedirectURL: strings.TrimRight(a.publicURL(), "/") + "/auth/callback", GroupsClaim: oc.GroupsClaim, Roles: oc.Roles,
			SessionKey: oc.SessionKey, Sessions: sessions, Log: a.log.With("component", "signin")})
		if err != nil {
			return err
		}
		s.Routes(a.http.Handle)
		opts.SignIn = s
		a.log.Info("people sign into the dashboard through the identity provider", "issuer", oc.Issuer)
	}
	d, err := dashboard.New(opts)
	if err != nil {
		return err
	}
	d.Routes(a.http.Handle)
	api := &casesapi.API{Cases: a.cases, Token: a.apiToken, Dashboard: d.Protect, Log: a.log.With("component", "cases-api")}
	if a.ledger != nil {
		api.Search = a.ledger
	}
	api.Routes(a.http.Handle)
	if a.codec != nil {
		// The codec endpoint: the Temporal CLI (--codec-endpoint <desk>/codec) and Web UI decode
		// the encrypted payloads through it, for those who may read everything (legal matters
		// included).
		a.http.Handle("POST /codec/{op}", d.ProtectLegal(http.MaxBytesHandler(converter.NewPayloadCodecHTTPHandler(a.codec), 8<<20)))
	}
	if a.cfg.PProf {
		a.http.Handle("GET /debug/pprof/", d.Protect(http.HandlerFunc(pprof.Index)))
		a.http.Handle("GET /debug/pprof/profile", d.Protect(http.HandlerFunc(pprof.Profile)))
		a.http.Handle("GET /debug/pprof/trace", d.Protect(http.HandlerFunc(pprof.Trace)))
		a.http.Handle("GET /debug/pprof/symbol", d.Protect(http.HandlerFunc(pprof.Symbol)))
		a.log.Warn("the Go profiler is served at /debug/pprof/ (DESK_PPROF)")
	}
	if a.cfg.DashboardPassword == "" && opts.SignIn == nil && pg == nil {
		a.log.Warn("the dashboard is open to anyone who reaches the HTTP port: set DESK_DASHBOARD_PASSWORD")
	}
	return nil
}

// startIMAP runs the mailbox watcher; a message moves to the processed folder once intake
// accepted it, to the failed folder when it could not be read (it is in triage then).
func (a *app) startIMAP(ctx context.Context, m *config.IMAP) error {
	w, err := mailbox.New(mailbox.Config{Addr: m.Addr, Security: m.Security, Username: m.Username, Password: m.Password,
		Mailbox: m.Mailbox, Processed: m.Processed, Failed: m.Failed, Poll: m.Poll}, inbound.Mailbox(a.intake), a.log)
	if err != nil {
		return err
	}
	a.watcher = w
	if a.http != nil {
		a.http.AddReadyCheck(ingress.ReadyCheck{Name: "mailbox", Check: func(context.Context) error { return w.Ready() }})
	}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(wctx) }()
	a.onStop(func(context.Context) { cancel(); <-done })
	a.log.Info("watching the abuse mailbox", "imap", fmt.Sprintf("%+v", m.Redacted()))
	return nil
}

// ledgerSessions keeps the sign-in's sessions in the ledger, shared by every desk process.
type ledgerSessions struct{ l *ledger.Store }

func (s ledgerSessions) PutSession(ctx context.Context, id string, p signin.Person) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return s.l.PutSession(ctx, id, b, p.Expires)
}

func (s ledgerSessions) Session(ctx context.Context, id string) (signin.Person, bool, error) {
	var p signin.Person
	b, ok, err := s.l.Session(ctx, id)
	if err != nil || !ok {
		return p, false, err
	}
	return p, true, json.Unmarshal(b, &p)
}

func (s ledgerSessions) DeleteSession(ctx context.Context, id string) error {
	return s.l.DeleteSession(ctx, id)
}
