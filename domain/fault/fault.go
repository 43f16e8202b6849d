// Package fault classifies errors from outside systems once, where they happen (in the
// integration), so the layers above decide retries from the class and never from Go type
// names or message text.
package fault

import (
	"errors"
	"fmt"
	"time"
)

// Kind is the class of a failure.
type Kind int

// Kinds of failure.
const (
	// Transient failures (5xx, network, timeouts) are worth retrying with backoff.
	Transient Kind = iota
	// Invalid means the request was wrong (4xx); retrying it will not help.
	Invalid
	// NotFound means the thing asked for does not exist.
	NotFound
	// Conflict means the request clashes with the current state (409, 412, 422 on state).
	Conflict
	// RateLimited means slow down; RetryAfter says for how long when the service said so.
	RateLimited
	// Unauthorized means the credentials were refused (401/403): a configuration problem.
	Unauthorized
)

// String names the kind; it is also the Temporal application error type at the activity
// boundary.
func (k Kind) String() string {
	switch k {
	case Invalid:
		return "Invalid"
	case NotFound:
		return "NotFound"
	case Conflict:
		return "Conflict"
	case RateLimited:
		return "RateLimited"
	case Unauthorized:
		return "Unauthorized"
	default:
		return "Transient"
	}
}

// Error is a classified failure of an outside call.
type Error struct {
	Kind    Kind
	Service string // "zendesk", "slack", "enforcement", "imap"
	Op      string // what was being done, e.g. "create ticket"
	Status  int    // HTTP status, when there was one
	Message string // the service's own message
	// RetryAfter is the delay the service asked for (429 Retry-After), or 0.
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string {
	s := e.Service + ": " + e.Op
	if e.Status != 0 {
		s += fmt.Sprintf(": HTTP %d", e.Status)
	}
	if e.Message != "" {
		s += ": " + e.Message
	} else if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the kind of err: the kind of the first *Error in its chain, else Transient
// (an unclassified error is assumed worth retrying).
func KindOf(err error) Kind {
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Kind
	}
	return Transient
}

// Is reports whether err is classified as k.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }

// RetryAfter returns the delay the service asked for, or 0.
func RetryAfter(err error) time.Duration {
	var fe *Error
	if errors.As(err, &fe) {
		return fe.RetryAfter
	}
	return 0
}

// FromHTTP classifies an HTTP status.
func FromHTTP(status int) Kind {
	switch {
	case status == 429:
		return RateLimited
	case status == 401 || status == 403:
		return Unauthorized
	case status == 404:
		return NotFound
	case status == 409 || status == 412:
		return Conflict
	case status == 408:
		return Transient
	case status >= 400 && status < 500:
		return Invalid
	default:
		return Transient
	}
}

// ParseRetryAfter reads a Retry-After header: seconds, or an HTTP date. Missing or malformed
// gives 0 (the caller falls back to its own backoff).
func ParseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	var secs int
	if _, err := fmt.Sscanf(v, "%d", &secs); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := time.Parse(time.RFC1123, v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
