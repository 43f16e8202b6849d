// Package reports turns incoming abuse mail into reports. It reads in one direction: unpack
// (MIME parts, zip and gzip attachments under bounds, HTML to text) → recognise (one file per
// format family: ARF with RFC 6591 and RFC 9477 in arf.go, X-ARF 0.2 and 4 in xarf.go, CSV and
// JSON lists in tables.go, DMARC aggregate and IODEF in xmlreports.go, SpamCop, Spamhaus,
// fail2ban, copyright, takedowns and free-form complaints in text.go, replies in classify.go)
// → extract subjects with their roles (extract.go, roles.go, numbers.go) → classify (kind,
// category and so track, confidence; the vocabulary of report types and complaint words in
// vocabulary.go). The mail an abuse mailbox gets besides reports — customers' replies to our
// notices (by case number), their auto-replies, bounces — is recognised too.
//
// Parse never panics and never drops a message: what it cannot read comes back as
// KindUnparseable with the reason, for a person to look at.
package reports

import (
	"time"

	"abusedesk/domain/abuse"
)

// Kind is what a message is.
type Kind string

// Kinds of message.
const (
	KindReport      Kind = "report"
	KindReply       Kind = "reply"
	KindAutoReply   Kind = "auto-reply"
	KindBounce      Kind = "bounce"
	KindUnparseable Kind = "unparseable"
)

// Formats a report can come in.
const (
	FormatARF          = "arf"
	FormatXARF02       = "xarf-0.2"
	FormatXARF4        = "xarf-4"
	FormatNetcraft     = "netcraft"
	FormatSpamCop      = "spamcop"
	FormatShadowserver = "shadowserver"
	FormatTable        = "table" // a CSV or JSON list of sources that is not Shadowserver's
	FormatFail2ban     = "fail2ban"
	FormatSpamhaus     = "spamhaus"
	FormatTakedown     = "phishing-takedown"
	FormatCopyright    = "copyright"
	FormatFreeform     = "freeform"
)

// Report is one complaint about one source.
type Report struct {
	// ID is stable: the X-ARF report ID, the mail's Message-ID, or a digest of the raw bytes
	// (with a row number for notifications that list several sources).
	ID       string         `json:"id"`
	Format   string         `json:"format"`
	Category abuse.Category `json:"category"`
	// Track is the kind of matter, from the category: abuse, advisory, legal or customer.
	Track    abuse.Track    `json:"track"`
	Severity abuse.Severity `json:"severity,omitempty"`
	// SourceIPs are the addresses the abuse came from, most certain first.
	SourceIPs []string `json:"source_ips,omitempty"`
	Domains   []string `json:"domains,omitempty"`
	URLs      []string `json:"urls,omitempty"`
	// Senders are email addresses of the abusive mail (From / Original-Mail-From).
	Senders []string `json:"senders,omitempty"`
	// Ranges are CIDR ranges the report names as sources, e.g. a blocklist's "192.0.2.0/26".
	Ranges []string `json:"ranges,omitempty"`
	// Phones are phone numbers in E.164 ("+447700900123") the report names as senders of SMS
	// or voice abuse; SenderIDs are alphanumeric sender IDs and short codes.
	Phones    []string `json:"phones,omitempty"`
	SenderIDs []string `json:"sender_ids,omitempty"`
	// Campaigns, Brands and Services are the messaging campaigns (10DLC campaign IDs),
	// brands (10DLC brand IDs) and messaging services a complaint about texts names.
	Campaigns []string `json:"campaigns,omitempty"`
	Brands    []string `json:"brands,omitempty"`
	Services  []string `json:"messaging_services,omitempty"`
	// Reporter is who sent the report (an address, or an organisation for bare X-ARF 4).
	Reporter string `json:"reporter,omitempty"`
	// EventTime is when the abuse happened, as the report says; ReceivedAt when the report
	// was written (its Date).
	EventTime  time.Time `json:"event_time,omitzero"`
	ReceivedAt time.Time `json:"received_at,omitzero"`
	// FeedbackID is the CFBL-Feedback-ID (RFC 9477) of the reported message, which the
	// provider put on its outbound mail; AccountHint an account header the provider adds.
	FeedbackID  string `json:"feedback_id,omitempty"`
	AccountHint string `json:"account_hint,omitempty"`
	// Confidence is how sure the parser is of category and subjects (0..1).
	Confidence float64 `json:"confidence"`
	// Digest is the SHA-256 of the raw message (the evidence store key).
	Digest string `json:"digest"`
	// BodyDigest is the SHA-256 of what the message says, whatever its envelope: every part's
	// body (text with its whitespace collapsed), a report ID in the body left out. The same
	// evidence sent again under a new Message-ID or report ID has the same BodyDigest.
	BodyDigest string `json:"body_digest,omitempty"`
	// Subject is the report mail's subject; Summary one line for people.
	Subject string `json:"subject,omitempty"`
	Summary string `json:"summary,omitempty"`
	// Fields are the format's own fields (ARF feedback fields, X-ARF keys), for agents.
	Fields map[string][]string `json:"fields,omitempty"`
	// Original describes the reported message, when the report carries it.
	Original *Original `json:"original,omitempty"`
	// LegalKind is what a legal request asks (LegalPreservation, LegalProduction,
	// LegalEmergency, LegalTakedown; "" when it does not say), and Deadline the deadline it
	// states (zero: none).
	LegalKind string    `json:"legal_kind,omitempty"`
	Deadline  time.Time `json:"deadline,omitzero"`
	// Language is the language a person wrote the report in (ISO 639-1; "" for a machine's
	// report or when it cannot tell): a legal request is acknowledged in it.
	Language string `json:"language,omitempty"`
	// Signals say what gave the confidence, in order: the format's own weight, then what
	// raised or lowered it ("0.95 ARF feedback report (RFC 5965)", "-0.10 no source address").
	Signals []string `json:"signals,omitempty"`
	// Warnings name quirks the parser worked around.
	Warnings []string `json:"warnings,omitempty"`
}

// namesSenders says the report names a sending identity of texts or calls: a number, a sender
// ID, a campaign, a brand or a messaging service.
func (r *Report) namesSenders() bool {
	return len(r.Phones)+len(r.SenderIDs)+len(r.Campaigns)+len(r.Brands)+len(r.Services) > 0
}

// sure sets the confidence to c, because of why (a constant, so a row costs no formatting).
func (r *Report) sure(c float64, why string) {
	r.Confidence = c
	r.Signals = append(r.Signals, why)
}

// doubt lowers the confidence by d, because of why.
func (r *Report) doubt(d float64, why string) {
	r.Confidence -= d
	r.Signals = append(r.Signals, why)
}

// Original is the reported message as far as the report shows it.
type Original struct {
	From      string    `json:"from,omitempty"`
	To        string    `json:"to,omitempty"`
	Subject   string    `json:"subject,omitempty"`
	MessageID string    `json:"message_id,omitempty"`
	Date      time.Time `json:"date,omitzero"`
	// Arrived is the date of its topmost Received header: when the receiving server took it.
	Arrived time.Time `json:"arrived,omitzero"`
}

// Reply is a customer's message about one of our cases (an answer, an auto-reply or a bounce).
type Reply struct {
	CaseNumber string    `json:"case_number,omitempty"`
	MessageID  string    `json:"message_id,omitempty"`
	From       string    `json:"from,omitempty"`
	Subject    string    `json:"subject,omitempty"`
	Date       time.Time `json:"date,omitzero"`
	InReplyTo  []string  `json:"in_reply_to,omitempty"`
	// Excerpt is the start of the new text (quoted text and signatures cut).
	Excerpt string `json:"excerpt,omitempty"`
	// Why says what made it an auto-reply or a bounce.
	Why string `json:"why,omitempty"`
}

// Result is everything a message turned into.
type Result struct {
	Kind    Kind     `json:"kind"`
	Reports []Report `json:"reports,omitempty"`
	Reply   *Reply   `json:"reply,omitempty"`
	// Digest of the raw message; MessageID and Subject of the message itself.
	Digest    string `json:"digest"`
	MessageID string `json:"message_id,omitempty"`
	Subject   string `json:"subject,omitempty"`
	From      string `json:"from,omitempty"`
	// Error names what failed, for unparseable messages.
	Error string `json:"error,omitempty"`
}
