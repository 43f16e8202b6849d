package templates

import (
	"fmt"
	"path"
	"strings"
)

// A statement of reasons (DSA Art. 17(3)) has six parts, each a labelled line of the
// enforcement notice: the measure with its scope and duration, the facts, the use of automated
// means, the ground, our own appeal, and the other redress routes. CheckStatement refuses a
// rendered notice that leaves one out — in whichever locale its template was picked.

// statementLabels start each part's line, per locale: measure, facts, automated means,
// ground, appeal, other redress.
var statementLabels = map[string][]string{
	"en": {"Measure:", "Facts:", "Automated means:", "Ground (", "How to appeal:", "Other redress:"},
	"de": {"Maßnahme:", "Sachverhalt:", "Automatisierte Mittel:", "Grundlage (", "Widerspruch:", "Weitere Rechtsbehelfe:"},
}

// StatementParts names the parts' labels, in order, for messages.
var StatementParts = []string{"the measure, its scope and duration", "the facts", "the use of automated means", "the ground", "the appeal", "the other redress routes"}

// Statement is what a statement of reasons must say word for word: the measure, the clause or
// law it rests on, and the redress routes besides our own appeal.
type Statement struct {
	Measure, Ground, OutOfCourt, Judicial string
}

// RenderStatement renders a notice that carries a statement of reasons and checks it is
// whole: the text, or what it leaves out. Every notice of an action goes through it.
func (r *Renderer) RenderStatement(kind, category, locale string, data any, want Statement) (string, error) {
	text, err := r.Render(kind, category, locale, data)
	if err != nil {
		return "", err
	}
	if err := r.CheckStatement(kind, category, locale, text, want); err != nil {
		return "", err
	}
	return text, nil
}

// CheckStatement says what the rendered statement text of kind (for category and locale)
// leaves out: a part whose labelled line is missing or empty, or a value that is not on its
// line. nil when the statement is whole.
func (r *Renderer) CheckStatement(kind, category, locale, text string, want Statement) error {
	name, err := r.Pick(kind, category, locale)
	if err != nil {
		return err
	}
	loc := strings.TrimPrefix(path.Ext(name), ".")
	labels, ok := statementLabels[loc]
	if !ok {
		return fmt.Errorf("template %s: no statement-of-reasons labels for locale %q (templates/statement.go)", name, loc)
	}
	lines := map[int]string{}
	for _, line := range strings.Split(text, "\n") {
		t := strings.TrimSpace(line)
		for i, l := range labels {
			if _, seen := lines[i]; !seen && strings.HasPrefix(t, l) {
				lines[i] = t
			}
		}
	}
	var missing []string
	for i, part := range StatementParts {
		line, ok := lines[i]
		if !ok || len(strings.TrimSpace(strings.TrimPrefix(line, labels[i]))) < 3 {
			missing = append(missing, part)
		}
	}
	for _, v := range []struct {
		part  int
		what  string
		value string
	}{{0, "the measure", want.Measure}, {3, "the clause or law", want.Ground}, {5, "out-of-court dispute settlement", want.OutOfCourt}, {5, "the courts", want.Judicial}} {
		if strings.TrimSpace(v.value) == "" {
			missing = append(missing, StatementParts[v.part]+": no text for "+v.what)
		} else if !strings.Contains(lines[v.part], v.value) {
			missing = append(missing, fmt.Sprintf("%s: %q", StatementParts[v.part], v.value))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the statement of reasons of %s leaves out %s", name, strings.Join(missing, ", "))
	}
	return nil
}
