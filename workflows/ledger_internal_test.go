package workflows

import (
	"abusedesk/domain/abuse"
	"slices"
	"testing"
)

// TestReportsEventsFold: batches folded into one reports event keep every report's count,
// each reporter's share and what they name, each once.
func TestReportsEventsFold(t *testing.T) {
	var a, b LedgerEvent
	a.addReports("fbl@isp.example", 2)
	a.addReports("", 1)
	a.addIndicators(abuse.ParseSubject("ip:192.0.2.1"), abuse.ParseSubject("url:http://x.example/"))
	b.addReports("fbl@isp.example", 3)
	b.addReports("feed@phish.example", 1)
	b.addIndicators(abuse.ParseSubject("ip:192.0.2.1"), abuse.ParseSubject("phone:+15555550100"))
	a.merge(b)
	if a.Count != 7 || !slices.Equal(a.Reporters, []string{"fbl@isp.example", "", "feed@phish.example"}) || !slices.Equal(a.PerReporter, []int{5, 1, 1}) {
		t.Errorf("folded: %d reports, %v %v", a.Count, a.Reporters, a.PerReporter)
	}
	if len(a.Indicators) != 3 {
		t.Errorf("indicators %v, want each once", a.Indicators)
	}
	// Past the bound, reports still count; their reporters are not named.
	var c LedgerEvent
	for i := range maxReporters + 5 {
		c.addReports(string(rune('a'+i)), 1)
	}
	if c.Count != maxReporters+5 || len(c.Reporters) != maxReporters {
		t.Errorf("%d reports from %d named reporters", c.Count, len(c.Reporters))
	}
	var d LedgerEvent
	d.merge(c)
	if d.Count != c.Count {
		t.Errorf("merging counted %d of %d", d.Count, c.Count)
	}
}

// TestNotReporters: what names the reporter's own organisation links nothing; the rest stays.
func TestNotReporters(t *testing.T) {
	texts := []string{"ip:192.0.2.10", "url:https://abuse.bank.example/case/1", "domain:bank.example", "domain:mail.bank.example",
		"sender:alerts@bank.example", "url:http://login-bank.example/x", "domain:notbank.example", "sender:x@shop.example", "domain:example"}
	subjects := abuse.ParseSubjects(texts...)
	got := notReporters("soc@bank.example", subjects)
	want := []string{"ip:192.0.2.10", "url:http://login-bank.example/x", "domain:notbank.example", "sender:x@shop.example", "domain:example"}
	if !slices.Equal(written(got), want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got := notReporters("someone", subjects); !slices.Equal(written(got), texts) {
		t.Errorf("a reporter without a domain: %v", got)
	}
	if got := notReporters("noc@mail.bank.example", []abuse.Subject{{Kind: abuse.SubjectDomain, Value: "bank.example"}}); len(got) != 0 {
		t.Errorf("the reporter's parent domain: %v", got)
	}
}

// written are subjects as "kind:value".
func written(subjects []abuse.Subject) []string {
	var out []string
	for _, s := range subjects {
		out = append(out, s.String())
	}
	return out
}
