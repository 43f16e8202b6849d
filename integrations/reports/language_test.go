package reports

import "testing"

// TestLanguage: a few sentences of each language the desk reads are told apart; too little
// text, or a mix, is not guessed.
func TestLanguage(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"Pursuant to 18 U.S.C. 2703(f) we request that you preserve all records associated with the IP address 192.0.2.10 for the period of the investigation. Please confirm receipt of this request.", "en"},
		{"Dans le cadre d'une enquête judiciaire, nous vous demandons de conserver les données de connexion associées à l'adresse IP 192.0.2.10. Merci de nous confirmer la réception de la présente réquisition.", "fr"},
		{"Im Rahmen eines Ermittlungsverfahrens der Staatsanwaltschaft bitten wir Sie, die Bestandsdaten zu der IP-Adresse 192.0.2.10 zu sichern. Bitte bestätigen Sie den Eingang und teilen Sie uns mit, ob die Daten noch vorhanden sind.", "de"},
		{"En el marco de una investigación policial le solicitamos que conserve los registros asociados a la dirección IP 192.0.2.10 y que nos confirme la recepción de este requerimiento por parte de su empresa.", "es"},
		{"Nell'ambito di un'indagine della procura vi chiediamo di conservare i dati relativi all'indirizzo IP 192.0.2.10. Vi preghiamo di confermare la ricezione di questa richiesta per il nostro ufficio.", "it"},
		{"In het kader van een strafrechtelijk onderzoek verzoeken wij u de gegevens van het IP-adres 192.0.2.10 te bewaren. Wij vragen u de ontvangst van dit verzoek te bevestigen voor de officier van justitie.", "nl"},
		{"W związku z prowadzonym postępowaniem prosimy o zabezpieczenie danych dotyczących adresu IP 192.0.2.10 oraz o potwierdzenie otrzymania tego wniosku przez Państwa firmę.", "pl"},
		{"В рамках расследования просим сохранить данные, связанные с IP-адресом 192.0.2.10, и подтвердить получение запроса.", "ru"},
		{"У межах розслідування просимо зберегти дані, пов'язані з IP-адресою 192.0.2.10, та підтвердити отримання запиту.", "uk"},
		{"192.0.2.10 2026-02-01 12:00:00 UTC", ""},
		{"Hello", ""},
	} {
		if got := Language(tc.text); got != tc.want {
			t.Errorf("Language(%.40q…) = %q, want %q", tc.text, got, tc.want)
		}
	}
}
