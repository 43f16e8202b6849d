// Package templates holds every message abusedesk writes — customer notices, reminders, the
// enforcement notice with its statement of reasons, appeal answers, reporter acknowledgements,
// internal notes for agents and the Slack approval text — as Go text templates embedded in the
// binary, and the renderer that picks one by kind, category and locale.
//
// Templates are parsed once at start: a broken template stops the start, not a case. They run
// with a sandboxed function map: sprig's string, list and math helpers, without anything that
// reads the environment, the clock or randomness, touches the network, or loops without bound.
package templates

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"text/template"
	"time"

	"github.com/Masterminds/sprig/v3"
)

//go:embed text
var embedded embed.FS

// DefaultLocale is used when no template exists for an account's locale.
const DefaultLocale = "en"

// denied are sprig functions a template may not call: clock, randomness, environment,
// network, unbounded loops, and expensive crypto.
var denied = []string{
	"now", "ago", "date", "dateInZone", "htmlDate", "htmlDateInZone", "durationRound", "dateModify", "mustDateModify",
	"randAlphaNum", "randAlpha", "randAscii", "randNumeric", "randInt", "randBytes", "shuffle", "uuidv4",
	"env", "expandenv", "getHostByName",
	"repeat", "seq", "until", "untilStep",
	"bcrypt", "htpasswd", "genPrivateKey", "derivePassword", "buildCustomCert", "genCA", "genCAWithKey",
	"genSelfSignedCert", "genSelfSignedCertWithKey", "genSignedCert", "genSignedCertWithKey", "encryptAES", "decryptAES",
}

// Funcs is the sandboxed function map templates run with.
func Funcs() template.FuncMap {
	fm := sprig.TxtFuncMap()
	for _, name := range denied {
		delete(fm, name)
	}
	fm["dt"] = func(t time.Time) string {
		if t.IsZero() {
			return "(not set)"
		}
		return t.UTC().Format("Monday, 2 January 2006, 15:04 UTC")
	}
	fm["shortdt"] = func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	}
	// firstset returns the first time that is set: {{ shortdt (firstset .EventTime .ReceivedAt) }}.
	fm["firstset"] = func(ts ...time.Time) time.Time {
		for _, t := range ts {
			if !t.IsZero() {
				return t
			}
		}
		return time.Time{}
	}
	fm["dur"] = HumanDuration
	fm["pluralize"] = func(n int, one, many string) string {
		if n == 1 {
			return one
		}
		return many
	}
	return fm
}

// Renderer renders templates by kind, category and locale.
type Renderer struct {
	tmpl  *template.Template
	names map[string]bool
}

// New parses the embedded templates.
func New() (*Renderer, error) { return NewFS(embedded, "text") }

// NewFS parses templates from fsys under root (for tests and custom template sets). Files are
// named <kind>/<category|default>.<locale>.tmpl.
func NewFS(fsys fs.FS, root string) (*Renderer, error) {
	r := &Renderer{tmpl: template.New("").Funcs(Funcs()).Option("missingkey=error"), names: map[string]bool{}}
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".tmpl") {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		name := strings.TrimSuffix(strings.TrimPrefix(p, root+"/"), ".tmpl")
		if _, err := r.tmpl.New(name).Parse(string(b)); err != nil {
			return fmt.Errorf("template %s: %w", p, err)
		}
		r.names[name] = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(r.names) == 0 {
		return nil, fmt.Errorf("no templates under %s", root)
	}
	return r, nil
}

// Names lists the parsed templates.
func (r *Renderer) Names() []string {
	out := make([]string, 0, len(r.names))
	for n := range r.names {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Has reports whether kind has any template.
func (r *Renderer) Has(kind string) bool {
	for n := range r.names {
		if path.Dir(n) == kind {
			return true
		}
	}
	return false
}

// Pick returns the template used for kind, category and locale: the category's own in the
// locale, then the kind's default in the locale, then the same in DefaultLocale. A locale like
// "de-AT" also tries "de".
func (r *Renderer) Pick(kind, category, locale string) (string, error) {
	for _, loc := range localeChain(locale) {
		for _, base := range []string{category, "default"} {
			if base == "" {
				continue
			}
			name := kind + "/" + base + "." + loc
			if r.names[name] {
				return name, nil
			}
		}
	}
	return "", fmt.Errorf("no template for %s (category %q, locale %q)", kind, category, locale)
}

// Render renders kind for category and locale with data. The text is trimmed, and runs of
// blank lines are folded to one.
func (r *Renderer) Render(kind, category, locale string, data any) (string, error) {
	name, err := r.Pick(kind, category, locale)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := r.tmpl.ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("render %s: %w", name, err)
	}
	return tidy(b.String()), nil
}

func localeChain(locale string) []string {
	locale = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(locale), "_", "-"))
	var out []string
	if locale != "" {
		out = append(out, locale)
		if lang, _, ok := strings.Cut(locale, "-"); ok {
			out = append(out, lang)
		}
	}
	return append(out, DefaultLocale)
}

func tidy(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	out := make([]string, 0, len(lines))
	blank := false
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			if blank {
				continue
			}
			blank = true
		} else {
			blank = false
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// HumanDuration writes a duration for people: "3 days", "12 hours", "90 seconds".
func HumanDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "no time"
	case d%(24*time.Hour) == 0:
		n := int(d / (24 * time.Hour))
		return fmt.Sprintf("%d %s", n, plural(n, "day", "days"))
	case d%time.Hour == 0:
		n := int(d / time.Hour)
		return fmt.Sprintf("%d %s", n, plural(n, "hour", "hours"))
	case d%time.Minute == 0:
		n := int(d / time.Minute)
		return fmt.Sprintf("%d %s", n, plural(n, "minute", "minutes"))
	default:
		n := int(d.Round(time.Second) / time.Second)
		return fmt.Sprintf("%d %s", n, plural(n, "second", "seconds"))
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
