package reports

import (
	"slices"
	"testing"
	"time"

	"abusedesk/domain/abuse"
)

// TestCarrierDeadline: a carrier's notice that sets its own deadline ("within 5 business days",
// "by 2026-12-10") carries it, counted from the notice's date in business days when it says so;
// a person's complaint carries none, nor does a notice that sets none.
func TestCarrierDeadline(t *testing.T) {
	// mailOf dates its mail Monday 7 December 2026, 08:00 UTC.
	for _, tc := range []struct {
		name, body string
		want       time.Time
	}{
		{"business days", "Campaign CK3J9QX violates the CTIA Messaging Principles (messages from +1 312 555 0177 lack opt-out language). Remediate within 5 business days.",
			time.Date(2026, 12, 14, 8, 0, 0, 0, time.UTC)},
		{"a date", "Our 10DLC audit found traffic from +1 312 555 0177 that does not match the registered use case. Provide opt-in records no later than 2026-12-10.",
			time.Date(2026, 12, 10, 23, 59, 59, 0, time.UTC)},
		{"none stated", "Traffic from toll-free number +1 833 555 0199 is not compliant with toll-free verification.", time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := parser().Parse(mailOf("Compliance <compliance@carrier.example>", "Compliance notice", "", tc.body))
			if len(res.Reports) != 1 {
				t.Fatalf("kind %s (%s), %d reports", res.Kind, res.Error, len(res.Reports))
			}
			r := res.Reports[0]
			if r.Category != abuse.CarrierNotice || !r.Deadline.Equal(tc.want) {
				t.Errorf("category %s, deadline %v; want carrier-notice, %v", r.Category, r.Deadline, tc.want)
			}
		})
	}
	res := parser().Parse(mailOf("Kim <kim@home.example>", "texts", "", "I never signed up but +1 212 555 0111 texts me offers. Stop them within 5 business days please."))
	if len(res.Reports) != 1 || res.Reports[0].Category != abuse.Consent || !res.Reports[0].Deadline.IsZero() {
		t.Errorf("a person's complaint: %+v, want consent with no deadline", res.Reports)
	}
}

// TestMessagingIDs: the campaigns, brands and messaging services a complaint about texts names,
// after their labels, as carriers and platforms write them — and nothing from words that only
// look like them, nor outside a complaint about texts.
func TestMessagingIDs(t *testing.T) {
	for _, tc := range []struct {
		text                        string
		campaigns, brands, services []string
	}{
		{"Our monitoring identified SMS traffic on campaign CX7K2PQ (brand BQ4RT7Z) that breaks the CTIA principles.", []string{"CX7K2PQ"}, []string{"BQ4RT7Z"}, nil},
		{"10DLC Campaign ID: CK3J9QX, Brand ID: BABC456; messaging service MG-TEXTBLAST-PROMO sends the texts.", []string{"CK3J9QX"}, []string{"BABC456"}, []string{"MG-TEXTBLAST-PROMO"}},
		{"Texts via Messaging Service SID MG0123456789abcdef0123456789abcdef.", nil, nil, []string{"MG0123456789abcdef0123456789abcdef"}},
		{"The SMS campaign started Monday; the brand Acme texts every day.", nil, nil, nil},
		{"Spam mail advertising brand BQ4RT7Z, service MG-TEXTBLAST-PROMO.", nil, nil, nil}, // no texts or calls
	} {
		c, b, s := textMessagingIDs(tc.text)
		if !slices.Equal(c, tc.campaigns) || !slices.Equal(b, tc.brands) || !slices.Equal(s, tc.services) {
			t.Errorf("%q: campaigns %v brands %v services %v; want %v %v %v", tc.text, c, b, s, tc.campaigns, tc.brands, tc.services)
		}
	}
	// A carrier's notice naming a campaign and nothing else is a report about that campaign.
	res := parser().Parse(mailOf("Compliance <compliance@carrier.example>", "Campaign audit", "",
		"Our audit of 10DLC campaign CK3J9QX found messages without opt-out language. Remediate within 5 business days."))
	if len(res.Reports) != 1 || res.Reports[0].Category != abuse.CarrierNotice || !slices.Equal(res.Reports[0].Campaigns, []string{"CK3J9QX"}) {
		t.Errorf("a notice naming only a campaign: %s %s %+v", res.Kind, res.Error, res.Reports)
	}
}

// textMessagingIDs is what textSenders reads of campaigns, brands and messaging services:
// nothing when the text is not about texts or calls.
func textMessagingIDs(s string) (campaigns, brands, services []string) {
	if !reSMSContext.MatchString(s) {
		return nil, nil, nil
	}
	return messagingIDsIn(s)
}
