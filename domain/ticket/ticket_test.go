package ticket_test

import (
	"encoding/json"
	"testing"

	"abusedesk/domain/ticket"
)

// A reference saved before it named a system (an integer Zendesk ID) still decodes, and a
// reference round-trips in the form it is written now.
func TestRefDecodesBothForms(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ticket.Ref
	}{
		{`{"id":123,"url":"https://x.zendesk.com/agent/tickets/123"}`, ticket.Ref{System: ticket.Zendesk, ID: "123", URL: "https://x.zendesk.com/agent/tickets/123"}},
		{`{"id":0}`, ticket.Ref{}},
		{`{}`, ticket.Ref{}},
		{`{"id":null}`, ticket.Ref{}},
		{`{"system":"zendesk","id":"123"}`, ticket.Ref{System: ticket.Zendesk, ID: "123"}},
		{`{"system":"jira","id":"ABUSE-17","url":"https://jira.example/browse/ABUSE-17"}`, ticket.Ref{System: "jira", ID: "ABUSE-17", URL: "https://jira.example/browse/ABUSE-17"}},
	} {
		var got ticket.Ref
		if err := json.Unmarshal([]byte(tc.in), &got); err != nil || got != tc.want {
			t.Errorf("decode %s: %+v %v, want %+v", tc.in, got, err, tc.want)
		}
		b, err := json.Marshal(got)
		var again ticket.Ref
		if err != nil || json.Unmarshal(b, &again) != nil || again != got {
			t.Errorf("round trip of %+v: %s %v → %+v", got, b, err, again)
		}
	}
	for _, bad := range []string{`{"id":1.5}`, `{"id":true}`, `{"id":"x","system":3}`, `[1]`} {
		var got ticket.Ref
		if err := json.Unmarshal([]byte(bad), &got); err == nil {
			t.Errorf("decode %s: %+v, want an error", bad, got)
		}
	}
	b, _ := json.Marshal(ticket.Ref{System: ticket.Zendesk, ID: "42", URL: "u"})
	if string(b) != `{"system":"zendesk","id":"42","url":"u"}` {
		t.Errorf("encoded %s", b)
	}
}

func TestParseRef(t *testing.T) {
	ref := ticket.Ref{System: "jira", ID: "ABUSE-17"}
	if got, err := ticket.ParseRef(ref.String()); err != nil || got != ref {
		t.Errorf("ParseRef(%q) = %+v %v", ref.String(), got, err)
	}
	if got, err := ticket.ParseRef(""); err != nil || !got.IsZero() {
		t.Errorf("ParseRef(\"\") = %+v %v", got, err)
	}
	for _, bad := range []string{"123", "#123", "zendesk#"} {
		if _, err := ticket.ParseRef(bad); err == nil {
			t.Errorf("ParseRef(%q) took it", bad)
		}
	}
	if n, ok := (ticket.Ref{System: ticket.Zendesk, ID: "77"}).Number(); !ok || n != 77 {
		t.Errorf("Number = %d %v", n, ok)
	}
	if _, ok := (ticket.Ref{System: "jira", ID: "ABUSE-17"}).Number(); ok {
		t.Error("ABUSE-17 read as a number")
	}
}
