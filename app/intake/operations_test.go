package intake

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"abusedesk/domain/ticket"
	"abusedesk/testenv/memfake"
)

// listing is the blocklist watch's report of one listing in one window, as app/reputation
// writes it (X-ARF 4, reputation/blocklist).
func listing(addr, window string) []byte {
	return fmt.Appendf(nil, `{"xarf_version": "4.1.0", "report_id": "dnsbl:dnsbl.example:%s:%s", "timestamp": "2026-12-08T10:00:00Z",
  "reporter": {"org": "abusedesk blocklist monitor", "contact": "blocklist-monitor@abusedesk.invalid", "domain": "abusedesk.invalid"},
  "sender": {"org": "abusedesk blocklist monitor", "contact": "blocklist-monitor@abusedesk.invalid", "domain": "abusedesk.invalid"},
  "source_identifier": %q, "category": "reputation", "type": "blocklist", "tags": ["zone:dnsbl.example"],
  "description": "%s is listed (127.0.0.2) on the example list (dnsbl.example)"}`, addr, window, addr, addr)
}

// TestListingsOfOursGoToTheOperationsQueue: the blocklist watch's listing of an address no
// customer holds, and of our own infrastructure (even inside a customer's range), goes to one
// operations ticket per address and list, in the operations group — never to a customer's case
// and never a "not ours" answer; later windows add nothing while it is open, and reopen it once
// solved. A customer's listed address still goes to its case.
func TestListingsOfOursGoToTheOperationsQueue(t *testing.T) {
	e := setup(t, 0)
	e.in.cfg.Policy.Monitoring.Infrastructure = []string{"198.51.100.14/32"}
	e.in.cfg.Policy.Monitoring.OperationsGroup = 4242
	ctx := context.Background()
	monitor := Source{Channel: ChannelMonitor}
	ops := func() []memfake.Ticket {
		var out []memfake.Ticket
		for _, tk := range e.tickets.All() {
			if slices.Contains(tk.Tags, TagOperations) {
				out = append(out, tk)
			}
			if slices.Contains(tk.Tags, TagNotOurs) {
				t.Errorf("a \"not ours\" answer went to the monitor: %+v", tk)
			}
		}
		return out
	}

	for _, addr := range []string{"100.64.0.2", "198.51.100.14"} {
		out, err := e.in.Ingest(ctx, listing(addr, "20261208T100000Z"), monitor)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Accepted) != 0 || len(out.Triaged) != 1 {
			t.Fatalf("%s: outcome %+v, want one operations ticket", addr, out)
		}
	}
	got := ops()
	if len(got) != 2 {
		t.Fatalf("%d operations tickets, want 2", len(got))
	}
	for _, tk := range got {
		note := tk.Comments[0].Body
		if tk.GroupID != 4242 || tk.Comments[0].Public {
			t.Errorf("ticket %s: group %d, public %v", tk.ID, tk.GroupID, tk.Comments[0].Public)
		}
		switch {
		case strings.Contains(note, "198.51.100.14") && strings.Contains(note, "our own infrastructure"):
		case strings.Contains(note, "100.64.0.2") && strings.Contains(note, "unassigned space"):
		default:
			t.Errorf("ticket %s says neither why nor which address:\n%s", tk.ID, note)
		}
	}
	e.settle(t)
	if _, total, _ := e.cases.reports("case/acct-bank/blocklist"); total != 0 {
		t.Errorf("our relay's listing reached the bank's case (%d reports)", total)
	}

	// The next window finds them still listed: nothing new.
	for _, addr := range []string{"100.64.0.2", "198.51.100.14"} {
		if _, err := e.in.Ingest(ctx, listing(addr, "20261208T110000Z"), monitor); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(ops()); n != 2 {
		t.Errorf("%d operations tickets after a second window, want still 2", n)
	}
	// Solved by the operators, listed again: reopened, with a note.
	var unassigned memfake.Ticket
	for _, tk := range ops() {
		if strings.Contains(tk.Comments[0].Body, "100.64.0.2") {
			unassigned = tk
		}
	}
	if err := e.tickets.UpdateTicket(ctx, unassigned.Ref, ticket.Update{Status: "solved"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.in.Ingest(ctx, listing("100.64.0.2", "20261208T120000Z"), monitor); err != nil {
		t.Fatal(err)
	}
	for _, tk := range ops() {
		if tk.ID == unassigned.ID && (tk.Status != "open" || len(tk.Comments) != 2 || !strings.Contains(tk.Comments[1].Body, "listed again")) {
			t.Errorf("the solved ticket listed again: %s with %d comments", tk.Status, len(tk.Comments))
		}
	}
	if n := len(ops()); n != 2 {
		t.Errorf("%d operations tickets after the relisting, want still 2", n)
	}

	// A customer's address: its case, as before.
	out, err := e.in.Ingest(ctx, listing("198.51.100.7", "20261208T100000Z"), monitor)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Accepted) != 1 || out.Accepted[0].AccountID != "acct-bank" || len(out.Triaged) != 0 {
		t.Errorf("the bank's listed address: %+v", out)
	}
}
