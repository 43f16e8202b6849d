package workflows

import (
	"strconv"
	"strings"
	"testing"

	"abusedesk/domain/abuse"
)

func TestCaseWorkflowIDRoundTrip(t *testing.T) {
	tests := []struct {
		account  string
		category abuse.Category
		id       string
	}{
		{"acct-1", abuse.Spam, "case/acct-1/spam"},
		{"cust 42/eu", abuse.PortScan, "case/cust%2042%2Feu/port-scan"},
		{"a%b", abuse.Other, "case/a%25b/other"},
		{"ops@shop.example", abuse.Phishing, "case/ops@shop.example/phishing"},
	}
	for _, tc := range tests {
		id := CaseWorkflowID(tc.account, tc.category)
		if id != tc.id {
			t.Errorf("CaseWorkflowID(%q, %q) = %q, want %q", tc.account, tc.category, id, tc.id)
		}
		a, c, ok := ParseCaseWorkflowID(id)
		if !ok || a != tc.account || c != tc.category {
			t.Errorf("ParseCaseWorkflowID(%q) = %q, %q, %v", id, a, c, ok)
		}
	}
	for _, bad := range []string{"", "case/", "case/x", "appeal/x/y", "case/%zz/spam"} {
		if _, _, ok := ParseCaseWorkflowID(bad); ok {
			t.Errorf("ParseCaseWorkflowID(%q) accepted", bad)
		}
	}
}

func TestCaseNumber(t *testing.T) {
	id := CaseWorkflowID("acct-1", abuse.Spam)
	n := CaseNumber(id)
	if n != CaseNumber(id) {
		t.Fatal("case number is not stable")
	}
	if len(n) != 11 || !strings.HasPrefix(n, "TS-") || strings.ContainsAny(n[3:], "ILOU") {
		t.Errorf("case number %q is not TS- and 8 Crockford characters", n)
	}
	if n == CaseNumber(CaseWorkflowID("acct-2", abuse.Spam)) {
		t.Error("two cases share a number")
	}
	seen := map[string]string{}
	for i := range 20000 {
		id := CaseWorkflowID("acct-"+string(rune('a'+i%26))+strings.Repeat("x", i%7)+strconv.Itoa(i), abuse.Spam)
		num := CaseNumber(id)
		if other, dup := seen[num]; dup {
			t.Fatalf("%s and %s share case number %s", id, other, num)
		}
		seen[num] = id
	}
}

func TestIncidentNumber(t *testing.T) {
	id := CaseWorkflowID("acct-1", abuse.Spam)
	a, b := IncidentNumber(id, "run-1"), IncidentNumber(id, "run-2")
	if a != IncidentNumber(id, "run-1") {
		t.Fatal("incident number is not stable")
	}
	if a == b || a == CaseNumber(id) {
		t.Errorf("two incidents of one case share a number: %s, %s (case %s)", a, b, CaseNumber(id))
	}
	if len(a) != 13 || !strings.HasPrefix(a, "TS-") || strings.ContainsAny(a[3:], "ILOU") {
		t.Errorf("incident number %q is not TS- and 10 Crockford characters", a)
	}
	if FindCaseNumber("Re: ["+a+"] Abuse report") != a {
		t.Errorf("FindCaseNumber does not find %s", a)
	}
}

func TestFindCaseNumber(t *testing.T) {
	n := CaseNumber("case/acct-1/spam")
	tests := []struct{ subject, want string }{
		{"Re: [" + n + "] Abuse report", n},
		{"Re: [TS-7F3K2QXM4B] Abuse report", "TS-7F3K2QXM4B"},
		{"TS-7F3K2QXM4 nine characters", ""},
		{"RE: AW: " + strings.ToLower(n) + " done", n},
		{"no number here", ""},
		{"XTS-7F3K2QXM is glued to a word", ""},
		{"TS-7F3K2QXMA too long", ""},
		{"TS-7F3K2QU! has a U", ""},
	}
	for _, tc := range tests {
		if got := FindCaseNumber(tc.subject); got != tc.want {
			t.Errorf("FindCaseNumber(%q) = %q, want %q", tc.subject, got, tc.want)
		}
	}
}
