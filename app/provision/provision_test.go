package provision_test

import (
	"strings"
	"testing"
	"time"

	"abusedesk/app/provision"
	"abusedesk/templates"
)

// TestMacrosNeverSpeakForTheDesk: every decision macro writes an internal note (the desk answers
// the customer once it has taken the decision, and says nothing when it refuses it), and none
// greets the customer as if it were the answer.
func TestMacrosNeverSpeakForTheDesk(t *testing.T) {
	r, err := templates.New()
	if err != nil {
		t.Fatal(err)
	}
	titles := map[string]bool{}
	for _, m := range provision.Macros(r, 48*time.Hour, 48*time.Hour) {
		if strings.TrimSpace(m.Title) == "" || titles[m.Title] {
			t.Errorf("decision %s has no macro title of its own (%q)", m.Decision, m.Title)
		}
		titles[m.Title] = true
		if m.Public {
			t.Errorf("macro %q answers the customer in public", m.Title)
		}
		text, err := m.Text(map[string]string{})
		if err != nil {
			t.Fatalf("macro %q: %v", m.Title, err)
		}
		if strings.HasPrefix(strings.TrimSpace(text), "Hello") {
			t.Errorf("macro %q is written to the customer: %q", m.Title, text)
		}
	}
}
