package main

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"abusedesk/domain/abuse"
	"abusedesk/workflows"
)

// TestBlocklistWatchOpensTheHoldersCase: with the provider's networks in the policy's
// monitoring section, an address the sandbox's DNS blocklist lists opens the advisory case of
// the account that holds it — the listing as its report, the advice a delisting checklist, no
// action — while a listed address nobody holds (unassigned space) and a listed address of our
// own infrastructure go to the operations queue, one ticket each (a run again in the same hourly
// window adds none; later windows are the intake test's, TestListingsOfOursGoToTheOperationsQueue),
// and no mail goes to the monitor; once the address is delisted the case closes by itself; the
// watch is a Temporal Schedule the desk made.
func TestBlocklistWatchOpensTheHoldersCase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := fastPolicy(t, dir, map[string]string{"renotify: 24h": "renotify: 2s", "quiet: 7d": "quiet: 6s"})
	appendFile(t, p, `
monitoring:
  networks: [198.51.100.0/28, 100.64.0.0/30]
  blocklists:
    - {zone: dnsbl.sandbox.test, name: the sandbox blocklist, delist: "https://dnsbl.sandbox.test/remove"}
  every: 1h
  infrastructure: [198.51.100.14/32]
  operations_group: 4242
`)
	d := startDev(t, p)
	host := d.sandbox["hosting"]
	hostingControl(t, host, "list", map[string]string{"ip": "198.51.100.7"})
	hostingControl(t, host, "list", map[string]string{"ip": "100.64.0.2"})
	hostingControl(t, host, "list", map[string]string{"ip": "198.51.100.14"}) // the bank's range, but our relay

	ctx := context.Background()
	sched := d.tc.ScheduleClient().GetHandle(ctx, workflows.BlocklistWatchScheduleID)
	desc, err := sched.Describe(ctx)
	if err != nil {
		t.Fatalf("the blocklist watch is not a schedule: %v", err)
	}
	if iv := desc.Schedule.Spec.Intervals; len(iv) != 1 || iv[0].Every != time.Hour {
		t.Errorf("the schedule runs every %+v, want the policy's hour", iv)
	}
	trigger := func() {
		t.Helper()
		if err := sched.Trigger(ctx, client.ScheduleTriggerOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	trigger()

	caseID := workflows.CaseWorkflowID("acct-bank", abuse.Blocklist)
	v := d.waitStatus(caseID, workflows.StatusMonitoring, 60*time.Second)
	if !slices.ContainsFunc(v.Reports.Recent, func(r workflows.ReportSummary) bool {
		return slices.Contains(r.Subjects, abuse.Subject{Kind: abuse.SubjectIP, Value: "198.51.100.7"})
	}) {
		t.Errorf("the case's reports do not name the listed address: %+v", v.Reports.Recent)
	}
	advice := d.waitTicket(func(tk zendeskTicket) bool { return tk.Requester == "noc@bank.example" }, "the bank's advice")
	var public []string
	for _, c := range advice.Comments {
		if c.Public {
			public = append(public, c.Body)
		}
	}
	if body := strings.Join(public, "\n"); !strings.Contains(body, "the sandbox blocklist: https://dnsbl.sandbox.test/remove") || !strings.Contains(body, "not a violation") {
		t.Errorf("the advice is no delisting checklist: %q", body)
	}
	if acts := d.enforcementActions("acct-bank"); len(acts) != 0 {
		t.Errorf("a listing acted against the account: %v", acts)
	}
	// The address nobody holds and our relay: the operations queue has them, one ticket each.
	operations := func() map[string]int {
		t.Helper()
		n := map[string]int{}
		for _, tk := range d.tickets() {
			if !slices.Contains(tk.Tags, "abusedesk_operations") {
				continue
			}
			if tk.GroupID != 4242 {
				t.Errorf("operations ticket %d in group %d, want the policy's 4242", tk.ID, tk.GroupID)
			}
			for _, addr := range []string{"100.64.0.2", "198.51.100.14"} {
				if slices.ContainsFunc(tk.Comments, func(c ticketComment) bool { return !c.Public && strings.Contains(c.Body, addr) }) {
					n[addr]++
				}
			}
		}
		return n
	}
	d.waitTicket(func(tk zendeskTicket) bool {
		return slices.Contains(tk.Tags, "abusedesk_operations") && slices.ContainsFunc(tk.Comments, func(c ticketComment) bool {
			return !c.Public && strings.Contains(c.Body, "198.51.100.14") && strings.Contains(c.Body, "our own infrastructure")
		})
	}, "the listing of our own relay")
	d.waitTicket(func(tk zendeskTicket) bool {
		return slices.Contains(tk.Tags, "abusedesk_operations") && slices.ContainsFunc(tk.Comments, func(c ticketComment) bool {
			return !c.Public && strings.Contains(c.Body, "100.64.0.2") && strings.Contains(c.Body, "unassigned space")
		})
	}, "the listing of an address nobody holds")
	if v, err := d.cases.Status(ctx, caseID); err != nil || slices.ContainsFunc(v.Reports.Recent, func(r workflows.ReportSummary) bool {
		return slices.Contains(r.Subjects, abuse.Subject{Kind: abuse.SubjectIP, Value: "198.51.100.14"})
	}) {
		t.Errorf("our relay's listing reached the bank's case (%v)", err)
	}
	for _, tk := range d.tickets() {
		if strings.HasSuffix(tk.Requester, ".invalid") && slices.ContainsFunc(tk.Comments, func(c ticketComment) bool {
			return c.Public
		}) {
			t.Errorf("mail went to the monitor %s: %q", tk.Requester, tk.Subject)
		}
	}

	// Delisted: the next look-up finds nothing, and the quiet period closes the case. The
	// listings still there, looked up again in the same window, add no ticket.
	hostingControl(t, host, "delist", map[string]string{"ip": "198.51.100.7"})
	trigger()
	final := waitView(t, d, caseID, 60*time.Second, func(v *workflows.CaseView) bool { return v.Status.Final() })
	if final.Outcome != workflows.OutcomeQuiet {
		t.Errorf("after delisting: %s (%s), want closed as quiet", final.Status, final.Outcome)
	}
	if n := operations(); n["100.64.0.2"] != 1 || n["198.51.100.14"] != 1 {
		t.Errorf("operations tickets per address after the watch ran again: %v, want one each", n)
	}
}

// appendFile adds text to the end of a file.
func appendFile(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}
