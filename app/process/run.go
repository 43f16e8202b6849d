package process

import (
	"abusedesk/platform/config"
	"abusedesk/platform/metrics"
	"abusedesk/platform/tclient"
	"abusedesk/workflows"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"time"
)

// Components says which parts a process runs (`desk run --components`).
type Components struct {
	Worker, HTTP, IMAP bool
}

// RunOptions are what `desk run` was told.
type RunOptions struct {
	// Lookup reads the environment; Log gets the log.
	Lookup config.Lookup
	Log    io.Writer
	// Version is the build's, for the metrics.
	Version string
	// Components are the parts to run, Names the flag that named them (for the log).
	Components Components
	Names      string
	// PolicyFile overrides DESK_POLICY_FILE when set.
	PolicyFile string
	// InsecureOpen serves the dashboard, the API and /metrics unguarded.
	InsecureOpen bool
}

// Run runs the desk against an existing Temporal cluster — the production mode — until ctx
// ends: the configuration is read and checked first, then the components start in order.
func Run(ctx context.Context, o RunOptions) error {
	cfg, errDesk := config.LoadDesk(o.Lookup)
	tcfg, errTemporal := config.LoadTemporal(o.Lookup)
	if err := errors.Join(errDesk, errTemporal); err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	if o.PolicyFile != "" {
		cfg.PolicyFile = o.PolicyFile
	}
	if err := ClosedByDefault(o.Components, cfg, o.InsecureOpen); err != nil {
		return err
	}
	ic, err := config.LoadIntegrations(o.Lookup)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	if missing := ic.Missing(); len(missing) > 0 {
		return fmt.Errorf("configuration: `desk run` needs every service; not configured: %s (see `desk help env`)", strings.Join(missing, ", "))
	}

	a := New(cfg, NewLogger(cfg, o.Log), metrics.New(o.Version))
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
	intakeCfg, imapCfg, err := config.LoadIntake(o.Lookup)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	if o.Components.IMAP && imapCfg == nil {
		return fmt.Errorf("configuration: IMAP_ADDR: not set, but the imap component was asked for (drop it with --components=worker,http)")
	}
	if err := a.BuildServices(ic); err != nil {
		return err
	}
	if o.Components.HTTP {
		if err := a.ListenHTTP(cfg.HTTPAddr); err != nil {
			return err
		}
	}
	if (o.Components.HTTP || o.Components.IMAP) && !o.Components.Worker {
		// No worker here: hold intake back on the server's view of the task queue.
		a.WatchBacklog(ctx)
	}
	if o.Components.HTTP || o.Components.IMAP {
		if err := a.StartIntake(ctx, intakeCfg); err != nil {
			return err
		}
	}
	if o.Components.IMAP {
		if err := a.StartIMAP(ctx, imapCfg); err != nil {
			return err
		}
	}
	if o.Components.HTTP {
		if err := a.StartSlack(ctx); err != nil {
			return err
		}
		if err := a.StartDashboard(nil); err != nil {
			return err
		}
		a.ServeHTTP()
	}
	if o.Components.Worker {
		if err := a.StartWorker(); err != nil {
			return err
		}
		a.ScheduleTrends(ctx)
		a.ScheduleBlocklists(ctx)
		a.ReportWorkerWait(ctx)
	}
	a.Log.Info("desk running", "components", o.Names, "http", a.Endpoints.HTTP)
	<-ctx.Done()
	a.Log.Info("stopping")
	return nil
}

// ClosedByDefault refuses an HTTP server anyone who reaches it could use: the dashboard and
// API need sign-in or a password, and /metrics beyond loopback its token, unless the operator
// says --insecure-open.
func ClosedByDefault(which Components, cfg config.Desk, insecureOpen bool) error {
	switch {
	case !which.HTTP || insecureOpen:
		return nil
	case cfg.DashboardPassword == "" && cfg.OIDC.Issuer == "":
		return fmt.Errorf("configuration: the dashboard and the API would be open to anyone who reaches %s: set DESK_OIDC_ISSUER (sign-in through the identity provider) or DESK_DASHBOARD_PASSWORD, or say --insecure-open", cfg.HTTPAddr)
	case cfg.MetricsToken == "" && !loopbackAddr(cfg.HTTPAddr):
		return fmt.Errorf("configuration: /metrics would be open to anyone who reaches %s: set DESK_METRICS_TOKEN (the bearer token Prometheus sends), listen on loopback, or say --insecure-open", cfg.HTTPAddr)
	}
	return nil
}

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
