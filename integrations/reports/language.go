package reports

import (
	"strings"
	"unicode"
)

// stopwords are frequent short words of each language the desk reads complaints in, which
// tell the language of a few sentences apart (a word in two lists counts for both).
var stopwords = map[string][]string{
	"en": {"the", "and", "of", "to", "is", "that", "for", "this", "with", "are", "we", "you", "please", "from", "have", "your", "our", "be"},
	"de": {"der", "die", "das", "und", "ist", "nicht", "mit", "sich", "den", "wir", "sie", "bitte", "eine", "einer", "ihre", "auf", "für", "wurde"},
	"fr": {"le", "la", "les", "et", "est", "une", "des", "du", "pour", "dans", "nous", "vous", "sur", "qui", "pas", "votre", "au", "ce"},
	"es": {"el", "los", "las", "y", "es", "una", "del", "para", "por", "con", "que", "su", "nosotros", "usted", "este", "esta", "como", "al"},
	"pt": {"os", "as", "e", "uma", "do", "da", "para", "com", "não", "que", "seu", "sua", "nós", "você", "este", "esta", "ao", "dos"},
	"it": {"il", "lo", "gli", "e", "è", "di", "che", "per", "con", "non", "una", "della", "sono", "questo", "questa", "vostro", "nel", "alla"},
	"nl": {"de", "het", "een", "en", "van", "is", "niet", "met", "voor", "dat", "wij", "u", "uw", "ons", "deze", "dit", "op", "zijn"},
	"pl": {"i", "w", "z", "na", "jest", "nie", "że", "się", "do", "to", "oraz", "dla", "przez", "prosimy", "jak", "od", "tym", "są"},
}

// stopwordLang maps each stop word to its languages.
var stopwordLang = func() map[string][]string {
	m := map[string][]string{}
	for lang, list := range stopwords {
		for _, w := range list {
			m[w] = append(m[w], lang)
		}
	}
	return m
}()

// Language guesses the language of a text (ISO 639-1: "en", "fr", …) from its frequent words
// and, for Cyrillic, its letters; "" when it cannot tell. Messages to the writer (a legal
// request's acknowledgement) are written in it.
func Language(text string) string {
	if len(text) > 8<<10 {
		text = text[:8<<10]
	}
	var cyr, latin, ukr int
	for _, r := range text {
		switch {
		case unicode.Is(unicode.Cyrillic, r):
			cyr++
			if strings.ContainsRune("іїєґІЇЄҐ", r) {
				ukr++
			}
		case unicode.IsLetter(r):
			latin++
		}
	}
	if cyr > latin {
		if ukr > 0 {
			return "uk"
		}
		return "ru"
	}
	counts := map[string]int{}
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) }) {
		for _, lang := range stopwordLang[w] {
			counts[lang]++
		}
	}
	best, first, second := "", 0, 0
	for _, lang := range []string{"en", "de", "fr", "es", "pt", "it", "nl", "pl"} { // a fixed order: ties go the same way
		switch c := counts[lang]; {
		case c > first:
			best, first, second = lang, c, first
		case c > second:
			second = c
		}
	}
	if first < 3 || first < second*3/2 {
		return "" // too little to tell, or two languages alike
	}
	return best
}
