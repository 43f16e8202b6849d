package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"abusedesk/app/process"
	"abusedesk/integrations/zendesk"
	"abusedesk/platform/config"
	"abusedesk/platform/metrics"
)

func cmdZendesk(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "zendesk", "zendesk provision [flags]", `
provision sets the Zendesk account in ZENDESK_URL up for abusedesk, idempotently:
  - the case fields the bot keeps filled (case number, status, deadline, report count, …);
  - one macro per agent decision (accept remediation, request more information, extend
    deadline, treat as appeal, grant appeal, deny appeal, close without action, withdrawn),
    whose text uses those fields so an agent answers completely in one click;
  - the "abusedesk" webhook pointing at the desk's /webhooks/zendesk, with its signing secret;
  - the triggers that notify the desk when a customer answers, a decision macro is submitted,
    or a report arrives in the intake group (ZENDESK_INTAKE_GROUP_ID).
Objects are found by name and changed only where they differ: a second run changes nothing.`)
	dry := fs.Bool("dry-run", false, "print the plan without changing anything")
	webhookURL := fs.String("webhook-url", "", "URL Zendesk sends notifications to (default $DESK_PUBLIC_URL/webhooks/zendesk)")
	secretFile := fs.String("secret-file", "", "write a newly created webhook's signing secret to this file (mode 0600) instead of needing ZENDESK_WEBHOOK_SECRET")
	policyPath := fs.String("policy", "", "policy whose extend and more-information windows the macro texts quote (default $DESK_POLICY_FILE)")
	// The flags may come before or after the subcommand ("desk zendesk provision --dry-run",
	// as docs/running.md writes it, and "desk zendesk --dry-run provision").
	sub := ""
	if len(args) > 0 && args[0] == "provision" {
		sub, args = args[0], args[1:]
	}
	if err := parse(e, fs, args); err != nil {
		return err
	}
	if sub != "" {
		if err := fs.Parse(append([]string{"--", sub}, fs.Args()...)); err != nil {
			return usageError{err.Error()}
		}
	}
	if fs.NArg() != 1 || fs.Arg(0) != "provision" {
		fs.Usage()
		return usageError{"zendesk needs the provision subcommand"}
	}
	cfg, err := config.LoadDesk(e.lookup)
	if err != nil {
		return err
	}
	ic, err := config.LoadIntegrations(e.lookup)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	if ic.Zendesk == nil {
		return fmt.Errorf("configuration: ZENDESK_URL: not set: provisioning needs the Zendesk account")
	}
	if *policyPath != "" {
		cfg.PolicyFile = *policyPath
	}
	if *webhookURL == "" {
		if cfg.PublicURL == "" {
			return usageError{"--webhook-url or DESK_PUBLIC_URL is needed: where can Zendesk reach the desk?"}
		}
		*webhookURL = strings.TrimRight(cfg.PublicURL, "/") + "/webhooks/zendesk"
	}
	a := process.New(cfg, process.NewLogger(cfg, e.stderr), metrics.New(version))
	if err := a.LoadShared(cfg.PolicyFile); err != nil {
		return err
	}
	zc, err := zendesk.New(zendesk.Config{URL: ic.Zendesk.URL, Email: ic.Zendesk.Email, Token: ic.Zendesk.Token, GroupID: ic.Zendesk.GroupID, BrandID: ic.Zendesk.BrandID})
	if err != nil {
		return err
	}
	a.Zendesk, a.Integrations = zc, ic
	res, err := a.ProvisionZendeskTo(ctx, *webhookURL, *dry)
	if err != nil {
		return err
	}
	for _, s := range res.Steps {
		fmt.Fprintln(e.stdout, s)
	}
	verb := "changed"
	if *dry {
		verb = "would change"
	}
	fmt.Fprintf(e.stdout, "\n%s %d of %d objects in %s.\n", verb, res.Changed(), len(res.Steps), ic.Zendesk.URL)
	if res.Secret != "" {
		if *secretFile == "" {
			return fmt.Errorf("the new webhook's signing secret must be kept: rerun with --secret-file FILE (the webhook exists now, so the secret is read from Zendesk), or set ZENDESK_WEBHOOK_SECRET before creating it")
		}
		if err := os.WriteFile(*secretFile, []byte(res.Secret+"\n"), 0o600); err != nil {
			return fmt.Errorf("write the signing secret: %w", err)
		}
		fmt.Fprintf(e.stdout, "The webhook's signing secret is in %s: set ZENDESK_WEBHOOK_SECRET_FILE=%s for the desk.\n", *secretFile, *secretFile)
	}
	return nil
}
