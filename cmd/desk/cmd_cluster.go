//go:build !nodev

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"abusedesk/app/process"
	"abusedesk/devenv/cluster"
	"abusedesk/platform/config"
)

func cmdCluster(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "cluster", "cluster [flags]", `
Runs the production topology on this machine, without Docker, to try it: a throw-away
PostgreSQL (Debian's postgresql package), the official Temporal server built from the module
graph (go tool; its schema set up by its SQL tool) on PostgreSQL with SQL visibility, the
sandbox stand-ins for Zendesk, Slack, the enforcement API, the mailbox and the customers'
servers, and the desk split as docker-compose.yml splits it: --workers worker processes
(desk run --components=worker) and an ingress (desk run --components=http,imap) sharing one
data dir and one PostgreSQL ledger. Run it from the abusedesk module (it builds the Temporal
server there). Ctrl-C stops everything; --dir keeps the logs.
`)
	dir := fs.String("dir", "", "directory for the database, the binaries, the logs and the desk's data (default: a new temporary directory)")
	workers := fs.Int("workers", 2, "worker processes")
	policyPath := fs.String("policy", "", "policy file the desk runs (default: the embedded policy)")
	if err := parse(e, fs, args); err != nil {
		return err
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "desk-cluster-")
		if err != nil {
			return err
		}
		*dir = d
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	cfg, err := config.LoadDesk(e.lookup)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	log := process.NewLogger(cfg, e.stderr)
	c, err := cluster.Start(ctx, cluster.Options{Dir: abs, Workers: *workers, PolicyFile: *policyPath, Log: log})
	if err != nil {
		return err
	}
	defer c.Stop()
	fmt.Fprintf(e.stdout, `abusedesk cluster running
  dashboard    %s/  (password %s; reports API %s/api/v1/reports, token %s)
  Temporal     %s (namespace %s, mTLS: %s) on PostgreSQL %s
  processes    %d workers and an ingress; logs in %s
  sandbox      Zendesk %s · Slack %s · enforcement %s · mailbox %s

Press Ctrl-C to stop.
`, c.IngressURL, c.DashboardPassword, c.IngressURL, c.APIToken, c.Frontend, cluster.Namespace, filepath.Dir(c.TLS.Cert), c.PG.Base, c.Workers(), c.Logs(),
		c.Sandbox.ZendeskURL, c.Sandbox.SlackURL, c.Sandbox.EnforcementURL, c.Mailbox.Addr)
	<-ctx.Done()
	return nil
}
