package playground

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"abusedesk/devenv/demo"
	"abusedesk/devenv/hosting"
	"abusedesk/domain/abuse"
	"abusedesk/integrations/reports"
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
// triage, the legal team's on a legal matter, and the case macros otherwise; Move to legal on
// any case that is not one.
func TestMacrosForTheState(t *testing.T) {
	s := &Sandbox{Macros: MacroTitles()}
	for status, want := range map[workflows.Status][]workflows.Decision{
		workflows.StatusNeedsTriage:      append(slices.Clone(workflows.TriageDecisions), workflows.DecisionMoveToLegal),
		workflows.StatusLegalReview:      workflows.LegalDecisions,
		workflows.StatusAwaitingResponse: append(slices.Clone(workflows.AgentDecisions[:8]), workflows.DecisionMoveToLegal), // not the hand-off: it has a form of its own
	} {
		got := s.macrosFor(&workflows.CaseView{Status: status})
		var titles []string
		for _, d := range want {
			titles = append(titles, macroTitle(d))
		}
		if !slices.Equal(got, titles) {
			t.Errorf("%s: %q, want %q", status, got, titles)
		}
	}
	standing := &workflows.CaseView{Status: workflows.StatusClosed, Outcome: workflows.OutcomeEnforced, Enforcement: &workflows.Enforcement{ActionID: "a1"}}
	if got := s.macrosFor(standing); !slices.Equal(got, []string{macroTitle(workflows.DecisionGrantReinstatement), macroTitle(workflows.DecisionDenyReinstatement)}) {
		t.Errorf("closed with the action standing: %q", got)
	}
	standing.Enforcement.LiftedAt = time.Now()
	if got := s.macrosFor(standing); len(got) != 0 {
		t.Errorf("closed with the action lifted: %q", got)
	}
}

// fakeCases answers the status of one case.
type fakeCases struct{ v *workflows.CaseView }

func (f fakeCases) Status(context.Context, string) (*workflows.CaseView, error) { return f.v, nil }

// TestTakeThePageDown: a case whose reports name a page offers the customer's takedown; the
// button takes every reported page down on the hosting stand-in, which then answers 404.
func TestTakeThePageDown(t *testing.T) {
	h := hosting.New(nil, "192.0.2.25")
	srv := httptest.NewServer(h.Handler())
	defer srv.Close()
	v := &workflows.CaseView{CaseID: "case/acct-shop/phishing", CaseNumber: "TS-1", Status: workflows.StatusVerifying,
		Reports: workflows.ReportStats{Recent: []workflows.ReportSummary{{Subjects: []abuse.Subject{{Kind: abuse.SubjectURL, Value: "http://shop.example/a"}, {Kind: abuse.SubjectIP, Value: "192.0.2.25"}}}, {Subjects: []abuse.Subject{{Kind: abuse.SubjectURL, Value: "http://shop.example/b"}}}}}}
	sb := &Sandbox{Cases: fakeCases{v}, HostingURL: srv.URL}
	acts := sb.actionsFor(v)
	if !slices.ContainsFunc(acts, func(a sandboxAction) bool { return a.Do == "takedown" && a.NoText }) {
		t.Fatalf("actions %+v, want the takedown", acts)
	}
	if (&Sandbox{}).actionsFor(v) != nil {
		t.Error("a takedown offered without the hosting stand-in")
	}
	req := httptest.NewRequest("POST", "/sandbox/cases/case/acct-shop/phishing", strings.NewReader(url.Values{"do": {"takedown"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetPathValue("id", "case/acct-shop/phishing")
	rec := httptest.NewRecorder()
	sb.act(rec, req)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("act answered %d: %s", rec.Code, rec.Body)
	}
	for _, page := range []string{"http://shop.example/a", "http://shop.example/b"} {
		proxied := httptest.NewRequest("GET", page, nil)
		out := httptest.NewRecorder()
		h.Handler().ServeHTTP(out, proxied)
		if out.Code != http.StatusNotFound {
			t.Errorf("%s answers %d after the takedown, want 404", page, out.Code)
		}
	}
}

// TestPastedTextBecomesAMail: free text pasted on the Sandbox page reaches the mailbox as the
// body of a mail (it used to be one malformed header line and an empty message); a message or
// X-ARF JSON pasted whole goes as it is.
func TestPastedTextBecomesAMail(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	text := "203.0.113.7 keeps sending us spam\nsince this morning"
	m, err := mail.ReadMessage(bytes.NewReader(asMessage(text, now)))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(m.Body)
	if !strings.Contains(string(body), "203.0.113.7 keeps sending us spam\r\nsince this morning") || m.Header.Get("Subject") != "203.0.113.7 keeps sending us spam" || m.Header.Get("From") == "" {
		t.Errorf("free text as a mail: %q / %q", m.Header, body)
	}
	for _, whole := range []string{"From: a@b.example\nSubject: spam\n\nbody", `{"Version": "4.0.1"}`} {
		if got := string(asMessage(whole, now)); got != whole {
			t.Errorf("%q pasted whole became %q", whole, got)
		}
	}
}
