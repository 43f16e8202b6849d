// Package sandbox runs local stand-ins for the services abusedesk talks to — Zendesk, Slack
// and the enforcement API (and the abuse mailbox, and the customers' servers and a DNS
// blocklist that remediation checks look at) — each on loopback with fresh credentials,
// seeded with demo people and accounts. `desk dev` starts it for every service the environment
// has no credentials for; the end-to-end tests start it too. The desk then talks to it through
// its real integrations: pointing at the real services is a configuration change.
package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"abusedesk/devenv/enforcementapi"
	"abusedesk/devenv/hosting"
	"abusedesk/devenv/slacksandbox"
	"abusedesk/devenv/zendesksandbox"
	"abusedesk/platform/durable"
)

// People of the sandbox. The leads approve in Slack; the agents work in Zendesk. Lee Lead is
// also a Zendesk agent, so a lead trying to review their own escalation's appeal is refused.
var (
	BotEmail = "desk-bot@abusedesk.example"
	// LegalAddress is the legal team's support address in the sandbox's Zendesk.
	LegalAddress = "legal@abusedesk.example"
	Agents       = []Person{
		{Name: "Alex Agent", Email: "agent@desk.example"},
		{Name: "Rita Reviewer", Email: "reviewer@desk.example"},
		{Name: "Lee Lead", Email: "lee.lead@desk.example"},
		{Name: "Lou Legal", Email: "legal@desk.example", Legal: true},
	}
	Leads = []Person{
		{SlackID: "ULEAD1", Name: "Lee Lead", Email: "lee.lead@desk.example"},
		{SlackID: "ULEAD2", Name: "Kim Lead", Email: "kim.lead@desk.example"},
	}
	// Bystander is in Slack but not an approver.
	Bystander = Person{SlackID: "UAGENT1", Name: "Alex Agent", Email: "agent@desk.example"}
)

// LeadsGroup is the Slack user group of the leads, the sandbox's approvers.
const LeadsGroup = "SLEADS"

// LeadsChannel is the Slack channel for approval requests; LegalChannel the legal team's;
// SecurityChannel and Tier2Channel the demo policy's teams' (hand-offs).
const (
	LeadsChannel    = "abuse-leads"
	LegalChannel    = "abuse-legal"
	SecurityChannel = "abuse-security"
	Tier2Channel    = "abuse-tier2"
)

// Person is someone in the sandbox.
type Person struct {
	SlackID string `json:"slack_id,omitempty"`
	Name    string `json:"name"`
	Email   string `json:"email"`
	// Legal agents are in Zendesk's restricted legal group (the others in the abuse group):
	// only they decide legal matters.
	Legal bool `json:"legal,omitempty"`
}

// Options says which services to start and where the desk listens.
type Options struct {
	// DeskURL is the desk's HTTP base URL: Zendesk webhooks and Slack interactions go there.
	DeskURL                     string
	Zendesk, Slack, Enforcement bool
	// SlackSocketMode delivers clicks over Socket Mode instead of HTTP.
	SlackSocketMode bool
	// ZendeskExportLag is how recent a change the Zendesk's incremental export leaves out
	// (0: a minute, as Zendesk; negative: none).
	ZendeskExportLag time.Duration
	// Hosting starts the stand-in for the customers' servers (an HTTP proxy) and a DNS
	// blocklist, which the remediation checks query; Listed are the addresses it lists.
	Hosting bool
	Listed  []string
	// StateFile, when set, keeps the services' content, credentials and ports across restarts:
	// loaded at Start, saved every few seconds and at Close. A sandbox started on the same
	// data dir again has the same tickets, messages and enforcement actions, so open cases go on.
	StateFile string
	// Ports, when set, pin the services' addresses by name (enforcement, zendesk, slack,
	// hosting — its blocklist answers on the same port, over UDP): a pinned port that is taken
	// is an error, where otherwise a service takes last run's port when free, or any.
	Ports map[string]string
	Log   *slog.Logger
}

// Sandbox is the running set of stand-ins.
type Sandbox struct {
	Zendesk     *zendesksandbox.Server
	Slack       *slacksandbox.Server
	Enforcement *enforcementapi.Server
	Hosting     *hosting.Server

	ZendeskURL, SlackURL, EnforcementURL string
	// HostingProxy is the stand-in's proxy URL, HostingDNS its blocklist's host:port.
	HostingProxy, HostingDNS string

	ZendeskToken, ZendeskWebhookSecret string
	SlackBotToken, SlackSigningSecret  string
	SlackAppToken                      string
	EnforcementToken                   string

	slackSocket bool
	servers     []*http.Server
	packets     []net.PacketConn
	addrs       map[string]string
	// prevAddrs and creds are what the last run used, for services started outside this
	// package (the mailbox) and for credentials the desk itself needs (the API token), so a
	// restart keeps the ports and secrets scripts use.
	prevAddrs map[string]string
	// pinned are the addresses Options.Ports pins.
	pinned     map[string]string
	creds      map[string]string
	stateFile  string
	log        *slog.Logger
	stopSaving chan struct{}
	savingDone chan struct{}
}

// saved is the content of Options.StateFile.
type saved struct {
	Version     int               `json:"version"`
	Credentials map[string]string `json:"credentials"`
	Addrs       map[string]string `json:"addrs"`
	Zendesk     json.RawMessage   `json:"zendesk,omitempty"`
	Slack       json.RawMessage   `json:"slack,omitempty"`
	Enforcement json.RawMessage   `json:"enforcement,omitempty"`
}

// Start starts the services asked for.
func Start(ctx context.Context, o Options) (*Sandbox, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	s := &Sandbox{addrs: map[string]string{}, stateFile: o.StateFile, log: o.Log, creds: map[string]string{}, pinned: o.Ports}
	prev, err := readState(o.StateFile)
	if err != nil {
		return nil, err
	}
	s.prevAddrs = prev.Addrs
	for k, v := range prev.Credentials {
		s.creds[k] = v
	}
	cred := func(name, prefix string) string {
		if v := prev.Credentials[name]; v != "" {
			return v
		}
		return prefix + secret()
	}
	if o.Zendesk {
		s.ZendeskToken, s.ZendeskWebhookSecret = cred("zendesk_token", ""), cred("zendesk_webhook_secret", "")
		z := zendesksandbox.New(s.ZendeskToken, BotEmail)
		z.ExportLag = o.ZendeskExportLag
		if o.StateFile != "" {
			z.FilesDir = filepath.Join(filepath.Dir(o.StateFile), "sandbox-zendesk-files")
		}
		if len(prev.Zendesk) > 0 {
			if err := z.Load(prev.Zendesk); err != nil {
				return nil, fmt.Errorf("sandbox state %s: %w (delete it to start afresh)", o.StateFile, err)
			}
		}
		for _, a := range Agents { // a state saved before a person or a group was added gets them
			group := int64(zendesksandbox.GroupAbuse)
			if a.Legal {
				group = zendesksandbox.GroupLegal
			}
			z.AddAgent(a.Email, a.Name, group)
		}
		u, err := s.serve("zendesk", prev.Addrs["zendesk"], z.Handler())
		if err != nil {
			s.Close()
			return nil, err
		}
		z.SetBaseURL(u)
		s.Zendesk, s.ZendeskURL = z, u
	}
	if o.Slack {
		s.SlackBotToken, s.SlackSigningSecret, s.SlackAppToken = cred("slack_bot_token", "xoxb-"), cred("slack_signing_secret", ""), cred("slack_app_token", "xapp-")
		sl := slacksandbox.New(s.SlackBotToken, s.SlackAppToken, s.SlackSigningSecret, LeadsChannel)
		if len(prev.Slack) > 0 {
			if err := sl.Load(prev.Slack); err != nil {
				return nil, fmt.Errorf("sandbox state %s: %w (delete it to start afresh)", o.StateFile, err)
			}
		} else {
			var ids []string
			for _, l := range Leads {
				sl.AddUser(slacksandbox.User{ID: l.SlackID, Name: strings.ToLower(strings.Fields(l.Name)[0]), RealName: l.Name, Email: l.Email})
				ids = append(ids, l.SlackID)
			}
			sl.AddUser(slacksandbox.User{ID: Bystander.SlackID, Name: "alex", RealName: Bystander.Name, Email: Bystander.Email})
			sl.AddGroup(LeadsGroup, ids...)
		}
		sl.AddChannel(LegalChannel, "C0LEGAL")
		sl.AddChannel(SecurityChannel, "C0SECURITY")
		sl.AddChannel(Tier2Channel, "C0TIER2")
		if o.DeskURL != "" && !o.SlackSocketMode {
			sl.InteractionURL = strings.TrimRight(o.DeskURL, "/") + "/slack/interactions"
		}
		s.slackSocket = o.SlackSocketMode
		u, err := s.serve("slack", prev.Addrs["slack"], sl.Handler())
		if err != nil {
			s.Close()
			return nil, err
		}
		sl.SetBaseURL(u)
		s.Slack, s.SlackURL = sl, u
	}
	if o.Enforcement {
		s.EnforcementToken = cred("enforcement_token", "")
		e := enforcementapi.NewDemo(s.EnforcementToken)
		if len(prev.Enforcement) > 0 {
			if err := e.Load(prev.Enforcement); err != nil {
				return nil, fmt.Errorf("sandbox state %s: %w (delete it to start afresh)", o.StateFile, err)
			}
		}
		e.ApplyDelay = 300 * time.Millisecond
		u, err := s.serve("enforcement", prev.Addrs["enforcement"], e.Handler())
		if err != nil {
			s.Close()
			return nil, err
		}
		s.Enforcement, s.EnforcementURL = e, u
	}
	if o.Hosting {
		h := hosting.New(o.Log, o.Listed...)
		u, err := s.serve("hosting", prev.Addrs["hosting"], h.Handler())
		if err != nil {
			s.Close()
			return nil, err
		}
		var pc net.PacketConn
		if p := s.pinned["hosting"]; p != "" {
			if pc, err = net.ListenPacket("udp", p); err != nil {
				s.Close()
				return nil, fmt.Errorf("sandbox blocklist: the pinned port: %w", err)
			}
		} else if p := prev.Addrs["hosting-dns"]; p != "" {
			pc, _ = net.ListenPacket("udp", p) // taken now: any free port will do
		}
		if pc == nil {
			if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
				s.Close()
				return nil, fmt.Errorf("sandbox blocklist: %w", err)
			}
		}
		s.addrs["hosting-dns"] = pc.LocalAddr().String()
		s.packets = append(s.packets, pc)
		go h.ServeDNS(pc)
		s.Hosting, s.HostingProxy, s.HostingDNS = h, u, pc.LocalAddr().String()
	}
	if s.stateFile != "" {
		if err := s.Save(); err != nil {
			s.Close()
			return nil, err
		}
		s.stopSaving, s.savingDone = make(chan struct{}), make(chan struct{})
		go s.saveEvery(5 * time.Second)
	}
	return s, nil
}

func readState(path string) (saved, error) {
	var st saved
	if path == "" {
		return st, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("sandbox state: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("sandbox state %s: %w (delete it to start afresh)", path, err)
	}
	if st.Version != stateVersion {
		return saved{}, fmt.Errorf("sandbox state %s: version %d, this build reads %d (delete it to start afresh)", path, st.Version, stateVersion)
	}
	return st, nil
}

const stateVersion = 1

// Save writes the services' state to the state file (atomically).
func (s *Sandbox) Save() error {
	if s.stateFile == "" {
		return nil
	}
	creds := map[string]string{}
	for k, v := range s.creds {
		creds[k] = v
	}
	for k, v := range map[string]string{
		"zendesk_token": s.ZendeskToken, "zendesk_webhook_secret": s.ZendeskWebhookSecret,
		"slack_bot_token": s.SlackBotToken, "slack_signing_secret": s.SlackSigningSecret, "slack_app_token": s.SlackAppToken,
		"enforcement_token": s.EnforcementToken,
	} {
		creds[k] = v
	}
	st := saved{Version: stateVersion, Addrs: s.addrs, Credentials: creds}
	var err error
	if s.Zendesk != nil {
		if st.Zendesk, err = s.Zendesk.Save(); err != nil {
			return err
		}
	}
	if s.Slack != nil {
		if st.Slack, err = s.Slack.Save(); err != nil {
			return err
		}
	}
	if s.Enforcement != nil {
		if st.Enforcement, err = s.Enforcement.Save(); err != nil {
			return err
		}
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := durable.WriteFile(s.stateFile, b, 0o600); err != nil {
		return fmt.Errorf("sandbox state: %w", err)
	}
	return nil
}

func (s *Sandbox) saveEvery(d time.Duration) {
	defer close(s.savingDone)
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-s.stopSaving:
			return
		case <-t.C:
			if err := s.Save(); err != nil {
				s.log.Warn("sandbox state not saved", "error", err)
			}
		}
	}
}

// Credential returns the secret kept under name: last run's, or a new one from now on.
func (s *Sandbox) Credential(name string) string {
	if s.creds[name] == "" {
		s.creds[name] = secret()
	}
	return s.creds[name]
}

// PreviousAddr is the address a service had last run ("" for none); UseAddr records this run's.
func (s *Sandbox) PreviousAddr(name string) string { return s.prevAddrs[name] }

// UseAddr records the address a service listens on this run.
func (s *Sandbox) UseAddr(name, addr string) { s.addrs[name] = addr }

// serve serves h on loopback, on the port it had last time when that is free.
func (s *Sandbox) serve(name, prefer string, h http.Handler) (string, error) {
	var ln net.Listener
	if pin := s.pinned[name]; pin != "" {
		var err error
		if ln, err = net.Listen("tcp", pin); err != nil {
			return "", fmt.Errorf("sandbox %s: the pinned port: %w", name, err)
		}
	} else if prefer != "" {
		ln, _ = net.Listen("tcp", prefer) // taken now: any free port will do
	}
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return "", fmt.Errorf("sandbox %s: %w", name, err)
		}
	}
	s.addrs[name] = ln.Addr().String()
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("sandbox server stopped", "service", name, "error", err)
		}
	}()
	s.servers = append(s.servers, srv)
	return "http://" + ln.Addr().String(), nil
}

// Env is the configuration that points the desk at the sandbox's services, in the same
// variables a real deployment sets.
func (s *Sandbox) Env() map[string]string {
	env := map[string]string{}
	if s.Zendesk != nil {
		env["ZENDESK_URL"] = s.ZendeskURL
		env["ZENDESK_EMAIL"] = BotEmail
		env["ZENDESK_API_TOKEN"] = s.ZendeskToken
		env["ZENDESK_WEBHOOK_SECRET"] = s.ZendeskWebhookSecret
		env["ZENDESK_GROUP_ID"] = strconv.Itoa(zendesksandbox.GroupAbuse)
		env["ZENDESK_INTAKE_GROUP_ID"] = strconv.Itoa(zendesksandbox.GroupIntake)
		env["ZENDESK_LEGAL_GROUP_ID"] = strconv.Itoa(zendesksandbox.GroupLegal)
		env["ZENDESK_LEGAL_ADDRESS"] = LegalAddress
		env["ZENDESK_SUPPORT_GROUP_ID"] = strconv.Itoa(zendesksandbox.GroupSupport)
	}
	if s.Slack != nil {
		env["SLACK_BOT_TOKEN"] = s.SlackBotToken
		if s.slackSocket {
			env["SLACK_APP_TOKEN"] = s.SlackAppToken
		} else {
			env["SLACK_SIGNING_SECRET"] = s.SlackSigningSecret
		}
		env["SLACK_CHANNEL"] = LeadsChannel
		env["SLACK_LEGAL_CHANNEL"] = LegalChannel
		env["SLACK_API_URL"] = s.SlackURL + "/api/"
		env["SLACK_APPROVERS"] = LeadsGroup
	}
	if s.Enforcement != nil {
		env["ENFORCEMENT_URL"] = s.EnforcementURL
		env["ENFORCEMENT_TOKEN"] = s.EnforcementToken
	}
	if s.Hosting != nil {
		env["DESK_CHECK_PROXY"] = s.HostingProxy
		env["DESK_CHECK_DNS"] = s.HostingDNS
	}
	return env
}

// Endpoints describes the services and their credentials for endpoints.json.
func (s *Sandbox) Endpoints() map[string]any {
	out := map[string]any{}
	if s.Zendesk != nil {
		out["zendesk"] = map[string]any{"url": s.ZendeskURL, "email": BotEmail, "api_token": s.ZendeskToken,
			"webhook_secret": s.ZendeskWebhookSecret, "agents": Agents, "auth": "basic <email>/token:<api_token>; any user's email works"}
	}
	if s.Slack != nil {
		out["slack"] = map[string]any{"api_url": s.SlackURL + "/api/", "sandbox_url": s.SlackURL + "/sandbox/", "socket_mode": s.slackSocket, "bot_token": s.SlackBotToken, "app_token": s.SlackAppToken,
			"signing_secret": s.SlackSigningSecret, "channel": LeadsChannel, "leads": Leads, "approver_group": LeadsGroup}
	}
	if s.Enforcement != nil {
		out["enforcement"] = map[string]any{"url": s.EnforcementURL, "token": s.EnforcementToken, "accounts": enforcementapi.Demo()}
	}
	if s.Hosting != nil {
		out["hosting"] = map[string]any{"proxy": s.HostingProxy, "control": s.HostingProxy + "/sandbox/", "dnsbl": s.HostingDNS, "zone": hosting.Zone,
			"use": "POST /sandbox/takedown {\"url\":…} takes a reported page down; POST /sandbox/delist {\"ip\":…} takes an address off the blocklist; GET /sandbox/state"}
	}
	return out
}

// Close stops every service and saves their state.
func (s *Sandbox) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	started := s.stopSaving != nil
	if started {
		close(s.stopSaving)
		<-s.savingDone
		s.stopSaving = nil
	}
	if s.Zendesk != nil {
		s.Zendesk.Flush()
	}
	for _, srv := range s.servers {
		_ = srv.Shutdown(ctx)
	}
	for _, pc := range s.packets {
		_ = pc.Close()
	}
	if started { // a sandbox that failed to start keeps the state it was started from
		if err := s.Save(); err != nil {
			s.log.Warn("sandbox state not saved", "error", err)
		}
	}
}

// Secret makes a random credential for one run of the sandbox.
func Secret() string { return secret() }

// secret makes a random credential for one run of the sandbox.
func secret() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
