package main

import (
	"context"
	"fmt"
	"strings"

	"abusedesk/app/process"
)

func cmdRun(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "run", "run [flags]", `
Runs the desk against an existing Temporal cluster — the production mode. TEMPORAL_ADDRESS is
required; TLS, mTLS and API keys are configured with the TEMPORAL_* variables (see
`+"`desk help env`"+`). Every outside service must be configured: there is no sandbox here.

Components scale out separately: run some processes with --components=worker and others with
--components=http,imap. At start the namespace's search attributes are checked and added when
missing.

The HTTP server listens on loopback unless DESK_HTTP_ADDR says otherwise, and it will not serve
the dashboard and API to anyone who reaches it: set DESK_OIDC_ISSUER (sign-in) or
DESK_DASHBOARD_PASSWORD, or say --insecure-open. Beyond loopback, /metrics needs
DESK_METRICS_TOKEN too.`)
	comps := fs.String("components", "worker,http,imap", "comma-separated components to run: worker, http, imap")
	policyPath := fs.String("policy", "", "policy file (default $DESK_POLICY_FILE or the embedded default)")
	insecureOpen := fs.Bool("insecure-open", false, "serve the dashboard and API with neither sign-in nor a password, and /metrics without a token (never where others can reach the port)")
	if err := parse(e, fs, args); err != nil {
		return err
	}
	which, err := parseComponents(*comps)
	if err != nil {
		return err
	}
	return process.Run(ctx, process.RunOptions{Lookup: e.lookup, Log: e.stderr, Version: version,
		Components: which, Names: *comps, PolicyFile: *policyPath, InsecureOpen: *insecureOpen})
}

func parseComponents(s string) (process.Components, error) {
	var c process.Components
	for _, part := range strings.Split(s, ",") {
		switch strings.TrimSpace(part) {
		case "worker":
			c.Worker = true
		case "http":
			c.HTTP = true
		case "imap":
			c.IMAP = true
		case "":
		default:
			return c, usageError{fmt.Sprintf("--components: unknown component %q (want worker, http, imap)", part)}
		}
	}
	if !c.Worker && !c.HTTP && !c.IMAP {
		return c, usageError{"--components: name at least one of worker, http, imap"}
	}
	return c, nil
}
