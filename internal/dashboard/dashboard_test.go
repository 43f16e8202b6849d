package dashboard

import (
	"bytes"
	"encoding/json"
	"testing"

	"abusedesk/integrations/reports"
	"abusedesk/testenv/demo"
)

func TestFilterQuery(t *testing.T) {
	for _, tc := range []struct {
		f    filter
		want string
	}{
		{filter{}, "ExecutionStatus = 'Running'"},
		{filter{State: "closed"}, "ExecutionStatus != 'Running'"},
		{filter{State: "all"}, ""},
		{filter{Status: "enforced", Category: "spam"}, "ExecutionStatus = 'Running' AND AbuseStatus = 'enforced' AND AbuseCategory = 'spam'"},
		{filter{State: "all", Q: "ts-abcd2345"}, "AbuseCaseNumber = 'TS-ABCD2345'"},
		{filter{State: "all", Q: " acct-shop "}, "AbuseAccount = 'acct-shop'"},
		// A quote in what someone typed stays inside the string.
		{filter{State: "all", Account: "x' OR AbuseStatus != '"}, `AbuseAccount = 'x\' OR AbuseStatus != \''`},
	} {
		if got := tc.f.query(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.f, got, tc.want)
		}
	}
}

// TestUniqueMakesANewReport: a sample sent twice is two reports — the parser sees a new ID
// each time, and everything else the same.
func TestUniqueMakesANewReport(t *testing.T) {
	p := reports.New(reports.Options{})
	for _, s := range demo.Samples() {
		first, second := unique(s.Raw), unique(s.Raw)
		a, b := p.Parse(first), p.Parse(second)
		if a.Kind != b.Kind {
			t.Fatalf("%s: kinds %s and %s", s.Name, a.Kind, b.Kind)
		}
		if a.Kind != reports.KindReport {
			continue
		}
		if a.Reports[0].ID == b.Reports[0].ID {
			t.Errorf("%s: both copies have report ID %s", s.Name, a.Reports[0].ID)
		}
		orig := p.Parse(s.Raw)
		if a.Reports[0].Category != orig.Reports[0].Category || !equalJSON(a.Reports[0].SourceIPs, orig.Reports[0].SourceIPs) {
			t.Errorf("%s: the copy reads differently: %+v vs %+v", s.Name, a.Reports[0], orig.Reports[0])
		}
	}
	// An mbox separator stays on the first line.
	got := unique([]byte("From someone Mon Jan  1 00:00:00 2026\nSubject: x\n\nbody\n"))
	if !bytes.HasPrefix(got, []byte("From someone")) || !bytes.Contains(got, []byte("\nMessage-ID: <sandbox-")) {
		t.Errorf("mbox sample: %q", got)
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
