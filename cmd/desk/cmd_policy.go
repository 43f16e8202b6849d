package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"abusedesk/internal/app/simulate"
	"abusedesk/internal/domain/abuse"
	"abusedesk/internal/domain/policy"
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
			p, err := policy.Load(path)
			if err != nil {
				broken++
				fmt.Fprintf(e.stdout, "%s: broken\n", path)
				var joined interface{ Unwrap() []error }
				if errors.As(err, &joined) {
					for _, one := range joined.Unwrap() {
						fmt.Fprintf(e.stdout, "  %v\n", one)
					}
				} else {
					fmt.Fprintf(e.stdout, "  %v\n", err)
				}
				continue
			}
			fmt.Fprintf(e.stdout, "%s: ok (version %s)\n", path, p.Version)
			for _, c := range abuse.Categories {
				r := p.Categories[c]
				approval := ""
				if r.Approval.Required {
					approval = ", lead approval"
				}
				fixes := "; fixes taken on trust"
				if c.Track() != abuse.TrackAbuse {
					fixes = "" // no violation, no fix to verify
				} else if rm := r.Remediation; len(rm.Verify) > 0 {
					fixes = fmt.Sprintf("; fixes checked after %v (%s)", rm.Verify, strings.Join(rm.Checks, ", "))
				}
				fmt.Fprintf(e.stdout, "  %-15s answer within %-5s reminders %v, then %s%s; appeal within %s%s\n",
					c, r.ResponseWindow, r.Reminders, r.Action.Type.Describe(r.Action.Level), approval, r.Appeal.Window, fixes)
			}
			ri := p.Reinstatement
			fmt.Fprintf(e.stdout, "  %-15s decided within %s, reminders %v, then a probation of %s\n", "reinstatement", ri.SLA, ri.Reminders, ri.Probation)
			if len(p.Teams) == 0 {
				fmt.Fprintf(e.stdout, "  %-15s none: hand-offs are refused\n", "teams")
			}
			for _, name := range slices.Sorted(maps.Keys(p.Teams)) {
				t := p.Teams[name]
				pause := ""
				if t.PauseCase {
					pause = ", pauses the customer's deadline"
				}
				fmt.Fprintf(e.stdout, "  %-15s %s in %s, within %s, then %v%s\n", "team "+name, t.Name(name), t.Channel, t.SLA, t.Chain, pause)
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
	store, cfg, _, err := openLedgerOf(ctx, e, a.dataDir)
	if err != nil {
		return err
	}
	defer store.Close()
	currentFile := cmp.Or(a.current, cfg.PolicyFile, policyInUse(cfg.DataDir))
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

// policyInUseFile, in a data dir, names the policy file the last desk dev on it ran under
// ("" for the embedded default), so that desk policy simulate compares against it.
const policyInUseFile = "policy-in-use"

// writePolicyInUse records the policy file a desk dev runs under in its data dir.
func writePolicyInUse(dataDir, policyFile string) error {
	if dataDir == "" {
		return nil
	}
	if policyFile != "" {
		if abs, err := filepath.Abs(policyFile); err == nil {
			policyFile = abs
		}
	}
	if err := os.WriteFile(filepath.Join(dataDir, policyInUseFile), []byte(policyFile+"\n"), 0o600); err != nil {
		return fmt.Errorf("record the policy in use: %w", err)
	}
	return nil
}

// policyInUse is the policy file the last desk dev on dataDir ran under ("": the embedded
// default, or no record).
func policyInUse(dataDir string) string {
	if dataDir == "" {
		return ""
	}
	b, err := os.ReadFile(filepath.Join(dataDir, policyInUseFile))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
