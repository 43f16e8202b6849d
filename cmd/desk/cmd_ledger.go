package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"abusedesk/app/cases"
	"abusedesk/app/ledger"
	"abusedesk/platform/tclient"
)

func cmdLedger(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "ledger", "ledger backfill [--query Q] | ledger events CASE-NUMBER", `
The case ledger (DESK_LEDGER_URL, default <data-dir>/ledger.db) keeps every case event.

backfill  rebuilds the events of cases that started before the ledger existed, from each case's
          state in Temporal (open cases, and closed ones within the namespace's retention).
          Cases that recorded their own events are left alone, and running it again keeps every
          event once. It reads cases through their status query, so a desk (its worker) must be
          running. Temporal is TEMPORAL_ADDRESS, or the embedded server of a running desk dev in
          --data-dir.
events    prints the events the ledger keeps of one case.`)
	dataDir := fs.String("data-dir", "", "the desk's data dir (default $DESK_DATA_DIR): its ledger.db, and the Temporal address of a running desk dev in its endpoints.json")
	query := fs.String("query", "", "backfill only the cases this Temporal visibility query selects, e.g. \"StartTime > '2026-01-01T00:00:00Z'\"")
	// The subcommand may come before the flags (desk ledger events --data-dir D TS-1) or after.
	var sub []string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[:1], args[1:]
	}
	if err := parse(e, fs, args); err != nil {
		return err
	}
	rest := append(sub, fs.Args()...)
	if len(rest) == 0 {
		fs.Usage()
		return usageError{"ledger needs backfill or events"}
	}
	store, cfg, lookup, err := ledger.OpenConfigured(ctx, e.lookup, *dataDir)
	if err != nil {
		return err
	}
	defer store.Close()

	switch rest[0] {
	case "events":
		if len(rest) != 2 {
			return usageError{"ledger events needs one CASE-NUMBER"}
		}
		events, err := store.Events(ctx, rest[1])
		if err != nil {
			return err
		}
		if len(events) == 0 {
			return fmt.Errorf("the ledger %s has no events of case %s", store.Where, rest[1])
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "AT\tKIND\tDECISION\tOUTCOME\tBY\tCOUNT\tKEY")
		for _, ev := range events {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", ev.At.Format(time.RFC3339), ev.Kind, ev.Decision, ev.Outcome, ev.Actor, ev.Count, ev.Key)
		}
		return tw.Flush()
	case "backfill":
		tcfg, err := tclient.ConfigFor(lookup, cfg.DataDir)
		if err != nil {
			return err
		}
		log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		c, err := tclient.Dial(ctx, tcfg, log, nil)
		if err != nil {
			return err
		}
		defer c.Close()
		res, err := ledger.Backfill(ctx, &cases.Client{T: c}, store, *query, func(r ledger.BackfillResult) {
			fmt.Fprintf(e.stderr, "… %d rebuilt, %d had recorded their own, %d failed\n", r.Rebuilt, r.Recorded, len(r.Failed))
		})
		for _, f := range res.Failed {
			fmt.Fprintln(e.stdout, "failed:", f)
		}
		fmt.Fprintf(e.stdout, "ledger %s: %d case(s) rebuilt from Temporal, %d had recorded their own events, %d failed\n",
			store.Where, res.Rebuilt, res.Recorded, len(res.Failed))
		if err != nil {
			return err
		}
		if len(res.Failed) > 0 {
			return fmt.Errorf("%d case(s) could not be backfilled (listed above); run it again once they can be read", len(res.Failed))
		}
		return nil
	}
	return usageError{fmt.Sprintf("ledger: unknown subcommand %q (backfill or events)", rest[0])}
}
