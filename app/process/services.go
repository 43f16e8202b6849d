package process

import (
	"context"
	"fmt"
	"strings"

	"abusedesk/activities"
	"abusedesk/app/cases"
	"abusedesk/app/inbound"
	"abusedesk/app/provision"
	"abusedesk/domain/abuse"
	"abusedesk/integrations/enforcement"
	deskslack "abusedesk/integrations/slack"
	"abusedesk/integrations/zendesk"
	"abusedesk/platform/config"
)

// services are the outside systems the activities and intake talk to.
type services struct {
	tickets     activities.Tickets
	accounts    activities.Accounts
	enforcement activities.Enforcement
	messaging   activities.Messaging
	approvals   activities.Approvals
	handOffs    activities.HandOffs
	alerts      activities.Alerts
	bulk        activities.BulkBoard
}

// The integrations' clients are what the activities need of the outside systems.
var (
	_ activities.Tickets     = (*zendesk.Client)(nil)
	_ activities.Accounts    = (*enforcement.Client)(nil)
	_ activities.Enforcement = (*enforcement.Client)(nil)
	_ activities.Messaging   = (*enforcement.Client)(nil)
	_ activities.Approvals   = (*deskslack.Client)(nil)
	_ activities.Alerts      = (*deskslack.Client)(nil)
	_ activities.BulkBoard   = (*deskslack.Client)(nil)
	_ activities.Reports     = cases.Forwarder{}
)

// BuildServices makes the integration clients from their configuration and adds the
// configured Slack approvers to the policy's.
func (a *Desk) BuildServices(ic config.Integrations) error {
	if missing := ic.Missing(); len(missing) > 0 {
		return fmt.Errorf("not configured: %s", strings.Join(missing, ", "))
	}
	a.Integrations = ic
	zc, err := zendesk.New(zendesk.Config{URL: ic.Zendesk.URL, Email: ic.Zendesk.Email, Token: ic.Zendesk.Token,
		GroupID: ic.Zendesk.GroupID, BrandID: ic.Zendesk.BrandID})
	if err != nil {
		return err
	}
	for _, id := range ic.Slack.Approvers {
		if strings.HasPrefix(id, "S") {
			a.Policy.Approvers.Groups = appendNew(a.Policy.Approvers.Groups, id)
		} else {
			a.Policy.Approvers.Users = appendNew(a.Policy.Approvers.Users, id)
		}
	}
	sc, err := deskslack.New(deskslack.Config{BotToken: ic.Slack.BotToken, AppToken: ic.Slack.AppToken, Channel: ic.Slack.Channel,
		APIURL: ic.Slack.APIURL, Mention: a.Policy.Approvers.Mention()})
	if err != nil {
		return err
	}
	ec := enforcement.New(ic.Enforcement.URL, ic.Enforcement.Token)
	a.Zendesk, a.slack, a.enforcement = zc, sc, ec
	a.svc = services{tickets: zc, accounts: ec, enforcement: ec, messaging: ec, approvals: sc, alerts: sc, handOffs: sc, bulk: sc}
	a.Cases = &cases.Client{T: a.Temporal, Reinstatement: a.Policy.Reinstatement}
	return nil
}

// StartSlack mounts the interactivity endpoint (with a signing secret) and runs Socket Mode
// (with an app token): one handler behind both.
func (a *Desk) StartSlack(ctx context.Context) error {
	ic := a.Integrations.Slack
	h := &deskslack.Interactions{API: a.slack.API(), Decider: inbound.Slack{Cases: a.Cases}, HandOffs: inbound.Slack{Cases: a.Cases}, Approvers: a.Policy.Approvers.With(a.Policy.Managers).With(a.Policy.Legal.Approvers), Log: a.Log.With("component", "slack")}
	q, err := a.startInbox(ctx, "slack", h.Process, h.GiveUp)
	if err != nil {
		return err
	}
	h.Queue = q
	if ic.SigningSecret != "" && a.HTTP != nil {
		a.HTTP.Handle("POST /slack/interactions", h.HTTPHandler(ic.SigningSecret))
	}
	if ic.AppToken != "" {
		sctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			if err := h.RunSocketMode(sctx, a.slack.API()); err != nil {
				a.Log.Error("slack socket mode stopped", "error", err)
			}
		}()
		a.OnStop(func(context.Context) { cancel(); <-done })
	}
	return nil
}

func appendNew(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

// ProvisionZendesk provisions the configured Zendesk account (fields, macros, webhook,
// triggers) with the desk's own webhook URL.
func (a *Desk) ProvisionZendesk(ctx context.Context, dry bool) (*zendesk.ProvisionResult, error) {
	return a.ProvisionZendeskTo(ctx, strings.TrimRight(a.PublicURL(), "/")+"/webhooks/zendesk", dry)
}

// ProvisionZendeskTo provisions the configured Zendesk account with the given webhook URL.
func (a *Desk) ProvisionZendeskTo(ctx context.Context, webhookURL string, dry bool) (*zendesk.ProvisionResult, error) {
	rules := a.Policy.Categories[abuse.Spam]
	return a.Zendesk.Provision(ctx, zendesk.ProvisionOptions{
		WebhookURL: webhookURL, WebhookSecret: a.Integrations.Zendesk.WebhookSecret, IntakeGroupID: a.Integrations.Zendesk.IntakeGroupID,
		Fields: provision.Fields(), Macros: provision.Macros(a.Templates, rules.ExtendBy.D(), rules.MoreInfoWindow.D()), DryRun: dry,
	})
}
