// Package probe verifies a customer's fix from outside: whether a reported URL still answers
// with content (an HTTP fetch) and whether a reported address is still on a DNS blocklist (a
// DNS query). A probe never fails: what it could not find out is a result too (Unknown, with
// why), so a case can tell "still there" from "could not tell".
//
// URL checks fetch what a reporter or a customer named, from inside the provider's network:
// without a proxy they refuse loopback, private, link-local and shared addresses (so a report
// cannot make the desk fetch its own metadata service); with one (Options.Proxy, an egress proxy
// outside the network) the proxy does the fetching.
package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Verdict is what a check found.
type Verdict string

// Verdicts.
const (
	// Fixed: the URL no longer answers with content; the address is not listed.
	Fixed Verdict = "fixed"
	// Still: the URL still answers with content; the address is listed.
	Still Verdict = "still"
	// Unknown: the check could not tell (a timeout, a server error, a refused query).
	Unknown Verdict = "unknown"
)

// Check names (the policy's).
const (
	CheckHTTP      = "http"
	CheckBlocklist = "blocklist"
)

// Result is one check of one subject.
type Result struct {
	Check   string  `json:"check"`
	Subject string  `json:"subject"`
	Verdict Verdict `json:"verdict"`
	// Detail says what was seen, for people: "HTTP 200", "no such host", "listed (127.0.0.2)".
	Detail string `json:"detail"`
}

// Options configure a Prober.
type Options struct {
	// Proxy is the URL of an HTTP proxy the URL checks go through ("": direct).
	Proxy string
	// DNS is the host:port of the DNS server blocklist queries go to ("": the system's).
	DNS string
	// AllowPrivate lets direct URL checks reach loopback and private addresses (the sandbox).
	AllowPrivate bool
	// Timeout bounds one check; default 15s.
	Timeout time.Duration
	// UserAgent is sent with URL checks.
	UserAgent string
}

// Prober runs checks.
type Prober struct {
	client   *http.Client
	resolver *net.Resolver
	timeout  time.Duration
	ua       string
}

// maxRedirects bounds the redirects a URL check follows; maxBody how much of a page it reads.
const (
	maxRedirects = 5
	maxBody      = 1 << 20
)

// New returns a Prober, or an error naming the option that is wrong.
func New(o Options) (*Prober, error) {
	p := &Prober{timeout: o.Timeout, ua: o.UserAgent}
	if p.timeout <= 0 {
		p.timeout = 15 * time.Second
	}
	if p.ua == "" {
		p.ua = "abusedesk-remediation-check/1"
	}
	dialer := &net.Dialer{Timeout: p.timeout}
	tr := &http.Transport{
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   p.timeout,
		ResponseHeaderTimeout: p.timeout,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       30 * time.Second,
	}
	switch {
	case o.Proxy != "":
		u, err := url.Parse(o.Proxy)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("probe: the proxy %q is not an http(s) URL", o.Proxy)
		}
		tr.Proxy = http.ProxyURL(u)
	case !o.AllowPrivate:
		dialer.Control = refusePrivate
	}
	p.client = &http.Client{
		Transport: tr,
		Timeout:   p.timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return errTooManyRedirects
			}
			return nil
		},
		Jar: nil, // no cookies: each check is a first visit
	}
	p.resolver = net.DefaultResolver
	if o.DNS != "" {
		if _, _, err := net.SplitHostPort(o.DNS); err != nil {
			return nil, fmt.Errorf("probe: the DNS server %q is not host:port: %v", o.DNS, err)
		}
		server := o.DNS
		p.resolver = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, server)
		}}
	}
	return p, nil
}

var (
	errTooManyRedirects = errors.New("too many redirects")
	errPrivate          = errors.New("private address")
)

// refusePrivate refuses connections to addresses inside a network (a dialer's Control: it sees
// the address after DNS, so a public name pointing inside is refused too).
func refusePrivate(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", errPrivate, address)
	}
	if a := ap.Addr().Unmap(); !public(a) {
		return fmt.Errorf("%w: %s", errPrivate, a)
	}
	return nil
}

var sharedSpace = netip.MustParsePrefix("100.64.0.0/10")

func public(a netip.Addr) bool {
	return a.IsGlobalUnicast() && !a.IsPrivate() && !sharedSpace.Contains(a)
}

// Refang undoes the defanging reports use so that nobody clicks a link by accident:
// hxxp://, [.], (.), [:]. Other text is left alone.
func Refang(s string) string {
	s = strings.TrimSpace(s)
	for _, r := range [][2]string{{"[.]", "."}, {"(.)", "."}, {"[dot]", "."}, {"[:]", ":"}, {"[://]", "://"}} {
		s = strings.ReplaceAll(s, r[0], r[1])
	}
	for _, p := range [][2]string{{"hxxps://", "https://"}, {"hxxp://", "http://"}, {"hXXps://", "https://"}, {"hXXp://", "http://"}} {
		if rest, ok := strings.CutPrefix(s, p[0]); ok {
			s = p[1] + rest
		}
	}
	return s
}

// URL fetches a reported URL and says whether it still answers with content: a 2xx answer is
// Still; 404, 410 and 451, no such host and a refused connection are Fixed; anything else (a
// timeout, 5xx, 401/403/429 — what a cloaked page or a struggling server also answers — a
// redirect loop) is Unknown.
func (p *Prober) URL(ctx context.Context, raw string) Result {
	r := Result{Check: CheckHTTP, Subject: raw, Verdict: Unknown}
	u, err := url.Parse(Refang(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		r.Detail = "not an http(s) URL"
		return r
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		r.Detail = err.Error()
		return r
	}
	req.Header.Set("User-Agent", p.ua)
	req.Header.Set("Accept", "text/html,*/*;q=0.8")
	resp, err := p.client.Do(req)
	if err != nil {
		r.Verdict, r.Detail = fetchError(err)
		return r
	}
	n, _ := io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	_ = resp.Body.Close()
	status := resp.StatusCode
	where := ""
	if final := resp.Request.URL.String(); final != u.String() {
		where = " at " + final
	}
	switch {
	case status >= 200 && status < 300:
		r.Verdict, r.Detail = Still, fmt.Sprintf("HTTP %d%s, %d bytes", status, where, n)
	case status == http.StatusNotFound || status == http.StatusGone || status == http.StatusUnavailableForLegalReasons:
		r.Verdict, r.Detail = Fixed, fmt.Sprintf("HTTP %d%s", status, where)
	default:
		r.Detail = fmt.Sprintf("HTTP %d%s", status, where)
	}
	return r
}

// fetchError classifies a failed fetch.
func fetchError(err error) (Verdict, string) {
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return Fixed, "no such host"
	case errors.Is(err, syscall.ECONNREFUSED):
		return Fixed, "connection refused"
	case errors.Is(err, errPrivate):
		return Unknown, "not fetched: the host is on an internal address (" + strings.TrimPrefix(innermost(err), errPrivate.Error()+": ") + ")"
	case errors.Is(err, errTooManyRedirects):
		return Unknown, fmt.Sprintf("more than %d redirects", maxRedirects)
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return Unknown, "no answer in time"
	}
	return Unknown, innermost(err)
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// innermost is the error's own words without the URL and operation wrappers.
func innermost(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		err = oe.Err
	}
	return err.Error()
}

// Listed asks a DNS blocklist zone whether an address is on it (RFC 5782): an answer in
// 127.0.0.2–127.255.255.254 means listed (Still), no such name means not listed (Fixed);
// 127.255.255.x is the list refusing the query (a quota, a public resolver), and that, an error
// or 127.0.0.1 is Unknown.
func (p *Prober) Listed(ctx context.Context, ip, zone string) Result {
	r := Result{Check: CheckBlocklist, Subject: ip + " on " + zone, Verdict: Unknown}
	name, err := QueryName(ip, zone)
	if err != nil {
		r.Detail = err.Error()
		return r
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	addrs, err := p.resolver.LookupNetIP(ctx, "ip4", name)
	if err != nil {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			r.Verdict, r.Detail = Fixed, "not listed"
			return r
		}
		r.Detail = "the query failed: " + innermost(err)
		return r
	}
	for _, a := range addrs {
		b := a.Unmap().As4()
		switch {
		case b[0] != 127:
		case b[1] == 255 && b[2] == 255:
			r.Detail = fmt.Sprintf("the list refused the query (%s)", a)
			return r
		case a.Unmap() != netip.AddrFrom4([4]byte{127, 0, 0, 1}):
			r.Verdict, r.Detail = Still, fmt.Sprintf("listed (%s)", a)
			return r
		}
	}
	r.Detail = fmt.Sprintf("an answer that is no listing (%v)", addrs)
	return r
}

// QueryName is the DNS name that asks zone about ip: the address's octets (IPv4) or nibbles
// (IPv6) reversed, then the zone, as a fully qualified name.
func QueryName(ip, zone string) (string, error) {
	a, err := netip.ParseAddr(strings.TrimSpace(ip))
	if err != nil {
		return "", fmt.Errorf("%q is not an IP address", ip)
	}
	a = a.Unmap()
	zone = strings.Trim(strings.TrimSpace(zone), ".")
	if zone == "" {
		return "", errors.New("no blocklist zone")
	}
	var b strings.Builder
	if a.Is4() {
		o := a.As4()
		fmt.Fprintf(&b, "%d.%d.%d.%d.", o[3], o[2], o[1], o[0])
	} else {
		const hex = "0123456789abcdef"
		o := a.As16()
		for i := len(o) - 1; i >= 0; i-- {
			b.WriteByte(hex[o[i]&15])
			b.WriteByte('.')
			b.WriteByte(hex[o[i]>>4])
			b.WriteByte('.')
		}
	}
	return b.String() + zone + ".", nil
}
