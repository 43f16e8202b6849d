package main

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"abusedesk/domain/abuse"
	"abusedesk/workflows"
)

// TestMessagingCampaignEndToEnd (issue 30): a 7726 forward and a STOP complaint reach the cases
// of the numbers' accounts (in their categories, waiting for a person: someone's words). A
// carrier's 10DLC notice about a campaign, mailed to the desk, waits for a person (a notice in someone's words); confirmed, it opens the campaign's
// case on the messaging customer's account with the campaign's traffic, and the notice asks for
// the opt-in evidence with the figures. With no answer by the deadline the campaign — not the
// account, not a number — is suspended, and the platform's records show its traffic stopped.
func TestMessagingCampaignEndToEnd(t *testing.T) {
	t.Parallel()
	d := startDevIn(t, t.TempDir(), fastPolicy(t, t.TempDir(), map[string]string{
		"response_window: 48h\n    reminders: [1d]": "response_window: 6s\n    reminders: [3s]"}), nil)
	d.mail(plainMail("Messaging Compliance <compliance@carrier.example>", "10DLC compliance notice - campaign CX7K2PQ", "carrier-e2e-1@carrier.example",
		"Our monitoring identified SMS traffic on 10DLC campaign CX7K2PQ (brand BQ4RT7Z) that does not comply with the CTIA Messaging Principles: "+
			"messages from +1 312 555 0142 carry no opt-out language. Provide opt-in evidence and remediate within 5 business days."))
	// A 7726 forward and a person's STOP complaint, each about a number written its own way.
	d.mail(plainMail("Spam Reporting Service <reports@7726.example>", "Spam SMS forwarded to 7726", "e2e-7726-1@7726.example",
		"A mobile subscriber forwarded the following SMS to 7726.\nOriginating number: +44 7700 900123\nMessage: You have won a prize, reply YES"),
		plainMail("Jane <jane@mail.example>", "Texts will not stop", "e2e-stop-1@mail.example",
			"I replied STOP three times to (312) 555-0143 and I still get their promo texts every day."))
	for _, want := range []struct {
		account  string
		category abuse.Category
		phone    string
	}{{"acct-shop", abuse.SMSSpam, "+447700900123"}, {"acct-texts", abuse.OptOut, "+13125550143"}} {
		w := d.waitTriage(workflows.CaseWorkflowID(want.account, want.category), 30*time.Second)
		if len(w.Reports.Recent) == 0 || !slices.Contains(w.Reports.Recent[0].Subjects, abuse.Subject{Kind: abuse.SubjectPhone, Value: want.phone}) {
			t.Errorf("%s's %s case: reports %+v, want the number %s", want.account, want.category, w.Reports.Recent, want.phone)
		}
	}
	caseID := workflows.CaseWorkflowID("acct-texts", abuse.CarrierNotice)
	v := d.waitTriage(caseID, 30*time.Second)
	z := d.sandbox["zendesk"]
	applyMacro(t, z, "agent@desk.example", v.Ticket.ID, "abusedesk: Triage: confirm and notify")
	w := d.waitStatus(caseID, workflows.StatusAwaitingResponse, 30*time.Second)
	campaign := abuse.Scope{Kind: abuse.ScopeCampaign, Value: "CX7K2PQ"}
	if tr := w.Traffic; tr == nil || tr.Identity != campaign || tr.Sent == 0 || tr.Evidence == "" {
		t.Fatalf("the campaign's case shows traffic %+v, want the campaign's records kept as evidence", w.Traffic)
	}
	comments := ticketComments(t, z, w.Ticket.ID)
	if len(comments) == 0 || !comments[0].Public {
		t.Fatalf("no notice on the customer's ticket: %+v", comments)
	}
	notice := comments[0].Body
	for _, want := range []string{"opt-in evidence", "What our records show of the campaign CX7K2PQ", "per 1,000 messages", "sending suspended on the campaign CX7K2PQ"} {
		if !strings.Contains(notice, want) {
			t.Errorf("the notice lacks %q:\n%s", want, notice)
		}
	}
	enforced := d.waitStatus(caseID, workflows.StatusEnforced, 60*time.Second)
	if e := enforced.Enforcement; e == nil || e.Scope == nil || *e.Scope != campaign {
		t.Fatalf("enforcement %+v, want the campaign suspended", enforced.Enforcement)
	}
	for _, a := range d.enforcementActions("acct-texts") {
		if sc, _ := a["scope"].(map[string]any); sc == nil || sc["kind"] != "campaign" {
			t.Errorf("an action on more than the campaign: %v", a)
		}
	}
	// The platform's records: nothing sent from the campaign once the suspension took effect.
	e := d.sandbox["enforcement"]
	since := enforced.Enforcement.AppliedAt.Add(time.Second).UTC().Format(time.RFC3339)
	req, _ := http.NewRequest(http.MethodGet, e["url"].(string)+"/v1/accounts/acct-texts/messaging?subject=campaign:CX7K2PQ&since="+url.QueryEscape(since), nil)
	req.Header.Set("Authorization", "Bearer "+e["token"].(string))
	var records struct {
		Totals struct {
			Sent int `json:"sent"`
		} `json:"totals"`
	}
	time.Sleep(1100 * time.Millisecond) // a period after the action
	d.do(req, &records)
	if records.Totals.Sent != 0 {
		t.Errorf("%d messages sent from the campaign after its suspension", records.Totals.Sent)
	}
}
