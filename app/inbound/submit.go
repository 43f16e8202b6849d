package inbound

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"abusedesk/platform/httpx"
)

// Submitter posts report files to a desk's reports API (POST /api/v1/reports), as
// `desk report submit` does, sending each again while the desk answers 503 (its Retry-After
// honoured) for up to GiveUp.
type Submitter struct {
	// URL is the reports API's, Token its bearer token.
	URL, Token string
	// HTTP is the client (nil: one with a minute's timeout); GiveUp how long a file is sent
	// again (0: 30 s).
	HTTP   *http.Client
	GiveUp time.Duration
}

// SubmitFile posts one file — a raw message, or an X-ARF JSON report when its name ends in
// .json — and returns the desk's answer. An error names what went wrong: the file, or the
// desk's status and words.
func (s Submitter) SubmitFile(ctx context.Context, name string) (map[string]any, error) {
	raw, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	ct := "message/rfc822"
	if strings.HasSuffix(strings.ToLower(name), ".json") {
		ct = "application/json"
	}
	hc := s.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: time.Minute}
	}
	giveUp := s.GiveUp
	if giveUp <= 0 {
		giveUp = 30 * time.Second
	}
	status, body, _, err := httpx.PostUntilAccepted(ctx, hc, s.URL, s.Token, ct, raw, time.Now().Add(giveUp))
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK && status != http.StatusAccepted {
		return nil, fmt.Errorf("HTTP %d: %s", status, strings.TrimSpace(string(body)))
	}
	answer := map[string]any{}
	if err := json.Unmarshal(body, &answer); err != nil {
		return nil, fmt.Errorf("HTTP %d, but the answer is not the reports API's JSON: %w", status, err)
	}
	return answer, nil
}
