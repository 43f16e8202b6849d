package abuse

import (
	"encoding/json"
	"testing"
)

// TestSubjectKeepsItsWrittenForm: a subject marshals as the "kind:value" string cases kept
// before it was typed (so saved histories read the same), and reads back to itself; a URL's
// own colons stay in the value.
func TestSubjectKeepsItsWrittenForm(t *testing.T) {
	for _, tc := range []struct {
		s    Subject
		json string
	}{
		{Subject{SubjectIP, "192.0.2.1"}, `"ip:192.0.2.1"`},
		{Subject{SubjectURL, "http://shop.example:8080/a?b=<c>&d"}, `"url:http://shop.example:8080/a?b=\u003cc\u003e\u0026d"`},
		{Subject{SubjectSenderID, "SHOPNEWS"}, `"sender-id:SHOPNEWS"`},
		{Subject{Value: "no kind"}, `"no kind"`},
	} {
		b, err := json.Marshal([]Subject{tc.s})
		if err != nil || string(b) != "["+tc.json+"]" {
			t.Errorf("%+v marshals as %s (%v), want [%s]", tc.s, b, err, tc.json)
		}
		old, _ := json.Marshal([]string{tc.s.String()})
		if string(old) != string(b) {
			t.Errorf("%+v: typed %s, as a string %s: histories would differ", tc.s, b, old)
		}
		var back []Subject
		if err := json.Unmarshal(b, &back); err != nil || len(back) != 1 || back[0] != tc.s {
			t.Errorf("%s reads back as %+v (%v), want %+v", b, back, err, tc.s)
		}
	}
}
