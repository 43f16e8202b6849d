package inbound

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"

	"abusedesk/app/intake"
	"abusedesk/app/ledger"
	"abusedesk/domain/abuse"
	"abusedesk/integrations/reports"
	"abusedesk/platform/httpx"
)

// Ingester is what the channels hand messages to: intake.
type Ingester interface {
	Ingest(ctx context.Context, raw []byte, src intake.Source) (*intake.Outcome, error)
}

// Admitter is an Ingester that can say whether it takes a message before the message is read.
type Admitter interface {
	Admit() error
}

// APIOptions are the reports API's bounds and records. The bodies being read and parsed reserve
// Budget bytes between them — each its Content-Length, or the size limit when the length is
// unknown or the body compressed, and at least MinReservation — and an upload that does not
// fit is answered 503 at once, before its body is read; so a flood of small or trickling
// uploads never keeps out the rest, and large ones cannot together pass the memory limit.
// Each body must arrive within BodyTimeout.
//
// Records, when set, keep the answers to requests made with an Idempotency-Key and where each
// accepted report went (GET /api/v1/reports/{id}): the ledger, shared by every desk process.
// Without them the keys are kept in this process's memory for KeyRules.Keep.
type APIOptions struct {
	Budget      int64
	BodyTimeout time.Duration
	Records     Records
}

// Records are what the reports API keeps besides the reports (ledger.Store).
type Records interface {
	ClaimKey(ctx context.Context, key, digest string, now time.Time, r ledger.KeyRules) (*ledger.Stored, error)
	CompleteKey(ctx context.Context, key string, status int, response []byte) error
	ReleaseKey(ctx context.Context, key string) error
	RecordSubmitted(ctx context.Context, subs []ledger.Submitted) error
	ReportStatus(ctx context.Context, id string) (*ledger.ReportStatus, error)
}

// KeyRules keep an Idempotency-Key for a day; a claim whose request has not finished in five
// minutes (its process died; a body may take a minute, its cases a while) is taken over.
var KeyRules = ledger.KeyRules{Keep: 24 * time.Hour, Stale: 5 * time.Minute}

// MinReservation is the least an upload reserves of APIOptions.Budget, which bounds how many
// are read at once (3,072 in the default 192 MiB).
const MinReservation = 64 << 10

// Budget is the share of a memory limit the reports API's uploads may reserve: a quarter of
// it, as an upload takes several times its size while it is read, parsed (a large attachment
// decoded) and stored; `desk bench reliability` checks that 64 uploads of 25 MiB at once keep
// the desk within 1.25 × the limit. At least two uploads of maxBytes; sixteen without a limit.
func Budget(memoryLimit int64, maxBytes int) int64 {
	if memoryLimit <= 0 || maxBytes <= 0 {
		return 16 * int64(max(maxBytes, 25<<20))
	}
	return max(2*int64(maxBytes), memoryLimit/4)
}

// clientShares bounds what one client (one remote address) holds of the upload budget at once:
// a quarter of it, or one upload of the size limit when that is more. So a client that announces
// large bodies and trickles them in cannot hold the whole budget and keep every other reporter
// out (each of its uploads is cut off after BodyTimeout all the same).
type clientShares struct {
	mu   sync.Mutex
	held map[string]int64
	max  int64
}

func (c *clientShares) take(client string, n int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held[client]+n > c.max {
		return false
	}
	c.held[client] += n
	return true
}

func (c *clientShares) give(client string, n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held[client] -= n; c.held[client] <= 0 {
		delete(c.held, client)
	}
}

// clientOf is the client an upload counts against: its remote address without the port.
func clientOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// APIResponse is the answer of POST /api/v1/reports. It names neither the customer nor the
// case a report went to: whoever holds the API token would otherwise learn which customer
// holds an address. A report's status (GET status_url) says what the policy tells reporters.
type APIResponse struct {
	Kind     string       `json:"kind"`
	Digest   string       `json:"digest"`
	Reports  []APIReport  `json:"reports"`
	Triaged  []APITriaged `json:"triaged,omitempty"`
	Note     string       `json:"note,omitempty"`
	Accepted bool         `json:"accepted"`
}

// APIReport is one report accepted: its ID, what it was read as, and where its status is.
type APIReport struct {
	ReportID  string         `json:"report_id"`
	Category  abuse.Category `json:"category"`
	StatusURL string         `json:"status_url"`
}

// apiReports are the accepted reports as the API answers them.
// APITriaged is what went to a person instead of a case: why, and which report. The triage
// ticket is the desk's own, not the reporter's business.
type APITriaged struct {
	Reason   string `json:"reason"`
	ReportID string `json:"report_id,omitempty"`
}

func apiTriaged(triaged []intake.Triaged) []APITriaged {
	var out []APITriaged
	for _, t := range triaged {
		out = append(out, APITriaged{Reason: t.Reason, ReportID: t.ReportID})
	}
	return out
}

func apiReports(accepted []intake.Accepted) []APIReport {
	out := make([]APIReport, 0, len(accepted))
	for _, a := range accepted {
		out = append(out, APIReport{ReportID: a.ReportID, Category: a.Category, StatusURL: "/api/v1/reports/" + url.PathEscape(a.ReportID)})
	}
	return out
}

// ReportsAPI serves /api/v1/reports: POST a body of one raw message (message/rfc822 or
// text/plain) or an X-ARF 4 report (application/json), gzip-compressed or not
// (Content-Encoding). It answers once the reports are accepted — on disk in the intake journal,
// on their way to their cases — or in triage: 200 with the report IDs and their status URLs (never the customer or the case), 202 when
// everything went to triage, 400 for an empty or unreadable body, 401 without the bearer token
// (the scheme in any case, RFC 9110), 405 for another method, 413 over the size limit, 415 for
// an encoding other than gzip, 422 for a JSON body that is no X-ARF 4 report (kept in triage
// too) or an X-ARF 4 report that lacks a required field or names an unknown category (nothing is
// taken: the detail names what is wrong, for the client to send it whole), and 503 (retry) when a service was unavailable or intake is full — nothing is
// lost then, the client sends it again. Errors are problem+json (RFC 9457).
func ReportsAPI(in Ingester, token string, maxBytes int, limits APIOptions, log *slog.Logger) http.Handler {
	if maxBytes <= 0 {
		maxBytes = 25 << 20
	}
	if limits.Budget <= 0 {
		limits.Budget = Budget(0, maxBytes)
	}
	if limits.BodyTimeout <= 0 {
		limits.BodyTimeout = time.Minute
	}
	budget := semaphore.NewWeighted(limits.Budget)
	clients := &clientShares{held: map[string]int64{}, max: max(int64(maxBytes), limits.Budget/4)}
	admitter, _ := in.(Admitter)
	records := limits.Records
	if records == nil {
		records = newMemoryKeys()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			httpx.Problem(w, http.StatusMethodNotAllowed, r.Method+" is not allowed here: POST a report")
			return
		}
		if !httpx.HasBearer(r, token) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="abusedesk"`)
			httpx.Problem(w, http.StatusUnauthorized, "missing or wrong bearer token (DESK_API_TOKEN)")
			return
		}
		// Admission before the body is read: a refused request costs its headers only.
		if admitter != nil {
			if err := admitter.Admit(); err != nil {
				w.Header().Set("Retry-After", "1")
				drainBriefly(w)
				httpx.Problem(w, http.StatusServiceUnavailable, "not accepted now, nothing was lost — send it again: "+err.Error())
				return
			}
		}
		enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
		plain := enc == "" || enc == "identity"
		reserve := int64(maxBytes)
		if plain && r.ContentLength >= 0 {
			reserve = min(reserve, max(r.ContentLength, MinReservation))
		}
		client := clientOf(r)
		if !clients.take(client, reserve) {
			w.Header().Set("Retry-After", "1")
			drainBriefly(w)
			httpx.Problem(w, http.StatusServiceUnavailable, "this client is sending as much as one client may at once — send it again when one of its uploads is done")
			return
		}
		defer clients.give(client, reserve)
		if !budget.TryAcquire(reserve) {
			w.Header().Set("Retry-After", "1")
			drainBriefly(w)
			httpx.Problem(w, http.StatusServiceUnavailable, "as many reports as the desk's memory allows are being read already — send it again")
			return
		}
		defer budget.Release(reserve)
		// A body that trickles in is cut off, so slow clients cannot hold their reservations.
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(limits.BodyTimeout))
		src := io.Reader(r.Body)
		switch {
		case plain:
		case enc == "gzip" || enc == "x-gzip":
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				httpx.Problem(w, http.StatusBadRequest, "Content-Encoding: gzip, but the body is not gzip: "+err.Error())
				return
			}
			defer zr.Close()
			src = zr
		default:
			httpx.Problem(w, http.StatusUnsupportedMediaType, "Content-Encoding "+enc+" is not supported: send the report plain or gzip-compressed")
			return
		}
		body, err := readBody(src, r.ContentLength, plain, maxBytes)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			closeUnread(w)
			httpx.Problem(w, http.StatusRequestTimeout, fmt.Sprintf("the body did not arrive within %s — send it again", limits.BodyTimeout))
			return
		}
		if err != nil {
			httpx.Problem(w, http.StatusBadRequest, "could not read the body: "+err.Error())
			return
		}
		if len(body) > maxBytes {
			closeUnread(w)
			httpx.Problem(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the report is over %d bytes", maxBytes))
			return
		}
		if len(strings.TrimSpace(string(body))) == 0 {
			httpx.Problem(w, http.StatusBadRequest, "empty body: send a raw message or an X-ARF 4 JSON report")
			return
		}
		if looksLikeJSON(body) && bytes.Contains(body, []byte(`"xarf_version"`)) {
			// An X-ARF 4 document from an API client must be whole: one that is not is
			// answered 422 naming what is wrong, before anything is taken (the client has it).
			if err := reports.CheckXARF4(body); err != nil {
				httpx.Problem(w, http.StatusUnprocessableEntity, "not a valid X-ARF 4 report, nothing was taken: "+err.Error())
				return
			}
		}
		// An Idempotency-Key: the same request again gets the first one's answer and takes
		// nothing twice; another body with the key is refused.
		key, err := idempotencyKey(r)
		if err != nil {
			httpx.Problem(w, http.StatusBadRequest, err.Error())
			return
		}
		if key != "" {
			sum := sha256.Sum256(body)
			stored, err := records.ClaimKey(r.Context(), key, hex.EncodeToString(sum[:]), time.Now(), KeyRules)
			switch {
			case errors.Is(err, ledger.ErrKeyReused):
				httpx.Problem(w, http.StatusUnprocessableEntity, "Idempotency-Key "+strconv.Quote(key)+" was used for another report, nothing was taken: use a new key for a new report")
				return
			case errors.Is(err, ledger.ErrKeyInFlight):
				w.Header().Set("Retry-After", "1")
				httpx.Problem(w, http.StatusConflict, "a request with Idempotency-Key "+strconv.Quote(key)+" is still under way: send it again in a moment to get its answer")
				return
			case err != nil:
				log.Warn("Idempotency-Key not checked; the client should retry", "error", err)
				w.Header().Set("Retry-After", "5")
				httpx.Problem(w, http.StatusServiceUnavailable, "not accepted now, nothing was lost — send it again: the Idempotency-Key could not be checked: "+err.Error())
				return
			case stored != nil:
				replay(w, stored)
				return
			}
			answered := &answerWriter{ResponseWriter: w}
			defer func() {
				// Keep what was answered once something was taken; forget the key otherwise
				// (the client sends it again with the same key).
				ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Second)
				defer cancel()
				var err error
				if answered.status != 0 && !answered.forgotten {
					err = records.CompleteKey(ctx, key, answered.status, answered.body.Bytes())
				} else {
					err = records.ReleaseKey(ctx, key)
				}
				if err != nil {
					log.Warn("Idempotency-Key answer not kept: the same request again will be answered 409 until the claim is stale", "key", key, "error", err)
				}
			}()
			w = answered
		}
		received := time.Now().UTC()
		out, err := in.Ingest(r.Context(), body, intake.Source{Channel: "api", ReceivedAt: received, Admitted: admitter != nil})
		if err != nil {
			if a, ok := w.(*answerWriter); ok {
				a.forget() // nothing was taken: the key is free for the retry
			}
			retry := "5"
			if errors.Is(err, intake.ErrSlowDown) {
				retry = "1" // counted in desk_intake_messages_total{kind="held"}, too many to log
			} else {
				log.Warn("report not accepted; the client should retry", "error", err)
			}
			w.Header().Set("Retry-After", retry)
			httpx.Problem(w, http.StatusServiceUnavailable, "not accepted now, nothing was lost — send it again: "+err.Error())
			return
		}
		recordSubmitted(r.Context(), records, out, received, log)
		resp := APIResponse{Kind: string(out.Kind), Digest: out.Digest, Reports: apiReports(out.Accepted), Triaged: apiTriaged(out.Triaged),
			Note: out.Note, Accepted: true}
		if out.ReplyTo != "" && resp.Note == "" {
			resp.Note = "a reply to a case: delivered to it"
		}
		status := http.StatusOK
		if len(out.Accepted) == 0 && len(out.Triaged) > 0 {
			status = http.StatusAccepted
		}
		if out.Kind == reports.KindUnparseable && looksLikeJSON(body) {
			// An API client sent a report that is no valid X-ARF 4: say what is wrong (it
			// is kept in triage all the same).
			detail := "the JSON body is no valid X-ARF 4 report"
			if len(out.Triaged) > 0 {
				detail += ": " + strings.TrimPrefix(out.Triaged[0].Reason, "unparseable: ")
			}
			httpx.Problem(w, http.StatusUnprocessableEntity, detail)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(resp)
	})
}

// readBody reads up to maxBytes+1 bytes of an upload. When the body is not compressed and its
// Content-Length is known, the buffer is allocated once at that size, so a 25 MB upload takes
// 25 MB rather than the twice as much that growing a buffer by doubling peaks at.
func readBody(src io.Reader, contentLength int64, plain bool, maxBytes int) ([]byte, error) {
	limited := io.LimitReader(src, int64(maxBytes)+1)
	if !plain || contentLength <= 0 || contentLength > int64(maxBytes) {
		return io.ReadAll(limited)
	}
	buf := bytes.NewBuffer(make([]byte, 0, contentLength+bytes.MinRead))
	_, err := buf.ReadFrom(limited)
	return buf.Bytes(), err
}

// drainBriefly gives the server a second to read the rest of a refused request's body after
// the answer: a client that has sent it keeps its connection for the next try (reconnecting
// for every 503 would cost more than the refusal itself), one that trickles it is
// disconnected instead of holding the connection. Go's server drains at most 256 KiB and
// closes the connection past that.
func drainBriefly(w http.ResponseWriter) {
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(time.Second))
}

// closeUnread ends the connection after this answer: the request's body was not read (or
// not to its end), and draining it would let a client that trickles it hold the connection.
func closeUnread(w http.ResponseWriter) { w.Header().Set("Connection", "close") }

// looksLikeJSON reports whether a body is a JSON document (after a UTF-8 byte order mark).
func looksLikeJSON(b []byte) bool {
	b = bytes.TrimSpace(bytes.TrimPrefix(bytes.TrimSpace(b), []byte("\ufeff")))
	return len(b) > 0 && (b[0] == '{' || b[0] == '[')
}

// idempotencyKey is the request's Idempotency-Key (draft-ietf-httpapi-idempotency-key-header:
// a structured-field string, quoted; a bare token is taken too), or "" without one.
func idempotencyKey(r *http.Request) (string, error) {
	vals := r.Header.Values("Idempotency-Key")
	if len(vals) == 0 {
		return "", nil
	}
	if len(vals) > 1 {
		return "", errors.New("more than one Idempotency-Key header: send one")
	}
	k := strings.TrimSpace(vals[0])
	if len(k) >= 2 && k[0] == '"' && k[len(k)-1] == '"' {
		k = k[1 : len(k)-1]
	}
	if k == "" || len(k) > 255 {
		return "", errors.New("Idempotency-Key must be 1 to 255 characters (a UUID, say)")
	}
	for _, c := range k {
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return "", fmt.Errorf("Idempotency-Key %q has a character other than printable ASCII", k)
		}
	}
	return k, nil
}

// answerWriter passes an answer on to the client and keeps a copy (status and body) for the
// request's Idempotency-Key; forget says the answer took nothing and is not to be kept.
type answerWriter struct {
	http.ResponseWriter
	status    int
	body      bytes.Buffer
	forgotten bool
}

func (a *answerWriter) WriteHeader(code int) {
	if a.status == 0 {
		a.status = code
	}
	a.ResponseWriter.WriteHeader(code)
}

func (a *answerWriter) Write(p []byte) (int, error) {
	if a.status == 0 {
		a.status = http.StatusOK
	}
	a.body.Write(p)
	return a.ResponseWriter.Write(p)
}

func (a *answerWriter) forget() { a.forgotten = true }

// Unwrap lets http.ResponseController reach the connection.
func (a *answerWriter) Unwrap() http.ResponseWriter { return a.ResponseWriter }

// replay answers a request whose Idempotency-Key was answered before: that answer again.
func replay(w http.ResponseWriter, s *ledger.Stored) {
	ct := "application/json"
	if s.Status >= 300 {
		ct = "application/problem+json"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Idempotent-Replayed", "true")
	w.WriteHeader(s.Status)
	_, _ = w.Write(s.Response)
}

// recordSubmitted keeps where a request's reports went, for GET /api/v1/reports/{id}. The
// reports are taken already: a failure here costs their status only, and is logged.
func recordSubmitted(ctx context.Context, records Records, out *intake.Outcome, at time.Time, log *slog.Logger) {
	var subs []ledger.Submitted
	for _, a := range out.Accepted {
		subs = append(subs, ledger.Submitted{ReportID: a.ReportID, CaseID: a.CaseID, Category: a.Category, ReceivedAt: at})
	}
	for _, t := range out.Triaged {
		subs = append(subs, ledger.Submitted{ReportID: cmp.Or(t.ReportID, out.Digest), Ticket: t.Ticket, ReceivedAt: at})
	}
	if len(subs) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := records.RecordSubmitted(ctx, subs); err != nil {
		log.Warn("where the reports went is not kept: GET /api/v1/reports/{id} will not find them", "reports", len(subs), "error", err)
	}
}
