//go:build !nodev

package main

import (
	"abusedesk/devenv/demo"
	"abusedesk/devenv/devdesk"
	"abusedesk/platform/config"
	"abusedesk/platform/durable"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"time"
)

func cmdDev(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "dev", "dev [flags]", `
Runs the whole desk in one process on embedded defaults: an in-process Temporal server on
SQLite under the data dir (workflows survive a restart), the Temporal Web UI, the worker and the
HTTP server (health, metrics, API, webhooks, dashboard). Services without credentials in the
environment are replaced by the sandbox.

The dashboard is at the HTTP URL. With the sandbox, its Sandbox page and each case page let
you act as the other parties — mail a report to the abuse mailbox, reply as the customer,
apply an agent's macro in Zendesk, click Approve or Deny as a lead in Slack — each through
the real protocol. The sandbox's content (tickets, Slack messages, enforcement actions) is
kept in <data-dir>/sandbox.json, so a restart carries on where it stopped.

--demo mails the demo's sample reports to the sandbox mailbox once (again after deleting
<data-dir>/demo-fed) and, unless --policy is given, uses the demo policy: windows of minutes,
the sandbox leads as approvers. --demo-dir adds a folder of .eml/.json reports (e.g. the
shared corpus) to the samples.

Prints a banner with every URL and writes them to <data-dir>/endpoints.json. Ctrl-C stops it:
running activities get DESK_SHUTDOWN_TIMEOUT to finish, then the server stops cleanly.
Port 0 picks any free port.`)
	dataDir := fs.String("data-dir", "", "data directory (default $DESK_DATA_DIR or .desk)")
	httpPort := fs.Int("http-port", 8080, "HTTP port (dashboard, API, webhooks, health, metrics)")
	temporalPort := fs.Int("temporal-port", 7233, "Temporal frontend gRPC port")
	uiPort := fs.Int("ui-port", 8233, "Temporal Web UI port; -1 turns the UI off (with --signin it is off unless this is given: the UI has no roles)")
	policyPath := fs.String("policy", "", "policy file (default $DESK_POLICY_FILE or the embedded default)")
	serverLog := fs.String("temporal-log-level", "error", "log level of the embedded Temporal server: debug, info, warn, error")
	slackMode := fs.String("sandbox-slack", "http", "how the sandbox Slack delivers clicks: http (signed requests to /slack/interactions) or socket (Socket Mode)")
	demoMode := fs.Bool("demo", false, "feed the sample reports at start and use the demo policy (windows of minutes) unless --policy is given")
	signinMode := fs.Bool("signin", false, "sign people into the dashboard through a stand-in OpenID Connect identity provider on loopback (one demo person per role: agent, lead, legal, admin) instead of the dashboard password")
	demoDir := fs.String("demo-dir", "", "a folder of .eml/.json reports added to the samples (fed with --demo, offered on the Sandbox page)")
	exportLag := fs.Duration("sandbox-export-lag", time.Minute, "how recent a change the sandbox Zendesk's incremental export leaves out, as Zendesk does (a minute); shorter, the poll that catches a lost webhook sees a change sooner; 0: none")
	portBase := fs.Int("port-base", 0, "pin every port the desk listens on to the 20 from this one (docs: HTTP +0, Temporal +1, its UI +2, Temporal's own services +3…+10, the sandbox's enforcement API, Zendesk, Slack, hosting stand-in and blocklist, mailbox and identity provider +11…+16); --http-port, --temporal-port and --ui-port still win when given. 0: those three as their flags say, the rest as last run when free")
	if err := parse(e, fs, args); err != nil {
		return err
	}
	ports, err := pinPorts(*portBase, fs, httpPort, temporalPort, uiPort, *signinMode)
	if err != nil {
		return err
	}
	cfg, err := config.LoadDesk(e.lookup)
	if err != nil {
		return err
	}
	if *dataDir != "" {
		cfg.DataDir = *dataDir
	}
	// One data dir, one desk: a second would take over the first one's Temporal storage.
	unlock, err := durable.LockDir(cfg.DataDir)
	if err != nil {
		return err
	}
	defer unlock()
	var serverLevel slog.Level
	if err := serverLevel.UnmarshalText([]byte(*serverLog)); err != nil {
		return usageError{fmt.Sprintf("--temporal-log-level: %q is not debug, info, warn or error", *serverLog)}
	}
	if *policyPath != "" {
		cfg.PolicyFile = *policyPath
	}
	if *exportLag < 0 {
		return usageError{fmt.Sprintf("--sandbox-export-lag: %v is negative", *exportLag)}
	}
	if *exportLag == 0 {
		*exportLag = -1 // none: the sandbox's zero is Zendesk's minute
	}
	var uiOff string
	*uiPort, uiOff = devUIPort(*uiPort, flagGiven(fs, "ui-port"), *signinMode)
	if *slackMode != "http" && *slackMode != "socket" {
		return usageError{fmt.Sprintf("--sandbox-slack: %q is not http or socket", *slackMode)}
	}
	samples := demo.Samples()
	if *demoDir != "" {
		more, err := demo.LoadDir(*demoDir)
		if err != nil {
			return usageError{"--demo-dir: " + err.Error()}
		}
		samples = append(samples, more...)
	}
	if *demoMode && cfg.PolicyFile == "" {
		if cfg.PolicyFile, err = demo.WritePolicy(cfg.DataDir); err != nil {
			return err
		}
	}
	if err := config.RecordPolicyInUse(cfg.DataDir, cfg.PolicyFile); err != nil {
		return err
	}

	err = devdesk.Run(ctx, devdesk.Options{Cfg: cfg, Lookup: e.lookup, Stdout: e.stdout, Stderr: e.stderr, Version: version,
		HTTPPort: *httpPort, TemporalPort: *temporalPort, UIPort: *uiPort, UIOff: uiOff, PortBase: *portBase, Ports: ports,
		ServerLogLevel: serverLevel, SlackSocket: *slackMode == "socket", SignIn: *signinMode, Demo: *demoMode, Samples: samples,
		ExportLag: *exportLag})
	if u := (devdesk.UsageError{}); errors.As(err, &u) {
		return usageError{u.Msg}
	}
	return err
}

// devUIPort is the Temporal Web UI's port for desk dev, and why it is off when it is. The UI
// has no roles: everyone it lets in sees every workflow, legal matters' included. With people
// signed in by role it runs only when its port is given.
func devUIPort(port int, given, signin bool) (int, string) {
	if signin && !given {
		return -1, "off: it has no roles and would show legal matters to every agent (--ui-port runs it for you, on loopback)"
	}
	return port, ""
}

// pinPorts works out the ports of --port-base: the three with flags take base+0…+2 unless
// their flag is given.
func pinPorts(base int, fs *flag.FlagSet, httpPort, temporalPort, uiPort *int, signin bool) (devdesk.Ports, error) {
	if base == 0 {
		return nil, nil
	}
	if base < 1024 || base+devdesk.PortRange > 65536 {
		return nil, usageError{fmt.Sprintf("--port-base %d: want a port from 1024 to %d (the desk takes %d from it)", base, 65536-devdesk.PortRange, devdesk.PortRange)}
	}
	p := devdesk.Pin(base)
	if !flagGiven(fs, "http-port") {
		*httpPort = p["http"]
	}
	if !flagGiven(fs, "temporal-port") {
		*temporalPort = p["temporal"]
	}
	if !flagGiven(fs, "ui-port") && !signin {
		*uiPort = p["ui"]
	}
	return p, nil
}
