package zendesk

import (
	zd "github.com/nukosuke/go-zendesk/zendesk"

	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Headers Zendesk signs webhook notifications with.
const (
	HeaderSignature = "X-Zendesk-Webhook-Signature"
	HeaderTimestamp = "X-Zendesk-Webhook-Signature-Timestamp"
)

// MaxWebhookAge is how old (or how far in the future) a signed timestamp may be.
const MaxWebhookAge = 5 * time.Minute

// Errors of Verify; a handler answers 401 to all of them.
var (
	ErrUnsigned  = errors.New("zendesk webhook: no signature or timestamp")
	ErrForged    = errors.New("zendesk webhook: the signature does not match")
	ErrStale     = errors.New("zendesk webhook: the signed timestamp is too old or in the future")
	ErrTimestamp = errors.New("zendesk webhook: the signed timestamp is not a time")
)

// Sign computes the signature Zendesk sends: base64(HMAC-SHA256(secret, timestamp + body)).
func Sign(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Verify checks a webhook notification's signature and freshness against the signing secret.
func Verify(secret string, h http.Header, body []byte, now time.Time) error {
	sig, ts := h.Get(HeaderSignature), h.Get(HeaderTimestamp)
	if sig == "" || ts == "" {
		return ErrUnsigned
	}
	want := Sign(secret, ts, body)
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return ErrForged
	}
	t, err := time.Parse(time.RFC3339, ts)
	if err != nil {
		return ErrTimestamp
	}
	if d := now.Sub(t); d > MaxWebhookAge || d < -MaxWebhookAge {
		return fmt.Errorf("%w (%s)", ErrStale, ts)
	}
	return nil
}

// Event is the body of the notifications the provisioned triggers send.
type Event struct {
	// Kind is EventReport, EventCustomerReply, EventDecision or EventAssigned.
	Kind     string `json:"abusedesk_event"`
	TicketID string `json:"ticket_id"`
	Decision string `json:"decision,omitempty"`
	ActorID  string `json:"actor_id,omitempty"`
	Actor    string `json:"actor_email,omitempty"`
	Updated  string `json:"updated_at,omitempty"`
}

// Event kinds.
const (
	EventReport        = "report"
	EventCustomerReply = "customer_reply"
	EventDecision      = "agent_decision"
	// EventAssigned: an agent changed a case ticket's assignee.
	EventAssigned = "assignee_changed"
)

// ParseEvent decodes a notification body.
func ParseEvent(body []byte) (Event, int64, error) {
	var e Event
	if err := json.Unmarshal(body, &e); err != nil {
		return e, 0, fmt.Errorf("zendesk webhook: body is not JSON: %w", err)
	}
	switch e.Kind {
	case EventReport, EventCustomerReply, EventDecision, EventAssigned:
	default:
		return e, 0, fmt.Errorf("zendesk webhook: unknown abusedesk_event %q", e.Kind)
	}
	id, err := strconv.ParseInt(e.TicketID, 10, 64)
	if err != nil || id <= 0 {
		return e, 0, fmt.Errorf("zendesk webhook: ticket_id %q is not a ticket", e.TicketID)
	}
	if e.Kind == EventDecision && e.Decision == "" {
		return e, 0, errors.New("zendesk webhook: agent_decision without decision")
	}
	return e, id, nil
}

// ---- incremental export --------------------------------------------------------------------

// ExportPage is one page of the incremental ticket export.
type ExportPage struct {
	Tickets []TicketInfo
	// Cursor continues after this page; EndOfStream says there is nothing newer yet.
	Cursor      string
	EndOfStream bool
}

// Export reads the incremental ticket export: from start (first call) or from cursor.
func (c *Client) Export(ctx context.Context, cursor string, start time.Time) (*ExportPage, error) {
	path := "/incremental/tickets/cursor.json?per_page=1000&"
	if cursor != "" {
		path += "cursor=" + url.QueryEscape(cursor) // real cursors are base64: "+", "/" and "="
	} else {
		path += "start_time=" + strconv.FormatInt(start.Unix(), 10)
	}
	var out struct {
		Tickets     []zd.Ticket `json:"tickets"`
		AfterCursor string      `json:"after_cursor"`
		EndOfStream bool        `json:"end_of_stream"`
	}
	if err := c.raw(ctx, "incremental export", http.MethodGet, path, nil, &out); err != nil {
		return nil, err
	}
	p := &ExportPage{Cursor: out.AfterCursor, EndOfStream: out.EndOfStream}
	for _, t := range out.Tickets {
		ti, err := c.info(ctx, t)
		if err != nil {
			return nil, err
		}
		p.Tickets = append(p.Tickets, *ti)
	}
	return p, nil
}
