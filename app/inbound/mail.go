package inbound

import (
	"context"
	"time"

	"abusedesk/app/intake"
	"abusedesk/integrations/mailbox"
	"abusedesk/integrations/reports"
)

// Mailbox is the abuse mailbox's channel: every message goes to intake; the watcher moves it to
// the processed folder once intake accepted it, and to the failed folder when it could not be
// read (intake put it in a triage ticket then). An error leaves the message in the mailbox, to
// be offered again.
func Mailbox(in Ingester) mailbox.Handler {
	return func(ctx context.Context, raw []byte, received time.Time) (mailbox.Disposition, error) {
		out, err := in.Ingest(ctx, raw, intake.Source{Channel: "imap", ReceivedAt: received})
		if err != nil {
			return 0, err
		}
		if out.Kind == reports.KindUnparseable {
			return mailbox.Failed, nil
		}
		return mailbox.Processed, nil
	}
}
