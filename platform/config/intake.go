package config

import (
	"strings"
	"time"
)

// Intake configures how reports come in.
type Intake struct {
	APIToken       string
	BatchWindow    time.Duration
	BatchMax       int
	MaxQueued      int
	Concurrency    int
	YieldAt        time.Duration
	AccountHeaders []string
	ZendeskPoll    time.Duration
	// BodyTimeout is how long the reports API waits for a body to arrive.
	BodyTimeout time.Duration
}

// IMAP says how to reach the abuse mailbox; nil when not configured.
type IMAP struct {
	Addr      string
	Security  string
	Username  string
	Password  string
	Mailbox   string
	Processed string
	Failed    string
	Poll      time.Duration
}

// Redacted returns a copy safe to log.
func (m IMAP) Redacted() IMAP {
	if m.Password != "" {
		m.Password = "[redacted]"
	}
	return m
}

// LoadIntake reads the intake settings and, when IMAP_ADDR is set, the mailbox.
func LoadIntake(lookup Lookup) (Intake, *IMAP, error) {
	r := &reader{lookup: lookup}
	in := Intake{
		APIToken:    r.secret("DESK_API_TOKEN"),
		BatchWindow: r.duration("DESK_BATCH_WINDOW"),
		BatchMax:    r.integer("DESK_BATCH_MAX", 1, 10000),
		MaxQueued:   r.integer("DESK_INTAKE_MAX_QUEUED", 100, 100_000_000),
		Concurrency: r.integer("DESK_BATCH_CONCURRENCY", 1, 1000),
		YieldAt:     r.duration("DESK_BATCH_YIELD_AT"),
		ZendeskPoll: r.duration("ZENDESK_POLL_INTERVAL"),
		BodyTimeout: r.duration("DESK_API_BODY_TIMEOUT"),
	}
	for _, h := range r.list("DESK_ACCOUNT_HEADERS") {
		in.AccountHeaders = append(in.AccountHeaders, strings.TrimSpace(h))
	}
	var m *IMAP
	if _, set := r.raw("IMAP_ADDR"); set {
		m = &IMAP{
			Addr:      r.hostPort("IMAP_ADDR"),
			Security:  r.oneOf("IMAP_SECURITY", "tls", "starttls", "none"),
			Username:  r.str("IMAP_USERNAME"),
			Password:  r.secret("IMAP_PASSWORD"),
			Mailbox:   r.str("IMAP_MAILBOX"),
			Processed: r.str("IMAP_PROCESSED_FOLDER"),
			Failed:    r.str("IMAP_FAILED_FOLDER"),
			Poll:      r.duration("IMAP_POLL"),
		}
		r.require(m.Username, "IMAP_USERNAME", "the mailbox login")
		r.require(m.Password, "IMAP_PASSWORD", "the mailbox password")
	}
	return in, m, r.err()
}
