package process

import (
	"cmp"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"abusedesk/activities"
	"abusedesk/app/casesapi"
	"abusedesk/app/dashboard"
	"abusedesk/app/ledger"
	"abusedesk/app/signin"
	"abusedesk/domain/approval"
	"abusedesk/domain/policy"
	"abusedesk/platform/ingress"
)

// OpenAPI describes the desk's HTTP API (served at /api/v1/openapi.yaml; TestOpenAPIMatchesRoutes
// keeps it equal to the routes).
//
//go:embed openapi.yaml
var OpenAPI []byte

// HTTPHook, set by a test, hears of each desk's HTTP server as it is made (nil otherwise).
var HTTPHook func(*ingress.Server)

// ListenHTTP binds the HTTP server, so its address is known before anything is served.
func (a *Desk) ListenHTTP(addr string) error {
	a.HTTP = ingress.New(a.Log, a.Metrics)
	a.HTTP.RequireMetricsToken(a.Cfg.MetricsToken)
	// CSRF tokens one ingress gives are good at every other: they share these secrets.
	if secret := cmp.Or(string(a.Cfg.OIDC.SessionKey), a.Cfg.DashboardPassword); secret != "" {
		a.HTTP.SetCSRFKey(ingress.CSRFKeyFrom(secret))
	}
	if a.Cfg.PublicURL != "" {
		// Pages served through a proxy at the public URL may post to the desk.
		u, err := url.Parse(a.Cfg.PublicURL)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return fmt.Errorf("DESK_PUBLIC_URL: %q is not an absolute URL", a.Cfg.PublicURL)
		}
		if err := a.HTTP.TrustOrigin(u.Scheme + "://" + u.Host); err != nil {
			return fmt.Errorf("DESK_PUBLIC_URL: %w", err)
		}
	}
	a.HTTP.Handle("GET /api/v1/openapi.yaml", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(OpenAPI)
	}))
	if HTTPHook != nil {
		HTTPHook(a.HTTP)
	}
	a.HTTP.AddReadyCheck(ingress.ReadyCheck{Name: "temporal", Check: func(ctx context.Context) error {
		_, err := a.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{})
		return err
	}})
	if err := a.HTTP.Listen(addr); err != nil {
		return fmt.Errorf("http: %w", err)
	}
	a.Endpoints.HTTP = "http://" + a.HTTP.Addr()
	return nil
}

// ServeHTTP serves the routes mounted so far (and later ones: the mux is live).
func (a *Desk) ServeHTTP() {
	errc := make(chan error, 1)
	go func() { errc <- a.HTTP.Serve() }()
	a.OnStop(func(ctx context.Context) {
		if err := a.HTTP.Shutdown(ctx); err != nil {
			a.Log.Warn("http shutdown", "error", err)
		}
		if err := <-errc; err != nil {
			a.Log.Error("http server", "error", err)
		}
	})
}

// looseEnds are the desk's own loose ends for the work queue: inbox entries (Zendesk webhooks,
// mailbox messages, …) that failed for good, kept under <data-dir>/inbox/<name>/failed/.
func (a *Desk) looseEnds() []dashboard.Loose {
	dirs, _ := filepath.Glob(filepath.Join(a.Cfg.DataDir, "inbox", "*", "failed"))
	var out []dashboard.Loose
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil || len(entries) == 0 {
			continue
		}
		name := filepath.Base(filepath.Dir(dir))
		out = append(out, dashboard.Loose{What: name + " messages the desk could not act on", Where: dir, Count: len(entries)})
	}
	if a.watcher != nil {
		if err := a.watcher.Ready(); err != nil {
			out = append(out, dashboard.Loose{What: "the abuse mailbox: " + err.Error(), Where: "the mailbox (IMAP_ADDR)", Count: 1})
		}
	}
	return out
}

// StartDashboard mounts the web dashboard; pg, in desk dev, lets it act as the other parties.
func (a *Desk) StartDashboard(pg dashboard.Playground) error {
	if a.HTTP == nil {
		return nil
	}
	opts := dashboard.Options{Cases: a.Cases, Playground: pg, Reporters: a.reporters.Snapshot, Password: a.Cfg.DashboardPassword, Log: a.Log}
	if a.Ledger != nil {
		opts.Metrics = a.Ledger.Metrics
		opts.Trends = &dashboard.Trends{Store: a.Ledger, Rules: a.trendRules()}
		opts.Reputation = a.Ledger.Reputation
		opts.Networks = func() []netip.Prefix { return a.Policy.Monitoring.Prefixes() }
		opts.Ledger = a.Ledger
		if a.Zendesk != nil {
			opts.TicketURL = a.Zendesk.URLOf
		}
		opts.QA = &dashboard.QA{Store: a.Ledger, OnReview: func(it ledger.QAItem) {
			a.Metrics.QAReviews.WithLabelValues(it.Category, it.Subject, it.Decider, it.Verdict).Inc()
		}}
	}
	opts.Loose = a.looseEnds
	opts.TrustedFlagger = a.Policy.Transparency.Trusted
	if tickets := a.svc.tickets; tickets != nil {
		// A signed-in agent acts on a case from its page as its macro would: as the ticketing
		// system's agent with their address (the case checks the team again).
		legalGroup := a.Integrations.Zendesk.LegalGroupID
		opts.Act = &dashboard.Act{
			Team: func(ctx context.Context) (map[string]string, error) {
				return activities.DeskTeam(ctx, tickets, legalGroup)
			},
			Decide: a.Cases.Decide,
		}
		if z := a.Zendesk; z != nil {
			opts.Act.Name = func(ctx context.Context, id string) (string, error) {
				n, err := strconv.ParseInt(id, 10, 64)
				if err != nil {
					return "", err
				}
				u, err := z.User(ctx, n)
				if err != nil {
					return "", err
				}
				return u.Name, nil
			}
		}
	}
	if a.Ledger != nil && a.svc.bulk != nil {
		// A signed-in lead proposes one action on a cluster's accounts; another approves it
		// in Slack.
		opts.Bulk = &dashboard.Bulk{Start: a.Cases.StartBulk, Approvers: func() approval.Approvers { return a.Policy.Approvers },
			Reasons: func() policy.Reasons { return a.Policy.Transparency.ReasonsFor("") }}
	}
	if oc := a.Cfg.OIDC; oc.Issuer != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var sessions signin.Sessions // without a ledger: this process's own
		if a.Ledger != nil {
			sessions = ledgerSessions{a.Ledger}
		}
		s, err := signin.New(ctx, signin.Config{Issuer: oc.Issuer, ClientID: oc.ClientID, ClientSecret: oc.ClientSecret,
			RedirectURL: strings.TrimRight(a.PublicURL(), "/") + "/auth/callback", GroupsClaim: oc.GroupsClaim, Roles: oc.Roles,
			SessionKey: oc.SessionKey, Sessions: sessions, Log: a.Log.With("component", "signin")})
		if err != nil {
			return err
		}
		s.Routes(a.HTTP.Handle)
		opts.SignIn = s
		a.Log.Info("people sign into the dashboard through the identity provider", "issuer", oc.Issuer)
	}
	d, err := dashboard.New(opts)
	if err != nil {
		return err
	}
	d.Routes(a.HTTP.Handle)
	api := &casesapi.API{Cases: a.Cases, Token: a.apiToken, Dashboard: d.Protect, Log: a.Log.With("component", "cases-api")}
	if a.Ledger != nil {
		api.Search = a.Ledger
	}
	api.Routes(a.HTTP.Handle)
	if a.codec != nil {
		// The codec endpoint: the Temporal CLI (--codec-endpoint <desk>/codec) and Web UI decode
		// the encrypted payloads through it, for those who may read everything (legal matters
		// included).
		a.HTTP.Handle("POST /codec/{op}", d.ProtectLegal(http.MaxBytesHandler(converter.NewPayloadCodecHTTPHandler(a.codec), 8<<20)))
	}
	if a.Cfg.PProf {
		a.HTTP.Handle("GET /debug/pprof/", d.Protect(http.HandlerFunc(pprof.Index)))
		a.HTTP.Handle("GET /debug/pprof/profile", d.Protect(http.HandlerFunc(pprof.Profile)))
		a.HTTP.Handle("GET /debug/pprof/trace", d.Protect(http.HandlerFunc(pprof.Trace)))
		a.HTTP.Handle("GET /debug/pprof/symbol", d.Protect(http.HandlerFunc(pprof.Symbol)))
		a.Log.Warn("the Go profiler is served at /debug/pprof/ (DESK_PPROF)")
	}
	if a.Cfg.DashboardPassword == "" && opts.SignIn == nil && pg == nil {
		a.Log.Warn("the dashboard is open to anyone who reaches the HTTP port: set DESK_DASHBOARD_PASSWORD")
	}
	return nil
}

// ledgerSessions keeps the sign-in's sessions in the ledger, shared by every desk process.
type ledgerSessions struct{ l *ledger.Store }

func (s ledgerSessions) PutSession(ctx context.Context, id string, p signin.Person) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return s.l.PutSession(ctx, id, b, p.Expires)
}

func (s ledgerSessions) Session(ctx context.Context, id string) (signin.Person, bool, error) {
	var p signin.Person
	b, ok, err := s.l.Session(ctx, id)
	if err != nil || !ok {
		return p, false, err
	}
	return p, true, json.Unmarshal(b, &p)
}

func (s ledgerSessions) DeleteSession(ctx context.Context, id string) error {
	return s.l.DeleteSession(ctx, id)
}
