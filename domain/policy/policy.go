// Package policy holds the abuse desk's rules — per category: the response window, reminders,
// the escalation action, whether a lead must approve, approval timeouts, the appeal window and
// SLA — loaded from YAML (with an embedded default) and validated at start.
//
// A case never reads the policy file: intake puts a Snapshot of the rules for the case's
// category in the case's input, so a running case keeps the rules it started with.
package policy

import (
	"abusedesk/domain/calendar"
	"bytes"
	"cmp"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"abusedesk/domain/abuse"
	"abusedesk/domain/approval"
)

//go:embed default.yaml
var defaultYAML []byte

// DefaultYAML is the embedded default policy, for `desk policy show` and as a starting point.
func DefaultYAML() []byte { return bytes.Clone(defaultYAML) }

// Duration is a time.Duration written in YAML as "90s", "24h" or "14d".
type Duration time.Duration

// D converts to time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String prints the duration the way it may be written: "14d", "36h", "90m", "1h30m", "45s".
func (d Duration) String() string {
	t := time.Duration(d)
	if t >= 48*time.Hour && t%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(t/(24*time.Hour)), 10) + "d"
	}
	s := t.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// UnmarshalYAML accepts Go durations and a whole number of days ("14d").
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return fmt.Errorf("line %d: want a duration like 30s, 24h or 14d", n.Line)
	}
	v, err := ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// ParseDuration parses "90s", "1h30m" or "14d".
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a duration like 30s, 24h or 14d", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration like 30s, 24h or 14d", s)
	}
	return v, nil
}

// MarshalYAML writes the duration back in the same form.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// MarshalJSON writes the duration as people write it ("72h", "14d"), in the status query, the
// cases API and the snapshot a case carries.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads "72h" or "14d", and the nanoseconds that cases started before durations
// were strings carry.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var ns int64
	if err := json.Unmarshal(b, &ns); err == nil {
		*d = Duration(ns)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration like \"30s\", \"24h\" or \"14d\", got %s", b)
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// What happens when an approval request times out.
const (
	// OnTimeoutEnforce applied the action without a decision. Policies may no longer say it;
	// cases started under it before the approval chain replay as they ran.
	OnTimeoutEnforce = "enforce"
	OnTimeoutHold    = "hold" // ask the managers (if any), then wait for a person with no further timer
)

// Action is the enforcement applied at escalation.
type Action struct {
	Type  abuse.ActionType `yaml:"type" json:"type"`
	Level int              `yaml:"level,omitempty" json:"level,omitempty"`
	// For limits how long the action stays; zero means until lifted.
	For Duration `yaml:"for,omitempty" json:"for,omitempty"`
}

// Approval says when a lead must approve an escalation and what happens if none answers.
type Approval struct {
	Required bool `yaml:"required" json:"required"`
	// Timeout is how long one approval request waits for a decision.
	Timeout Duration `yaml:"timeout" json:"timeout"`
	// Repings is how many times the request is re-sent (each waiting Timeout again) before
	// OnTimeout applies.
	Repings   int    `yaml:"repings" json:"repings"`
	OnTimeout string `yaml:"on_timeout" json:"on_timeout"`
	// FirstEnforcement has a lead approve the first action against an account with no prior
	// violation, whatever else allows the desk to act alone.
	FirstEnforcement bool `yaml:"first_enforcement,omitempty" json:"first_enforcement,omitempty"`
}

// Appeal is how long a customer may appeal an enforcement and how fast it is decided.
type Appeal struct {
	Window    Duration   `yaml:"window" json:"window"`
	SLA       Duration   `yaml:"sla" json:"sla"`
	Reminders []Duration `yaml:"reminders" json:"reminders"`
	// Calendar names the reviewers' calendar: the SLA counts working time only (the customer's
	// appeal window stays wall-clock time). Empty: wall-clock time.
	Calendar string             `yaml:"calendar,omitempty" json:"calendar,omitempty"`
	Hours    *calendar.Calendar `yaml:"-" json:"hours,omitempty"`
}

// SLADue is when the decision on an appeal received at start is due.
func (a Appeal) SLADue(start time.Time) time.Time { return due(start, a.SLA, a.Hours) }

// Surge pulls the deadline in when many reports arrive while a case waits: once the case has
// Reports reports, the deadline is at most Deadline away. Zero Reports turns it off.
type Surge struct {
	Reports  int      `yaml:"reports" json:"reports"`
	Deadline Duration `yaml:"deadline" json:"deadline"`
}

// Rules are the resolved rules for one category.
type Rules struct {
	Category abuse.Category `yaml:"-" json:"category"`
	// ResponseWindow is how long the customer has to answer the notice.
	ResponseWindow Duration `yaml:"response_window" json:"response_window"`
	// Reminders are offsets from the start of a wait at which a reminder is sent.
	Reminders []Duration `yaml:"reminders" json:"reminders"`
	// MoreInfoWindow is the new window when an agent asks the customer for more.
	MoreInfoWindow Duration `yaml:"more_info_window" json:"more_info_window"`
	// ExtendBy is how much an agent's or lead's "extend" adds.
	ExtendBy Duration `yaml:"extend_by" json:"extend_by"`
	Surge    Surge    `yaml:"surge" json:"surge"`
	Action   Action   `yaml:"action" json:"action"`
	Approval Approval `yaml:"approval" json:"approval"`
	Appeal   Appeal   `yaml:"appeal" json:"appeal"`
	// ReviewSLA is how long an agent has once a case waits under review — the customer
	// answered, a lead denied the action, the fix did not hold, a step failed — before the
	// work queue shows it overdue. 0: no due time.
	ReviewSLA Duration `yaml:"review_sla,omitempty" json:"review_sla,omitempty"`
	// AcknowledgeReporters sends each reporter (up to a bound) the outcome when a case closes.
	AcknowledgeReporters bool `yaml:"acknowledge_reporters" json:"acknowledge_reporters"`
	// DiscloseReporters lets customer notices name the reporters and quote their reports;
	// off, they carry no personal data of a reporter (the statement of reasons names the
	// source, not the person).
	DiscloseReporters bool `yaml:"disclose_reporters,omitempty" json:"disclose_reporters,omitempty"`
	// DedupeWindow: a new incident whose every report the account's previous incident (same
	// category, closed less than this ago) already handled is closed as a duplicate. 0 turns
	// it off.
	DedupeWindow Duration `yaml:"dedupe_window,omitempty" json:"dedupe_window,omitempty"`
	// Corroboration is what lets a deadline end in an automatic action: enough distinct
	// reporters, or a trusted one. Otherwise a lead decides (an approval request that never
	// times out into enforcement).
	Corroboration Corroboration `yaml:"corroboration,omitempty" json:"corroboration,omitzero"`
	// MaxAge is how old the evidence may be for the desk to act on it alone: when the newest
	// report's event is older, the case waits for a person (triage) before any notice,
	// deadline or action. 0 turns the check off.
	MaxAge Duration `yaml:"max_age,omitempty" json:"max_age,omitempty"`
	// Remediation is how a fix is verified before the case closes as remediated.
	Remediation Remediation `yaml:"remediation,omitempty" json:"remediation,omitzero"`
}

// Corroboration is what a case needs before its deadline may end in an automatic action:
// reports from Reporters distinct reporters, or one from a Trusted reporter (an address, or a
// domain: every address there). Reporters 0 (or 1) asks for nothing more than the report.
type Corroboration struct {
	Reporters int      `yaml:"reporters,omitempty" json:"reporters,omitempty"`
	Trusted   []string `yaml:"trusted,omitempty" json:"trusted,omitempty"`
}

// Corroborated says whether reporters corroborate a case: why ("" when they do not).
func (c Corroboration) Corroborated(reporters []string, more int) string {
	for _, r := range reporters {
		r = strings.ToLower(strings.TrimSpace(r))
		_, dom, _ := strings.Cut(r, "@")
		for _, t := range c.Trusted {
			t = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(t), "@"))
			if t != "" && (r == t || dom == t) {
				return "a trusted reporter (" + r + ")"
			}
		}
	}
	if n := len(reporters) + more; n >= max(c.Reporters, 1) {
		if c.Reporters <= 1 {
			return "the policy asks for no corroboration"
		}
		return fmt.Sprintf("%d distinct reporters (the policy asks for %d)", n, c.Reporters)
	}
	return ""
}

// Remediation checks. CheckHTTP: each reported URL no longer answers with content.
// CheckBlocklist: each reported address is off the DNS blocklists named in Blocklists.
// CheckFeed: no report about the case seen after the fix was accepted.
const (
	CheckHTTP      = "http"
	CheckBlocklist = "blocklist"
	CheckFeed      = "feed"
)

// RemediationChecks lists the checks a policy may name.
var RemediationChecks = []string{CheckHTTP, CheckBlocklist, CheckFeed}

// Remediation says how a customer's fix is verified: once an agent accepts it, the Checks run
// at each offset of Verify (from the acceptance); a check that finds it not fixed, or could not
// tell at the last offset, reopens the case for an agent. The case closes as remediated after
// the last offset. No offsets (or nothing the checks can look at) takes the fix on trust.
type Remediation struct {
	Verify     []Duration `yaml:"verify" json:"verify,omitempty"`
	Checks     []string   `yaml:"checks" json:"checks,omitempty"`
	Blocklists []string   `yaml:"blocklists" json:"blocklists,omitempty"`
}

// Has reports whether the policy names check c.
func (r Remediation) Has(c string) bool { return slices.Contains(r.Checks, c) }

// RepeatOffender is the stricter track for accounts with prior violations.
type RepeatOffender struct {
	MinPriorViolations int      `yaml:"min_prior_violations" json:"min_prior_violations"`
	MaxResponseWindow  Duration `yaml:"max_response_window" json:"max_response_window"`
	RequireApproval    bool     `yaml:"require_approval" json:"require_approval"`
	LevelIncrease      int      `yaml:"level_increase" json:"level_increase"`
}

// Triage is the gate before a case acts: a case whose every report is uncertain waits for a
// person before anything is sent.
type Triage struct {
	// Confidence is the threshold: a report the parser is less sure of (0..1) is uncertain, as
	// is one of category "other" or one whose sources belong to several accounts. 0 turns the
	// confidence test off.
	Confidence float64 `yaml:"confidence" json:"confidence"`
	// SLA is how long a case may wait for triage; Reminders are internal notes on the way
	// (offsets from the start of the wait). At the SLA the leads get a Slack alert; the case
	// still waits.
	SLA       Duration   `yaml:"sla" json:"sla"`
	Reminders []Duration `yaml:"reminders" json:"reminders"`
	// TrustedSLA is the SLA of a case holding a notice from a trusted flagger
	// (transparency.trusted_flaggers, DSA Art. 22: processed with priority), when shorter. 0:
	// the same SLA as everyone's. TrustedFlaggers is that list, copied into each case's snapshot.
	TrustedSLA      Duration `yaml:"trusted_sla,omitempty" json:"trusted_sla,omitempty"`
	TrustedFlaggers []string `yaml:"-" json:"trusted_flaggers,omitempty"`
	// Calendar names the calendar (the calendars section) the SLA runs on: working time only.
	// Empty: wall-clock time. Reminders stay wall-clock offsets.
	Calendar string `yaml:"calendar,omitempty" json:"calendar,omitempty"`
	// Hours is that calendar, resolved when the policy is loaded.
	Hours *calendar.Calendar `yaml:"-" json:"hours,omitempty"`
}

// Due is when an SLA of d from start passes: on the calendar when there is one.
func due(start time.Time, d Duration, hours *calendar.Calendar) time.Time {
	if hours == nil {
		return start.Add(d.D())
	}
	return hours.Add(start, d.D())
}

// Trusted says whether a reporter is a trusted flagger (as Transparency.Trusted).
func (t Triage) Trusted(reporter string) bool {
	return Transparency{TrustedFlaggers: t.TrustedFlaggers}.Trusted(reporter)
}

// Due is when the triage SLA started at start passes.
func (t Triage) Due(start time.Time) time.Time { return due(start, t.SLA, t.Hours) }

// Legal is the legal track: law-enforcement requests (and CSAM notices) are handled in a
// restricted group, never with a word to the customer, and decided by the due time.
type Legal struct {
	// Due is how long the legal team has to decide; Reminders are internal notes and a Slack
	// alert to the legal channel on the way (offsets from the request).
	Due       Duration   `yaml:"due" json:"due"`
	Reminders []Duration `yaml:"reminders" json:"reminders"`
	// Calendar names the legal team's calendar: Due counts working time only. Empty:
	// wall-clock time.
	Calendar string             `yaml:"calendar,omitempty" json:"calendar,omitempty"`
	Hours    *calendar.Calendar `yaml:"-" json:"hours,omitempty"`
	// Preservation is how long records are kept once preserved (default 90 days, as 18 U.S.C.
	// 2703(f) and most preservation orders ask); Extension how much "extend preservation" adds
	// (default the same again); PreservationReminder how long before the preservation lapses
	// the legal team is reminded (default 14 days).
	Preservation         Duration `yaml:"preservation,omitempty" json:"preservation,omitempty"`
	Extension            Duration `yaml:"extension,omitempty" json:"extension,omitempty"`
	PreservationReminder Duration `yaml:"preservation_reminder,omitempty" json:"preservation_reminder,omitempty"`
	// Receipt sends the requesting authority an acknowledgement of receipt on the restricted
	// ticket, in the request's language, when a request arrives, and the legal team's final
	// answer when the matter closes (default on; false: the legal team writes them).
	Receipt *bool `yaml:"receipt,omitempty" json:"receipt,omitempty"`
	// OnCall is who is paged in the legal channel at once when an emergency disclosure
	// request (a threat to life) arrives: Slack users U… and user groups S…; EmergencyDue is
	// how long the legal team then has (default 1 hour).
	OnCall       approval.Approvers `yaml:"oncall,omitempty" json:"oncall,omitzero"`
	EmergencyDue Duration           `yaml:"emergency_due,omitempty" json:"emergency_due,omitempty"`
	// Approvers approve a legal matter's action (a CSAM notice's takedown): Slack users U…
	// and user groups S… of the legal team, asked in the legal channel. Empty: the leads, in
	// theirs (who cannot open a legal case when people sign in: set it).
	Approvers approval.Approvers `yaml:"approvers,omitempty" json:"approvers,omitzero"`
	// HotlineDue is how long the legal team has to report a CSAM notice's content to the
	// hotline (NCMEC's CyberTipline, the IWF, a national hotline; default 24 hours).
	HotlineDue Duration `yaml:"hotline_due,omitempty" json:"hotline_due,omitempty"`
}

// HotlineWindow is how long the legal team has to report CSAM to the hotline.
func (l Legal) HotlineWindow() time.Duration { return cmp.Or(l.HotlineDue.D(), 24*time.Hour) }

// EmergencyWindow is how long the legal team has to answer an emergency disclosure request.
func (l Legal) EmergencyWindow() time.Duration { return cmp.Or(l.EmergencyDue.D(), time.Hour) }

// Defaults of the legal track's clocks.
const (
	DefaultPreservation         = 90 * 24 * time.Hour
	DefaultPreservationReminder = 14 * 24 * time.Hour
)

// PreservationPeriod is how long a preservation keeps records.
func (l Legal) PreservationPeriod() time.Duration {
	return cmp.Or(l.Preservation.D(), DefaultPreservation)
}

// ExtensionPeriod is how much an extension adds to a preservation.
func (l Legal) ExtensionPeriod() time.Duration {
	return cmp.Or(l.Extension.D(), l.PreservationPeriod())
}

// PreservationReminderBefore is how long before a preservation lapses the legal team hears of it.
func (l Legal) PreservationReminderBefore() time.Duration {
	return cmp.Or(l.PreservationReminder.D(), DefaultPreservationReminder)
}

// SendsReceipts says whether the authority gets a receipt and the final answer from the desk.
func (l Legal) SendsReceipts() bool { return l.Receipt == nil || *l.Receipt }

// Team is another team work can be handed to: where its linked ticket goes (a Zendesk group),
// its Slack channel (the hand-off message with Resolve, Need info and Reassign), how long it
// has (SLA, on its calendar if it names one), and who is pinged in turn once the SLA passes
// (Chain: Slack users U… or user groups S…, e.g. the team lead, then the T&S manager), one
// every Step (default: the SLA again).
type Team struct {
	Title    string             `yaml:"title" json:"title"`
	Group    int64              `yaml:"group,omitempty" json:"group,omitempty"`
	Channel  string             `yaml:"channel" json:"channel"`
	SLA      Duration           `yaml:"sla" json:"sla"`
	Chain    []string           `yaml:"chain,omitempty" json:"chain,omitempty"`
	Step     Duration           `yaml:"step,omitempty" json:"step,omitempty"`
	Calendar string             `yaml:"calendar,omitempty" json:"calendar,omitempty"`
	Hours    *calendar.Calendar `yaml:"-" json:"hours,omitempty"`
	// PauseCase stops the customer's response deadline and reminders while a hand-off to the
	// team is open; they resume shifted by the pause. Off, the case's timers keep running.
	PauseCase bool `yaml:"pause_case,omitempty" json:"pause_case,omitempty"`
}

// Due is when a hand-off to the team made at start is due.
func (t Team) Due(start time.Time) time.Time { return due(start, t.SLA, t.Hours) }

// StepAfter is when the chain's next ping falls after at.
func (t Team) StepAfter(at time.Time) time.Time { return due(at, cmp.Or(t.Step, t.SLA), t.Hours) }

// Name is how people read a team: its title, or its name.
func (t Team) Name(name string) string { return cmp.Or(t.Title, name) }

// Reinstatement is how a customer's request to lift an action after the appeal window is
// reviewed: a reviewer other than the approver decides within SLA (internal reminders on the
// way); a granted request lifts the action and starts a probation of Probation, during which a
// new incident on the account goes on the strict track, needs a lead's approval, and is
// recorded as a re-offence.
type Reinstatement struct {
	SLA       Duration   `yaml:"sla" json:"sla"`
	Reminders []Duration `yaml:"reminders" json:"reminders"`
	Probation Duration   `yaml:"probation" json:"probation"`
	// Calendar names the reviewers' calendar: the SLA counts working time only.
	Calendar string             `yaml:"calendar,omitempty" json:"calendar,omitempty"`
	Hours    *calendar.Calendar `yaml:"-" json:"hours,omitempty"`
}

// Due is when the decision on a request received at start is due.
func (r Reinstatement) Due(start time.Time) time.Time { return due(start, r.SLA, r.Hours) }

// DueAt is when the legal team's decision on a request received at start is due.
func (l Legal) DueAt(start time.Time) time.Time { return due(start, l.Due, l.Hours) }

// CalendarSpec is a calendar as the policy file writes it.
type CalendarSpec struct {
	Zone     string   `yaml:"zone"`
	Days     []string `yaml:"days"`
	Hours    string   `yaml:"hours"`
	Holidays []string `yaml:"holidays"`
}

// Advisory is the advisory track: a customer's vulnerable, infected or compromised host gets
// fix-it guidance, never a violation.
type Advisory struct {
	// Renotify is the least time between two updates to the customer while new reports still
	// list the host (one digest per customer and class per period).
	Renotify Duration `yaml:"renotify" json:"renotify"`
	// Quiet closes the case when no report listed the host for this long.
	Quiet Duration `yaml:"quiet" json:"quiet"`
}

// Monitoring watches the provider's own networks on reputation blocklists before the complaints
// arrive: a Temporal Schedule looks a slice of the networks' addresses up on each blocklist
// every Every, and a listing becomes a report of category blocklist about the address, which
// opens or joins the advisory case of the account that holds it (an address nobody holds goes to
// a person). Off while Networks or Blocklists is empty.
type Monitoring struct {
	// Networks are the provider's own ranges (CIDR, IPv4 and IPv6).
	Networks []string `yaml:"networks" json:"networks,omitempty"`
	// Blocklists are the DNS blocklists (RFC 5782 zones) to look the addresses up on.
	Blocklists []Blocklist `yaml:"blocklists" json:"blocklists,omitempty"`
	// Every is how often a slice is checked; PerRun how many addresses a slice holds. IPv4
	// networks are looked up address by address, IPv6 networks one address per /64 (lists
	// list IPv6 space by /64); successive slices go round the networks, so every address is
	// checked every ceil(addresses / PerRun) × Every.
	Every  Duration `yaml:"every" json:"every"`
	PerRun int      `yaml:"per_run" json:"per_run"`
	// Relisted: a listing within this long of the account's previous blocklist incident
	// closing delisted is a relisting — the fix did not hold — and its case says so.
	Relisted Duration `yaml:"relisted" json:"relisted"`
	// Infrastructure are the provider's own addresses in the networks (its mail relays,
	// resolvers, NAT gateways; CIDR). A listing there, or of an address no customer holds
	// (unassigned space), goes to the operations queue, not to a customer's case.
	Infrastructure []string `yaml:"infrastructure" json:"infrastructure,omitempty"`
	// OperationsGroup is the ticketing group of the operations queue (0: the desk's group; the
	// tickets carry the tag abusedesk_operations either way).
	OperationsGroup int64 `yaml:"operations_group" json:"operations_group,omitempty"`
}

// Blocklist is one DNS blocklist: its zone, its name as a customer knows it, and where a listed
// address asks for delisting.
type Blocklist struct {
	Zone   string `yaml:"zone" json:"zone"`
	Name   string `yaml:"name" json:"name,omitempty"`
	Delist string `yaml:"delist" json:"delist,omitempty"`
}

// On says whether there is anything to monitor.
func (m Monitoring) On() bool { return len(m.Networks) > 0 && len(m.Blocklists) > 0 }

// Prefixes are the networks, parsed (the validator refused any that does not parse).
func (m Monitoring) Prefixes() []netip.Prefix { return prefixes(m.Networks) }

// InfrastructurePrefixes are the provider's own addresses, parsed.
func (m Monitoring) InfrastructurePrefixes() []netip.Prefix { return prefixes(m.Infrastructure) }

// IsInfrastructure says whether an address is the provider's own infrastructure.
func (m Monitoring) IsInfrastructure(addr netip.Addr) bool {
	for _, p := range m.InfrastructurePrefixes() {
		if p.Contains(addr.Unmap()) {
			return true
		}
	}
	return false
}

func prefixes(list []string) []netip.Prefix {
	var out []netip.Prefix
	for _, n := range list {
		if p, err := netip.ParsePrefix(strings.TrimSpace(n)); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// Transparency says how the DSA transparency report (`desk report transparency`) counts.
type Transparency struct {
	// TrustedFlaggers are reporters whose notices count as from trusted flaggers: addresses,
	// or "@domain" for every address of a domain.
	TrustedFlaggers []string `yaml:"trusted_flaggers" json:"trusted_flaggers,omitempty"`
	// LawCategories are the categories whose actions are taken on the basis of the law (the
	// content is illegal); actions in the others rest on the terms and conditions.
	LawCategories []abuse.Category `yaml:"law_categories" json:"law_categories,omitempty"`
	// Clause is the contractual clause (or the law) an action rests on, named in its statement
	// of reasons (DSA Art. 17(3)(d)); Clauses names it per category.
	Clause  string                    `yaml:"clause" json:"clause,omitempty"`
	Clauses map[abuse.Category]string `yaml:"clauses" json:"clauses,omitempty"`
	// Redress names the routes besides our own appeal that a statement of reasons offers (Art.
	// 17(3)(f)): out-of-court dispute settlement (Art. 21) and the courts.
	Redress Redress `yaml:"redress" json:"redress,omitzero"`
}

// Redress is what a customer can do about a decision besides appealing to us.
type Redress struct {
	OutOfCourt string `yaml:"out_of_court" json:"out_of_court,omitempty"`
	Judicial   string `yaml:"judicial" json:"judicial,omitempty"`
}

// Reasons is what a case's statement of reasons takes from the policy: the ground of its
// category's actions and the redress routes.
type Reasons struct {
	// Ground is the clause or the law; Law says it is the law (the content is illegal), not the
	// terms and conditions.
	Ground     string `json:"ground,omitempty"`
	Law        bool   `json:"law,omitempty"`
	OutOfCourt string `json:"out_of_court,omitempty"`
	Judicial   string `json:"judicial,omitempty"`
}

// DefaultReasonsFor is what the embedded default names for category c (for a case whose
// snapshot predates the policy's reasons).
func DefaultReasonsFor(c abuse.Category) Reasons { return defaultTransparency.ReasonsFor(c) }

// ReasonsFor is the statement-of-reasons part of the policy for category c.
func (t Transparency) ReasonsFor(c abuse.Category) Reasons {
	ground := t.Clause
	if s := strings.TrimSpace(t.Clauses[c]); s != "" {
		ground = s
	}
	return Reasons{Ground: ground, Law: t.Ground(c) == "law", OutOfCourt: t.Redress.OutOfCourt, Judicial: t.Redress.Judicial}
}

// ClauseFor is the clause (or the law) the actions in category c rest on.
func (t Transparency) ClauseFor(c abuse.Category) string { return t.ReasonsFor(c).Ground }

// Trusted says whether a reporter is a trusted flagger.
func (t Transparency) Trusted(reporter string) bool {
	r := strings.ToLower(strings.TrimSpace(reporter))
	for _, f := range t.TrustedFlaggers {
		f = strings.ToLower(strings.TrimSpace(f))
		if f != "" && (r == f || strings.HasPrefix(f, "@") && strings.HasSuffix(r, f)) {
			return true
		}
	}
	return false
}

// Ground is "law" for an action in a law category, "terms" otherwise.
func (t Transparency) Ground(c abuse.Category) string {
	if slices.Contains(t.LawCategories, c) {
		return "law"
	}
	return "terms"
}

// Trends are the spike rules: a count of reports over a window (per category, reporter,
// account and network) that reaches Floor and Factor times its mean over the Baseline before
// posts one alert to the leads; Clusters link accounts by shared indicators.
type Trends struct {
	Window   Duration `yaml:"window" json:"window"`
	Baseline Duration `yaml:"baseline" json:"baseline"`
	Factor   float64  `yaml:"factor" json:"factor"`
	Floor    int      `yaml:"floor" json:"floor"`
	// Quiet is the least time between two alerts about the same thing.
	Quiet Duration `yaml:"quiet" json:"quiet"`
	// ClusterMaxAccounts: an indicator more accounts than this share is too common to link
	// them (a webmail domain).
	ClusterMaxAccounts int `yaml:"cluster_max_accounts" json:"cluster_max_accounts"`
	// OwnDomains are the provider's own domains (its mail, web and customer subdomains): a
	// host, domain or sender of one of them (or below) links no accounts.
	OwnDomains []string `yaml:"own_domains" json:"own_domains,omitempty"`
}

// QA is quality sampling: a share of the decisions made on cases (an enforcement, an appeal's
// decision, an agent's closing decision) enters the review queue, where a reviewer who did not
// make the decision agrees or disagrees.
type QA struct {
	// SampleRate is the share (0–1) of decisions sampled; Categories overrides it per category.
	SampleRate float64                    `yaml:"sample_rate" json:"sample_rate"`
	Categories map[abuse.Category]float64 `yaml:"categories" json:"categories,omitempty"`
}

// Rate is the share of category c's decisions that are sampled.
func (q QA) Rate(c abuse.Category) float64 {
	if r, ok := q.Categories[c]; ok {
		return r
	}
	return q.SampleRate
}

var (
	defaultQA     = QA{SampleRate: 0.05}
	defaultTrends = Trends{Window: Duration(time.Hour), Baseline: Duration(7 * 24 * time.Hour), Factor: 3, Floor: 20,
		Quiet: Duration(24 * time.Hour), ClusterMaxAccounts: 20}
	defaultTransparency = Transparency{LawCategories: []abuse.Category{abuse.CSAM, abuse.Copyright, abuse.Phishing, abuse.Malware, abuse.LegalRequest},
		Clause: "our Acceptable Use Policy", Redress: Redress{
			OutOfCourt: "a certified out-of-court dispute settlement body under Article 21 of the Digital Services Act",
			Judicial:   "the courts competent under your contract with us",
		}}
	defaultLegal     = Legal{Due: Duration(72 * time.Hour), Reminders: []Duration{Duration(24 * time.Hour), Duration(48 * time.Hour)}}
	defaultReinstate = Reinstatement{SLA: Duration(72 * time.Hour), Reminders: []Duration{Duration(48 * time.Hour)}, Probation: Duration(90 * 24 * time.Hour)}
	defaultAdvisory  = Advisory{Renotify: Duration(24 * time.Hour), Quiet: Duration(7 * 24 * time.Hour)}
	defaultMonitor   = Monitoring{Every: Duration(time.Hour), PerRun: 1024, Relisted: Duration(30 * 24 * time.Hour)}
)

// defaultTriage is the gate of a policy file that has no triage section (the embedded default
// says the same).
var defaultTriage = Triage{Confidence: 0.5, SLA: Duration(4 * time.Hour), Reminders: []Duration{Duration(time.Hour), Duration(2 * time.Hour)}}

// NotOurs says what to do with reports about addresses that belong to no customer.
type NotOurs struct {
	// Reply answers the reporter that the address is not ours.
	Reply bool `yaml:"reply" json:"reply"`
}

// Policy is a whole policy file, resolved: every category has complete rules.
type Policy struct {
	Version   string
	Approvers approval.Approvers
	// Managers are the second link of the approval chain: pinged when the leads did not decide
	// within every re-ping, and allowed to decide too.
	Managers       approval.Approvers
	Categories     map[abuse.Category]Rules
	RepeatOffender RepeatOffender
	NotOurs        NotOurs
	Triage         Triage
	Legal          Legal
	Advisory       Advisory
	Reinstatement  Reinstatement
	// Teams are the teams work can be handed to, by name.
	Teams        map[string]Team
	Transparency Transparency
	Trends       Trends
	QA           QA
	Monitoring   Monitoring
	// Source names where the policy came from (a path, or "embedded default").
	Source string
}

// Snapshot is what a case carries: its category's rules and the account-dependent rules, so
// the case decides its track itself once it knows the account.
type Snapshot struct {
	Version        string             `json:"version"`
	Rules          Rules              `json:"rules"`
	RepeatOffender RepeatOffender     `json:"repeat_offender"`
	Approvers      approval.Approvers `json:"approvers"`
	Managers       approval.Approvers `json:"managers,omitzero"`
	Triage         Triage             `json:"triage,omitzero"`
	Legal          Legal              `json:"legal,omitzero"`
	Advisory       Advisory           `json:"advisory,omitzero"`
	// Blocklists are the monitored blocklists, with their delisting pages (a blocklist case's
	// advice lists them); Relisted is how soon after a delisting a listing is a relisting.
	Blocklists []Blocklist `json:"blocklists,omitempty"`
	Relisted   Duration    `json:"relisted,omitempty"`
	// Teams are the teams a case may hand work to.
	Teams map[string]Team `json:"teams,omitempty"`
	// Reasons are the ground and the redress routes its statements of reasons name.
	Reasons Reasons `json:"reasons,omitzero"`
}

// NamedDecider reports whether the policy names a Slack user, by ID, as a lead (approver) or a
// manager. Members of the policy's user groups are resolved from Slack, not from here.
func (s Snapshot) NamedDecider(user string) bool {
	return s.Approvers.IsApprover(user, nil) || s.Managers.IsApprover(user, nil)
}

// Track names.
const (
	TrackStandard  = "standard"
	TrackStrict    = "strict"    // repeat offender
	TrackStrategic = "strategic" // strategic account: always approved by a lead
)

// Snapshot returns the rules a new case of category c starts with. Unknown categories get the
// rules of "other".
func (p *Policy) Snapshot(c abuse.Category) Snapshot {
	r, ok := p.Categories[c]
	if !ok {
		r = p.Categories[abuse.Other]
		r.Category = c
	}
	triage := p.Triage
	if triage.TrustedSLA > 0 {
		triage.TrustedFlaggers = p.Transparency.TrustedFlaggers
	}
	s := Snapshot{Version: p.Version, Rules: r, RepeatOffender: p.RepeatOffender, Approvers: p.Approvers, Managers: p.Managers, Triage: triage,
		Legal: p.Legal, Advisory: p.Advisory, Teams: p.Teams, Reasons: p.Transparency.ReasonsFor(c)}
	if c == abuse.Blocklist {
		s.Blocklists, s.Relisted = slices.Clone(p.Monitoring.Blocklists), p.Monitoring.Relisted
	}
	return s
}

// Effective returns the rules for an account of the given tier and prior violations, and the
// track they put it on. Deterministic; the Case workflow calls it.
func (s Snapshot) Effective(tier string, priorViolations int) (Rules, string) {
	r := s.Rules
	r.Reminders = slices.Clone(r.Reminders)
	track := TrackStandard
	ro := s.RepeatOffender
	if ro.MinPriorViolations > 0 && priorViolations >= ro.MinPriorViolations {
		track = TrackStrict
		if ro.MaxResponseWindow > 0 && r.ResponseWindow > ro.MaxResponseWindow {
			r.ResponseWindow = ro.MaxResponseWindow
			kept := r.Reminders[:0]
			for _, off := range r.Reminders {
				if off < r.ResponseWindow {
					kept = append(kept, off)
				}
			}
			r.Reminders = kept
		}
		if ro.RequireApproval {
			r.Approval.Required = true
		}
		if r.Action.Type == abuse.ActionThrottle {
			r.Action.Level = min(3, r.Action.Level+ro.LevelIncrease)
		}
	}
	if tier == abuse.TierStrategic {
		track = TrackStrategic
		r.Approval.Required = true
	}
	return r, track
}

// Default returns the embedded default policy.
func Default() *Policy {
	p, err := Parse(defaultYAML, "embedded default")
	if err != nil {
		panic("policy: the embedded default is invalid: " + err.Error())
	}
	return p
}

// Load reads and validates a policy file; an empty path gives the default.
func Load(path string) (*Policy, error) {
	if path == "" {
		return Default(), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read policy: %w", err)
	}
	return Parse(b, path)
}

// file is the YAML layout; category entries override defaults field by field.
type file struct {
	Version        int                  `yaml:"version"`
	Approvers      approval.Approvers   `yaml:"approvers"`
	Managers       approval.Approvers   `yaml:"managers"`
	Defaults       yaml.Node            `yaml:"defaults"`
	Categories     map[string]yaml.Node `yaml:"categories"`
	RepeatOffender RepeatOffender       `yaml:"repeat_offender"`
	NotOurs        NotOurs              `yaml:"not_ours"`
	Triage         Triage               `yaml:"triage"`
	Legal          Legal                `yaml:"legal"`
	Advisory       Advisory             `yaml:"advisory"`
	Reinstatement  Reinstatement        `yaml:"reinstatement"`
	Teams          map[string]Team      `yaml:"teams"`
	// Transparency and Trends start as the defaults: a section keeps what it leaves out.
	Transparency Transparency            `yaml:"transparency"`
	Trends       Trends                  `yaml:"trends"`
	QA           QA                      `yaml:"qa"`
	Monitoring   Monitoring              `yaml:"monitoring"`
	Calendars    map[string]CalendarSpec `yaml:"calendars"`
}

// teamName is what a team may be called.
var teamName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// Error is one problem in a policy, naming the field (as a path) and, where known, the line.
type Error struct {
	Source string
	Line   int
	Field  string
	Reason string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s: %s", e.Source, e.Line, e.Field, e.Reason)
	}
	return fmt.Sprintf("%s: %s: %s", e.Source, e.Field, e.Reason)
}

// strictShape is the file decoded once with unknown fields refused, so typos and wrong types
// are reported with their line before the field-by-field merge.
type strictShape struct {
	Version        int                     `yaml:"version"`
	Approvers      approval.Approvers      `yaml:"approvers"`
	Managers       approval.Approvers      `yaml:"managers"`
	Defaults       Rules                   `yaml:"defaults"`
	Categories     map[string]Rules        `yaml:"categories"`
	RepeatOffender RepeatOffender          `yaml:"repeat_offender"`
	NotOurs        NotOurs                 `yaml:"not_ours"`
	Triage         Triage                  `yaml:"triage"`
	Legal          Legal                   `yaml:"legal"`
	Advisory       Advisory                `yaml:"advisory"`
	Reinstatement  Reinstatement           `yaml:"reinstatement"`
	Teams          map[string]Team         `yaml:"teams"`
	Transparency   *Transparency           `yaml:"transparency"`
	Trends         *Trends                 `yaml:"trends"`
	QA             *QA                     `yaml:"qa"`
	Monitoring     *Monitoring             `yaml:"monitoring"`
	Calendars      map[string]CalendarSpec `yaml:"calendars"`
}

// Parse decodes and validates a policy. The error joins every problem found, each an *Error.
func Parse(b []byte, source string) (*Policy, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, &Error{Source: source, Field: "(file)", Reason: "not valid YAML: " + err.Error()}
	}
	if len(root.Content) == 0 {
		return nil, &Error{Source: source, Field: "(file)", Reason: "empty policy"}
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var shape strictShape
	if err := dec.Decode(&shape); err != nil {
		reason := strings.ReplaceAll(strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n  "), "\n  ", "; ")
		e := &Error{Source: source, Field: "(file)", Reason: reason}
		// Name the field as well as the line: "defaults.response_window", not only "line 20".
		if m := lineRE.FindStringSubmatch(reason); m != nil {
			n, _ := strconv.Atoi(m[1])
			if path := pathAtLine(root.Content[0], n, ""); path != "" {
				e.Field, e.Line, e.Reason = path, n, strings.TrimPrefix(reason, m[0])
			}
		}
		return nil, e
	}
	f := file{Trends: defaultTrends, QA: defaultQA, Monitoring: defaultMonitor, Transparency: Transparency{LawCategories: slices.Clone(defaultTransparency.LawCategories),
		Clause: defaultTransparency.Clause, Redress: defaultTransparency.Redress}}
	if err := root.Content[0].Decode(&f); err != nil {
		return nil, &Error{Source: source, Field: "(file)", Reason: err.Error()}
	}
	v := &validator{source: source, root: root.Content[0]}
	if f.Version != 1 {
		v.fail("version", "must be 1 (the only policy format so far), got %d", f.Version)
	}
	var defaults Rules
	if f.Defaults.Kind == 0 {
		v.fail("defaults", "missing: every category starts from the defaults")
	} else if err := f.Defaults.Decode(&defaults); err != nil {
		v.fail("defaults", "%v", err)
	}
	p := &Policy{
		Approvers:      f.Approvers,
		Managers:       f.Managers,
		Categories:     map[abuse.Category]Rules{},
		RepeatOffender: f.RepeatOffender,
		NotOurs:        f.NotOurs,
		Triage:         f.Triage,
		Legal:          f.Legal,
		Advisory:       f.Advisory,
		Reinstatement:  f.Reinstatement,
		Teams:          map[string]Team{},
		Transparency:   f.Transparency,
		Trends:         f.Trends,
		QA:             f.QA,
		Monitoring:     f.Monitoring,
		Source:         source,
	}
	v.categories(p, f, defaults)
	v.repeatOffender(f.RepeatOffender)
	p.defaultSections()
	v.reinstatement(p.Reinstatement)
	v.triage(p.Triage)
	v.legal(p.Legal)
	v.advisory(p.Advisory)
	v.trends(p.Trends)
	v.transparency(p.Transparency)
	v.qa(p.QA)
	v.monitoring(p.Monitoring)
	cals := v.calendars(f.Calendars)
	v.useCalendars(p, cals)
	v.teams(p, f.Teams, cals)
	v.slackIDs("approvers", f.Approvers)
	v.slackIDs("managers", f.Managers)
	v.slackIDs("legal.oncall", f.Legal.OnCall)
	v.slackIDs("legal.approvers", f.Legal.Approvers)
	if err := v.err(); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	p.Version = hex.EncodeToString(sum[:6])
	return p, nil
}

// slackIDs checks that a list of Slack users and user groups holds Slack IDs.
func (v *validator) slackIDs(at string, a approval.Approvers) {
	for i, u := range a.Users {
		if !strings.HasPrefix(u, "U") && !strings.HasPrefix(u, "W") {
			v.fail(fmt.Sprintf("%s.users[%d]", at, i), "%q is not a Slack user ID (U… or W…)", u)
		}
	}
	for i, g := range a.Groups {
		if !strings.HasPrefix(g, "S") {
			v.fail(fmt.Sprintf("%s.groups[%d]", at, i), "%q is not a Slack user-group ID (S…)", g)
		}
	}
}

var lineRE = regexp.MustCompile(`^line (\d+): `)

// pathAtLine names the field whose key or value is on line n ("categories.spam.surge.reports"),
// or "".
func pathAtLine(node *yaml.Node, n int, at string) string {
	switch node.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(node.Content); i += 2 {
			k, v := node.Content[i], node.Content[i+1]
			path := k.Value
			if at != "" {
				path = at + "." + k.Value
			}
			if k.Line == n && (v.Kind == yaml.ScalarNode || v.Line == n) {
				return path
			}
			if p := pathAtLine(v, n, path); p != "" {
				return p
			}
		}
	case yaml.SequenceNode:
		for i, v := range node.Content {
			path := fmt.Sprintf("%s[%d]", at, i)
			if v.Line == n && v.Kind == yaml.ScalarNode {
				return path
			}
			if p := pathAtLine(v, n, path); p != "" {
				return p
			}
		}
	}
	return ""
}

func categoryList() string {
	s := make([]string, len(abuse.Categories))
	for i, c := range abuse.Categories {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}

type validator struct {
	source string
	root   *yaml.Node
	errs   []error
}

func (v *validator) fail(field, format string, args ...any) {
	v.errs = append(v.errs, &Error{Source: v.source, Line: lineOf(v.root, field), Field: field, Reason: fmt.Sprintf(format, args...)})
}

func (v *validator) err() error { return errors.Join(v.errs...) }

func (v *validator) rules(at string, r Rules) {
	if r.Corroboration.Reporters < 0 {
		v.fail(at+".corroboration.reporters", "must not be negative")
	}
	for i, t := range r.Corroboration.Trusted {
		if !strings.Contains(strings.TrimPrefix(strings.TrimSpace(t), "@"), ".") {
			v.fail(fmt.Sprintf("%s.corroboration.trusted[%d]", at, i), "%q is neither an address nor a domain", t)
		}
	}
	if r.ResponseWindow <= 0 {
		v.fail(at+".response_window", "must be more than 0")
	}
	if r.ReviewSLA < 0 {
		v.fail(at+".review_sla", "must not be negative (0: no due time)")
	}
	v.offsets(at+".reminders", r.Reminders, r.ResponseWindow, at+".response_window")
	if r.MoreInfoWindow <= 0 {
		v.fail(at+".more_info_window", "must be more than 0")
	}
	if r.ExtendBy <= 0 {
		v.fail(at+".extend_by", "must be more than 0")
	}
	if r.Surge.Reports < 0 {
		v.fail(at+".surge.reports", "must not be negative")
	}
	if r.Surge.Reports > 0 && r.Surge.Deadline <= 0 {
		v.fail(at+".surge.deadline", "must be more than 0 when surge.reports is set")
	}
	if !r.Action.Type.Valid() {
		v.fail(at+".action.type", "%q is not one of none, takedown, throttle, suspend_sending, suspend_account", r.Action.Type)
	}
	if r.Action.Type == abuse.ActionThrottle && (r.Action.Level < 1 || r.Action.Level > 3) {
		v.fail(at+".action.level", "a throttle needs a level of 1, 2 or 3, got %d", r.Action.Level)
	}
	if r.Action.For < 0 {
		v.fail(at+".action.for", "must not be negative")
	}
	if r.Approval.Timeout <= 0 {
		v.fail(at+".approval.timeout", "must be more than 0")
	}
	if r.Approval.Repings < 0 || r.Approval.Repings > 10 {
		v.fail(at+".approval.repings", "must be between 0 and 10, got %d", r.Approval.Repings)
	}
	switch r.Approval.OnTimeout {
	case OnTimeoutHold:
	case OnTimeoutEnforce:
		v.fail(at+".approval.on_timeout", "enforce is no longer allowed: an approval timeout never enforces (the request goes to the managers, then holds for a person); use hold")
	default:
		v.fail(at+".approval.on_timeout", "%q is not hold", r.Approval.OnTimeout)
	}
	if r.Appeal.Window <= 0 {
		v.fail(at+".appeal.window", "must be more than 0")
	}
	if r.Appeal.SLA <= 0 {
		v.fail(at+".appeal.sla", "must be more than 0")
	}
	v.offsets(at+".appeal.reminders", r.Appeal.Reminders, r.Appeal.SLA, at+".appeal.sla")
	v.remediation(at+".remediation", r.Remediation)
}

// maxVerify bounds the re-checks of a fix: how many and how far out.
const (
	maxVerifyOffsets = 10
	maxVerifyOffset  = Duration(90 * 24 * time.Hour)
)

func (v *validator) remediation(at string, r Remediation) {
	if len(r.Verify) > maxVerifyOffsets {
		v.fail(at+".verify", "at most %d re-checks, got %d", maxVerifyOffsets, len(r.Verify))
	}
	for i, off := range r.Verify {
		field := fmt.Sprintf("%s.verify[%d]", at, i)
		switch {
		case off <= 0:
			v.fail(field, "must be more than 0")
		case off > maxVerifyOffset:
			v.fail(field, "%s is more than %s after the acceptance; a case would stay open that long", off, maxVerifyOffset)
		case i > 0 && off <= r.Verify[i-1]:
			v.fail(field, "%s must come after the previous re-check (%s)", off, r.Verify[i-1])
		}
	}
	if len(r.Verify) > 0 && len(r.Checks) == 0 {
		v.fail(at+".checks", "missing: name the checks (%s) that verify a fix, or set verify: [] to take fixes on trust", strings.Join(RemediationChecks, ", "))
	}
	for i, c := range r.Checks {
		field := fmt.Sprintf("%s.checks[%d]", at, i)
		switch {
		case !slices.Contains(RemediationChecks, c):
			v.fail(field, "%q is not a check; known: %s", c, strings.Join(RemediationChecks, ", "))
		case slices.Index(r.Checks, c) < i:
			v.fail(field, "%q is listed twice", c)
		}
	}
	if r.Has(CheckBlocklist) && len(r.Blocklists) == 0 {
		v.fail(at+".blocklists", "missing: the blocklist check needs the DNS blocklist zones to query (like zen.spamhaus.org)")
	}
	for i, z := range r.Blocklists {
		if !dnsName(z) {
			v.fail(fmt.Sprintf("%s.blocklists[%d]", at, i), "%q is not a DNS zone like bl.example.org", z)
		}
	}
}

// dnsName reports whether s is a DNS name of at least two labels (letters, digits, hyphens).
func dnsName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	labels := strings.Split(s, ".")
	if len(s) == 0 || len(s) > 253 || len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

func (v *validator) offsets(at string, offs []Duration, limit Duration, limitName string) {
	for i, off := range offs {
		field := fmt.Sprintf("%s[%d]", at, i)
		switch {
		case off <= 0:
			v.fail(field, "must be more than 0")
		case limit > 0 && off >= limit:
			v.fail(field, "%s is not before the end of %s (%s)", off, limitName, limit)
		case i > 0 && off <= offs[i-1]:
			v.fail(field, "%s must come after the previous reminder (%s)", off, offs[i-1])
		}
	}
}

// lineOf finds the line of a dotted field path ("categories.spam.reminders[1]") in the YAML
// tree, falling back to the nearest parent that exists (a missing field is reported at its
// parent's line), or 0.
func lineOf(n *yaml.Node, path string) int {
	line := 0
	cur := n
	for _, part := range strings.Split(path, ".") {
		key, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 && strings.HasSuffix(part, "]") {
			key = part[:i]
			idx, _ = strconv.Atoi(part[i+1 : len(part)-1])
		}
		next := mapValue(cur, key)
		if next == nil {
			return line
		}
		cur, line = next, next.Line
		if idx >= 0 {
			if cur.Kind != yaml.SequenceNode || idx >= len(cur.Content) {
				return line
			}
			cur = cur.Content[idx]
			line = cur.Line
		}
	}
	return line
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
