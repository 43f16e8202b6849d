// Package devdesk is the desk `desk dev` runs: one process with an embedded Temporal server,
// the sandbox's stand-ins for every service the environment has no credentials for, the
// sandbox mailbox, a stand-in identity provider with --signin, and the dashboard's sandbox
// page. cmd/desk reads the flags and calls Run.
package devdesk

import (
	"abusedesk/app/process"
	"abusedesk/devenv/demo"
	"abusedesk/devenv/devserver"
	"abusedesk/devenv/idp"
	"abusedesk/devenv/imapsandbox"
	"abusedesk/devenv/playground"
	"abusedesk/devenv/sandbox"
	"abusedesk/platform/config"
	"abusedesk/platform/durable"
	"abusedesk/platform/metrics"
	"abusedesk/platform/tclient"
	"abusedesk/workflows"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Namespace is the namespace of the embedded server.
const Namespace = "default"

// UsageError is a mistake in desk dev's flags (or a port they name that is taken).
type UsageError struct{ Msg string }

func (e UsageError) Error() string { return e.Msg }

// Options are desk dev's flags, worked out by the command.
type Options struct {
	// Cfg is the desk's configuration, the data dir and the policy file as the flags say.
	Cfg    config.Desk
	Lookup config.Lookup
	// Stdout gets the banner, Stderr the log.
	Stdout, Stderr io.Writer
	Version        string
	// HTTPPort, TemporalPort and UIPort are the ports (0: any free one; UIPort -1: no UI, and
	// UIOff says why); Ports pins the rest (nil: as last run when free), from PortBase.
	HTTPPort, TemporalPort, UIPort int
	UIOff                          string
	PortBase                       int
	Ports                          Ports
	ServerLogLevel                 slog.Level
	// ExportLag is how recent a change the sandbox Zendesk's incremental export leaves out
	// (0: a minute, as Zendesk; negative: none).
	ExportLag time.Duration
	// SlackSocket has the sandbox Slack deliver clicks through Socket Mode.
	SlackSocket bool
	// SignIn signs people in through a stand-in identity provider.
	SignIn bool
	// Demo feeds Samples to the sandbox mailbox once.
	Demo    bool
	Samples []demo.Sample
}

// devProcess is the desk process desk dev runs, with the development environment's parts beside it.
type devProcess struct {
	*process.Desk
	version string
	// ports are the ports `desk dev --port-base` pins (nil otherwise).
	ports   Ports
	sandbox *sandbox.Sandbox
	mailbox *imapsandbox.Server
	// uiOff says why desk dev runs no Temporal Web UI ("": it runs one, or was told not to).
	uiOff string
}

// Run runs desk dev until ctx ends, then stops it cleanly.
func Run(ctx context.Context, o Options) error {
	cfg := o.Cfg
	samples := o.Samples
	a := &devProcess{Desk: process.New(cfg, process.NewLogger(cfg, o.Stderr), metrics.New(o.Version)), ports: o.Ports, version: o.Version}
	defer a.Shutdown()
	a.LimitMemory()
	if err := a.LoadShared(cfg.PolicyFile); err != nil {
		return err
	}
	if err := a.OpenLedger(ctx); err != nil {
		return err
	}

	srv, err := devserver.Start(ctx, devserver.Options{
		DataDir:          cfg.DataDir,
		Namespace:        Namespace,
		SearchAttributes: workflows.SearchAttributes(),
		FrontendPort:     o.TemporalPort,
		UIPort:           o.UIPort,
		InternalPorts:    o.Ports.temporal(),
		Logger:           a.Log,
		LogLevel:         o.ServerLogLevel,
	})
	var taken *devserver.PortInUseError
	if errors.As(err, &taken) {
		flag, ok := map[string]string{"frontend": "--temporal-port", "ui": "--ui-port"}[taken.Service]
		if !ok {
			return UsageError{fmt.Sprintf("--port-base %d: Temporal's %s port %d is taken; pick another base", o.PortBase, taken.Service, taken.Port)}
		}
		return UsageError{fmt.Sprintf("%s %d: the port is taken (is another desk dev running?); pick another, 0 for any free one", flag, taken.Port)}
	}
	if err != nil {
		return fmt.Errorf("embedded Temporal: %w", err)
	}
	a.OnStop(func(context.Context) { srv.Stop() })
	a.Endpoints.Temporal = &config.TemporalAddress{Address: srv.HostPort(), Namespace: srv.Namespace()}
	a.Endpoints.UI = srv.UIURL()
	a.uiOff = o.UIOff

	keys, err := tclient.PayloadKeys(o.Lookup, cfg.DataDir)
	if err != nil {
		return err
	}
	if err := a.DialTemporal(ctx, config.Temporal{Address: srv.HostPort(), Namespace: srv.Namespace(), PayloadKeys: keys}); err != nil {
		return err
	}
	if err := a.ListenHTTP(loopback(o.HTTPPort)); err != nil {
		return UsageError{fmt.Sprintf("--http-port %d: %v; pick another, 0 for any free one", o.HTTPPort, errors.Unwrap(err))}
	}
	if err := a.startSandbox(ctx, o.Lookup, o.SlackSocket, o.ExportLag); err != nil {
		if o.Ports != nil {
			return UsageError{fmt.Sprintf("--port-base %d: %v; pick another base", o.PortBase, err)}
		}
		return err
	}
	ic, imapCfg, err := config.LoadIntake(o.Lookup)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	if ic.APIToken == "" {
		ic.APIToken = sandbox.Secret()
		if a.sandbox != nil {
			ic.APIToken = a.sandbox.Credential("api_token") // the same after a restart
		}
	}
	if imapCfg == nil {
		if imapCfg, err = a.sandboxMailbox(); err != nil {
			return err
		}
	}
	if err := a.StartIntake(ctx, ic); err != nil {
		return err
	}
	a.Endpoints.API.Token = ic.APIToken
	if a.sandbox != nil {
		// The mailbox's address and password and the API token are kept now, not at the next
		// periodic save: a kill before it must not change them.
		if err := a.sandbox.Save(); err != nil {
			return err
		}
	}
	if err := a.StartIMAP(ctx, imapCfg); err != nil {
		return err
	}
	if err := a.StartSlack(ctx); err != nil {
		return err
	}
	var sandboxIMAP *config.IMAP // the playground mails only a sandboxed mailbox
	if a.mailbox != nil {
		sandboxIMAP = imapCfg
	}
	sb, err := playground.New(a.Cases, a.sandbox, sandboxIMAP, a.Endpoints.API, samples, playground.MacroTitles())
	if err != nil {
		return err
	}
	sb.TeamChannels = map[string]string{}
	for name, t := range a.Policy.Teams {
		sb.TeamChannels[name] = t.Channel
	}
	if o.SignIn {
		if err := a.sandboxSignIn(); err != nil {
			return err
		}
	}
	if err := a.StartDashboard(sb); err != nil {
		return err
	}
	a.ServeHTTP()
	if err := a.StartWorker(); err != nil {
		return err
	}
	a.ScheduleTrends(ctx)
	a.ScheduleBlocklists(ctx)
	if err := a.WriteEndpoints(); err != nil {
		return err
	}
	a.printBanner(o.Stdout)
	a.Log.Info("desk dev running", "http", a.Endpoints.HTTP, "temporal", srv.HostPort(), "data_dir", cfg.DataDir)
	if o.Demo {
		sb.FeedOnce(ctx, cfg.DataDir, samples, a.Log)
	}
	<-ctx.Done()
	a.Log.Info("stopping")
	return nil
}

// startSandbox starts a stand-in for every service the environment has no credentials for,
// points the desk's integrations at them, and provisions the sandbox Zendesk like a real
// account (fields, macros, webhook, triggers).
func (a *devProcess) startSandbox(ctx context.Context, lookup config.Lookup, slackSocket bool, exportLag time.Duration) error {
	ic, err := config.LoadIntegrations(lookup)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	if err := os.MkdirAll(a.Cfg.DataDir, 0o700); err != nil {
		return err
	}
	sb, err := sandbox.Start(ctx, sandbox.Options{
		DeskURL: a.Endpoints.HTTP, Zendesk: ic.Zendesk == nil, Slack: ic.Slack == nil, Enforcement: ic.Enforcement == nil,
		SlackSocketMode: slackSocket, ZendeskExportLag: exportLag, StateFile: filepath.Join(a.Cfg.DataDir, "sandbox.json"), Log: a.Log, Ports: a.ports.sandbox(),
		// The checks of a fix look at the sandbox's stand-in for the customers' servers and its
		// blocklist, unless the environment names a proxy or a DNS server of its own.
		Hosting: a.Cfg.Checks.Proxy == "" && a.Cfg.Checks.DNS == "", Listed: demo.Listed,
	})
	if err != nil {
		return err
	}
	a.OnStop(func(context.Context) { sb.Close() })
	env := sb.Env()
	if sb.Hosting != nil {
		a.Cfg.Checks.Proxy, a.Cfg.Checks.DNS = sb.HostingProxy, sb.HostingDNS
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
	if err := a.BuildServices(ic); err != nil {
		return err
	}
	a.sandbox = sb
	a.Endpoints.Sandbox = sb.Endpoints()
	if sb.Zendesk != nil {
		if _, err := a.ProvisionZendesk(ctx, false); err != nil {
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
func (a *devProcess) sandboxSignIn() error {
	if a.Cfg.OIDC.Issuer != "" {
		return nil
	}
	// The session key, the client secret and the provider's address are kept in the data dir:
	// a restart of desk dev signs nobody out.
	key, err := keptSecret(filepath.Join(a.Cfg.DataDir, "signin-session-key"), func() (string, error) {
		k := make([]byte, 32)
		_, err := rand.Read(k)
		return hex.EncodeToString(k), err
	})
	if err != nil {
		return err
	}
	secret, err := keptSecret(filepath.Join(a.Cfg.DataDir, "signin-client-secret"), func() (string, error) { return sandbox.Secret(), nil })
	if err != nil {
		return err
	}
	p, err := idp.New("abusedesk", secret, sandboxPeople)
	if err != nil {
		return err
	}
	p.RedirectURIs = []string{strings.TrimRight(a.PublicURL(), "/") + "/auth/callback"}
	addrFile := filepath.Join(a.Cfg.DataDir, "signin-idp-addr")
	addr, _ := os.ReadFile(addrFile)
	if pin := a.ports.addr("idp"); pin != "" {
		if err := p.Start(pin); err != nil {
			return UsageError{fmt.Sprintf("--port-base: the identity provider's port %s: %v; pick another base", pin, err)}
		}
	} else if len(addr) == 0 || p.Start(strings.TrimSpace(string(addr))) != nil {
		if err := p.Start("127.0.0.1:0"); err != nil {
			return fmt.Errorf("the sandbox identity provider: %w", err)
		}
	}
	_ = durable.WriteFile(addrFile, []byte(strings.TrimPrefix(p.Issuer(), "http://")), 0o600)
	a.OnStop(func(context.Context) { _ = p.Close() })
	a.Cfg.OIDC = config.OIDC{Issuer: p.Issuer(), ClientID: "abusedesk", ClientSecret: secret, GroupsClaim: "groups", SessionKey: []byte(key),
		Roles: map[string][]string{"agent": {"abuse-agents"}, "lead": {"abuse-leads"}, "legal": {"legal"}, "admin": {"desk-admins"}}}
	if a.Endpoints.Sandbox == nil {
		a.Endpoints.Sandbox = map[string]any{}
	}
	var people []string
	for _, x := range sandboxPeople {
		people = append(people, x.Email)
	}
	a.Endpoints.Sandbox["idp"] = map[string]any{"issuer": p.Issuer(), "people": people}
	return nil
}

// sandboxMailbox starts the sandbox's abuse mailbox (an in-process IMAP server) and returns
// the configuration the watcher uses for it.
func (a *devProcess) sandboxMailbox() (*config.IMAP, error) {
	// The same address and password as last run when the port is free, so scripts keep working.
	pass, prefer := sandbox.Secret(), ""
	if a.sandbox != nil {
		pass, prefer = a.sandbox.Credential("imap_password"), a.sandbox.PreviousAddr("imap")
	}
	// Its INBOX is spooled under the data dir: acknowledged mail survives a kill.
	spool := filepath.Join(a.Cfg.DataDir, "sandbox-mailbox")
	var srv *imapsandbox.Server
	var err error
	if pin := a.ports.addr("imap"); pin != "" {
		if srv, err = imapsandbox.StartSpooled(spool, pin, "abuse@provider.example", pass); err != nil {
			return nil, UsageError{fmt.Sprintf("--port-base: the sandbox mailbox's port %s: %v; pick another base", pin, err)}
		}
	} else if prefer != "" {
		srv, _ = imapsandbox.StartSpooled(spool, prefer, "abuse@provider.example", pass) // taken now: any free port
	}
	if srv == nil {
		if srv, err = imapsandbox.StartSpooled(spool, "127.0.0.1:0", "abuse@provider.example", pass); err != nil {
			return nil, err
		}
	}
	if a.sandbox != nil {
		a.sandbox.UseAddr("imap", srv.Addr)
	}
	a.OnStop(func(context.Context) { srv.Close() })
	if a.Endpoints.Sandbox == nil {
		a.Endpoints.Sandbox = map[string]any{}
	}
	a.Endpoints.Sandbox["imap"] = map[string]any{"addr": srv.Addr, "username": srv.Username, "password": pass, "security": "none", "mailbox": "INBOX"}
	a.mailbox = srv
	return &config.IMAP{Addr: srv.Addr, Security: "none", Username: srv.Username, Password: pass, Poll: 30 * time.Second}, nil
}

func (a *devProcess) printBanner(w io.Writer) {
	var b strings.Builder
	fmt.Fprintf(&b, "\nabusedesk (%s) — desk dev\n\n", a.version)
	row := func(name, val string) {
		if val != "" {
			fmt.Fprintf(&b, "  %-12s %s\n", name, val)
		}
	}
	row("dashboard", a.Endpoints.HTTP+"/")
	if a.sandbox != nil {
		row("sandbox", a.Endpoints.HTTP+"/sandbox (act as customer, agent, lead)")
	}
	if a.Endpoints.API != nil {
		row("reports API", a.Endpoints.API.URL+" (token in endpoints.json)")
	}
	row("health", a.Endpoints.HTTP+"/healthz")
	row("metrics", a.Endpoints.HTTP+"/metrics")
	if t := a.Endpoints.Temporal; t != nil {
		row("Temporal", t.Address+" (namespace "+t.Namespace+")")
	}
	row("Temporal UI", cmp.Or(a.Endpoints.UI, a.uiOff))
	row("data dir", a.Cfg.DataDir)
	row("policy", a.Policy.Source)
	fmt.Fprintf(&b, "\nEndpoints are in %s/endpoints.json. Press Ctrl-C to stop.\n\n", a.Cfg.DataDir)
	fmt.Fprint(w, b.String())
}

// keptSecret reads a secret kept in a file (mode 0600), making it with mint the first time.
func keptSecret(path string, mint func() (string, error)) (string, error) {
	v, err := durable.KeptFile(path, mint)
	if err != nil {
		return "", fmt.Errorf("keep %s: %w", path, err)
	}
	return strings.TrimSpace(v), nil
}

// Ports are the ports `desk dev --port-base` pins, by name (nil: none pinned).
type Ports map[string]int

// PortOffsets are where each service listens from --port-base.
var PortOffsets = map[string]int{
	"http": 0, "temporal": 1, "ui": 2,
	"temporal-frontend-http": 3, "temporal-history": 4, "temporal-matching": 5, "temporal-worker": 6,
	"temporal-frontend-membership": 7, "temporal-history-membership": 8, "temporal-matching-membership": 9, "temporal-worker-membership": 10,
	"enforcement": 11, "zendesk": 12, "slack": 13, "hosting": 14, "imap": 15, "idp": 16,
}

// PortRange is how many ports from --port-base the desk may use.
const PortRange = 20

// Pin are the ports from base: every service at its offset.
func Pin(base int) Ports {
	p := Ports{}
	for name, off := range PortOffsets {
		p[name] = base + off
	}
	return p
}

// temporal are the embedded server's own ports, in devserver.Options.InternalPorts' order.
func (p Ports) temporal() []int {
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
func (p Ports) sandbox() map[string]string {
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
func (p Ports) addr(name string) string {
	if port, ok := p[name]; ok {
		return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	}
	return ""
}

// loopback is the loopback listen address of a port.
func loopback(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }
