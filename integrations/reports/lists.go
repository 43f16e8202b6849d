package reports

import (
	"regexp"
	"strings"

	"github.com/emersion/go-message"
)

// originalSender is who wrote a message a mailing list re-sent: many providers' abuse@ is a
// group (Google Groups, Mailman, Microsoft 365) that sends each report on with its own From
// ("Spamhaus via abuse <abuse@provider.example>"), Precedence: list and List-Id. The original
// writer is in X-Original-Sender or X-Original-From, else in Reply-To, else in the display name
// before " via ". "" when the message is not a list's, or names no one else.
func originalSender(h message.Header, from string) string {
	listed := h.Get("List-Id") != "" || h.Get("Mailing-List") != "" || strings.EqualFold(strings.TrimSpace(h.Get("Precedence")), "list") ||
		h.Get("X-Original-Sender") != "" || h.Get("X-Original-From") != ""
	var via []string
	if strings.Contains(strings.ToLower(h.Get("From")), " via ") { // most mail is not a list's: no decoding
		via = reVia.FindStringSubmatch(decodeHeader(h, "From"))
	}
	if !listed && via == nil {
		return ""
	}
	for _, k := range []string{"X-Original-Sender", "X-Original-From", "Reply-To"} {
		if a := cleanAddress(decodeHeader(h, k)); a != "" && a != from {
			return a
		}
	}
	if via != nil {
		if a := cleanAddress(via[1]); a != "" && a != from {
			return a
		}
	}
	return ""
}

// reVia is a list's From display name: "Jane Roe via abuse", "'reports@spamhaus.example' via
// Abuse Desk".
var reVia = regexp.MustCompile(`(?i)^\s*"?'?([^"']+?)'?\s+via\s+[^"<]+"?\s*<`)
