// Package httpx has the HTTP plumbing the integrations share: a transport that retries what is
// safe to retry (honouring Retry-After), and the classification of HTTP failures into fault
// kinds, done once here for every outside service.
package httpx

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"abusedesk/domain/fault"
)

// Retry is an http.RoundTripper that retries a request when the answer is 429 (after the
// server's Retry-After, if it is short enough) or, for requests that are safe to repeat
// (GET/HEAD/PUT/DELETE, or any request with an Idempotency-Key), a 5xx or a network error.
// It gives up after MaxRetries and returns the last answer, which the caller classifies.
type Retry struct {
	Base http.RoundTripper
	// MaxRetries per request; default 2.
	MaxRetries int
	// MaxWait is the longest Retry-After honoured inline; a longer one is returned to the
	// caller (a Temporal activity then retries later). Default 5s.
	MaxWait time.Duration
	// Backoff is the first delay after a 5xx or network error (doubled each time, jittered);
	// default 200ms. Also used for a 429 without Retry-After.
	Backoff time.Duration
}

// RoundTrip implements http.RoundTripper.
func (r *Retry) RoundTrip(req *http.Request) (*http.Response, error) {
	base := r.Base
	if base == nil {
		base = http.DefaultTransport
	}
	maxRetries, maxWait, backoff := r.MaxRetries, r.MaxWait, r.Backoff
	if maxRetries == 0 {
		maxRetries = 2
	}
	if maxWait == 0 {
		maxWait = 5 * time.Second
	}
	if backoff == 0 {
		backoff = 200 * time.Millisecond
	}
	safe := req.Method == http.MethodGet || req.Method == http.MethodHead || req.Method == http.MethodPut ||
		req.Method == http.MethodDelete || req.Header.Get("Idempotency-Key") != ""
	// A streamed body cannot be sent twice: such a request gets one attempt.
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		maxRetries = -1
	}
	for attempt := 0; ; attempt++ {
		if attempt > 0 && req.Body != nil && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			req.Body = body
		}
		resp, err := base.RoundTrip(req)
		var wait time.Duration
		switch {
		case err != nil:
			if !safe || attempt >= maxRetries || req.Context().Err() != nil {
				return nil, err
			}
			wait = jitter(backoff << attempt)
		case resp.StatusCode == http.StatusTooManyRequests:
			ra := fault.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
			if attempt >= maxRetries || ra > maxWait {
				return resp, nil
			}
			wait = ra
			if wait == 0 {
				wait = jitter(backoff << attempt)
			}
		case resp.StatusCode >= 500 && safe && attempt < maxRetries:
			wait = jitter(backoff << attempt)
		default:
			return resp, nil
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			_ = resp.Body.Close()
		}
		t := time.NewTimer(wait)
		select {
		case <-req.Context().Done():
			t.Stop()
			return nil, req.Context().Err()
		case <-t.C:
		}
	}
}

func jitter(d time.Duration) time.Duration {
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// Client returns an http.Client with the retrying transport and a per-request timeout.
func Client(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &Retry{}}
}

// Classify turns a failed exchange into a *fault.Error: a transport error (timeouts included)
// is Transient, an HTTP status is classified by fault.FromHTTP, with the service's message and
// the Retry-After it asked for.
func Classify(service, op string, resp *http.Response, body []byte, err error) error {
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return err
		}
		var ne net.Error
		msg := err.Error()
		if errors.As(err, &ne) && ne.Timeout() {
			msg = "timed out: " + msg
		}
		return &fault.Error{Kind: fault.Transient, Service: service, Op: op, Message: msg, Err: err}
	}
	fe := &fault.Error{
		Kind:    fault.FromHTTP(resp.StatusCode),
		Service: service,
		Op:      op,
		Status:  resp.StatusCode,
		Message: message(body),
	}
	if fe.Kind == fault.RateLimited {
		fe.RetryAfter = fault.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return fe
}

// message shortens a response body to something fit for a log line and a timeline.
func message(body []byte) string {
	body = bytes.TrimSpace(body)
	if len(body) > 500 {
		body = append(body[:500:500], []byte("…")...)
	}
	return string(body)
}

// ReadBody reads at most limit bytes of a response body and closes it.
func ReadBody(resp *http.Response, limit int64) ([]byte, error) {
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("response body over %d bytes", limit)
	}
	return b, nil
}

// PostUntilAccepted posts body with a bearer token (a report to a desk's reports API), and sends it again after a 503 or no
// answer — waiting the answer's Retry-After (else a second) — until the answer is another
// or giveUp has passed. It returns the last status (0: no answer), the answer's body, how
// many times it sent again, and the last error; ctx ends it early.
func PostUntilAccepted(ctx context.Context, hc *http.Client, url, token, contentType string, body []byte, giveUp time.Time) (status int, answer []byte, retries int, err error) {
	return PostUntilAcceptedPacing(ctx, hc, url, token, contentType, body, giveUp, func(d time.Duration) time.Duration { return d })
}

// PostUntilAcceptedPacing is PostUntilAccepted with the wait before a retry chosen by pace from
// the server's Retry-After (a benchmark's clients that ignore it answer 0).
func PostUntilAcceptedPacing(ctx context.Context, hc *http.Client, url, token, contentType string, body []byte, giveUp time.Time, pace func(retryAfter time.Duration) time.Duration) (status int, answer []byte, retries int, err error) {
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", contentType)
		resp, rerr := hc.Do(req)
		status, answer, err = 0, nil, rerr
		wait := time.Second
		if rerr == nil {
			answer, err = io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			status = resp.StatusCode
			if s, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil && s > 0 {
				wait = time.Duration(s) * time.Second
			}
		}
		wait = pace(wait)
		if (status != 0 && status != http.StatusServiceUnavailable) || time.Now().Add(wait).After(giveUp) {
			return status, answer, retries, err
		}
		retries++
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return status, answer, retries, ctx.Err()
		}
	}
}

// HasBearer says whether a request carries the bearer token (the scheme in any case, RFC 9110);
// an empty token matches nothing.
func HasBearer(r *http.Request, token string) bool {
	scheme, got, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	return token != "" && strings.EqualFold(scheme, "Bearer") && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(token)) == 1
}

// WriteJSON answers with v as indented JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// Problem answers with an RFC 9457 problem+json: the status, its text as the title, and detail
// saying what was wrong.
func Problem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"title": http.StatusText(status), "status": status, "detail": detail})
}
