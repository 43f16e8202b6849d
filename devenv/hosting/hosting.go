// Package hosting stands in for the internet as the desk's remediation checks see it: the
// customers' web servers (every URL answers with a page until it is taken down) reached through
// an HTTP proxy, and a DNS blocklist zone (RFC 5782) over UDP. Both run on loopback, so
// `desk dev` and the tests verify a fix the way production does — an HTTP fetch through the
// egress proxy, a DNS query to a blocklist — and a person (or a test) takes a page down or
// delists an address through the control API:
//
//	POST /sandbox/takedown   {"url": "http://…"}      the URL answers 404 from now on
//	POST /sandbox/restore    {"url": "http://…"}      it answers with its page again
//	POST /sandbox/list       {"ip": "192.0.2.1"}      the address is on the blocklist
//	POST /sandbox/delist     {"ip": "192.0.2.1"}      it is not
//	GET  /sandbox/state      what is down and what is listed, and every fetch and query seen
package hosting

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// Zone is the sandbox blocklist's DNS zone.
const Zone = "dnsbl.sandbox.test"

// Server is the stand-in: Handler serves the proxy and the control API, ServeDNS the zone.
type Server struct {
	mu      sync.Mutex
	down    map[string]bool // normalised URLs taken down
	listed  map[netip.Addr]bool
	fetches []string
	queries []string
	// refusing answers every query with 127.255.255.254, as a list does to a resolver over
	// its quota (RFC 5782 leaves the codes to the list; this one is common).
	refusing bool
	log      *slog.Logger
}

// Refuse makes the blocklist refuse every query (true) or answer again (false).
func (s *Server) Refuse(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refusing = on
}

// New returns a stand-in with nothing taken down and the given addresses listed.
func New(log *slog.Logger, listed ...string) *Server {
	if log == nil {
		log = slog.Default()
	}
	s := &Server{down: map[string]bool{}, listed: map[netip.Addr]bool{}, log: log}
	for _, ip := range listed {
		if a, err := netip.ParseAddr(ip); err == nil {
			s.listed[a.Unmap()] = true
		}
	}
	return s
}

// key normalises a URL the way the stand-in compares them: scheme, host (lower case, without
// the default port) and path; the query and fragment do not matter.
func key(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("%q is not an absolute URL", raw)
	}
	host := strings.ToLower(u.Hostname())
	if p := u.Port(); p != "" && !(p == "80" && u.Scheme == "http") && !(p == "443" && u.Scheme == "https") {
		host += ":" + p
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return strings.ToLower(u.Scheme) + "://" + host + path, nil
}

// TakeDown makes a URL answer 404; Restore brings it back.
func (s *Server) TakeDown(raw string) error { return s.setDown(raw, true) }

// Restore makes a URL answer with its page again.
func (s *Server) Restore(raw string) error { return s.setDown(raw, false) }

func (s *Server) setDown(raw string, down bool) error {
	k, err := key(raw)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if down {
		s.down[k] = true
	} else {
		delete(s.down, k)
	}
	return nil
}

// List puts an address on the blocklist; Delist takes it off.
func (s *Server) List(ip string) error { return s.setListed(ip, true) }

// Delist takes an address off the blocklist.
func (s *Server) Delist(ip string) error { return s.setListed(ip, false) }

func (s *Server) setListed(ip string, on bool) error {
	a, err := netip.ParseAddr(strings.TrimSpace(ip))
	if err != nil {
		return fmt.Errorf("%q is not an IP address", ip)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if on {
		s.listed[a.Unmap()] = true
	} else {
		delete(s.listed, a.Unmap())
	}
	return nil
}

// Fetches returns the URLs fetched so far, in order.
func (s *Server) Fetches() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.fetches)
}

// Queries returns the blocklist queries answered so far (the names asked), in order.
func (s *Server) Queries() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.queries)
}

// Handler serves proxied fetches (absolute-form requests, RFC 9112 §3.2.2) and the control API.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /sandbox/takedown", s.control(s.TakeDown, "url"))
	mux.HandleFunc("POST /sandbox/restore", s.control(s.Restore, "url"))
	mux.HandleFunc("POST /sandbox/list", s.control(s.List, "ip"))
	mux.HandleFunc("POST /sandbox/delist", s.control(s.Delist, "ip"))
	mux.HandleFunc("GET /sandbox/state", s.state)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodConnect:
			// HTTPS through the proxy would need the customers' certificates; the sandbox's
			// reports name http:// URLs.
			http.Error(w, "the sandbox proxy does not tunnel HTTPS", http.StatusMethodNotAllowed)
		case r.URL.IsAbs():
			s.site(w, r)
		default:
			mux.ServeHTTP(w, r)
		}
	})
}

// site answers a proxied fetch as the customer's server would.
func (s *Server) site(w http.ResponseWriter, r *http.Request) {
	k, err := key(r.URL.String())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.fetches = append(s.fetches, k)
	down := s.down[k]
	s.mu.Unlock()
	if down {
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<!doctype html><title>Sign in</title><h1>Verify your account</h1><p>The page a report named: %s (a sandbox stand-in; take it down with POST /sandbox/takedown).</p><form><input name=user><input name=pass type=password></form>\n", html.EscapeString(k))
}

func (s *Server) control(do func(string) error, field string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var body map[string]string
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&body); err != nil {
			http.Error(w, "the body is not a JSON object: "+err.Error(), http.StatusBadRequest)
			return
		}
		if body[field] == "" {
			http.Error(w, fmt.Sprintf("the body names no %q", field), http.StatusBadRequest)
			return
		}
		if err := do(body[field]); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Server) state(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	out := map[string]any{"zone": Zone, "down": sortedKeys(s.down), "fetches": slices.Clone(s.fetches), "queries": slices.Clone(s.queries)}
	var listed []string
	for a := range s.listed {
		listed = append(listed, a.String())
	}
	slices.Sort(listed)
	out["listed"] = listed
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// ServeDNS answers blocklist queries on conn until it is closed.
func (s *Server) ServeDNS(conn net.PacketConn) {
	buf := make([]byte, 1500)
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.log.Warn("sandbox DNS stopped", "error", err)
			}
			return
		}
		out, err := s.answer(buf[:n])
		if err != nil {
			s.log.Debug("sandbox DNS: a query it could not read", "error", err)
			continue
		}
		_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = conn.WriteTo(out, from)
	}
}

// answer builds the response to one query: 127.0.0.2 for a listed address, NXDOMAIN for one
// that is not (and for any name outside the zone: the sandbox is authoritative for nothing
// else), an empty answer for other record types.
func (s *Server) answer(q []byte) ([]byte, error) {
	var p dnsmessage.Parser
	h, err := p.Start(q)
	if err != nil {
		return nil, err
	}
	question, err := p.Question()
	if err != nil {
		return nil, err
	}
	name := strings.ToLower(strings.TrimSuffix(question.Name.String(), "."))
	s.mu.Lock()
	s.queries = append(s.queries, name)
	s.mu.Unlock()
	rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired, RCode: dnsmessage.RCodeNameError}
	listed, code := false, [4]byte{127, 0, 0, 2}
	if a, ok := addrOf(name); ok {
		s.mu.Lock()
		listed = s.listed[a] || s.refusing
		if s.refusing {
			code = [4]byte{127, 255, 255, 254}
		}
		s.mu.Unlock()
	}
	if listed {
		rh.RCode = dnsmessage.RCodeSuccess
	}
	b := dnsmessage.NewBuilder(nil, rh)
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if err := b.Question(question); err != nil {
		return nil, err
	}
	if listed && question.Type == dnsmessage.TypeA {
		if err := b.StartAnswers(); err != nil {
			return nil, err
		}
		rr := dnsmessage.ResourceHeader{Name: question.Name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 60}
		if err := b.AResource(rr, dnsmessage.AResource{A: code}); err != nil {
			return nil, err
		}
	}
	return b.Finish()
}

// addrOf reads the address a query name under Zone asks about (reversed octets or nibbles).
func addrOf(name string) (netip.Addr, bool) {
	rest, ok := strings.CutSuffix(name, "."+Zone)
	if !ok {
		return netip.Addr{}, false
	}
	parts := strings.Split(rest, ".")
	slices.Reverse(parts)
	switch len(parts) {
	case 4:
		a, err := netip.ParseAddr(strings.Join(parts, "."))
		return a, err == nil
	case 32:
		var b strings.Builder
		for i, p := range parts {
			if i > 0 && i%4 == 0 {
				b.WriteByte(':')
			}
			b.WriteString(p)
		}
		a, err := netip.ParseAddr(b.String())
		return a.Unmap(), err == nil
	}
	return netip.Addr{}, false
}
