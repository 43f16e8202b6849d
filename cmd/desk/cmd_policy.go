package main

import (
	"context"
	"errors"
	"fmt"

	"abusedesk/internal/abuse"
	"abusedesk/internal/policy"
)

func cmdPolicy(_ context.Context, e env, args []string) error {
	fs := newFlagSet(e, "policy", "policy check FILE... | policy show [FILE]", `
check  validates policy files and prints, for each, either "ok" with a summary per category or
       every problem with its line, the field and the reason. Exit code 1 when any is broken.
show   prints the embedded default policy (a starting point to copy), or with FILE the rules
       every category resolves to after the defaults are applied.`)
	if err := parse(e, fs, args); err != nil {
		return err
	}
	rest := fs.Args()
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
				fmt.Fprintf(e.stdout, "  %-15s answer within %-5s reminders %v, then %s%s; appeal within %s\n",
					c, r.ResponseWindow, r.Reminders, r.Action.Type.Describe(r.Action.Level), approval, r.Appeal.Window)
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
		return usageError{fmt.Sprintf("unknown policy subcommand %q (want check or show)", rest[0])}
	}
}
