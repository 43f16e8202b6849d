package policy

import (
	"abusedesk/domain/abuse"
	"abusedesk/domain/calendar"
	"fmt"
	"maps"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"
)

// The policy file's sections, each read and checked on its own (Parse calls them in order).

// categories resolves every category's rules: the defaults, the track's own defaults for
// matters that are not violations, then the file's section of the category.
func (v *validator) categories(p *Policy, f file, defaults Rules) {
	for _, c := range abuse.Categories {
		r := defaults
		r.Reminders = slices.Clone(defaults.Reminders)
		r.Appeal.Reminders = slices.Clone(defaults.Appeal.Reminders)
		r.Remediation = Remediation{Verify: slices.Clone(defaults.Remediation.Verify), Checks: slices.Clone(defaults.Remediation.Checks),
			Blocklists: slices.Clone(defaults.Remediation.Blocklists)}
		if !c.Track().Violation() {
			// Advisory, legal and customer matters are not violations: unless the file says
			// otherwise, no action, a lead decides, and nobody is told the outcome.
			r.Action = Action{Type: abuse.ActionNone}
			if c == abuse.CSAM {
				// The takedown path: a lead approves taking the reported resources down at once
				// (each one, not the account: the whole account only when a person chooses).
				r.Action = Action{Type: abuse.ActionTakedown}
			}
			r.Approval.Required, r.Approval.OnTimeout = true, OnTimeoutHold
			r.AcknowledgeReporters = false
		}
		if n, ok := f.Categories[string(c)]; ok {
			if err := n.Decode(&r); err != nil {
				v.fail("categories."+string(c), "%v", err)
			}
		}
		r.Category = c
		if r.Action.Type != abuse.ActionThrottle {
			// Only a throttle has a level; the defaults' level must not follow a category that
			// suspends into its cases and notices.
			r.Action.Level = 0
		}
		p.Categories[c] = r
	}
	names := make([]string, 0, len(f.Categories))
	for name := range f.Categories {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !abuse.Category(name).Valid() {
			v.fail("categories."+name, "unknown category; known: %s", categoryList())
		}
	}
	v.rules("defaults", defaults)
	for _, c := range abuse.Categories {
		if _, ok := f.Categories[string(c)]; ok {
			v.rules("categories."+string(c), p.Categories[c])
		}
	}
}

// repeatOffender checks the repeat_offender section.
func (v *validator) repeatOffender(ro RepeatOffender) {
	if ro.MinPriorViolations < 0 {
		v.fail("repeat_offender.min_prior_violations", "must not be negative")
	}
	if ro.MaxResponseWindow < 0 {
		v.fail("repeat_offender.max_response_window", "must not be negative")
	}
	if ro.LevelIncrease < 0 || ro.LevelIncrease > 2 {
		v.fail("repeat_offender.level_increase", "must be 0, 1 or 2")
	}
}

// defaultSections gives a policy without a triage, legal, advisory or reinstatement section the
// default one.
func (p *Policy) defaultSections() {
	if p.Triage.SLA == 0 && p.Triage.Confidence == 0 && len(p.Triage.Reminders) == 0 {
		p.Triage = defaultTriage
	}
	if p.Legal.Due == 0 && len(p.Legal.Reminders) == 0 {
		p.Legal = defaultLegal
	}
	if p.Advisory == (Advisory{}) {
		p.Advisory = defaultAdvisory
	}
	if r := p.Reinstatement; r.SLA == 0 && r.Probation == 0 && len(r.Reminders) == 0 && r.Calendar == "" {
		p.Reinstatement = defaultReinstate
	}
}

// reinstatement checks the reinstatement section.
func (v *validator) reinstatement(r Reinstatement) {
	if r.SLA <= 0 {
		v.fail("reinstatement.sla", "must be more than 0")
	}
	v.offsets("reinstatement.reminders", r.Reminders, r.SLA, "reinstatement.sla")
	if r.Probation < 0 {
		v.fail("reinstatement.probation", "must not be negative (0: no probation)")
	}
}

// triage checks the triage section.
func (v *validator) triage(t Triage) {
	if t.Confidence < 0 || t.Confidence > 1 {
		v.fail("triage.confidence", "must be between 0 and 1, got %g", t.Confidence)
	}
	if t.SLA <= 0 {
		v.fail("triage.sla", "must be more than 0")
	}
	v.offsets("triage.reminders", t.Reminders, t.SLA, "triage.sla")
	if ts := t.TrustedSLA; ts < 0 || ts > t.SLA {
		v.fail("triage.trusted_sla", "must be between 0 (off) and triage.sla (%s): a trusted flagger's notice is handled sooner, not later", t.SLA)
	}
}

// legal checks the legal section.
func (v *validator) legal(l Legal) {
	if l.Due <= 0 {
		v.fail("legal.due", "must be more than 0")
	}
	v.offsets("legal.reminders", l.Reminders, l.Due, "legal.due")
	if l.Preservation < 0 || l.Extension < 0 || l.PreservationReminder < 0 {
		v.fail("legal.preservation", "the preservation, extension and preservation_reminder must not be negative")
	}
	if l.PreservationReminderBefore() >= l.PreservationPeriod() {
		v.fail("legal.preservation_reminder", "must be shorter than the preservation (%s), or the reminder comes before anything is preserved", l.PreservationPeriod())
	}
}

// advisory checks the advisory section.
func (v *validator) advisory(a Advisory) {
	if a.Renotify <= 0 {
		v.fail("advisory.renotify", "must be more than 0")
	}
	if a.Quiet <= 0 {
		v.fail("advisory.quiet", "must be more than 0")
	}
}

// monitoring checks the monitoring section: networks that parse as CIDR ranges written as
// their network address, blocklist zones that are DNS names, delisting pages that are web
// addresses, a period and a slice that make sense.
func (v *validator) monitoring(m Monitoring) {
	v.cidrs("monitoring.networks", m.Networks)
	v.cidrs("monitoring.infrastructure", m.Infrastructure)
	if m.OperationsGroup < 0 {
		v.fail("monitoring.operations_group", "must be a ticketing group's ID (or 0: the desk's group), got %d", m.OperationsGroup)
	}
	for i, b := range m.Blocklists {
		z := strings.Trim(strings.TrimSpace(b.Zone), ".")
		if z == "" || strings.ContainsAny(z, "/:@ ") || !strings.Contains(z, ".") {
			v.fail(fmt.Sprintf("monitoring.blocklists[%d].zone", i), "%q is not a DNS zone (like zen.spamhaus.org)", b.Zone)
		}
		if b.Delist != "" {
			if u, err := url.Parse(b.Delist); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				v.fail(fmt.Sprintf("monitoring.blocklists[%d].delist", i), "%q is not a web address (like https://check.spamhaus.org/)", b.Delist)
			}
		}
	}
	if m.Every < Duration(time.Minute) {
		v.fail("monitoring.every", "must be at least 1m (each window looks up per_run addresses on every list), got %s", m.Every)
	}
	if m.Relisted < 0 {
		v.fail("monitoring.relisted", "must not be negative (0: a listing is never a relisting), got %s", m.Relisted)
	}
	if m.PerRun < 1 || m.PerRun > 100000 {
		v.fail("monitoring.per_run", "must be between 1 and 100000 addresses, got %d", m.PerRun)
	}
	if len(m.Networks) > 0 && len(m.Blocklists) == 0 {
		v.fail("monitoring.blocklists", "missing: the networks are watched on the blocklists listed here")
	}
}

// cidrs checks a list of networks: each in CIDR form, written as its network address.
func (v *validator) cidrs(field string, list []string) {
	for i, n := range list {
		p, err := netip.ParsePrefix(strings.TrimSpace(n))
		switch {
		case err != nil:
			v.fail(fmt.Sprintf("%s[%d]", field, i), "%q is not a network in CIDR form (like 192.0.2.0/24 or 2001:db8::/48)", n)
		case p.Masked() != p:
			v.fail(fmt.Sprintf("%s[%d]", field, i), "%q has host bits set: write the network as %s", n, p.Masked())
		}
	}
}

// trends checks the trends section.
func (v *validator) trends(t Trends) {
	if t.Window <= 0 || t.Baseline < t.Window {
		v.fail("trends.baseline", "must hold at least one window (window %s, baseline %s)", t.Window, t.Baseline)
	}
	if t.Factor < 1 {
		v.fail("trends.factor", "must be at least 1, got %g", t.Factor)
	}
	if t.Floor < 1 {
		v.fail("trends.floor", "must be at least 1, got %d", t.Floor)
	}
	for i, d := range t.OwnDomains {
		if d = strings.TrimSpace(d); d == "" || strings.ContainsAny(d, "@/: ") || !strings.Contains(d, ".") {
			v.fail(fmt.Sprintf("trends.own_domains[%d]", i), "%q is not a domain name (like provider.example)", d)
		}
	}
	if t.ClusterMaxAccounts < 2 {
		v.fail("trends.cluster_max_accounts", "must be at least 2 (a cluster links two accounts), got %d", t.ClusterMaxAccounts)
	}
}

// transparency checks the transparency section.
func (v *validator) transparency(t Transparency) {
	for i, c := range t.LawCategories {
		if !c.Valid() {
			v.fail(fmt.Sprintf("transparency.law_categories[%d]", i), "unknown category %q", c)
		}
	}
	if strings.TrimSpace(t.Clause) == "" {
		v.fail("transparency.clause", "is empty: a statement of reasons must name the clause (or law) an action rests on")
	}
	for _, c := range slices.Sorted(maps.Keys(t.Clauses)) {
		if !c.Valid() {
			v.fail("transparency.clauses."+string(c), "unknown category %q", c)
		} else if strings.TrimSpace(t.Clauses[c]) == "" {
			v.fail("transparency.clauses."+string(c), "is empty (leave the category out to use transparency.clause)")
		}
	}
	if strings.TrimSpace(t.Redress.OutOfCourt) == "" || strings.TrimSpace(t.Redress.Judicial) == "" {
		v.fail("transparency.redress", "needs out_of_court and judicial: a statement of reasons names every redress route (DSA Art. 17(3)(f))")
	}
	for i, f := range t.TrustedFlaggers {
		if f = strings.TrimSpace(f); f == "" || !strings.Contains(f, "@") {
			v.fail(fmt.Sprintf("transparency.trusted_flaggers[%d]", i), "%q is neither an address nor @domain", f)
		}
	}
}

// qa checks the qa section.
func (v *validator) qa(q QA) {
	if r := q.SampleRate; r < 0 || r > 1 {
		v.fail("qa.sample_rate", "must be between 0 and 1 (a share of the decisions), got %g", r)
	}
	qaCats := slices.Sorted(maps.Keys(q.Categories))
	for _, c := range qaCats {
		if r := q.Categories[c]; !c.Valid() {
			v.fail("qa.categories."+string(c), "unknown category; known: %s", categoryList())
		} else if r < 0 || r > 1 {
			v.fail("qa.categories."+string(c), "must be between 0 and 1 (a share of the decisions), got %g", r)
		}
	}
}

// calendars reads the calendars section: each named team calendar, checked.
func (v *validator) calendars(specs map[string]CalendarSpec) map[string]*calendar.Calendar {
	cals := map[string]*calendar.Calendar{}
	for _, name := range slices.Sorted(maps.Keys(specs)) {
		spec, at := specs[name], "calendars."+name
		c := &calendar.Calendar{Zone: spec.Zone, Holidays: spec.Holidays}
		if spec.Zone == "" {
			v.fail(at+".zone", "missing: the time zone the team works in (Europe/Berlin, America/New_York, UTC)")
		} else if err := c.Resolve(time.Now()); err != nil {
			v.fail(at+".zone", "%v", err)
		}
		if len(spec.Days) == 0 {
			v.fail(at+".days", "missing: the working weekdays, like [mon, tue, wed, thu, fri]")
		}
		for _, d := range spec.Days {
			if wd, err := calendar.ParseDay(d); err != nil {
				v.fail(at+".days", "%v", err)
			} else {
				c.Days = append(c.Days, wd)
			}
		}
		if open, close, err := calendar.ParseHours(spec.Hours); err != nil {
			v.fail(at+".hours", "%v", err)
		} else {
			c.Open, c.Close = open, close
		}
		for _, h := range spec.Holidays {
			if _, err := time.Parse(time.DateOnly, h); err != nil {
				v.fail(at+".holidays", "%q is not a date like 2026-12-25", h)
			}
		}
		cals[name] = c
	}
	return cals
}

// calendar is the calendar a section names ("": none), failing field when there is no such one.
func (v *validator) calendar(cals map[string]*calendar.Calendar, field, name string) *calendar.Calendar {
	if name == "" {
		return nil
	}
	c, ok := cals[name]
	if !ok {
		v.fail(field, "no calendar %q in the calendars section (%s)", name, strings.Join(slices.Sorted(maps.Keys(cals)), ", "))
	}
	return c
}

// useCalendars gives triage, appeals, legal and reinstatement the calendars they name.
func (v *validator) useCalendars(p *Policy, cals map[string]*calendar.Calendar) {
	use := func(field, name string) *calendar.Calendar { return v.calendar(cals, field, name) }
	p.Triage.Hours = use("triage.calendar", p.Triage.Calendar)
	for _, c := range abuse.Categories {
		r := p.Categories[c]
		r.Appeal.Hours = use("appeal.calendar of "+string(c), r.Appeal.Calendar)
		p.Categories[c] = r
	}
	p.Legal.Hours = use("legal.calendar", p.Legal.Calendar)
	p.Reinstatement.Hours = use("reinstatement.calendar", p.Reinstatement.Calendar)
}

// teams reads and checks the teams section (the hand-off teams).
func (v *validator) teams(p *Policy, teams map[string]Team, cals map[string]*calendar.Calendar) {
	use := func(field, name string) *calendar.Calendar { return v.calendar(cals, field, name) }
	for _, name := range slices.Sorted(maps.Keys(teams)) {
		t, at := teams[name], "teams."+name
		if !teamName.MatchString(name) {
			v.fail(at, "a team's name is lower-case letters, digits and hyphens (security, tier-2)")
		}
		if strings.TrimSpace(t.Channel) == "" {
			v.fail(at+".channel", "missing: the Slack channel the team is asked in")
		}
		if t.SLA <= 0 {
			v.fail(at+".sla", "must be more than 0")
		}
		if t.Step < 0 {
			v.fail(at+".step", "must not be negative")
		}
		if t.Group < 0 {
			v.fail(at+".group", "must be a Zendesk group ID (0: the desk's group)")
		}
		for i, u := range t.Chain {
			if !strings.HasPrefix(u, "U") && !strings.HasPrefix(u, "W") && !strings.HasPrefix(u, "S") {
				v.fail(fmt.Sprintf("%s.chain[%d]", at, i), "%q is not a Slack user (U…) or user group (S…)", u)
			}
		}
		t.Hours = use(at+".calendar", t.Calendar)
		p.Teams[name] = t
	}
}
