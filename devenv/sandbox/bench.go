package sandbox

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"time"

	"abusedesk/devenv/bench"
	"abusedesk/devenv/demo"
	"abusedesk/devenv/enforcementapi"
	"abusedesk/devenv/slacksandbox"
	"abusedesk/devenv/zendesksandbox"
)

// benchStandIns serves the sandbox's Zendesk, Slack and enforcement API to the bench desks.
type benchStandIns struct {
	enforcement *enforcementapi.Server
	servers     []*http.Server
}

// NewBenchStandIns makes the stand-ins `desk bench` serves its desks from its own process.
func NewBenchStandIns() bench.StandIns { return &benchStandIns{} }

// Serve implements bench.StandIns.
func (s *benchStandIns) Serve(accounts []bench.Account) (map[string]string, error) {
	const zToken, botEmail = "bench-zendesk-token", "desk-bot@bench.example"
	zendesk := zendesksandbox.New(zToken, botEmail, "agent@bench.example")
	slack := slacksandbox.New("xoxb-bench", "xapp-bench", "bench-signing-secret", "abuse-leads")
	s.enforcement = enforcementapi.New("bench-enforcement-token")
	for _, a := range accounts {
		s.enforcement.AddAccount(enforcementapi.Account{ID: a.ID, Name: a.Name, ContactEmail: a.ContactEmail,
			Locale: "en", Tier: "standard", Ranges: []enforcementapi.Range{{Prefix: a.Range}}})
	}
	zURL, err := s.serve(zendesk.Handler())
	if err != nil {
		return nil, err
	}
	zendesk.SetBaseURL(zURL)
	sURL, err := s.serve(slack.Handler())
	if err != nil {
		return nil, err
	}
	slack.SetBaseURL(sURL)
	eURL, err := s.serve(s.enforcement.Handler())
	if err != nil {
		return nil, err
	}
	return map[string]string{
		"DESK_LOG_LEVEL": "warn", "DESK_API_TOKEN": "bench-api-token", "ZENDESK_POLL_INTERVAL": "0",
		"ZENDESK_URL": zURL, "ZENDESK_EMAIL": botEmail, "ZENDESK_API_TOKEN": zToken, "ZENDESK_WEBHOOK_SECRET": "bench-webhook-secret",
		"ZENDESK_GROUP_ID": strconv.Itoa(zendesksandbox.GroupAbuse),
		"SLACK_BOT_TOKEN":  "xoxb-bench", "SLACK_SIGNING_SECRET": "bench-signing-secret", "SLACK_CHANNEL": "abuse-leads", "SLACK_API_URL": sURL + "/api/",
		"ENFORCEMENT_URL": eURL, "ENFORCEMENT_TOKEN": "bench-enforcement-token",
	}, nil
}

func (s *benchStandIns) serve(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	s.servers = append(s.servers, srv)
	return "http://" + ln.Addr().String(), nil
}

// Actions implements bench.StandIns.
func (s *benchStandIns) Actions(account string) []bench.Action {
	var out []bench.Action
	for _, a := range s.enforcement.Actions(account) {
		out = append(out, bench.Action{ID: a.ID, CreatedAt: a.CreatedAt})
	}
	return out
}

// Close implements bench.StandIns.
func (s *benchStandIns) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, srv := range s.servers {
		_ = srv.Shutdown(ctx)
	}
}

// BenchCorpus finds the reports `desk bench parse` parses: the given folder, else the shared corpus, else the
// parser's fixtures (both when run from the repository), else the embedded demo samples.
func BenchCorpus(dir string) ([]bench.Sample, string, error) {
	conv := func(in []demo.Sample) []bench.Sample {
		out := make([]bench.Sample, len(in))
		for i, s := range in {
			out[i] = bench.Sample{Name: s.Name, Raw: s.Raw}
		}
		return out
	}
	if dir != "" {
		s, err := demo.LoadDir(dir)
		return conv(s), dir, err
	}
	for _, d := range []string{"../shared/corpus", "integrations/reports/testdata"} {
		if s, err := demo.LoadDir(d); err == nil {
			return conv(s), d, nil
		}
	}
	return conv(demo.Samples()), "the embedded demo samples", nil
}
