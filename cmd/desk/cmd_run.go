package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"abusedesk/internal/app/process"
	"abusedesk/internal/platform/config"
	"abusedesk/internal/platform/metrics"
	"abusedesk/internal/platform/tclient"
	"abusedesk/workflows"
)

func cmdRun(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "run", "run [flags]", `
Runs the desk against an existing Temporal cluster — the production mode. TEMPORAL_ADDRESS is
required; TLS, mTLS and API keys are configured with the TEMPORAL_* variables (see
`+"`desk help env`"+`). Every outside service must be configured: there is no sandbox here.

Components scale out separately: run some processes with --components=worker and others with
--components=http,imap. At start the namespace's search attributes are checked and added when
missing.

The HTTP server listens on loopback unless DESK_HTTP_ADDR says otherwise, and it will not serve
the dashboard and API to anyone who reaches it: set DESK_OIDC_ISSUER (sign-in) or
DESK_DASHBOARD_PASSWORD, or say --insecure-open. Beyond loopback, /metrics needs
DESK_METRICS_TOKEN too.`)
	comps := fs.String("components", "worker,http,imap", "comma-separated components to run: worker, http, imap")
	policyPath := fs.String("policy", "", "policy file (default $DESK_POLICY_FILE or the embedded default)")
	insecureOpen := fs.Bool("insecure-open", false, "serve the dashboard and API with neither sign-in nor a password, and /metrics without a token (never where others can reach the port)")
	if err := parse(e, fs, args); err != nil {
		return err
	}
	which, err := parseComponents(*comps)
	if err != nil {
		return err
	}
	cfg, errDesk := config.LoadDesk(e.lookup)
	tcfg, errTemporal := config.LoadTemporal(e.lookup)
	if err := errors.Join(errDesk, errTemporal); err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	if *policyPath != "" {
		cfg.PolicyFile = *policyPath
	}
	if err := closedByDefault(which, cfg, *insecureOpen); err != nil {
		return err
	}
	ic, err := config.LoadIntegrations(e.lookup)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	if missing := ic.Missing(); len(missing) > 0 {
		return fmt.Errorf("configuration: `desk run` needs every service; not configured: %s (see `desk help env`)", strings.Join(missing, ", "))
	}

	a := process.New(cfg, process.NewLogger(cfg, e.stderr), metrics.New(version))
	defer a.Shutdown()
	a.LimitMemory()
	if err := a.LoadShared(cfg.PolicyFile); err != nil {
		return err
	}
	if err := a.OpenLedger(ctx); err != nil {
		return err
	}
	if a.Ledger != nil && !a.Ledger.Postgres() {
		a.Log.Warn("the ledger is a SQLite file of this process; with more than one desk process each keeps its own part of it: set DESK_LEDGER_URL to a PostgreSQL database", "ledger", a.Ledger.Where)
	}
	a.Log.Info("connecting to Temporal", "config", fmt.Sprintf("%+v", tcfg.Redacted()))
	if err := a.DialTemporal(ctx, tcfg); err != nil {
		return err
	}
	if err := tclient.EnsureSearchAttributes(ctx, a.Temporal.OperatorService(), tcfg.Namespace, workflows.SearchAttributes()); err != nil {
		return fmt.Errorf("search attributes (register them with `temporal operator search-attribute create` if this identity may not): %w", err)
	}
	// Added attributes reach the frontend some seconds later; a case started before would be
	// refused, so the desk waits for them.
	if err := tclient.AwaitSearchAttributes(ctx, a.Temporal, workflows.SearchAttributes(), 2*time.Minute); err != nil {
		return err
	}
	intakeCfg, imapCfg, err := config.LoadIntake(e.lookup)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	if which.imap && imapCfg == nil {
		return fmt.Errorf("configuration: IMAP_ADDR: not set, but the imap component was asked for (drop it with --components=worker,http)")
	}
	if err := a.BuildServices(ic); err != nil {
		return err
	}
	if which.http {
		if err := a.ListenHTTP(cfg.HTTPAddr); err != nil {
			return err
		}
	}
	if (which.http || which.imap) && !which.worker {
		// No worker here: hold intake back on the server's view of the task queue.
		a.WatchBacklog(ctx)
	}
	if which.http || which.imap {
		if err := a.StartIntake(ctx, intakeCfg); err != nil {
			return err
		}
	}
	if which.imap {
		if err := a.StartIMAP(ctx, imapCfg); err != nil {
			return err
		}
	}
	if which.http {
		if err := a.StartSlack(ctx); err != nil {
			return err
		}
		if err := a.StartDashboard(nil); err != nil {
			return err
		}
		a.ServeHTTP()
	}
	if which.worker {
		if err := a.StartWorker(); err != nil {
			return err
		}
		a.ScheduleTrends(ctx)
		if a.Ledger != nil && a.Ledger.Postgres() {
			a.ReportWorkerWait(ctx)
		}
	}
	a.Log.Info("desk running", "components", *comps, "http", a.Endpoints.HTTP)
	<-ctx.Done()
	a.Log.Info("stopping")
	return nil
}

func parseComponents(s string) (components, error) {
	var c components
	for _, part := range strings.Split(s, ",") {
		switch strings.TrimSpace(part) {
		case "worker":
			c.worker = true
		case "http":
			c.http = true
		case "imap":
			c.imap = true
		case "":
		default:
			return c, usageError{fmt.Sprintf("--components: unknown component %q (want worker, http, imap)", part)}
		}
	}
	if !c.worker && !c.http && !c.imap {
		return c, usageError{"--components: name at least one of worker, http, imap"}
	}
	return c, nil
}

// closedByDefault refuses an HTTP server anyone who reaches it could use: the dashboard and
// API need sign-in or a password, and /metrics beyond loopback its token, unless the operator
// says --insecure-open.
func closedByDefault(which components, cfg config.Desk, insecureOpen bool) error {
	switch {
	case !which.http || insecureOpen:
		return nil
	case cfg.DashboardPassword == "" && cfg.OIDC.Issuer == "":
		return fmt.Errorf("configuration: the dashboard and the API would be open to anyone who reaches %s: set DESK_OIDC_ISSUER (sign-in through the identity provider) or DESK_DASHBOARD_PASSWORD, or say --insecure-open", cfg.HTTPAddr)
	case cfg.MetricsToken == "" && !loopbackAddr(cfg.HTTPAddr):
		return fmt.Errorf("configuration: /metrics would be open to anyone who reaches %s: set DESK_METRICS_TOKEN (the bearer token Prometheus sends), listen on loopback, or say --insecure-open", cfg.HTTPAddr)
	}
	return nil
}
