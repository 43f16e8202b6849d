package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"abusedesk/activities"
	"abusedesk/internal/config"
	"abusedesk/internal/evidence"
	"abusedesk/internal/ingress"
	"abusedesk/internal/metrics"
	"abusedesk/internal/policy"
	"abusedesk/internal/tclient"
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
}

// app is one running desk process: its components in start order, stopped in reverse.
type app struct {
	log      *slog.Logger
	cfg      config.Desk
	metrics  *metrics.Metrics
	policy   *policy.Policy
	evidence *evidence.Store
	temporal client.Client
	svc      services
	http     *ingress.Server
	worker   worker.Worker

	workerUp atomic.Bool
	// stops run in reverse order at shutdown, each with what is left of the shutdown budget.
	stops []func(ctx context.Context)
	// endpoints are written to <data-dir>/endpoints.json.
	endpoints endpoints
}

// endpoints is the content of <data-dir>/endpoints.json: every address the process listens on,
// so scripts and tests find them.
type endpoints struct {
	PID      int              `json:"pid"`
	Started  time.Time        `json:"started"`
	HTTP     string           `json:"http,omitempty"`
	Temporal *temporalAddress `json:"temporal,omitempty"`
	UI       string           `json:"ui,omitempty"`
	Sandbox  map[string]any   `json:"sandbox,omitempty"`
}

type temporalAddress struct {
	Address   string `json:"address"`
	Namespace string `json:"namespace"`
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

// loadShared loads the policy and opens the evidence store.
func (a *app) loadShared(policyPath string) error {
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

// startHTTP binds the HTTP server (so the address is known) and serves it.
func (a *app) startHTTP(addr string) error {
	a.http = ingress.New(a.log, a.metrics)
	a.http.AddReadyCheck(ingress.ReadyCheck{Name: "temporal", Check: func(ctx context.Context) error {
		_, err := a.temporal.CheckHealth(ctx, &client.CheckHealthRequest{})
		return err
	}})
	if err := a.http.Listen(addr); err != nil {
		return fmt.Errorf("http: %w", err)
	}
	errc := make(chan error, 1)
	go func() { errc <- a.http.Serve() }()
	a.endpoints.HTTP = "http://" + a.http.Addr()
	a.onStop(func(ctx context.Context) {
		if err := a.http.Shutdown(ctx); err != nil {
			a.log.Warn("http shutdown", "error", err)
		}
		if err := <-errc; err != nil {
			a.log.Error("http server", "error", err)
		}
	})
	return nil
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
	renderer, err := templates.New()
	if err != nil {
		return fmt.Errorf("templates: %w", err)
	}
	worker.SetStickyWorkflowCacheSize(a.cfg.WorkflowCache)
	w := worker.New(a.temporal, workflows.TaskQueue, worker.Options{
		WorkerStopTimeout: a.cfg.ShutdownTimeout,
	})
	workflows.Register(w)
	acts := &activities.Activities{
		Tickets: a.svc.tickets, Accounts: a.svc.accounts, Enforcement: a.svc.enforcement,
		Approvals: a.svc.approvals, Evidence: a.evidence, Templates: renderer,
		DashboardURL: a.publicURL(),
	}
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

func (a *app) publicURL() string {
	if a.cfg.PublicURL != "" {
		return a.cfg.PublicURL
	}
	return a.endpoints.HTTP
}

// dialTemporal connects the SDK client and registers its close.
func (a *app) dialTemporal(ctx context.Context, cfg config.Temporal) error {
	c, err := tclient.Dial(ctx, cfg, a.log)
	if err != nil {
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
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	a.onStop(func(context.Context) { _ = os.Remove(path) })
	return nil
}

// hostPortFlag turns a port flag into a loopback listen address.
func loopback(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }
