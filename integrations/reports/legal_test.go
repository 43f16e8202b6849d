package reports

import (
	"testing"
	"time"
)

// TestLegalKind: each kind of request is told by its words, in several languages; an emergency
// wins over the production it asks for.
func TestLegalKind(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"Pursuant to 18 U.S.C. 2703(f) we request that you preserve all records associated with 192.0.2.10.", LegalPreservation},
		{"Please find attached a subpoena for the subscriber information of 192.0.2.10.", LegalProduction},
		{"Enclosed is the court order for the production of the records we asked you to preserve.", LegalProduction},
		{"EMERGENCY DISCLOSURE REQUEST: there is an imminent threat to life; we ask you to disclose the subscriber of 192.0.2.10 now.", LegalEmergency},
		{"Wir bitten um Sicherung der Bestandsdaten zu der IP-Adresse 192.0.2.10.", LegalPreservation},
		{"Réquisition judiciaire : communication des données d'identification de l'abonné.", LegalProduction},
		{"Il existe un danger de mort : merci de nous communiquer l'identité de l'abonné.", LegalEmergency},
		{"We serve you a takedown order: remove the content at https://shop.example/x within 24 hours.", LegalTakedown},
		{"A police investigation concerns your customer.", ""},
	} {
		if got := legalKind(tc.text); got != tc.want {
			t.Errorf("legalKind(%.50q…) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

// TestStatedDeadline: the deadline a request states, written as people write dates in several
// languages, or as "within N days"; none when the text states none, or one before it came.
func TestStatedDeadline(t *testing.T) {
	received := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) // a Monday
	end := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 23, 59, 59, 0, time.UTC) }
	for _, tc := range []struct {
		text string
		want time.Time
	}{
		{"Please respond by 2026-03-16.", end(2026, 3, 16)},
		{"Please provide the records no later than 20 March 2026.", end(2026, 3, 20)},
		{"We ask that you comply on or before March 23, 2026.", end(2026, 3, 23)},
		{"Bitte übermitteln Sie die Daten bis zum 18.03.2026.", end(2026, 3, 18)},
		{"Merci de nous répondre avant le 19 mars 2026.", end(2026, 3, 19)},
		{"Le rogamos responda antes del 25 de marzo de 2026.", end(2026, 3, 25)},
		{"Please respond within 10 days.", received.AddDate(0, 0, 10)},
		{"Please respond within 5 business days.", time.Date(2026, 3, 9, 9, 0, 0, 0, time.UTC)},
		{"This is an emergency: respond within 4 hours.", received.Add(4 * time.Hour)},
		{"The records of 1 to 28 February 2026 are requested.", time.Time{}},
		{"Please respond by 2026-02-16.", time.Time{}}, // before it came
	} {
		if got := statedDeadline(tc.text, received); !got.Equal(tc.want) {
			t.Errorf("statedDeadline(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}
