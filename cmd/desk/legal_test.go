package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"abusedesk/devenv/sandbox"
	"abusedesk/domain/ticket"
	"abusedesk/workflows"
)

// TestLegalMatterLifecycle walks a legal matter in desk dev as the legal team does, with the
// Zendesk macros: a preservation request is acknowledged to the police (in the ticket, to its
// requester), validated and preserved, and stays open; a production order from the same
// detective joins the same matter with its own receipt; the records are disclosed, the
// preservation released, the matter closed with the final answer. The customer hears nothing,
// and the police force's only mail is the receipts and the answer.
func TestLegalMatterLifecycle(t *testing.T) {
	t.Parallel()
	skipShort(t)
	dir := t.TempDir()
	d := startDevIn(t, dir, leadsPolicy(t), nil)
	z := d.sandbox["zendesk"]
	const detective = "jane.roe@police.example"
	id := workflows.CaseIDFor("acct-shop", "legal-request", workflows.MatterKey(detective, ""))
	d.mail(plainMail("Det. Jane Roe <"+detective+">", "Preservation request - reference 2026-7003", "pres-life-1@police.example",
		"Pursuant to 18 U.S.C. 2703(f) we request that you preserve all records associated with the IP address 192.0.2.10\n"+
			"for the period 1 to 28 February 2026, pending legal process. Please confirm receipt of this request."))
	d.waitStatus(id, workflows.StatusLegalReview, 30*time.Second)
	waitView := func(what string, ok func(workflows.CaseView) bool) workflows.CaseView {
		t.Helper()
		for range 150 {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			v, err := d.cases.Status(ctx, id)
			cancel()
			if err == nil && v.Legal != nil && ok(*v) {
				return *v
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Fatalf("the matter never got to %s", what)
		return workflows.CaseView{}
	}
	v := waitView("its restricted ticket", func(v workflows.CaseView) bool { return v.Ticket.ID != "" }) // the ticket follows the status
	legalTicket := func(what string, ok func(zendeskTicket) bool) zendeskTicket {
		t.Helper()
		return d.waitTicket(func(tk zendeskTicket) bool { return fmt.Sprint(tk.ID) == v.Ticket.ID && ok(tk) }, what)
	}
	publicOf := func(tk zendeskTicket) []string {
		var out []string
		for _, c := range tk.Comments {
			if c.Public {
				out = append(out, c.Body)
			}
		}
		return out
	}
	legalTicket("the receipt", func(tk zendeskTicket) bool { return len(publicOf(tk)) == 1 })

	why := func(text string) func(string) string {
		return func(body string) string {
			before, _, _ := strings.Cut(body, "Why:")
			return before + "Why: " + text
		}
	}
	applyMacro(t, z, "legal@desk.example", v.Ticket.ID, "abusedesk: Legal: validate the request", why("Det. Roe called back on the force's switchboard; 18 U.S.C. 2703(f); US; subscriber records"))
	waitView("validated", func(v workflows.CaseView) bool { return v.Legal != nil && v.Legal.Stage == workflows.LegalValidated })
	applyMacro(t, z, "legal@desk.example", v.Ticket.ID, "abusedesk: Legal: preserve")
	pv := waitView("preserved", func(v workflows.CaseView) bool { return v.Legal.Stage == workflows.LegalPreserved })
	if pv.Status != workflows.StatusLegalReview || pv.Legal.Preservation == nil || pv.Legal.Preservation.Until.Sub(pv.Legal.Preservation.Since) != 90*24*time.Hour {
		t.Fatalf("after preserve: %s %+v; want the matter open, preserved 90 days", pv.Status, pv.Legal.Preservation)
	}

	// The production order, from the same detective, joins the matter.
	d.mail(plainMail("Det. Jane Roe <"+detective+">", "Production order - reference 2026-7003", "pres-life-2@police.example",
		"Further to our preservation request, please find attached the court order for the production of the subscriber records\n"+
			"associated with the IP address 192.0.2.10. Please confirm receipt."))
	jv := waitView("the order joined", func(v workflows.CaseView) bool { return v.Legal.Requests == 2 })
	if jv.CaseNumber != v.CaseNumber || jv.Legal.Answered {
		t.Errorf("the order: case %s (want %s), answered %v (want a new due time)", jv.CaseNumber, v.CaseNumber, jv.Legal.Answered)
	}
	legalTicket("the order's receipt", func(tk zendeskTicket) bool { return len(publicOf(tk)) == 2 })
	applyMacro(t, z, "legal@desk.example", v.Ticket.ID, "abusedesk: Legal: disclose", why("subscriber records produced under the order of 5 March 2026"))
	waitView("produced", func(v workflows.CaseView) bool { return v.Legal.Disclosures == 1 })
	applyMacro(t, z, "legal@desk.example", v.Ticket.ID, "abusedesk: Legal: release preservation")
	waitView("released", func(v workflows.CaseView) bool { return !v.Legal.Preservation.ReleasedAt.IsZero() })
	applyMacro(t, z, "legal@desk.example", v.Ticket.ID, "abusedesk: Legal: close matter", why("The subscriber records were produced under your order of 5 March 2026."))
	closed := d.waitStatus(id, workflows.StatusResolved, 30*time.Second)
	if closed.Outcome != workflows.OutcomeDisclosed {
		t.Errorf("outcome %s, want disclosed", closed.Outcome)
	}
	tk := legalTicket("the final answer", func(tk zendeskTicket) bool { return len(publicOf(tk)) == 3 })
	public := publicOf(tk)
	if tk.Recipient != sandbox.LegalAddress {
		t.Errorf("the legal ticket's mail goes from %q, want the legal team's address %s", tk.Recipient, sandbox.LegalAddress)
	}
	if !strings.EqualFold(tk.Requester, detective) || !strings.Contains(public[0], "acknowledge receipt") || !strings.Contains(public[1], "request 2 on this matter") ||
		!strings.Contains(public[2], "produced under your order of 5 March 2026") {
		t.Errorf("to %s, public comments %q; want the two receipts and the answer, to the detective", tk.Requester, public)
	}
	for _, p := range public {
		if strings.Contains(p, "acct-shop") || strings.Contains(p, "Nothing is sent to the customer") {
			t.Errorf("a message to the police names the account or the desk's internals: %q", p)
		}
	}
	// A spam case that is really a police matter moves into legal with one macro: its ticket
	// then quotes none of it, and the customer heard nothing more.
	spam := d.submitReports("acct-bank", "spam", "police-in-disguise-1")
	sv := d.waitStatus(spam, workflows.StatusAwaitingResponse, 30*time.Second)
	applyMacro(t, z, "agent@desk.example", sv.Ticket.ID, "abusedesk: Move to legal (confidential)")
	if moved := d.waitStatus(spam, workflows.StatusResolved, 30*time.Second); moved.Outcome != workflows.OutcomeReclassified || len(moved.Reports.Recent) != 0 {
		t.Errorf("the moved case: %s, %d reports shown; want reclassified, none", moved.Outcome, len(moved.Reports.Recent))
	}
	matter := d.waitStatus(workflows.CaseIDFor("acct-bank", "legal-request", workflows.MatterKey("fbl@isp.example", "")), workflows.StatusLegalReview, 30*time.Second)
	if matter.Reports.Count != 1 {
		t.Errorf("the legal matter holds %d reports, want the moved one", matter.Reports.Count)
	}
	spamTicket := d.waitTicket(func(tk zendeskTicket) bool {
		return fmt.Sprint(tk.ID) == sv.Ticket.ID && strings.Contains(tk.Comments[len(tk.Comments)-1].Body, "moved out of it (confidential)")
	}, "the moved case's ticket")
	for _, c := range spamTicket.Comments {
		if strings.Contains(c.Body, "police-in-disguise-1") || strings.Contains(c.Body, "fbl@isp.example") {
			t.Errorf("the moved case's ticket still quotes the report: %q", reportsOneLine(c.Body))
		}
	}
	if p := publicOf(spamTicket); len(p) != 1 {
		t.Errorf("the customer got %d messages, want the one notice sent before the move", len(p))
	}

	// Nobody else got a word: a legal matter's ticket (the moved one's too) carries only the
	// receipts and answers to its requester, and no other ticket a public comment.
	for _, other := range d.tickets() {
		tags := strings.Join(other.Tags, " ")
		if other.ID == spamTicket.ID || other.ID == tk.ID || strings.Contains(tags, "abusedesk_reporter") {
			continue
		}
		for _, p := range publicOf(other) {
			if strings.Contains(tags, ticket.TagLegal) && strings.Contains(p, "acknowledge receipt") {
				continue
			}
			t.Errorf("ticket #%d to %s got a public comment: %q", other.ID, other.Requester, reportsOneLine(p))
		}
	}

	// The transparency report counts the orders: the preservation request (an Art. 10 order,
	// acknowledged and given effect) and the moved matter, which says not what it asks.
	var report struct {
		Orders struct {
			ForInformation int    `json:"for_information"`
			Unclassified   int    `json:"unclassified"`
			Receipt        string `json:"median_time_to_confirm_receipt"`
		} `json:"orders"`
	}
	today := time.Now().UTC().Format(time.DateOnly)
	for i := 0; i < 300; i++ {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"report", "transparency", "--data-dir", dir, "--from", today, "--to", today, "--format", "json"}, &out, io.Discard, noEnv); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(out.Bytes(), &report); err != nil {
			t.Fatal(err)
		}
		if report.Orders.ForInformation == 1 && report.Orders.Unclassified == 1 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if report.Orders.ForInformation != 1 || report.Orders.Unclassified != 1 || report.Orders.Receipt == "" {
		t.Errorf("orders %+v, want the preservation (acknowledged) and the moved matter", report.Orders)
	}
}

// TestCSAMTakesDownTheResource: a hotline's CSAM notice, mailed in, opens a confidential matter
// and goes to the leads for the takedown; the lead's approval takes down each reported URL at
// the enforcement API (one takedown each, on the customer's own host) and not the account; the
// recorded reason is what happened; the customer hears nothing.
func TestCSAMTakesDownTheResource(t *testing.T) {
	t.Parallel()
	skipShort(t)
	p := fastPolicy(t, t.TempDir(), map[string]string{approverPolicy: "  users: []\n  groups: [SLEADS]"})
	d := startDev(t, p)
	urls := []string{"http://www.shop.example/gallery/img-1044.jpg", "http://www.shop.example/gallery/img-1045.jpg"}
	d.mail(plainMail("Hotline Analyst <analyst@hotline.example>", "Child sexual abuse material hosted on your network", "csam-takedown-1@hotline.example",
		"Our analysts confirmed child sexual abuse material (CSAM) at the following locations, hosted on your network:\n\n"+
			urls[0]+"\n"+urls[1]+"\n\nPlease remove it without delay and preserve the evidence. Do not notify the account holder."))
	var caseID string
	for range 300 {
		for _, s := range d.accountCases("acct-shop") {
			if s.Category == "csam" {
				caseID = s.CaseID
			}
		}
		if caseID != "" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if caseID == "" {
		t.Fatal("the CSAM notice opened no csam case for acct-shop")
	}
	v := d.waitStatus(caseID, workflows.StatusPendingApproval, 30*time.Second)
	ch, msg := d.approvalMessage(v.CaseNumber)
	d.slackSandbox("POST", "click", map[string]string{"channel": ch, "ts": msg.TS, "action_id": "abusedesk_approve", "user": "ULEAD1"}, nil)
	enforced := d.waitStatus(caseID, workflows.StatusEnforced, 30*time.Second)
	if e := enforced.Enforcement; e == nil || e.Type != "takedown" || len(e.Also) != 1 {
		t.Fatalf("enforcement %+v, want a takedown of each of the two URLs; reports %+v", e, enforced.Reports.Recent)
	}
	var taken []string
	for _, a := range d.enforcementActions("acct-shop") {
		if a["type"] != "takedown" {
			t.Errorf("an action on acct-shop that is not a takedown: %v", a)
			continue
		}
		sc, _ := a["scope"].(map[string]any)
		if sc["kind"] != "resource" {
			t.Errorf("a takedown not scoped to a resource: %v", a)
		}
		taken = append(taken, fmt.Sprint(sc["value"]))
		if r := fmt.Sprint(a["reason"]); strings.Contains(r, "no answer") || !strings.Contains(r, "no notice to the customer") {
			t.Errorf("the recorded reason %q is not what happened", r)
		}
	}
	slices.Sort(taken)
	if !slices.Equal(taken, urls) {
		t.Errorf("taken down %v, want %v", taken, urls)
	}
	if p := d.publicTo("ops@shop.example", nil); len(p) != 0 {
		t.Errorf("the customer got %d messages about a CSAM notice: %q", len(p), p)
	}
}
