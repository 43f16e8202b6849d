package inbound

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"abusedesk/integrations/reports"
	"abusedesk/internal/intake"
)

// Ingester is what the channels hand messages to: intake.
type Ingester interface {
	Ingest(ctx context.Context, raw []byte, src intake.Source) (*intake.Outcome, error)
}

// Admitter is an Ingester that can say whether it takes a message before the message is read.
type Admitter interface {
	Admit() error
}

// APILimits bound what the reports API holds at once: Slots uploads read and parsed at the same
// time (the rest are answered 503 at once, before their bodies are read), each body read within
// BodyTimeout.
type APILimits struct {
	Slots       int
	BodyTimeout time.Duration
}

// Slots is how many maxBytes uploads fit in a memory limit, each taking about three times its
// size while it is read, parsed and stored: at least 2, at most 64.
func Slots(memoryLimit int64, maxBytes int) int {
	if memoryLimit <= 0 || maxBytes <= 0 {
		return 16
	}
	return int(min(64, max(2, memoryLimit/(3*int64(maxBytes)))))
}

// APIResponse is the answer of POST /api/v1/reports.
type APIResponse struct {
	Kind     string            `json:"kind"`
	Digest   string            `json:"digest"`
	Reports  []intake.Accepted `json:"reports"`
	Triaged  []intake.Triaged  `json:"triaged,omitempty"`
	ReplyTo  string            `json:"reply_to,omitempty"`
	Note     string            `json:"note,omitempty"`
	Accepted bool              `json:"accepted"`
}

// ReportsAPI serves /api/v1/reports: POST a body of one raw message (message/rfc822 or
// text/plain) or an X-ARF 4 report (application/json), gzip-compressed or not
// (Content-Encoding). It answers once the reports are accepted — on disk in the intake journal,
// on their way to their cases — or in triage: 200 with the report and case IDs, 202 when
// everything went to triage, 400 for an empty or unreadable body, 401 without the bearer token
// (the scheme in any case, RFC 9110), 405 for another method, 413 over the size limit, 415 for
// an encoding other than gzip, 422 for a JSON body that is no valid X-ARF 4 report (kept in
// triage too), and 503 (retry) when a service was unavailable or intake is full — nothing is
// lost then, the client sends it again. Errors are problem+json (RFC 9457).
func ReportsAPI(in Ingester, token string, maxBytes int, limits APILimits, log *slog.Logger) http.Handler {
	if maxBytes <= 0 {
		maxBytes = 25 << 20
	}
	if limits.Slots <= 0 {
		limits.Slots = 16
	}
	if limits.BodyTimeout <= 0 {
		limits.BodyTimeout = time.Minute
	}
	slots := make(chan struct{}, limits.Slots)
	admitter, _ := in.(Admitter)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			apiError(w, http.StatusMethodNotAllowed, r.Method+" is not allowed here: POST a report")
			return
		}
		scheme, got, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if token == "" || !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="abusedesk"`)
			apiError(w, http.StatusUnauthorized, "missing or wrong bearer token (DESK_API_TOKEN)")
			return
		}
		// Admission before the body is read: a refused request costs its headers only.
		if admitter != nil {
			if err := admitter.Admit(); err != nil {
				w.Header().Set("Retry-After", "1")
				apiError(w, http.StatusServiceUnavailable, "not accepted now, nothing was lost — send it again: "+err.Error())
				return
			}
		}
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
		default:
			w.Header().Set("Retry-After", "1")
			apiError(w, http.StatusServiceUnavailable, fmt.Sprintf("%d reports are being read already — send it again", limits.Slots))
			return
		}
		// A body that trickles in is cut off, so slow clients cannot hold the desk's slots.
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(limits.BodyTimeout))
		src := io.Reader(r.Body)
		switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
		case "", "identity":
		case "gzip", "x-gzip":
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				apiError(w, http.StatusBadRequest, "Content-Encoding: gzip, but the body is not gzip: "+err.Error())
				return
			}
			defer zr.Close()
			src = zr
		default:
			apiError(w, http.StatusUnsupportedMediaType, "Content-Encoding "+enc+" is not supported: send the report plain or gzip-compressed")
			return
		}
		body, err := io.ReadAll(io.LimitReader(src, int64(maxBytes)+1))
		if errors.Is(err, os.ErrDeadlineExceeded) {
			apiError(w, http.StatusRequestTimeout, fmt.Sprintf("the body did not arrive within %s — send it again", limits.BodyTimeout))
			return
		}
		if err != nil {
			apiError(w, http.StatusBadRequest, "could not read the body: "+err.Error())
			return
		}
		if len(body) > maxBytes {
			apiError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the report is over %d bytes", maxBytes))
			return
		}
		if len(strings.TrimSpace(string(body))) == 0 {
			apiError(w, http.StatusBadRequest, "empty body: send a raw message or an X-ARF 4 JSON report")
			return
		}
		out, err := in.Ingest(r.Context(), body, intake.Source{Channel: "api", ReceivedAt: time.Now().UTC(), Admitted: admitter != nil})
		if err != nil {
			retry := "5"
			if errors.Is(err, intake.ErrSlowDown) {
				retry = "1" // counted in desk_intake_messages_total{kind="held"}, too many to log
			} else {
				log.Warn("report not accepted; the client should retry", "error", err)
			}
			w.Header().Set("Retry-After", retry)
			apiError(w, http.StatusServiceUnavailable, "not accepted now, nothing was lost — send it again: "+err.Error())
			return
		}
		resp := APIResponse{Kind: string(out.Kind), Digest: out.Digest, Reports: out.Accepted, Triaged: out.Triaged,
			ReplyTo: out.ReplyTo, Note: out.Note, Accepted: true}
		if resp.Reports == nil {
			resp.Reports = []intake.Accepted{}
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
			apiError(w, http.StatusUnprocessableEntity, detail)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(resp)
	})
}

func apiError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"title": http.StatusText(status), "status": status, "detail": msg})
}

// looksLikeJSON reports whether a body is a JSON document (after a UTF-8 byte order mark).
func looksLikeJSON(b []byte) bool {
	b = bytes.TrimSpace(bytes.TrimPrefix(bytes.TrimSpace(b), []byte("\ufeff")))
	return len(b) > 0 && (b[0] == '{' || b[0] == '[')
}
