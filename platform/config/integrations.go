package config

import (
	"net/mail"
	"strconv"
	"strings"
)

// Zendesk says how to reach the Zendesk account.
type Zendesk struct {
	URL           string
	Email         string
	Token         string
	WebhookSecret string
	GroupID       int64
	BrandID       int64
	IntakeGroupID int64
	// LegalGroupID is the restricted group of legal-track tickets; SupportGroupID the group of
	// customers asking for help (customer track). 0: the desk's group.
	LegalGroupID   int64
	SupportGroupID int64
	// LegalAddress is the legal team's support address: a legal ticket's mail (the receipts
	// and answers to the authority) goes from it ("": the account's default address).
	LegalAddress string
}

// Slack says how to reach the leads' Slack workspace.
type Slack struct {
	BotToken      string
	SigningSecret string
	AppToken      string
	Channel       string
	// LegalChannel is where legal-track alerts go ("": the leads' channel).
	LegalChannel string
	APIURL       string
	// Approvers are extra approver user (U…) and group (S…) IDs added to the policy's.
	Approvers []string
}

// Enforcement says how to reach the enforcement API.
type Enforcement struct {
	URL   string
	Token string
}

// Integrations are the outside services; a nil one is not configured (`desk dev` stands the
// sandbox in for it; `desk run` refuses to start).
type Integrations struct {
	Zendesk     *Zendesk
	Slack       *Slack
	Enforcement *Enforcement
}

// Missing names the services that are not configured.
func (i Integrations) Missing() []string {
	var m []string
	if i.Zendesk == nil {
		m = append(m, "Zendesk (ZENDESK_URL)")
	}
	if i.Slack == nil {
		m = append(m, "Slack (SLACK_BOT_TOKEN)")
	}
	if i.Enforcement == nil {
		m = append(m, "the enforcement API (ENFORCEMENT_URL)")
	}
	return m
}

// LoadIntegrations reads the services' settings. A service is configured when its first
// variable is set; then its other required variables must be set too.
func LoadIntegrations(lookup Lookup) (Integrations, error) {
	r := &reader{lookup: lookup}
	var out Integrations
	if _, set := r.raw("ZENDESK_URL"); set {
		z := &Zendesk{
			URL:            r.httpURL("ZENDESK_URL"),
			Email:          r.str("ZENDESK_EMAIL"),
			Token:          r.secret("ZENDESK_API_TOKEN"),
			WebhookSecret:  r.secret("ZENDESK_WEBHOOK_SECRET"),
			GroupID:        r.id("ZENDESK_GROUP_ID"),
			BrandID:        r.id("ZENDESK_BRAND_ID"),
			IntakeGroupID:  r.id("ZENDESK_INTAKE_GROUP_ID"),
			LegalGroupID:   r.id("ZENDESK_LEGAL_GROUP_ID"),
			SupportGroupID: r.id("ZENDESK_SUPPORT_GROUP_ID"),
			LegalAddress:   r.str("ZENDESK_LEGAL_ADDRESS"),
		}
		if a := z.LegalAddress; a != "" {
			if _, err := mail.ParseAddress(a); err != nil || strings.ContainsAny(a, "<> ") {
				r.fail("ZENDESK_LEGAL_ADDRESS", "%q is not an e-mail address (the legal team's Zendesk support address, e.g. legal@provider.example)", a)
			}
		}
		r.require(z.Email, "ZENDESK_EMAIL", "the agent email the API token belongs to")
		r.require(z.Token, "ZENDESK_API_TOKEN", "a Zendesk API token")
		out.Zendesk = z
	}
	if _, set := r.raw("SLACK_BOT_TOKEN"); set {
		s := &Slack{
			BotToken:      r.secret("SLACK_BOT_TOKEN"),
			SigningSecret: r.secret("SLACK_SIGNING_SECRET"),
			AppToken:      r.secret("SLACK_APP_TOKEN"),
			Channel:       r.str("SLACK_CHANNEL"),
			LegalChannel:  r.str("SLACK_LEGAL_CHANNEL"),
			APIURL:        r.httpURL("SLACK_API_URL"),
			Approvers:     r.list("SLACK_APPROVERS"),
		}
		r.require(s.Channel, "SLACK_CHANNEL", "the leads' channel for approval requests")
		if s.SigningSecret == "" && s.AppToken == "" {
			r.fail("SLACK_SIGNING_SECRET", "set it (HTTP interactivity) or SLACK_APP_TOKEN (Socket Mode): without one the buttons cannot reach the desk")
		}
		if s.AppToken != "" && !strings.HasPrefix(s.AppToken, "xapp-") {
			r.fail("SLACK_APP_TOKEN", "an app-level token starts with xapp-")
		}
		for _, a := range s.Approvers {
			if !strings.HasPrefix(a, "U") && !strings.HasPrefix(a, "W") && !strings.HasPrefix(a, "S") {
				r.fail("SLACK_APPROVERS", "%q is neither a user (U…) nor a user group (S…) ID", a)
			}
		}
		out.Slack = s
	}
	if _, set := r.raw("ENFORCEMENT_URL"); set {
		e := &Enforcement{URL: r.httpURL("ENFORCEMENT_URL"), Token: r.secret("ENFORCEMENT_TOKEN")}
		r.require(e.Token, "ENFORCEMENT_TOKEN", "the enforcement API's bearer token")
		out.Enforcement = e
	}
	return out, r.err()
}

func (r *reader) require(v, name, what string) {
	if v == "" {
		r.fail(name, "not set: %s is needed", what)
	}
}

func (r *reader) id(name string) int64 {
	s, _ := r.raw(name)
	if s == "" {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		r.fail(name, "%q is not a numeric ID", s)
	}
	return n
}
