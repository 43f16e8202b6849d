package main

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"abusedesk/workflows"
)

// findBrowser returns a headless-capable Chromium: $DESK_TEST_BROWSER, else the first of
// chromium, chromium-browser, google-chrome on the PATH. Without one the browser test skips,
// unless DESK_REQUIRE_BROWSER is set (CI installs Debian's chromium and sets it), then it fails.
func findBrowser(t *testing.T) string {
	t.Helper()
	if b := os.Getenv("DESK_TEST_BROWSER"); b != "" {
		return b
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("DESK_REQUIRE_BROWSER") != "" {
		t.Fatal("DESK_REQUIRE_BROWSER is set but no browser was found: install Debian's chromium (apt-get install chromium) or set DESK_TEST_BROWSER")
	}
	t.Skip("no headless browser installed (apt-get install chromium, or set DESK_TEST_BROWSER); the dashboard's browser test is skipped")
	return ""
}

// headless starts the browser at a window size, for 90 seconds of the test at most; the test's
// end closes it.
func headless(t *testing.T, browser string, width, height int) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true), chromedp.WindowSize(width, height))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	return ctx
}

// TestBrowserApprovesAPendingCase drives the dashboard in headless Chromium the way a newcomer
// would after `desk dev --demo`: the demo's reports are already on the list; they open the
// strategic bank's phishing case once it waits for a lead, click Approve in the sandbox
// section, and the page shows the case enforced.
func TestBrowserApprovesAPendingCase(t *testing.T) {
	t.Parallel()
	skipShort(t)
	browser := findBrowser(t)
	d := startDev(t, leadsPolicy(t), "--demo")
	ctx := headless(t, browser, 1280, 900)

	caseID := workflows.CaseWorkflowID("acct-bank", "phishing")
	row := `tr[data-case="` + caseID + `"]`
	// The demo fed its samples at start: their cases are on the list (the page refreshes itself).
	if err := chromedp.Do(ctx,
		chromedp.Navigate(d.ep.HTTP+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#cases`)),
		chromedp.WaitVisible(chromedp.CSS(row)),
	); err != nil {
		t.Fatalf("case list: %v", err)
	}
	// The case escalates after its (test) window; the list refreshes itself until it shows it.
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(row+`[data-status="pending_approval"]`))); err != nil {
		t.Fatalf("the case never showed pending_approval: %v", err)
	}
	demoRows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#cases tbody tr[data-case]").length`))
	if err != nil {
		t.Fatal(err)
	}
	if demoRows < 4 {
		t.Errorf("the demo shows %d cases, want one per demo account it reported", demoRows)
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(row+` a`)),
		chromedp.WaitVisible(chromedp.ID(`btn-approve`)),
		chromedp.SetValue(chromedp.CSS(`#approval-form select[name=lead]`), "ULEAD1"),
		chromedp.Click(chromedp.ID(`btn-approve`)),
		chromedp.WaitVisible(chromedp.CSS(`#flash, #refused`)),
	); err != nil {
		t.Fatalf("approve: %v", err)
	}
	flash, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#flash, #refused`)))
	if err != nil || !strings.Contains(flash, "Lee Lead clicked approve") {
		t.Errorf("flash %q (%v), want Lee Lead's click", flash, err)
	}
	// The case page refreshes itself; it shows the case enforced.
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`.casehead h1 .s-enforced`))); err != nil {
		status, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`.casehead h1 .status`)))
		t.Fatalf("the case page shows %q, not enforced: %v", status, err)
	}
	v := d.waitStatus(caseID, workflows.StatusEnforced, 5*time.Second)
	if v.Enforcement == nil || v.Enforcement.ApprovedBy != "ULEAD1" {
		t.Errorf("enforcement %+v, want approved by ULEAD1", v.Enforcement)
	}
	// The customer takes the page down and appeals by email, and a reviewer grants it with the
	// macro (the desk checks the page first: it is gone), all by clicks on the case page; the
	// page says what the desk did each time and ends reinstated.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(d.ep.HTTP+"/cases/"+v.CaseNumber),
		chromedp.Click(chromedp.Search(`//button[contains(., "Take the reported page down")]`)),
		chromedp.WaitVisible(chromedp.CSS(`#flash, #refused`)),
		chromedp.SendKeys(chromedp.Search(`//button[contains(., "as the customer (email)")]/preceding-sibling::textarea`), "We took the page down; please lift the restriction."),
		// The person looks away from the box (it loses focus) while the page keeps itself current.
		chromedp.Evaluate[chromedp.Void](`document.activeElement.blur(); window.refreshes = 0`),
		chromedp.Sleep(7*time.Second),
	); err != nil {
		t.Fatalf("typing the customer's answer: %v", err)
	}
	typed, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("textarea")].map(t => t.value).join("|") + " after " + window.refreshes + " refreshes"`))
	if err != nil || !strings.Contains(typed, "We took the page down; please lift the restriction.") || strings.HasSuffix(typed, " 0 refreshes") {
		t.Errorf("after the page refreshed itself: %q (%v); want the typed text intact, and refreshes", typed, err)
	}
	if flash, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#flash, #refused").length`)); err != nil || flash != 1 {
		t.Errorf("the click's message is gone after the refreshes (%d, %v); it stays until dismissed", flash, err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.Search(`//button[contains(., "as the customer (email)")]`)),
		chromedp.WaitVisible(chromedp.CSS(`#flash, #refused`)),
		chromedp.WaitVisible(chromedp.CSS(`.casehead h1 .s-appeal_review`)),
		chromedp.Focus(chromedp.CSS(`#macro-form select[name=agent]`)), // as a person would: the page does not refresh under them
		chromedp.SetValue(chromedp.CSS(`#macro-form select[name=agent]`), "reviewer@desk.example"),
		chromedp.SetValue(chromedp.CSS(`#macro-form select[name=macro]`), "abusedesk: Grant appeal"),
		chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("#flash, #refused").forEach(e => e.remove())`), // the appeal's message
		chromedp.Click(chromedp.CSS(`#macro-form button`)),
		chromedp.WaitVisible(chromedp.CSS(`#flash, #refused`)),
	); err != nil {
		t.Fatalf("appeal and grant by clicks: %v", err)
	}
	if text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#flash, #refused`))); err != nil || !strings.Contains(text, "the desk took it") {
		t.Errorf("the grant shows %q (%v), want the desk's acceptance", text, err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`.casehead h1 .s-reinstated`))); err != nil {
		t.Fatalf("the case page never showed the case reinstated: %v", err)
	}
	// README step 5: a free-form complaint pasted on the Sandbox page about an address of Again
	// Ltd, which has no spam case yet, waits for triage with nothing sent; an agent's macro
	// confirms it and the customer is told.
	again := `tr[data-case="` + workflows.CaseWorkflowID("acct-again", "spam") + `"]`
	if err := chromedp.Do(ctx,
		chromedp.Navigate(d.ep.HTTP+"/sandbox"),
		chromedp.Click(chromedp.CSS(`#drop-form summary`)),
		chromedp.SendKeys(chromedp.CSS(`#drop-form textarea[name=raw]`), "203.0.113.7 keeps sending us spam"),
		chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("#flash, #refused").forEach(e => e.remove())`),
		chromedp.Click(chromedp.ID(`drop`)),
		chromedp.WaitVisible(chromedp.CSS(`#flash, #refused`)),
	); err != nil {
		t.Fatalf("README step 5, the pasted complaint: %v", err)
	}
	if text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#flash, #refused`))); err != nil || !strings.Contains(text, "the pasted report was") {
		t.Errorf("pasting the complaint shows %q (%v)", text, err)
	}
	// The complaint waits for triage, its triage ticket open.
	d.waitTriage(workflows.CaseWorkflowID("acct-again", "spam"), 30*time.Second)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(d.ep.HTTP+"/"),
		chromedp.WaitVisible(chromedp.CSS(again+`[data-status="needs_triage"]`)),
		chromedp.Click(chromedp.CSS(again+` a`)),
		chromedp.WaitVisible(chromedp.ID(`macro-form`)),
		chromedp.Focus(chromedp.CSS(`#macro-form select[name=macro]`)),
		chromedp.SetValue(chromedp.CSS(`#macro-form select[name=macro]`), "abusedesk: Triage: confirm and notify"),
		chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("#flash, #refused").forEach(e => e.remove())`),
		chromedp.Click(chromedp.CSS(`#macro-form button`)),
		chromedp.WaitVisible(chromedp.CSS(`#flash, #refused`)),
	); err != nil {
		t.Fatalf("README step 5, the pasted complaint to triage and confirmed: %v", err)
	}
	if text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#flash, #refused`))); err != nil || !strings.Contains(text, "the desk took it") {
		t.Errorf("confirming the triage shows %q (%v)", text, err)
	}
	if v := d.waitStatus(workflows.CaseWorkflowID("acct-again", "spam"), workflows.StatusAwaitingResponse, 30*time.Second); v.Ticket.IsZero() {
		t.Errorf("the confirmed case has no customer ticket: %+v", v)
	}
	// Every decision is sampled for review: the approver may not review the enforcement (the
	// page says so, as a refusal), another lead may.
	if v.Enforcement.ApprovedByEmail == "" {
		t.Fatalf("enforcement %+v names no approver's address", v.Enforcement)
	}
	qaRow := `#qa-` + v.CaseNumber + `-enforcement`
	review := func(reviewer, verdict, wait string) {
		t.Helper()
		if err := chromedp.Do(ctx,
			chromedp.Navigate(d.ep.HTTP+"/qa"),
			chromedp.WaitVisible(chromedp.CSS(qaRow)),
			chromedp.SendKeys(chromedp.CSS(qaRow+` input[name=reviewer]`), reviewer),
			chromedp.Click(chromedp.CSS(qaRow+` input[value=`+verdict+`]`)),
			chromedp.Click(chromedp.CSS(qaRow+` button`)),
			chromedp.WaitVisible(chromedp.ID(wait)),
		); err != nil {
			t.Fatalf("review by %s: %v", reviewer, err)
		}
	}
	review(v.Enforcement.ApprovedByEmail, "agree", "refused")
	if text, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID(`refused`))); err != nil || !strings.Contains(text, "made this decision") {
		t.Errorf("the approver's own review shows %q (%v), want the refusal", text, err)
	}
	review("lead2@desk.example", "disagree", "flash")
	if text, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID(`flash`))); err != nil || !strings.Contains(text, "Review recorded: you disagree") {
		t.Errorf("a peer's review shows %q (%v)", text, err)
	}
	// The demo reports the bank's phishing kit on the shop as well: the trends page links the
	// two accounts into one cluster.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(d.ep.HTTP+"/trends"),
		chromedp.WaitVisible(chromedp.CSS(`.cluster`)),
	); err != nil {
		t.Fatalf("trends page: %v", err)
	}
	clusters, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll(".cluster > p")].map(p => p.innerText)`))
	if err != nil || len(clusters) != 1 || !strings.Contains(clusters[0], "2 accounts: acct-bank, acct-shop") {
		t.Errorf("linked accounts %q (%v), want one cluster of acct-bank and acct-shop", clusters, err)
	}

	// The case page refreshes itself every 3 s, but never over a form that was sent: once a
	// submit happened, the page waits for its answer (a refresh used to abort the POST).
	if err := chromedp.Do(ctx,
		chromedp.Navigate(d.ep.HTTP+"/cases/"+v.CaseNumber),
		chromedp.WaitReady(chromedp.CSS(`main`)),
		chromedp.Evaluate[chromedp.Void](`window.unreloaded = true; document.body.dispatchEvent(new Event("submit", {bubbles: true}))`),
		chromedp.Sleep(4*time.Second),
	); err != nil {
		t.Fatal(err)
	}
	if same, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.unreloaded === true`)); err != nil || !same {
		t.Errorf("the case page refreshed over a sent form (%v)", err)
	}
	// A deadline that passed says so: "overdue by …", in red (it used to read "37s ago").
	passed, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		const el = document.createElement("time"); el.dataset.deadline = new Date(Date.now() - 37000).toISOString();
		document.querySelector("main").append(el); tick();
		return el.textContent + (el.classList.contains("overdue") ? " [red]" : "");
	})()`))
	if err != nil || !strings.HasPrefix(passed, "overdue by 3") || !strings.HasSuffix(passed, "s [red]") {
		t.Errorf("a passed deadline reads %q (%v), want overdue by 37s, in red", passed, err)
	}
	// The search box finds cases by what their reports name, written any way: an address, a
	// range, a domain in a URL, and a phone number a complaint names in another format.
	d.mail(plainMail("Pat Person <pat@example.org>", "Unwanted text messages", "sms-browser-1@example.org",
		"Since Monday I get text messages advertising a shop from +1 202-555-0100. I never signed up for them; please make them stop."))
	for _, search := range []struct{ q, want string }{
		{"http://LOGIN.consumer.example/verify", "for the domain (and its subdomains) login.consumer.example"},
		{"192.0.2.0/24", "for the range 192.0.2.0/24"},
		{"198.51.100.20", "for the IP address 198.51.100.20"},
		{"+1 (202) 555-0100", "for the phone number +12025550100"},
	} {
		var read string
		var rows int
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Second) {
			if err := chromedp.Do(ctx,
				chromedp.Navigate(d.ep.HTTP+"/?state=all"), // open and closed cases
				chromedp.SendKeys(chromedp.CSS(`input[name=q]`), search.q+"\n"),
				chromedp.WaitVisible(chromedp.CSS(`p.search-read`)),
			); err != nil {
				t.Fatalf("search %q: %v", search.q, err)
			}
			var err, err2 error
			read, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`p.search-read`)))
			rows, err2 = chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#cases tbody tr[data-case]").length`))
			if err != nil || err2 != nil {
				t.Fatalf("search %q: %v %v", search.q, err, err2)
			}
			if rows > 0 || time.Now().After(deadline) { // the complaint is read within seconds
				break
			}
		}
		if !strings.Contains(read, search.want) || rows == 0 {
			t.Errorf("search %q: %q, %d cases; want it read %s, with cases", search.q, read, rows, search.want)
		}
	}
	walkPages(ctx, t, d.ep.HTTP, map[string]string{
		"queue": "/queue", "cases": "/", "closed": "/?state=closed", "case": "/cases/" + v.CaseNumber, "account": "/accounts/acct-bank",
		"operations": "/operations", "trends": "/trends", "qa": "/qa", "reporters": "/reporters", "sandbox": "/sandbox", "intake": "/intake",
		"notice": "/notice", "reputation": "/reputation",
	}, "queue-desktop", "case-desktop", "queue-phone", "case-phone", "notice-phone", "cases-desktop")
}

// TestBrowserAgentsDay (issue 34, items 3 and 6): an agent signed in through the identity
// provider extends two cases' deadlines at once from the work queue, takes a case from its
// page and finds it under "my cases"; they hand the case to Security, and the sandbox answers
// as the team in Slack. The signed-in queue and case page pass the accessibility check on a
// desktop and a phone.
func TestBrowserAgentsDay(t *testing.T) {
	t.Parallel()
	skipShort(t)
	browser := findBrowser(t)
	teams := "teams:\n  security:\n    title: Security\n    channel: abuse-security\n    sla: 1h\n    chain: [ULEAD1]\n\n# Spikes and linked accounts"
	p := fastPolicy(t, t.TempDir(), map[string]string{
		approverPolicy: "  users: []\n  groups: [SLEADS]", "response_window: 24h": "response_window: 3s", "reminders: [12h]": "reminders: [1s]",
		"# Spikes and linked accounts": teams,
	})
	d := startDev(t, p, "--demo", "--signin")
	ctx := headless(t, browser, 1280, 900)
	flash := func(step string, click ...chromedp.Action[chromedp.Void]) string {
		t.Helper()
		steps := append([]chromedp.Action[chromedp.Void]{chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("#flash, #refused").forEach(e => e.remove())`)}, click...)
		if err := chromedp.Do(ctx, append(steps, chromedp.WaitVisible(chromedp.CSS(`#flash, #refused`)))...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#flash, #refused`)))
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		return text
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(d.ep.HTTP+"/login?"+url.Values{"login_hint": {"agent@desk.example"}, "next": {"/queue"}}.Encode()),
		chromedp.WaitVisible(chromedp.CSS(`#queue`)),
	); err != nil {
		t.Fatalf("sign in: %v", err)
	}
	// Two cases whose deadline an agent may extend, selected by their boxes.
	var two []string
	for deadline := time.Now().Add(60 * time.Second); len(two) < 2 && time.Now().Before(deadline); time.Sleep(time.Second) {
		var err error
		if two, err = chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#queue tr[data-case]")]
			.filter(r => r.querySelector(".s-pending_approval, .s-awaiting_response, .s-under_review") && r.querySelector("input[name=case]"))
			.map(r => r.dataset.case).slice(0, 2)`)); err != nil {
			t.Fatal(err)
		}
	}
	if len(two) < 2 {
		t.Fatalf("the queue shows %d cases an agent may extend, want 2", len(two))
	}
	if got := flash("take the case",
		chromedp.Navigate(d.ep.HTTP+"/cases/"+two[0]),
		chromedp.Click(chromedp.Search(`//button[contains(., "Take it")]`)),
	); !strings.Contains(got, "You own this case now.") {
		t.Errorf("taking the case says %q", got)
	}
	if owner, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID(`owner`))); err != nil || !strings.HasPrefix(owner, "Alex Agent <agent@desk.example> since") {
		t.Errorf("the case's owner reads %q (%v)", owner, err)
	}
	// The signed-in queue (owners, selection, bulk actions) and case page (its owner) on a
	// desktop and a phone, while both cases wait on the queue.
	walkPages(ctx, t, d.ep.HTTP, map[string]string{"queue-agent": "/queue", "case-agent": "/cases/" + two[0]}, "queue-agent-desktop", "queue-agent-phone")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(d.ep.HTTP+"/queue"), chromedp.Click(chromedp.Search(`//nav[@class="owners"]/a[.="My cases"]`)),
		chromedp.WaitVisible(chromedp.CSS(`nav.owners a[aria-current][href="/queue?owner=me"]`))); err != nil {
		t.Fatal(err)
	}
	if mine, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#queue tr[data-case]")].map(r => r.dataset.case)`)); err != nil || len(mine) != 1 || mine[0] != two[0] {
		t.Errorf("my cases: %q (%v), want %s alone", mine, err, two[0])
	}
	got := flash("bulk extension",
		chromedp.Navigate(d.ep.HTTP+"/queue"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=case][value="`+two[1]+`"]`)),
		chromedp.Click(chromedp.CSS(`input[name=case][value="`+two[0]+`"]`)),
		chromedp.Click(chromedp.CSS(`input[name=case][value="`+two[1]+`"]`)),
		chromedp.SetValue(chromedp.ID(`bulk-action`), "extend"),
		chromedp.Click(chromedp.CSS(`fieldset.bulk button`)),
	)
	if !strings.Contains(got, "Extend the deadline: 2 of 2 done.") || strings.Count(got, "Deadline extended to") != 2 {
		t.Errorf("the bulk extension says %q", got)
	}
	// After the extension the case waits for the customer, off the queue; the list of all the
	// agent's open cases still has it.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.Search(`//nav[@class="owners"]/a[.="All my open cases"]`)), chromedp.WaitVisible(chromedp.ID(`owner-filter`))); err != nil {
		t.Fatal(err)
	}
	if mine, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#cases tr[data-case]")].map(r => r.querySelector("a").innerText)`)); err != nil || len(mine) != 1 || mine[0] != two[0] {
		t.Errorf("all my open cases: %q (%v), want %s alone", mine, err, two[0])
	}
	// A hand-off to Security, and Security's answer, played by the sandbox.
	if got := flash("hand off",
		chromedp.Navigate(d.ep.HTTP+"/cases/"+two[0]),
		chromedp.SetValue(chromedp.CSS(`#handoff-form select[name=team]`), "security"),
		chromedp.SendKeys(chromedp.CSS(`#handoff-form textarea`), "check the host for the kit"),
		chromedp.Click(chromedp.CSS(`#handoff-form button`)),
	); !strings.Contains(got, "handed the case to security") {
		t.Errorf("the hand-off says %q", got)
	}
	if got := flash("answer as the team",
		chromedp.WaitVisible(chromedp.ID(`team-answer-1`)),
		chromedp.SendKeys(chromedp.CSS(`#team-answer-1 textarea`), "host patched, kit removed"),
		chromedp.Click(chromedp.CSS(`#team-answer-1 button`)),
	); !strings.Contains(got, "answered the hand-off in Slack as the Security team (resolve)") {
		t.Errorf("the team's answer says %q", got)
	}
	owned, err := d.cases.FindByNumber(context.Background(), two[0])
	if err != nil || owned == nil {
		t.Fatalf("find %s: %v", two[0], err)
	}
	if done := waitView(t, d, owned.CaseID, 30*time.Second, func(v *workflows.CaseView) bool {
		return len(v.HandOffs) == 1 && v.HandOffs[0].Status == workflows.HandOffResolved
	}); done.HandOffs[0].Outcome != "host patched, kit removed" || done.Assignee == nil || done.Assignee.Email != "agent@desk.example" {
		t.Errorf("after the team's answer: hand-off %+v, owner %+v", done.HandOffs[0], done.Assignee)
	}
}

// axeScript is axe-core (from the npm registry; .ci/run fetches it and sets DESK_AXE_JS).
// Without it the accessibility check is skipped, unless DESK_REQUIRE_BROWSER is set.
func axeScript(t *testing.T) string {
	t.Helper()
	path := os.Getenv("DESK_AXE_JS")
	if path == "" {
		if os.Getenv("DESK_REQUIRE_BROWSER") != "" {
			t.Fatal("DESK_REQUIRE_BROWSER is set but DESK_AXE_JS is not: point it at axe-core's axe.min.js (.ci/run fetches it with npm)")
		}
		t.Log("DESK_AXE_JS is not set: the accessibility check is skipped")
		return ""
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("DESK_AXE_JS: %v", err)
	}
	return string(b)
}

// walkPages opens pages of the dashboard (name → path), on a desktop and on a 390 px phone:
// each must render without a serious or critical accessibility violation (axe-core), and on
// the phone no page may be wider than the screen (tables scroll inside their box). A
// screenshot of each is saved under $DESK_TEST_ARTIFACTS (else the test's temp dir); with
// DESK_UPDATE_SCREENSHOTS=1 those named in update (name-desktop, name-phone) go to
// docs/screenshots for the README.
func walkPages(ctx context.Context, t *testing.T, base string, pages map[string]string, update ...string) {
	axe := axeScript(t)
	out := os.Getenv("DESK_TEST_ARTIFACTS")
	if out == "" {
		out = t.TempDir()
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, screen := range []struct {
		name          string
		width, height int64
	}{{"desktop", 1280, 900}, {"phone", 390, 844}} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(screen.width, screen.height)); err != nil {
			t.Fatal(err)
		}
		for name, path := range pages {
			if err := chromedp.Do(ctx, chromedp.Navigate(base+path), chromedp.WaitReady(chromedp.CSS(`main`))); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatalf("%s: screenshot: %v", path, err)
			}
			file := filepath.Join(out, name+"-"+screen.name+".png")
			if err := os.WriteFile(file, png, 0o644); err != nil {
				t.Fatal(err)
			}
			if screen.name == "phone" {
				if wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`)); err != nil || wide {
					t.Errorf("%s on a 390 px screen is wider than the screen (%v); see %s", path, err, file)
				}
			}
			if axe == "" {
				continue
			}
			if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](axe)); err != nil {
				t.Fatalf("%s: inject axe-core: %v", path, err)
			}
			found, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations
				.filter(v => v.impact === "serious" || v.impact === "critical")
				.map(v => v.impact + " " + v.id + ": " + v.help + " — " + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", ")))`, chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatalf("%s: axe-core: %v", path, err)
			}
			for _, f := range found {
				t.Errorf("%s (%s): %s", path, screen.name, f)
			}
		}
	}
	if os.Getenv("DESK_UPDATE_SCREENSHOTS") == "1" {
		for _, name := range update {
			b, err := os.ReadFile(filepath.Join(out, name+".png"))
			if err == nil {
				err = os.WriteFile(filepath.Join("..", "..", "docs", "screenshots", name+".png"), b, 0o644)
			}
			if err != nil {
				t.Errorf("update the README's screenshot %s: %v", name, err)
			}
		}
	}
	t.Logf("screenshots of every page in %s", out)
}

// TestBrowserSendsANotice: a person reports abuse through the public notice form on a phone,
// without signing in; the form's page answers with the reference, the sandbox mailbox
// (Zendesk) holds the receipt, and when an agent decides the case — not abuse — the decision
// with how it was taken and the redress routes; the public status page says it is decided.
func TestBrowserSendsANotice(t *testing.T) {
	t.Parallel()
	skipShort(t)
	browser := findBrowser(t)
	d := startDevIn(t, t.TempDir(), leadsPolicy(t), map[string]string{"DESK_DASHBOARD_PASSWORD": "s3cret"})
	ctx := headless(t, browser, 390, 844)

	const notifier = "ana.notifier@example.org"
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(d.ep.HTTP+"/notice"),
		chromedp.WaitVisible(chromedp.CSS(`#kind`)),
		chromedp.SetValue(chromedp.CSS(`#kind`), "spam"),
		chromedp.SendKeys(chromedp.CSS(`#locations`), "192.0.2.10"),
		chromedp.SendKeys(chromedp.CSS(`#explanation`), "Every night since Monday this server sends me mail about watches I never asked for."),
		chromedp.SendKeys(chromedp.CSS(`#name`), "Ana Notifier"),
		chromedp.SendKeys(chromedp.CSS(`#email`), notifier),
		chromedp.Click(chromedp.CSS(`#good_faith`)),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.ok`)),
	); err != nil {
		t.Fatalf("sending the notice: %v", err)
	}
	location, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	ref := strings.TrimPrefix(strings.SplitN(location, "?", 2)[0], d.ep.HTTP+"/notice/")
	if !strings.HasPrefix(ref, "N-") {
		t.Fatalf("the form answered at %s, want the notice's status page", location)
	}
	if wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`)); err != nil || wide {
		t.Errorf("the status page is wider than the phone (%v)", err)
	}
	isFor := func(tag string) func(zendeskTicket) bool {
		return func(tk zendeskTicket) bool {
			return strings.EqualFold(tk.Requester, notifier) && strings.Contains(strings.Join(tk.Tags, " "), tag)
		}
	}
	receipt := d.waitTicket(isFor("abusedesk_reporter_receipt"), "the notifier's receipt")
	if len(receipt.Comments) != 1 || !receipt.Comments[0].Public || !strings.Contains(receipt.Comments[0].Body, ref) || !strings.Contains(receipt.Comments[0].Body, "192.0.2.10") {
		t.Errorf("the receipt %+v, want one public comment naming %s and the location", receipt.Comments, ref)
	}

	// One person's complaint in their own words waits for a person: the agent finds it is not
	// abuse, and the notifier is told.
	caseID := workflows.CaseWorkflowID("acct-shop", "spam")
	v := d.waitTriage(caseID, 30*time.Second)
	applyMacro(t, d.sandbox["zendesk"], "agent@desk.example", v.Ticket.ID, "abusedesk: Triage: not abuse")
	decision := d.waitTicket(isFor("abusedesk_reporter_ack"), "the decision to the notifier")
	body := decision.Comments[0].Body
	for _, want := range []string{v.CaseNumber, "closed it without restricting the account", "a member of our abuse team reviewed the case and decided", "reply to this email"} {
		if !strings.Contains(body, want) {
			t.Errorf("the decision lacks %q:\n%s", want, body)
		}
	}
	status := ""
	for i := 0; i < 50 && !strings.Contains(status, "Decided"); i++ {
		if err := chromedp.Do(ctx, chromedp.Navigate(d.ep.HTTP+"/notice/"+ref)); err != nil {
			t.Fatal(err)
		}
		if status, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`main`))); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(status, "Decided") || !strings.Contains(status, v.CaseNumber) {
		t.Errorf("the status page after the decision:\n%s", status)
	}
}
