package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"abusedesk/app/ledger"
	"abusedesk/app/simulate"
	"abusedesk/domain/abuse"
	"abusedesk/domain/policy"
	"abusedesk/platform/config"
)

func cmdPolicy(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "policy", "policy check FILE... | policy show [FILE] | policy simulate [--since 90d] [--format text|json] CANDIDATE", `
check     validates policy files and prints, for each, either "ok" with a summary per category
          or every problem with its line, the field and the reason. Exit code 1 when any is
          broken.
show      prints the embedded default policy (a starting point to copy), or with FILE the rules
          every category resolves to after the defaults are applied.
simulate  replays the recorded timelines of the cases opened in the last --since (the case
          ledger: DESK_LEDGER_URL, or --data-dir's ledger.db) under the current policy
          (--current, default $DESK_POLICY_FILE, else the policy the last desk dev on the data
          dir ran under, else the embedded policy) and under CANDIDATE,
          and prints what would differ: enforcements added or avoided (and how many of those
          were overturned on appeal), approvals requested, actions changed, time to action,
          and each case that differs with why. Deterministic; nothing is changed.
          docs/policy-simulation.md says what the replay models and what it cannot know.`)
	since := fs.String("since", "90d", "simulate: how far back cases were opened (90d, 2160h)")
	current := fs.String("current", "", "simulate: the current policy file (default $DESK_POLICY_FILE, the policy the last desk dev on the data dir ran under, or the embedded policy)")
	format := fs.String("format", "text", "simulate: text or json")
	dataDir := fs.String("data-dir", "", "simulate: the data dir whose ledger.db to read (default $DESK_DATA_DIR), unless DESK_LEDGER_URL names one")
	limit := fs.Int("cases", 20, "simulate: how many differing cases the text lists (json lists all)")
	if err := parse(e, fs, args); err != nil {
		return err
	}
	rest := fs.Args()
	if len(rest) > 0 && rest[0] == "simulate" {
		if err := parse(e, fs, rest[1:]); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return usageError{"policy simulate needs one CANDIDATE policy file (flags before it)"}
		}
		return policySimulate(ctx, e, simulateArgs{since: *since, current: *current, format: *format, dataDir: *dataDir, limit: *limit, candidate: fs.Arg(0)})
	}
	if len(rest) == 0 {
		fs.Usage()
		return usageError{"policy needs check or show"}
	}
	switch rest[0] {
	case "check":
		if len(rest) < 2 {
			return usageError{"policy check needs at least one FILE"}
		}
		broken := 0
		for _, path := range rest[1:] {
			if !policy.Check(e.stdout, path) {
				broken++
			}
		}
		if broken > 0 {
			return fmt.Errorf("%d of %d policy files are broken", broken, len(rest)-1)
		}
		return nil
	case "show":
		if len(rest) == 1 {
			_, err := e.stdout.Write(policy.DefaultYAML())
			return err
		}
		p, err := policy.Load(rest[1])
		if err != nil {
			return err
		}
		for _, c := range abuse.Categories {
			fmt.Fprintf(e.stdout, "%s: %+v\n", c, p.Categories[c])
		}
		return nil
	default:
		return usageError{fmt.Sprintf("unknown policy subcommand %q (want check, show or simulate)", rest[0])}
	}
}

type simulateArgs struct {
	since, current, format, dataDir, candidate string
	limit                                      int
}

// policySimulate runs `desk policy simulate`.
func policySimulate(ctx context.Context, e env, a simulateArgs) error {
	if a.format != "text" && a.format != "json" {
		return usageError{fmt.Sprintf("--format %q: want text or json", a.format)}
	}
	back, err := policy.ParseDuration(a.since)
	if err != nil || back <= 0 {
		return usageError{fmt.Sprintf("--since %q: want a duration like 90d or 2160h", a.since)}
	}
	candidate, err := policy.Load(a.candidate)
	if err != nil {
		return fmt.Errorf("the candidate policy is broken (desk policy check %s):\n%w", a.candidate, err)
	}
	store, cfg, _, err := ledger.OpenConfigured(ctx, e.lookup, a.dataDir)
	if err != nil {
		return err
	}
	defer store.Close()
	currentFile := cmp.Or(a.current, cfg.PolicyFile, config.PolicyInUse(cfg.DataDir))
	current, err := policy.Load(currentFile)
	if err != nil {
		return fmt.Errorf("the current policy: %w", err)
	}
	to := time.Now().UTC()
	from := to.Add(-back)
	timelines, err := store.Timelines(ctx, from, to)
	if err != nil {
		return err
	}
	priors, err := store.Enforcements(ctx, to)
	if err != nil {
		return err
	}
	r := simulate.Run(current, candidate, timelines, priors, from, to)
	if a.format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	return simulate.WriteText(e.stdout, r, current.Source, candidate.Source, a.limit)
}
