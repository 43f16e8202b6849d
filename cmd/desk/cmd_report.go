package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"abusedesk/app/inbound"
	"abusedesk/app/ledger"
	"abusedesk/domain/policy"
	"abusedesk/integrations/reports"
	"abusedesk/platform/config"
	"abusedesk/workflows"
)

func cmdReport(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "report", "report parse FILE... | report submit [flags] FILE... | report transparency --from DATE --to DATE [--format csv|json] | report sor --since DATE [--until DATE]", `
parse   reads each file (a raw message, or an X-ARF 4 JSON report) and prints what the desk
        makes of it, one JSON object per report (or per file for replies and failures): id,
        format, category, track (abuse, advisory, legal, customer, messaging), source_ips, ranges
        (CIDR), phones (E.164), sender_ids, campaigns, brands, messaging_services, domains, urls,
        senders, reporter, event_time, feedback_id,
        kind (report, reply, auto-reply, bounce, unparseable), confidence and the signals that
        gave it, and an error naming what failed. Nothing is submitted. Exit code 1 when a file is unparseable.
submit  posts each file to the desk's reports API (POST /api/v1/reports) and prints the
        report IDs and status URLs it answered. Needs --url (or DESK_PUBLIC_URL) and DESK_API_TOKEN.
transparency  the Digital Services Act transparency report of a hosting service (Art. 15(1)(a)
        orders, (b) notices, (c) own-initiative actions and (d) complaints) for a period, from
        the case ledger (DESK_LEDGER_URL, or --data-dir's ledger.db): orders by what they ask
        with the median times to confirm receipt and to give effect; notices (a message counts
        once, whatever its rows) by type of alleged illegal content and from trusted flaggers;
        actions by ground (law or terms), type and category, own-initiative and automated
        actions, the error rate of automated decisions and the median time to action;
        complaints (appeals) by basis, their decisions, the median decision time and how many
        were reversed. --format eu-2024-2835 writes the sections of Implementing Regulation (EU)
        2024/2835's template as CSV files into --out. Trusted flaggers and the law categories
        come from the policy's transparency section.
        docs/transparency.md says how each figure is counted.
sor     the statements of reasons (DSA Art. 17) of every restriction applied from --since to
        --until (included; default today), throttling included, in the field shape of the EU
        DSA Transparency Database's API ({"statements": [...]}, as its batch endpoint takes
        them): the measure and its end once lifted, the facts, the ground with the policy's
        clause, the source (trusted flagger, notice, own initiative) and automated means.
        Legal-track cases are left out. docs/transparency.md maps each field.`)
	url := fs.String("url", "", "the desk's base URL for submit (default $DESK_PUBLIC_URL, or the HTTP URL in --data-dir's endpoints.json)")
	dataDir := fs.String("data-dir", "", "read the URL and token of a running 'desk dev' from this data dir's endpoints.json (submit), or its ledger (transparency)")
	from := fs.String("from", "", "transparency: the first day of the period (2026-01-01)")
	to := fs.String("to", "", "transparency: the last day of the period, included (2026-06-30)")
	format := fs.String("format", "", "transparency: csv (default), json, or eu-2024-2835 (one CSV a section of the official template, into --out); sor: json (the only one)")
	out := fs.String("out", "", "transparency --format eu-2024-2835: the folder the section files go into")
	since := fs.String("since", "", "sor: the first day (2026-01-01)")
	until := fs.String("until", "", "sor: the last day, included (default today)")
	policyFile := fs.String("policy", "", "transparency: the policy file (default $DESK_POLICY_FILE, or the embedded policy)")
	sub := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	if err := parse(e, fs, args); err != nil {
		return err
	}
	files := fs.Args()
	switch sub {
	case "transparency":
		return reportTransparency(ctx, e, *dataDir, *policyFile, *from, *to, cmp.Or(*format, "csv"), *out)
	case "sor":
		if *until == "" {
			*until = time.Now().UTC().Format(time.DateOnly)
		}
		return reportStatements(ctx, e, *dataDir, *policyFile, *since, *until, cmp.Or(*format, "json"))
	}
	if sub == "" || len(files) == 0 {
		fs.Usage()
		return usageError{"report needs parse or submit and at least one FILE"}
	}
	switch sub {
	case "parse":
		return reportParse(e, files)
	case "submit":
		return reportSubmit(ctx, e, *url, *dataDir, files)
	}
	return usageError{fmt.Sprintf("unknown report subcommand %q (want parse, submit, transparency or sor)", sub)}
}

// period reads a period of whole days, the last included: flags name the two flags.
func period(sub string, flags [2]string, first, last string) (time.Time, time.Time, error) {
	day := func(flag, v string) (time.Time, error) {
		if v == "" {
			return time.Time{}, usageError{"report " + sub + " needs --" + flag + " (a date like 2026-01-01)"}
		}
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return time.Time{}, usageError{fmt.Sprintf("--%s %q: not a date like 2026-01-01", flag, v)}
		}
		return t, nil
	}
	start, err := day(flags[0], first)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	end, err := day(flags[1], last)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	end = end.Add(24 * time.Hour) // the last day is included
	if !start.Before(end) {
		return time.Time{}, time.Time{}, usageError{fmt.Sprintf("--%s %s is after --%s %s", flags[0], first, flags[1], last)}
	}
	return start, end, nil
}

// reportStatements prints the statements of reasons of a period in the Transparency
// Database's shape.
func reportStatements(ctx context.Context, e env, dataDir, policyFile, since, until, format string) error {
	if format != "json" {
		return usageError{fmt.Sprintf("--format %q: report sor writes json", format)}
	}
	start, end, err := period("sor", [2]string{"since", "until"}, since, until)
	if err != nil {
		return err
	}
	store, p, err := ledgerAndPolicy(ctx, e, dataDir, policyFile)
	if err != nil {
		return err
	}
	defer store.Close()
	sts, err := store.Statements(ctx, start, end, p.Transparency)
	if err != nil {
		return err
	}
	if sts == nil {
		sts = []ledger.Statement{}
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{"statements": sts})
}

// reportTransparency prints the DSA transparency report of a period from the ledger.
func reportTransparency(ctx context.Context, e env, dataDir, policyFile, from, to, format, out string) error {
	switch {
	case format != "csv" && format != "json" && format != "eu-2024-2835":
		return usageError{fmt.Sprintf("--format %q: want csv, json or eu-2024-2835", format)}
	case format == "eu-2024-2835" && out == "":
		return usageError{"--format eu-2024-2835 writes one CSV a section: name the folder with --out"}
	}
	start, end, err := period("transparency", [2]string{"from", "to"}, from, to)
	if err != nil {
		return err
	}
	store, p, err := ledgerAndPolicy(ctx, e, dataDir, policyFile)
	if err != nil {
		return err
	}
	defer store.Close()
	r, err := store.Transparency(ctx, start, end, p.Transparency)
	if err != nil {
		return err
	}
	switch format {
	case "json":
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case "eu-2024-2835":
		files, err := r.WriteEU(out)
		for _, f := range files {
			fmt.Fprintln(e.stdout, f)
		}
		return err
	}
	return r.WriteCSV(e.stdout)
}

func reportParse(e env, files []string) error {
	p := reports.New(reports.Options{FindCaseNumber: workflows.FindCaseNumber})
	enc := json.NewEncoder(e.stdout)
	bad := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			bad++
			_ = enc.Encode(reports.Line{File: f, Kind: string(reports.KindUnparseable), Error: err.Error()})
			continue
		}
		res := p.Parse(raw)
		for _, line := range res.Lines(f) {
			_ = enc.Encode(line)
		}
		if res.Kind == reports.KindUnparseable {
			bad++
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d files could not be read as reports", bad, len(files))
	}
	return nil
}

// reportSubmit posts files to a desk's reports API, retrying what the desk asks to retry.
func reportSubmit(ctx context.Context, e env, base, dataDir string, files []string) error {
	token, _ := e.lookup("DESK_API_TOKEN")
	if dataDir != "" {
		ep, err := config.ReadEndpoints(dataDir)
		if err != nil {
			return fmt.Errorf("--data-dir: %w", err)
		}
		if base == "" {
			base = ep.HTTP
		}
		if token == "" && ep.API != nil {
			token = ep.API.Token
		}
	}
	if base == "" {
		base, _ = e.lookup("DESK_PUBLIC_URL")
	}
	if base == "" {
		return usageError{"report submit needs --url, --data-dir or DESK_PUBLIC_URL"}
	}
	if token == "" {
		return usageError{"report submit needs DESK_API_TOKEN (or --data-dir of a desk dev)"}
	}
	sub := inbound.Submitter{URL: strings.TrimRight(base, "/") + "/api/v1/reports", Token: token}
	failed := 0
	for _, f := range files {
		answer, err := sub.SubmitFile(ctx, f)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			failed++
			fmt.Fprintf(e.stderr, "%s: %v\n", f, err)
			continue
		}
		answer["file"] = f
		line, _ := json.Marshal(answer)
		fmt.Fprintln(e.stdout, string(line))
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d files were not accepted", failed, len(files))
	}
	return nil
}

// ledgerAndPolicy opens the configured ledger and loads the policy (policyFile, else the
// configuration's).
func ledgerAndPolicy(ctx context.Context, e env, dataDir, policyFile string) (*ledger.Store, *policy.Policy, error) {
	store, cfg, _, err := ledger.OpenConfigured(ctx, e.lookup, dataDir)
	if err != nil {
		return nil, nil, err
	}
	p, err := policy.Load(cmp.Or(policyFile, cfg.PolicyFile))
	if err != nil {
		_ = store.Close()
		return nil, nil, err
	}
	return store, p, nil
}
