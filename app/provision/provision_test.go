package provision_test

import (
	"strings"
	"testing"
	"time"

	"abusedesk/app/provision"
	"abusedesk/domain/ticket"
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
	titles, agents := map[string]bool{}, 0
	for _, m := range provision.Macros(r, 48*time.Hour, 48*time.Hour) {
		if strings.TrimSpace(m.Title) == "" || titles[m.Title] {
			t.Errorf("decision %s has no macro title of its own (%q)", m.Decision, m.Title)
		}
		titles[m.Title] = true
		if m.Public {
			t.Errorf("macro %q answers the customer in public", m.Title)
		}
		text, err := m.Text(map[string]string{ticket.PlaceholderAgent: "<AGENT>", ticket.PlaceholderRequester: "<CUSTOMER>", ticket.FieldCaseNumber: "<NUMBER>"})
		if err != nil {
			t.Fatalf("macro %q: %v", m.Title, err)
		}
		if !strings.Contains(text, "<NUMBER>") {
			t.Errorf("macro %q does not name the case through the system's placeholder: %q", m.Title, text)
		}
		if strings.Contains(text, "{{") {
			t.Errorf("macro %q writes a placeholder of its own instead of the system's: %q", m.Title, text)
		}
		agents += strings.Count(text, "<AGENT>")
		if strings.HasPrefix(strings.TrimSpace(text), "Hello") {
			t.Errorf("macro %q is written to the customer: %q", m.Title, text)
		}
	}
	if agents == 0 {
		t.Error("no macro names the agent through the system's placeholder")
	}
}
