package abuse

import "testing"

func TestInDomain(t *testing.T) {
	for _, tc := range []struct {
		host, domain string
		want         bool
	}{
		{"bank.example", "bank.example", true}, {"Mail.Bank.example.", "bank.example", true}, {"notbank.example", "bank.example", false},
		{"bank.example", "mail.bank.example", false}, {"x.example", "", false}, {"", "bank.example", false},
	} {
		if got := InDomain(tc.host, tc.domain); got != tc.want {
			t.Errorf("InDomain(%q, %q) = %v", tc.host, tc.domain, got)
		}
	}
}
