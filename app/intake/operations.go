package intake

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"abusedesk/domain/ticket"
	"abusedesk/integrations/reports"
)

// ChannelMonitor is the channel of the desk's own blocklist watch (app/reputation).
const ChannelMonitor = "monitor"

// The operations queue: a listing the blocklist watch found on the provider's own
// infrastructure (policy monitoring.infrastructure) or on an address no customer holds
// (unassigned space) is nobody's case and no customer's business — the network's operators
// delist it. It goes to one ticket per address and list in the operations group (policy
// monitoring.operations_group), tagged abusedesk_operations: each later run that finds it still
// listed adds nothing while the ticket is open, reopens it once solved, and opens a new one
// (one a month) once it is closed.

// operationsItem is one listing for the operations queue, and why it is there.
type operationsItem struct {
	report reports.Report
	reason string
}

// infrastructure says whether a report's source address is the provider's own infrastructure.
func (in *Intake) infrastructure(r reports.Report) bool {
	if in.cfg.Policy == nil || len(r.SourceIPs) == 0 {
		return false
	}
	addr, err := netip.ParseAddr(r.SourceIPs[0])
	return err == nil && in.cfg.Policy.Monitoring.IsInfrastructure(addr)
}

// operations puts each listing in the operations queue.
func (in *Intake) operations(ctx context.Context, raw []byte, res *reports.Result, items []operationsItem, out *Outcome) error {
	var group int64
	if in.cfg.Policy != nil {
		group = in.cfg.Policy.Monitoring.OperationsGroup
	}
	for _, it := range items {
		sub := &reports.Result{Digest: res.Digest, Subject: res.Subject, From: res.From, Reports: []reports.Report{it.report}}
		ext := "abusedesk-operations:" + listingKey(it.report.ID)
		t, err := in.tickets.FindTicket(ctx, ext)
		if err != nil {
			return fmt.Errorf("operations queue: %w", err)
		}
		switch {
		case t != nil && t.Status == "closed":
			// A closed ticket stays closed: the listing, back, opens the month's own one.
			t, err := in.triageAs(ctx, raw, sub, "listed again: "+it.reason, ext+":"+time.Now().UTC().Format("200601"), it.report.ID, group, HandOverOperations)
			if err != nil {
				return err
			}
			out.Triaged = append(out.Triaged, *t)
		case t != nil && t.Status == "solved":
			note, err := in.triageNote(sub, "listed again: "+it.reason)
			if err != nil {
				return err
			}
			if err := in.tickets.UpdateTicket(ctx, t.Ref, ticket.Update{Comment: &ticket.Comment{Body: note}, Status: "open"}); err != nil {
				return fmt.Errorf("operations queue: reopen ticket %s: %w", t.Ref, err)
			}
			in.handedOver(HandOverOperations, t.Ref, "listed again: "+it.reason, sub, "")
			out.Triaged = append(out.Triaged, Triaged{Ticket: t.Ref, Reason: "listed again: " + it.reason, ReportID: it.report.ID})
		case t != nil:
			// In the queue already, open: the operators have it.
			out.Triaged = append(out.Triaged, Triaged{Ticket: t.Ref, Reason: it.reason + " (in the operations queue already)", ReportID: it.report.ID})
		default: // none yet (looked up above)
			t, err := in.openTriage(ctx, raw, sub, it.reason, ext, it.report.ID, group, HandOverOperations)
			if err != nil {
				return err
			}
			out.Triaged = append(out.Triaged, *t)
		}
	}
	return nil
}

// listingKey names a listing across the watch's runs: a listing report's ID
// (dnsbl:ZONE:ADDRESS:WINDOW) without its window; another ID as it is.
func listingKey(id string) string {
	if !strings.HasPrefix(id, "dnsbl:") {
		return id
	}
	if i := strings.LastIndex(id, ":"); i > len("dnsbl:") {
		return id[:i]
	}
	return id
}
