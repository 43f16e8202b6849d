package reports

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Kinds of legal request, which say what the legal team checks and how fast.
const (
	LegalPreservation = "preservation" // keep the records until an order follows
	LegalProduction   = "production"   // hand records over under an order, subpoena or warrant
	LegalEmergency    = "emergency"    // emergency disclosure: a threat to life, now
	LegalTakedown     = "takedown"     // remove content under an order
)

// legalKinds are tried in order: an emergency first (it pages someone), then an order to
// produce, one to take down, and a preservation; each in the languages requests come in.
var legalKinds = []struct {
	kind  string
	words *regexp.Regexp
}{
	{LegalEmergency, regexp.MustCompile(`(?i)(emergency disclosure|exigent|imminent (?:danger|threat|risk)|threat to (?:life|the life)|risk (?:to|of) (?:life|death|serious (?:physical )?harm)|danger de mort|urgence vitale|danger imminent|Gefahr für Leib und Leben|akute Lebensgefahr|peligro inminente|riesgo para la vida|pericolo di vita|levensgevaar)`)},
	{LegalProduction, regexp.MustCompile(`(?i)(production order|order (?:for|of) (?:the )?production|\bsubpoena|search warrant|\bwarrant\b|court order|produce (?:the|all) (?:records|data|information)|disclos(?:e|ure of) (?:the )?(?:records|data|subscriber)|Herausgabe|Beschlagnahme|richterlich\w* Beschluss|réquisition|communication des données|ordonnance|orden judicial|requerimiento judicial|ordine di esibizione|decreto di acquisizione|bevel tot (?:verstrekking|uitlevering)|vordering)`)},
	{LegalTakedown, regexp.MustCompile(`(?i)(takedown order|removal order|order to remove|remove (?:the|this) (?:content|material)|Löschungsanordnung|Entfernung der Inhalte|injonction de retrait|retrait (?:du|des) contenu|orden de retirada|ordine di rimozione)`)},
	{LegalPreservation, regexp.MustCompile(`(?i)(preserv\w+|\b2703\(f\)|Sicherung|sichern|Datensicherung|conservation|conserver|conservación|conservar|conservazione|conservare|bewaring|bewaren|zabezpieczeni\w*)`)},
}

// legalKind says what kind of request a legal request is ("" when it does not say).
func legalKind(text string) string {
	for _, k := range legalKinds {
		if k.words.MatchString(text) {
			return k.kind
		}
	}
	return ""
}

var (
	// A deadline a request states: a cue ("by", "no later than", "bis zum", "avant le", …)
	// followed by a date, or "within N days/hours".
	reDeadlineCue = regexp.MustCompile(`(?i)(?:no later than|not later than|on or before|by|before|bis(?: zum| spätestens)?|spätestens(?: am| bis)?|avant le|au plus tard le|d'ici le|antes del?|a más tardar el|entro il|uiterlijk(?: op)?)\s+(?:the\s+)?(\d{4}-\d{2}-\d{2}|\d{1,2}\.\s?\d{1,2}\.\s?\d{4}|\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+|de\s+)?[\p{L}]+\.?\s+(?:de\s+)?\d{4}|[\p{L}]+\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4})`)
	reWithin      = regexp.MustCompile(`(?i)(?:within|innerhalb von|dans un délai de|sous|en un plazo de|entro|binnen)\s+(\d{1,3})\s+(business days|working days|days|hours|Werktagen|Tagen|Stunden|jours ouvrés|jours|heures|días hábiles|días|horas|giorni lavorativi|giorni|ore|werkdagen|dagen|uur)`)
	monthNames    = map[string]time.Month{}
)

func init() {
	for m, names := range map[time.Month][]string{
		time.January: {"january", "jan", "januar", "janvier", "enero", "gennaio", "januari"}, time.February: {"february", "feb", "februar", "février", "fevrier", "febrero", "febbraio", "februari"},
		time.March: {"march", "mar", "märz", "maerz", "mars", "marzo", "maart"}, time.April: {"april", "apr", "avril", "abril", "aprile"},
		time.May: {"may", "mai", "mayo", "maggio", "mei"}, time.June: {"june", "jun", "juni", "juin", "junio", "giugno"},
		time.July: {"july", "jul", "juli", "juillet", "julio", "luglio"}, time.August: {"august", "aug", "août", "aout", "agosto", "augustus"},
		time.September: {"september", "sep", "sept", "septembre", "septiembre", "settembre"}, time.October: {"october", "oct", "oktober", "octobre", "octubre", "ottobre"},
		time.November: {"november", "nov", "novembre", "noviembre"}, time.December: {"december", "dec", "dezember", "décembre", "decembre", "diciembre", "dicembre"},
	} {
		for _, n := range names {
			monthNames[n] = m
		}
	}
}

// statedDeadline is the deadline a request states, as a time (a date means its end, UTC); zero
// when it states none, or one that is not after it was received and within a year of it.
func statedDeadline(text string, received time.Time) time.Time {
	if received.IsZero() {
		received = time.Now().UTC()
	}
	sane := func(t time.Time) bool { return t.After(received) && t.Before(received.AddDate(1, 0, 0)) }
	for _, m := range reDeadlineCue.FindAllStringSubmatch(text, 5) {
		if d, ok := dayOf(m[1]); ok {
			if t := d.Add(24*time.Hour - time.Second); sane(t) {
				return t
			}
		}
	}
	if m := reWithin.FindStringSubmatch(text); m != nil {
		n, _ := strconv.Atoi(m[1])
		unit := strings.ToLower(m[2])
		var t time.Time
		switch {
		case strings.HasPrefix(unit, "hour") || strings.HasPrefix(unit, "stund") || strings.HasPrefix(unit, "heure") || strings.HasPrefix(unit, "hora") || unit == "ore" || unit == "uur":
			t = received.Add(time.Duration(n) * time.Hour)
		case strings.Contains(unit, "business") || strings.Contains(unit, "working") || strings.Contains(unit, "werk") || strings.Contains(unit, "ouvr") || strings.Contains(unit, "hábil") || strings.Contains(unit, "lavorativ"):
			t = addWorkingDays(received, n)
		default:
			t = received.AddDate(0, 0, n)
		}
		if sane(t) {
			return t
		}
	}
	return time.Time{}
}

// dayOf reads a date written as 2026-03-15, 15.03.2026, 15 March 2026 or March 15, 2026 (month
// names in the languages requests come in).
func dayOf(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, true
	}
	if p := strings.Split(strings.ReplaceAll(s, " ", ""), "."); len(p) == 3 {
		d, e1 := strconv.Atoi(p[0])
		m, e2 := strconv.Atoi(p[1])
		y, e3 := strconv.Atoi(p[2])
		if e1 == nil && e2 == nil && e3 == nil && m >= 1 && m <= 12 && d >= 1 && d <= 31 {
			return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC), true
		}
		return time.Time{}, false
	}
	f := strings.Fields(strings.NewReplacer(",", " ", " of ", " ", " de ", " ").Replace(strings.ToLower(s)))
	if len(f) != 3 {
		return time.Time{}, false
	}
	num := func(w string) (int, bool) {
		n, err := strconv.Atoi(strings.TrimRight(w, "stndrh."))
		return n, err == nil
	}
	y, ok := num(f[2])
	if !ok {
		return time.Time{}, false
	}
	if d, ok := num(f[0]); ok { // 15 March 2026
		if m, ok := monthNames[strings.TrimSuffix(f[1], ".")]; ok && d >= 1 && d <= 31 {
			return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), true
		}
	}
	if m, ok := monthNames[strings.TrimSuffix(f[0], ".")]; ok { // March 15, 2026
		if d, ok := num(f[1]); ok && d >= 1 && d <= 31 {
			return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), true
		}
	}
	return time.Time{}, false
}

// addWorkingDays adds n Monday-to-Friday days.
func addWorkingDays(t time.Time, n int) time.Time {
	for n > 0 {
		t = t.AddDate(0, 0, 1)
		if wd := t.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n--
		}
	}
	return t
}
