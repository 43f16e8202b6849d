// Package process is one running desk process: the components `desk run` and `desk dev`
// start (ledger, Temporal client, integrations, HTTP server, intake, mailbox, Slack, dashboard,
// worker), in order, and stop in reverse. The commands in cmd/desk read flags and
// configuration and call it; the development environment adds its stand-ins around it.
//
// By stage: desk.go (the process, its shared parts and its life), services.go (the outside
// services' clients, Slack's interactions, Zendesk's provisioning), intake.go (reports in: the
// reports API, the notice form, Zendesk, the mailbox, and the backpressure intake holds back on),
// http.go (the HTTP server, the dashboard, the cases API) and worker.go (the workflows, the
// activities, the schedules).
package process

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"abusedesk/app/backpressure"
	"abusedesk/app/cases"
	"abusedesk/app/intake"
	"abusedesk/app/ledger"
	"abusedesk/domain/policy"
	"abusedesk/integrations/enforcement"
	"abusedesk/integrations/mailbox"
	"abusedesk/integrations/probe"
	deskslack "abusedesk/integrations/slack"
	"abusedesk/integrations/zendesk"
	"abusedesk/platform/config"
	"abusedesk/platform/durable"
	"abusedesk/platform/evidence"
	"abusedesk/platform/ingress"
	"abusedesk/platform/metrics"
	"abusedesk/platform/tclient"
	"abusedesk/templates"
	"abusedesk/workflows"
)

// Desk is one running desk process: its components in start order, stopped in reverse. The
// commands (cmd/desk) make one with New and start what they run, in order: LoadShared,
// OpenLedger, DialTemporal, BuildServices, ListenHTTP, StartIntake, StartIMAP, StartSlack,
// StartDashboard, ServeHTTP, StartWorker. Shutdown stops what started.
type Desk struct {
	Log     *slog.Logger
	Cfg     config.Desk
	Metrics *metrics.Metrics
	Policy  *policy.Policy
	// Templates are parsed once at start: a broken template stops the start.
	Templates *templates.Renderer
	Evidence  *evidence.Store
	Ledger    *ledger.Store
	Temporal  client.Client
	// Integrations are the outside services' configuration; Zendesk and Cases their clients.
	Integrations config.Integrations
	Zendesk      *zendesk.Client
	Cases        *cases.Client
	HTTP         *ingress.Server
	// Endpoints are written to <data-dir>/endpoints.json.
	Endpoints config.Endpoints

	// apiToken is the reports API's bearer token, which the cases API takes too.
	apiToken string
	// codec encrypts the payloads (nil: DESK_PAYLOAD_KEYS=off); /codec serves it.
	codec *tclient.Codec
	// watcher watches the abuse mailbox (nil: none here).
	watcher *mailbox.Watcher
	// gauge is how far behind the workers are, which intake holds back on.
	gauge       *backpressure.Gauge
	svc         services
	slack       *deskslack.Client
	enforcement *enforcement.Client
	intake      *intake.Intake
	reporters   *intake.Reporters
	worker      worker.Worker
	workerUp    atomic.Bool
	// checks look URLs and addresses up (fix checks, the blocklist watch): one per process,
	// made by the first component that needs it.
	checks *probe.Prober
	// stops run in reverse order at shutdown, each with what is left of the shutdown budget.
	stops []func(ctx context.Context)
}

// New is a desk process with nothing started, logging to log and counting in m.
func New(cfg config.Desk, log *slog.Logger, m *metrics.Metrics) *Desk {
	return &Desk{Cfg: cfg, Log: log, Metrics: m}
}

// NewLogger is the desk's logger as DESK_LOG_LEVEL and DESK_LOG_FORMAT say, writing to w.
func NewLogger(cfg config.Desk, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// OnStop adds f to what Shutdown runs, in reverse order of adding.
func (a *Desk) OnStop(f func(ctx context.Context)) { a.stops = append(a.stops, f) }

// Shutdown stops everything in reverse start order within the shutdown budget.
func (a *Desk) Shutdown() {
	budget := a.Cfg.ShutdownTimeout
	if budget <= 0 {
		budget = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	for i := len(a.stops) - 1; i >= 0; i-- {
		a.stops[i](ctx)
	}
}

// LoadShared parses the templates, loads the policy and opens the evidence store.
func (a *Desk) LoadShared(policyPath string) error {
	r, err := templates.New()
	if err != nil {
		return fmt.Errorf("templates: %w", err)
	}
	a.Templates = r
	p, err := policy.Load(policyPath)
	if err != nil {
		return err
	}
	a.Policy = p
	store, err := evidence.Open(filepath.Join(a.Cfg.DataDir, "evidence"))
	if err != nil {
		return err
	}
	a.Evidence = store
	return nil
}

// OpenLedger opens the case ledger (DESK_LEDGER_URL, or SQLite under the data dir) and brings
// its schema up to date.
func (a *Desk) OpenLedger(ctx context.Context) error {
	if a.Cfg.LedgerOff() {
		a.Log.Warn("no ledger is kept (DESK_LEDGER_URL=off): case events are not recorded, there are no operations figures")
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	l, err := ledger.Open(ctx, a.Cfg.Ledger())
	if err != nil {
		return fmt.Errorf("%w (DESK_LEDGER_URL)", err)
	}
	l.OnKept = func(c workflows.LedgerCase, e workflows.LedgerEvent) {
		result := cmp.Or(string(e.Outcome), e.Decision)
		a.Metrics.CaseEvents.WithLabelValues(e.Kind, string(c.Category), string(c.Track), result).Inc()
		switch e.Kind {
		case workflows.LedgerNoticed:
			a.Metrics.CaseStep.WithLabelValues("notice", string(c.Category)).Observe(e.At.Sub(c.OpenedAt).Seconds())
		case workflows.LedgerEnforced:
			a.Metrics.CaseStep.WithLabelValues("action", string(c.Category)).Observe(e.At.Sub(c.OpenedAt).Seconds())
		}
	}
	l.SampleRate = a.Policy.QA.Rate
	l.OwnDomains = a.Policy.Trends.OwnDomains
	a.Ledger = l
	a.OnStop(func(context.Context) { _ = l.Close() })
	a.Log.Info("ledger open", "database", l.Where)
	return nil
}

// PublicURL is where people and services reach the desk: DESK_PUBLIC_URL, else its HTTP address.
func (a *Desk) PublicURL() string {
	if a.Cfg.PublicURL != "" {
		return a.Cfg.PublicURL
	}
	return a.Endpoints.HTTP
}

// LimitMemory sets the soft memory limit (DESK_MEMORY_LIMIT) unless GOMEMLIMIT does, and puts
// the previous one back at shutdown. The embedded server and the worker keep caches whose
// garbage would otherwise let the heap double before a collection.
func (a *Desk) LimitMemory() {
	if a.Cfg.MemoryLimit <= 0 || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	prev := debug.SetMemoryLimit(a.Cfg.MemoryLimit)
	a.OnStop(func(context.Context) { debug.SetMemoryLimit(prev) })
}

// TemporalWait is how long a starting desk asks a cluster that does not answer again before it
// gives up (the cluster may be starting or restarting beside it).
const TemporalWait = 2 * time.Minute

// DialTemporal connects the SDK client and registers its close.
func (a *Desk) DialTemporal(ctx context.Context, cfg config.Temporal) error {
	a.gauge = backpressure.New(a.Log)
	a.Metrics.WatchWorker(func() float64 { return a.gauge.Own.Wait().Seconds() })
	c, err := tclient.DialWaiting(ctx, cfg, a.Log, a.gauge.Own.MetricsHandler(), TemporalWait)
	if err != nil {
		return err
	}
	if a.codec, err = tclient.NewCodec(cfg.PayloadKeys); err != nil {
		return err
	}
	a.Temporal = c
	a.OnStop(func(context.Context) { c.Close() })
	// Stopped before the client closes: the gauge's loops read the server through it.
	a.OnStop(func(context.Context) { a.gauge.Stop() })
	return nil
}

// WriteEndpoints writes endpoints.json atomically and removes it at shutdown.
func (a *Desk) WriteEndpoints() error {
	a.Endpoints.PID = os.Getpid()
	a.Endpoints.Started = time.Now().UTC()
	b, err := json.MarshalIndent(a.Endpoints, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(a.Cfg.DataDir, "endpoints.json")
	if err := durable.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	a.OnStop(func(context.Context) { _ = os.Remove(path) })
	return nil
}
