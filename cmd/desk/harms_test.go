package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"abusedesk/app/cases"
	"abusedesk/devenv/sandbox"
	"abusedesk/devenv/zendesksandbox"
	"abusedesk/domain/abuse"
	"abusedesk/workflows"
)

// The harms issue 13 measured, each reproduced in the sandbox with a hand-written report and
// now ending safely. One desk dev runs them all; each part checks what reached customers (every
// ticket's public comments), what the enforcement API applied, and which cases exist.

// plainMail is a one-part mail.
func plainMail(from, subject, id, body string) []byte {
	return fmt.Appendf(nil, "From: %s\r\nTo: abuse@provider.example\r\nSubject: %s\r\nMessage-ID: <%s>\r\nDate: "+mailDate+"\r\n\r\n%s\r\n",
		from, subject, id, strings.ReplaceAll(body, "\n", "\r\n"))
}

// zendeskTicket is a sandbox ticket with its requester and comments.
type zendeskTicket struct {
	ID          int64           `json:"id"`
	Subject     string          `json:"subject"`
	RequesterID int64           `json:"requester_id"`
	GroupID     int64           `json:"group_id"`
	Recipient   string          `json:"recipient"`
	Tags        []string        `json:"tags"`
	Requester   string          `json:"-"`
	Comments    []ticketComment `json:"-"`
}

// tickets lists every sandbox ticket with its requester's address and its comments.
func (d *devDesk) tickets() []zendeskTicket {
	d.t.Helper()
	z := d.sandbox["zendesk"]
	var list struct {
		Tickets []zendeskTicket `json:"tickets"`
	}
	zendeskAPI(d.t, z, "agent@desk.example", "GET", "/api/v2/tickets.json?per_page=100", nil, &list)
	for i := range list.Tickets {
		tk := &list.Tickets[i]
		var u struct {
			User struct {
				Email string `json:"email"`
			} `json:"user"`
		}
		zendeskAPI(d.t, z, "agent@desk.example", "GET", fmt.Sprintf("/api/v2/users/%d", tk.RequesterID), nil, &u)
		tk.Requester = u.User.Email
		tk.Comments = ticketComments(d.t, z, strconv.FormatInt(tk.ID, 10))
	}
	return list.Tickets
}

// publicTo returns the public comments (emails) sent to an address, except on the tickets in
// skip.
func (d *devDesk) publicTo(addr string, skip map[int64]bool) []string {
	var out []string
	for _, tk := range d.tickets() {
		if !strings.EqualFold(tk.Requester, addr) || skip[tk.ID] {
			continue
		}
		for _, c := range tk.Comments {
			if c.Public {
				out = append(out, fmt.Sprintf("#%d: %s", tk.ID, reportsOneLine(c.Body)))
			}
		}
	}
	return out
}

func reportsOneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}

// accountCases lists an account's cases (every incident).
func (d *devDesk) accountCases(account string) []cases.Summary {
	d.t.Helper()
	list, _, err := d.cases.List(context.Background(), workflows.SearchAccount.GetName()+" = "+cases.Quote(account), 50, nil)
	if err != nil {
		d.t.Fatal(err)
	}
	return list
}

// accountCasesByID lists every incident of one case workflow ID.
func (d *devDesk) accountCasesByID(caseID string) []cases.Summary {
	d.t.Helper()
	list, _, err := d.cases.List(context.Background(), "WorkflowId = "+cases.Quote(caseID), 50, nil)
	if err != nil {
		d.t.Fatal(err)
	}
	return list
}

// waitClosed waits until the case's latest run has completed.
func (d *devDesk) waitClosed(caseID string) {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var res workflows.CaseResult
	if err := d.tc.GetWorkflow(ctx, caseID, "").Get(ctx, &res); err != nil {
		d.t.Fatalf("%s did not complete: %v", caseID, err)
	}
}

// waitTicket waits for a ticket that match accepts.
func (d *devDesk) waitTicket(match func(zendeskTicket) bool, what string) zendeskTicket {
	d.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, tk := range d.tickets() {
			if match(tk) {
				return tk
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	d.t.Fatalf("no ticket for %s", what)
	return zendeskTicket{}
}

// waitSlack waits for a message naming text in a sandbox Slack channel.
func (d *devDesk) waitSlack(channel, text string) {
	d.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var h struct {
			Messages []slackMessage `json:"messages"`
		}
		d.slackAPI("conversations.history", map[string]string{"channel": channel}, &h)
		for _, m := range h.Messages {
			if strings.Contains(m.Text, text) {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	d.t.Fatalf("no message naming %s in #%s", text, channel)
}

// resentSpam is a school's complaint, sent twice: the second time forwarded, under a new
// Message-ID.
const resentSpam = "Since 06:00 UTC our users receive spam from 203.0.113.9, about 300 messages of the same loan offer.\nPlease stop your customer."

func TestMeasuredHarmsEndSafely(t *testing.T) {
	t.Parallel()
	p := fastPolicy(t, t.TempDir(), map[string]string{"timeout: 8h": "timeout: 2s"})
	d := startDev(t, p)
	customers := []string{"ops@shop.example", "noc@bank.example", "admin@again.example"}
	var deliberate []string // cases this test opens on purpose (they notice their customer)

	// Everything is mailed at once; each part below waits for its own outcome.
	d.mail(
		plainMail("Det. Jane Roe <jane.roe@police.example>", "Preservation request - reference 2026-4411", "pres-1@police.example",
			"Pursuant to 18 U.S.C. 2703(f) we request that you preserve all records, including subscriber information and connection logs,\n"+
				"associated with the IP address 192.0.2.10 for the period 1 to 28 February 2026, pending legal process.\n\n"+
				"Please do NOT disclose this request to the subscriber.\n\nDet. Jane Roe, Cyber Crime Unit"),
		plainMail("scanner@cert.example", "Open DNS resolver on your network", "dns-1@cert.example",
			"Our scans found an open DNS resolver at 192.0.2.11 (UDP port 53) that answers recursive queries from anywhere.\n"+
				"Open resolvers can be abused for DNS amplification attacks. Please restrict recursion to your own clients."),
		plainMail("notify@cert.example", "Vulnerable Microsoft Exchange server (CVE-2021-26855)", "exch-1@cert.example",
			"We identified a vulnerable Microsoft Exchange server at 198.51.100.20 affected by ProxyLogon (CVE-2021-26855). Please patch it."),
		plainMail("Ops <ops@shop.example>", "Our mail is blocked - please help", "blocked-1@shop.example",
			"Hi, our mail server 192.0.2.12 is listed on a blocklist and our mail is blocked by several recipients since this morning.\n"+
				"Can you help us get delisted?"),
		plainMail("Admin <admin@victim.example>", "DDoS attack", "ddos-1@victim.example",
			"My server 192.0.2.20 is being flooded since 08:00 UTC with SYN packets from 203.0.113.9. Please stop this attack."),
		plainMail("Postmaster <postmaster@school.example>", "Spam from your network", "spam-1@school.example", resentSpam),
		plainMail("Postmaster <postmaster@school.example>", "Fwd: Spam from your network", "spam-1-again@school.example", resentSpam),
	)

	t.Run("police preservation request", func(t *testing.T) {
		// Was: a public notice to the customer quoting the request, then a throttle. Now a
		// legal matter: a restricted ticket in the legal group, the legal channel alerted.
		id := workflows.CaseIDFor("acct-shop", "legal-request", workflows.MatterKey("jane.roe@police.example", ""))
		v := d.waitStatus(id, workflows.StatusLegalReview, 30*time.Second)
		for i := 0; i < 100 && (v.Legal == nil || len(v.Legal.Held) == 0); i++ {
			time.Sleep(100 * time.Millisecond) // the ticket and the hold follow the status
			v = d.waitStatus(id, workflows.StatusLegalReview, 5*time.Second)
		}
		tk := d.waitTicket(func(tk zendeskTicket) bool { return fmt.Sprint(tk.ID) == v.Ticket.ID }, "the legal ticket")
		if tk.GroupID != zendesksandbox.GroupLegal || !strings.EqualFold(tk.Requester, "jane.roe@police.example") {
			t.Errorf("legal ticket #%d in group %d from %s, want the legal group, from the requester", tk.ID, tk.GroupID, tk.Requester)
		}
		// Its only public comment (an email to its requester, the police) is the
		// acknowledgement of receipt: nothing of the matter goes anywhere else.
		for _, c := range tk.Comments {
			if c.Public && !strings.Contains(c.Body, "acknowledge receipt") {
				t.Errorf("the legal ticket #%d has a public comment besides the receipt: %q", tk.ID, reportsOneLine(c.Body))
			}
		}
		if v.Legal == nil || len(v.Legal.Held) == 0 {
			t.Errorf("legal state %+v, want the evidence held", v.Legal)
		}
		d.waitSlack(sandbox.LegalChannel, v.CaseNumber)
	})
	t.Run("open resolver and vulnerable Exchange", func(t *testing.T) {
		// Was: a "network scanning" notice and a throttle; a throttle of the strategic bank.
		// Now advisories — and these free-form ones wait for triage before any advice goes out.
		d.waitStatus(workflows.CaseWorkflowID("acct-shop", "vulnerable"), workflows.StatusNeedsTriage, 30*time.Second)
		d.waitStatus(workflows.CaseWorkflowID("acct-bank", "vulnerable"), workflows.StatusNeedsTriage, 30*time.Second)
	})
	t.Run("customer asks for help", func(t *testing.T) {
		// Was: a report against the customer, ending in a throttle. Now a support ticket.
		v := d.waitStatus(workflows.CaseWorkflowID("acct-shop", "deliverability"), workflows.StatusUnderReview, 30*time.Second)
		tk := d.waitTicket(func(tk zendeskTicket) bool { return fmt.Sprint(tk.ID) == v.Ticket.ID }, "the support ticket")
		if tk.GroupID != zendesksandbox.GroupSupport || !strings.EqualFold(tk.Requester, "ops@shop.example") {
			t.Errorf("support ticket #%d in group %d from %s, want the support group, from the customer", tk.ID, tk.GroupID, tk.Requester)
		}
	})
	t.Run("victim named first", func(t *testing.T) {
		// Was: the case went to the victim's account. Now the attacker's account has a case,
		// and a one-person complaint waits for triage with nothing sent.
		v := d.waitStatus(workflows.CaseWorkflowID("acct-again", "dos"), workflows.StatusNeedsTriage, 30*time.Second)
		if v.Triage == nil || !strings.Contains(v.Triage.Reason, "unsure") {
			t.Errorf("triage %+v, want the parser's doubt as the reason", v.Triage)
		}
	})
	t.Run("the same complaint under a new Message-ID", func(t *testing.T) {
		// Was: the same evidence re-sent with a new Message-ID counted as a second report (and,
		// after a close, opened a new incident). Now it is one report and a duplicate.
		caseID := workflows.CaseWorkflowID("acct-again", "spam")
		var v *workflows.CaseView
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if v, _ = d.cases.Status(context.Background(), caseID); v != nil && v.Reports.Count+v.Reports.Duplicates >= 2 {
				break
			}
		}
		if v == nil || v.Reports.Count != 1 || v.Reports.Duplicates != 1 {
			t.Fatalf("the complaint and its copy: %+v, want one report and one duplicate", v)
		}
	})
	t.Run("strategic account at approval timeout", func(t *testing.T) {
		// Was: enforced when nobody approved in time.
		caseID := d.submitReports("acct-bank", "spam", "bank-1")
		deliberate = append(deliberate, caseID)
		deadline := time.Now().Add(40 * time.Second)
		var v *workflows.CaseView
		for time.Now().Before(deadline) {
			if v, _ = d.cases.Status(context.Background(), caseID); v != nil && v.Approval != nil && v.Approval.Holding {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if v == nil || v.Status != workflows.StatusPendingApproval || v.Approval == nil || !v.Approval.Holding {
			t.Fatalf("strategic phishing case after the approval timeouts: %+v", v)
		}
	})
	t.Run("resent report and case numbers", func(t *testing.T) {
		// Was: the same report again opened a new case with the same number, and the earlier
		// incident could no longer be reached.
		caseID := d.submitReports("acct-shop", "spam", "xarf-77")
		deliberate = append(deliberate, caseID)
		first := d.waitStatus(caseID, workflows.StatusAwaitingResponse, 30*time.Second)
		if _, err := d.cases.Decide(context.Background(), caseID, zendeskAgent(t, d.sandbox["zendesk"], "agent@desk.example", workflows.DecisionResolve)); err != nil {
			t.Fatal(err)
		}
		d.waitClosed(caseID)
		d.submitReports("acct-shop", "spam", "xarf-77")
		dup := d.waitStatus(caseID, workflows.StatusClosed, 30*time.Second)
		d.waitClosed(caseID)
		if dup.Outcome != workflows.OutcomeDuplicate || dup.Ticket.ID != "" {
			t.Errorf("the resent report: outcome %s, ticket #%s; want duplicate, no ticket", dup.Outcome, dup.Ticket.ID)
		}
		d.submitReports("acct-shop", "spam", "xarf-78")
		third := d.waitStatus(caseID, workflows.StatusAwaitingResponse, 30*time.Second)
		numbers := map[string]bool{first.CaseNumber: true, dup.CaseNumber: true, third.CaseNumber: true}
		if len(numbers) != 3 {
			t.Errorf("incident numbers %s, %s, %s; want three different", first.CaseNumber, dup.CaseNumber, third.CaseNumber)
		}
		// The first incident is still reachable by its number.
		s, err := d.cases.FindByNumber(context.Background(), first.CaseNumber)
		if err != nil || s == nil || s.Running {
			t.Fatalf("find %s: %+v %v", first.CaseNumber, s, err)
		}
		if v, err := d.cases.StatusRun(context.Background(), s.CaseID, s.RunID); err != nil || v.Outcome != workflows.OutcomeResolved {
			t.Errorf("the first incident by its number: %+v %v", v, err)
		}
		if _, err := d.cases.Decide(context.Background(), caseID, zendeskAgent(t, d.sandbox["zendesk"], "agent@desk.example", workflows.DecisionResolve)); err != nil {
			t.Fatal(err)
		}
	})

	// Across all of it: no customer got a word except from the cases this test opened on
	// purpose, nothing was enforced, and no other case is on the abuse track.
	noticed := map[int64]bool{}
	for _, id := range deliberate {
		for _, c := range d.accountCasesByID(id) {
			if n, ok := c.Ticket.Number(); ok {
				noticed[n] = true
			}
		}
	}
	for _, c := range customers {
		for _, m := range d.publicTo(c, noticed) {
			t.Errorf("public comment to %s: %s", c, m)
		}
	}
	for _, acct := range []string{"acct-shop", "acct-bank", "acct-again"} {
		if acts := d.enforcementActions(acct); len(acts) != 0 {
			t.Errorf("%s: %d enforcement actions, want none: %v", acct, len(acts), acts)
		}
	}
	for _, acct := range []string{"acct-shop", "acct-bank", "acct-again"} {
		for _, c := range d.accountCases(acct) {
			if abuse.Category(c.Category).Track() == abuse.TrackAbuse && c.Category != "spam" && c.Category != "dos" {
				t.Errorf("%s has a %s case (%s): none of these messages is abuse of that kind", acct, c.Category, c.CaseNumber)
			}
		}
	}
}
