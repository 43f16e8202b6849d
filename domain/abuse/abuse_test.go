package abuse

import (
	"slices"
	"testing"
)

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

// TestEveryTrackHasItsRules: each track has a row of TrackRules saying what its cases are —
// exactly one kind of matter — so a new track cannot be added without saying it; the
// confidential categories are the legal track's.
func TestEveryTrackHasItsRules(t *testing.T) {
	for _, tr := range Tracks {
		r := tr.Rules()
		kinds := 0
		for _, b := range []bool{r.Violation, r.Confidential, r.Advice, r.Support} {
			if b {
				kinds++
			}
		}
		if kinds != 1 {
			t.Errorf("track %s: %+v, want exactly one kind of matter", tr, r)
		}
	}
	if Track("new").Rules() != (TrackRules{}) || Track("new").Violation() {
		t.Error("an unknown track has rules")
	}
	if got, want := ConfidentialCategories(), TrackLegal.Categories(); !slices.Equal(got, want) || len(got) == 0 {
		t.Errorf("confidential categories %v, want the legal track's %v", got, want)
	}
	if !CSAM.Confidential() || Spam.Confidential() || !Spam.Track().Violation() || Vulnerable.Track().Violation() {
		t.Error("a category's traits do not follow its track")
	}
}
