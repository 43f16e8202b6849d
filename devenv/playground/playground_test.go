package playground

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"abusedesk/devenv/demo"
	"abusedesk/integrations/reports"
	"abusedesk/internal/provision"
	"abusedesk/workflows"
)

// TestUniqueMakesANewReport: a sample sent twice is two reports — the parser sees a new ID
// each time, and everything else the same.
func TestUniqueMakesANewReport(t *testing.T) {
	p := reports.New(reports.Options{})
	for _, s := range demo.Samples() {
		first, second := unique(s.Raw), unique(s.Raw)
		a, b := p.Parse(first), p.Parse(second)
		if a.Kind != b.Kind {
			t.Fatalf("%s: kinds %s and %s", s.Name, a.Kind, b.Kind)
		}
		if a.Kind != reports.KindReport {
			continue
		}
		if a.Reports[0].ID == b.Reports[0].ID {
			t.Errorf("%s: both copies have report ID %s", s.Name, a.Reports[0].ID)
		}
		orig := p.Parse(s.Raw)
		if a.Reports[0].Category != orig.Reports[0].Category || !equalJSON(a.Reports[0].SourceIPs, orig.Reports[0].SourceIPs) {
			t.Errorf("%s: the copy reads differently: %+v vs %+v", s.Name, a.Reports[0], orig.Reports[0])
		}
	}
	// An mbox separator stays on the first line.
	got := unique([]byte("From someone Mon Jan  1 00:00:00 2026\nSubject: x\n\nbody\n"))
	if !bytes.HasPrefix(got, []byte("From someone")) || !bytes.Contains(got, []byte("\nMessage-ID: <sandbox-")) {
		t.Errorf("mbox sample: %q", got)
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// TestMacrosForTheState: the panel offers the triage gate's macros while a case waits for
// triage, the legal team's on a legal matter, and the case macros otherwise.
func TestMacrosForTheState(t *testing.T) {
	s := &Sandbox{Macros: provision.MacroTitles()}
	for status, want := range map[workflows.Status][]workflows.Decision{
		workflows.StatusNeedsTriage:      workflows.TriageDecisions,
		workflows.StatusLegalReview:      workflows.LegalDecisions,
		workflows.StatusAwaitingResponse: workflows.AgentDecisions[:8],
	} {
		got := s.macrosFor(&workflows.CaseView{Status: status})
		var titles []string
		for _, d := range want {
			titles = append(titles, provision.MacroTitleOf(d))
		}
		if !slices.Equal(got, titles) {
			t.Errorf("%s: %q, want %q", status, got, titles)
		}
	}
}
