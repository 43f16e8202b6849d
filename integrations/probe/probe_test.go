package probe_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"abusedesk/devenv/hosting"
	"abusedesk/integrations/probe"
)

// startHosting runs the sandbox's stand-in for the customers' servers and a blocklist: its
// proxy URL and its DNS server's address.
func startHosting(t *testing.T, listed ...string) (*hosting.Server, string, string) {
	t.Helper()
	h := hosting.New(nil, listed...)
	web := httptest.NewServer(h.Handler())
	t.Cleanup(web.Close)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	go h.ServeDNS(pc)
	return h, web.URL, pc.LocalAddr().String()
}

func TestURLThroughTheProxy(t *testing.T) {
	h, proxy, _ := startHosting(t)
	p, err := probe.New(probe.Options{Proxy: proxy})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const page = "http://login.consumer.example/verify?session=1"
	if r := p.URL(ctx, page); r.Verdict != probe.Still || !strings.HasPrefix(r.Detail, "HTTP 200") || r.Check != probe.CheckHTTP {
		t.Errorf("a live page: %+v, want still, HTTP 200", r)
	}
	if err := h.TakeDown("http://LOGIN.consumer.example/verify"); err != nil {
		t.Fatal(err)
	}
	if r := p.URL(ctx, "hxxp://login.consumer[.]example/verify"); r.Verdict != probe.Fixed || r.Detail != "HTTP 404" {
		t.Errorf("a page taken down, named defanged: %+v, want fixed, HTTP 404", r)
	}
	if r := p.URL(ctx, "http://login.consumer.example/other"); r.Verdict != probe.Still {
		t.Errorf("another page of the same host: %+v, want still", r)
	}
	if r := p.URL(ctx, "https://login.consumer.example/verify"); r.Verdict != probe.Unknown {
		t.Errorf("https the proxy does not tunnel: %+v, want unknown", r)
	}
	if r := p.URL(ctx, "ftp://files.example/x"); r.Verdict != probe.Unknown || r.Detail != "not an http(s) URL" {
		t.Errorf("an ftp URL: %+v", r)
	}
	if got := h.Fetches(); len(got) != 3 || got[0] != "http://login.consumer.example/verify" {
		t.Errorf("the stand-in saw %q", got)
	}
}

func TestURLDirect(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/live", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("phish")) })
	for path, code := range map[string]int{"/gone": 410, "/legal": 451, "/error": 503, "/forbidden": 403, "/missing": 404} {
		mux.HandleFunc(path, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) })
	}
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/live", http.StatusMovedPermanently)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	ctx := context.Background()

	guarded, err := probe.New(probe.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r := guarded.URL(ctx, srv.URL+"/live"); r.Verdict != probe.Unknown || !strings.Contains(r.Detail, "internal address (127.0.0.1)") {
		t.Errorf("a loopback URL without AllowPrivate: %+v, want unknown, not fetched", r)
	}
	for _, meta := range []string{"http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://[::1]:1/", "http://100.64.1.1/"} {
		if r := guarded.URL(ctx, meta); r.Verdict != probe.Unknown || !strings.Contains(r.Detail, "internal address") {
			t.Errorf("%s: %+v, want it refused", meta, r)
		}
	}

	p, err := probe.New(probe.Options{AllowPrivate: true})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]probe.Verdict{"/live": probe.Still, "/moved": probe.Still, "/gone": probe.Fixed, "/legal": probe.Fixed,
		"/missing": probe.Fixed, "/error": probe.Unknown, "/forbidden": probe.Unknown, "/loop": probe.Unknown} {
		if r := p.URL(ctx, srv.URL+path); r.Verdict != want {
			t.Errorf("%s: %+v, want %s", path, r, want)
		}
	}
	if r := p.URL(ctx, srv.URL+"/moved"); !strings.Contains(r.Detail, " at "+srv.URL+"/live") {
		t.Errorf("a redirect does not say where it ended: %q", r.Detail)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/"
	_ = ln.Close()
	if r := p.URL(ctx, closed); r.Verdict != probe.Fixed || r.Detail != "connection refused" {
		t.Errorf("nothing listening: %+v, want fixed, connection refused", r)
	}
	if _, err := probe.New(probe.Options{Proxy: "not a url"}); err == nil || !strings.Contains(err.Error(), "proxy") {
		t.Errorf("a bad proxy: %v", err)
	}
}

func TestBlocklist(t *testing.T) {
	h, _, dns := startHosting(t, "192.0.2.10", "2001:db8::25")
	p, err := probe.New(probe.Options{DNS: dns})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if r := p.Listed(ctx, "192.0.2.10", hosting.Zone); r.Verdict != probe.Still || r.Detail != "listed (127.0.0.2)" || r.Subject != "192.0.2.10 on "+hosting.Zone {
		t.Errorf("a listed address: %+v", r)
	}
	if r := p.Listed(ctx, "2001:db8::25", hosting.Zone); r.Verdict != probe.Still {
		t.Errorf("a listed IPv6 address: %+v", r)
	}
	if r := p.Listed(ctx, "192.0.2.11", hosting.Zone); r.Verdict != probe.Fixed || r.Detail != "not listed" {
		t.Errorf("an address not listed: %+v", r)
	}
	if err := h.Delist("192.0.2.10"); err != nil {
		t.Fatal(err)
	}
	if r := p.Listed(ctx, "192.0.2.10", hosting.Zone); r.Verdict != probe.Fixed {
		t.Errorf("a delisted address: %+v", r)
	}
	h.Refuse(true)
	if r := p.Listed(ctx, "192.0.2.11", hosting.Zone); r.Verdict != probe.Unknown || !strings.Contains(r.Detail, "refused the query (127.255.255.254)") {
		t.Errorf("a list refusing the query: %+v, want unknown", r)
	}
	if r := p.Listed(ctx, "not-an-ip", hosting.Zone); r.Verdict != probe.Unknown || !strings.Contains(r.Detail, "not an IP address") {
		t.Errorf("a bad address: %+v", r)
	}
	if q := h.Queries(); len(q) < 4 || q[0] != "10.2.0.192."+hosting.Zone {
		t.Errorf("the blocklist saw %q", q)
	}
	if _, err := probe.New(probe.Options{DNS: "nowhere"}); err == nil {
		t.Error("a DNS server without a port was taken")
	}
}

// TestQueryName: RFC 5782's own examples.
func TestQueryName(t *testing.T) {
	for ip, want := range map[string]string{
		"192.168.42.23":             "23.42.168.192.bl.example.org.",
		"2001:db8:1:2:3:4:567:89ab": "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.bl.example.org.",
	} {
		if got, err := probe.QueryName(ip, "bl.example.org."); err != nil || got != want {
			t.Errorf("QueryName(%s) = %q, %v; want %q", ip, got, err, want)
		}
	}
}

func TestRefang(t *testing.T) {
	for in, want := range map[string]string{"hxxp://evil[.]example/a": "http://evil.example/a", "hxxps://a(.)b[:]8443/": "https://a.b:8443/", " http://x.example/ ": "http://x.example/"} {
		if got := probe.Refang(in); got != want {
			t.Errorf("Refang(%q) = %q, want %q", in, got, want)
		}
	}
}
