package main

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// signedIn is a browser signed into the dashboard as email through the sandbox identity
// provider; it then does not follow redirects, as page expects.
func (d *devDesk) signedIn(email string) *page {
	d.t.Helper()
	p := d.dashboard("")
	p.client.CheckRedirect = nil
	code, body, _ := p.send(http.MethodGet, "/login?"+url.Values{"login_hint": {email}, "next": {"/trends"}}.Encode(), nil)
	if code != http.StatusOK {
		d.t.Fatalf("%s signs in: HTTP %d\n%s", email, code, body)
	}
	p.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return p
}

// TestClusterBulkActionAndUndo (issue 31 item 5): in `desk dev --demo --signin` the trends page
// links the bank and the shop; a signed-in lead proposes suspending their sending; the request
// in Slack cannot be approved by that same lead (their Slack address is the proposer's) and
// nothing is done until a second lead approves; then both accounts carry the action, each one
// recorded on the action's page, and one click on Undo lifts them all. An agent is offered no
// proposal and cannot post one.
func TestClusterBulkActionAndUndo(t *testing.T) {
	t.Parallel()
	d := startDevIn(t, t.TempDir(), leadsPolicy(t), nil, "--demo", "--signin")
	lead := d.signedIn("lee.lead@desk.example")
	lead.waitFor("/trends", `name="account" value="acct-shop"`, 90*time.Second)

	agent := d.signedIn("agent@desk.example")
	if page := agent.get("/trends"); strings.Contains(page, `action="/trends/bulk"`) {
		t.Error("the trends page offers an agent a bulk action")
	}
	form := url.Values{"account": {"acct-bank", "acct-shop"}, "action": {"suspend_sending"}, "reason": {"one phishing kit behind both accounts"}}
	if _, _, h := agent.do(http.MethodPost, "/trends/bulk", form); !strings.Contains(h.Get("Location"), "only+a+signed-in+lead") {
		t.Errorf("an agent's proposal was not refused: %s", h.Get("Location"))
	}
	if _, _, h := lead.do(http.MethodPost, "/trends/bulk", url.Values{"account": {"acct-bank", "acct-web"}, "action": {"suspend_sending"}, "reason": {"x"}}); !strings.Contains(h.Get("Location"), "not+one+cluster") {
		t.Errorf("accounts the desk does not link were proposed: %s", h.Get("Location"))
	}

	code, _, h := lead.do(http.MethodPost, "/trends/bulk", form)
	loc := h.Get("Location")
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/bulk/B-") {
		t.Fatalf("proposal: HTTP %d, to %q", code, loc)
	}
	number := strings.TrimPrefix(loc[:strings.Index(loc, "?")], "/bulk/")
	if page := lead.get(loc); !strings.Contains(page, "Proposed "+number) || !strings.Contains(page, "waiting for a second lead") {
		t.Errorf("the action's page after the proposal:\n%s", page)
	}
	// The leads click in (sandbox) Slack from the action's page, as a person does in desk dev,
	// once the request is in Slack.
	lead.waitFor("/bulk/"+number, `id="bulk-form"`, 30*time.Second)
	click := func(do, user, want string) {
		t.Helper()
		_, _, h := lead.do(http.MethodPost, "/sandbox/bulk/"+number, url.Values{"do": {do}, "lead": {user}})
		if loc, _ := url.QueryUnescape(h.Get("Location")); !strings.Contains(loc, want) {
			t.Fatalf("%s clicks %s: the page says %q, want %q", user, do, loc, want)
		}
	}
	click("approve", "ULEAD1", "you proposed this bulk action: another lead approves it") // Lee Lead in Slack proposed it
	for _, acct := range []string{"acct-bank", "acct-shop"} {
		for _, a := range d.enforcementActions(acct) {
			if strings.HasPrefix(fmt.Sprint(a["case_id"]), "bulk/") {
				t.Fatalf("the proposer's own approval applied an action on %s: %v", acct, a)
			}
		}
	}
	click("approve", "ULEAD2", "Approved: applying it to the 2 accounts")
	page := lead.waitFor("/bulk/"+number, "Applied to 2 of 2 accounts", 60*time.Second)
	if !strings.Contains(page, "kim.lead@desk.example") || !strings.Contains(page, "one click on the message in Slack") {
		t.Errorf("the action's page does not say who approved it, or how to undo it:\n%s", page)
	}
	// The demo's own cases act on the accounts too: the bulk action's are those of its workflow.
	active := func(acct string) int {
		n := 0
		for _, a := range d.enforcementActions(acct) {
			if strings.HasPrefix(fmt.Sprint(a["case_id"]), "bulk/") && a["type"] == "suspend_sending" && a["state"] == "active" {
				n++
			}
		}
		return n
	}
	for _, acct := range []string{"acct-bank", "acct-shop"} {
		if active(acct) != 1 {
			t.Errorf("%s: %v, want one suspension of its sending", acct, d.enforcementActions(acct))
		}
	}
	// Each customer is told on a ticket of their own, naming nothing of the other account.
	for acct, other := range map[string]string{"noc@bank.example": "acct-shop", "ops@shop.example": "acct-bank"} {
		tk := d.waitTicket(func(tk zendeskTicket) bool {
			return tk.Requester == acct && slices.Contains(tk.Tags, "abusedesk_bulk")
		}, "the bulk notice to "+acct)
		if len(tk.Comments) == 0 || !tk.Comments[0].Public || !strings.Contains(tk.Comments[0].Body, "Statement of reasons") ||
			strings.Contains(tk.Comments[0].Body, other) || strings.Contains(tk.Comments[0].Body, "one phishing kit") {
			t.Errorf("the notice to %s: %+v", acct, tk.Comments)
		}
	}
	if page := lead.get("/trends"); !strings.Contains(page, `href="/bulk/`+number+`"`) {
		t.Error("the trends page does not list the bulk action")
	}
	if page := agent.get("/accounts/acct-shop"); !strings.Contains(page, `href="/bulk/`+number+`"`) {
		t.Error("the shop's account page does not list the bulk action on it")
	}

	if _, msg := d.approvalMessage(number); !strings.Contains(string(msg.Blocks), "abusedesk_undo") {
		t.Fatalf("the applied action's message offers no undo: %s", msg.Blocks)
	}
	click("undo", "ULEAD1", "Undoing bulk action "+number)
	lead.waitFor("/bulk/"+number, "Undone: 2 of 2 actions lifted", 60*time.Second)
	for _, acct := range []string{"acct-bank", "acct-shop"} {
		if active(acct) != 0 {
			t.Errorf("%s after the undo: %v", acct, d.enforcementActions(acct))
		}
	}

	// Proposed again and denied in Slack's dialog, with the lead's reason: nothing is done.
	_, _, h = lead.do(http.MethodPost, "/trends/bulk", form)
	again := strings.TrimPrefix(strings.SplitN(h.Get("Location"), "?", 2)[0], "/bulk/")
	lead.waitFor("/bulk/"+again, `id="bulk-form"`, 30*time.Second)
	_, _, h = lead.do(http.MethodPost, "/sandbox/bulk/"+again, url.Values{"do": {"deny"}, "lead": {"ULEAD2"}, "text": {"the shop is a reseller's customer"}})
	if loc, _ := url.QueryUnescape(h.Get("Location")); !strings.Contains(loc, "Denied. Nothing is done to the accounts.") {
		t.Fatalf("the denial: the page says %q", loc)
	}
	lead.waitFor("/bulk/"+again, "the shop is a reseller&#39;s customer", 30*time.Second)
	for _, acct := range []string{"acct-bank", "acct-shop"} {
		if active(acct) != 0 {
			t.Errorf("%s after a denied proposal: %v", acct, d.enforcementActions(acct))
		}
	}
}
