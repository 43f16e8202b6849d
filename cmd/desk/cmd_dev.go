package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"abusedesk/internal/config"
	"abusedesk/internal/metrics"
	"abusedesk/testenv/devserver"
	"abusedesk/testenv/memfake"
	"abusedesk/workflows"
)

// devNamespace is the namespace of the embedded server.
const devNamespace = "default"

func cmdDev(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "dev", "dev [flags]", `
Runs the whole desk in one process on embedded defaults: an in-process Temporal server on
SQLite under the data dir (workflows survive a restart), the Temporal Web UI, the worker and the
HTTP server (health, metrics, API, webhooks, dashboard). Services without credentials in the
environment are replaced by the sandbox.

Prints a banner with every URL and writes them to <data-dir>/endpoints.json. Ctrl-C stops it:
running activities get DESK_SHUTDOWN_TIMEOUT to finish, then the server stops cleanly.
Port 0 picks any free port.`)
	dataDir := fs.String("data-dir", "", "data directory (default $DESK_DATA_DIR or .desk)")
	httpPort := fs.Int("http-port", 8080, "HTTP port (dashboard, API, webhooks, health, metrics)")
	temporalPort := fs.Int("temporal-port", 7233, "Temporal frontend gRPC port")
	uiPort := fs.Int("ui-port", 8233, "Temporal Web UI port; -1 turns the UI off")
	policyPath := fs.String("policy", "", "policy file (default $DESK_POLICY_FILE or the embedded default)")
	serverLog := fs.String("temporal-log-level", "error", "log level of the embedded Temporal server: debug, info, warn, error")
	if err := parse(e, fs, args); err != nil {
		return err
	}
	cfg, err := config.LoadDesk(e.lookup)
	if err != nil {
		return err
	}
	if *dataDir != "" {
		cfg.DataDir = *dataDir
	}
	var serverLevel slog.Level
	if err := serverLevel.UnmarshalText([]byte(*serverLog)); err != nil {
		return usageError{fmt.Sprintf("--temporal-log-level: %q is not debug, info, warn or error", *serverLog)}
	}
	if *policyPath != "" {
		cfg.PolicyFile = *policyPath
	}

	a := &app{cfg: cfg, log: newLogger(cfg, e.stderr), metrics: metrics.New(version)}
	defer a.shutdown()
	if err := a.loadShared(cfg.PolicyFile); err != nil {
		return err
	}

	srv, err := devserver.Start(ctx, devserver.Options{
		DataDir:          cfg.DataDir,
		Namespace:        devNamespace,
		SearchAttributes: workflows.SearchAttributes(),
		FrontendPort:     *temporalPort,
		UIPort:           *uiPort,
		Logger:           a.log,
		LogLevel:         serverLevel,
	})
	if err != nil {
		return fmt.Errorf("embedded Temporal: %w", err)
	}
	a.onStop(func(context.Context) { srv.Stop() })
	a.endpoints.Temporal = &temporalAddress{Address: srv.HostPort(), Namespace: srv.Namespace()}
	a.endpoints.UI = srv.UIURL()

	if err := a.dialTemporal(ctx, config.Temporal{Address: srv.HostPort(), Namespace: srv.Namespace()}); err != nil {
		return err
	}
	a.svc = sandboxServices()
	if err := a.startHTTP(loopback(*httpPort)); err != nil {
		return err
	}
	if err := a.startWorker(); err != nil {
		return err
	}
	if err := a.writeEndpoints(); err != nil {
		return err
	}
	printBanner(e, a)
	a.log.Info("desk dev running", "http", a.endpoints.HTTP, "temporal", srv.HostPort(), "data_dir", cfg.DataDir)
	<-ctx.Done()
	a.log.Info("stopping")
	return nil
}

// sandboxServices stands in for Zendesk, Slack and the enforcement API when the environment
// has no credentials for them.
func sandboxServices() services {
	return services{
		tickets:     memfake.NewTickets(),
		accounts:    memfake.NewAccounts(memfake.DemoAccounts()...),
		enforcement: &memfake.Enforcement{},
		approvals:   &memfake.Approvals{},
	}
}

func printBanner(e env, a *app) {
	var b strings.Builder
	fmt.Fprintf(&b, "\nabusedesk (%s) — desk dev\n\n", version)
	row := func(name, val string) {
		if val != "" {
			fmt.Fprintf(&b, "  %-12s %s\n", name, val)
		}
	}
	row("HTTP", a.endpoints.HTTP)
	row("health", a.endpoints.HTTP+"/healthz")
	row("metrics", a.endpoints.HTTP+"/metrics")
	if t := a.endpoints.Temporal; t != nil {
		row("Temporal", t.Address+" (namespace "+t.Namespace+")")
	}
	row("Temporal UI", a.endpoints.UI)
	row("data dir", a.cfg.DataDir)
	row("policy", a.policy.Source)
	fmt.Fprintf(&b, "\nEndpoints are in %s/endpoints.json. Press Ctrl-C to stop.\n\n", a.cfg.DataDir)
	fmt.Fprint(e.stdout, b.String())
}
