package config

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

var componentNames = []string{"desk", "intake", "temporal", "zendesk", "slack", "enforcement", "imap"}

// Vars declares every environment variable abusedesk reads.
var Vars = []Var{
	{Name: "DESK_DATA_DIR", Default: ".desk", Component: "desk", Help: "directory for the embedded Temporal database (dev), the evidence store and endpoints.json"},
	{Name: "DESK_LOG_LEVEL", Default: "info", Component: "desk", Help: "log level: debug, info, warn or error"},
	{Name: "DESK_LOG_FORMAT", Default: "text", Component: "desk", Help: "log format: text or json"},
	{Name: "DESK_HTTP_ADDR", Default: "127.0.0.1:8080", Component: "desk", Help: "listen address of the HTTP server (health, metrics, API, webhooks, dashboard) in `desk run`; loopback unless set (\":8080\" for every interface)"},
	{Name: "DESK_PUBLIC_URL", Component: "desk", Help: "URL under which people reach the HTTP server, for links in Slack and Zendesk; default the listen address"},
	{Name: "DESK_SHUTDOWN_TIMEOUT", Default: "5s", Component: "desk", Help: "how long running activities may take to finish on SIGINT/SIGTERM"},
	{Name: "DESK_POLICY_FILE", Component: "desk", Help: "policy YAML (check it with `desk policy check`); default the embedded policy (`desk policy show`)"},
	{Name: "DESK_DASHBOARD_PASSWORD", Component: "desk", Help: "password of the web dashboard (HTTP basic auth, any user name); `desk run` needs it or DESK_OIDC_ISSUER (or --insecure-open)", Secret: true},
	{Name: "DESK_METRICS_TOKEN", Component: "desk", Help: "bearer token /metrics asks of Prometheus; `desk run` listening beyond loopback needs it (or --insecure-open)", Secret: true},
	{Name: "DESK_OIDC_ISSUER", Component: "desk", Help: "the organisation's OpenID Connect identity provider (its issuer URL): people sign into the dashboard there instead of sharing DESK_DASHBOARD_PASSWORD (`desk dev --signin` runs a stand-in)"},
	{Name: "DESK_OIDC_CLIENT_ID", Component: "desk", Help: "the desk's client ID at the identity provider; the redirect URL to register is <DESK_PUBLIC_URL>/auth/callback"},
	{Name: "DESK_OIDC_CLIENT_SECRET", Component: "desk", Help: "the desk's client secret at the identity provider", Secret: true},
	{Name: "DESK_OIDC_ROLES", Component: "desk", Help: "which identity provider groups give which role: agent=GROUP,…;lead=…;legal=…;admin=… (legal cases are seen by the legal role only; quality reviews need lead)"},
	{Name: "DESK_OIDC_GROUPS_CLAIM", Default: "groups", Component: "desk", Help: "the ID token claim that lists a person's groups"},
	{Name: "DESK_SESSION_KEY", Component: "desk", Help: "key (at least 32 bytes) that signs sign-in session cookies; the same in every desk process", Secret: true},
	{Name: "DESK_PPROF", Default: "false", Component: "desk", Help: "serve Go's profiler at /debug/pprof/ on the HTTP server (behind DESK_DASHBOARD_PASSWORD when set); for diagnosing, not for everyday"},
	{Name: "DESK_MIN_FREE_DISK", Default: "64MiB", Component: "desk", Help: "free space on the data dir's file system below which /readyz says not ready (reports would be refused); it also says so for a minute after a write failed for lack of space"},
	{Name: "DESK_MEMORY_LIMIT", Default: "768MiB", Component: "desk", Help: "soft limit of the process's Go memory: past it the garbage collector works harder and returns memory to the system (GOMEMLIMIT, when set, wins; 0 turns it off)"},
	{Name: "DESK_LEDGER_URL", Component: "desk", Help: "the case ledger (every case event, for metrics and reports): postgres://user:password@host/db for PostgreSQL, or the path of a SQLite file; default <data-dir>/ledger.db (off keeps none: only to measure what the ledger costs, with desk bench lifecycle)", Secret: true},
	{Name: "DESK_CHECK_PROXY", Component: "desk", Help: "HTTP proxy the remediation checks fetch reported URLs through (best an egress proxy outside your network); unset, they fetch directly and refuse internal addresses; `desk dev` points it at the sandbox's stand-in for the customers' servers"},
	{Name: "DESK_CHECK_DNS", Component: "desk", Help: "host:port of the DNS server the remediation checks and the blocklist watch ask DNS blocklists through; default the system's resolver (many blocklists refuse public resolvers); `desk dev` points it at the sandbox's blocklist"},
	{Name: "DESK_CHECK_TIMEOUT", Default: "15s", Component: "desk", Help: "how long one remediation check (a URL fetch, a blocklist query) may take before it counts as could not tell"},
	{Name: "DESK_WORKFLOW_CACHE", Default: "1000", Component: "desk", Help: "workflows the worker keeps in memory between tasks (sticky cache); bounds the worker's memory"},

	{Name: "DESK_API_TOKEN", Component: "intake", Help: "bearer token of POST /api/v1/reports and of the cases API, GET /api/v1/cases (`desk dev` makes one when unset and lists it in endpoints.json)", Secret: true},
	{Name: "DESK_API_BODY_TIMEOUT", Default: "1m", Component: "intake", Help: "how long the reports API waits for an upload's body once it has taken it on; a slower one is answered 408 and its connection closed, so trickling clients cannot hold on to the memory reserved for uploads"},
	{Name: "DESK_BATCH_WINDOW", Default: "100ms", Component: "intake", Help: "how long a case's reports are gathered before one delivery (SignalWithStart); 0 delivers as soon as a slot is free"},
	{Name: "DESK_BATCH_MAX", Default: "500", Component: "intake", Help: "a batch is delivered as soon as it holds this many reports (1: one SignalWithStart per report)"},
	{Name: "DESK_BATCH_CONCURRENCY", Default: "8", Component: "intake", Help: "deliveries (SignalWithStart) under way at once; fewer leave Temporal room for the cases' own work and make bigger batches under load"},
	{Name: "DESK_BATCH_YIELD_AT", Default: "500ms", Component: "intake", Help: "when workflow tasks wait longer than this to be picked up — as the worker in the same process sees them, or, in a process without a worker (desk run --components=http,imap), as the workers write their waits to the shared PostgreSQL ledger, or the server shows the oldest waiting in the task queue's statistics or for the cases it delivered to last — intake keeps one delivery under way and lets new reports in at a falling rate (503 for the rest), so the cases' deadlines are not queued behind a storm; 0 never holds back"},
	{Name: "DESK_INTAKE_MAX_QUEUED", Default: "200000", Component: "intake", Help: "accepted reports waiting for their cases (in <data-dir>/intake) before intake answers busy (API 503, mail left in the mailbox)"},
	{Name: "DESK_ACCOUNT_HEADERS", Default: "X-Abusedesk-Account,X-Account-ID", Component: "intake", Help: "headers your outbound mail carries naming the customer account, read from reported messages"},
	{Name: "ZENDESK_POLL_INTERVAL", Default: "1m", Component: "intake", Help: "how often the Zendesk incremental export is read to catch what a webhook missed (0 turns it off)"},

	{Name: "TEMPORAL_ADDRESS", Component: "temporal", Help: "host:port of the Temporal frontend; required by `desk run`, ignored by `desk dev` (embedded server)"},
	{Name: "TEMPORAL_NAMESPACE", Default: "default", Component: "temporal", Help: "Temporal namespace of the cases"},
	{Name: "TEMPORAL_TLS", Default: "false", Component: "temporal", Help: "use TLS with the system's roots even without a client certificate (e.g. with an API key)"},
	{Name: "TEMPORAL_TLS_CERT", Component: "temporal", Help: "path of the client certificate (PEM) for mTLS; needs TEMPORAL_TLS_KEY"},
	{Name: "TEMPORAL_TLS_KEY", Component: "temporal", Help: "path of the client key (PEM) for mTLS; needs TEMPORAL_TLS_CERT"},
	{Name: "TEMPORAL_TLS_CA", Component: "temporal", Help: "path of a CA bundle (PEM) to verify the server with, instead of the system's roots"},
	{Name: "TEMPORAL_TLS_SERVER_NAME", Component: "temporal", Help: "server name to verify in the server's certificate"},
	{Name: "TEMPORAL_API_KEY", Component: "temporal", Help: "API key sent as a bearer token (Temporal Cloud); implies TLS", Secret: true},
	{Name: "DESK_PAYLOAD_KEYS", Component: "temporal", Secret: true, Help: "keys that encrypt every payload the desk writes to Temporal (AES-256-GCM), so its database and UI hold no report text in clear: id=base64 entries (32 bytes each, e.g. `k1=$(openssl rand -base64 32)`) separated by commas; the first encrypts, all decrypt (rotation). Required by `desk run` (`off` writes payloads in clear); `desk dev` keeps its own in the data dir (payload-keys)"},

	{Name: "ZENDESK_URL", Component: "zendesk", Help: "the account's URL, e.g. https://acme.zendesk.com; unset in `desk dev` starts the sandbox Zendesk"},
	{Name: "ZENDESK_EMAIL", Component: "zendesk", Help: "the agent the API token belongs to (the bot)"},
	{Name: "ZENDESK_API_TOKEN", Component: "zendesk", Help: "Zendesk API token", Secret: true},
	{Name: "ZENDESK_WEBHOOK_SECRET", Component: "zendesk", Help: "signing secret of the abusedesk webhook (printed by `desk zendesk provision`); webhooks are refused without it", Secret: true},
	{Name: "ZENDESK_GROUP_ID", Component: "zendesk", Help: "group of the case tickets (default: the account's default group); its agents and the legal group's are who may take decisions — unset, every decision is refused"},
	{Name: "ZENDESK_BRAND_ID", Component: "zendesk", Help: "brand of the case tickets (default: the account's default brand)"},
	{Name: "ZENDESK_INTAKE_GROUP_ID", Component: "zendesk", Help: "tickets created in this group are abuse reports (the intake trigger)"},
	{Name: "ZENDESK_LEGAL_ADDRESS", Component: "zendesk", Help: "the legal team's Zendesk support address: legal tickets' mail to the authority (receipts, answers) goes from it; default: the account's default address"},
	{Name: "ZENDESK_LEGAL_GROUP_ID", Component: "zendesk", Help: "restricted group of legal-track tickets (law-enforcement requests, CSAM notices); default: ZENDESK_GROUP_ID — set it, so only the legal team sees them"},
	{Name: "ZENDESK_SUPPORT_GROUP_ID", Component: "zendesk", Help: "group of customer-track tickets (a customer asking for help, e.g. their mail is blocked); default: ZENDESK_GROUP_ID"},

	{Name: "SLACK_BOT_TOKEN", Component: "slack", Help: "bot token (xoxb-…); unset in `desk dev` starts the sandbox Slack", Secret: true},
	{Name: "SLACK_SIGNING_SECRET", Component: "slack", Help: "signing secret for the interactivity endpoint /slack/interactions", Secret: true},
	{Name: "SLACK_APP_TOKEN", Component: "slack", Help: "app-level token (xapp-…): receive button clicks over Socket Mode, no public endpoint needed", Secret: true},
	{Name: "SLACK_CHANNEL", Component: "slack", Help: "the leads' channel for approval requests (ID or name)"},
	{Name: "SLACK_LEGAL_CHANNEL", Component: "slack", Help: "the legal team's channel for legal-track alerts (ID or name); default: SLACK_CHANNEL"},
	{Name: "SLACK_APPROVERS", Component: "slack", Help: "approver user IDs (U…) and user-group IDs (S…), comma-separated, added to the policy's approvers"},
	{Name: "SLACK_API_URL", Component: "slack", Help: "Slack Web API base URL (default https://slack.com/api/)"},

	{Name: "ENFORCEMENT_URL", Component: "enforcement", Help: "base URL of the enforcement API (contract: integrations/enforcement/openapi.yaml); unset in `desk dev` starts the sandbox"},
	{Name: "ENFORCEMENT_TOKEN", Component: "enforcement", Help: "bearer token for the enforcement API", Secret: true},

	{Name: "IMAP_ADDR", Component: "imap", Help: "host:port of the abuse mailbox; unset in `desk dev` starts the sandbox mailbox"},
	{Name: "IMAP_SECURITY", Default: "tls", Component: "imap", Help: "tls, starttls, or none (plain text: loopback only)"},
	{Name: "IMAP_USERNAME", Component: "imap", Help: "mailbox login"},
	{Name: "IMAP_PASSWORD", Component: "imap", Help: "mailbox password", Secret: true},
	{Name: "IMAP_MAILBOX", Default: "INBOX", Component: "imap", Help: "folder the reports arrive in"},
	{Name: "IMAP_PROCESSED_FOLDER", Default: "abusedesk/processed", Component: "imap", Help: "where a message goes once its reports are in their cases"},
	{Name: "IMAP_FAILED_FOLDER", Default: "abusedesk/failed", Component: "imap", Help: "where a message goes that could not be read (it is also in a triage ticket)"},
	{Name: "IMAP_POLL", Default: "30s", Component: "imap", Help: "how often to look for mail when the server has no IDLE, and how long one IDLE lasts"},
}

// Desk is the process-wide configuration shared by every command.
type Desk struct {
	DataDir         string
	LogLevel        slog.Level
	LogFormat       string
	HTTPAddr        string
	PublicURL       string
	ShutdownTimeout time.Duration
	WorkflowCache   int
	PolicyFile      string
	// DashboardPassword guards the dashboard (basic auth) when set.
	DashboardPassword string
	// MetricsToken guards /metrics (a bearer token) when set.
	MetricsToken string
	// PProf serves /debug/pprof/.
	PProf bool
	// MemoryLimit is the soft memory limit in bytes (0: none).
	MemoryLimit int64
	// MinFreeDisk is the free space below which /readyz says not ready.
	MinFreeDisk int64
	// LedgerURL is the ledger's database: a postgres:// URL or a SQLite path ("": Ledger()).
	LedgerURL string
	// OIDC is the sign-in through the organisation's identity provider (Issuer "": none).
	OIDC OIDC
	// Checks configures the remediation checks.
	Checks Checks
}

// Checks configures the remediation checks: the proxy URL fetches go through and the DNS
// server blocklist queries go to ("": direct, the system's), and how long one may take.
type Checks struct {
	Proxy, DNS string
	Timeout    time.Duration
}

// OIDC configures sign-in through an OpenID Connect identity provider.
type OIDC struct {
	Issuer, ClientID, ClientSecret string
	Roles                          map[string][]string
	GroupsClaim                    string
	SessionKey                     []byte
}

// LedgerOff says the desk keeps no ledger (DESK_LEDGER_URL=off).
func (d Desk) LedgerOff() bool { return d.LedgerURL == "off" }

// Ledger is the ledger's database: LedgerURL, or SQLite in the data dir.
func (d Desk) Ledger() string {
	if d.LedgerURL != "" {
		return d.LedgerURL
	}
	return filepath.Join(d.DataDir, "ledger.db")
}

// Temporal says how to reach an existing Temporal cluster (`desk run`).
type Temporal struct {
	Address       string
	Namespace     string
	TLS           bool
	TLSCert       string
	TLSKey        string
	TLSCA         string
	TLSServerName string
	APIKey        string
	// PayloadKeys encrypt the payloads (DESK_PAYLOAD_KEYS: id=base64 entries; "off" or "":
	// none).
	PayloadKeys string
}

// Redacted returns a copy safe to log.
func (t Temporal) Redacted() Temporal {
	if t.APIKey != "" {
		t.APIKey = "[redacted]"
	}
	if t.PayloadKeys != "" && t.PayloadKeys != "off" {
		t.PayloadKeys = "[redacted]"
	}
	return t
}

// LoadDesk reads the process-wide settings.
func LoadDesk(lookup Lookup) (Desk, error) {
	r := &reader{lookup: lookup}
	d := Desk{
		DataDir:           r.str("DESK_DATA_DIR"),
		LogFormat:         r.oneOf("DESK_LOG_FORMAT", "text", "json"),
		HTTPAddr:          r.str("DESK_HTTP_ADDR"),
		PublicURL:         r.httpURL("DESK_PUBLIC_URL"),
		ShutdownTimeout:   r.duration("DESK_SHUTDOWN_TIMEOUT"),
		WorkflowCache:     r.integer("DESK_WORKFLOW_CACHE", 10, 1_000_000),
		PolicyFile:        r.str("DESK_POLICY_FILE"),
		DashboardPassword: r.secret("DESK_DASHBOARD_PASSWORD"),
		MetricsToken:      r.secret("DESK_METRICS_TOKEN"),
		PProf:             r.boolean("DESK_PPROF"),
		MemoryLimit:       r.size("DESK_MEMORY_LIMIT"),
		MinFreeDisk:       r.size("DESK_MIN_FREE_DISK"),
		LedgerURL:         r.secret("DESK_LEDGER_URL"),
		Checks:            Checks{Proxy: r.httpURL("DESK_CHECK_PROXY"), Timeout: r.duration("DESK_CHECK_TIMEOUT")},
	}
	if _, set := r.raw("DESK_CHECK_DNS"); set {
		d.Checks.DNS = r.hostPort("DESK_CHECK_DNS")
	}
	switch lvl := r.oneOf("DESK_LOG_LEVEL", "debug", "info", "warn", "error"); lvl {
	case "debug":
		d.LogLevel = slog.LevelDebug
	case "warn":
		d.LogLevel = slog.LevelWarn
	case "error":
		d.LogLevel = slog.LevelError
	default:
		d.LogLevel = slog.LevelInfo
	}
	d.OIDC = OIDC{Issuer: r.httpURL("DESK_OIDC_ISSUER"), ClientID: r.str("DESK_OIDC_CLIENT_ID"), ClientSecret: r.secret("DESK_OIDC_CLIENT_SECRET"),
		GroupsClaim: r.str("DESK_OIDC_GROUPS_CLAIM"), SessionKey: []byte(r.secret("DESK_SESSION_KEY"))}
	if d.OIDC.Issuer != "" {
		if d.OIDC.ClientID == "" {
			r.fail("DESK_OIDC_CLIENT_ID", "not set: sign-in through %s needs the desk's client ID there", d.OIDC.Issuer)
		}
		if roles, err := signinRoles(r.str("DESK_OIDC_ROLES")); err != nil {
			r.fail("DESK_OIDC_ROLES", "%v", err)
		} else {
			d.OIDC.Roles = roles
		}
		if len(d.OIDC.SessionKey) < 32 {
			r.fail("DESK_SESSION_KEY", "must be at least 32 bytes when DESK_OIDC_ISSUER is set (it signs the session cookies)")
		}
	}
	if d.HTTPAddr != "" && !strings.Contains(d.HTTPAddr, ":") {
		r.fail("DESK_HTTP_ADDR", "%q is not host:port or :port", d.HTTPAddr)
	}
	return d, r.err()
}

// LoadTemporal reads how to reach an existing Temporal cluster. TEMPORAL_ADDRESS is required.
func LoadTemporal(lookup Lookup) (Temporal, error) {
	r := &reader{lookup: lookup}
	t := Temporal{
		Address:       r.hostPort("TEMPORAL_ADDRESS"),
		Namespace:     r.str("TEMPORAL_NAMESPACE"),
		TLS:           r.boolean("TEMPORAL_TLS"),
		TLSCert:       r.str("TEMPORAL_TLS_CERT"),
		TLSKey:        r.str("TEMPORAL_TLS_KEY"),
		TLSCA:         r.str("TEMPORAL_TLS_CA"),
		TLSServerName: r.str("TEMPORAL_TLS_SERVER_NAME"),
		APIKey:        r.secret("TEMPORAL_API_KEY"),
		PayloadKeys:   strings.TrimSpace(r.secret("DESK_PAYLOAD_KEYS")),
	}
	if t.PayloadKeys == "" {
		r.fail("DESK_PAYLOAD_KEYS", "not set: `desk run` encrypts what it writes to Temporal; give a key (k1=$(openssl rand -base64 32)) or say off to write it in clear")
	}
	if _, set := r.raw("TEMPORAL_ADDRESS"); !set {
		r.fail("TEMPORAL_ADDRESS", "not set: `desk run` needs the host:port of a Temporal frontend (use `desk dev` for the embedded server)")
	}
	if (t.TLSCert == "") != (t.TLSKey == "") {
		r.fail("TEMPORAL_TLS_CERT", "TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY must be set together")
	}
	for _, f := range []struct{ name, path string }{{"TEMPORAL_TLS_CERT", t.TLSCert}, {"TEMPORAL_TLS_KEY", t.TLSKey}, {"TEMPORAL_TLS_CA", t.TLSCA}} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			r.fail(f.name, "cannot read %s: %v", f.path, errors.Unwrap(err))
		}
	}
	return t, r.err()
}

// signinRoles reads DESK_OIDC_ROLES: role=group,group;… with roles agent, lead, legal, admin.
func signinRoles(s string) (map[string][]string, error) {
	out := map[string][]string{}
	for part := range strings.SplitSeq(s, ";") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		role, groups, ok := strings.Cut(part, "=")
		role = strings.TrimSpace(role)
		if !ok || (role != "agent" && role != "lead" && role != "legal" && role != "admin") {
			return nil, fmt.Errorf("%q: want role=group,group with a role of agent, lead, legal or admin", part)
		}
		for g := range strings.SplitSeq(groups, ",") {
			if g = strings.TrimSpace(g); g != "" {
				out[role] = append(out[role], g)
			}
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no role is given to any group: set it like agent=abuse-agents;lead=abuse-leads;legal=legal")
	}
	return out, nil
}
