//go:build !nodev

package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"abusedesk/devenv/demo"
	"abusedesk/devenv/devserver"
	"abusedesk/devenv/idp"
	"abusedesk/devenv/imapsandbox"
	"abusedesk/devenv/playground"
	"abusedesk/devenv/sandbox"
	"abusedesk/internal/app/provision"
	"abusedesk/internal/platform/config"
	"abusedesk/internal/platform/durable"
	"abusedesk/internal/platform/metrics"
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
	if err := writePolicyInUse(cfg.DataDir, cfg.PolicyFile); err != nil {
		return err
	}

	a := &app{cfg: cfg, log: newLogger(cfg, e.stderr), metrics: metrics.New(version), dev: devParts{ports: ports}}
	defer a.shutdown()
	a.limitMemory()
	if err := a.loadShared(cfg.PolicyFile); err != nil {
		return err
	}
	if err := a.openLedger(ctx); err != nil {
		return err
	}

	srv, err := devserver.Start(ctx, devserver.Options{
		DataDir:          cfg.DataDir,
		Namespace:        devNamespace,
		SearchAttributes: workflows.SearchAttributes(),
		FrontendPort:     *temporalPort,
		UIPort:           *uiPort,
		InternalPorts:    ports.temporal(),
		Logger:           a.log,
		LogLevel:         serverLevel,
	})
	var taken *devserver.PortInUseError
	if errors.As(err, &taken) {
		flag, ok := map[string]string{"frontend": "--temporal-port", "ui": "--ui-port"}[taken.Service]
		if !ok {
			return usageError{fmt.Sprintf("--port-base %d: Temporal's %s port %d is taken; pick another base", *portBase, taken.Service, taken.Port)}
		}
		return usageError{fmt.Sprintf("%s %d: the port is taken (is another desk dev running?); pick another, 0 for any free one", flag, taken.Port)}
	}
	if err != nil {
		return fmt.Errorf("embedded Temporal: %w", err)
	}
	a.onStop(func(context.Context) { srv.Stop() })
	a.endpoints.Temporal = &config.TemporalAddress{Address: srv.HostPort(), Namespace: srv.Namespace()}
	a.endpoints.UI = srv.UIURL()
	a.uiOff = uiOff

	keys, err := devPayloadKeys(e.lookup, cfg.DataDir)
	if err != nil {
		return err
	}
	if err := a.dialTemporal(ctx, config.Temporal{Address: srv.HostPort(), Namespace: srv.Namespace(), PayloadKeys: keys}); err != nil {
		return err
	}
	if err := a.listenHTTP(loopback(*httpPort)); err != nil {
		return usageError{fmt.Sprintf("--http-port %d: %v; pick another, 0 for any free one", *httpPort, errors.Unwrap(err))}
	}
	if err := a.startSandbox(ctx, e.lookup, *slackMode == "socket"); err != nil {
		if ports != nil {
			return usageError{fmt.Sprintf("--port-base %d: %v; pick another base", *portBase, err)}
		}
		return err
	}
	ic, imapCfg, err := config.LoadIntake(e.lookup)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	if ic.APIToken == "" {
		ic.APIToken = sandbox.Secret()
		if a.dev.sandbox != nil {
			ic.APIToken = a.dev.sandbox.Credential("api_token") // the same after a restart
		}
	}
	if imapCfg == nil {
		if imapCfg, err = a.sandboxMailbox(); err != nil {
			return err
		}
	}
	if err := a.startIntake(ctx, ic); err != nil {
		return err
	}
	a.endpoints.API.Token = ic.APIToken
	if a.dev.sandbox != nil {
		// The mailbox's address and password and the API token are kept now, not at the next
		// periodic save: a kill before it must not change them.
		if err := a.dev.sandbox.Save(); err != nil {
			return err
		}
	}
	if err := a.startIMAP(ctx, imapCfg); err != nil {
		return err
	}
	if err := a.startSlack(ctx); err != nil {
		return err
	}
	var sandboxIMAP *config.IMAP // the playground mails only a sandboxed mailbox
	if a.dev.mailbox != nil {
		sandboxIMAP = imapCfg
	}
	sb, err := playground.New(a.cases, a.dev.sandbox, sandboxIMAP, a.endpoints.API, samples, provision.MacroTitles())
	if err != nil {
		return err
	}
	sb.TeamChannels = map[string]string{}
	for name, t := range a.policy.Teams {
		sb.TeamChannels[name] = t.Channel
	}
	if *signinMode {
		if err := a.sandboxSignIn(); err != nil {
			return err
		}
	}
	if err := a.startDashboard(sb); err != nil {
		return err
	}
	a.serveHTTP()
	if err := a.startWorker(); err != nil {
		return err
	}
	a.scheduleTrends(ctx)
	if err := a.writeEndpoints(); err != nil {
		return err
	}
	printBanner(e, a)
	a.log.Info("desk dev running", "http", a.endpoints.HTTP, "temporal", srv.HostPort(), "data_dir", cfg.DataDir)
	if *demoMode {
		sb.FeedOnce(ctx, cfg.DataDir, samples, a.log)
	}
	<-ctx.Done()
	a.log.Info("stopping")
	return nil
}

// startSandbox starts a stand-in for every service the environment has no credentials for,
// points the desk's integrations at them, and provisions the sandbox Zendesk like a real
// account (fields, macros, webhook, triggers).
func (a *app) startSandbox(ctx context.Context, lookup config.Lookup, slackSocket bool) error {
	ic, err := config.LoadIntegrations(lookup)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	if err := os.MkdirAll(a.cfg.DataDir, 0o700); err != nil {
		return err
	}
	sb, err := sandbox.Start(ctx, sandbox.Options{
		DeskURL: a.endpoints.HTTP, Zendesk: ic.Zendesk == nil, Slack: ic.Slack == nil, Enforcement: ic.Enforcement == nil,
		SlackSocketMode: slackSocket, StateFile: filepath.Join(a.cfg.DataDir, "sandbox.json"), Log: a.log, Ports: a.dev.ports.sandbox(),
		// The checks of a fix look at the sandbox's stand-in for the customers' servers and its
		// blocklist, unless the environment names a proxy or a DNS server of its own.
		Hosting: a.cfg.Checks.Proxy == "" && a.cfg.Checks.DNS == "", Listed: demo.Listed,
	})
	if err != nil {
		return err
	}
	a.onStop(func(context.Context) { sb.Close() })
	env := sb.Env()
	if sb.Hosting != nil {
		a.cfg.Checks.Proxy, a.cfg.Checks.DNS = sb.HostingProxy, sb.HostingDNS
	}
	merged := func(name string) (string, bool) {
		if v, ok := env[name]; ok {
			return v, true
		}
		return lookup(name)
	}
	if ic, err = config.LoadIntegrations(merged); err != nil {
		return fmt.Errorf("sandbox configuration: %w", err)
	}
	if err := a.buildServices(ic); err != nil {
		return err
	}
	a.dev.sandbox = sb
	a.endpoints.Sandbox = sb.Endpoints()
	if sb.Zendesk != nil {
		if _, err := a.provisionZendesk(ctx, false); err != nil {
			return fmt.Errorf("provision the sandbox Zendesk: %w", err)
		}
	}
	return nil
}

// sandboxPeople are the stand-in identity provider's people: one per role (the lead is an agent
// too, as leads usually are).
var sandboxPeople = []idp.Person{
	{Email: "agent@desk.example", Name: "Alex Agent", Groups: []string{"abuse-agents"}},
	{Email: "lee.lead@desk.example", Name: "Lee Lead", Groups: []string{"abuse-agents", "abuse-leads"}},
	{Email: "legal@desk.example", Name: "Lou Legal", Groups: []string{"legal"}},
	{Email: "admin@desk.example", Name: "Ada Admin", Groups: []string{"desk-admins"}},
	{Email: "visitor@desk.example", Name: "Vic Visitor (no role)", Groups: []string{"marketing"}},
}

// sandboxSignIn starts the stand-in identity provider and signs the dashboard's people in
// through it (unless DESK_OIDC_ISSUER names a real one).
func (a *app) sandboxSignIn() error {
	if a.cfg.OIDC.Issuer != "" {
		return nil
	}
	// The session key, the client secret and the provider's address are kept in the data dir:
	// a restart of desk dev signs nobody out.
	key, err := keptSecret(filepath.Join(a.cfg.DataDir, "signin-session-key"), func() (string, error) {
		k := make([]byte, 32)
		_, err := rand.Read(k)
		return hex.EncodeToString(k), err
	})
	if err != nil {
		return err
	}
	secret, err := keptSecret(filepath.Join(a.cfg.DataDir, "signin-client-secret"), func() (string, error) { return sandbox.Secret(), nil })
	if err != nil {
		return err
	}
	p, err := idp.New("abusedesk", secret, sandboxPeople)
	if err != nil {
		return err
	}
	p.RedirectURIs = []string{strings.TrimRight(a.publicURL(), "/") + "/auth/callback"}
	addrFile := filepath.Join(a.cfg.DataDir, "signin-idp-addr")
	addr, _ := os.ReadFile(addrFile)
	if pin := a.dev.ports.addr("idp"); pin != "" {
		if err := p.Start(pin); err != nil {
			return usageError{fmt.Sprintf("--port-base: the identity provider's port %s: %v; pick another base", pin, err)}
		}
	} else if len(addr) == 0 || p.Start(strings.TrimSpace(string(addr))) != nil {
		if err := p.Start("127.0.0.1:0"); err != nil {
			return fmt.Errorf("the sandbox identity provider: %w", err)
		}
	}
	_ = durable.WriteFile(addrFile, []byte(strings.TrimPrefix(p.Issuer(), "http://")), 0o600)
	a.onStop(func(context.Context) { _ = p.Close() })
	a.cfg.OIDC = config.OIDC{Issuer: p.Issuer(), ClientID: "abusedesk", ClientSecret: secret, GroupsClaim: "groups", SessionKey: []byte(key),
		Roles: map[string][]string{"agent": {"abuse-agents"}, "lead": {"abuse-leads"}, "legal": {"legal"}, "admin": {"desk-admins"}}}
	if a.endpoints.Sandbox == nil {
		a.endpoints.Sandbox = map[string]any{}
	}
	var people []string
	for _, x := range sandboxPeople {
		people = append(people, x.Email)
	}
	a.endpoints.Sandbox["idp"] = map[string]any{"issuer": p.Issuer(), "people": people}
	return nil
}

// sandboxMailbox starts the sandbox's abuse mailbox (an in-process IMAP server) and returns
// the configuration the watcher uses for it.
func (a *app) sandboxMailbox() (*config.IMAP, error) {
	// The same address and password as last run when the port is free, so scripts keep working.
	pass, prefer := sandbox.Secret(), ""
	if a.dev.sandbox != nil {
		pass, prefer = a.dev.sandbox.Credential("imap_password"), a.dev.sandbox.PreviousAddr("imap")
	}
	// Its INBOX is spooled under the data dir: acknowledged mail survives a kill.
	spool := filepath.Join(a.cfg.DataDir, "sandbox-mailbox")
	var srv *imapsandbox.Server
	var err error
	if pin := a.dev.ports.addr("imap"); pin != "" {
		if srv, err = imapsandbox.StartSpooled(spool, pin, "abuse@provider.example", pass); err != nil {
			return nil, usageError{fmt.Sprintf("--port-base: the sandbox mailbox's port %s: %v; pick another base", pin, err)}
		}
	} else if prefer != "" {
		srv, _ = imapsandbox.StartSpooled(spool, prefer, "abuse@provider.example", pass) // taken now: any free port
	}
	if srv == nil {
		if srv, err = imapsandbox.StartSpooled(spool, "127.0.0.1:0", "abuse@provider.example", pass); err != nil {
			return nil, err
		}
	}
	if a.dev.sandbox != nil {
		a.dev.sandbox.UseAddr("imap", srv.Addr)
	}
	a.onStop(func(context.Context) { srv.Close() })
	if a.endpoints.Sandbox == nil {
		a.endpoints.Sandbox = map[string]any{}
	}
	a.endpoints.Sandbox["imap"] = map[string]any{"addr": srv.Addr, "username": srv.Username, "password": pass, "security": "none", "mailbox": "INBOX"}
	a.dev.mailbox = srv
	return &config.IMAP{Addr: srv.Addr, Security: "none", Username: srv.Username, Password: pass, Poll: 30 * time.Second}, nil
}

func printBanner(e env, a *app) {
	var b strings.Builder
	fmt.Fprintf(&b, "\nabusedesk (%s) — desk dev\n\n", version)
	row := func(name, val string) {
		if val != "" {
			fmt.Fprintf(&b, "  %-12s %s\n", name, val)
		}
	}
	row("dashboard", a.endpoints.HTTP+"/")
	if a.dev.sandbox != nil {
		row("sandbox", a.endpoints.HTTP+"/sandbox (act as customer, agent, lead)")
	}
	if a.endpoints.API != nil {
		row("reports API", a.endpoints.API.URL+" (token in endpoints.json)")
	}
	row("health", a.endpoints.HTTP+"/healthz")
	row("metrics", a.endpoints.HTTP+"/metrics")
	if t := a.endpoints.Temporal; t != nil {
		row("Temporal", t.Address+" (namespace "+t.Namespace+")")
	}
	row("Temporal UI", cmp.Or(a.endpoints.UI, a.uiOff))
	row("data dir", a.cfg.DataDir)
	row("policy", a.policy.Source)
	fmt.Fprintf(&b, "\nEndpoints are in %s/endpoints.json. Press Ctrl-C to stop.\n\n", a.cfg.DataDir)
	fmt.Fprint(e.stdout, b.String())
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

// keptSecret reads a secret kept in a file (mode 0600), making it with mint the first time.
func keptSecret(path string, mint func() (string, error)) (string, error) {
	v, err := durable.KeptFile(path, mint)
	if err != nil {
		return "", fmt.Errorf("keep %s: %w", path, err)
	}
	return strings.TrimSpace(v), nil
}

// devPorts are the ports `desk dev --port-base` pins, by name (nil: none pinned).
type devPorts map[string]int

// portOffsets are where each service listens from --port-base.
var portOffsets = map[string]int{
	"http": 0, "temporal": 1, "ui": 2,
	"temporal-frontend-http": 3, "temporal-history": 4, "temporal-matching": 5, "temporal-worker": 6,
	"temporal-frontend-membership": 7, "temporal-history-membership": 8, "temporal-matching-membership": 9, "temporal-worker-membership": 10,
	"enforcement": 11, "zendesk": 12, "slack": 13, "hosting": 14, "imap": 15, "idp": 16,
}

// portRange is how many ports from --port-base the desk may use.
const portRange = 20

// pinPorts works out the ports of --port-base: the three with flags take base+0…+2 unless
// their flag is given.
func pinPorts(base int, fs *flag.FlagSet, httpPort, temporalPort, uiPort *int, signin bool) (devPorts, error) {
	if base == 0 {
		return nil, nil
	}
	if base < 1024 || base+portRange > 65536 {
		return nil, usageError{fmt.Sprintf("--port-base %d: want a port from 1024 to %d (the desk takes %d from it)", base, 65536-portRange, portRange)}
	}
	p := devPorts{}
	for name, off := range portOffsets {
		p[name] = base + off
	}
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

// temporal are the embedded server's own ports, in devserver.Options.InternalPorts' order.
func (p devPorts) temporal() []int {
	if p == nil {
		return nil
	}
	var out []int
	for _, n := range []string{"temporal-frontend-http", "temporal-history", "temporal-matching", "temporal-worker",
		"temporal-frontend-membership", "temporal-history-membership", "temporal-matching-membership", "temporal-worker-membership"} {
		out = append(out, p[n])
	}
	return out
}

// sandbox are the stand-ins' addresses, for sandbox.Options.Ports.
func (p devPorts) sandbox() map[string]string {
	if p == nil {
		return nil
	}
	out := map[string]string{}
	for _, n := range []string{"enforcement", "zendesk", "slack", "hosting"} {
		out[n] = p.addr(n)
	}
	return out
}

// addr is a pinned service's loopback address, or "".
func (p devPorts) addr(name string) string {
	if port, ok := p[name]; ok {
		return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	}
	return ""
}
