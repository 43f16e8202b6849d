package enforcementapi

import "time"

// Demo accounts of the sandbox. Their ranges cover the documentation networks and the
// sanitised addresses of the sample reports, so demo reports land on real cases:
// a standard shop, a strategic bank (a lead must approve), a repeat offender with a German
// contact, a bulk mailer with one earlier violation, and a hosting customer. 1.2.3.4 and
// everything else belong to no one ("not ours"). The shop also owns phone numbers and an SMS
// sender ID; Text Blast is a messaging customer: numbers, a sender ID, a 10DLC brand and
// campaign and a messaging service, no addresses, opened four days ago.
func Demo() []Account {
	moved := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	return []Account{
		{
			ID: "acct-shop", Name: "Example Shop", ContactEmail: "ops@shop.example", Locale: "en", Tier: "standard",
			Ranges:  []Range{{Prefix: "192.0.2.0/25"}, {Prefix: "192.0.2.128/25", From: moved}},
			Domains: []string{"shop.example", "example.net"}, Senders: []string{"newsletter@shop.example"},
			FeedbackIDs: []string{"shop-campaign-1"},
			// The shop sends SMS too: its numbers and sender ID.
			Phones: []string{"+447700900123", "+12025550100"}, SenderIDs: []string{"SHOPNEWS"},
		},
		{
			ID: "acct-bank", Name: "Big Bank", ContactEmail: "noc@bank.example", Locale: "en", Tier: "strategic",
			Ranges:  []Range{{Prefix: "198.51.100.0/24"}, {Prefix: "2001:db8:b::/48"}},
			Domains: []string{"bank.example", "consumer.example"},
		},
		{
			ID: "acct-again", Name: "Again Ltd", ContactEmail: "admin@again.example", Locale: "de", Tier: "standard", PriorViolations: 3,
			Ranges:  []Range{{Prefix: "203.0.113.0/24"}, {Prefix: "192.0.2.128/25", Until: moved}},
			Domains: []string{"again.example", "secure-banking-login.example.com"},
		},
		{
			ID: "acct-blaster", Name: "Mail Blaster", ContactEmail: "abuse-contact@blaster.example", Locale: "en", Tier: "standard", PriorViolations: 1,
			Ranges:  []Range{{Prefix: "10.17.18.0/24"}, {Prefix: "10.67.41.0/24"}},
			Domains: []string{"blaster.example", "domain3.tld", "domain4.tld", "server.domain5.tld"},
		},
		{
			ID: "acct-texts", Name: "Text Blast Co", ContactEmail: "compliance@textblast.example", Locale: "en", Tier: "standard",
			// A new account: opened days before the demo's reports about it.
			CreatedAt: time.Now().UTC().Add(-4 * 24 * time.Hour).Truncate(time.Hour),
			Phones:    []string{"+13125550142", "+13125550143", "+18335550199"}, SenderIDs: []string{"TXTBLAST", "55123"},
			Campaigns: []string{"CX7K2PQ"}, Brands: []string{"BQ4RT7Z"}, Services: []string{"MG-TEXTBLAST-PROMO"},
		},
		{
			ID: "acct-hosting", Name: "Tiny Hosting Co", ContactEmail: "support@tinyhost.example", Locale: "en", Tier: "standard",
			Ranges:  []Range{{Prefix: "10.0.0.0/8"}, {Prefix: "148.163.85.0/24"}},
			Domains: []string{"tinyhost.example", "john-doe.tld", "interpublication.org", "example.ed.jp"},
		},
	}
}

// NewDemo makes an API seeded with Demo().
func NewDemo(token string) *Server {
	s := New(token)
	for _, a := range Demo() {
		s.AddAccount(a)
	}
	return s
}
