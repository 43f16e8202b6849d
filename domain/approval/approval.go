// Package approval is the vocabulary of a lead's approval of an escalation, shared by the Case
// workflow, its activities, the policy and the Slack integration: the request posted to the
// leads, the message it lives in, a lead's decision, and who may decide. It depends only on
// the abuse vocabulary.
package approval

import (
	"slices"
	"strings"
	"time"

	"abusedesk/domain/abuse"
)

// A lead's decisions on an approval request.
const (
	Approve = "approve"
	Deny    = "deny"
	Extend  = "extend"
)

// Decision is a lead's click on an approval request.
type Decision struct {
	Decision string `json:"decision"`
	// UserID is the Slack user of the signed interaction; UserEmail their address (to keep
	// appeal reviewers apart). Whether they may decide is the case's to say, from the deciders
	// it resolved itself: a decision carries no claim of groups.
	UserID    string `json:"user_id"`
	UserName  string `json:"user_name,omitempty"`
	UserEmail string `json:"user_email,omitempty"`
	Reason    string `json:"reason,omitempty"`
	// RequestID names the click: a decision delivered twice with one ID is applied once.
	RequestID string `json:"request_id,omitempty"`
}

// Message points at the message of an approval request (a Slack channel and timestamp).
type Message struct {
	Channel   string `json:"channel"`
	TS        string `json:"ts"`
	Permalink string `json:"permalink,omitempty"`
}

// Reports is what a request shows of the case's reports.
type Reports struct {
	Count     int
	FirstSeen time.Time
	LastSeen  time.Time
}

// Post is an approval request for the leads' channel.
type Post struct {
	// Step identifies the request so a retried post finds the first one.
	Step       string
	CaseID     string
	CaseNumber string
	CaseURL    string
	TicketURL  string
	Account    abuse.Account
	Category   abuse.Category
	Reports    Reports
	Action     string
	Reason     string
	Deadline   time.Time
	Ping       int
	// Mention, when set, names who is asked now (the managers, up the chain) instead of the
	// channel's usual mention.
	Mention string
	Text    string
	// Channel is where the request goes ("": the leads' channel); a legal matter's request
	// goes to the legal channel.
	Channel string
}

// Show rewrites a request to show its decision.
type Show struct {
	CaseNumber string
	CaseURL    string
	Text       string
	Decision   string
	DecidedBy  string
	DecidedAt  time.Time
	Reason     string
}

// Approvers are the Slack users (U…) and user groups (S…) who may approve or deny.
type Approvers struct {
	Users  []string `yaml:"users" json:"users,omitempty"`
	Groups []string `yaml:"groups" json:"groups,omitempty"`
}

// Mention is the Slack mark-up that mentions every user and user group.
func (a Approvers) Mention() string {
	var parts []string
	for _, u := range a.Users {
		parts = append(parts, "<@"+u+">")
	}
	for _, g := range a.Groups {
		parts = append(parts, "<!subteam^"+g+">")
	}
	return strings.Join(parts, " ")
}

// With returns the users and groups of both lists (the leads and the managers, say).
func (a Approvers) With(b Approvers) Approvers {
	return Approvers{Users: slices.Concat(a.Users, b.Users), Groups: slices.Concat(a.Groups, b.Groups)}
}

// IsApprover reports whether a Slack user (with the groups it belongs to) may decide.
func (a Approvers) IsApprover(user string, groups []string) bool {
	if user == "" {
		return false
	}
	if slices.Contains(a.Users, user) {
		return true
	}
	for _, g := range groups {
		if slices.Contains(a.Groups, g) {
			return true
		}
	}
	return false
}
