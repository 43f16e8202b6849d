package abuse

import "strings"

// SubjectKind is what kind of thing a report names.
type SubjectKind string

// The kinds of subject a report names.
const (
	SubjectIP         SubjectKind = "ip"                // a source address
	SubjectURL        SubjectKind = "url"               // a reported URL
	SubjectDomain     SubjectKind = "domain"            // a domain
	SubjectSender     SubjectKind = "sender"            // a mail sender's address
	SubjectRange      SubjectKind = "range"             // a CIDR range
	SubjectPhone      SubjectKind = "phone"             // a phone number (E.164)
	SubjectSenderID   SubjectKind = "sender-id"         // an alphanumeric SMS sender ID
	SubjectFeedbackID SubjectKind = "feedback-id"       // a mail's Feedback-ID (RFC 6449 loops)
	SubjectCampaign   SubjectKind = "campaign"          // a messaging campaign (10DLC campaign ID)
	SubjectBrand      SubjectKind = "brand"             // a messaging brand (10DLC brand ID)
	SubjectService    SubjectKind = "messaging-service" // a messaging service (a pool of senders)
)

// Subject is one thing a report names: its kind and its value. It is written "kind:value"
// (in JSON too, as a string), the form cases have always kept, so histories read the same.
type Subject struct {
	Kind  SubjectKind
	Value string
}

// ParseSubject reads "kind:value"; a text without a kind is a value of no kind.
func ParseSubject(s string) Subject {
	kind, value, ok := strings.Cut(s, ":")
	if !ok {
		return Subject{Value: s}
	}
	return Subject{Kind: SubjectKind(kind), Value: value}
}

// ParseSubjects reads subjects written "kind:value".
func ParseSubjects(written ...string) []Subject {
	out := make([]Subject, 0, len(written))
	for _, s := range written {
		out = append(out, ParseSubject(s))
	}
	return out
}

// String is "kind:value" (the value alone when it has no kind).
func (s Subject) String() string {
	if s.Kind == "" {
		return s.Value
	}
	return string(s.Kind) + ":" + s.Value
}

// MarshalText writes the subject as "kind:value".
func (s Subject) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads "kind:value".
func (s *Subject) UnmarshalText(b []byte) error {
	*s = ParseSubject(string(b))
	return nil
}
