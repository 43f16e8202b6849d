package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"abusedesk/integrations/reports"
	"abusedesk/workflows"
)

// parsedLine is one line of `desk report parse`.
type parsedLine struct {
	File       string    `json:"file"`
	Kind       string    `json:"kind"`
	ID         string    `json:"id,omitempty"`
	Format     string    `json:"format,omitempty"`
	Category   string    `json:"category,omitempty"`
	SourceIPs  []string  `json:"source_ips"`
	Domains    []string  `json:"domains"`
	URLs       []string  `json:"urls"`
	Senders    []string  `json:"senders"`
	Reporter   string    `json:"reporter,omitempty"`
	EventTime  time.Time `json:"event_time,omitzero"`
	ReceivedAt time.Time `json:"received_at,omitzero"`
	FeedbackID string    `json:"feedback_id,omitempty"`
	Account    string    `json:"account_hint,omitempty"`
	Confidence float64   `json:"confidence,omitempty"`
	CaseNumber string    `json:"case_number,omitempty"`
	Warnings   []string  `json:"warnings,omitempty"`
	Error      string    `json:"error,omitempty"`
}

func cmdReport(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "report", "report parse FILE... | report submit [flags] FILE...", `
parse   reads each file (a raw message, or an X-ARF 4 JSON report) and prints what the desk
        makes of it, one JSON object per report (or per file for replies and failures): id,
        format, category, source_ips, domains, urls, senders, reporter, event_time,
        feedback_id, kind (report, reply, auto-reply, bounce, unparseable) and an error naming
        what failed. Nothing is submitted. Exit code 1 when a file is unparseable.
submit  posts each file to the desk's reports API (POST /api/v1/reports) and prints the
        report and case IDs it answered. Needs --url (or DESK_PUBLIC_URL) and DESK_API_TOKEN.`)
	url := fs.String("url", "", "the desk's base URL for submit (default $DESK_PUBLIC_URL, or the HTTP URL in --data-dir's endpoints.json)")
	dataDir := fs.String("data-dir", "", "read the URL and token of a running `desk dev` from this data dir's endpoints.json")
	if err := parse(e, fs, args); err != nil {
		return err
	}
	if fs.NArg() < 2 {
		fs.Usage()
		return usageError{"report needs parse or submit and at least one FILE"}
	}
	files := fs.Args()[1:]
	switch fs.Arg(0) {
	case "parse":
		return reportParse(e, files)
	case "submit":
		return reportSubmit(ctx, e, *url, *dataDir, files)
	}
	return usageError{fmt.Sprintf("unknown report subcommand %q (want parse or submit)", fs.Arg(0))}
}

func reportParse(e env, files []string) error {
	p := reports.New(reports.Options{FindCaseNumber: workflows.FindCaseNumber})
	enc := json.NewEncoder(e.stdout)
	bad := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			bad++
			_ = enc.Encode(parsedLine{File: f, Kind: string(reports.KindUnparseable), Error: err.Error()})
			continue
		}
		res := p.Parse(raw)
		for _, line := range linesOf(f, res) {
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

func linesOf(file string, res *reports.Result) []parsedLine {
	if len(res.Reports) == 0 {
		l := parsedLine{File: file, Kind: string(res.Kind), Error: res.Error, ID: res.MessageID}
		if res.Reply != nil {
			l.CaseNumber, l.Reporter, l.EventTime = res.Reply.CaseNumber, res.Reply.From, res.Reply.Date
		}
		return []parsedLine{l}
	}
	var out []parsedLine
	for _, r := range res.Reports {
		out = append(out, parsedLine{
			File: file, Kind: string(res.Kind), ID: r.ID, Format: r.Format, Category: string(r.Category),
			SourceIPs: orEmpty(r.SourceIPs), Domains: orEmpty(r.Domains), URLs: orEmpty(r.URLs), Senders: orEmpty(r.Senders),
			Reporter: r.Reporter, EventTime: r.EventTime, ReceivedAt: r.ReceivedAt, FeedbackID: r.FeedbackID, Account: r.AccountHint,
			Confidence: r.Confidence, Warnings: r.Warnings,
		})
	}
	return out
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func reportSubmit(ctx context.Context, e env, url, dataDir string, files []string) error {
	return fmt.Errorf("report submit: not available yet")
}
