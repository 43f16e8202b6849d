package inbound

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"abusedesk/app/intake"
	"abusedesk/integrations/mailbox"
	"abusedesk/integrations/reports"
)

// ingester answers what the test says and records what it got.
type ingester struct {
	out *intake.Outcome
	err error
	got []intake.Source
}

func (f *ingester) Ingest(_ context.Context, _ []byte, src intake.Source) (*intake.Outcome, error) {
	f.got = append(f.got, src)
	return f.out, f.err
}

func TestReportsAPIAnswers(t *testing.T) {
	accepted := &intake.Outcome{Kind: reports.KindReport, Accepted: []intake.Accepted{{ReportID: "r1", CaseID: "case/a/spam"}}}
	triaged := &intake.Outcome{Kind: reports.KindUnparseable, Triaged: []intake.Triaged{{Reason: "unreadable"}}}
	tests := []struct {
		name       string
		auth, body string
		in         *ingester
		status     int
		retryAfter string
		ingested   int
	}{
		{"accepted", "Bearer tok", "report", &ingester{out: accepted}, http.StatusOK, "", 1},
		{"only triage", "Bearer tok", "report", &ingester{out: triaged}, http.StatusAccepted, "", 1},
		{"no token", "", "report", &ingester{out: accepted}, http.StatusUnauthorized, "", 0},
		{"wrong token", "Bearer nope", "report", &ingester{out: accepted}, http.StatusUnauthorized, "", 0},
		{"empty body", "Bearer tok", "  \n", &ingester{out: accepted}, http.StatusBadRequest, "", 0},
		{"too large", "Bearer tok", strings.Repeat("x", 65), &ingester{out: accepted}, http.StatusRequestEntityTooLarge, "", 0},
		{"held back", "Bearer tok", "report", &ingester{err: intake.ErrSlowDown}, http.StatusServiceUnavailable, "1", 1},
		{"service down", "Bearer tok", "report", &ingester{err: errors.New("enforcement API unavailable")}, http.StatusServiceUnavailable, "5", 1},
		{"scheme in lower case (RFC 9110)", "bearer tok", "report", &ingester{out: accepted}, http.StatusOK, "", 1},
		{"JSON that is no X-ARF", "Bearer tok", `{"category":"x"}`, &ingester{out: &intake.Outcome{Kind: reports.KindUnparseable,
			Triaged: []intake.Triaged{{Reason: "unparseable: not a mail, and not an X-ARF 4 report: no xarf_version"}}}}, http.StatusUnprocessableEntity, "", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(ReportsAPI(tc.in, "tok", 64, APIOptions{}, slog.New(slog.NewTextHandler(io.Discard, nil))))
			defer srv.Close()
			req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(tc.body))
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.status || resp.Header.Get("Retry-After") != tc.retryAfter {
				t.Fatalf("HTTP %d Retry-After %q, want %d %q", resp.StatusCode, resp.Header.Get("Retry-After"), tc.status, tc.retryAfter)
			}
			if len(tc.in.got) != tc.ingested {
				t.Fatalf("intake got %d messages, want %d", len(tc.in.got), tc.ingested)
			}
			if tc.ingested > 0 && tc.in.got[0].Channel != "api" {
				t.Errorf("channel %q, want api", tc.in.got[0].Channel)
			}
			var body map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("the answer is not JSON: %v", err)
			}
			if tc.status >= 400 {
				if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" || body["detail"] == "" {
					t.Errorf("error answer: %s %v, want problem+json with a detail", ct, body)
				}
			} else if body["accepted"] != true {
				t.Errorf("answer %v does not say accepted", body)
			}
		})
	}
}

func TestMailboxDisposition(t *testing.T) {
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		in   *ingester
		want mailbox.Disposition
		err  bool
	}{
		{"a report is processed", &ingester{out: &intake.Outcome{Kind: reports.KindReport}}, mailbox.Processed, false},
		{"a reply is processed", &ingester{out: &intake.Outcome{Kind: reports.KindReply}}, mailbox.Processed, false},
		{"unreadable mail goes to the failed folder", &ingester{out: &intake.Outcome{Kind: reports.KindUnparseable}}, mailbox.Failed, false},
		{"not accepted stays in the mailbox", &ingester{err: intake.ErrBusy}, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Mailbox(tc.in)(context.Background(), []byte("mail"), at)
			if (err != nil) != tc.err || got != tc.want {
				t.Fatalf("disposition %v, error %v; want %v, error %v", got, err, tc.want, tc.err)
			}
			if src := tc.in.got[0]; src.Channel != "imap" || !src.ReceivedAt.Equal(at) {
				t.Errorf("source %+v, want imap at %s", src, at)
			}
		})
	}
}

// TestReportsAPIProtocol: methods, encodings and what an API client reads back.
func TestReportsAPIProtocol(t *testing.T) {
	in := &ingester{out: &intake.Outcome{Kind: reports.KindReport, Accepted: []intake.Accepted{{ReportID: "r1"}}}}
	srv := httptest.NewServer(ReportsAPI(in, "tok", 1<<20, APIOptions{}, slog.New(slog.NewTextHandler(io.Discard, nil))))
	defer srv.Close()
	do := func(method, encoding string, body []byte) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer tok")
		if encoding != "" {
			req.Header.Set("Content-Encoding", encoding)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	if resp := do(http.MethodGet, "", nil); resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" ||
		resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("GET: %d, Allow %q, %s; want 405 problem+json allowing POST", resp.StatusCode, resp.Header.Get("Allow"), resp.Header.Get("Content-Type"))
	}
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	_, _ = zw.Write([]byte("From: a@b.example\n\nspam from 192.0.2.1\n"))
	_ = zw.Close()
	if resp := do(http.MethodPost, "gzip", zipped.Bytes()); resp.StatusCode != http.StatusOK || len(in.got) != 1 {
		t.Errorf("gzip body: %d, %d messages", resp.StatusCode, len(in.got))
	}
	if resp := do(http.MethodPost, "gzip", []byte("not gzip")); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a body that is not gzip: %d, want 400", resp.StatusCode)
	}
	if resp := do(http.MethodPost, "br", []byte("x")); resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("Content-Encoding br: %d, want 415", resp.StatusCode)
	}
}

// gate is an ingester that admits or refuses before the body is read, and holds each Ingest
// until released.
type gate struct {
	refuse  error
	release chan struct{}
	started chan struct{}
}

func (g *gate) Admit() error { return g.refuse }

func (g *gate) Ingest(ctx context.Context, _ []byte, src intake.Source) (*intake.Outcome, error) {
	if !src.Admitted {
		return nil, errors.New("ingested without admission")
	}
	g.started <- struct{}{}
	<-g.release
	return &intake.Outcome{Kind: reports.KindReport}, nil
}

// countingBody records how much of a request body the server read.
type countingBody struct {
	n    int
	left int
}

func (b *countingBody) Read(p []byte) (int, error) {
	if b.left == 0 {
		return 0, io.EOF
	}
	n := min(len(p), b.left)
	for i := range n {
		p[i] = 'x'
	}
	b.n += n
	b.left -= n
	return n, nil
}

// TestReportsAPIBounds: a refused request is answered before its body is read; uploads beyond
// the memory budget are answered 503 at once; a body that stalls is cut off with 408.
func TestReportsAPIBounds(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	post := func(url string, body io.Reader) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, url, body)
		req.Header.Set("Authorization", "Bearer tok")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}

	t.Run("admission before the body", func(t *testing.T) {
		g := &gate{refuse: intake.ErrSlowDown}
		srv := httptest.NewServer(ReportsAPI(g, "tok", 25<<20, APIOptions{}, log))
		defer srv.Close()
		body := &countingBody{left: 20 << 20}
		resp := post(srv.URL, body)
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" {
			t.Errorf("refused: %d %q, want 503 Retry-After: 1", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		// The client may push a few MB into the sockets' buffers before the answer comes; the
		// server read none of it (it would have read all 20 MB before answering).
		if body.n >= 10<<20 {
			t.Errorf("%d bytes of the refused 20 MB body were sent, want only what the connection buffers", body.n)
		}
	})

	t.Run("budget", func(t *testing.T) {
		// Room for one upload's least reservation and not two: the second waits for the first.
		g := &gate{release: make(chan struct{}), started: make(chan struct{}, 2)}
		srv := httptest.NewServer(ReportsAPI(g, "tok", 1<<20, APIOptions{Budget: MinReservation * 3 / 2}, log))
		defer srv.Close()
		done := make(chan *http.Response)
		go func() { done <- post(srv.URL, strings.NewReader("From: a@b.example\r\n\r\nspam from 192.0.2.1\r\n")) }()
		<-g.started
		if resp := post(srv.URL, strings.NewReader("second")); resp.StatusCode != 503 || resp.Close {
			t.Errorf("an upload while the budget is taken: %d (close %v), want 503 on a connection kept for the next try", resp.StatusCode, resp.Close)
		}
		// Refused too, a body that trickles: the connection is cut soon after the answer,
		// not held while the client dawdles.
		c, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok\r\nContent-Length: 1000\r\n\r\nFrom: ")
		start := time.Now()
		_ = c.SetReadDeadline(start.Add(10 * time.Second))
		br := bufio.NewReader(c)
		if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != 503 {
			t.Fatalf("a trickling upload while the budget is taken: %v %v", resp, err)
		}
		if _, err := io.Copy(io.Discard, br); err != nil || time.Since(start) > 5*time.Second {
			t.Errorf("the trickling client's connection ended after %v (%v), want closed within a few seconds", time.Since(start), err)
		}
		close(g.release)
		if resp := <-done; resp.StatusCode != 200 {
			t.Errorf("the upload within the budget: %d", resp.StatusCode)
		}
	})

	t.Run("small uploads pass a large one", func(t *testing.T) {
		// A 1 MiB budget: a large upload in progress (its Content-Length reserved) leaves room
		// for small ones, not for a second large one.
		g := &gate{release: make(chan struct{}), started: make(chan struct{}, 3)}
		srv := httptest.NewServer(ReportsAPI(g, "tok", 1<<20, APIOptions{Budget: 1 << 20}, log))
		defer srv.Close()
		large := "From: a@b.example\r\n\r\nspam from 192.0.2.1\r\n" + strings.Repeat("x", 700<<10)
		done := make(chan *http.Response, 2)
		go func() { done <- post(srv.URL, strings.NewReader(large)) }()
		<-g.started
		if resp := post(srv.URL, strings.NewReader(large)); resp.StatusCode != 503 {
			t.Errorf("a second 700 KiB upload in a 1 MiB budget: %d, want 503", resp.StatusCode)
		}
		go func() { done <- post(srv.URL, strings.NewReader("From: a@b.example\r\n\r\nspam from 192.0.2.2\r\n")) }()
		<-g.started // the small one is being handled while the large one still is
		close(g.release)
		for range 2 {
			if resp := <-done; resp.StatusCode != 200 {
				t.Errorf("an upload within the budget: %d", resp.StatusCode)
			}
		}
	})

	t.Run("one client cannot starve the others", func(t *testing.T) {
		// A 4 MiB budget with a 1 MiB limit: one client holds at most 1 MiB at once. Its
		// trickling uploads beyond that are refused; another client's report goes through.
		g := &gate{release: make(chan struct{}), started: make(chan struct{}, 8)}
		close(g.release)
		srv := httptest.NewServer(ReportsAPI(g, "tok", 1<<20, APIOptions{Budget: 4 << 20, BodyTimeout: 5 * time.Second}, log))
		defer srv.Close()
		addr := strings.TrimPrefix(srv.URL, "http://")
		var refused int
		for range 4 {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok\r\nContent-Length: %d\r\n\r\nFrom: ", 1<<20)
			_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil && resp.StatusCode == 503 {
				refused++
			}
		}
		if refused != 3 {
			t.Errorf("%d of the trickler's 4 uploads refused at once, want 3 (it holds its share with the first)", refused)
		}
		other := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}).DialContext}}
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("From: a@b.example\r\n\r\nspam from 192.0.2.1\r\n"))
		req.Header.Set("Authorization", "Bearer tok")
		resp, err := other.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("another client's report while the first trickles: %d, want 200", resp.StatusCode)
		}
	})

	t.Run("slow body", func(t *testing.T) {
		g := &gate{release: make(chan struct{}), started: make(chan struct{}, 1)}
		close(g.release)
		srv := httptest.NewServer(ReportsAPI(g, "tok", 1<<20, APIOptions{BodyTimeout: 300 * time.Millisecond}, log))
		defer srv.Close()
		pr, pw := io.Pipe()
		defer pw.Close()
		go func() { _, _ = pw.Write([]byte("From: a@b.example\r\n")) }() // then nothing more
		start := time.Now()
		resp := post(srv.URL, pr)
		if resp.StatusCode != http.StatusRequestTimeout || time.Since(start) > 5*time.Second {
			t.Errorf("a stalled body: %d after %v, want 408 after about 300ms", resp.StatusCode, time.Since(start))
		}
	})
}

func TestBudget(t *testing.T) {
	for _, tc := range []struct {
		limit int64
		want  int64
	}{{768 << 20, 192 << 20}, {0, 400 << 20}, {10 << 20, 50 << 20}, {4 << 30, 1 << 30}} {
		if got := Budget(tc.limit, 25<<20); got != tc.want {
			t.Errorf("Budget(%d MiB) = %d MiB, want %d MiB", tc.limit>>20, got>>20, tc.want>>20)
		}
	}
}

// TestReportsAPIRefusesIncompleteXARF: an X-ARF 4 document that lacks a required field, or names
// a category X-ARF 4 does not have, is answered 422 naming what is wrong, and nothing is taken;
// a whole one is taken.
func TestReportsAPIRefusesIncompleteXARF(t *testing.T) {
	whole := map[string]any{"xarf_version": "4.2.0", "report_id": "r-1", "timestamp": "2026-12-01T10:00:00Z",
		"reporter":          map[string]any{"org": "Watch", "contact": "reports@watch.example", "domain": "watch.example"},
		"source_identifier": "192.0.2.10", "category": "connection", "type": "login_attack"}
	without := func(k string) map[string]any {
		m := maps.Clone(whole)
		delete(m, k)
		return m
	}
	with := func(k string, v any) map[string]any {
		m := maps.Clone(whole)
		m[k] = v
		return m
	}
	for name, tc := range map[string]struct {
		doc  map[string]any
		want string
	}{
		"no reporter":      {without("reporter"), "reporter.contact"},
		"no timestamp":     {without("timestamp"), "timestamp"},
		"no report_id":     {without("report_id"), "report_id"},
		"unknown category": {with("category", "spam"), "is not an X-ARF 4 category"},
		"a bad timestamp":  {with("timestamp", "yesterday"), "is not an RFC 3339 date"},
		"whole":            {whole, ""},
	} {
		in := &ingester{out: &intake.Outcome{Kind: reports.KindReport, Accepted: []intake.Accepted{{ReportID: "r-1", CaseID: "case/a/brute-force"}}}}
		srv := httptest.NewServer(ReportsAPI(in, "tok", 1<<20, APIOptions{}, slog.New(slog.NewTextHandler(io.Discard, nil))))
		b, _ := json.Marshal(tc.doc)
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer tok")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		srv.Close()
		switch {
		case tc.want == "" && (resp.StatusCode != http.StatusOK || len(in.got) != 1):
			t.Errorf("%s: HTTP %d, %d taken; want 200 and taken", name, resp.StatusCode, len(in.got))
		case tc.want != "" && (resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(body), tc.want) || len(in.got) != 0):
			t.Errorf("%s: HTTP %d %s, %d taken; want 422 naming %q, nothing taken", name, resp.StatusCode, body, len(in.got), tc.want)
		}
	}
}
