package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"abusedesk/domain/abuse"
	"abusedesk/workflows"
)

// TestMessagingCampaignEndToEnd (issue 30): a carrier's 10DLC notice about a campaign, mailed to
// the desk, waits for a person (a notice in someone's words); confirmed, it opens the campaign's
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
	caseID := workflows.CaseWorkflowID("acct-texts", abuse.CarrierNotice)
	v := d.waitTriage(caseID, 30*time.Second)
	z := d.sandbox["zendesk"]
	applyMacro(t, z, "agent@desk.example", v.Ticket.ID, "abusedesk: Triage: confirm and notify")
	w := d.waitStatus(caseID, workflows.StatusAwaitingResponse, 30*time.Second)
	campaign := abuse.Scope{Kind: abuse.ScopeCampaign, Value: "CX7K2PQ"}
	if tr := w.Traffic; tr == nil || tr.Identity != campaign || tr.Sent == 0 || tr.Evidence == "" {
		t.Fatalf("the campaign's case shows traffic %+v, want the campaign's records kept as evidence", w.Traffic)
	}
	var comments struct {
		Comments []struct {
			Body   string `json:"body"`
			Public bool   `json:"public"`
		} `json:"comments"`
	}
	zendeskAPI(t, z, "agent@desk.example", "GET", fmt.Sprintf("/api/v2/tickets/%s/comments.json", w.Ticket.ID), nil, &comments)
	if len(comments.Comments) == 0 || !comments.Comments[0].Public {
		t.Fatalf("no notice on the customer's ticket: %+v", comments)
	}
	notice := comments.Comments[0].Body
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
