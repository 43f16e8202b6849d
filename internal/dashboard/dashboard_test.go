package dashboard

import (
	"testing"
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
